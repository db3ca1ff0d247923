#!/bin/sh
# mmdebstrap customize hook: GRUB boots Xen by default with dom0 memory and a serial console.
# /etc/default/grub makes `update-grub` inside a VM produce the same; build.sh writes the first
# grub.cfg by hand because grub-mkconfig makes no entries for a loop-device root.
set -eu
rootfs="$1"
cat > "$rootfs/etc/default/grub.d/zz-migration-harness.cfg" <<GRUB
GRUB_DEFAULT="Debian GNU/Linux, with Xen hypervisor"
GRUB_TIMEOUT=1
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_PRELOAD_MODULES="part_msdos ext2 gzio"
GRUB_CMDLINE_LINUX_DEFAULT="net.ifnames=0 console=ttyS0"
GRUB_CMDLINE_XEN_DEFAULT="$MH_XEN_CMDLINE"
GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT="$MH_DOM0_CMDLINE"
GRUB_DISABLE_OS_PROBER=true
GRUB
