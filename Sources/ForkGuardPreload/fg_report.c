/* Reports: plain lines written with a write(2) loop, no allocation, no stdio.
 *
 *   ==PID== forkguard: <rule-id>: <human-readable message>
 *   ==PID== fg1 begin rule=<rule-id>
 *   ==PID== fg1 field <key>=<value>
 *   ==PID== fg1 frame who=<owner|child|fork> n=<i> pc=0x...
 *   ==PID== fg1 map <line of /proc/self/maps>
 *   ==PID== fg1 end
 *
 * `forkguard run` reads the fg1 lines; a person reads the first. */
#include "fg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static int fg_log_fd = -1;
static pid_t fg_log_pid;

/* Every report is built in one buffer and written at once, so concurrent reports from
 * threads of one process interleave only at report boundaries (O_APPEND). */
static char fg_buffer[16384];
static size_t fg_used;

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

static void fg_append(const char *text) {
  size_t length = strlen(text);
  if (fg_used + length >= sizeof fg_buffer) length = sizeof fg_buffer - fg_used - 1;
  memcpy(fg_buffer + fg_used, text, length);
  fg_used += length;
}

static void fg_append_prefix(void) {
  char number[24];
  fg_append("==");
  fg_format_decimal(number, (long)getpid());
  fg_append(number);
  fg_append("== ");
}

/* The log file: stderr, or <log_path>.<pid>, opened on first use in each process. */
static int fg_log(void) {
  if (fg_options.log_path[0] == 0) return 2;
  pid_t pid = getpid();
  if (fg_log_fd >= 0 && fg_log_pid == pid) return fg_log_fd;
  char path[600];
  size_t length = strlen(fg_options.log_path);
  memcpy(path, fg_options.log_path, length);
  path[length++] = '.';
  fg_format_decimal(path + length, (long)pid);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  fg_log_fd = fd >= 0 ? fd : 2;
  fg_log_pid = pid;
  return fg_log_fd;
}

void fg_log_reset_after_fork(void) {
  /* The child writes to a file of its own pid; the inherited descriptor stays the parent's. */
  fg_log_fd = -1;
  fg_used = 0;
}

void fg_error(const char *text) {
  fg_write_all(2, "forkguard: ", 11);
  fg_write_all(2, text, strlen(text));
  fg_write_all(2, "\n", 1);
}

void fg_report_begin(const char *rule, const char *message) {
  fg_used = 0;
  fg_append_prefix();
  fg_append("forkguard: ");
  fg_append(rule);
  fg_append(": ");
  fg_append(message);
  fg_append("\n");
  fg_append_prefix();
  fg_append("fg1 begin rule=");
  fg_append(rule);
  fg_append("\n");
}

void fg_report_field(const char *key, const char *value) {
  fg_append_prefix();
  fg_append("fg1 field ");
  fg_append(key);
  fg_append("=");
  /* Values are single words or thread names; keep them on one line. */
  char clean[64];
  size_t i = 0;
  for (; value[i] && i < sizeof clean - 1; i++) clean[i] = (value[i] == '\n' || value[i] == ' ') ? '_' : value[i];
  clean[i] = 0;
  fg_append(clean);
  fg_append("\n");
}

void fg_report_number(const char *key, long value) {
  char number[24];
  fg_format_decimal(number, value);
  fg_report_field(key, number);
}

void fg_report_pointer(const char *key, const void *value) {
  char number[24];
  fg_format_hex(number, (uintptr_t)value);
  fg_report_field(key, number);
}

void fg_report_frames(const char *who, void *const *frames, int count) {
  char number[24];
  for (int i = 0; i < count; i++) {
    if (!frames[i]) continue;
    fg_append_prefix();
    fg_append("fg1 frame who=");
    fg_append(who);
    fg_append(" n=");
    fg_format_decimal(number, i);
    fg_append(number);
    fg_append(" pc=");
    fg_format_hex(number, (uintptr_t)frames[i]);
    fg_append(number);
    fg_append("\n");
  }
}

/* The file-backed mappings, so addresses can be symbolized after the process is gone. */
static void fg_write_maps(int fd) {
  int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps < 0) return;
  char chunk[4096];
  char line[1024];
  size_t line_length = 0;
  char prefix[48];
  size_t prefix_length = 0;
  {
    char number[24];
    prefix[prefix_length++] = '=';
    prefix[prefix_length++] = '=';
    size_t n = fg_format_decimal(number, (long)getpid());
    memcpy(prefix + prefix_length, number, n);
    prefix_length += n;
    memcpy(prefix + prefix_length, "== fg1 map ", 11);
    prefix_length += 11;
  }
  for (;;) {
    ssize_t got = read(maps, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; i++) {
      char c = chunk[i];
      if (line_length < sizeof line - 1) line[line_length++] = c;
      if (c != '\n') continue;
      /* Only mappings backed by a file (a path starts with '/'). */
      if (memchr(line, '/', line_length)) {
        fg_write_all(fd, prefix, prefix_length);
        fg_write_all(fd, line, line_length);
      }
      line_length = 0;
    }
  }
  close(maps);
}

void fg_report_end(void) {
  int fd = fg_log();
  fg_append_prefix();
  fg_append("fg1 end\n");
  fg_write_all(fd, fg_buffer, fg_used);
  fg_used = 0;
  static pid_t maps_written_for;
  if (maps_written_for != getpid()) {
    maps_written_for = getpid();
    fg_write_maps(fd);
  }
}
