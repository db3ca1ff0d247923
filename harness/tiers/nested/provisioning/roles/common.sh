# Sourced by the role scripts: the run's settings and small helpers.
# The harness uploads settings.env and the per-run secrets into $MH_STAGE before running a role.
set -euo pipefail
MH_STAGE="${MH_STAGE:-/tmp/mh-provision}"
: "${MH_SELF:?MH_SELF, the name of this machine, is set by the harness}"
# shellcheck source=/dev/null
. "$MH_STAGE/settings.env"

log() { echo "### $MH_SELF: $*"; }

# Write $2 to file $1 only when it differs; returns 0 when the file changed.
put() {
    local path="$1" content="$2"
    if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
        return 1
    fi
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" > "$path"
    return 0
}

# This machine's name and cluster address. Vagrant's own hostname and network steps cost minutes
# of SSH round trips under software emulation, so the Vagrantfile leaves both to this function.
identity() {
    local ip="" entry
    for entry in $MH_MACHINES; do
        [ "${entry%%:*}" = "$MH_SELF" ] && ip="${entry#*:}"
    done
    [ -n "$ip" ] || { echo "no cluster address for '$MH_SELF' in MH_MACHINES" >&2; exit 1; }
    [ "$(hostname)" = "$MH_SELF" ] || hostname "$MH_SELF"
    put /etc/hostname "$MH_SELF" || true
    if put /etc/network/interfaces.d/mh-cluster "auto eth1
iface eth1 inet static
    address $ip/24"; then
        ifdown eth1 >/dev/null 2>&1 || true
        ifup eth1
    fi
}

# /etc/hosts: every machine of the run by its cluster address.
hosts_file() {
    local lines="127.0.0.1 localhost" entry
    for entry in $MH_MACHINES; do
        lines+=$'\n'"${entry#*:} ${entry%%:*}"
    done
    put /etc/hosts "$lines" || true
}

# Run a command until it succeeds, at most $1 times, 3 s apart (daemons still settling).
retry() {
    local tries="$1" i
    shift
    for i in $(seq "$tries"); do
        "$@" && return 0
        [ "$i" -lt "$tries" ] && sleep 3
    done
    echo "failed $tries times: $*" >&2
    return 1
}

# The iSCSI LUN paths as the initiator sees them (LUN 0: shared VG, LUN 1: SBD).
lun_path() {
    echo "/dev/disk/by-path/ip-$MH_SAN_IP:3260-iscsi-$MH_TARGET_IQN-lun-$1"
}
