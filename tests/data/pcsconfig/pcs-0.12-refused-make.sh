#!/bin/sh
cd /tmp/gen
f=more.xml
cibadmin --empty > $f
p() { pcs -f $f "$@" >/dev/null 2>>more-errors.txt || echo "FAILED: $*" >> more-errors.txt; }
p resource create vm2 ocf:heartbeat:VirtualDomain config=/etc/vm2.xml "migrate_options=--live --unsafe" meta allow-migrate=true "description=a b" op monitor interval=10s "OCF_CHECK_LEVEL=10"
p resource create x ocf:pacemaker:Dummy
p resource create y ocf:pacemaker:Dummy
p resource create z ocf:pacemaker:Dummy
p stonith create f1 fence_xvm pcmk_host_list=node1 --force
p constraint location x rule score=100 '#uname' eq node1
p constraint colocation set x y sequential=false set z setoptions score=100
p constraint order set x y set z
p constraint ticket add T1 x loss-policy=stop
p constraint location add lr vm2 node1 100 role=Started
p constraint location 'regexp%vm.*' prefers node1
p constraint colocation add y with z 100 node-attribute=rack
p constraint order x then y require-all=false
p resource bundle create bu container docker image=img network control-port=3121
p node attribute node1 rack=1
p resource utilization x cpu=1
p tag create t1 x y
p alert create path=/bin/true id=a1
pcs -f $f config > more-config.txt
pcs -f $f constraint --full > more-constraint-full.txt
