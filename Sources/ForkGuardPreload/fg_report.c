/* Reports: plain lines written with a write(2) loop, no allocation, no stdio.
 *
 *   ==PID== forkguard: <rule-id>: <human-readable message>
 *   ==PID== fg1 begin rule=<rule-id>
 *   ==PID== fg1 field <key>=<value>
 *   ==PID== fg1 frame who=<owner|child|fork> n=<i> pc=0x...
 *   ==PID== fg1 end
 *   ==PID== fg1 map <line of /proc/self/maps>      (once per process, before its first report)
 *
 * `forkguard run` reads the fg1 lines as they arrive; a person reads the first.
 *
 * Where they go: forkguard run's datagram socket (log_socket), else the log_path file, else
 * stderr. Several threads of one process may report at once (a fork child that starts
 * threads, each meeting a stuck lock). Each report is formatted in a `struct fg_report` on
 * the reporting thread's own stack and written with one write(2): one datagram on the
 * socket, a whole append to the O_APPEND log, and a report fits in PIPE_BUF, so on a pipe
 * too. Reports share nothing but the
 * log descriptor and the once-per-process maps flag, both atomic. No lock: a signal
 * handler that reports on a thread already reporting must not wait for itself. A report
 * longer than the buffer (none is today) is flushed in whole lines, so every line stays
 * well-formed. */
#include "fg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The log's descriptor and the pid it was opened for, in one word: a thread sees both or
 * neither. (pid << 32) | (fd + 1); 0 when no log is open. A fork child finds its parent's
 * pid there and opens its own: nothing needs resetting at the fork. */
static uint64_t fg_log_state;
/* Whose mappings are in the log, so each process writes them once, before any of its
 * reports: (pid << 2) | FG_MAPS_WRITING or FG_MAPS_WRITTEN. */
static uint64_t fg_maps_state;
#define FG_MAPS_WRITING 1
#define FG_MAPS_WRITTEN 2

/* A short write (a signal, a full disk) is continued; only then can another thread's write
 * land inside this one. */
void fg_write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += written;
    size -= (size_t)written;
  }
}

size_t fg_format_decimal(char *out, long value) {
  char digits[24];
  size_t count = 0, length = 0;
  unsigned long magnitude = value < 0 ? (unsigned long)(-(value + 1)) + 1 : (unsigned long)value;
  do {
    digits[count++] = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude);
  if (value < 0) out[length++] = '-';
  while (count) out[length++] = digits[--count];
  out[length] = 0;
  return length;
}

size_t fg_format_hex(char *out, uintptr_t value) {
  static const char hex[] = "0123456789abcdef";
  char digits[20];
  size_t count = 0, length = 0;
  do {
    digits[count++] = hex[value & 15];
    value >>= 4;
  } while (value);
  out[length++] = '0';
  out[length++] = 'x';
  while (count) out[length++] = digits[--count];
  out[length] = 0;
  return length;
}

/* The log file: stderr, or <log_path>.<pid>, opened on first use in each process. Two
 * threads may open it at once; the first to publish its descriptor wins, the other closes
 * its own. */
static int fg_log(void) {
  if (fg_options.log_path[0] == 0) return 2;
  pid_t pid = getpid();
  uint64_t state = __atomic_load_n(&fg_log_state, __ATOMIC_ACQUIRE);
  if (state != 0 && (pid_t)(state >> 32) == pid) return (int)(uint32_t)state - 1;
  char path[600];
  size_t length = strlen(fg_options.log_path);
  memcpy(path, fg_options.log_path, length);
  path[length++] = '.';
  fg_format_decimal(path + length, (long)pid);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fd = 2;
  uint64_t mine = (uint64_t)(uint32_t)pid << 32 | (uint32_t)(fd + 1);
  if (__atomic_compare_exchange_n(&fg_log_state, &state, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return fd;
  /* Another thread published first: use its descriptor if it is this process's. */
  if (state != 0 && (pid_t)(state >> 32) == pid) {
    if (fd != 2) close(fd);
    return (int)(uint32_t)state - 1;
  }
  return fd;
}

/* The launcher's socket (forkguard run): the inherited descriptor while it is still a socket
 * connected to the launcher's name (a program may have closed it, or reused its number for
 * a file of its own, which must never receive a report), else a socket of this report's
 * own connected by name, which also works after the process closed every descriptor or
 * changed user (an abstract name has no permissions). -1 when there is no launcher or it
 * cannot be reached (it has exited, or the process is in another network namespace). Only
 * socket calls, all async-signal-safe. */
static int fg_launcher_socket(int *close_fd) {
  if (fg_options.log_socket[0] == 0) return -1;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  size_t name_length = strlen(fg_options.log_socket);
  memcpy(address.sun_path + 1, fg_options.log_socket, name_length);
  socklen_t address_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_length);
  if (fg_options.log_fd >= 0) {
    struct sockaddr_un peer;
    socklen_t peer_length = sizeof peer;
    if (getpeername(fg_options.log_fd, (struct sockaddr *)&peer, &peer_length) == 0 &&
        peer_length == address_length && memcmp(&peer, &address, address_length) == 0)
      return fg_options.log_fd;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, address_length) != 0) {
    close(fd);
    return -1;
  }
  *close_fd = 1;
  return fd;
}

void fg_append_text(char *out, size_t size, size_t *used, const char *text) {
  size_t length = strlen(text);
  if (*used + length >= size) length = size - 1 - *used;
  memcpy(out + *used, text, length);
  *used += length;
  out[*used] = 0;
}

void fg_error(const char *text) {
  /* One write, so the line arrives whole between other threads' output. */
  char line[600];
  size_t length = strlen(text);
  if (length > sizeof line - 13) length = sizeof line - 13;
  memcpy(line, "forkguard: ", 11);
  memcpy(line + 11, text, length);
  line[11 + length] = '\n';
  fg_write_all(2, line, 12 + length);
}

/* ---- building a report on the reporting thread's stack ---------------------------------- */

static void fg_flush(struct fg_report *report) {
  fg_write_all(report->fd, report->text, report->used);
  report->used = 0;
}

/* A line never exceeds FG_LINE_MAX bytes (a longer one is cut, its newline kept), and one
 * starts only with that much room left, so the buffer holds whole lines only. */
static void fg_line_begin(struct fg_report *report) {
  if (sizeof report->text - report->used < FG_LINE_MAX) fg_flush(report);
  report->line = report->used;
  memcpy(report->text + report->used, report->prefix, report->prefix_length);
  report->used += report->prefix_length;
}

static void fg_put(struct fg_report *report, const char *text, size_t length) {
  size_t room = report->line + FG_LINE_MAX - 1 - report->used;
  if (length > room) length = room;
  memcpy(report->text + report->used, text, length);
  report->used += length;
}

static void fg_puts(struct fg_report *report, const char *text) { fg_put(report, text, strlen(text)); }

static void fg_line_end(struct fg_report *report) { report->text[report->used++] = '\n'; }

static void fg_write_maps(struct fg_report *report);

/* A process's mappings go out once, before the first line of any of its reports, so a
 * reader streaming the reports can symbolize each at its end line, and every report stays
 * one contiguous block (the mappings take many writes; a report, one). The first reporter
 * writes them; another thread of the process that reports meanwhile waits for that, a
 * bounded while (a reporter interrupted by a signal handler that reports must not wait for
 * itself forever). */
static void fg_claim_maps(struct fg_report *report) {
  uint64_t pid = (uint64_t)(uint32_t)getpid();
  uint64_t state = __atomic_load_n(&fg_maps_state, __ATOMIC_ACQUIRE);
  if (state == (pid << 2 | FG_MAPS_WRITTEN)) return;
  if ((state >> 2) != pid &&
      __atomic_compare_exchange_n(&fg_maps_state, &state, pid << 2 | FG_MAPS_WRITING, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    fg_write_maps(report);
    __atomic_store_n(&fg_maps_state, pid << 2 | FG_MAPS_WRITTEN, __ATOMIC_RELEASE);
    return;
  }
  for (int spins = 0; spins < 20000; spins++) {
    if (__atomic_load_n(&fg_maps_state, __ATOMIC_ACQUIRE) != (pid << 2 | FG_MAPS_WRITING)) return;
    sched_yield();
  }
}

void fg_report_begin(struct fg_report *report, const char *rule, const char *message) {
  report->close_fd = 0;
  report->fd = fg_launcher_socket(&report->close_fd);
  if (report->fd < 0) report->fd = fg_log();
  report->used = 0;
  report->line = 0;
  char number[24];
  size_t length = fg_format_decimal(number, (long)getpid());
  memcpy(report->prefix, "==", 2);
  memcpy(report->prefix + 2, number, length);
  memcpy(report->prefix + 2 + length, "== ", 3);
  report->prefix_length = length + 5;
  fg_claim_maps(report);
  fg_line_begin(report);
  fg_puts(report, "forkguard: ");
  fg_puts(report, rule);
  fg_puts(report, ": ");
  fg_puts(report, message);
  fg_line_end(report);
  fg_line_begin(report);
  fg_puts(report, "fg1 begin rule=");
  fg_puts(report, rule);
  fg_line_end(report);
}

void fg_report_field(struct fg_report *report, const char *key, const char *value) {
  fg_line_begin(report);
  fg_puts(report, "fg1 field ");
  fg_puts(report, key);
  fg_puts(report, "=");
  /* Values are single words, thread names or paths; keep them on one line. */
  char clean[512];
  size_t i = 0;
  for (; value[i] && i < sizeof clean - 1; i++) clean[i] = (value[i] == '\n' || value[i] == ' ') ? '_' : value[i];
  fg_put(report, clean, i);
  fg_line_end(report);
}

void fg_report_number(struct fg_report *report, const char *key, long value) {
  char number[24];
  fg_format_decimal(number, value);
  fg_report_field(report, key, number);
}

void fg_report_pointer(struct fg_report *report, const char *key, const void *value) {
  char number[24];
  fg_format_hex(number, (uintptr_t)value);
  fg_report_field(report, key, number);
}

void fg_report_frames(struct fg_report *report, const char *who, void *const *frames, int count) {
  char number[24];
  for (int i = 0; i < count; i++) {
    if (!frames[i]) continue;
    fg_line_begin(report);
    fg_puts(report, "fg1 frame who=");
    fg_puts(report, who);
    fg_puts(report, " n=");
    fg_format_decimal(number, i);
    fg_puts(report, number);
    fg_puts(report, " pc=");
    fg_format_hex(number, (uintptr_t)frames[i]);
    fg_puts(report, number);
    fg_line_end(report);
  }
}

void fg_report_source(struct fg_report *report, const char *who, int index, const char *file, size_t file_length,
                      long line, const char *function, size_t function_length) {
  char number[24];
  fg_line_begin(report);
  fg_puts(report, "fg1 source who=");
  fg_puts(report, who);
  fg_puts(report, " n=");
  fg_format_decimal(number, index);
  fg_puts(report, number);
  fg_puts(report, " line=");
  fg_format_decimal(number, line);
  fg_puts(report, number);
  fg_puts(report, " function=");
  /* One word: the file, which may hold spaces, ends the line. */
  for (size_t i = 0; i < function_length; i++) fg_put(report, function[i] == ' ' ? "_" : function + i, 1);
  fg_puts(report, " file=");
  fg_put(report, file, file_length);
  fg_line_end(report);
}

/* Track mode's held-lock list: `fg1 thread tid=T start=0x.. created=0x.. name=NAME` once per
 * thread (the name last: it may hold spaces), then `fg1 held tid=T kind=K depth=D lock=0x..
 * pc=0x.. …` per lock. */
void fg_report_thread_line(struct fg_report *report, pid_t tid, const void *start, const void *created,
                           const char *name) {
  char number[24];
  fg_line_begin(report);
  fg_puts(report, "fg1 thread tid=");
  fg_format_decimal(number, (long)tid);
  fg_puts(report, number);
  fg_puts(report, " start=");
  fg_format_hex(number, (uintptr_t)start);
  fg_puts(report, number);
  fg_puts(report, " created=");
  fg_format_hex(number, (uintptr_t)created);
  fg_puts(report, number);
  fg_puts(report, " name=");
  for (size_t i = 0; name[i] && i < 16; i++) fg_put(report, name[i] == '\n' ? "_" : name + i, 1);
  fg_line_end(report);
}

void fg_report_held(struct fg_report *report, pid_t tid, const char *kind, long depth, const void *lock,
                    void *const *frames, int count) {
  char number[24];
  fg_line_begin(report);
  fg_puts(report, "fg1 held tid=");
  fg_format_decimal(number, (long)tid);
  fg_puts(report, number);
  fg_puts(report, " kind=");
  fg_puts(report, kind);
  fg_puts(report, " depth=");
  fg_format_decimal(number, depth);
  fg_puts(report, number);
  fg_puts(report, " lock=");
  fg_format_hex(number, (uintptr_t)lock);
  fg_puts(report, number);
  for (int i = 0; i < count; i++) {
    if (!frames[i]) continue;
    fg_puts(report, " pc=");
    fg_format_hex(number, (uintptr_t)frames[i]);
    fg_puts(report, number);
  }
  fg_line_end(report);
}

/* The file-backed mappings, so addresses can be symbolized after the process is gone. They
 * go through the report's buffer, so they too are written in whole lines; a mapping whose
 * line would not fit in one is left out rather than cut (a cut path would mislead). */
static void fg_write_maps(struct fg_report *report) {
  int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps < 0) return;
  char chunk[512];
  char line[FG_LINE_MAX];
  size_t line_length = 0;
  int overlong = 0;
  const size_t fits = FG_LINE_MAX - report->prefix_length - 8; /* "fg1 map ", newline counted in line */
  for (;;) {
    ssize_t got = read(maps, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; i++) {
      char c = chunk[i];
      if (line_length < sizeof line) line[line_length++] = c;
      else overlong = 1;
      if (c != '\n') continue;
      /* Only mappings backed by a file (a path starts with '/'). */
      if (!overlong && line_length <= fits && memchr(line, '/', line_length)) {
        fg_line_begin(report);
        fg_puts(report, "fg1 map ");
        fg_put(report, line, line_length - 1);
        fg_line_end(report);
      }
      line_length = 0;
      overlong = 0;
    }
  }
  close(maps);
  fg_flush(report);
}

void fg_report_end(struct fg_report *report) {
  fg_line_begin(report);
  fg_puts(report, "fg1 end");
  fg_line_end(report);
  fg_flush(report);
  if (report->close_fd) close(report->fd);
}
