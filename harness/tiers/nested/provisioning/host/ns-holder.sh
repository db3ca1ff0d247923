#!/bin/sh
# Holds a run's private mount namespace (inside its network namespace) for libvirtd and the VMs.
# usage: ns-holder.sh STATE_DIR READY_FILE
# Binds private copies of libvirt's state, configuration, cache and log directories, so a
# libvirtd started in here shares nothing with the host's, brings lo up, then sleeps until killed.
set -eu
state="$1" ready="$2"
mkdir -p "$state/run" "$state/lib/images" "$state/cache" "$state/log/qemu" "$state/etc"
mount -t tmpfs -o mode=0755 tmpfs /run/libvirt 2>/dev/null || {
    mkdir -p /run/libvirt && mount -t tmpfs -o mode=0755 tmpfs /run/libvirt
}
mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
mount --bind "$state/lib" /var/lib/libvirt
mount --bind "$state/cache" /var/cache/libvirt
mount --bind "$state/log" /var/log/libvirt
mount --bind "$state/etc" /etc/libvirt
ip link set lo up
: > "$ready"
exec sleep infinity
