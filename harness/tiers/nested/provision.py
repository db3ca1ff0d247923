"""Provisioning of a run's VMs, in order across machines: the steps are data, the work is the
readable shell under provisioning/roles (idempotent, so a step can run again).

Order matters between machines (the SAN exports before nodes log in; every node starts pacemaker
at once because a two-node cluster waits for all; the shared VG is made on one node before the
others start its lock), which is why the harness, not `vagrant provision`, runs the steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import files
from .ssh import Node

ROLES = files.PROVISIONING / "roles"
STAGE = "/tmp/mh-provision"


@dataclass(frozen=True)
class Step:
    script: str
    args: tuple[str, ...]
    on: str  # "san", "nodes" (all nodes at once), "first" (the first node only), "rest"
    label: str


STEPS = (
    Step("san.sh", (), "san", "SAN: LIO target, data and SBD LUNs, CHAP"),
    Step("node.sh", ("base",), "nodes", "nodes: iSCSI login, SSH keys, corosync/SBD/LVM config"),
    Step("node.sh", ("sbd-init",), "first", "SBD header on the SBD LUN"),
    Step("node.sh", ("start",), "nodes", "pacemaker + corosync + sbd start, quorum"),
    Step("node.sh", ("fencing",), "first", "SBD fencing resource"),
    Step("node.sh", ("locks",), "nodes", "dlm and lvmlockd on every node at once"),
    Step("node.sh", ("storage",), "first", "shared VG"),
    Step("node.sh", ("storage",), "rest", "VG lock start"),
)


def stage(machine: Node, files: dict[str, Path]) -> None:
    """Upload the role scripts, settings.env and the run's secrets to the staging directory."""
    machine.run(["install", "-d", "-m", "0700", "-o", machine.endpoint.user, STAGE])
    for script in sorted(ROLES.glob("*.sh")):
        machine.put(f"{STAGE}/{script.name}", script.read_bytes(), 0o755)
    for name, path in files.items():
        machine.put(f"{STAGE}/{name}", path.read_bytes(), 0o600)


def unstage(machine: Node) -> None:
    machine.run(["rm", "-rf", STAGE])


def provision(
    san: Node, nodes: list[Node], files: dict[str, Path], progress: Callable[[str], None], started: float
) -> None:
    every = [san, *nodes]
    with ThreadPoolExecutor(max_workers=len(every)) as pool:
        list(pool.map(lambda m: stage(m, files), every))
        for step in STEPS:
            targets = {"san": [san], "nodes": nodes, "first": nodes[:1], "rest": nodes[1:]}[step.on]
            if not targets:
                continue
            progress(f"[{time.monotonic() - started:6.1f}s] {', '.join(t.name for t in targets)}: {step.label}")
            futures = [
                pool.submit(
                    _run_step,
                    t,
                    ["env", f"MH_STAGE={STAGE}", f"MH_SELF={t.name}", "bash", f"{STAGE}/{step.script}", *step.args],
                    step.label,
                    progress,
                    started,
                )
                for t in targets
            ]
            for future in futures:
                future.result()
        list(pool.map(unstage, every))


def _run_step(machine: Node, argv: list[str], label: str, progress: Callable[[str], None], started: float) -> None:
    def on_line(line: str) -> None:
        if line.startswith("### "):
            progress(f"[{time.monotonic() - started:6.1f}s] {line[4:]}")

    machine.run(argv, on_line=on_line, timeout=900, what=f"{machine.name}: {label}")
