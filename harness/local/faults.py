"""Triggers and faults carried out on a live local cluster.

The engine's triggers (move, ban, standby, stop, crash, dependency-failure, none) and the faults
only a live cluster can show: a corosync-only death, a network partition, a failed or slow
``migrate_to``. ``FAULTS`` maps each fault to the trigger the scheduler can predict for it.
"""

from __future__ import annotations

import signal

from ..errors import HarnessError, InputError
from ..triggers import KINDS, Resolved
from . import standin
from .cluster import LocalLab
from .netns import set_link
from .node import daemons
from .procs import Proc, wait_gone

FAULTS = {name: kind.predicted_as for name, kind in KINDS.items() if kind.predicted_as}
SLOW_SECONDS = "3"


def describe(resolved: Resolved) -> str:
    extra = {
        "migrate-fail": f"crm resource move {resolved.vm} {resolved.node}, its migrate_to failing",
        "migrate-slow": f"crm resource move {resolved.vm} {resolved.node}, its migrate_to taking {SLOW_SECONDS} s",
        "corosync-kill": f"SIGKILL of corosync only on {resolved.node}",
        "partition": f"link of {resolved.node} down (network partition)",
    }
    return extra.get(resolved.kind) or resolved.describe()


def carry_out(lab: LocalLab, trigger: Resolved) -> None:
    """Do ``trigger`` to the live cluster (returns once it is done, not once the cluster settled)."""
    kind, node, vm = trigger.kind, str(trigger.node), trigger.vm
    # The command runs on a node that survives the trigger.
    acting = next(n for n in lab.alive_nodes() if n != node or kind in {"move", "ban", "standby", "migrate-fail", "migrate-slow"})
    if kind in {"migrate-fail", "migrate-slow"}:
        rule = standin.Rule("fail", vm, "migrate_to", "*", "1") if kind == "migrate-fail" \
            else standin.Rule("slow", vm, "migrate_to", "*", SLOW_SECONDS)
        standin.set_control(lab.standin_dir, [rule])
    if kind in {"move", "migrate-fail", "migrate-slow"}:
        lab.run_in(acting, ["crm_resource", "--move", "-r", vm, "-N", node], what="move")
    elif kind == "ban":
        lab.run_in(acting, ["crm_resource", "--ban", "-r", vm, "-N", node], what="ban")
    elif kind == "standby":
        lab.run_in(acting, ["crm_attribute", "-N", node, "-n", "standby", "-v", "on"], what="standby")
    elif kind == "stop":
        init = lab.init(node)
        init.signal(signal.SIGTERM)  # the init's trap stops pacemakerd (resources first), then corosync
        if wait_gone([init], 120):
            raise HarnessError(f"cluster stop on {node} did not finish in 120 s")
    elif kind == "crash":
        lab.kill_node(node)
    elif kind == "corosync-kill":
        pid = daemons(lab.init(node)).get("corosync")
        if pid is None:
            raise HarnessError(f"no corosync running on {node}")
        Proc.of(pid).signal(signal.SIGKILL)
    elif kind == "partition":
        set_link(lab.hub(), lab.plan, node, up=False)
    elif kind == "dependency-failure":
        assert trigger.resource is not None
        # The dependency really dies on that node (its state goes), and the failure is reported
        # at once instead of after the monitor's interval.
        lab.run_in(node, ["rm", "-f", f"/run/harness-standin-state/{trigger.resource}"], what="kill dependency")
        lab.run_in(acting, ["crm_resource", "--fail", "-r", trigger.resource, "-N", node], what="report failure")
    elif kind != "none":
        raise InputError(f"the local tier cannot carry out trigger '{kind}'")

