/* FORKGUARD_OPTIONS, sanitizer style: key=value pairs separated by ':'.
 *
 *   mode=default|track        track: record which locks each thread holds
 *   on_deadlock=abort|edeadlk|continue
 *   unsafe_calls=0|1          report non-async-signal-safe calls in the fork child
 *   frames=1..8               return addresses recorded per acquisition (track)
 *   log_path=PATH             write reports to PATH.<pid> instead of stderr
 *
 * Read once, strictly: an unknown key or a bad value stops the process with status 2. */
#include "fg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fg_equal(const char *text, size_t length, const char *word) {
  return strlen(word) == length && memcmp(text, word, length) == 0;
}

static void fg_bad_option(const char *what, const char *text, size_t length) {
  char message[600];
  size_t used = 0;
  const char *lead = "bad FORKGUARD_OPTIONS: ";
  memcpy(message, lead, strlen(lead));
  used += strlen(lead);
  memcpy(message + used, what, strlen(what));
  used += strlen(what);
  message[used++] = ' ';
  message[used++] = '\'';
  if (length > 400) length = 400;
  memcpy(message + used, text, length);
  used += length;
  message[used++] = '\'';
  message[used] = 0;
  fg_error(message);
  _exit(2);
}

void fg_read_options(void) {
  fg_options.mode = FG_MODE_DEFAULT;
  fg_options.on_deadlock = FG_ABORT;
  fg_options.unsafe_calls = 0;
  fg_options.frames = 1;
  fg_options.log_path[0] = 0;
  /* secure_getenv: a setuid program does not take instructions from its environment. */
  const char *text = secure_getenv("FORKGUARD_OPTIONS");
  if (!text) return;
  while (*text) {
    const char *end = strchr(text, ':');
    size_t length = end ? (size_t)(end - text) : strlen(text);
    const char *equals = memchr(text, '=', length);
    if (length == 0) {
      text += end ? 1 : 0;
      if (!end) break;
      continue;
    }
    if (!equals) fg_bad_option("expected key=value, got", text, length);
    size_t key_length = (size_t)(equals - text);
    const char *value = equals + 1;
    size_t value_length = length - key_length - 1;
    if (fg_equal(text, key_length, "mode")) {
      if (fg_equal(value, value_length, "default")) fg_options.mode = FG_MODE_DEFAULT;
      else if (fg_equal(value, value_length, "track")) fg_options.mode = FG_MODE_TRACK;
      else fg_bad_option("mode must be default or track, got", value, value_length);
    } else if (fg_equal(text, key_length, "on_deadlock")) {
      if (fg_equal(value, value_length, "abort")) fg_options.on_deadlock = FG_ABORT;
      else if (fg_equal(value, value_length, "edeadlk")) fg_options.on_deadlock = FG_EDEADLK;
      else if (fg_equal(value, value_length, "continue")) fg_options.on_deadlock = FG_CONTINUE;
      else fg_bad_option("on_deadlock must be abort, edeadlk or continue, got", value, value_length);
    } else if (fg_equal(text, key_length, "unsafe_calls")) {
      if (fg_equal(value, value_length, "1")) fg_options.unsafe_calls = 1;
      else if (fg_equal(value, value_length, "0")) fg_options.unsafe_calls = 0;
      else fg_bad_option("unsafe_calls must be 0 or 1, got", value, value_length);
    } else if (fg_equal(text, key_length, "frames")) {
      if (value_length == 1 && value[0] >= '1' && value[0] <= '8') fg_options.frames = value[0] - '0';
      else fg_bad_option("frames must be 1 to 8, got", value, value_length);
    } else if (fg_equal(text, key_length, "log_path")) {
      if (value_length == 0 || value_length >= sizeof fg_options.log_path - 24)
        fg_bad_option("log_path is empty or too long:", value, value_length);
      memcpy(fg_options.log_path, value, value_length);
      fg_options.log_path[value_length] = 0;
    } else {
      fg_bad_option("unknown key", text, key_length);
    }
    if (!end) break;
    text = end + 1;
  }
}
