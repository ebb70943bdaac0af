/* CPython in the process: a fork child that blocks is shown at its Python line.
 *
 * CPython exports the traceback writer its faulthandler module calls from signal handlers,
 * _Py_DumpTraceback(fd, tstate) (Python/traceback.c, declared PyAPI_FUNC in
 * Include/internal/pycore_traceback.h since 3.7): it only reads the thread's frames and
 * writes with write(2), so it is as safe in a fork child as in a handler. Both it and
 * PyGILState_GetThisThreadState (thread-local storage, no lock) are looked up once, in the
 * constructor, with dlsym(RTLD_DEFAULT): in the python3 executable (Debian links libpython
 * in and exports its symbols) or in libpython3.X.so. A process without them is not CPython
 * (or embeds it through a later dlopen) and gets C frames only. */
#include "fg_internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef void *fg_python_thread_state_t(void);
typedef void fg_python_dump_t(int fd, void *thread_state);

static fg_python_thread_state_t *fg_python_thread_state;
static fg_python_dump_t *fg_python_dump;

void fg_python_resolve(void) {
  fg_python_thread_state_t *state = (fg_python_thread_state_t *)dlsym(RTLD_DEFAULT, "PyGILState_GetThisThreadState");
  fg_python_dump_t *dump = (fg_python_dump_t *)dlsym(RTLD_DEFAULT, "_Py_DumpTraceback");
  if (state && dump) {
    fg_python_thread_state = state;
    fg_python_dump = dump;
  }
}

/* `  File "/srv/app.py", line 12 in worker`: the frame lines of a dump, innermost first. */
static int fg_python_frame(const char *line, size_t length, struct fg_report *report, int index, const char *who) {
  static const char opening[] = "  File \"";
  static const char middle[] = "\", line ";
  if (length <= sizeof opening - 1 || memcmp(line, opening, sizeof opening - 1) != 0) return 0;
  const char *file = line + sizeof opening - 1;
  const char *end = line + length;
  const char *close = NULL;
  for (const char *p = file; p + sizeof middle - 1 <= end; p++)
    if (memcmp(p, middle, sizeof middle - 1) == 0) close = p; /* the last one: a file name may hold it */
  if (!close) return 0;
  const char *cursor = close + sizeof middle - 1;
  long number = 0;
  while (cursor < end && *cursor >= '0' && *cursor <= '9') number = number * 10 + (*cursor++ - '0');
  const char *function = "";
  size_t function_length = 0;
  if (end - cursor > 4 && memcmp(cursor, " in ", 4) == 0) {
    function = cursor + 4;
    function_length = (size_t)(end - function);
  }
  fg_report_source(report, who, index, file, (size_t)(close - file), number, function, function_length);
  return 1;
}

void *fg_python_current_state(void) { return fg_python_thread_state ? fg_python_thread_state() : NULL; }

/* A thread's Python stack as CPython prints it, into `text`; its length. In a fork child the
 * state of a thread that is gone is the copy fork() made: its frames as they were at the fork. */
static size_t fg_python_stack_of(void *state, char *text, size_t size) {
  if (!state || !fg_python_dump) return 0;
  int ends[2];
  /* Non-blocking both ways: a stack deeper than the pipe holds is cut, never waited on. */
  if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return 0;
  fg_python_dump(ends[1], state);
  close(ends[1]);
  size_t used = 0;
  for (;;) {
    ssize_t got = read(ends[0], text + used, size - used);
    if (got <= 0) break;
    used += (size_t)got;
    if (used == size) break;
  }
  close(ends[0]);
  return used;
}

static void fg_report_stack(struct fg_report *report, const char *who, const char *text, size_t used) {
  int index = 0;
  size_t start = 0;
  for (size_t i = 0; i < used && index < 16; i++) {
    if (text[i] != '\n') continue;
    if (fg_python_frame(text + start, i - start, report, index, who)) index++;
    start = i + 1;
  }
}

/* The forking thread's Python stack, taken in the parent just before fork() so the child
 * can say which os.fork() it came from. One buffer: a thread that forks while another is
 * capturing goes without, and the child uses it only if the forker captured it. */
static char fg_python_fork_text[4096];
static size_t fg_python_fork_used;
static volatile pid_t fg_python_fork_thread;
static volatile int fg_python_fork_busy;

int fg_python_capture_fork(pid_t forker) {
  if (!fg_python_dump) return 0;
  int idle = 0;
  if (!__atomic_compare_exchange_n(&fg_python_fork_busy, &idle, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return 0;
  fg_python_fork_used = fg_python_stack_of(fg_python_current_state(), fg_python_fork_text, sizeof fg_python_fork_text);
  fg_python_fork_thread = forker;
  return 1;
}

void fg_python_fork_done(int captured) {
  if (captured) __atomic_store_n(&fg_python_fork_busy, 0, __ATOMIC_RELEASE);
}

void fg_report_python(struct fg_report *report, pid_t forker) {
  if (!fg_python_dump) return;
  char text[8192];
  size_t used = fg_python_stack_of(fg_python_current_state(), text, sizeof text);
  fg_report_stack(report, "python", text, used);
  if (fg_python_fork_thread == forker && fg_python_fork_used)
    fg_report_stack(report, "python_fork", fg_python_fork_text, fg_python_fork_used);
}

void fg_report_python_of(struct fg_report *report, const char *who, void *state) {
  if (!state || !fg_python_dump) return;
  char text[8192];
  size_t used = fg_python_stack_of(state, text, sizeof text);
  fg_report_stack(report, who, text, used);
}
