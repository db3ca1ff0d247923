"""How the local tier carries triggers and faults out on its namespaced nodes.

What each trigger means is ``harness.triggers``; this is only how: cluster-side triggers run
``triggers.cluster_command`` inside a surviving node; node-side ones act on the node's processes
and link; faults steer the stand-in agents through their control file.
"""

from __future__ import annotations

import signal
import xml.etree.ElementTree as ET

from ... import refusal
from ...errors import HarnessError, InputError
from ...ocf import OCF_ERR_GENERIC
from ...procs import Proc, wait_gone
from ...triggers import NODE_LEAVES, Resolved, cluster_command, failure_report
from . import standin
from .cluster import LocalLab
from .netns import set_link
from .node import daemons

# Long enough to be seen as slow next to the stand-ins' instant actions, short enough for CI.
SLOW_SECONDS = 3
# A cluster stop moves every resource away first; with stand-ins that takes seconds, 120 s is stuck.
STOP_TIMEOUT = 120
HOW = {
    "stop": "SIGTERM to the node's init: pacemakerd stops its resources, then corosync stops",
    "crash": "SIGKILL of the node's whole PID namespace",
    "migrate-fail": "the stand-in's migrate_to answers OCF_ERR_GENERIC",
    "migrate-slow": f"the stand-in's migrate_to takes {SLOW_SECONDS} s",
    "dependency-failure": "its stand-in's state removed, the failure reported with crm_resource --fail",
}


def describe(trigger: Resolved) -> str:
    return trigger.describe(HOW.get(trigger.kind))


def lab_cib(lab: LocalLab, node: str) -> ET.Element:
    """The live CIB, to name the constraints that refused a trigger."""
    return ET.fromstring(lab.run_in(node, ["cibadmin", "-Q"], what="read the CIB").stdout)


def carry_out(lab: LocalLab, trigger: Resolved) -> None:
    """Do ``trigger`` to the live cluster (returns once it is done, not once the cluster settled)."""
    kind, node, vm = trigger.kind, str(trigger.node), trigger.vm
    # Commands run on a node that survives the trigger.
    acting = next(n for n in lab.alive_nodes() if n != node or kind not in NODE_LEAVES)
    if kind == "migrate-fail":
        standin.set_control(lab.standin_dir, [standin.Rule("fail", vm, "migrate_to", "*", str(OCF_ERR_GENERIC))])
    elif kind == "migrate-slow":
        standin.set_control(lab.standin_dir, [standin.Rule("slow", vm, "migrate_to", "*", str(SLOW_SECONDS))])
    command = cluster_command(trigger)
    if command is not None:
        result = lab.run_in(acting, command, check=False)
        if not result.ok:
            raise refusal.command_refused(result, trigger.describe(), lab_cib(lab, acting), vm, node)
    elif kind == "stop":
        init = lab.init(node)
        init.signal(signal.SIGTERM)  # the init's trap stops pacemakerd (resources first), then corosync
        if wait_gone([init], STOP_TIMEOUT):
            raise HarnessError(f"cluster stop on {node} did not finish in {STOP_TIMEOUT} s")
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
        lab.run_in(node, ["rm", "-f", f"{standin.NODE_STATE}/{trigger.resource}"], what="kill dependency")
        lab.run_in(acting, failure_report(trigger), what="report failure")
    elif kind != "none":
        raise InputError(f"the local tier cannot carry out trigger '{kind}'")
