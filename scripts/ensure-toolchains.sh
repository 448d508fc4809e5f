#!/bin/sh
# Makes sure the compilers for C and JavaScript plugins are installed (the
# tests build one guest of each: test/plugins/guest-c.test.ts, guest-js.test.ts):
#   clang, lld (wasm-ld)        Debian packages clang, lld
#   wasi-libc                   Debian package wasi-libc (JavaScript guests: QuickJS needs a libc)
#   compiler-rt for wasm32      Debian package libclang-rt-dev-wasm32
#   QuickJS sources, wizer      npm packages qjsc and @bytecodealliance/wizer (package.json)
# Idempotent: installs only what is missing, with apt-get (as root, or through
# sudo when that works without a password). Prints what it did; exits non-zero
# when something is still missing.
set -eu

need=""
command -v clang >/dev/null 2>&1 || need="$need clang"
command -v wasm-ld >/dev/null 2>&1 || need="$need lld"
[ -f /usr/lib/wasm32-wasi/libc.a ] || need="$need wasi-libc"
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need="$need libclang-rt-dev-wasm32"

if [ -z "$need" ]; then
  echo "ensure-toolchains: clang $(clang --version | head -n 1 | sed 's/.*version //'), wasm-ld, wasi-libc and compiler-rt (wasm32) are present; nothing to install"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-toolchains: missing:$need, and apt-get is not available: install them with your package manager" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO="sudo -n"
    else
      echo "ensure-toolchains: missing:$need; run this script as root (or with passwordless sudo) to install them" >&2
      exit 1
    fi
  fi
  echo "ensure-toolchains: missing:$need; running apt-get update"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  echo "ensure-toolchains: installing$need with apt-get"
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi

cd "$(dirname "$0")/.."
for pkg in qjsc/package.json @bytecodealliance/wizer-linux-x64/package.json; do
  if ! node -e "require.resolve('$pkg')" >/dev/null 2>&1; then
    echo "ensure-toolchains: the npm package ${pkg%/package.json} is missing: run npm install (it is a dependency in package.json)" >&2
    exit 1
  fi
done

command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 && [ -f /usr/lib/wasm32-wasi/libc.a ] || {
  echo "ensure-toolchains: apt-get finished but a tool is still missing" >&2
  exit 1
}
echo "ensure-toolchains: C and JavaScript plugin toolchains ready"
