#!/usr/bin/env bash
# Static analysis of every C file: cppcheck and clang-tidy, both expected
# to be silent. Hypervisor files are analysed as the aarch64 build sees
# them (configuration from BUILD_DIR's autoconf.h); tests as host code.
# Usage: scripts/lint.sh BUILD_DIR      (a configured build directory)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
obj=$(realpath "$1")
autoconf="$obj/include/generated/autoconf.h"
[ -f "$autoconf" ] || { echo "lint: $autoconf missing: configure and build $1 first" >&2; exit 2; }
cd "$top"

target_srcs=$(git ls-files 'arch/*.c' 'boot/*.c' 'drivers/*.c' 'lib/*.c' 'mm/*.c' 'virt/*.c')
host_srcs=$(git ls-files 'tests/host/*.c' 'tools/*.c')
rc=0

defs=$(sed -n 's/^#define \(CONFIG_[A-Z0-9_]*\) \(.*\)/-D\1=\2/p' "$autoconf" | tr '\n' ' ')
# shellcheck disable=SC2086
cppcheck --enable=warning,style,performance,portability --error-exitcode=1 \
	--quiet --inline-suppr --suppress=missingIncludeSystem -I . $defs \
	$target_srcs || rc=1
# shellcheck disable=SC2086
cppcheck --enable=warning,performance,portability --error-exitcode=1 \
	--quiet --inline-suppr --suppress=missingIncludeSystem -I . -DHOST_TEST \
	$host_srcs || rc=1

target_flags=(--target=aarch64-linux-gnu -std=gnu11 -ffreestanding -fno-builtin
	-mgeneral-regs-only -I . -I "$obj/include" -include "$autoconf")
for f in $target_srcs; do
	clang-tidy --quiet "$f" -- "${target_flags[@]}" 2>/dev/null || { echo "lint: clang-tidy: $f"; rc=1; }
done
for f in $host_srcs; do
	clang-tidy --quiet "$f" -- -std=gnu11 -I . -DHOST_TEST 2>/dev/null || { echo "lint: clang-tidy: $f"; rc=1; }
done
[ "$rc" = 0 ] && echo "lint: cppcheck and clang-tidy are quiet"
exit "$rc"
