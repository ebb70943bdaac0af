/* A small server that gets fork safety wrong in every way forkguard knows.
 * Run: swift run forkguard check examples/demo */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop_requested;

static void log_line(const char *what) {
  char *copy = strdup(what); /* allocates: unsafe by the letter (glibc keeps its heap usable after fork) */
  fprintf(stderr, "%s\n", copy); /* by the letter too: stderr stays unbuffered here */
  free(copy);
}

/* Careless: logs and uses exit() in the child. */
pid_t spawn(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    log_line("starting child");
    execvp(argv[0], argv);
    exit(127);
  }
  return pid;
}

/* Careful: only dup2, close, execve and _exit run in the child. */
pid_t spawn_carefully(const char *path, char *const argv[], char *const envp[], int fd) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd, 1);
    close(fd);
    execve(path, argv, envp);
    _exit(127);
  }
  return pid;
}

/* vfork: the child borrows the parent's stack; only exec and _exit are allowed. */
static int last_error;
pid_t spawn_with_vfork(const char *path, char *const argv[], char *const envp[]) {
  pid_t pid = vfork();
  if (pid == 0) {
    setsid();
    execve(path, argv, envp);
    last_error = 1;
    _exit(127);
  }
  return pid;
}

static void on_term(int sig) {
  (void)sig;
  syslog(LOG_INFO, "terminating"); /* not async-signal-safe */
  stop_requested = 1;
}

static void on_usr1(int sig) {
  (void)sig;
  stop_requested = 1; /* fine: only a volatile sig_atomic_t */
}

static void child_after_fork(void) {
  printf("in the child\n"); /* the atfork child handler runs in the fork child */
}

/* Locks: a worker thread and the fork child share the cache lock. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static int cache_entries;

static void cache_clear(void) {
  pthread_mutex_lock(&cache_lock);
  cache_entries = 0;
  pthread_mutex_unlock(&cache_lock);
}

static void *cache_worker(void *arg) {
  for (;;)
    cache_clear();
  return arg;
}

/* The forking thread itself holds the log lock across fork; the child logs again. */
static void log_locked(void) {
  pthread_mutex_lock(&log_lock);
  pthread_mutex_unlock(&log_lock);
}

pid_t spawn_worker_process(void) {
  pthread_mutex_lock(&log_lock);
  pid_t pid = fork();
  if (pid == 0) {
    cache_clear(); /* cache_worker may hold cache_lock at the fork */
    log_locked();  /* this thread held log_lock at the fork */
    _exit(0);
  }
  pthread_mutex_unlock(&log_lock);
  return pid;
}

/* The prepare handler locks the log lock; nobody unlocks it in the child. */
static void lock_log(void) { pthread_mutex_lock(&log_lock); }
static void unlock_log(void) { pthread_mutex_unlock(&log_lock); }

int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGUSR1, on_usr1);
  pthread_atfork(lock_log, unlock_log, child_after_fork);
  pthread_t worker;
  pthread_create(&worker, NULL, cache_worker, NULL);
  (void)argc;
  spawn(argv + 1);
  spawn_worker_process();
  return 0;
}
