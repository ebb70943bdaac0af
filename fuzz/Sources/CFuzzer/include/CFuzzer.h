/* libFuzzer's driver entry point (LLVM >= 13), so a SwiftPM executable's own main can start
 * it: SwiftPM links executables with their main renamed, which rules out libFuzzer's main. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
