#!/usr/bin/env bash
# Packs the Linux test guests' initramfs: Debian's static busybox, the
# virtio-vsock modules from Debian's kernel package (both fetched by
# scripts/setup.sh), an /init script and our static programs, as a
# gzipped newc cpio archive. Files are owned by root and dated 0, and
# listed in order, so the same inputs give the same archive.
#
# Usage: scripts/mkinitramfs.sh OUT INIT DEBIAN_DIR PROGRAM...
#   OUT         the archive to write (.cpio.gz)
#   INIT        the script that becomes /init
#   DEBIAN_DIR  build/third_party/linux: busybox and modules/*.ko
#   PROGRAM     each goes to /bin under its own name
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
out=$1 init=$2 debian=$3
shift 3
for f in "$init" "$debian/busybox" "$@"; do
	[ -f "$f" ] || { echo "mkinitramfs: $f is missing (run make setup)" >&2; exit 1; }
done
ls "$debian"/modules/*.ko >/dev/null 2>&1 ||
	{ echo "mkinitramfs: no modules in $debian/modules (run make setup)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
install -m 755 "$init" "$root/init"
install -m 755 "$debian/busybox" "$root/bin/busybox"
install -m 644 "$debian"/modules/*.ko "$root/lib/modules/"
for p in "$@"; do
	install -m 755 "$p" "$root/bin/$(basename "$p")"
done
find "$root" -exec touch -h -d @0 {} +
tmp="$out.tmp"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 -n >"$tmp"
mv "$tmp" "$out"
