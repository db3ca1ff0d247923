"""Observing a live cluster: wait until it is idle, then read what actually ran.

Idle: the DC in S_IDLE, no pending operation recorded in the CIB, and the CIB version unchanged,
twice in a row. What ran: the stand-ins' journal (every action, with node, times and rc) for the
trigger's window, and the scheduler inputs the DC saved in that window (the plan it made, and
Pacemaker's reasons). ``live.observed_outcome`` turns the journal into verdicts.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from ... import crmmon
from ...errors import HarnessError
from ..live import IDLE_SCRIPT, PATH_ACTIONS, SAVED_INPUT, Executed, idle_notes
from . import standin

if TYPE_CHECKING:
    from .cluster import LocalLab

# How often the host polls a node's files and crm_mon while waiting (cheap: no scheduler call).
POLL = 0.1


def parse_journal(text: str) -> list[Executed]:
    """Journal lines (tab-separated, as the stand-in writes them) in start order; bad lines skipped."""
    entries = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 7:
            continue  # a line cut by a node killed mid-write
        try:
            entries.append(
                Executed(fields[0], fields[1], fields[2], float(fields[3]), float(fields[4]), int(fields[5]), fields[6])
            )
        except ValueError:
            continue
    return sorted(entries, key=lambda e: (e.start, e.end))


def window(entries: list[Executed], since: float) -> list[Executed]:
    return [e for e in entries if e.start >= since]


def cib_operations(cib: ET.Element, since: float) -> set[tuple[str, str, str]]:
    """(resource, operation, node) of path operations the CIB status records as changed since ``since``.

    The status keeps only the last entry per operation key, so this is a subset of what ran.
    """
    found = set()
    for state in cib.iterfind("status/node_state"):
        node = state.get("uname", "")
        for resource in state.iterfind("lrm/lrm_resources/lrm_resource"):
            for op in resource.iterfind("lrm_rsc_op"):
                changed = int(op.get("last-rc-change", "0") or 0)
                if op.get("operation") in PATH_ACTIONS and changed > int(since) and op.get("rc-code") == "0":
                    found.add((resource.get("id", ""), op.get("operation", ""), node))
    return found


def unjournaled(cib: ET.Element, entries: list[Executed], since: float) -> list[str]:
    """Operations the CIB says succeeded in the window but no stand-in journaled (should be none)."""
    ran = {(e.resource, e.action, e.node) for e in entries if e.rc == 0}
    return sorted(f"{r} {o} on {n}" for r, o, n in cib_operations(cib, since) - ran)


def double_active(running: dict[str, list[str]], clone_members: set[str]) -> dict[str, list[str]]:
    """Primitives (not clone instances) that the stand-ins say run on more than one node."""
    return {r: sorted(n) for r, n in running.items() if len(n) > 1 and r not in clone_members}


def clone_members(cib: ET.Element) -> set[str]:
    members: set[str] = set()
    for tag in ("clone", "master"):
        for clone in cib.iter(tag):
            members.update(p.get("id", "") for p in clone.iter("primitive"))
    return members


# -- the live cluster ----------------------------------------------------------------------------
# Settling after a trigger takes 0.5-5 s here (stand-ins answer at once); 90 s means the cluster
# is stuck, and the message then says in which state.
IDLE_TIMEOUT = 90.0


def wait_idle(
    lab: LocalLab, via: list[str] | None = None, timeout: float = IDLE_TIMEOUT, notes: list[str] | None = None
) -> float:
    """Until the DC (as seen from the first alive node of ``via``) is idle, twice, with nothing left
    to plan (``IDLE_SCRIPT``); returns seconds, what the script noted added to ``notes``."""
    started = time.monotonic()
    alive = [n for n in (via or lab.plan.node_names) if lab.node_alive(n)]
    if not alive:
        raise HarnessError(f"cluster {lab.plan.cluster_name}: no node alive to wait on")
    result = lab.run_in(
        alive[0], ["sh", "-c", IDLE_SCRIPT, "wait-idle", str(int(timeout))], check=False, timeout=timeout + 30
    )
    said = idle_notes(result.stdout, result.rc)
    if said is None:
        raise HarnessError(
            f"cluster {lab.plan.cluster_name} did not become idle in {timeout:.0f} s: {result.stdout.strip()}",
            hint=f"see {lab.rundir.path}/node*/log-pacemaker/pacemaker.log",
        )
    if notes is not None:
        notes += said
    return time.monotonic() - started


def pe_inputs(lab: LocalLab) -> dict[Path, float]:
    """Every scheduler input any node saved, with its modification time."""
    found = {}
    for node in lab.plan.node_names:
        directory = lab.dirs(node).pengine
        if directory.is_dir():
            for path in directory.glob("pe-*"):
                if not SAVED_INPUT.match(path.name):
                    continue  # pe-input.last and friends are pointers, not inputs
                try:
                    found[path] = path.stat().st_mtime
                except OSError:
                    continue
    return found


def running(lab: LocalLab) -> dict[str, list[str]]:
    """resource -> nodes where a stand-in's state file says it runs (nodes alive only), read from
    each node's private /run through its init."""
    out: dict[str, list[str]] = {}
    for node in lab.alive_nodes():
        state = Path(f"/proc/{lab.init(node).pid}/root{standin.NODE_STATE}")
        try:
            names = sorted(p.name for p in state.iterdir())
        except OSError:
            continue  # the node died meanwhile: it runs nothing
        for rid in names:
            out.setdefault(rid, []).append(node)
    return out


def node_offline(lab: LocalLab, node: str, via: list[str], timeout: float = 30.0) -> None:
    """Until a surviving node sees ``node`` leave (membership change after a crash or cut)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for peer in via:
            if not lab.node_alive(peer):
                continue
            result = lab.run_in(peer, ["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
            try:
                seen = crmmon.parse(result.stdout)
            except HarnessError:
                continue  # crm_mon answers nothing while the membership changes: ask again
            if node in seen.nodes and not seen.nodes[node].online:
                return
        time.sleep(POLL)
    raise HarnessError(f"{node} still looks online to {', '.join(via)} after {timeout:.0f} s")
