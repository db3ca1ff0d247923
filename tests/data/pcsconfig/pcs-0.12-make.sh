#!/bin/sh
# Run inside the Debian 13 root: builds three CIBs with pcs and prints their listings.
set -e
cd /tmp/gen
build() {  # build NAME < commands (one pcs command a line, without "pcs -f FILE")
    cibadmin --empty > "$1.xml"
    while read -r line; do
        [ -n "$line" ] || continue
        eval "pcs -f $1.xml $line" >/dev/null 2>&1 || { echo "FAILED: $line" >&2; eval "pcs -f $1.xml $line"; }
    done
    pcs -f "$1.xml" config > "$1-config.txt"
    pcs -f "$1.xml" resource config > "$1-resource-config.txt"
    pcs -f "$1.xml" constraint --full > "$1-constraint-full.txt"
    pcs -f "$1.xml" constraint > "$1-constraint.txt"
}
build vm <<'C'
property set stonith-enabled=false no-quorum-policy=ignore
resource create dlm ocf:pacemaker:controld op monitor interval=30s on-fail=fence --group lockg
resource create vm1 ocf:heartbeat:VirtualDomain config=/etc/libvirt/qemu/vm1.xml hypervisor=qemu:///system meta allow-migrate=true op monitor interval=10s timeout=30s op migrate_to timeout=120s
resource create fs ocf:heartbeat:Filesystem device=/dev/drbd0 directory=/srv fstype=ext4
resource clone lockg interleave=true
constraint order start lockg-clone then start vm1
constraint order start fs then start vm1 kind=Optional symmetrical=false
constraint colocation add vm1 with lockg-clone INFINITY
constraint location vm1 prefers node1=100
constraint location vm1 avoids node3
resource defaults update resource-stickiness=100
resource op defaults update timeout=60s
C
build promotable <<'C'
resource create d1 ocf:pacemaker:Stateful promotable notify=true
resource create ip ocf:heartbeat:IPaddr2 ip=10.0.0.9 meta target-role=Started
constraint colocation add Promoted d1-clone with ip
constraint colocation add ip with Unpromoted d1-clone -- -500
constraint order promote d1-clone then start ip id=o-promote
constraint location d1-clone prefers node2=50
C
build group <<'C'
resource create a ocf:pacemaker:Dummy --group g
resource create b ocf:pacemaker:Dummy op monitor interval=20s timeout=40s --group g
resource meta g resource-stickiness=50
resource create c ocf:pacemaker:Dummy meta allow-migrate=true
resource clone c c-set clone-max=2
constraint location add l-g g node2 -- -INFINITY resource-discovery=never
constraint colocation add g with c-set 200
constraint order stop g then stop c-set kind=Serialize
constraint order demote c-set then promote g symmetrical=false
resource utilization a cpu=2
property set symmetric-cluster=false
C
