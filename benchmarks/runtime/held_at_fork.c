/* A worker holds a mutex when main forks; the child then locks it and hangs (an alarm ends
 * it after 5 s). What do ThreadSanitizer, Helgrind, DRD and forkguard say? */
#include <pthread.h>
#include <signal.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t held, done;
static void *worker(void *a) { pthread_mutex_lock(&log_lock); sem_post(&held); sem_wait(&done); pthread_mutex_unlock(&log_lock); return a; }
int main(void) {
  sem_init(&held, 0, 0); sem_init(&done, 0, 0);
  pthread_t t; pthread_create(&t, 0, worker, 0); sem_wait(&held);
  pid_t pid = fork();
  if (pid == 0) { alarm(5); pthread_mutex_lock(&log_lock); _exit(0); }
  int status; waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    printf("child killed by signal %d: %s\n", WTERMSIG(status),
           WTERMSIG(status) == SIGALRM ? "it hung until the alarm" : "stopped before hanging");
  else
    printf("child exited\n");
  sem_post(&done); pthread_join(t, 0); return 0;
}
