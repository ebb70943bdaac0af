/* FORKGUARD_OPTIONS, sanitizer style: key=value pairs separated by ':'.
 *
 *   mode=default|track        track: record which locks each thread holds
 *   on_deadlock=abort|edeadlk|continue
 *   unsafe_calls=0|1          report non-async-signal-safe calls in the fork child
 *   frames=1..8               return addresses recorded per acquisition (track)
 *   log_path=PATH             write reports to PATH.<pid> instead of stderr
 *   log_socket=NAME           send reports as datagrams to the abstract AF_UNIX socket NAME
 *                             (forkguard run's); falls back to log_path, then stderr
 *   log_fd=N                  a descriptor connected to log_socket, inherited from the
 *                             launcher; used while it still is that socket
 *
 * Read once, strictly: an unknown key or a bad value stops the process with status 2. */
#include "fg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fg_equal(const char *text, size_t length, const char *word) {
  return strlen(word) == length && memcmp(text, word, length) == 0;
}

/* Writes "bad FORKGUARD_OPTIONS: <what> '<text>'" into message (of size bytes, at least 64). */
static int fg_bad_option(char *message, size_t size, const char *what, const char *text, size_t length) {
  static const char lead[] = "bad FORKGUARD_OPTIONS: ";
  size_t used = 0;
  size_t room = size - 1;
  for (const char *part = lead; *part && used < room; part++) message[used++] = *part;
  for (const char *part = what; *part && used < room; part++) message[used++] = *part;
  if (used + 2 < room) {
    message[used++] = ' ';
    message[used++] = '\'';
  }
  for (size_t i = 0; i < length && used + 1 < room; i++) message[used++] = text[i];
  if (used < room) message[used++] = '\'';
  message[used] = 0;
  return -1;
}

/* The pure parser (the fuzz harness in fuzz/options drives it): 0, or -1 with the problem
 * in message. out keeps what was parsed before the problem. */
int fg_parse_options(const char *text, struct fg_options *out, char *message, size_t size) {
  while (*text) {
    const char *end = strchr(text, ':');
    size_t length = end ? (size_t)(end - text) : strlen(text);
    const char *equals = memchr(text, '=', length);
    if (length == 0) {
      if (!end) break;
      text = end + 1;
      continue;
    }
    if (!equals) return fg_bad_option(message, size, "expected key=value, got", text, length);
    size_t key_length = (size_t)(equals - text);
    const char *value = equals + 1;
    size_t value_length = length - key_length - 1;
    if (fg_equal(text, key_length, "mode")) {
      if (fg_equal(value, value_length, "default")) out->mode = FG_MODE_DEFAULT;
      else if (fg_equal(value, value_length, "track")) out->mode = FG_MODE_TRACK;
      else return fg_bad_option(message, size, "mode must be default or track, got", value, value_length);
    } else if (fg_equal(text, key_length, "on_deadlock")) {
      if (fg_equal(value, value_length, "abort")) out->on_deadlock = FG_ABORT;
      else if (fg_equal(value, value_length, "edeadlk")) out->on_deadlock = FG_EDEADLK;
      else if (fg_equal(value, value_length, "continue")) out->on_deadlock = FG_CONTINUE;
      else
        return fg_bad_option(message, size, "on_deadlock must be abort, edeadlk or continue, got", value,
                             value_length);
    } else if (fg_equal(text, key_length, "unsafe_calls")) {
      if (fg_equal(value, value_length, "1")) out->unsafe_calls = 1;
      else if (fg_equal(value, value_length, "0")) out->unsafe_calls = 0;
      else return fg_bad_option(message, size, "unsafe_calls must be 0 or 1, got", value, value_length);
    } else if (fg_equal(text, key_length, "frames")) {
      if (value_length == 1 && value[0] >= '1' && value[0] <= '8') out->frames = value[0] - '0';
      else return fg_bad_option(message, size, "frames must be 1 to 8, got", value, value_length);
    } else if (fg_equal(text, key_length, "log_path")) {
      if (value_length == 0 || value_length >= sizeof out->log_path - 24)
        return fg_bad_option(message, size, "log_path is empty or too long:", value, value_length);
      memcpy(out->log_path, value, value_length);
      out->log_path[value_length] = 0;
    } else if (fg_equal(text, key_length, "log_socket")) {
      if (value_length == 0 || value_length >= sizeof out->log_socket)
        return fg_bad_option(message, size, "log_socket is empty or too long:", value, value_length);
      memcpy(out->log_socket, value, value_length);
      out->log_socket[value_length] = 0;
    } else if (fg_equal(text, key_length, "log_fd")) {
      long number = 0;
      size_t i = 0;
      for (; i < value_length && value[i] >= '0' && value[i] <= '9' && number < 1000000; i++)
        number = number * 10 + (value[i] - '0');
      if (value_length == 0 || i != value_length || number >= 1000000)
        return fg_bad_option(message, size, "log_fd must be a descriptor number, got", value, value_length);
      out->log_fd = (int)number;
    } else {
      return fg_bad_option(message, size, "unknown key", text, key_length);
    }
    if (!end) break;
    text = end + 1;
  }
  return 0;
}

void fg_read_options(void) {
  fg_options.mode = FG_MODE_DEFAULT;
  fg_options.on_deadlock = FG_ABORT;
  fg_options.unsafe_calls = 0;
  fg_options.frames = 1;
  fg_options.log_path[0] = 0;
  fg_options.log_socket[0] = 0;
  fg_options.log_fd = -1;
  /* secure_getenv: a setuid program does not take instructions from its environment. */
  const char *text = secure_getenv("FORKGUARD_OPTIONS");
  if (!text) return;
  char message[600];
  if (fg_parse_options(text, &fg_options, message, sizeof message) != 0) {
    fg_error(message);
    _exit(2);
  }
}
