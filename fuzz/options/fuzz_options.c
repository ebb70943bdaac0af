/* libFuzzer harness: FORKGUARD_OPTIONS, as the preload library parses it at load time.
 * Built by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined against
 * Sources/ForkGuardPreload/fg_options.c alone. */
#include "fg_internal.h"

#include <stdlib.h>
#include <string.h>

struct fg_options fg_options;
void fg_error(const char *text) { (void)text; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[8192];
  if (size >= sizeof text) size = sizeof text - 1;
  memcpy(text, data, size);
  text[size] = 0;
  struct fg_options out = {.frames = 1};
  char message[600];
  memset(message, 'x', sizeof message);
  if (fg_parse_options(text, &out, message, sizeof message) != 0) {
    /* A refusal is one NUL-terminated message that says what was bad. */
    if (!memchr(message, 0, sizeof message) || strncmp(message, "bad FORKGUARD_OPTIONS: ", 23) != 0) abort();
  }
  /* Whatever was accepted is in range. */
  if (out.mode != FG_MODE_DEFAULT && out.mode != FG_MODE_TRACK) abort();
  if (out.on_deadlock < FG_ABORT || out.on_deadlock > FG_CONTINUE) abort();
  if (out.frames < 1 || out.frames > FG_MAX_FRAMES) abort();
  if (!memchr(out.log_path, 0, sizeof out.log_path)) abort();
  return 0;
}
