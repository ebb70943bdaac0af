/* forkguard's LD_PRELOAD library: wrappers around fork and the pthread lock functions.
 *
 * Default mode costs one predictable branch per lock call: in a fork child, before a lock
 * call blocks, it checks the owner glibc records in the mutex (or the rwlock's writer) and
 * reports a lock held by a thread that does not exist in the child (runtime-child-deadlock).
 * Track mode also records, per thread, which locks it holds and where it took them, and the
 * child of every fork reports each lock another thread held (runtime-lock-held-at-fork).
 * With unsafe_calls=1 the child of a multithreaded parent reports calls to malloc, stdio,
 * syslog, setenv… before exec (runtime-child-unsafe-call).
 *
 * The wrapped functions are listed once, in rules/runtime/preload-functions.def (an X-macro
 * file): it declares each wrapper and its real function's type, fills the table of real
 * functions, and generates the bodies of the plain unsafe-call wrappers; the build turns it
 * into exports.map. Real functions come from dlsym(RTLD_NEXT), all of them in the
 * constructor (and any called before it, one by one); while dlsym runs, its allocations are
 * served from a static arena. Every result is checked: a wrapper whose real function is
 * missing says so once on stderr and fails safe (its .def line says how), never calling
 * NULL. Nothing on the child's path allocates, uses stdio, takes a lock or calls dlsym. */
#include "fg_internal.h"
#include "fg_exec_check.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pwd.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

/* glibc 2.36's lock internals, read in the child. Mutex kinds: nptl/pthreadP.h
 * (PTHREAD_MUTEX_KIND_MASK_NP 3, ROBUST_NORMAL_NP 16, PRIO_INHERIT_NP 32, PRIO_PROTECT_NP 64,
 * PSHARED_BIT 128; PTHREAD_MUTEX_PRIO_CEILING_MASK 0xfff80000, the ceiling in the lock word
 * of a priority-protect mutex); the futex word of robust and priority-inheritance mutexes:
 * linux/futex.h (FUTEX_TID_MASK 0x3fffffff, FUTEX_OWNER_DIED 0x40000000); the
 * unrecoverable robust owner: PTHREAD_MUTEX_NOTRECOVERABLE 0x7fffffff (pthreadP.h). */
#define FG_TID_MASK 0x3fffffff
#define FG_FUTEX_OWNER_DIED 0x40000000
#define FG_MUTEX_NOT_RECOVERABLE 0x7fffffff
#define FG_MUTEX_KIND_MASK 3
#define FG_MUTEX_RECURSIVE 1
#define FG_MUTEX_ERRORCHECK 2
#define FG_MUTEX_ROBUST_BIT 16
#define FG_MUTEX_PRIO_INHERIT_BIT 32
#define FG_MUTEX_PRIO_PROTECT_BIT 64
#define FG_MUTEX_PSHARED_BIT 128
#define FG_MUTEX_CEILING_MASK 0xfff80000u
#define FG_RWLOCK_READER_SHIFT 3

struct fg_options fg_options;
struct fg_thread fg_threads[FG_MAX_THREADS];

/* ---- the wrapped functions: rules/runtime/preload-functions.def ------------------------ */

/* Each wrapper's declaration, which the bodies below must match, and its real function's type. */
#define FG_FUNCTION(name, returns, parameters, real, real_parameters) \
  FG_EXPORT returns name parameters; \
  typedef returns fg_real_##name##_t real_parameters;
#include "preload-functions.def"

enum fg_function_index {
#define FG_FUNCTION(name, returns, parameters, real, real_parameters) FG_F_##name,
#include "preload-functions.def"
  FG_FUNCTION_COUNT
};

enum fg_lookup_state { FG_UNTRIED = 0, FG_FOUND, FG_NOTING, FG_MISSING };

struct fg_function {
  const char *name;         /* the wrapper */
  const char *symbol;       /* the real function, for dlsym */
  const char *when_missing; /* what calls do without it, as the complaint says */
  int reported_as;          /* the line whose name that report gives */
  int repaired;             /* glibc's fork() repairs what it takes */
  const char *takes;
  /* At run time: */
  void *pointer; /* the real function; NULL until found, and when missing */
  int state;     /* enum fg_lookup_state */
  int complained;
  char error[160]; /* dlerror() when missing */
};

static struct fg_function fg_functions[FG_FUNCTION_COUNT] = {
#define FG_WRAPPER(wrapper, returns, parameters, missing) \
  [FG_F_##wrapper] = {.name = #wrapper, .symbol = #wrapper, .when_missing = missing, .reported_as = FG_F_##wrapper},
#define FG_EXEC(wrapper, returns, parameters, real, real_parameters) \
  [FG_F_##wrapper] = {.name = #wrapper, .symbol = #real, .when_missing = "calls fail with ENOSYS", \
                      .reported_as = FG_F_##wrapper},
#define FG_UNSAFE(wrapper, returns, parameters, arguments, failure, repairs, needs) \
  [FG_F_##wrapper] = {.name = #wrapper, .symbol = #wrapper, .when_missing = "calls fail with ENOSYS", \
                      .reported_as = FG_F_##wrapper, .repaired = repairs, .takes = needs},
#define FG_UNSAFE_BY_HAND(wrapper, returns, parameters, real, real_parameters, as, repairs, needs, missing) \
  [FG_F_##wrapper] = {.name = #wrapper, .symbol = #real, .when_missing = missing, \
                      .reported_as = FG_F_##as, .repaired = repairs, .takes = needs},
#include "preload-functions.def"
};

/* Set while this thread is inside dlsym: its allocations come from the arena below, and a
 * wrapper it reaches that is not looked up yet must not look up (and so recurse). */
static __thread int fg_in_dlsym __attribute__((tls_model("initial-exec")));

/* dlsym may allocate; while it runs, allocations come from here and are never freed. */
static char fg_arena[65536] __attribute__((aligned(16)));
static size_t fg_arena_used;

static void *fg_arena_alloc(size_t size) {
  size = (size + 15) & ~(size_t)15;
  size_t start = __atomic_fetch_add(&fg_arena_used, size, __ATOMIC_RELAXED);
  if (start + size > sizeof fg_arena) return NULL;
  return fg_arena + start;
}

static int fg_in_arena(const void *pointer) {
  return (const char *)pointer >= fg_arena && (const char *)pointer < fg_arena + sizeof fg_arena;
}

/* dlsym(RTLD_NEXT) for one function. Threads that look one up at once find the same thing;
 * one of them (the compare-and-swap's winner) writes the error text of a missing one. Runs
 * in the constructor for every function (fg_resolve_all), and before it only for a function
 * called that early: never in a fork child, where dlsym is not safe. */
static void fg_lookup(int which) {
  struct fg_function *function = &fg_functions[which];
  fg_in_dlsym++;
  void *pointer = dlsym(RTLD_NEXT, function->symbol);
  const char *error = pointer ? NULL : dlerror();
  if (pointer) {
    __atomic_store_n(&function->pointer, pointer, __ATOMIC_RELEASE);
    __atomic_store_n(&function->state, FG_FOUND, __ATOMIC_RELEASE);
  } else {
    int untried = FG_UNTRIED;
    if (__atomic_compare_exchange_n(&function->state, &untried, FG_NOTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      size_t used = 0;
      fg_append_text(function->error, sizeof function->error, &used, error ? error : "no such symbol");
      __atomic_store_n(&function->state, FG_MISSING, __ATOMIC_RELEASE);
    }
  }
  fg_in_dlsym--;
}

/* A missing real function is said once, on stderr, the first time its wrapper is called. */
__attribute__((noinline, cold)) static void fg_complain(struct fg_function *function) {
  if (__atomic_load_n(&function->state, __ATOMIC_ACQUIRE) != FG_MISSING) return;
  if (__atomic_exchange_n(&function->complained, 1, __ATOMIC_ACQ_REL)) return;
  char message[512];
  size_t used = 0;
  fg_append_text(message, sizeof message, &used, "preload: cannot find the real '");
  fg_append_text(message, sizeof message, &used, function->name);
  fg_append_text(message, sizeof message, &used, "' (dlsym: ");
  fg_append_text(message, sizeof message, &used, function->error);
  fg_append_text(message, sizeof message, &used, "); ");
  fg_append_text(message, sizeof message, &used, function->when_missing);
  fg_error(message);
}

__attribute__((noinline)) static void *fg_real_slow(int which) {
  struct fg_function *function = &fg_functions[which];
  if (__atomic_load_n(&function->state, __ATOMIC_ACQUIRE) == FG_UNTRIED) {
    if (fg_in_dlsym) return NULL; /* reached from inside dlsym: the wrapper copes */
    fg_lookup(which);
  }
  void *pointer = __atomic_load_n(&function->pointer, __ATOMIC_ACQUIRE);
  if (!pointer) fg_complain(function);
  return pointer;
}

/* The real function, or NULL when the libraries after this one lack it: every wrapper checks,
 * and fails safe as its line in preload-functions.def says. One load and a branch once found. */
static inline void *fg_real(int which) {
  void *pointer = __atomic_load_n(&fg_functions[which].pointer, __ATOMIC_ACQUIRE);
  return FG_UNLIKELY(!pointer) ? fg_real_slow(which) : pointer;
}
#define FG_REAL(name) ((fg_real_##name##_t *)fg_real(FG_F_##name))

static volatile int fg_all_resolved;
static void fg_resolve_vfork(void);

/* Every function at once, the allocator first (the .def lists it first): dlsym may allocate. */
static void fg_resolve_all(void) {
  for (int i = 0; i < FG_FUNCTION_COUNT; i++)
    if (__atomic_load_n(&fg_functions[i].state, __ATOMIC_ACQUIRE) == FG_UNTRIED) fg_lookup(i);
  fg_resolve_vfork();
  fg_all_resolved = 1;
}

/* ---- threads ----------------------------------------------------------------------- */

static __thread int fg_self __attribute__((tls_model("initial-exec"))) = -1;
/* This thread's slot while track mode's inline push and pop may use it (a slot is claimed
 * and one frame is recorded per acquisition); NULL otherwise. A pointer rather than fg_self,
 * so the hottest path needs no multiplication by the slot's size. */
static __thread struct fg_thread *fg_fast_thread __attribute__((tls_model("initial-exec")));
static __thread pid_t fg_tid_cache __attribute__((tls_model("initial-exec")));
static pthread_key_t fg_exit_key;

static pid_t fg_tid(void) {
  if (FG_UNLIKELY(fg_tid_cache == 0)) fg_tid_cache = (pid_t)syscall(SYS_gettid);
  return fg_tid_cache;
}

/* Slots in use, and one past the highest ever claimed: a fork asks whether another thread
 * has one, and a child looks through them, without reading all FG_MAX_THREADS (a page
 * apiece, unmapped in a child until read), which every fork of a single-threaded program
 * and every track-mode child did (issue 15's fork+_exit loop). */
static volatile int fg_slots_in_use;
static volatile int fg_slots_high;

static int fg_slots_seen(void) { return __atomic_load_n(&fg_slots_high, __ATOMIC_ACQUIRE); }

static void fg_thread_exit(void *value) {
  int index = (int)(intptr_t)value - 1;
  if (index < 0 || index >= FG_MAX_THREADS) return;
  fg_fast_thread = NULL;
  fg_set_held_count(&fg_threads[index], 0);
  __atomic_store_n(&fg_threads[index].tid, 0, __ATOMIC_RELEASE);
  __atomic_sub_fetch(&fg_slots_in_use, 1, __ATOMIC_ACQ_REL);
}

static __thread int fg_untracked __attribute__((tls_model("initial-exec")));
static volatile int fg_untracked_threads;

/* This thread's slot, claimed on first use; NULL when all slots are taken. */
static struct fg_thread *fg_current(void) {
  if (FG_UNLIKELY(fg_self < 0)) {
    pid_t tid = fg_tid();
    for (int i = 0; i < FG_MAX_THREADS; i++) {
      pid_t expected = 0;
      if (__atomic_compare_exchange_n(&fg_threads[i].tid, &expected, tid, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        fg_set_held_count(&fg_threads[i], 0);
        fg_threads[i].dropped = 0;
        fg_threads[i].start_routine = NULL;
        fg_threads[i].creator = NULL;
        fg_threads[i].name[0] = 0;
        __atomic_add_fetch(&fg_slots_in_use, 1, __ATOMIC_ACQ_REL);
        for (int high = fg_slots_seen(); high < i + 1;)
          if (__atomic_compare_exchange_n(&fg_slots_high, &high, i + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
        fg_self = i;
        if (fg_options.frames == 1) fg_fast_thread = &fg_threads[i];
        pthread_setspecific(fg_exit_key, (void *)(intptr_t)(i + 1));
        break;
      }
    }
    if (fg_self < 0) {
      /* More threads than slots: counted once per thread, and said at the fork. */
      if (!fg_untracked) {
        fg_untracked = 1;
        __atomic_add_fetch(&fg_untracked_threads, 1, __ATOMIC_RELAXED);
      }
      return NULL;
    }
  }
  return &fg_threads[fg_self];
}

/* Threads started through pthread_create remember their start routine, for names. */
struct fg_handoff {
  void *(*start)(void *);
  void *argument;
  void *creator;
  volatile int busy;
};
static struct fg_handoff fg_handoffs[256];

static void *fg_trampoline(void *pointer) {
  struct fg_handoff *handoff = pointer;
  void *(*start)(void *) = handoff->start;
  void *argument = handoff->argument;
  void *creator = handoff->creator;
  __atomic_store_n(&handoff->busy, 0, __ATOMIC_RELEASE);
  struct fg_thread *thread = fg_current();
  if (thread) {
    thread->start_routine = (void *)start;
    thread->creator = creator;
  }
  return start(argument);
}

static int fg_mutex_lock_checked(pthread_mutex_t *mutex);
static int fg_mutex_unlock_checked(pthread_mutex_t *mutex);
static int fg_cond_signal_checked(pthread_cond_t *condition);
static int fg_cond_broadcast_checked(pthread_cond_t *condition);

/* Everything a fork child writes as it starts, in one cache line: each page a child writes
 * first costs it a copy-on-write fault, on every fork (issue 15's fork+_exit loop: these were
 * three pages, with the child's thread slot a fourth). */
static struct fg_at_fork {
  /* Where the hottest wrappers (mutex lock and unlock) jump: their checking versions until
   * the constructor has found the real functions and read the options, and in a fork child;
   * the tracking versions in track mode; glibc's functions otherwise, the parent's common
   * case, where such a wrapper is a single indirect jump (the uncontended lock loop). They
   * change only while one thread runs: in the constructor and at a child's start. */
  int (*volatile mutex_lock_target)(pthread_mutex_t *);
  int (*volatile mutex_unlock_target)(pthread_mutex_t *);
  /* pthread_cond_signal and _broadcast jump the same way (a producer signals on every item):
   * to their checking versions until the constructor has run and in a fork child, to glibc's
   * otherwise, track mode included (it records nothing for them). */
  int (*volatile cond_signal_target)(pthread_cond_t *);
  int (*volatile cond_broadcast_target)(pthread_cond_t *);
  void *site;       /* where fork was called */
  volatile int child; /* set in every fork child; checks run only where it is set */
  int of_threads;   /* the parent had more than one thread at the fork */
  pid_t forker;     /* the forking thread's id in the parent */
  int underscore;   /* _Fork: glibc repaired nothing */
} fg_at_fork __attribute__((aligned(64))) = {
    .mutex_lock_target = fg_mutex_lock_checked,
    .mutex_unlock_target = fg_mutex_unlock_checked,
    .cond_signal_target = fg_cond_signal_checked,
    .cond_broadcast_target = fg_cond_broadcast_checked,
};
/* Threads the child started (through pthread_create). While there are none, the caller is
 * the child's only thread: a lock word taken with no owner recorded, a held spinlock or an
 * empty semaphore can then never change. */
static volatile int fg_child_threads;
/* What the parent's threads left in each condition variable the child uses (see
 * fg_inherited_condition): read at the child's first wrapped call on it, before any thread of
 * the child is inside one, so it is all theirs. */
struct fg_inherited_condition {
  pthread_cond_t *volatile condition; /* claimed with a compare-and-swap */
  unsigned blocked[2];                /* waiters of the parent blocked in each group */
  unsigned waiters;                   /* waiters of the parent */
  int lock_held;                      /* the condition's internal lock */
  volatile int ready;                 /* the fields above are written */
};
static struct fg_inherited_condition fg_inherited_conditions[128];

FG_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*start)(void *), void *argument) {
  fg_real_pthread_create_t *real = FG_REAL(pthread_create);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  if (FG_UNLIKELY(fg_at_fork.child)) __atomic_add_fetch(&fg_child_threads, 1, __ATOMIC_ACQ_REL);
  for (size_t i = 0; i < sizeof fg_handoffs / sizeof fg_handoffs[0]; i++) {
    int expected = 0;
    if (!__atomic_compare_exchange_n(&fg_handoffs[i].busy, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      continue;
    fg_handoffs[i].start = start;
    fg_handoffs[i].argument = argument;
    fg_handoffs[i].creator = __builtin_return_address(0);
    int result = real(thread, attributes, fg_trampoline, &fg_handoffs[i]);
    if (result != 0) __atomic_store_n(&fg_handoffs[i].busy, 0, __ATOMIC_RELEASE);
    return result;
  }
  return real(thread, attributes, start, argument);
}

/* ---- track mode: which locks each thread holds ---------------------------------------- */

/* An entry's kind, read and nframes 1 and depth 1, as the one word they share (the layout
 * of struct fg_held's small fields on a little-endian machine: x86_64, aarch64). */
static inline uint64_t fg_held_header(int kind, int read) {
  return (uint64_t)(uint8_t)kind | (uint64_t)(uint8_t)read << 8 | (uint64_t)1 << 16 | (uint64_t)1 << 32;
}
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fg_held_header assumes little-endian");

/* The general case: a lock this thread may hold already (a recursive mutex, a read lock),
 * more than one frame to record, a thread without a slot yet, a full table. */
__attribute__((noinline)) static void fg_track_acquire_slow(void *lock, int kind, int read, void *site) {
  struct fg_thread *thread = fg_current();
  if (!thread) return;
  int count = fg_held_count(thread);
  for (int i = count - 1; i >= 0; i--) {
    if (thread->held[i].lock == lock) {
      thread->held[i].depth++;
      return;
    }
  }
  if (count >= FG_MAX_HELD) {
    __atomic_add_fetch(&thread->dropped, 1, __ATOMIC_RELAXED);
    return;
  }
  struct fg_held *entry = &thread->held[count];
  entry->lock = lock;
  entry->header = fg_held_header(kind, read);
  entry->frames[0] = site;
  if (fg_options.frames > 1) {
    void *frames[FG_MAX_FRAMES + 3];
    int got = backtrace(frames, fg_options.frames + 3);
    /* Skip this function and the wrapper; frame 2 is the caller, already recorded. */
    for (int i = 3; i < got && entry->nframes < fg_options.frames; i++) entry->frames[entry->nframes++] = frames[i];
  }
  fg_set_held_count(thread, count + 1);
}

/* A lock the holder may take again while it holds it: glibc's recursive mutex kind
 * (nptl/pthreadP.h: PTHREAD_MUTEX_KIND_MASK_NP is the low two bits of __data.__kind,
 * PTHREAD_MUTEX_RECURSIVE_NP is 1; C11's mtx_recursive is the same mutex), and any read lock. */
static inline int fg_may_hold_already(void *lock, int kind, int read) {
  return read || (kind == FG_MUTEX && (((pthread_mutex_t *)lock)->__data.__kind & 3) == PTHREAD_MUTEX_RECURSIVE_NP);
}

/* Track mode's every acquisition: for the common case (a slot, room, one frame, a lock that
 * cannot be held already) a push onto this thread's table, published by the count. Issue 15's
 * lock loop: the instructions per iteration track mode adds went from 156 to about 40. */
static inline void fg_track_acquire(void *lock, int kind, int read, void *site) {
  struct fg_thread *thread = fg_fast_thread;
  if (FG_LIKELY(thread != NULL) && !fg_may_hold_already(lock, kind, read)) {
    struct fg_held *entry = thread->top;
    if (FG_LIKELY(entry < thread->held + FG_MAX_HELD)) {
      entry->lock = lock;
      entry->header = fg_held_header(kind, 0);
      entry->frames[0] = site;
      __atomic_store_n(&thread->top, entry + 1, __ATOMIC_RELEASE);
      return;
    }
  }
  fg_track_acquire_slow(lock, kind, read, site);
}

/* Removes the entry for `lock`, whatever its depth when `all`; returns whether it was held. */
__attribute__((noinline)) static int fg_track_release_slow(void *lock, int all, struct fg_held *saved) {
  if (fg_self < 0) return 0;
  struct fg_thread *thread = &fg_threads[fg_self];
  int count = fg_held_count(thread);
  /* Newest first: locks are mostly released in the reverse order of taking them, and then
   * the entry is the last one and nothing moves. */
  for (int i = count - 1; i >= 0; i--) {
    if (thread->held[i].lock != lock) continue;
    if (saved) *saved = thread->held[i];
    if (!all && --thread->held[i].depth > 0) return 1;
    if (i != count - 1) thread->held[i] = thread->held[count - 1];
    fg_set_held_count(thread, count - 1);
    return 1;
  }
  /* Not recorded: one of the dropped ones, if any were. */
  if (thread->dropped > 0) __atomic_sub_fetch(&thread->dropped, 1, __ATOMIC_RELAXED);
  return 0;
}

/* The common release: the lock taken last, once. */
static inline int fg_track_release(void *lock, int all, struct fg_held *saved) {
  struct fg_thread *thread = fg_fast_thread;
  if (FG_LIKELY(thread != NULL) && !saved) {
    struct fg_held *newest = thread->top - 1; /* thread->bottom when nothing is held */
    if (FG_LIKELY(newest->lock == lock) && (all || newest->depth == 1)) {
      __atomic_store_n(&thread->top, newest, __ATOMIC_RELEASE);
      return 1;
    }
  }
  return fg_track_release_slow(lock, all, saved);
}

static void fg_track_restore(const struct fg_held *saved) {
  struct fg_thread *thread = fg_current();
  if (!thread) return;
  int count = fg_held_count(thread);
  if (count >= FG_MAX_HELD) return;
  thread->held[count] = *saved;
  fg_set_held_count(thread, count + 1);
}

#define FG_TRACKING FG_UNLIKELY(fg_options.mode == FG_MODE_TRACK)

/* ---- the fork child ------------------------------------------------------------------ */

/* What the child has reported: threads the child starts report too, so these are claimed
 * with atomics. */
static void *volatile fg_reported_locks[64];
/* Semaphores the child made itself (sem_init after the fork): one it waits on at 0 is
 * meant to be posted by its own signal handler, not a leftover of the parent's threads. */
static void *volatile fg_child_semaphores[64];
static volatile char fg_unsafe_reported[FG_FUNCTION_COUNT];

static int fg_count_threads(void) {
  int directory = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory < 0) return 2; /* unknown: assume threads, so checks stay on */
  char buffer[4096];
  int count = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, directory, buffer, sizeof buffer);
    if (got <= 0) break;
    for (long offset = 0; offset < got;) {
      struct {
        uint64_t inode;
        int64_t offset;
        unsigned short length;
        unsigned char type;
        char name[];
      } *entry = (void *)(buffer + offset);
      if (entry->name[0] != '.') count++;
      offset += entry->length;
    }
  }
  close(directory);
  return count;
}

/* Under qemu-user, /proc/self/task also lists the emulator's own threads (its RCU thread),
 * which run no guest code and hold no guest lock. Counted once at start, when the process
 * has run none of its own code yet, and only when the process is visibly qemu (its comm,
 * the host binary's name, starts with "qemu-"), so a native library that starts a thread in
 * its constructor is never discounted. */
static int fg_emulator_threads;

static void fg_count_emulator_threads(void) {
  int file = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
  if (file < 0) return;
  char name[16];
  ssize_t got = read(file, name, sizeof name);
  close(file);
  if (got >= 5 && memcmp(name, "qemu-", 5) == 0) fg_emulator_threads = fg_count_threads() - 1;
}

/* A thread of the forking process, named when a report names it: read from the forking
 * process's /proc entry (the child's parent), which outlives the fork. The name is the one
 * it has when the report is made, or the last one read when the parent is gone. Reading
 * every thread's name before every fork, as the library did, cost three procfs calls per
 * thread on each fork (issue 15's fork+_exit loop); a report is rare. Only system calls:
 * safe in the child. */
static void fg_read_thread_name(struct fg_thread *thread) {
  if (thread->tid <= 0) return;
  char path[64] = "/proc/";
  size_t length = strlen(path);
  length += fg_format_decimal(path + length, (long)getppid());
  memcpy(path + length, "/task/", 6);
  length += 6;
  length += fg_format_decimal(path + length, (long)thread->tid);
  memcpy(path + length, "/comm", 6);
  int file = open(path, O_RDONLY | O_CLOEXEC);
  if (file < 0) return;
  char name[16];
  ssize_t got = read(file, name, sizeof name - 1);
  close(file);
  if (got <= 0) return;
  if (name[got - 1] == '\n') got--;
  name[got] = 0;
  memcpy(thread->name, name, (size_t)got + 1);
}

static struct fg_thread *fg_find_thread(pid_t tid) {
  /* A child's own slot keeps the forking thread's id (the child does not rewrite it: one
   * page fewer to copy on every fork), and that is whom it describes. */
  if (fg_at_fork.child && tid == fg_at_fork.forker && fg_self >= 0) return &fg_threads[fg_self];
  for (int i = 0; i < fg_slots_seen(); i++)
    if (fg_threads[i].tid == tid) return &fg_threads[i];
  return NULL;
}

static void fg_report_thread(struct fg_report *report, const char *prefix, pid_t tid) {
  char key[32];
  size_t length = strlen(prefix);
  memcpy(key, prefix, length);
  memcpy(key + length, "_tid", 5);
  fg_report_number(report, key, tid);
  struct fg_thread *thread = fg_find_thread(tid);
  if (!thread) return;
  if (fg_at_fork.child) fg_read_thread_name(thread);
  if (thread->name[0]) {
    memcpy(key + length, "_name", 6);
    fg_report_field(report, key, thread->name);
  }
  if (thread->start_routine) {
    memcpy(key + length, "_start", 7);
    fg_report_pointer(report, key, thread->start_routine);
  }
  if (thread->creator) {
    void *creator = thread->creator;
    memcpy(key + length, "_created", 9);
    fg_report_frames(report, key, &creator, 1);
  }
}

static void fg_report_fork(struct fg_report *report) {
  fg_report_field(report, "fork", fg_at_fork.underscore ? "_Fork" : "fork");
  fg_report_number(report, "forker_tid", fg_at_fork.forker);
  fg_report_number(report, "threads_at_fork", fg_at_fork.of_threads ? 2 : 1);
  fg_report_frames(report, "fork", &fg_at_fork.site, 1);
}

static const char *fg_kind_name(int kind, int read) {
  switch (kind) {
  case FG_RWLOCK: return read ? "rwlock-read" : "rwlock-write";
  case FG_SPIN: return "spinlock";
  case FG_SEMAPHORE: return "semaphore";
  case FG_CONDVAR: return "condvar";
  default: return "mutex";
  }
}

/* Whether another thread's entry is a lock it held at the fork. An entry pushed before the
 * lock was taken (FG_TAKING, only plain mutexes) is held only when glibc's owner field
 * (nptl/pthread_mutex_lock.c, glibc 2.36: __owner is the holder's tid, written once the lock
 * word is taken) names the thread: otherwise it was still waiting, or between taking the
 * word and writing its tid, which the child cannot tell from waiting, so it is not named. */
static int fg_holds(const struct fg_thread *thread, const struct fg_held *entry) {
  if (!(entry->read & FG_TAKING)) return 1;
  return ((const pthread_mutex_t *)entry->lock)->__data.__owner == thread->tid;
}

/* Track mode: every lock another thread held at the fork, even if the child never uses it,
 * in one report per fork, grouped by thread (the diagnostic shows the first few and counts
 * the rest). Kept out of line: its report buffer (4 KB on the stack) must not become part
 * of every lock wrapper's frame. */
__attribute__((noinline, cold)) static void fg_report_held_at_fork(void) {
  long dropped = 0;
  int any = 0;
  for (int i = 0; i < fg_slots_seen(); i++) {
    if (i == fg_self || fg_threads[i].tid <= 0) continue;
    for (int h = 0, count = fg_held_count(&fg_threads[i]); h < count && h < FG_MAX_HELD && !any; h++)
      any = fg_holds(&fg_threads[i], &fg_threads[i].held[h]);
    dropped += fg_threads[i].dropped;
  }
  int untracked = fg_untracked_threads;
  if (!any && !dropped && !untracked) return;
  struct fg_report report;
  fg_report_begin(&report, "runtime-lock-held-at-fork", "locks held by other threads at fork() stay locked in the child");
  fg_report_fork(&report);
  if (dropped) fg_report_number(&report, "dropped_locks", dropped);
  if (untracked) fg_report_number(&report, "untracked_threads", untracked);
  for (int i = 0; i < fg_slots_seen(); i++) {
    if (i == fg_self) continue;
    struct fg_thread *thread = &fg_threads[i];
    if (thread->tid <= 0) continue;
    int count = fg_held_count(thread), named = 0;
    for (int h = 0; h < count && h < FG_MAX_HELD; h++) {
      struct fg_held *entry = &thread->held[h];
      if (!fg_holds(thread, entry)) continue;
      if (!named++) {
        fg_read_thread_name(thread);
        fg_report_thread_line(&report, thread->tid, thread->start_routine, thread->creator, thread->name);
      }
      fg_report_held(&report, thread->tid, fg_kind_name(entry->kind, entry->read & FG_READ), entry->depth,
                     entry->lock, entry->frames, entry->nframes);
    }
  }
  fg_report_end(&report);
}

static void fg_child_start(int threads, pid_t forker, int underscore, void *site) {
  fg_tid_cache = (pid_t)syscall(SYS_gettid);
  fg_at_fork.forker = forker;
  fg_at_fork.site = site;
  fg_at_fork.underscore = underscore;
  /* Only a child writes these tables, so a child of the parent finds them clear. Every page
   * a child writes first costs it a copy-on-write fault: a fork of a fork clears them. */
  if (fg_at_fork.child) {
    memset((void *)fg_reported_locks, 0, sizeof fg_reported_locks);
    memset((void *)fg_unsafe_reported, 0, sizeof fg_unsafe_reported);
    memset((void *)fg_child_semaphores, 0, sizeof fg_child_semaphores);
    memset((void *)fg_inherited_conditions, 0, sizeof fg_inherited_conditions);
    fg_child_threads = 0;
  }
  fg_at_fork.of_threads = threads > 1;
  fg_at_fork.child = 1;
  fg_at_fork.mutex_lock_target = fg_mutex_lock_checked;
  fg_at_fork.mutex_unlock_target = fg_mutex_unlock_checked;
  fg_at_fork.cond_signal_target = fg_cond_signal_checked;
  fg_at_fork.cond_broadcast_target = fg_cond_broadcast_checked;
  if (fg_at_fork.of_threads && fg_options.mode == FG_MODE_TRACK) fg_report_held_at_fork();
}

/* Another thread of this process has a slot and has not ended: a thread may be running at
 * the fork, and /proc need not be read (four system calls on every fork). Only the parent's
 * table says so: a fork child's slots are its parent's threads, which it does not have. */
static int fg_knows_another_thread(void) {
  if (fg_at_fork.child) return 0;
  if (__atomic_load_n(&fg_slots_in_use, __ATOMIC_ACQUIRE) <= (fg_self >= 0)) return 0;
  for (int i = 0; i < fg_slots_seen(); i++)
    if (i != fg_self && __atomic_load_n(&fg_threads[i].tid, __ATOMIC_ACQUIRE) > 0) return 1;
  return 0;
}

static pid_t fg_fork(int underscore, void *site) {
  /* Look everything up now: the child must never need dlsym. */
  if (FG_UNLIKELY(!fg_all_resolved)) fg_resolve_all();
  pid_t (*call)(void) = underscore ? FG_REAL(_Fork) : FG_REAL(fork);
  if (FG_UNLIKELY(!call) && !underscore) {
    /* No fork(): _Fork() splits the process as well, without atfork handlers or glibc's
     * repairs, so the child is checked as a _Fork() child. */
    call = FG_REAL(_Fork);
    underscore = 1;
  }
  if (FG_UNLIKELY(!call)) {
    errno = ENOSYS;
    return -1;
  }
  int threads = fg_knows_another_thread() ? 2 : fg_count_threads() - fg_emulator_threads;
  pid_t forker = fg_tid();
  int captured = fg_python_capture_fork(forker);
  pid_t pid = call();
  if (pid == 0) fg_child_start(threads, forker, underscore, site);
  /* The child keeps its copy of the stack; either side may capture for its next fork. */
  fg_python_fork_done(captured);
  return pid;
}

FG_EXPORT pid_t fork(void) { return fg_fork(0, __builtin_return_address(0)); }
FG_EXPORT pid_t _Fork(void) { return fg_fork(1, __builtin_return_address(0)); }

/* vfork cannot be wrapped by a C function: the child would return through the parent's
 * frame. It is passed through with a jump to fg_vfork_target, counting vforks on the way:
 * the real vfork, or, when there is none, fg_vfork_by_fork (POSIX lets vfork be fork). On
 * x86_64 and aarch64; on other architectures vfork is not wrapped, and the linker leaves its
 * export out. */
FG_HIDDEN volatile long fg_vforks;
FG_HIDDEN void *fg_vfork_target;

/* Reached by a jump from vfork, so its return address is vfork's caller's. */
static pid_t fg_vfork_by_fork(void) { return fg_fork(0, __builtin_return_address(0)); }

/* From fg_resolve_all: the real vfork when found; the fallback waits for the first call,
 * which also says that it is missing. */
static void fg_resolve_vfork(void) {
  void *real = __atomic_load_n(&fg_functions[FG_F_vfork].pointer, __ATOMIC_ACQUIRE);
  if (real) __atomic_store_n(&fg_vfork_target, real, __ATOMIC_RELEASE);
}

/* From vfork's first call when no target is set yet. */
FG_HIDDEN void fg_resolve_for_vfork(void) {
  void *real = (void *)FG_REAL(vfork);
  __atomic_store_n(&fg_vfork_target, real ? real : (void *)fg_vfork_by_fork, __ATOMIC_RELEASE);
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "  lock incq fg_vforks(%rip)\n"
        "  cmpq $0, fg_vfork_target(%rip)\n"
        "  jne 1f\n"
        "  subq $8, %rsp\n"
        "  call fg_resolve_for_vfork\n"
        "  addq $8, %rsp\n"
        "1:\n"
        "  jmp *fg_vfork_target(%rip)\n"
        ".size vfork, .-vfork\n");
#elif defined(__aarch64__)
/* The same on aarch64: x16 and x17 are the intra-procedure-call scratch registers a veneer
 * may use; the count is an exclusive-load/store loop (LSE atomics are not guaranteed). The
 * link register is saved around the resolving call, so the jump keeps vfork's caller's. */
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, %function\n"
        ".p2align 2\n"
        "vfork:\n"
        "  adrp x16, fg_vforks\n"
        "  add x16, x16, :lo12:fg_vforks\n"
        "1:\n"
        "  ldaxr x17, [x16]\n"
        "  add x17, x17, #1\n"
        "  stlxr w15, x17, [x16]\n"
        "  cbnz w15, 1b\n"
        "  adrp x16, fg_vfork_target\n"
        "  ldr x17, [x16, :lo12:fg_vfork_target]\n"
        "  cbnz x17, 2f\n"
        "  stp x29, x30, [sp, #-16]!\n"
        "  mov x29, sp\n"
        "  bl fg_resolve_for_vfork\n"
        "  ldp x29, x30, [sp], #16\n"
        "  adrp x16, fg_vfork_target\n"
        "  ldr x17, [x16, :lo12:fg_vfork_target]\n"
        "2:\n"
        "  br x17\n"
        ".size vfork, .-vfork\n");
#endif

/* ---- checks before a lock call in the child --------------------------------------- */

/* Whether `lock` was reported in this child, claiming it if not: the first free slot is
 * taken with a compare-and-swap, so two threads never both report one lock, and none waits.
 * Once the table is full, further locks are reported every time rather than never. */
static int fg_already_reported(void *lock) {
  for (size_t i = 0; i < sizeof fg_reported_locks / sizeof fg_reported_locks[0]; i++) {
    void *seen = __atomic_load_n(&fg_reported_locks[i], __ATOMIC_ACQUIRE);
    if (seen == NULL &&
        __atomic_compare_exchange_n(&fg_reported_locks[i], &seen, lock, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return 0;
    if (seen == lock) return 1;
  }
  return 0;
}

/* Track mode: the thread whose held list has `lock` (the forking thread by its parent id),
 * for locks that record no owner themselves; 0 when none does or track mode is off. */
static pid_t fg_tracked_holder(const void *lock) {
  for (int i = 0; i < fg_slots_seen(); i++) {
    struct fg_thread *thread = &fg_threads[i];
    if (thread->tid <= 0) continue;
    for (int h = 0, count = fg_held_count(thread); h < count && h < FG_MAX_HELD; h++)
      if (thread->held[h].lock == lock && (i == fg_self || fg_holds(thread, &thread->held[h])))
        return i == fg_self ? fg_at_fork.forker : thread->tid;
  }
  return 0;
}

/* Track mode: the last thread to take each semaphore and where, in a table of 256 slots by
 * address (a semaphore has no owner; a later one sharing a slot replaces it). */
struct fg_semaphore_taker {
  void *volatile semaphore;
  volatile pid_t tid;
  void *volatile site;
  /* CPython's state for the taking thread: in the child, its Python stack at the fork. */
  void *volatile python_state;
};
static struct fg_semaphore_taker fg_semaphore_takers[256];

static struct fg_semaphore_taker *fg_taker_slot(const void *semaphore) {
  return &fg_semaphore_takers[((uintptr_t)semaphore >> 4) % (sizeof fg_semaphore_takers / sizeof fg_semaphore_takers[0])];
}

static void fg_track_semaphore(void *semaphore, void *site) {
  struct fg_semaphore_taker *slot = fg_taker_slot(semaphore);
  __atomic_store_n(&slot->semaphore, NULL, __ATOMIC_RELEASE);
  slot->tid = fg_tid();
  slot->site = site;
  slot->python_state = fg_python_current_state();
  __atomic_store_n(&slot->semaphore, semaphore, __ATOMIC_RELEASE);
}

static pid_t fg_semaphore_taker(const void *semaphore, void **site) {
  struct fg_semaphore_taker *slot = fg_taker_slot(semaphore);
  if (__atomic_load_n(&slot->semaphore, __ATOMIC_ACQUIRE) != semaphore) return 0;
  if (site) *site = slot->site;
  return slot->tid;
}

/* The taker's CPython thread state, when it was a Python thread. */
static void *fg_semaphore_taker_python(const void *semaphore) {
  struct fg_semaphore_taker *slot = fg_taker_slot(semaphore);
  if (__atomic_load_n(&slot->semaphore, __ATOMIC_ACQUIRE) != semaphore) return NULL;
  return slot->python_state;
}

/* The owner's acquisition frames, when track mode recorded them. */
static void fg_report_owner_frames(struct fg_report *report, pid_t owner, void *lock) {
  struct fg_thread *thread = fg_find_thread(owner);
  if (!thread && owner == fg_at_fork.forker && fg_self >= 0) thread = &fg_threads[fg_self];
  if (thread) {
    for (int h = 0, count = fg_held_count(thread); h < count && h < FG_MAX_HELD; h++) {
      if (thread->held[h].lock == lock) {
        fg_report_frames(report, "owner", thread->held[h].frames, thread->held[h].nframes);
        return;
      }
    }
  }
  void *site = NULL;
  if (fg_semaphore_taker(lock, &site) == owner && site) {
    fg_report_frames(report, "owner", &site, 1);
    /* CPython's locks are semaphores: where the thread that took it was, in Python. */
    if (owner != fg_at_fork.forker) fg_report_python_of(report, "python_owner", fg_semaphore_taker_python(lock));
  }
}

/* Why a condition-variable call is stuck, beyond the lock state the report's kind says: the
 * report's `reason` field. Each is also an offset added to the lock's address to make the key
 * fg_already_reported dedups on, so a wait reported as only lasting to its deadline does not
 * hide a later call on the same condition that blocks (every lock is at least 4-aligned). */
enum fg_reason { FG_REASON_NONE = 0, FG_REASON_CONDITION_LOCK = 1, FG_REASON_LOST_WAITERS = 2, FG_REASON_RELEASE_FAILS = 3 };

static const char *fg_reason_name(int reason) {
  switch (reason) {
  case FG_REASON_CONDITION_LOCK: return "condition-lock";
  case FG_REASON_LOST_WAITERS: return "lost-waiters";
  case FG_REASON_RELEASE_FAILS: return "release-fails";
  default: return NULL;
  }
}

/* What a lock call in the child does when the lock is stuck: report once, then act. `count`
 * is an rwlock's readers, or the waiters a condition variable waits for. */
__attribute__((noinline, cold)) static int fg_stuck_because(const char *operation, void *lock, int kind, pid_t owner, long count, int reason,
                                                            int blocking, void *site, const char *problem) {
  if (!fg_already_reported((char *)lock + reason)) {
    struct fg_report report;
    fg_report_begin(&report, "runtime-child-deadlock", problem);
    fg_report_field(&report, "operation", operation);
    fg_report_pointer(&report, "lock", lock);
    fg_report_field(&report, "kind", fg_kind_name(kind, 0));
    if (reason) fg_report_field(&report, "reason", fg_reason_name(reason));
    if (owner) fg_report_thread(&report, "owner", owner);
    if (count) fg_report_number(&report, kind == FG_CONDVAR ? "waiters" : "readers", count);
    fg_report_field(&report, "blocking", blocking ? "1" : "0");
    fg_report_field(&report, "action", !blocking ? "none" : fg_options.on_deadlock == FG_ABORT ? "abort" : fg_options.on_deadlock == FG_EDEADLK ? "edeadlk" : "continue");
    fg_report_fork(&report);
    fg_report_frames(&report, "child", &site, 1);
    fg_report_python(&report, fg_at_fork.forker);
    if (owner) fg_report_owner_frames(&report, owner, lock);
    fg_report_end(&report);
  }
  if (!blocking) return 0;
  switch (fg_options.on_deadlock) {
  case FG_ABORT: abort();
  case FG_EDEADLK: return EDEADLK;
  default: return 0;
  }
}

static int fg_stuck(const char *operation, void *lock, int kind, pid_t owner, long readers, int blocking, void *site,
                    const char *problem) {
  return fg_stuck_because(operation, lock, kind, owner, readers, FG_REASON_NONE, blocking, site, problem);
}

static int fg_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Whether `address` is in a shared mapping (/proc/self/maps, an `s` in its permissions):
 * there another process may hold and release a process-shared lock. Unknown counts as
 * shared, which leaves the lock unjudged. Cold: only for a taken process-shared lock. */
static int fg_in_shared_mapping(const void *address) {
  int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps < 0) return 1;
  char chunk[1024];
  uintptr_t start = 0, end = 0;
  int field = 0; /* 0: start, 1: end, 2: permissions, 3: rest of the line */
  int column = 0;
  int shared = 1;
  for (;;) {
    ssize_t got = read(maps, chunk, sizeof chunk);
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; i++) {
      char c = chunk[i];
      if (c == '\n') {
        field = 0;
        start = end = 0;
        column = 0;
        continue;
      }
      if (field == 0) {
        if (c == '-') field = 1;
        else if (fg_hex_digit(c) >= 0) start = start * 16 + (uintptr_t)fg_hex_digit(c);
      } else if (field == 1) {
        if (c == ' ') field = 2, column = 0;
        else if (fg_hex_digit(c) >= 0) end = end * 16 + (uintptr_t)fg_hex_digit(c);
      } else if (field == 2) {
        if (column == 3 && (uintptr_t)address >= start && (uintptr_t)address < end) {
          shared = c == 's';
          close(maps);
          return shared;
        }
        column++;
        if (c == ' ') field = 3;
      }
    }
  }
  close(maps);
  return shared;
}

/* A mutex is taken when its lock word is: glibc writes __owner just after taking the word
 * and clears it just before releasing it, so a thread caught between the two at the fork
 * leaves a taken word with owner 0 (most hot mutexes are seen so in a child). Robust and
 * priority-inheritance mutexes keep the owner's id in the word itself, for the kernel. */
/* A thread the child started is alive and may release what it holds; a thread of the
 * parent is not a thread of this process (tgkill with signal 0 only checks). */
static int fg_is_live_thread(pid_t tid) { return syscall(SYS_tgkill, getpid(), tid, 0) == 0; }

static int fg_check_mutex(pthread_mutex_t *mutex, const char *operation, int blocking, void *site) {
  int kind = mutex->__data.__kind;
  unsigned word = (unsigned)mutex->__data.__lock;
  if (kind & FG_MUTEX_PRIO_PROTECT_BIT) word &= ~FG_MUTEX_CEILING_MASK;
  if (word == 0) return 0;
  /* glibc marks every robust mutex process-shared (nptl/pthread_mutex_init.c: the kernel
   * wakes robust waiters with shared futex calls). Another process can release one only
   * in memory it shares with us; in the child's private copy nobody else can. */
  if ((kind & FG_MUTEX_PSHARED_BIT) && fg_in_shared_mapping(mutex)) return 0;
  pid_t owner;
  if (kind & (FG_MUTEX_ROBUST_BIT | FG_MUTEX_PRIO_INHERIT_BIT)) {
    /* A dead owner's robust mutex is handed over with EOWNERDEAD; an unrecoverable one fails. */
    if ((word & FG_FUTEX_OWNER_DIED) || mutex->__data.__owner == FG_MUTEX_NOT_RECOVERABLE) return 0;
    owner = (pid_t)(word & FG_TID_MASK);
  } else {
    owner = mutex->__data.__owner & FG_TID_MASK;
  }
  if (owner == fg_tid()) return 0;
  if (owner != 0 && fg_child_threads && fg_is_live_thread(owner)) return 0;
  /* With no owner recorded, only a child with no other thread knows nobody will release it. */
  if (owner == 0 && fg_child_threads) return 0;
  const char *problem =
      owner == 0 ? "the mutex's lock word was taken at fork() by a thread inside lock or unlock, before it recorded itself as owner; that thread does not exist in the child, so nothing can unlock it"
      : owner == fg_at_fork.forker
          ? "the mutex was locked by the forking thread before fork(); the child has a new thread id, so it can never take it"
          : "the mutex is held by a thread that does not exist in the fork child; it can never be unlocked";
  return fg_stuck(operation, mutex, FG_MUTEX, owner, 0, blocking, site, problem);
}

/* glibc 2.36's spinlock word: on x86 a free one holds 1 and a held one 0 or less (unlock and
 * init store 1, lock decrements: sysdeps/x86_64/nptl/pthread_spin_lock.S and
 * pthread_spin_unlock.S); elsewhere a free one holds 0 (nptl/pthread_spin_lock.c). */
#if defined(__x86_64__) || defined(__i386__)
#define FG_SPIN_IS_FREE(value) ((value) > 0)
#else
#define FG_SPIN_IS_FREE(value) ((value) == 0)
#endif

/* A spinlock records no owner: while the caller is the child's only thread, a held one
 * stays held, whoever took it (the forking thread's own included). */
static int fg_check_spin(pthread_spinlock_t *lock, const char *operation, int blocking, void *site) {
  if (fg_child_threads || FG_SPIN_IS_FREE(__atomic_load_n((volatile int *)lock, __ATOMIC_RELAXED))) return 0;
  pid_t holder = fg_tracked_holder((const void *)lock);
  return fg_stuck(operation, (void *)lock, FG_SPIN, holder, 0, blocking, site,
                  "the spinlock is held and the caller is the child's only thread, so nothing can release it: it spins forever");
}

/* glibc 2.36's struct new_sem with 64-bit atomics (sysdeps/nptl/internaltypes.h:160-176):
 * the value in the low 32 bits of `data`, the waiter count above it, then `private`:
 * FUTEX_PRIVATE (LLL_PRIVATE, 0) for a process-private semaphore, FUTEX_SHARED (128) for a
 * shared one (nptl/sem_init.c:58, sysdeps/nptl/lowlevellock-futex.h:50-51). */
struct fg_glibc_semaphore {
  uint64_t data;
  int private_futex;
  int pad;
};

static int fg_made_in_child(void *semaphore) {
  for (size_t i = 0; i < sizeof fg_child_semaphores / sizeof fg_child_semaphores[0]; i++)
    if (__atomic_load_n(&fg_child_semaphores[i], __ATOMIC_ACQUIRE) == semaphore) return 1;
  return 0;
}

/* An empty process-private semaphore in a child with one thread: only a signal handler of
 * the child could post it. One made in the child is left alone (that is how a handler
 * wakes the child); one inherited empty was taken by a thread of the parent. */
static int fg_check_semaphore(sem_t *semaphore, const char *operation, int blocking, void *site) {
#if defined(__x86_64__) || defined(__aarch64__)
  const volatile struct fg_glibc_semaphore *internal = (const volatile void *)semaphore;
  if (fg_child_threads || internal->private_futex != 0 || (uint32_t)internal->data != 0) return 0;
  if (fg_made_in_child(semaphore)) return 0;
  pid_t taker = fg_semaphore_taker(semaphore, NULL);
  return fg_stuck(operation, semaphore, FG_SEMAPHORE, taker, 0, blocking, site,
                  blocking ? "the semaphore was empty at fork() and nothing in the child but a signal handler can post it: the wait never ends"
                           : "the semaphore was empty at fork() and nothing in the child but a signal handler can post it: the wait lasts until its deadline");
#else
  (void)semaphore, (void)operation, (void)blocking, (void)site;
  return 0;
#endif
}

/* A condition variable waited on in a child that has started no thread: nothing can signal
 * it (a signal handler may not: pthread_cond_signal is not async-signal-safe), so an untimed
 * wait never ends and a timed one lasts until its deadline. Unless it is process-shared in
 * shared memory (glibc 2.36 nptl/pthread_cond_wait.c: bit 0 of __wrefs), where another
 * process can signal it. */
static int fg_check_cond(pthread_cond_t *condition, const char *operation, int blocking, void *site) {
  if (fg_child_threads) return 0;
  /* A thread the C library started itself (not through pthread_create) could signal it. */
  if (fg_count_threads() - fg_emulator_threads > 1) return 0;
  if ((condition->__data.__wrefs & 1) && fg_in_shared_mapping(condition)) return 0;
  return fg_stuck(operation, condition, FG_CONDVAR, 0, 0, blocking, site,
                  blocking ? "a condition variable is waited on in a fork child with no other thread: nothing can signal it, so the wait never ends"
                           : "a condition variable is waited on in a fork child with no other thread: nothing can signal it, so the wait lasts until its deadline");
}

/* glibc 2.36's condition variable, struct __pthread_cond_s (sysdeps/nptl/bits/thread-shared-types.h:94-103;
 * what each field means: nptl/pthread_cond_wait.c:278-316). Read in the child:
 *   __wrefs          waiters << 3 (each adds 8: pthread_cond_wait.c:409, and takes it back when
 *                    woken: :53); bit 0: process-shared (pthread_cond_common.c:186,
 *                    sysdeps/nptl/pthreadP.h:194).
 *   __g1_orig_size   G1's first size << 2; its low 2 bits are the condition's internal lock, 0
 *                    when free (pthread_cond_common.c:108-161).
 *   __wseq.__value64 waiter positions << 1; bit 0 is the index of G2, the group new waiters join
 *                    (pthread_cond_wait.c:401-405, pthread_cond_signal.c:66-68). One 64-bit word on
 *                    x86_64 and aarch64 (include/atomic_wide_counter.h:25-31 with __HAVE_64B_ATOMICS
 *                    1: sysdeps/x86/atomic-machine.h:31, sysdeps/aarch64/atomic-machine.h:22).
 *   __g1_start.__value64  G1's first position << 1 (pthread_cond_common.c:213).
 *   __g_size[2]      waiters of each group not signalled yet (pthread_cond_signal.c:76-85).
 *   __g_refs[2]      2 for each waiter blocked in its group's futex, bit 0 a wake request
 *                    (pthread_cond_wait.c:298-302, 484, and takes it back when it wakes: :152).
 *   __g_signals[2]   signals each group can still consume << 1, bit 0: closed
 *                    (pthread_cond_wait.c:303-307, 463-470).
 * A thread of the parent waiting at the fork stays counted in __wrefs in the child forever, and,
 * if it was blocked, in its group's __g_refs; one inside pthread_cond_signal or _broadcast (or a
 * wait cancelling at its deadline) leaves the internal lock held. The child's own threads add to
 * the same counters and take back what they add, so what was the parent's is read once, at the
 * child's first wrapped call on the condition: no thread of the child can be inside one then. */

/* The internal lock, taken by signal and broadcast (pthread_cond_signal.c:46,
 * pthread_cond_broadcast.c:47) and by a wait that cancels at its deadline or when its mutex
 * cannot be released (pthread_cond_wait.c:85, 422). */
static int fg_condition_lock_held(pthread_cond_t *condition) {
  return (__atomic_load_n(&condition->__data.__g1_orig_size, __ATOMIC_RELAXED) & 3) != 0;
}

/* What the parent's threads left in `condition`, read at the child's first call on it; NULL while
 * another thread of the child is reading it, when the table is full, or when the condition is
 * process-shared in shared memory (another process's threads may let go of what they hold). */
static const struct fg_inherited_condition *fg_inherited(pthread_cond_t *condition) {
  size_t count = sizeof fg_inherited_conditions / sizeof fg_inherited_conditions[0];
  size_t first = ((uintptr_t)condition >> 4) % count;
  for (size_t probe = 0; probe < 16; probe++) {
    struct fg_inherited_condition *entry = &fg_inherited_conditions[(first + probe) % count];
    pthread_cond_t *seen = __atomic_load_n(&entry->condition, __ATOMIC_ACQUIRE);
    if (seen == condition) return __atomic_load_n(&entry->ready, __ATOMIC_ACQUIRE) ? entry : NULL;
    if (seen != NULL) continue;
    /* Read before claiming: every wrapped call by a thread of the child that can change the
     * condition comes after the claim (of whichever thread gets here first); a signal or
     * broadcast with no waiter, which skips this, changes nothing. */
    unsigned wrefs = __atomic_load_n(&condition->__data.__wrefs, __ATOMIC_RELAXED);
    unsigned blocked0 = __atomic_load_n(&condition->__data.__g_refs[0], __ATOMIC_RELAXED) >> 1;
    unsigned blocked1 = __atomic_load_n(&condition->__data.__g_refs[1], __ATOMIC_RELAXED) >> 1;
    int lock_held = fg_condition_lock_held(condition);
    if (!__atomic_compare_exchange_n(&entry->condition, &seen, condition, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      if (seen == condition) return __atomic_load_n(&entry->ready, __ATOMIC_ACQUIRE) ? entry : NULL;
      continue;
    }
    if ((wrefs & 1) && fg_in_shared_mapping(condition)) return NULL; /* claimed, never ready */
    entry->waiters = wrefs >> 3;
    entry->blocked[0] = blocked0;
    entry->blocked[1] = blocked1;
    entry->lock_held = lock_held;
    __atomic_store_n(&entry->ready, 1, __ATOMIC_RELEASE);
    return entry;
  }
  return NULL;
}

/* pthread_cond_init in the child: the parent's waiters are gone from it. */
static void fg_condition_made_in_child(pthread_cond_t *condition) {
  size_t count = sizeof fg_inherited_conditions / sizeof fg_inherited_conditions[0];
  size_t first = ((uintptr_t)condition >> 4) % count;
  for (size_t probe = 0; probe < 16; probe++) {
    struct fg_inherited_condition *entry = &fg_inherited_conditions[(first + probe) % count];
    pthread_cond_t *seen = __atomic_load_n(&entry->condition, __ATOMIC_ACQUIRE);
    if (seen == NULL &&
        __atomic_compare_exchange_n(&entry->condition, &seen, condition, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      seen = condition;
    if (seen != condition) continue;
    entry->waiters = entry->blocked[0] = entry->blocked[1] = 0;
    entry->lock_held = 0;
    __atomic_store_n(&entry->ready, 1, __ATOMIC_RELEASE);
    return;
  }
}

/* The owner of a wait's mutex when glibc's wait cannot release it. The wait releases the mutex
 * first, with __pthread_mutex_unlock_usercnt (pthread_cond_wait.c:419-425), and returns EPERM at
 * once when that checks the owner and the caller is not it: recursive and error-checking mutexes
 * (nptl/pthread_mutex_unlock.c:80-103, 307-322 with priority protection), robust and
 * priority-inheritance ones by the id in the lock word (:116-145, 193-235). A normal or adaptive
 * mutex, with priority protection or not, is released whoever holds it (:57-73, 92-94, 324-328).
 * 0 when the release succeeds, or the owner is the caller or a live thread of the child. */
static pid_t fg_wait_release_fails(pthread_mutex_t *mutex) {
  int kind = mutex->__data.__kind;
  pid_t owner;
  if (kind & (FG_MUTEX_ROBUST_BIT | FG_MUTEX_PRIO_INHERIT_BIT)) {
    unsigned word = (unsigned)mutex->__data.__lock;
    if ((word & FG_FUTEX_OWNER_DIED) || mutex->__data.__owner == FG_MUTEX_NOT_RECOVERABLE) return 0;
    owner = (pid_t)(word & FG_TID_MASK);
  } else {
    int type = kind & FG_MUTEX_KIND_MASK;
    if (type != FG_MUTEX_RECURSIVE && type != FG_MUTEX_ERRORCHECK) return 0;
    owner = mutex->__data.__owner & FG_TID_MASK;
  }
  if (owner == 0 || owner == fg_tid()) return 0;
  if (fg_child_threads && fg_is_live_thread(owner)) return 0;
  return owner;
}

/* A wait in the child, before the checks of fg_check_cond:
 * - the internal lock left held by a thread of the parent: no signal or broadcast can take it
 *   to wake the wait, and a timed wait takes it when its deadline passes: either blocks
 *   forever, unless the wait finds a signal to consume or its group closed
 *   (pthread_cond_wait.c:463-470) and never blocks or cancels; a wait whose mutex cannot be
 *   released cancels at once.
 * - the mutex held by another thread, of a kind whose release checks the owner: the wait fails
 *   with EPERM at once (reported, not stopped; a loop around the wait spins).
 * What it does not check: glibc's re-take of the mutex when the wait ends
 * (__pthread_mutex_cond_lock, pthread_cond_wait.c:607) cannot find the mutex held by a thread
 * of the parent. The wait released it first, whoever held it, and only the child's own threads
 * can have taken it since; or the release failed and the wait returned without a re-take. */
static int fg_check_condition_wait(pthread_cond_t *condition, pthread_mutex_t *mutex, const char *operation, int timed,
                                   void *site) {
  pid_t owner = fg_wait_release_fails(mutex);
  const struct fg_inherited_condition *inherited = fg_inherited(condition);
#if defined(__x86_64__) || defined(__aarch64__)
  if (inherited && inherited->lock_held) {
    unsigned group = (unsigned)(condition->__data.__wseq.__value64 & 1);
    if (owner || __atomic_load_n(&condition->__data.__g_signals[group], __ATOMIC_RELAXED) == 0)
      return fg_stuck_because(operation, condition, FG_CONDVAR, 0, 0, FG_REASON_CONDITION_LOCK, 1, site,
                              "a thread that does not exist in the fork child held the condition variable's internal lock at fork(): no signal can reach the wait, and a timed wait takes that lock when its deadline passes, so the wait never ends");
  }
#endif
  if (owner) {
    fg_stuck_because(operation, mutex, FG_MUTEX, owner, 0, FG_REASON_RELEASE_FAILS, 0, site,
                     "the wait's mutex is held by a thread that does not exist in the fork child: the wait releases it first, which fails with EPERM, so the wait returns at once");
    return 0;
  }
  return fg_check_cond(condition, operation, !timed, site);
}

/* pthread_cond_signal and _broadcast in the child. With waiters (__wrefs >> 3; none: they
 * return at once, pthread_cond_signal.c:41-43, pthread_cond_broadcast.c:42-44) they take the
 * internal lock, then may switch groups (__condvar_quiesce_and_switch_g1,
 * pthread_cond_common.c:200-329): a signal when G1 has no unsignalled waiter left
 * (pthread_cond_signal.c:76-77), a broadcast always, after signalling G1's (broadcast.c:56-72);
 * unless G2 has no waiter (common.c:212-216). Switching closes G1 and waits until no waiter of
 * G1 is blocked in its futex (common.c:256-281): a waiter of the parent never leaves, so the
 * group it is in can never be closed, and keeps its index. */
static int fg_check_condition_signal(pthread_cond_t *condition, int broadcast, const char *operation, void *site) {
  if (__atomic_load_n(&condition->__data.__wrefs, __ATOMIC_RELAXED) >> 3 == 0) return 0;
  const struct fg_inherited_condition *inherited = fg_inherited(condition);
  if (!inherited) return 0;
  if (inherited->lock_held)
    return fg_stuck_because(operation, condition, FG_CONDVAR, 0, 0, FG_REASON_CONDITION_LOCK, 1, site,
                            "a thread that does not exist in the fork child held the condition variable's internal lock at fork() (it was signalling it, or timing out of a wait): the call waits for that lock forever");
#if defined(__x86_64__) || defined(__aarch64__)
  uint64_t wseq = condition->__data.__wseq.__value64;
  unsigned g1 = (unsigned)(wseq & 1) ^ 1;
  wseq >>= 1;
  if (inherited->blocked[g1] == 0) return 0;
  if (!broadcast && condition->__data.__g_size[g1] != 0) return 0;
  unsigned orig_size = condition->__data.__g1_orig_size >> 2;
  uint64_t g1_start = condition->__data.__g1_start.__value64 >> 1;
  if ((unsigned)(wseq - g1_start - orig_size) + condition->__data.__g_size[g1 ^ 1] == 0) return 0;
  return fg_stuck_because(operation, condition, FG_CONDVAR, 0, inherited->blocked[g1], FG_REASON_LOST_WAITERS, 1, site,
                          "threads that do not exist in the fork child were blocked waiting on the condition variable at fork(): the call closes their group of waiters and waits for them to leave it, forever");
#else
  (void)broadcast;
  return 0;
#endif
}

/* pthread_cond_destroy waits until every waiter has confirmed it woke, __wrefs >> 3 at 0
 * (nptl/pthread_cond_destroy.c:49-56): a waiter of the parent never does. */
static int fg_check_condition_destroy(pthread_cond_t *condition, void *site) {
  const struct fg_inherited_condition *inherited = fg_inherited(condition);
  if (!inherited || inherited->waiters == 0) return 0;
  return fg_stuck_because("pthread_cond_destroy", condition, FG_CONDVAR, 0, inherited->waiters, FG_REASON_LOST_WAITERS,
                          1, site,
                          "threads that do not exist in the fork child were waiting on the condition variable at fork(): pthread_cond_destroy waits for them to wake, forever");
}

static int fg_check_rwlock(pthread_rwlock_t *rwlock, const char *operation, int write, int blocking, void *site) {
  if (rwlock->__data.__shared) return 0;
  pid_t writer = rwlock->__data.__cur_writer & FG_TID_MASK;
  if (writer != 0 && writer != fg_tid() && !(fg_child_threads && fg_is_live_thread(writer)))
    return fg_stuck(operation, rwlock, FG_RWLOCK, writer, 0, blocking, site,
                    "the rwlock is write-locked by a thread that does not exist in the fork child");
  long readers = rwlock->__data.__readers >> FG_RWLOCK_READER_SHIFT;
  /* Readers leave no names: with threads of the child's own about, they may be those. */
  if (write && writer == 0 && readers > 0 && !fg_child_threads)
    return fg_stuck(operation, rwlock, FG_RWLOCK, 0, readers, blocking, site,
                    "the rwlock is read-locked by threads that do not exist in the fork child (or by this thread)");
  return 0;
}

/* Unlocking a recursive or error-checking mutex the forking thread locked fails with EPERM:
 * the owner recorded in it is the parent thread's id. */
static void fg_check_unlock(pthread_mutex_t *mutex, void *site) {
  int kind = mutex->__data.__kind & FG_MUTEX_KIND_MASK;
  if (kind != FG_MUTEX_RECURSIVE && kind != FG_MUTEX_ERRORCHECK) return;
  pid_t owner = mutex->__data.__owner & FG_TID_MASK;
  if (owner == 0 || owner == fg_tid()) return;
  fg_stuck("pthread_mutex_unlock", mutex, FG_MUTEX, owner, 0, 0, site,
           kind == FG_MUTEX_RECURSIVE
               ? "unlocking a recursive mutex locked before fork() fails with EPERM in the child: its owner is the parent thread's id"
               : "unlocking an error-checking mutex locked before fork() fails with EPERM in the child: its owner is the parent thread's id");
}

/* ---- mutexes ------------------------------------------------------------------------- */

#define FG_CHILD_CHECK(check) \
  do { \
    if (FG_UNLIKELY(fg_at_fork.child)) { \
      int verdict = (check); \
      if (verdict) return verdict; \
    } \
  } while (0)

/* glibc's lock and unlock, for the tracking versions (set with them, never NULL there). */
static fg_real_pthread_mutex_lock_t *fg_glibc_mutex_lock;
static fg_real_pthread_mutex_unlock_t *fg_glibc_mutex_unlock;
static int fg_mutex_lock_tracked(pthread_mutex_t *mutex);
static int fg_mutex_unlock_tracked(pthread_mutex_t *mutex);

static void fg_update_mutex_fast_path(void) {
  if (fg_at_fork.child) return;
  void *lock = __atomic_load_n(&fg_functions[FG_F_pthread_mutex_lock].pointer, __ATOMIC_ACQUIRE);
  void *unlock = __atomic_load_n(&fg_functions[FG_F_pthread_mutex_unlock].pointer, __ATOMIC_ACQUIRE);
  if (!lock || !unlock) return;
  fg_glibc_mutex_lock = (fg_real_pthread_mutex_lock_t *)lock;
  fg_glibc_mutex_unlock = (fg_real_pthread_mutex_unlock_t *)unlock;
  if (fg_options.mode == FG_MODE_TRACK) {
    fg_at_fork.mutex_lock_target = fg_mutex_lock_tracked;
    fg_at_fork.mutex_unlock_target = fg_mutex_unlock_tracked;
    return;
  }
  fg_at_fork.mutex_lock_target = fg_glibc_mutex_lock;
  fg_at_fork.mutex_unlock_target = fg_glibc_mutex_unlock;
}

/* Track mode in the parent: record, without the checks only a child needs. Reached by a jump
 * from the wrapper, so the return address is the wrapper's caller's. */
__attribute__((noinline)) static int fg_mutex_lock_tracked_slow(pthread_mutex_t *mutex, void *site) {
  int result = fg_glibc_mutex_lock(mutex);
  if (FG_LIKELY(result == 0)) fg_track_acquire(mutex, FG_MUTEX, 0, site);
  return result;
}

/* A plain mutex (glibc's default kind: not recursive, error-checking, robust, priority-
 * inheriting or -protecting; nptl/pthreadP.h's PTHREAD_MUTEX_KIND_MASK_NP and the robust,
 * PI and PP bits are the low seven bits of __kind) whose lock can only succeed or wait. */
static inline int fg_plain_mutex(const pthread_mutex_t *mutex) { return (mutex->__data.__kind & 0x7f) == 0; }

/* Its common case needs no frame: the entry is pushed first, marked FG_TAKING, then a jump
 * to glibc's lock (which returns to the caller). A frame kept across a call to glibc was
 * most of what track mode added to the lock loop (issue 15: 144 -> 130 instructions per
 * lock and unlock, 98 plain). */
__attribute__((noinline)) static int fg_mutex_lock_tracked(pthread_mutex_t *mutex) {
  struct fg_thread *thread = fg_fast_thread;
  if (FG_LIKELY(thread != NULL) && FG_LIKELY(fg_plain_mutex(mutex))) {
    struct fg_held *entry = thread->top;
    if (FG_LIKELY(entry < thread->held + FG_MAX_HELD)) {
      entry->lock = mutex;
      entry->header = fg_held_header(FG_MUTEX, FG_TAKING);
      entry->frames[0] = __builtin_return_address(0);
      __atomic_store_n(&thread->top, entry + 1, __ATOMIC_RELEASE);
      return fg_glibc_mutex_lock(mutex);
    }
  }
  return fg_mutex_lock_tracked_slow(mutex, __builtin_return_address(0));
}

__attribute__((noinline)) static int fg_mutex_unlock_tracked_slow(pthread_mutex_t *mutex) {
  fg_track_release_slow(mutex, 0, NULL);
  return fg_glibc_mutex_unlock(mutex);
}

/* The common case needs no frame: a pop, then a jump to glibc's unlock. */
__attribute__((noinline)) static int fg_mutex_unlock_tracked(pthread_mutex_t *mutex) {
  struct fg_thread *thread = fg_fast_thread;
  if (FG_LIKELY(thread != NULL)) {
    struct fg_held *newest = thread->top - 1;
    if (FG_LIKELY(newest->lock == mutex) && FG_LIKELY(newest->depth == 1)) {
      __atomic_store_n(&thread->top, newest, __ATOMIC_RELEASE);
      return fg_glibc_mutex_unlock(mutex);
    }
  }
  return fg_mutex_unlock_tracked_slow(mutex);
}

static void fg_update_condition_fast_path(void) {
  if (fg_at_fork.child) return;
  void *signal_function = __atomic_load_n(&fg_functions[FG_F_pthread_cond_signal].pointer, __ATOMIC_ACQUIRE);
  void *broadcast_function = __atomic_load_n(&fg_functions[FG_F_pthread_cond_broadcast].pointer, __ATOMIC_ACQUIRE);
  if (!signal_function || !broadcast_function) return;
  fg_at_fork.cond_signal_target = (fg_real_pthread_cond_signal_t *)signal_function;
  fg_at_fork.cond_broadcast_target = (fg_real_pthread_cond_broadcast_t *)broadcast_function;
}

/* Reached by a jump from the wrapper, so the return address is the wrapper's caller's. */
__attribute__((noinline)) static int fg_mutex_lock_checked(pthread_mutex_t *mutex) {
  void *site = __builtin_return_address(0);
  fg_real_pthread_mutex_lock_t *real = FG_REAL(pthread_mutex_lock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_mutex(mutex, "pthread_mutex_lock", 1, site));
  int result = real(mutex);
  if (FG_TRACKING && result == 0) fg_track_acquire(mutex, FG_MUTEX, 0, site);
  return result;
}

FG_EXPORT int pthread_mutex_lock(pthread_mutex_t *mutex) { return fg_at_fork.mutex_lock_target(mutex); }

FG_EXPORT int pthread_mutex_trylock(pthread_mutex_t *mutex) {
  fg_real_pthread_mutex_trylock_t *real = FG_REAL(pthread_mutex_trylock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_mutex(mutex, "pthread_mutex_trylock", 0, __builtin_return_address(0)));
  int result = real(mutex);
  if (FG_TRACKING && result == 0) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *deadline) {
  fg_real_pthread_mutex_timedlock_t *real = FG_REAL(pthread_mutex_timedlock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_mutex(mutex, "pthread_mutex_timedlock", 0, __builtin_return_address(0)));
  int result = real(mutex, deadline);
  if (FG_TRACKING && result == 0) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *mutex, clockid_t clock, const struct timespec *deadline) {
  fg_real_pthread_mutex_clocklock_t *real = FG_REAL(pthread_mutex_clocklock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_mutex(mutex, "pthread_mutex_clocklock", 0, __builtin_return_address(0)));
  int result = real(mutex, clock, deadline);
  if (FG_TRACKING && result == 0) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

__attribute__((noinline)) static int fg_mutex_unlock_checked(pthread_mutex_t *mutex) {
  fg_real_pthread_mutex_unlock_t *real = FG_REAL(pthread_mutex_unlock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  if (FG_UNLIKELY(fg_at_fork.child)) fg_check_unlock(mutex, __builtin_return_address(0));
  if (FG_TRACKING) fg_track_release(mutex, 0, NULL);
  return real(mutex);
}

FG_EXPORT int pthread_mutex_unlock(pthread_mutex_t *mutex) { return fg_at_fork.mutex_unlock_target(mutex); }

/* ---- rwlocks ------------------------------------------------------------------------- */

#define FG_RWLOCK_WRAPPER(name, write, blocking, parameters, arguments) \
  FG_EXPORT int name parameters { \
    fg_real_##name##_t *real = FG_REAL(name); \
    if (FG_UNLIKELY(!real)) return ENOSYS; \
    FG_CHILD_CHECK(fg_check_rwlock(rwlock, #name, write, blocking, __builtin_return_address(0))); \
    int result = real arguments; \
    if (FG_TRACKING && result == 0) fg_track_acquire(rwlock, FG_RWLOCK, !(write), __builtin_return_address(0)); \
    return result; \
  }

FG_RWLOCK_WRAPPER(pthread_rwlock_rdlock, 0, 1, (pthread_rwlock_t * rwlock), (rwlock))
FG_RWLOCK_WRAPPER(pthread_rwlock_tryrdlock, 0, 0, (pthread_rwlock_t * rwlock), (rwlock))
FG_RWLOCK_WRAPPER(pthread_rwlock_timedrdlock, 0, 0,
                  (pthread_rwlock_t * rwlock, const struct timespec *deadline), (rwlock, deadline))
FG_RWLOCK_WRAPPER(pthread_rwlock_clockrdlock, 0, 0,
                  (pthread_rwlock_t * rwlock, clockid_t clock, const struct timespec *deadline), (rwlock, clock, deadline))
FG_RWLOCK_WRAPPER(pthread_rwlock_wrlock, 1, 1, (pthread_rwlock_t * rwlock), (rwlock))
FG_RWLOCK_WRAPPER(pthread_rwlock_trywrlock, 1, 0, (pthread_rwlock_t * rwlock), (rwlock))
FG_RWLOCK_WRAPPER(pthread_rwlock_timedwrlock, 1, 0,
                  (pthread_rwlock_t * rwlock, const struct timespec *deadline), (rwlock, deadline))
FG_RWLOCK_WRAPPER(pthread_rwlock_clockwrlock, 1, 0,
                  (pthread_rwlock_t * rwlock, clockid_t clock, const struct timespec *deadline), (rwlock, clock, deadline))

FG_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rwlock) {
  fg_real_pthread_rwlock_unlock_t *real = FG_REAL(pthread_rwlock_unlock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  if (FG_TRACKING) fg_track_release(rwlock, 0, NULL);
  return real(rwlock);
}

/* ---- spinlocks: no owner is recorded; track mode names who took one ------------------- */

FG_EXPORT int pthread_spin_lock(pthread_spinlock_t *lock) {
  fg_real_pthread_spin_lock_t *real = FG_REAL(pthread_spin_lock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_spin(lock, "pthread_spin_lock", 1, __builtin_return_address(0)));
  int result = real(lock);
  if (FG_TRACKING && result == 0) fg_track_acquire((void *)lock, FG_SPIN, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int pthread_spin_trylock(pthread_spinlock_t *lock) {
  fg_real_pthread_spin_trylock_t *real = FG_REAL(pthread_spin_trylock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_spin(lock, "pthread_spin_trylock", 0, __builtin_return_address(0)));
  int result = real(lock);
  if (FG_TRACKING && result == 0) fg_track_acquire((void *)lock, FG_SPIN, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int pthread_spin_unlock(pthread_spinlock_t *lock) {
  fg_real_pthread_spin_unlock_t *real = FG_REAL(pthread_spin_unlock);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  if (FG_TRACKING) fg_track_release((void *)lock, 0, NULL);
  return real(lock);
}

/* ---- semaphores: CPython's locks, among others ------------------------------------------ */

FG_EXPORT int sem_init(sem_t *semaphore, int shared, unsigned value) {
  fg_real_sem_init_t *real = FG_REAL(sem_init);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  if (FG_UNLIKELY(fg_at_fork.child)) {
    for (size_t i = 0; i < sizeof fg_child_semaphores / sizeof fg_child_semaphores[0]; i++) {
      void *expected = NULL;
      if (__atomic_compare_exchange_n(&fg_child_semaphores[i], &expected, (void *)semaphore, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE) || expected == (void *)semaphore)
        break;
    }
  }
  return real(semaphore, shared, value);
}

#define FG_SEMAPHORE_CHECK(operation, blocking) \
  do { \
    if (FG_UNLIKELY(fg_at_fork.child)) { \
      int verdict = fg_check_semaphore(semaphore, operation, blocking, __builtin_return_address(0)); \
      if (verdict) { \
        errno = verdict; \
        return -1; \
      } \
    } \
  } while (0)

FG_EXPORT int sem_wait(sem_t *semaphore) {
  fg_real_sem_wait_t *real = FG_REAL(sem_wait);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  FG_SEMAPHORE_CHECK("sem_wait", 1);
  int result = real(semaphore);
  if (FG_TRACKING && result == 0) fg_track_semaphore(semaphore, __builtin_return_address(0));
  return result;
}

FG_EXPORT int sem_timedwait(sem_t *semaphore, const struct timespec *deadline) {
  fg_real_sem_timedwait_t *real = FG_REAL(sem_timedwait);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  FG_SEMAPHORE_CHECK("sem_timedwait", 0);
  int result = real(semaphore, deadline);
  if (FG_TRACKING && result == 0) fg_track_semaphore(semaphore, __builtin_return_address(0));
  return result;
}

FG_EXPORT int sem_clockwait(sem_t *semaphore, clockid_t clock, const struct timespec *deadline) {
  fg_real_sem_clockwait_t *real = FG_REAL(sem_clockwait);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  FG_SEMAPHORE_CHECK("sem_clockwait", 0);
  int result = real(semaphore, clock, deadline);
  if (FG_TRACKING && result == 0) fg_track_semaphore(semaphore, __builtin_return_address(0));
  return result;
}

FG_EXPORT int sem_trywait(sem_t *semaphore) {
  fg_real_sem_trywait_t *real = FG_REAL(sem_trywait);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  int result = real(semaphore);
  if (FG_TRACKING && result == 0) fg_track_semaphore(semaphore, __builtin_return_address(0));
  return result;
}

/* ---- C11 mutexes: glibc's mtx_* lock a pthread mutex through internal calls, unseen ------ */

/* glibc's mtx_t is a pthread_mutex_t (nptl/mtx_init.c casts it). */
#define FG_C11_CHECK(operation, blocking) \
  do { \
    if (FG_UNLIKELY(fg_at_fork.child) && fg_check_mutex((pthread_mutex_t *)mutex, operation, blocking, __builtin_return_address(0))) \
      return thrd_error; \
  } while (0)

FG_EXPORT int mtx_lock(mtx_t *mutex) {
  fg_real_mtx_lock_t *real = FG_REAL(mtx_lock);
  if (FG_UNLIKELY(!real)) return thrd_error;
  FG_C11_CHECK("mtx_lock", 1);
  int result = real(mutex);
  if (FG_TRACKING && result == thrd_success) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int mtx_timedlock(mtx_t *restrict mutex, const struct timespec *restrict deadline) {
  fg_real_mtx_timedlock_t *real = FG_REAL(mtx_timedlock);
  if (FG_UNLIKELY(!real)) return thrd_error;
  FG_C11_CHECK("mtx_timedlock", 0);
  int result = real(mutex, deadline);
  if (FG_TRACKING && result == thrd_success) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int mtx_trylock(mtx_t *mutex) {
  fg_real_mtx_trylock_t *real = FG_REAL(mtx_trylock);
  if (FG_UNLIKELY(!real)) return thrd_error;
  FG_C11_CHECK("mtx_trylock", 0);
  int result = real(mutex);
  if (FG_TRACKING && result == thrd_success) fg_track_acquire(mutex, FG_MUTEX, 0, __builtin_return_address(0));
  return result;
}

FG_EXPORT int mtx_unlock(mtx_t *mutex) {
  fg_real_mtx_unlock_t *real = FG_REAL(mtx_unlock);
  if (FG_UNLIKELY(!real)) return thrd_error;
  if (FG_UNLIKELY(fg_at_fork.child)) fg_check_unlock((pthread_mutex_t *)mutex, __builtin_return_address(0));
  if (FG_TRACKING) fg_track_release(mutex, 0, NULL);
  return real(mutex);
}

/* ---- condition variables: glibc releases and re-takes the mutex inside, unseen -------- */

/* The waits: checked in the child by fg_check_condition_wait, which says why the mutex's re-take
 * at the end of a wait is not checked. Track mode drops the mutex from the caller's held locks
 * while it waits. */
#define FG_CONDITION_WAIT(name, timed, parameters, arguments) \
  FG_EXPORT int name parameters { \
    fg_real_##name##_t *real = FG_REAL(name); \
    if (FG_UNLIKELY(!real)) return ENOSYS; \
    FG_CHILD_CHECK(fg_check_condition_wait(condition, mutex, #name, timed, __builtin_return_address(0))); \
    struct fg_held saved; \
    int held = FG_TRACKING && fg_track_release(mutex, 1, &saved); \
    int result = real arguments; \
    if (held) fg_track_restore(&saved); \
    return result; \
  }

FG_CONDITION_WAIT(pthread_cond_wait, 0, (pthread_cond_t * condition, pthread_mutex_t *mutex), (condition, mutex))
FG_CONDITION_WAIT(pthread_cond_timedwait, 1,
                  (pthread_cond_t * condition, pthread_mutex_t *mutex, const struct timespec *deadline),
                  (condition, mutex, deadline))
FG_CONDITION_WAIT(pthread_cond_clockwait, 1,
                  (pthread_cond_t * condition, pthread_mutex_t *mutex, clockid_t clock, const struct timespec *deadline),
                  (condition, mutex, clock, deadline))

/* Reached by a jump from the wrapper, so the return address is the wrapper's caller's. */
__attribute__((noinline)) static int fg_cond_signal_checked(pthread_cond_t *condition) {
  fg_real_pthread_cond_signal_t *real = FG_REAL(pthread_cond_signal);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_condition_signal(condition, 0, "pthread_cond_signal", __builtin_return_address(0)));
  return real(condition);
}

__attribute__((noinline)) static int fg_cond_broadcast_checked(pthread_cond_t *condition) {
  fg_real_pthread_cond_broadcast_t *real = FG_REAL(pthread_cond_broadcast);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_condition_signal(condition, 1, "pthread_cond_broadcast", __builtin_return_address(0)));
  return real(condition);
}

FG_EXPORT int pthread_cond_signal(pthread_cond_t *condition) { return fg_at_fork.cond_signal_target(condition); }

FG_EXPORT int pthread_cond_broadcast(pthread_cond_t *condition) { return fg_at_fork.cond_broadcast_target(condition); }

FG_EXPORT int pthread_cond_destroy(pthread_cond_t *condition) {
  fg_real_pthread_cond_destroy_t *real = FG_REAL(pthread_cond_destroy);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  FG_CHILD_CHECK(fg_check_condition_destroy(condition, __builtin_return_address(0)));
  return real(condition);
}

FG_EXPORT int pthread_cond_init(pthread_cond_t *condition, const pthread_condattr_t *attributes) {
  fg_real_pthread_cond_init_t *real = FG_REAL(pthread_cond_init);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  int result = real(condition, attributes);
  if (FG_UNLIKELY(fg_at_fork.child) && result == 0) fg_condition_made_in_child(condition);
  return result;
}

/* ---- non-async-signal-safe calls in the child (unsafe_calls=1) ------------------------- */

/* glibc's fork() resets its own malloc and stdio locks in the child; _Fork() does not, and
 * nothing resets syslog's, the environment's or NSS's. */
__attribute__((noinline, cold)) static void fg_unsafe_call(int which, void *site) {
  if (!fg_at_fork.of_threads || !fg_options.unsafe_calls) return;
  const struct fg_function *function = &fg_functions[which];
  const struct fg_function *reported = &fg_functions[function->reported_as];
  if (__atomic_exchange_n(&fg_unsafe_reported[function->reported_as], 1, __ATOMIC_ACQ_REL)) return;
  int repaired = function->repaired && !fg_at_fork.underscore;
  char message[300];
  size_t used = 0;
  fg_append_text(message, sizeof message, &used, "'");
  fg_append_text(message, sizeof message, &used, reported->name);
  fg_append_text(message, sizeof message, &used,
                 "' was called in the child of a multithreaded fork before exec; it is not async-signal-safe: it needs ");
  fg_append_text(message, sizeof message, &used, function->takes);
  fg_append_text(message, sizeof message, &used, ", which a thread that does not exist in the child may hold");
  struct fg_report report;
  fg_report_begin(&report, "runtime-child-unsafe-call", message);
  fg_report_field(&report, "function", reported->name);
  fg_report_field(&report, "grade", repaired ? "warning" : "error");
  fg_report_field(&report, "repaired_by_glibc", repaired ? "1" : "0");
  fg_report_fork(&report);
  fg_report_frames(&report, "child", &site, 1);
  fg_report_end(&report);
}

/* Calls a wrapped function makes itself (setenv's malloc) are its business, not the
 * program's: only the outermost is reported. */
static __thread int fg_unsafe_depth __attribute__((tls_model("initial-exec")));

static int fg_unsafe_enter(int which, void *site) {
  if (FG_UNLIKELY(fg_at_fork.child)) {
    if (fg_unsafe_depth == 0) fg_unsafe_call(which, site);
    fg_unsafe_depth++;
    return 1;
  }
  return 0;
}

static void fg_unsafe_leave(int entered) {
  if (entered) fg_unsafe_depth--;
}

/* The FG_UNSAFE lines' bodies: report in the child, then call through; without the real
 * function, fail as the C library's own failure would look (errno ENOSYS). */
#define FG_UNSAFE(name, returns, parameters, arguments, failure, repaired, takes) \
  FG_EXPORT returns name parameters { \
    fg_real_##name##_t *real = FG_REAL(name); \
    if (FG_UNLIKELY(!real)) { \
      errno = ENOSYS; \
      return failure; \
    } \
    int entered = fg_unsafe_enter(FG_F_##name, __builtin_return_address(0)); \
    returns result = real arguments; \
    fg_unsafe_leave(entered); \
    return result; \
  }
#define FG_WRAPPER(name, returns, parameters, when_missing)
#define FG_EXEC(name, returns, parameters, real, real_parameters)
#define FG_UNSAFE_BY_HAND(name, returns, parameters, real, real_parameters, reported_as, repaired, takes, when_missing)
#include "preload-functions.def"

/* The FG_UNSAFE_BY_HAND lines. The allocator serves dlsym from the arena; without a real
 * allocator, allocations fail with ENOMEM and free does nothing. */
FG_EXPORT void *malloc(size_t size) {
  fg_real_malloc_t *real = FG_REAL(malloc);
  if (FG_UNLIKELY(!real)) {
    if (fg_in_dlsym) return fg_arena_alloc(size);
    errno = ENOMEM;
    return NULL;
  }
  int entered = fg_unsafe_enter(FG_F_malloc, __builtin_return_address(0));
  void *result = real(size);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT void *calloc(size_t count, size_t size) {
  fg_real_calloc_t *real = FG_REAL(calloc);
  if (FG_UNLIKELY(!real)) {
    if (fg_in_dlsym) return count && size > (size_t)-1 / count ? NULL : fg_arena_alloc(count * size);
    errno = ENOMEM;
    return NULL;
  }
  int entered = fg_unsafe_enter(FG_F_calloc, __builtin_return_address(0));
  void *result = real(count, size);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT void *realloc(void *pointer, size_t size) {
  fg_real_realloc_t *real = FG_REAL(realloc);
  if (FG_UNLIKELY(!real)) {
    if (fg_in_dlsym) {
      void *fresh = fg_arena_alloc(size);
      if (fresh && pointer) memcpy(fresh, pointer, size);
      return fresh;
    }
    errno = ENOMEM;
    return NULL;
  }
  int entered = fg_unsafe_enter(FG_F_realloc, __builtin_return_address(0));
  void *result;
  if (FG_UNLIKELY(fg_in_arena(pointer))) {
    /* Arena memory moves to the real allocator; its old size is unknown, so copy what the
     * arena can hold after it. */
    size_t available = (size_t)(fg_arena + sizeof fg_arena - (char *)pointer);
    fg_real_malloc_t *real_malloc = FG_REAL(malloc);
    result = real_malloc ? real_malloc(size) : NULL;
    if (result) memcpy(result, pointer, size < available ? size : available);
  } else {
    result = real(pointer, size);
  }
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT void free(void *pointer) {
  if (FG_UNLIKELY(fg_in_arena(pointer)) || !pointer) return;
  fg_real_free_t *real = FG_REAL(free);
  if (FG_UNLIKELY(!real)) return;
  int entered = fg_unsafe_enter(FG_F_free, __builtin_return_address(0));
  real(pointer);
  fg_unsafe_leave(entered);
}

/* The variadic ones call their va_list variant; without it they fail (-1, ENOSYS) or, for
 * syslog, do nothing. */
FG_EXPORT int printf(const char *format, ...) {
  fg_real_printf_t *real = FG_REAL(printf);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  int entered = fg_unsafe_enter(FG_F_printf, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  int result = real(format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT int __printf_chk(int flag, const char *format, ...) {
  fg_real___printf_chk_t *real = FG_REAL(__printf_chk);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  int entered = fg_unsafe_enter(FG_F___printf_chk, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  int result = real(flag, format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT int fprintf(FILE *stream, const char *format, ...) {
  fg_real_fprintf_t *real = FG_REAL(fprintf);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  int entered = fg_unsafe_enter(FG_F_fprintf, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  int result = real(stream, format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
  fg_real___fprintf_chk_t *real = FG_REAL(__fprintf_chk);
  if (FG_UNLIKELY(!real)) {
    errno = ENOSYS;
    return -1;
  }
  int entered = fg_unsafe_enter(FG_F___fprintf_chk, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  int result = real(stream, flag, format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
  return result;
}

FG_EXPORT void syslog(int priority, const char *format, ...) {
  fg_real_syslog_t *real = FG_REAL(syslog);
  if (FG_UNLIKELY(!real)) return;
  int entered = fg_unsafe_enter(FG_F_syslog, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  real(priority, format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
}

FG_EXPORT void __syslog_chk(int priority, int flag, const char *format, ...) {
  fg_real___syslog_chk_t *real = FG_REAL(__syslog_chk);
  if (FG_UNLIKELY(!real)) return;
  int entered = fg_unsafe_enter(FG_F___syslog_chk, __builtin_return_address(0));
  va_list arguments;
  va_start(arguments, format);
  real(priority, flag, format, arguments);
  va_end(arguments);
  fg_unsafe_leave(entered);
}

/* Without the real exit, _exit: the process still ends with its status, which matters more
 * than the atexit handlers and stdio buffers it loses. */
FG_EXPORT void exit(int status) {
  fg_real_exit_t *real = FG_REAL(exit);
  if (FG_LIKELY(real)) {
    (void)fg_unsafe_enter(FG_F_exit, __builtin_return_address(0)); /* exit does not return: nothing to leave */
    real(status);
  }
  _exit(status);
}

/* ---- programs started: will they load this library? --------------------------------- */

/* This library's path as the loader found it (in LD_PRELOAD's spelling), set at start. */
static char fg_library_path[512];

static void fg_find_library_path(void) {
  Dl_info info;
  if (dladdr((void *)fg_find_library_path, &info) && info.dli_fname) {
    size_t used = 0;
    fg_append_text(fg_library_path, sizeof fg_library_path, &used, info.dli_fname);
  }
}

/* Where execvp would find `file`: itself when it names a path, else the first executable in
 * the caller's PATH (glibc's default path when unset), built in `out`. NULL when none. */
static const char *fg_search_path(const char *file, char *out, size_t size) {
  if (strchr(file, '/')) return file;
  const char *path = NULL;
  for (char **entry = environ; entry && *entry; entry++)
    if (strncmp(*entry, "PATH=", 5) == 0) path = *entry + 5;
  if (!path) path = "/bin:/usr/bin";
  size_t file_length = strlen(file);
  while (1) {
    size_t length = strcspn(path, ":");
    if (length + 1 + file_length < size) {
      size_t used = 0;
      if (length == 0) out[used++] = '.';
      memcpy(out + used, path, length);
      used += length;
      out[used++] = '/';
      memcpy(out + used, file, file_length + 1);
      if (access(out, X_OK) == 0) return out;
    }
    if (path[length] == 0) return NULL;
    path += length + 1;
  }
}

/* Before an exec or spawn: say so when the new program will not load this library. */
static void fg_check_exec(int which, const char *path, char *const envp[], void *site) {
  if (!path) return;
  int problem = fg_exec_problem(path, envp, fg_library_path);
  if (FG_LIKELY(problem == FG_EXEC_INSTRUMENTED)) return;
  struct fg_report report;
  fg_report_begin(&report, "runtime-not-instrumented",
                  problem == FG_EXEC_PRELOAD_REMOVED
                      ? "a program is started without LD_PRELOAD; forkguard will not see it"
                      : "a program is started that will not load forkguard's library");
  fg_report_field(&report, "program", path);
  fg_report_field(&report, "reason", fg_exec_problem_name(problem));
  fg_report_field(&report, "function", fg_functions[which].name);
  fg_report_frames(&report, "child", &site, 1);
  fg_report_end(&report);
}

#define FG_EXEC_REAL(name) \
  fg_real_##name##_t *real = FG_REAL(name); \
  if (FG_UNLIKELY(!real)) { \
    errno = ENOSYS; \
    return -1; \
  }

FG_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  FG_EXEC_REAL(execve);
  fg_check_exec(FG_F_execve, path, envp, __builtin_return_address(0));
  return real(path, argv, envp);
}

FG_EXPORT int execv(const char *path, char *const argv[]) {
  FG_EXEC_REAL(execv);
  fg_check_exec(FG_F_execv, path, environ, __builtin_return_address(0));
  return real(path, argv);
}

FG_EXPORT int execvp(const char *file, char *const argv[]) {
  FG_EXEC_REAL(execvp);
  char found[1024];
  fg_check_exec(FG_F_execvp, fg_search_path(file, found, sizeof found), environ, __builtin_return_address(0));
  return real(file, argv);
}

FG_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  FG_EXEC_REAL(execvpe);
  char found[1024];
  fg_check_exec(FG_F_execvpe, fg_search_path(file, found, sizeof found), envp, __builtin_return_address(0));
  return real(file, argv, envp);
}

/* The variadic forms gather their arguments on the stack, as glibc's own execl does. */
#define FG_GATHER_ARGUMENTS(first, last_parameter) \
  size_t count = 1; \
  va_list counting; \
  va_start(counting, last_parameter); \
  while (va_arg(counting, const char *)) count++; \
  va_end(counting); \
  const char *argv[count + 1]; \
  argv[0] = first; \
  va_list arguments; \
  va_start(arguments, last_parameter); \
  for (size_t i = 1; i <= count; i++) argv[i] = va_arg(arguments, const char *);

FG_EXPORT int execl(const char *path, const char *argument, ...) {
  FG_EXEC_REAL(execl);
  FG_GATHER_ARGUMENTS(argument, argument);
  va_end(arguments);
  fg_check_exec(FG_F_execl, path, environ, __builtin_return_address(0));
  return real(path, (char *const *)argv);
}

FG_EXPORT int execlp(const char *file, const char *argument, ...) {
  FG_EXEC_REAL(execlp);
  FG_GATHER_ARGUMENTS(argument, argument);
  va_end(arguments);
  char found[1024];
  fg_check_exec(FG_F_execlp, fg_search_path(file, found, sizeof found), environ, __builtin_return_address(0));
  return real(file, (char *const *)argv);
}

FG_EXPORT int execle(const char *path, const char *argument, ...) {
  FG_EXEC_REAL(execle);
  FG_GATHER_ARGUMENTS(argument, argument);
  char *const *envp = va_arg(arguments, char *const *);
  va_end(arguments);
  fg_check_exec(FG_F_execle, path, envp, __builtin_return_address(0));
  return real(path, (char *const *)argv, envp);
}

FG_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attributes, char *const argv[], char *const envp[]) {
  fg_real_posix_spawn_t *real = FG_REAL(posix_spawn);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  fg_check_exec(FG_F_posix_spawn, path, envp, __builtin_return_address(0));
  return real(pid, path, actions, attributes, argv, envp);
}

FG_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attributes, char *const argv[], char *const envp[]) {
  fg_real_posix_spawnp_t *real = FG_REAL(posix_spawnp);
  if (FG_UNLIKELY(!real)) return ENOSYS;
  char found[1024];
  fg_check_exec(FG_F_posix_spawnp, fg_search_path(file, found, sizeof found), envp, __builtin_return_address(0));
  return real(pid, file, actions, attributes, argv, envp);
}

/* ---- start-up ------------------------------------------------------------------------- */

__attribute__((constructor)) static void fg_start(void) {
  fg_resolve_all();
  fg_python_resolve();
  fg_read_options();
  fg_find_library_path();
  fg_count_emulator_threads();
  pthread_key_create(&fg_exit_key, fg_thread_exit);
  (void)fg_current(); /* the main thread */
  fg_update_mutex_fast_path();
  fg_update_condition_fast_path();
  if (fg_options.frames > 1) {
    /* backtrace() loads libgcc_s on first use; do that now, never in a child. */
    void *frames[2];
    backtrace(frames, 2);
  }
}
