"""Observing a live cluster: wait until it is idle, then read what actually ran.

Idle: the DC in S_IDLE, no pending operation recorded in the CIB, and the CIB version unchanged,
twice in a row. What ran: the stand-ins' journal (every action, with node, times and rc) for the
trigger's window, and the scheduler inputs the DC saved in that window (the plan it made, and
Pacemaker's reasons). ``journal_outcome`` turns the journal into verdicts with the same
``classify_operations`` as every tier.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import HarnessError
from ..outcome import Operation, Outcome, SummaryAction, classify_operations

if TYPE_CHECKING:
    from .cluster import LocalLab

POLL = 0.1
# A scheduler input the DC saved, and its number (pe-input.last and friends are pointers, not inputs).
SAVED_INPUT = re.compile(r"^pe-(input|warn|error)-(\d+)\.bz2$")
# Operations that change where a resource runs; probes and monitors only look.
PATH_ACTIONS = ("start", "stop", "migrate_to", "migrate_from", "promote", "demote")


@dataclass(frozen=True)
class JournalEntry:
    node: str
    resource: str
    action: str
    start: float
    end: float
    rc: int
    agent: str

    def __str__(self) -> str:
        return f"{self.start:.3f} {self.node} {self.resource} {self.action} rc={self.rc} ({self.end - self.start:.2f} s)"


def parse_journal(text: str) -> list[JournalEntry]:
    """Journal lines (tab-separated, as the stand-in writes them) in start order; bad lines skipped."""
    entries = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 7:
            continue  # a line cut by a node killed mid-write
        try:
            entries.append(JournalEntry(fields[0], fields[1], fields[2], float(fields[3]),
                                        float(fields[4]), int(fields[5]), fields[6]))
        except ValueError:
            continue
    return sorted(entries, key=lambda e: (e.start, e.end))


def window(entries: list[JournalEntry], since: float) -> list[JournalEntry]:
    return [e for e in entries if e.start >= since]


def journal_operations(entries: list[JournalEntry]) -> list[Operation]:
    """The successful path operations of ``entries``, in the order they ran."""
    return [Operation(e.resource, e.action, e.node) for e in entries if e.rc == 0 and e.action in PATH_ACTIONS]


def journal_outcome(
    entries: list[JournalEntry],
    active_before: dict[str, list[str]],
    summary: list[SummaryAction] | None = None,
) -> Outcome:
    # The journal names clone instances by their primitive's id (the executor's view); the summary's
    # clone-instance lines (dlm:0) have no counterpart there and would only add noise.
    ran = {e.resource for e in entries}
    return classify_operations(journal_operations(entries), [a for a in summary or [] if a.resource in ran],
                               active_before)


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


def unjournaled(cib: ET.Element, entries: list[JournalEntry], since: float) -> list[str]:
    """Operations the CIB says succeeded in the window but no stand-in journaled (should be none)."""
    ran = {(e.resource, e.action, e.node) for e in entries if e.rc == 0}
    return sorted(f"{r} {o} on {n}" for r, o, n in cib_operations(cib, since) - ran)


def failed(entries: list[JournalEntry]) -> list[JournalEntry]:
    """Path operations that did not succeed (a failed migrate_to, say); 7 of a probe is no failure."""
    return [e for e in entries if e.rc != 0 and e.action in PATH_ACTIONS]


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
# Runs inside a node (one nsenter instead of three tools per poll): prints the idle fingerprint
# (DC and CIB version) once it is the same twice in a row, or what it last saw, exit 1, on timeout.
IDLE_SCRIPT = r"""
deadline=$(( $(date +%s) + $1 )); prev=""; last="no poll yet"
while [ "$(date +%s)" -lt "$deadline" ]; do
    dc=$(crmadmin -q -D 2>&1 | tail -n 1)
    state=$(crmadmin -q -S "$dc" 2>&1 | tail -n 1)
    if [ "$state" = S_IDLE ]; then
        cib=$(cibadmin -Q -l 2>/dev/null)
        if printf '%s' "$cib" | grep -q 'op-status="-1"'; then
            prev=""; last="pending operations"
        else
            version=$(printf '%s\n' "$cib" | head -n 1 | grep -o '[a-z_]*epoch="[0-9]*"\|num_updates="[0-9]*"' | tr '\n' ' ')
            current="$dc $version"
            [ "$current" = "$prev" ] && { echo "$current"; exit 0; }
            prev=$current; last="idle at $current"
        fi
    else
        prev=""; last="DC '$dc' in '$state'"
    fi
    sleep 0.1
done
echo "$last"; exit 1
"""


def wait_idle(lab: "LocalLab", via: list[str] | None = None, timeout: float = 90.0) -> float:
    """Until the DC (as seen from the first alive node of ``via``) is idle, twice; returns seconds."""
    started = time.monotonic()
    alive = [n for n in (via or lab.plan.node_names) if lab.node_alive(n)]
    if not alive:
        raise HarnessError(f"cluster {lab.plan.cluster_name}: no node alive to wait on")
    result = lab.run_in(alive[0], ["sh", "-c", IDLE_SCRIPT, "wait-idle", str(int(timeout))],
                        check=False, timeout=timeout + 30)
    if not result.ok:
        raise HarnessError(
            f"cluster {lab.plan.cluster_name} did not become idle in {timeout:.0f} s: {result.stdout.strip()}",
            hint=f"see {lab.rundir.path}/node*/log-pacemaker/pacemaker.log",
        )
    return time.monotonic() - started


def pe_inputs(lab: "LocalLab") -> dict[Path, float]:
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


def running(lab: "LocalLab") -> dict[str, list[str]]:
    """resource -> nodes where a stand-in's state file says it runs (nodes alive only)."""
    out: dict[str, list[str]] = {}
    for node in lab.alive_nodes():
        result = lab.run_in(node, ["ls", "-1", "/run/harness-standin-state"], check=False, timeout=10)
        for rid in result.stdout.split():
            out.setdefault(rid, []).append(node)
    return out


def node_offline(lab: "LocalLab", node: str, via: list[str], timeout: float = 30.0) -> None:
    """Until a surviving node sees ``node`` leave (membership change after a crash or cut)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for peer in via:
            if not lab.node_alive(peer):
                continue
            result = lab.run_in(peer, ["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
            try:
                root = ET.fromstring(result.stdout)
            except ET.ParseError:
                continue
            for entry in root.iterfind("nodes/node"):
                if entry.get("name") == node and entry.get("online") != "true":
                    return
        time.sleep(POLL)
    raise HarnessError(f"{node} still looks online to {', '.join(via)} after {timeout:.0f} s")
