#!/bin/sh
# mmdebstrap customize hook: the test domU's kernel and a busybox initramfs whose init prints a
# heartbeat (boot id, counter, uptime) on its console, for the migration evidence of part 2.
set -eu
rootfs="$1"
here="${MH_BOX_DIR:?MH_BOX_DIR is set by build.sh}"
guest="$rootfs/var/lib/migration-harness/guest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$guest" "$work/bin" "$work/proc" "$work/sys" "$work/dev" "$work/tmp"
cp "$rootfs/bin/busybox" "$work/bin/busybox"
chroot "$rootfs" /bin/busybox --list | while read -r applet; do
    [ "$applet" = busybox ] || ln -sf busybox "$work/bin/$applet"
done
install -m 0755 "$here/guest/init" "$work/init"
(cd "$work" && find . | cpio --quiet -o -H newc | gzip -9) > "$guest/initrd.gz"
kernel="$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -n 1)"
cp "$kernel" "$guest/vmlinuz"
