#!/bin/bash
# Build the nested tier's Vagrant libvirt box offline, from the Debian archive only.
#
# usage: build.sh OUTDIR RELEASE XEN_VERSION MIRROR SECURITY_MIRROR VAGRANT_PUBKEY
#   XEN_VERSION may be empty: the archive's candidate then.
# Writes OUTDIR/package.box (metadata.json, Vagrantfile, box.img) and OUTDIR/packages.txt
# (the installed package versions). Progress lines start with "### phase: ".
# Everything it creates (mounts, loop devices, work files) is removed on exit, also on failure;
# loop devices are detached by name, never with `losetup -D`.
set -euo pipefail

outdir="$1" release="$2" xen_version="$3" mirror="$4" security="$5" pubkey="$6"
here="$(dirname "$(readlink -f "$0")")"
disk_gib=8
work="$outdir/work"
mnt="$work/mnt"
disk_loop="" part_loop=""

phase() { echo "### phase: $*"; }

cleanup() {
    set +e
    mountpoint -q "$mnt" && umount "$mnt"
    [ -n "$part_loop" ] && losetup -d "$part_loop"
    [ -n "$disk_loop" ] && losetup -d "$disk_loop"
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work" "$mnt"
packages="$(grep -v '^\s*#' "$here/packages-$release.txt" | grep -v '^\s*$' | paste -sd, -)"

# Xen: multiboot2 image plus dom0 kernel; dom0 gets a fixed memory size and the serial console.
export MH_XEN_VERSION="$xen_version"
# bootscrub=0: scrubbing all guest RAM costs CPU time and host memory under software emulation.
export MH_XEN_CMDLINE="console=com1 com1=115200,8n1 dom0_mem=768M,max:768M dom0_max_vcpus=1 bootscrub=0"
export MH_DOM0_CMDLINE="console=hvc0 earlyprintk=xen net.ifnames=0"
export MH_VAGRANT_PUBKEY="$pubkey"
export MH_BOX_DIR="$here"

phase "mmdebstrap $release (xen ${xen_version:-candidate})"
mmdebstrap --variant=minbase --include="$packages" \
    --aptopt='Acquire::Retries "3"' \
    --hook-dir="$here/hooks" \
    "$release" "$work/rootfs" \
    "deb $mirror $release main" \
    "deb $mirror $release-updates main" \
    "deb $security $release-security main"

chroot "$work/rootfs" dpkg-query -W -f '${Package} ${Version}\n' > "$outdir/packages.txt"
kernel="$(cd "$work/rootfs/boot" && ls vmlinuz-* | sort -V | tail -n 1)"
initrd="initrd.img-${kernel#vmlinuz-}"
xen="$(cd "$work/rootfs/boot" && ls xen-*.gz | sort -V | tail -n 1)"

phase "disk image (${disk_gib} GiB, ext4 from the root file system)"
truncate -s "${disk_gib}G" "$work/disk.raw"
echo 'start=2048, type=83, bootable' | sfdisk --quiet "$work/disk.raw"
part_bytes=$(( disk_gib * 1024 * 1024 * 1024 - 1048576 ))
# This kernel's `losetup -P` makes no partition devices: a second loop device at the offset.
disk_loop="$(losetup --find --show "$work/disk.raw")"
part_loop="$(losetup --find --show --offset 1048576 --sizelimit "$part_bytes" "$work/disk.raw")"
mkfs.ext4 -q -L root -d "$work/rootfs" "$part_loop"
mount "$part_loop" "$mnt"

phase "grub ($xen, $kernel)"
mkdir -p "$mnt/boot/grub"
printf '(hd0) %s\n' "$disk_loop" > "$mnt/boot/grub/device.map"
grub-install --target=i386-pc --boot-directory="$mnt/boot" \
    --modules="part_msdos ext2 biosdisk search_label gzio multiboot2" "$disk_loop"
rm "$mnt/boot/grub/device.map"
cat > "$mnt/boot/grub/grub.cfg" <<GRUB
# Written by migration-harness provisioning/box/build.sh; \`update-grub\` in the VM makes the same.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set default=0
set timeout=1
insmod part_msdos
insmod ext2
insmod gzio
search --no-floppy --label root --set=root
menuentry "Debian GNU/Linux, with Xen hypervisor" {
    insmod multiboot2
    multiboot2 /boot/$xen placeholder $MH_XEN_CMDLINE
    module2 /boot/$kernel placeholder root=LABEL=root ro $MH_DOM0_CMDLINE
    module2 --nounzip /boot/$initrd
}
menuentry "Debian GNU/Linux (no Xen)" {
    linux /boot/$kernel root=LABEL=root ro net.ifnames=0 console=ttyS0
    initrd /boot/$initrd
}
GRUB
umount "$mnt"
losetup -d "$part_loop"; part_loop=""
losetup -d "$disk_loop"; disk_loop=""

phase "qcow2 (compressed)"
qemu-img convert -c -O qcow2 "$work/disk.raw" "$work/box.img"
rm "$work/disk.raw"

phase "box archive"
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' "$disk_gib" > "$work/metadata.json"
cat > "$work/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"
  end
end
VF
tar -C "$work" -cf "$outdir/package.box" metadata.json Vagrantfile box.img
phase "done"
