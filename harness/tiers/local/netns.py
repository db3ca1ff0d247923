"""The cluster's private network: a bridge in a hub namespace, one veth pair per node.

No ``ip netns add``: the hub and every node hold their network namespace through a process
(``unshare --net``), so the namespaces and their links vanish with those processes, and nothing is
ever created in the host's network namespace or under its /run/netns.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import HarnessError
from ...procs import Proc
from ...runner import run, spawn

BRIDGE = "br0"
NODE_IF = "eth0"


@dataclass(frozen=True)
class Plan:
    """Names and addresses of one cluster, derived from its run id so clusters never collide."""

    run_id: str
    nodes: int
    names: tuple[str, ...] = ()  # the scenario's host names; () = node1..N

    @property
    def cluster_name(self) -> str:
        return f"mh-{self.run_id}"

    @property
    def node_names(self) -> list[str]:
        # The scenario's names (as the simulate tier uses them), so predictions and observations
        # compare directly; addresses stay derived from the run id and the node's position.
        return list(self.names) or [f"node{i}" for i in range(1, self.nodes + 1)]

    @property
    def subnet(self) -> str:
        raw = bytes.fromhex(self.run_id.ljust(6, "0")[:6])
        return f"10.{raw[0]}.{raw[1]}"

    def address(self, node: str) -> str:
        return f"{self.subnet}.{self.index(node)}"

    def index(self, node: str) -> int:
        return self.node_names.index(node) + 1

    def hub_link(self, node: str) -> str:
        return f"veth{self.index(node)}"  # inside the hub namespace only: no global collisions


# The hub's only job: hold the namespace while its run directory exists. Its command line names the
# run directory, so `clean` finds it even if the harness died before recording it, and it leaves
# by itself once the run directory is gone.
HUB_SCRIPT = 'while [ -d "$1" ]; do sleep 1; done'


def start_hub(log_path: Path, run_path: Path) -> Proc:
    """A process whose only job is to hold the hub's network namespace, with the bridge in it."""
    proc = spawn(["unshare", "--net", "--", "sh", "-c", HUB_SCRIPT, "mh-hub", str(run_path)], log_path=log_path)
    hub = _wait_proc(proc.pid)
    _in(hub, ["ip", "link", "add", BRIDGE, "type", "bridge"])
    _in(hub, ["ip", "link", "set", BRIDGE, "up"])
    return hub


def connect(hub: Proc, node_netns_pid: int, plan: Plan, node: str) -> None:
    """A veth pair from the hub's bridge into the node's namespace, addressed and up."""
    link = plan.hub_link(node)
    _in(hub, ["ip", "link", "add", link, "type", "veth", "peer", "name", NODE_IF, "netns", str(node_netns_pid)])
    _in(hub, ["ip", "link", "set", link, "master", BRIDGE, "up"])
    ns = ["nsenter", "-t", str(node_netns_pid), "-n", "--"]
    run([*ns, "ip", "addr", "add", f"{plan.address(node)}/24", "dev", NODE_IF], what=f"address {node}")
    run([*ns, "ip", "link", "set", NODE_IF, "up"], what=f"link up {node}")
    run([*ns, "ip", "link", "set", "lo", "up"], what=f"loopback up {node}")


def set_link(hub: Proc, plan: Plan, node: str, up: bool) -> None:
    """Cut or restore a node's only link (a network partition of that node)."""
    _in(hub, ["ip", "link", "set", plan.hub_link(node), "up" if up else "down"])


def _in(hub: Proc, argv: list[str]) -> None:
    run(["nsenter", "-t", str(hub.pid), "-n", "--", *argv], what="hub network")


def _wait_proc(pid: int) -> Proc:
    """The hub process, once unshare has made its namespace and exec'd the hub's shell."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            proc = Proc.of(pid)
        except ProcessLookupError:
            break
        exe = _exe(pid)
        if exe and not exe.endswith("unshare"):  # unshare execs its command only once the namespace exists
            return proc
        time.sleep(0.01)
    raise HarnessError(f"the hub namespace process {pid} did not start (unshare --net failed?)")


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""
