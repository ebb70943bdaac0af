// libclang's stable C API. Include path and library come from forkguard-libclang.pc,
// written by scripts/setup.sh from llvm-config.
#include <clang-c/Index.h>
#include <clang-c/CXCompilationDatabase.h>
