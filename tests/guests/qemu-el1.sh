#!/usr/bin/env bash
# Runs every test guest on plain QEMU virt at EL1, without the hypervisor
# (QEMU answers PSCI over HVC itself), on GICv3 and GICv2, -cpu max and
# cortex-a72. Each run must end by itself (PSCI SYSTEM_OFF) with exactly
# one verdict line, the expected one; the timeout is only a safety net.
# Logs go to BUILD_DIR/guests/logs/. Last line: "guests: N passed, N failed".
# Usage: tests/guests/qemu-el1.sh [BUILD_DIR]   (after make O=BUILD_DIR guests)
set -uo pipefail

out=$(realpath -m "${1:-build}")/guests
logs=$out/logs
passed=0 failed=0
mkdir -p "$logs"

# run NAME GUEST VERDICT GIC CPU SMP [BOOTARGS]: VERDICT is the line wanted
# after "GUEST: ".
run() {
	local name=$1 guest=$2 want=$3 gic=$4 cpu=$5 smp=$6 args=${7:-}
	local log="$logs/$name-gic$gic-$cpu.log" rc verdicts
	timeout 60 qemu-system-aarch64 -M "virt,gic-version=$gic" -cpu "$cpu" \
		-smp "$smp" -m 128M -nographic -nic none -no-reboot \
		-kernel "$out/$guest.bin" ${args:+-append "$args"} </dev/null >"$log" 2>&1
	rc=$?
	verdicts=$(tr -d '\r' <"$log" | grep -E "^$guest: (PASS|FAIL)")
	if [ "$rc" -eq 0 ] && [ "$verdicts" = "$guest: $want" ]; then
		passed=$((passed + 1))
		printf '  ok   %s (GICv%s, %s)\n' "$name" "$gic" "$cpu"
	else
		failed=$((failed + 1))
		printf '  FAIL %s (GICv%s, %s): exit %s, verdict "%s", see %s\n' \
			"$name" "$gic" "$cpu" "$rc" "$verdicts" "$log"
	fi
}

# No hypervisor, so no dirty-log control channel: the checker must say
# so and stop.
no_channel="FAIL: no dirty-log control channel here (a hypervisor built with"
no_channel+=" CONFIG_DIRTY_TEST_CHANNEL has one)"

for gic in 3 2; do
	for cpu in max cortex-a72; do
		run hello hello PASS "$gic" "$cpu" 2
		run smp-2 smp PASS "$gic" "$cpu" 2
		run smp-8 smp PASS "$gic" "$cpu" 8
		run timer timer PASS "$gic" "$cpu" 2
		for mode in read write exec undef smc; do
			run "attacker-$mode" attacker PASS "$gic" "$cpu" 1 \
				"attack=0x48000000 mode=$mode"
		done
		run attacker-default attacker PASS "$gic" "$cpu" 1
		# Its own RAM: the access must go through and be called out.
		run attacker-own-ram attacker "FAIL: access to 0x40100000 succeeded" \
			"$gic" "$cpu" 1 "attack=0x40100000"
		run mempattern mempattern PASS "$gic" "$cpu" 1 "seed=42 rounds=3"
		run dirtywork dirtywork "PASS 200000 writes" "$gic" "$cpu" 2 \
			"mb=16 writes=100000"
		run dirtywork-seq dirtywork "PASS 200000 writes" "$gic" "$cpu" 2 \
			"mb=16 writes=100000 pattern=seq"
		run dirtycheck dirtycheck "$no_channel" "$gic" "$cpu" 1 "target=0"
	done
done
echo "guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
