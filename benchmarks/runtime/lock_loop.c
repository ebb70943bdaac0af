/* A lock-heavy loop: THREADS threads each take and release one of 16 mutexes ITERATIONS
 * times, with a little work inside. The anchor for the preload library's cost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define LOCKS 16
static pthread_mutex_t locks[LOCKS];
static long counters[LOCKS];
static long iterations;

static void *worker(void *arg) {
  unsigned seed = (unsigned)(long)arg;
  for (long i = 0; i < iterations; i++) {
    int index = (int)(rand_r(&seed) % LOCKS);
    pthread_mutex_lock(&locks[index]);
    counters[index] += i & 7;
    pthread_mutex_unlock(&locks[index]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  iterations = argc > 2 ? atol(argv[2]) : 2000000;
  for (int i = 0; i < LOCKS; i++) pthread_mutex_init(&locks[i], NULL);
  pthread_t ids[64];
  for (long i = 0; i < threads && i < 64; i++) pthread_create(&ids[i], NULL, worker, (void *)i);
  for (int i = 0; i < threads && i < 64; i++) pthread_join(ids[i], NULL);
  long total = 0;
  for (int i = 0; i < LOCKS; i++) total += counters[i];
  printf("%ld\n", total);
  return 0;
}
