/* The least any LD_PRELOAD library can add to a lock call: pthread_mutex_lock and _unlock
 * that only jump to glibc's (found with dlsym), as forkguard's default mode does in a parent.
 * benchmarks/runtime-overhead.sh's anchor for what interposing itself costs: the program's
 * call goes through its PLT to this wrapper and on to glibc, one indirect jump more. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

static int (*real_lock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);

__attribute__((constructor)) static void find_real_functions(void) {
  real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
  real_unlock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_unlock");
}

int pthread_mutex_lock(pthread_mutex_t *mutex) { return real_lock(mutex); }
int pthread_mutex_unlock(pthread_mutex_t *mutex) { return real_unlock(mutex); }
