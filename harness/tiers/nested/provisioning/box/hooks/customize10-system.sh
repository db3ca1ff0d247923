#!/bin/sh
# mmdebstrap customize hook: make the root file system a Vagrant box that boots Xen as dom0.
set -eu
rootfs="$1"

echo box > "$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 box\n' > "$rootfs/etc/hosts"
printf 'LABEL=root / ext4 errors=remount-ro 0 1\n' > "$rootfs/etc/fstab"

# Networking: eth0 (the Vagrant management network) by DHCP; Vagrant adds the private networks.
cat > "$rootfs/etc/network/interfaces" <<'NET'
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
allow-hotplug eth0
iface eth0 inet dhcp
NET

# The vagrant user: Vagrant's well-known insecure key, replaced by a generated one on first `up`.
chroot "$rootfs" useradd --create-home --shell /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > "$rootfs/etc/sudoers.d/vagrant"
chmod 0440 "$rootfs/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$MH_VAGRANT_PUBKEY" "$rootfs/home/vagrant/.ssh/authorized_keys"
# Host keys are generated per VM on first boot, not baked into the box; ed25519 only, because
# RSA key generation takes minutes under software emulation.
printf 'UseDNS no\nHostKey /etc/ssh/ssh_host_ed25519_key\n' > "$rootfs/etc/ssh/sshd_config.d/migration-harness.conf"
rm -f "$rootfs"/etc/ssh/ssh_host_*
cat > "$rootfs/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
[Install]
WantedBy=multi-user.target
UNIT
chroot "$rootfs" systemctl enable ssh-hostkeys.service

# No login prompts on consoles: dom0's hvc0 device never shows up for systemd under Xen (a 90 s
# wait at every boot), and all access is SSH. ha_logd (cluster-glue) is not needed either;
# e2scrub_reap runs for minutes under software emulation.
chroot "$rootfs" systemctl mask serial-getty@hvc0.service serial-getty@ttyS0.service getty@tty1.service logd.service \
    e2scrub_reap.service e2scrub_all.timer

# Xen: console logging of guests (Debian's init ignores XENCONSOLED_TRACE).
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$rootfs/etc/default/xen"
mkdir -p "$rootfs/var/log/xen/console"

# SBD needs a watchdog: softdog in dom0.
echo softdog > "$rootfs/etc/modules-load.d/softdog.conf"

# The cluster services start only once provisioning has configured them. sbd_remote (for
# pacemaker_remote nodes) comes enabled and required by dlm.service: on a full cluster node it fails
# (sbd already runs) and takes dlm down with it.
for unit in corosync pacemaker sbd sbd_remote dlm lvmlockd target rtslib-fb-targetctl; do
    if [ -e "$rootfs/lib/systemd/system/$unit.service" ]; then
        chroot "$rootfs" systemctl disable "$unit.service" >/dev/null 2>&1 || true
    fi
done

# Clean apt lists and caches: the box is used offline; provisioning never needs them.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
