#!/bin/sh
# mmdebstrap setup hook: pin the Xen packages to $MH_XEN_VERSION (when set), before anything is
# installed. Why: bookworm-security's Xen 4.17.7 is built without shadow paging and cannot
# live-migrate PV guests; bookworm main's 4.17.5 can (see the notes on Xen under TCG).
set -eu
rootfs="$1"
[ -n "${MH_XEN_VERSION:-}" ] || exit 0
mkdir -p "$rootfs/etc/apt/preferences.d"
cat > "$rootfs/etc/apt/preferences.d/migration-harness-xen" <<PIN
Package: xen-* libxen* xenstore-utils
Pin: version $MH_XEN_VERSION
Pin-Priority: 1001
PIN
