"""Triggers and faults carried out on the nested cluster's real nodes.

Cluster-side triggers are the same commands as on the local tier (``crm_resource --move``,
``crm_attribute ... standby``); node-side ones act on the dom0 for real: ``systemctl stop
pacemaker``, a kernel reset through sysrq (SBD fences the node, its guest dies with it), corosync
killed, the cluster link taken down. Faults a scheduler cannot see are made real too:

* migrate-fail: the target refuses the migration stream (root SSH from the source to the target is
  denied), so ``xl migrate`` and the agent's migrate_to fail; the guest stays on the source;
* migrate-slow: the source's link to the target is throttled (tc tbf), the migration takes longer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import HarnessError, InputError
from ...triggers import Resolved

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node

SLOW_RATE = "24mbit"
_DENIED = "/root/.ssh/authorized_keys.mh-denied"


def describe(trigger: Resolved) -> str:
    extra = {
        "migrate-fail": f"crm resource move {trigger.vm} {trigger.node}, the target refusing the migration (root SSH denied)",
        "migrate-slow": f"crm resource move {trigger.vm} {trigger.node}, the link to the target throttled to {SLOW_RATE}",
        "crash": f"kernel reset of {trigger.node} (sysrq b): SBD fences it",
        "stop": f"systemctl stop pacemaker on {trigger.node}",
        "corosync-kill": f"SIGKILL of corosync only on {trigger.node}",
        "partition": f"cluster link of {trigger.node} down (network partition)",
    }
    return extra.get(trigger.kind) or trigger.describe()


def link_device(node: Node, peer_address: str) -> str:
    """The interface ``node`` reaches ``peer_address`` through (the cluster network)."""
    out = node.run(["ip", "-o", "route", "get", peer_address], what="route to the peer").stdout.split()
    try:
        return out[out.index("dev") + 1]
    except (ValueError, IndexError):
        raise HarnessError(f"{node.name}: no route to {peer_address}: {' '.join(out)}") from None


def carry_out(lab: NestedLab, trigger: Resolved) -> None:
    """Do ``trigger`` to the live cluster (returns once it is done, not once the cluster settled)."""
    kind, node, vm = trigger.kind, str(trigger.node), trigger.vm
    acting_name = next(
        n for n in lab.plan.nodes if n != node or kind in {"move", "ban", "standby", "migrate-fail", "migrate-slow"}
    )
    acting = lab.node(acting_name)
    if kind == "migrate-fail":
        lab.node(node).run(["mv", "-f", "/root/.ssh/authorized_keys", _DENIED], what="deny root SSH on the target")
    if kind == "migrate-slow":
        source = lab.node(str(trigger.vm_node))
        device = link_device(source, lab.plan.addresses[node])
        source.run(
            [
                "tc",
                "qdisc",
                "replace",
                "dev",
                device,
                "root",
                "tbf",
                "rate",
                SLOW_RATE,
                "burst",
                "64kb",
                "latency",
                "500ms",
            ],
            what="throttle the migration link",
        )
    if kind in {"move", "migrate-fail", "migrate-slow"}:
        acting.run(["crm_resource", "--move", "-r", vm, "-N", node], what="move")
    elif kind == "ban":
        acting.run(["crm_resource", "--ban", "-r", vm, "-N", node], what="ban")
    elif kind == "standby":
        acting.run(["crm_attribute", "-N", node, "-n", "standby", "-v", "on"], what="standby")
    elif kind == "stop":
        lab.node(node).run(["systemctl", "stop", "pacemaker.service"], timeout=600, what=f"stop pacemaker on {node}")
    elif kind == "crash":
        # Detached, so that the SSH command returns before the node dies under it.
        lab.node(node).run(
            ["sh", "-c", "nohup sh -c 'sleep 1; echo b > /proc/sysrq-trigger' >/dev/null 2>&1 &"], what=f"reset {node}"
        )
    elif kind == "corosync-kill":
        lab.node(node).run(["systemctl", "kill", "--signal=KILL", "corosync.service"], what="kill corosync")
    elif kind == "partition":
        target = lab.node(node)
        peer = next(n for n in lab.plan.nodes if n != node)
        device = link_device(target, lab.plan.addresses[peer])
        target.run(
            ["sh", "-c", f"nohup sh -c 'sleep 1; ip link set dev {device} down' >/dev/null 2>&1 &"],
            what="cut the cluster link",
        )
    elif kind == "dependency-failure":
        assert trigger.resource is not None
        acting.run(["crm_resource", "--fail", "-r", trigger.resource, "-N", node], what="report failure")
    elif kind != "none":
        raise InputError(f"the nested tier cannot carry out trigger '{kind}'")
