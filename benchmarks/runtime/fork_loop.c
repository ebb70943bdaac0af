/* fork+_exit in a multithreaded process: THREADS threads take and release a lock in a loop
 * while the main thread forks FORKS children that exit at once. The anchor for the cost of
 * the fork wrapper (thread count, name refresh, the child's start).
 *
 *   fork_loop [THREADS [FORKS]]     (4 and 10000 by default) */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int done;

static void *worker(void *arg) {
  while (!done) {
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  long forks = argc > 2 ? atol(argv[2]) : 10000;
  pthread_t ids[64];
  for (int i = 0; i < threads && i < 64; i++) pthread_create(&ids[i], NULL, worker, NULL);
  for (long i = 0; i < forks; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
  }
  done = 1;
  for (int i = 0; i < threads && i < 64; i++) pthread_join(ids[i], NULL);
  return 0;
}
