#!/bin/bash
# The node role, in steps the harness runs in order across the nodes:
#   base       name, cluster address, hosts, iSCSI login (CHAP), root SSH keys for `xl migrate`, corosync, SBD and LVM config
#   sbd-init   (one node) write the SBD header on the SBD LUN unless it has one
#   start      start pacemaker (with corosync and sbd)
#   fencing    (one node) cluster properties and the SBD fencing resource
#   locks      dlm + lvmlockd, on every node at once
#   storage    (first node) the shared VG; lock start on every node
# Idempotent: each step can run again.
. "$(dirname "$0")/common.sh"
step="${1:?usage: node.sh base|sbd-init|start|fencing|locks|storage}"
me="$MH_SELF"

base() {
    identity
    hosts_file

    log "iSCSI login to $MH_TARGET_IQN"
    if put /etc/iscsi/initiatorname.iscsi "InitiatorName=$MH_IQN_PREFIX.$me"; then
        systemctl restart iscsid.service
    fi
    # The box ships open-iscsi enabled; `systemctl enable` (a daemon-reload) costs half a minute here.
    systemctl start iscsid.service
    iscsiadm -m discovery -t sendtargets -p "$MH_SAN_IP" >/dev/null
    local n=(iscsiadm -m node -T "$MH_TARGET_IQN" -p "$MH_SAN_IP")
    "${n[@]}" -o update -n node.session.auth.authmethod -v CHAP
    "${n[@]}" -o update -n node.session.auth.username -v "$MH_CHAP_USER"
    "${n[@]}" -o update -n node.session.auth.password -v "$MH_CHAP_PASSWORD"
    "${n[@]}" -o update -n node.startup -v automatic
    iscsiadm -m session 2>/dev/null | grep -q "$MH_TARGET_IQN" || "${n[@]}" --login >/dev/null
    udevadm settle
    for lun in 0 1; do
        for _ in $(seq 30); do [ -b "$(lun_path $lun)" ] && break; sleep 1; done
        [ -b "$(lun_path $lun)" ] || { echo "LUN $lun did not appear" >&2; exit 1; }
    done

    log "root SSH between dom0s"
    install -d -m 0700 /root/.ssh
    install -m 0600 "$MH_STAGE/root_ed25519" /root/.ssh/id_ed25519
    install -m 0644 "$MH_STAGE/root_ed25519.pub" /root/.ssh/id_ed25519.pub
    install -m 0600 "$MH_STAGE/root_ed25519.pub" /root/.ssh/authorized_keys
    local hosts="" entry
    for entry in $MH_NODES; do hosts+=" ${entry%%:*} ${entry#*:}"; done
    put /root/.ssh/config "Host$hosts
    StrictHostKeyChecking accept-new
    UserKnownHostsFile /root/.ssh/known_hosts" || true

    log "corosync, SBD, LVM configuration"
    install -m 0400 "$MH_STAGE/corosync-authkey" /etc/corosync/authkey
    local nodelist="" id=0
    for entry in $MH_NODES; do
        id=$((id + 1))
        nodelist+="    node {
        name: ${entry%%:*}
        nodeid: $id
        ring0_addr: ${entry#*:}
    }
"
    done
    local two_node=0
    [ "$(echo $MH_NODES | wc -w)" -eq 2 ] && two_node=1
    put /etc/corosync/corosync.conf "# Written by migration-harness for run $MH_RUN_ID
totem {
    version: 2
    cluster_name: $MH_CLUSTER_NAME
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    token: 10000
}
nodelist {
${nodelist}}
quorum {
    provider: corosync_votequorum
    two_node: $two_node
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: yes
    timestamp: on
}" || true
    put /etc/default/sbd "SBD_DEVICE=$(lun_path 1)
SBD_PACEMAKER=yes
SBD_STARTMODE=always
SBD_DELAY_START=no
SBD_WATCHDOG_DEV=/dev/watchdog
SBD_WATCHDOG_TIMEOUT=$MH_SBD_WATCHDOG_TIMEOUT
SBD_TIMEOUT_ACTION=flush,reboot
SBD_MOVE_TO_ROOT_CGROUP=auto
SBD_OPTS=" || true
    modprobe softdog
    sed -i -E 's/^(\s*)#?\s*use_lvmlockd = [01]/\1use_lvmlockd = 1/' /etc/lvm/lvm.conf
    grep -Eq '^\s*use_lvmlockd = 1' /etc/lvm/lvm.conf
    # sbd_remote (for pacemaker_remote nodes) comes enabled and required by dlm.service: on a full
    # cluster node it fails (sbd already runs) and takes dlm down with it. The box disables it;
    # on another box its links go by hand.
    local link reload=0
    for link in /etc/systemd/system/*.requires/sbd_remote.service /etc/systemd/system/*.wants/sbd_remote.service; do
        if [ -L "$link" ]; then rm -f "$link"; reload=1; fi
    done
    # Enabled so that a fenced node that reboots comes back with SBD. --no-reload: the services are
    # started by hand below, and a daemon-reload costs half a minute under software emulation.
    systemctl --no-reload enable corosync.service pacemaker.service sbd.service 2>/dev/null
    if [ "$reload" = 1 ]; then systemctl daemon-reload; fi
}

sbd_init() {
    local dev; dev="$(lun_path 1)"
    if sbd -d "$dev" dump >/dev/null 2>&1; then
        log "SBD header already on $dev"
    else
        log "SBD header on $dev"
        sbd -d "$dev" -1 "$MH_SBD_WATCHDOG_TIMEOUT" -4 "$MH_SBD_MSGWAIT" create
    fi
}

start() {
    log "pacemaker start"
    systemctl start pacemaker.service
    for _ in $(seq 120); do
        corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate:\s*Yes' && return 0
        sleep 2
    done
    echo "no quorum after 240 s" >&2
    corosync-quorumtool -s >&2 || true
    exit 1
}

fencing() {
    log "SBD fencing resource"
    # Timeouts: the external/sbd agent (through fence_legacy) needs more than the default 20 s
    # under software emulation; a failed start was seen at 20 s.
    # A DC elected and the CIB answering: right after start, CIB clients may get ENOTCONN.
    retry 100 sh -c 'crm_mon -1 2>/dev/null | grep -q "partition with quorum"'
    retry 20 crm_attribute --type crm_config --name stonith-enabled --update true
    retry 20 crm_attribute --type crm_config --name stonith-timeout --update "$MH_STONITH_TIMEOUT"
    if ! crm_resource --resource fence-sbd --query-xml >/dev/null 2>&1; then
        retry 5 crm configure primitive fence-sbd stonith:external/sbd \
            params sbd_device="$(lun_path 1)" pcmk_delay_max=15 \
                pcmk_monitor_timeout=120s pcmk_reboot_timeout="$MH_STONITH_TIMEOUT" \
            op start timeout=120 op monitor interval=600 timeout=120
    fi
}

locks() {
    log "dlm and lvmlockd"
    # Startup fencing off: dlm_controld fences a member whose dlm_controld has not joined within
    # seconds, which under software emulation is any slower node (seen: node2 rebooted by SBD).
    put /etc/default/dlm 'DLM_CONTROLD_OPTS="--enable_startup_fencing 0"' || true
    modprobe dlm
    systemctl start dlm.service lvmlockd.service
}

storage() {
    if ! vgs "$MH_VG" >/dev/null 2>&1; then
        if [ "$me" = "${MH_NODES%%:*}" ]; then
            log "shared VG $MH_VG on $(lun_path 0)"
            wipefs -q -a "$(lun_path 0)"
            vgcreate --shared "$MH_VG" "$(lun_path 0)"
        else
            pvscan --cache >/dev/null 2>&1 || true
        fi
    fi
    vgchange --lockstart "$MH_VG"
}

case "$step" in
    base) base ;;
    sbd-init) sbd_init ;;
    start) start ;;
    fencing) fencing ;;
    locks) locks ;;
    storage) storage ;;
    *) echo "unknown step: $step" >&2; exit 2 ;;
esac
