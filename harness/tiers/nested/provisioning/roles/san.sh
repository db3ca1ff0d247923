#!/bin/bash
# The san role: export a data LUN (the shared VG) and a small SBD LUN with LIO, CHAP per node.
# Idempotent: one `targetcli ls` reads what exists, then only the missing objects are created
# (each targetcli call costs seconds of Python start-up under software emulation).
. "$(dirname "$0")/common.sh"
identity
hosts_file
store=/var/lib/migration-harness/san
mkdir -p "$store"
tpg="/iscsi/$MH_TARGET_IQN/tpg1"

log "LIO target $MH_TARGET_IQN"
systemctl is-enabled -q rtslib-fb-targetctl.service || systemctl enable rtslib-fb-targetctl.service 2>/dev/null
tree="$(targetcli ls / 2>/dev/null || true)"
has() { grep -qF -- "o- $1 " <<<"$tree"; }

has data || targetcli /backstores/fileio create name=data \
    file_or_dev="$store/data.img" size="$MH_DATA_SIZE" sparse=true write_back=false
has sbd || targetcli /backstores/fileio create name=sbd \
    file_or_dev="$store/sbd.img" size="$MH_SBD_SIZE" sparse=false write_back=false
has "$MH_TARGET_IQN" || targetcli /iscsi create "$MH_TARGET_IQN"
has lun0 || targetcli "$tpg/luns" create /backstores/fileio/data lun=0
has lun1 || targetcli "$tpg/luns" create /backstores/fileio/sbd lun=1
targetcli "$tpg" set attribute authentication=1 generate_node_acls=0 >/dev/null
for entry in $MH_NODES; do
    iqn="$MH_IQN_PREFIX.${entry%%:*}"
    has "$iqn" || targetcli "$tpg/acls" create "$iqn"
    targetcli "$tpg/acls/$iqn" set auth userid="$MH_CHAP_USER" password="$MH_CHAP_PASSWORD" >/dev/null
done
targetcli saveconfig >/dev/null
log "LUNs exported"
