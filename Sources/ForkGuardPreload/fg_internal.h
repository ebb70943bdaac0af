/* forkguard's LD_PRELOAD library: shared declarations.
 *
 * Everything on the fork child's path is async-signal-safe: no malloc, no stdio, no locks
 * of our own. Each report is formatted on the reporting thread's stack and written with
 * write(2). */
#ifndef FG_INTERNAL_H
#define FG_INTERNAL_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FG_EXPORT __attribute__((visibility("default")))
#define FG_HIDDEN __attribute__((visibility("hidden")))
#define FG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FG_LIKELY(x) __builtin_expect(!!(x), 1)

enum fg_mode { FG_MODE_DEFAULT = 0, FG_MODE_TRACK = 1 };
enum fg_on_deadlock { FG_ABORT = 0, FG_EDEADLK = 1, FG_CONTINUE = 2 };

struct fg_options {
  int mode;
  int on_deadlock;
  int unsafe_calls; /* report runtime-child-unsafe-call */
  int frames;       /* return addresses recorded per acquisition, 1..FG_MAX_FRAMES */
  char log_path[512];
  /* The launcher's report socket: an abstract AF_UNIX datagram name (without the leading
   * NUL), and the descriptor of a socket connected to it that every process inherits
   * (-1: none). */
  char log_socket[100];
  int log_fd;
};

#define FG_MAX_FRAMES 8
#define FG_MAX_THREADS 1024
#define FG_MAX_HELD 64

/* One lock a thread holds (track mode). */
struct fg_held {
  void *lock;
  /* The small fields share one word, so track mode's common acquisition writes them with
   * one store (fg_held_header). */
  union {
    struct {
      uint8_t kind; /* enum fg_lock_kind */
      uint8_t read; /* rwlock taken for reading (FG_READ), recorded before taking (FG_TAKING) */
      uint16_t depth;
      uint8_t nframes;
    };
    uint64_t header;
  };
  void *frames[FG_MAX_FRAMES];
};

/* A thread we know of: started through our pthread_create, or met at its first lock. */
struct fg_thread {
  volatile pid_t tid; /* 0: free slot */
  void *start_routine;
  void *creator;   /* return address of the pthread_create call */
  char name[16];   /* refreshed from /proc at each fork of a multithreaded parent */
  /* Locks taken while held[] was full: counted, not recorded, and said at the fork. */
  volatile int dropped;
  /* One past the newest entry of held[] (NULL until the slot is claimed): track mode's
   * push and pop move it, and fg_held_count reads it. */
  struct fg_held *volatile top;
  /* Always empty (its lock NULL), just below held[]: top[-1] when nothing is held, so the
   * common release compares the newest entry's lock without testing for an empty table. */
  struct fg_held bottom;
  struct fg_held held[FG_MAX_HELD];
};

/* The locks a thread's table records. */
static inline int fg_held_count(const struct fg_thread *thread) {
  struct fg_held *top = __atomic_load_n(&thread->top, __ATOMIC_ACQUIRE);
  return top ? (int)(top - thread->held) : 0;
}

static inline void fg_set_held_count(struct fg_thread *thread, int count) {
  __atomic_store_n(&thread->top, thread->held + count, __ATOMIC_RELEASE);
}

/* struct fg_held's read flags. FG_TAKING: track mode's fast lock of a plain mutex records
 * the entry before glibc takes the lock, so that the wrapper can jump to glibc's lock
 * rather than call it (issue 15's lock loop); until that returns, the thread may be waiting
 * for the lock, not holding it (fg_holds). */
enum { FG_READ = 1, FG_TAKING = 2 };

enum fg_lock_kind { FG_MUTEX = 0, FG_RWLOCK = 1, FG_SPIN = 2, FG_SEMAPHORE = 3, FG_CONDVAR = 4 };

FG_HIDDEN extern struct fg_options fg_options;
FG_HIDDEN extern struct fg_thread fg_threads[FG_MAX_THREADS];

/* fg_options.c */
FG_HIDDEN void fg_read_options(void);
FG_HIDDEN int fg_parse_options(const char *text, struct fg_options *out, char *message, size_t size);

/* fg_report.c: a report is a sequence of lines built in a buffer of the reporting thread
 * (a local variable), then written at once. FG_REPORT_BUFFER is PIPE_BUF, so one write of it
 * is atomic on a pipe as well as on the O_APPEND log. */
#define FG_REPORT_BUFFER 4096
#define FG_LINE_MAX 1024

struct fg_report {
  int fd;
  int close_fd; /* fd is this report's own socket, closed at the end */
  size_t used;
  size_t line; /* where the line being built starts */
  size_t prefix_length;
  char prefix[24]; /* "==PID== " */
  char text[FG_REPORT_BUFFER];
};

FG_HIDDEN void fg_report_begin(struct fg_report *report, const char *rule, const char *message);
FG_HIDDEN void fg_report_field(struct fg_report *report, const char *key, const char *value);
FG_HIDDEN void fg_report_number(struct fg_report *report, const char *key, long value);
FG_HIDDEN void fg_report_pointer(struct fg_report *report, const char *key, const void *value);
FG_HIDDEN void fg_report_frames(struct fg_report *report, const char *who, void *const *frames, int count);
/* A source line of an interpreter's stack (`who`: python), innermost first by `index`. */
FG_HIDDEN void fg_report_source(struct fg_report *report, const char *who, int index, const char *file,
                                size_t file_length, long line, const char *function, size_t function_length);
FG_HIDDEN void fg_report_thread_line(struct fg_report *report, pid_t tid, const void *start, const void *created,
                                     const char *name);
FG_HIDDEN void fg_report_held(struct fg_report *report, pid_t tid, const char *kind, long depth, const void *lock,
                              void *const *frames, int count);
FG_HIDDEN void fg_report_end(struct fg_report *report);

/* fg_python.c: CPython's own traceback writer, when the process is CPython. */
FG_HIDDEN void fg_python_resolve(void);
/* In the parent around fork(): capture the forking thread's Python stack for the child. */
FG_HIDDEN int fg_python_capture_fork(pid_t forker);
FG_HIDDEN void fg_python_fork_done(int captured);
/* In the child: the caller's Python stack (`python`) and the fork's (`python_fork`). */
FG_HIDDEN void fg_report_python(struct fg_report *report, pid_t forker);
/* The calling thread's CPython thread state (NULL: not CPython, or not a Python thread). */
FG_HIDDEN void *fg_python_current_state(void);
/* Another thread's Python stack, from its state as fork() copied it. */
FG_HIDDEN void fg_report_python_of(struct fg_report *report, const char *who, void *state);
FG_HIDDEN void fg_write_all(int fd, const char *data, size_t size);
FG_HIDDEN size_t fg_format_decimal(char *out, long value);
FG_HIDDEN size_t fg_format_hex(char *out, uintptr_t value);
FG_HIDDEN void fg_error(const char *text);
/* Appends `text` to the string in out[size] of length *used, cutting it to fit. */
FG_HIDDEN void fg_append_text(char *out, size_t size, size_t *used, const char *text);

#endif
