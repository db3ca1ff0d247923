#!/bin/sh
# mmdebstrap customize hook for Debian 13 (trixie) boxes only: box.py copies (and hashes) a file whose
# name ends in -<release> for that release's build alone, so bookworm's box is untouched by it.
set -eu
rootfs="$1"

# openssh 10 generates every missing host key type on a first boot (sshd-keygen.service runs
# `ssh-keygen -A`; /etc/machine-id is empty in the box, so every VM's first boot is one): RSA takes
# minutes under software emulation. ssh-hostkeys.service (customize10) makes the ed25519 key sshd uses.
chroot "$rootfs" systemctl mask sshd-keygen.service
