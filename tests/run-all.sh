#!/usr/bin/env bash
# `make test`: host unit tests (ASan + UBSan), the two board images, and
# every QEMU scenario in tests/qemu/*.scenarios. Each result counts once;
# the last line is "total: N passed, N failed", and the exit status is 0
# only if nothing failed.
#
# Usage: tests/run-all.sh [BUILD_DIR]     (BUILD_DIR defaults to build)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-build}")
logs="$out/test-logs"
scenario_timeout=${SCENARIO_TIMEOUT:-120}
passed=0 failed=0
mkdir -p "$logs"
cd "$top"

pass() { passed=$((passed + 1)); printf '  ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  FAIL %s: %s\n' "$1" "$2"; }

# ---- host unit tests: add up each binary's "name: N passed, M failed"
echo "== host unit tests (ASan, UBSan)"
export HV_DTB_DIR="$out/dtbs"
if ! scripts/dump-dtbs.sh "$HV_DTB_DIR" >"$logs/dtbs.log" 2>&1; then
	fail dump-dtbs "see $logs/dtbs.log"
fi
if make --no-print-directory O="$out" host-tests-build >"$logs/host-build.log" 2>&1; then
	for bin in "$out"/host/test_*; do
		name=$(basename "$bin")
		"$bin" >"$logs/$name.log" 2>&1
		rc=$?
		tally=$(grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' "$logs/$name.log" | tail -n 1)
		p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$tally")
		f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$tally")
		if [ -z "$tally" ]; then
			fail "$name" "crashed before its tally (exit $rc), see $logs/$name.log"
			continue
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			fail "$name" "exit $rc after its tally, see $logs/$name.log"
		fi
		grep '  FAIL' "$logs/$name.log" | sed 's/^/    /'
		printf '  %-4s %s: %s passed, %s failed\n' "$([ "$f" = 0 ] && echo ok || echo FAIL)" "$name" "$p" "$f"
	done
else
	fail host-build "see $logs/host-build.log"
	tail -n 20 "$logs/host-build.log"
fi

# ---- libFuzzer targets (tests/fuzz/): regression inputs, then a short
# run of each; `make fuzz` runs them longer.
echo "== fuzzing (${FUZZ_TEST_SECONDS:=20}s per target)"
if make --no-print-directory O="$out" fuzz-build >"$logs/fuzz-build.log" 2>&1; then
	targets=$(make --no-print-directory -s O="$out" print-fuzz-targets 2>/dev/null)
	while read -r line; do
		case "$line" in
		*": ok "*) pass "$line" ;;
		*) fail "${line%%:*}" "${line#*: }" ;;
		esac
	done < <(scripts/fuzz.sh "$out" "$FUZZ_TEST_SECONDS" $targets)
else
	fail fuzz-build "see $logs/fuzz-build.log"
	tail -n 20 "$logs/fuzz-build.log"
fi

# ---- the images
echo "== images"
declare -A image
# tweak_config CONFIG [SYMBOL | FRAGMENT.config]...: turns each SYMBOL
# off, and sets every CONFIG_X=value line of each FRAGMENT.
tweak_config() {
	local config=$1 a sym val
	shift
	for a in "$@"; do
		if [ "${a%.config}" = "$a" ]; then
			kconfig-tweak --file "$config" --disable "$a" || return 1
			continue
		fi
		[ -r "$a" ] || { echo "no config fragment $a" >&2; return 1; }
		while IFS='=' read -r sym val; do
			kconfig-tweak --file "$config" --set-val "${sym#CONFIG_}" "$val" ||
				return 1
		done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$a")
	done
}

# build_image KEY DEFCONFIG [SYMBOL | FRAGMENT.config]...: the defconfig
# with each SYMBOL turned off, so that "off" builds are checked as well
# as the defaults, and each fragment merged in (test-only options).
build_image() {
	local key=$1 cfg=$2 dir="$out/test-$1" log="$logs/build-$1.log"
	shift 2
	{
		make --no-print-directory O="$dir" "${cfg}_defconfig" &&
			tweak_config "$dir/.config" "$@" &&
			make --no-print-directory O="$dir" olddefconfig &&
			make --no-print-directory O="$dir"
	} >"$log" 2>&1
	if [ $? -eq 0 ]; then
		image[$key]="$dir/hypervisor.bin"
		pass "build $key ($(stat -c %s "$dir/hypervisor.bin") bytes)"
	else
		fail "build $key" "see $log"
		tail -n 20 "$log"
	fi
}
build_image virt qemu_virt
build_image rpi4 rpi4
build_image virt-noselftest qemu_virt SELFTEST
# The dirty-logging tests' images: the test-only control channel on, in
# build directories of their own; every other image keeps it off.
build_image virt-dirty qemu_virt tests/scenarios/dirty-test.config
build_image rpi4-dirty rpi4 tests/scenarios/dirty-test.config

# build_vms_image KEY BASE SCENARIO: the BASE image's configuration and
# objects relinked with the VMs of SCENARIO; only the scenario and the
# guests it names are built again.
build_vms_image() {
	local key=$1 base=$2 file=$3 dir="$out/test-$2" log="$logs/build-$1.log"
	if [ -z "${image[$base]:-}" ]; then
		fail "build $key" "image $base was not built"
		return
	fi
	if make --no-print-directory O="$dir" SCENARIO="$file" >"$log" 2>&1 &&
		cp "$dir/hypervisor.bin" "$dir/hypervisor-$key.bin"; then
		image[$key]="$dir/hypervisor-$key.bin"
		pass "build $key ($(stat -c %s "$dir/hypervisor-$key.bin") bytes)"
	else
		fail "build $key" "see $log"
		tail -n 20 "$log"
	fi
}
build_vms_image virt-guests virt tests/scenarios/guests-virt.scenario
build_vms_image virt-isolation virt tests/scenarios/isolation.scenario
build_vms_image virt-reset virt tests/scenarios/reset.scenario
build_vms_image rpi4-guests rpi4 tests/scenarios/guests-rpi4.scenario
build_vms_image rpi4-isolation rpi4 tests/scenarios/isolation-rpi4.scenario
build_vms_image dirty-virt virt-dirty tests/scenarios/dirty-virt.scenario
build_vms_image dirty-rpi4 rpi4-dirty tests/scenarios/dirty-rpi4.scenario
build_vms_image dirty-crash virt-dirty tests/scenarios/dirty-crash.scenario
build_vms_image vsock-virt virt tests/scenarios/vsock-virt.scenario
build_vms_image vsock-rpi4 rpi4 tests/scenarios/vsock-rpi4.scenario
build_vms_image demo-virt virt configs/demo.scenario
build_vms_image linux-virt virt tests/scenarios/linux-virt.scenario
build_vms_image linux-rpi4 rpi4 tests/scenarios/linux-rpi4.scenario
# Last: the plain images' directories are left as they were built.
make --no-print-directory O="$out/test-virt" SCENARIO= >/dev/null 2>&1
make --no-print-directory O="$out/test-rpi4" SCENARIO= >/dev/null 2>&1

# ---- static analysis (needs a configured tree: the virt one)
echo "== static analysis"
if [ -n "${image[virt]:-}" ] && scripts/lint.sh "$out/test-virt" >"$logs/lint.log" 2>&1; then
	pass "lint (cppcheck, clang-tidy)"
else
	fail lint "see $logs/lint.log"
	grep -E '^lint|error:' "$logs/lint.log" | head -n 20 | sed 's/^/    /'
fi
# The LDAR/STLR/DMB of the dirty ring and the virtqueue walker, in the virt build's objects.
if [ -n "${image[virt]:-}" ] && scripts/check-barriers.sh "$out/test-virt" >"$logs/barriers.log" 2>&1; then
	pass "barriers (dirty ring and virtqueue LDAR/STLR/DMB)"
else
	fail barriers "see $logs/barriers.log"
	grep -E 'has no|missing' "$logs/barriers.log" | head -n 20 | sed 's/^/    /'
fi

# ---- QEMU scenarios
# same_capture LOG KEY REGEX: REGEX's first group in the first line of
# LOG it matches must equal what the other REGEXes of KEY captured
# (kept in the caller's `captured`). If not, says why in `why`.
same_capture() {
	local log=$1 key=$2 re=$3 line
	line=$(grep -m 1 -E -- "$re" "$log")
	if ! [[ $line =~ $re ]] || [ -z "${BASH_REMATCH[1]:-}" ]; then
		why="output lacks /$re/"
		return 1
	fi
	if [ -n "${captured[$key]:-}" ] && [ "${captured[$key]}" != "${BASH_REMATCH[1]}" ]; then
		why="$key differs: ${captured[$key]} vs ${BASH_REMATCH[1]} (/$re/)"
		return 1
	fi
	captured[$key]=${BASH_REMATCH[1]}
}

# scenario NAME EXIT REGEX... -- QEMU.SH-ARGS
# A REGEX must be in the output; !REGEX must not be; =KEY=REGEX must be,
# and its first group must capture the same text as every other
# =KEY=REGEX of the scenario (two parties reporting one value).
scenario() {
	local name=$1 want=$2 res=() args=() a rc why log="$logs/qemu-$1.log"
	local -A captured=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do res+=("$1"); shift; done
	shift
	for a in "$@"; do
		case "$a" in
		@dtbs/*) args+=("$HV_DTB_DIR/${a#@dtbs/}") ;;
		@*)
			if [ -z "${image[${a#@}]:-}" ]; then
				fail "$name" "image ${a#@} was not built"
				return
			fi
			args+=("${image[${a#@}]}")
			;;
		*) args+=("$a") ;;
		esac
	done
	timeout "$scenario_timeout" scripts/qemu.sh --test "${args[@]}" </dev/null >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 124 ]; then
		fail "$name" "no verdict within ${scenario_timeout}s, see $log"
		return
	fi
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, expected $want, see $log"
		return
	fi
	for a in "${res[@]}"; do
		if [ "${a#=}" != "$a" ]; then
			a=${a#=}
			if ! same_capture "$log" "${a%%=*}" "${a#*=}"; then
				fail "$name" "$why, see $log"
				return
			fi
		elif [ "${a#!}" != "$a" ]; then
			if grep -qE -- "${a#!}" "$log"; then
				fail "$name" "output has /${a#!}/, see $log"
				return
			fi
		elif ! grep -qE -- "$a" "$log"; then
			fail "$name" "output lacks /$a/, see $log"
			return
		fi
	done
	pass "$name"
}

for f in tests/qemu/*.scenarios; do
	echo "== QEMU scenarios: $f"
	# shellcheck source=/dev/null
	. "$f"
done

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
