#!/usr/bin/env bash
# Installs what building and testing the hypervisor needs on a Debian
# bookworm machine, and fetches the board files the tests read (the Pi 4
# DTB, and the Linux guests' kernel, modules and busybox, from Debian's
# arm64 packages). Idempotent: a second run that finds everything in
# place does nothing and prints nothing.
#
# Usage: scripts/setup.sh            (called by `make test` / `make demo`)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/build/third_party"
pi_dtb="$cache/bcm2711-rpi-4-b.dtb"

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null; then echo sudo; else
			echo "setup: need root (or sudo) to install packages" >&2
			exit 1
		fi
	fi
}

# Packages: command to probe -> Debian package.
apt_pkgs=()
probe() { command -v "$1" >/dev/null 2>&1 || apt_pkgs+=("$2"); }
probe aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
probe kconfig-conf kconfig-frontends
probe dtc device-tree-compiler
probe clang clang
probe cpio cpio
[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || apt_pkgs+=(libc6-dev-arm64-cross)   # static tools/hvdirty
probe cppcheck cppcheck
probe clang-tidy clang-tidy
[ -f /usr/lib/u-boot/qemu_arm64/u-boot.bin ] || apt_pkgs+=(u-boot-qemu)
[ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a ] ||
	[ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
	apt_pkgs+=(libclang-rt-14-dev)

# QEMU 10 (for -M raspi4b) comes from bookworm-backports.
qemu_ok() {
	command -v qemu-system-aarch64 >/dev/null 2>&1 &&
		qemu-system-aarch64 -M help 2>/dev/null | grep -q '^raspi4b'
}

sudo_cmd=$(need_root)
updated=0
apt_update() {
	[ "$updated" = 1 ] && return
	$sudo_cmd apt-get update -qq
	updated=1
}

if ! qemu_ok; then
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "setup: enabling bookworm-backports for QEMU 10"
		echo 'deb http://deb.debian.org/debian bookworm-backports main' |
			$sudo_cmd tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
	fi
	apt_update
	echo "setup: installing QEMU from bookworm-backports"
	$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-t bookworm-backports qemu-system-arm >/dev/null
	qemu_ok || { echo "setup: installed QEMU lacks -M raspi4b (need QEMU >= 9)" >&2; exit 1; }
fi

if [ ${#apt_pkgs[@]} -gt 0 ]; then
	apt_update
	echo "setup: installing ${apt_pkgs[*]}"
	$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi

# Name of the versioned kernel package behind Debian's linux-image-arm64.
arm64_kernel_pkg() {
	apt-cache -o APT::Architectures=amd64,arm64 depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*-arm64\).*/\1/p' | head -n 1 || true
}

# fetch_arm64 PKG DIR: downloads Debian's arm64 PKG with apt's arm64
# options (no foreign architecture needs to be enabled) and unpacks it
# into DIR.
fetch_arm64() {
	local pkg=$1 dir=$2 dl
	dl=$(mktemp -d -p "$tmp")
	chown _apt "$dl" 2>/dev/null || true    # apt downloads as user _apt
	(cd "$dl" && apt-get -o APT::Architectures=amd64,arm64 download "$pkg:arm64" >/dev/null)
	dpkg-deb -x "$dl"/*.deb "$dir"
}

# The files taken from Debian's arm64 packages: the Pi 4 DTB, and for
# the Linux guests (docs/linux.md) the kernel Image, the four modules of
# virtio-vsock (loaded in this order) and a static busybox.
linux="$cache/linux"
vsock_modules="virtio_mmio vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport"
have_debian_files() {
	[ -f "$pi_dtb" ] && [ -f "$linux/Image" ] && [ -x "$linux/busybox" ] || return 1
	for m in $vsock_modules; do [ -f "$linux/modules/$m.ko" ] || return 1; done
}

if ! have_debian_files; then
	apt_update
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"    # for fetch_arm64's download directories
	ver=$(arm64_kernel_pkg)
	if [ -z "$ver" ]; then
		# The arm64 package lists are not there yet: fetch them once.
		$sudo_cmd apt-get -o APT::Architectures=amd64,arm64 update -qq
		ver=$(arm64_kernel_pkg)
	fi
	[ -n "$ver" ] || { echo "setup: cannot find Debian's arm64 kernel package" >&2; exit 1; }
	echo "setup: fetching $ver and busybox-static (arm64) for the Pi 4 DTB and the Linux guests"
	fetch_arm64 "$ver" "$tmp/k"
	fetch_arm64 busybox-static "$tmp/b"
	mkdir -p "$linux/modules"
	src=$(find "$tmp/k" -name bcm2711-rpi-4-b.dtb | head -n 1)
	[ -n "$src" ] || { echo "setup: $ver has no bcm2711-rpi-4-b.dtb" >&2; exit 1; }
	cp "$src" "$pi_dtb"
	# Debian's arm64 vmlinuz is a plain (uncompressed) arm64 Image.
	cp "$tmp/k"/boot/vmlinuz-* "$linux/Image"
	for m in $vsock_modules; do
		src=$(find "$tmp/k/lib/modules" -name "$m.ko" | head -n 1)
		[ -n "$src" ] || { echo "setup: $ver has no module $m.ko" >&2; exit 1; }
		cp "$src" "$linux/modules/"
	done
	cp "$tmp/b/bin/busybox" "$linux/busybox"
	echo "$ver" >"$linux/kernel-package"
fi
