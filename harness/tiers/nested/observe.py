"""What the nested cluster shows after a trigger: each dom0's logs, the guest's console and the
domain's placement over time, the DC's saved scheduler inputs.

``collect`` reads one node's pacemaker log since the trigger (by byte offset) into ``Executed``
operations and copies the rest of its evidence; ``XlPoller`` samples where the guest's domain
runs while the trigger plays out; ``saved_inputs`` fetches the DC's scheduler inputs.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import HarnessError
from ...outcome import Outcome
from ..live import SAVED_INPUT, Executed, input_number
from . import pcmklog
from .guest import heartbeat, picture, xl, xlcfg

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node

PENGINE = "/var/lib/pacemaker/pengine"
CONSOLE_GLOB = f"/var/log/xen/console/guest-{xlcfg.NAME}*.log"
# Every console log of the guest, one after another (none yet: nothing, and success).
CONSOLE_CAT = f'for f in {CONSOLE_GLOB}; do [ -f "$f" ] && cat "$f"; done; true'
# Sampling every half second sees a migration (tens of seconds under emulation) many times over
# without loading the dom0s' emulated CPUs.
POLL = 0.5
# While a case waits, a line on where the guest is this often (seconds).
REPORT_EVERY = 30.0
# Reading a log or a listing over SSH takes well under a second; 60 s means the node is gone.
READ_TIMEOUT = 60


@dataclass
class TriggerStart:
    """The cluster just before a trigger: where each node's log ends, its saved scheduler inputs,
    its clock's skew, and the guest's beats so far. A node that dies with the trigger takes its
    console log along: without the beats read now, a guest started afresh elsewhere would look
    like one unbroken boot."""

    offsets: dict[str, int]
    inputs: dict[str, set[str]]
    skews: dict[str, float]
    beats: list[heartbeat.Beat]  # of the boot running now
    stale: set[str]  # earlier boots in the consoles: not evidence of this trigger
    triggered: float = 0.0  # the host's clock as the trigger was carried out

    @classmethod
    def read(cls, lab: NestedLab, running_on: list[str]) -> TriggerStart:
        """Every dom0 at once (a thread each), in two SSH calls per dom0: each costs a second or
        two under emulation."""
        names = list(lab.plan.nodes)
        nodes = [lab.node(n) for n in names]  # made here: lab.node() records new endpoints in the run state
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            read = dict(zip(names, pool.map(_state, nodes)))
        consoles = {n: heartbeat.parse(read[n][3], n) for n in names}
        beats, stale = heartbeat.current_boot(consoles, running_on)
        return cls(
            offsets={n: read[n][0] for n in names},
            inputs={n: read[n][1] for n in names},
            skews={n: read[n][2] for n in names},
            beats=beats,
            stale=stale,
        )


_SECTION = "--mh-section--"


def _state(node: Node) -> tuple[int, set[str], float, str]:
    """One dom0 before a trigger: its log's size, saved inputs, clock skew and guest console."""
    skew = clock_skew(node)
    out = node.run(
        [
            "sh",
            "-c",
            f"stat -c %s {pcmklog.LOG} 2>/dev/null || echo 0; echo {_SECTION}; ls -1 {PENGINE}; echo {_SECTION}; "
            + CONSOLE_CAT,
        ],
        check=False,
        timeout=READ_TIMEOUT,
    ).stdout
    size, listing, console_text = (out.split(f"{_SECTION}\n", 2) + ["", ""])[:3]
    return int(size.strip()) if size.strip().isdigit() else 0, _saved(listing), skew, console_text


def _saved(listing: str) -> set[str]:
    return {name for name in listing.split() if SAVED_INPUT.match(name)}


def pe_inputs(node: Node) -> set[str]:
    return _saved(node.run(["ls", "-1", PENGINE], check=False, timeout=30).stdout)


def console(node: Node) -> str:
    return node.run(["sh", "-c", CONSOLE_CAT], check=False, timeout=READ_TIMEOUT).stdout


def collect(
    node: Node, name: str, offset: int, logs: Path, evidence: dict[str, Path], beats: list[heartbeat.Beat]
) -> list[Executed]:
    """One node's pacemaker log since the trigger, its other logs, and the guest's console."""
    text = node.run(["tail", "-c", f"+{offset + 1}", pcmklog.LOG], timeout=READ_TIMEOUT).stdout
    (logs / f"{name}-pacemaker.log").write_text(text)
    evidence[f"{name}-pacemaker-log"] = logs / f"{name}-pacemaker.log"
    for label, command in (
        ("corosync", ["tail", "-n", "300", "/var/log/corosync/corosync.log"]),
        ("xl-dmesg", ["xl", "dmesg"]),
        ("xen", ["sh", "-c", "tail -n 200 /var/log/xen/xl-*.log 2>/dev/null"]),
    ):
        result = node.run(command, check=False, timeout=READ_TIMEOUT)
        (logs / f"{name}-{label}.log").write_text(
            result.stdout if result.ok else f"{' '.join(command)} exited {result.rc}\n{result.stderr}"
        )
    guest_console = console(node)
    (logs / f"{name}-guest-console.log").write_text(guest_console)
    evidence[f"{name}-guest-console"] = logs / f"{name}-guest-console.log"
    beats += heartbeat.parse(guest_console, name)
    return pcmklog.parse(text)


@dataclass
class Collected:
    """What one node showed after a trigger."""

    entries: list[Executed]
    beats: list[heartbeat.Beat]
    evidence: dict[str, Path]


def collect_all(nodes: dict[str, Node], offsets: dict[str, int], logs: Path) -> dict[str, Collected | HarnessError]:
    """``collect`` on every node at once (a thread each: a dozen SSH reads cost seconds each under
    emulation); a node that does not answer gives its error instead."""

    def one(name: str) -> Collected | HarnessError:
        evidence: dict[str, Path] = {}
        beats: list[heartbeat.Beat] = []
        try:
            entries = collect(nodes[name], name, offsets[name], logs, evidence, beats)
        except HarnessError as exc:
            return exc
        return Collected(entries, beats, evidence)

    with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
        return dict(zip(nodes, pool.map(one, nodes)))


def wait_transition(lab: NestedLab, survivors: list[str], before: dict[str, set[str]], timeout: float) -> None:
    """Until a surviving node saved a scheduler input after the trigger (the DC noticed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in survivors:
            try:
                if pe_inputs(lab.node(name)) - before.get(name, set()):
                    return
            except HarnessError:
                continue  # fenced meanwhile: another survivor answers
        time.sleep(1)
    raise HarnessError(f"no transition on {', '.join(survivors)} in {timeout:.0f} s after the trigger")


def saved_inputs(
    lab: NestedLab, survivors: list[str], before: dict[str, set[str]], target: Path
) -> tuple[list[Path], list[str]]:
    """The scheduler inputs the surviving nodes saved since the trigger, copied to ``target``, in
    order; what could not be fetched is named in the returned notes."""
    target.mkdir(exist_ok=True)
    saved: list[Path] = []
    notes: list[str] = []
    for name in survivors:
        node = lab.node(name)
        try:
            listing = pe_inputs(node)
        except HarnessError as exc:
            notes.append(f"{name}: its scheduler inputs could not be listed: {exc.message}")
            continue
        for filename in sorted(listing - before.get(name, set()), key=input_number):
            result = node.run(["base64", "-w0", f"{PENGINE}/{filename}"], check=False, timeout=READ_TIMEOUT)
            if not result.ok:
                notes.append(
                    f"{name}: {filename} could not be fetched (base64 exited {result.rc}: "
                    f"{result.stderr.strip()[-200:]})"
                )
                continue
            path = target / f"{name}-{filename}"
            path.write_bytes(base64.b64decode(result.stdout))
            saved.append(path)
    return saved, notes


def clock_skew(node: Node) -> float:
    """How far the node's clock is ahead of the host's, in seconds. The dom0s' clocks are set from
    the host's at every restore, but an emulated clock falls behind by seconds within minutes."""
    before = time.time()
    out = node.run(["date", "+%s.%N"], check=False, timeout=READ_TIMEOUT).stdout.strip()
    after = time.time()
    try:
        return float(out) - (before + after) / 2
    except ValueError:
        return 0.0


def operations_table(entries: list[Executed], origin: float, skews: dict[str, float]) -> str:
    """What ran, as a table whose times are seconds from the trigger (``origin``, the host's clock),
    each node's log times corrected by that node's clock skew at the trigger."""
    rows = ["# seconds from the trigger; rc is the OCF exit code\nstart\tend\tseconds\tnode\tresource\taction\trc\n"]
    for e in entries:
        zero = pcmklog.log_seconds(origin + skews.get(e.node, 0.0))
        rows.append(
            f"{e.start - zero:.2f}\t{e.end - zero:.2f}\t{e.end - e.start:.2f}\t{e.node}\t{e.resource}\t{e.action}\t{e.rc}\n"
        )
    return "".join(rows)


def migration_seconds(entries: list[Executed], vm: str) -> float | None:
    """How long the successful migrate_to ran (``xl migrate`` from the source), by the source's log."""
    done = [e for e in entries if e.resource == vm and e.action == "migrate_to" and e.rc == 0]
    return done[-1].end - done[-1].start if done else None


class XlPoller:
    """The domains of every dom0 (from xenstore: never blocked by a migration) every POLL seconds,
    a thread and an SSH connection per dom0, so a dom0 slowed down by the migration it sends
    delays only its own readings. A dom0 is taken for gone (crashed, fenced, cut off) after
    GONE_AFTER failed readings in a row, not at the first slow one."""

    GONE_AFTER = 3

    def __init__(self, lab: NestedLab, guest: str, report: Callable[[str], None] | None = None) -> None:
        self.nodes = {name: lab.fresh_node(name) for name in lab.plan.nodes}
        self.history = xl.DomainHistory(guest)
        self.report = report
        self._reported = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, float, str]] = {}  # node -> (asked, answered, output)
        self._threads = [
            threading.Thread(target=self._loop, args=(name,), name=f"xl-poller-{name}", daemon=True)
            for name in self.nodes
        ]

    def start(self, first_round: float = 60.0) -> None:
        """Start polling; return once every dom0 answered a first time (SSH connections made under
        emulation take seconds: without this wait the first seconds after a trigger go unseen)."""
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + first_round
        while len(self._latest) < len(self.nodes) and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for node in self.nodes.values():
            node.close()

    def _loop(self, name: str) -> None:
        node, failures = self.nodes[name], 0
        while not self._stop.is_set() and failures < self.GONE_AFTER:
            asked = time.time()
            try:
                result = node.run(["sh", "-c", xl.XENSTORE_LIST], check=False, timeout=30)
            except HarnessError:
                result = None
            if result is None or not result.ok:
                failures += 1
                if failures >= self.GONE_AFTER:  # its domains are gone with it
                    with self._lock:
                        self._latest.pop(name, None)
                        self._record(time.time())
                self._stop.wait(POLL)
                continue
            failures = 0
            with self._lock:
                self._latest[name] = (asked, time.time(), result.stdout)
                self._record(time.time())
                if self.report is not None and time.monotonic() - self._reported >= REPORT_EVERY:
                    self._reported = time.monotonic()
                    self.report(self.where())
            self._stop.wait(POLL)

    def _record(self, now: float) -> None:
        """A sample of every dom0's latest reading, with the interval each was read in."""
        latest = dict(self._latest)
        self.history.add_xenstore(
            now, {n: out for n, (_, _, out) in latest.items()}, {n: (a, b) for n, (a, b, _) in latest.items()}
        )

    def where(self) -> str:
        """Where the guest's domain is, as the last round saw it; a migration in flight (an
        ``--incoming`` copy on the target) with how long it has run."""
        if not self.history.samples:
            return f"guest {self.history.guest}: no dom0 answered yet"
        last = self.history.samples[-1]
        incoming = [n for n, ds in last.by_node.items() if any(d.name == self.history.guest + "--incoming" for d in ds)]
        if incoming:
            since = self.history.samples[0].time
            for sample in reversed(self.history.samples):
                if not any(d.name.endswith("--incoming") for ds in sample.by_node.values() for d in ds):
                    since = sample.time
                    break
            source = ", ".join(last.running_on(self.history.guest)) or "?"
            return f"guest migrating {source} -> {', '.join(incoming)} for {last.time - since:.0f} s (xl migrate)"
        where = last.running_on(self.history.guest)
        return f"guest {self.history.guest} " + (f"running on {', '.join(where)}" if where else "on no dom0")


def guest_evidence(
    casedir: Path,
    beats: list[heartbeat.Beat],
    period: float,
    history: xl.DomainHistory,
    title: str,
    guest: heartbeat.GuestEvidence,
    origin: float,
) -> dict[str, Path]:
    """The heartbeat series and picture, and where the domain ran (``xl-history.txt``, seconds from
    the trigger at ``origin``)."""
    evidence: dict[str, Path] = {}
    series = casedir / "heartbeat.tsv"
    series.write_text("".join(f"{b.node}\t{b.boot}\t{b.n}\t{b.up}\n" for b in beats))
    evidence["heartbeat"] = series
    if beats:
        svg = casedir / "heartbeat.svg"
        downtime = None
        if guest.unbroken and guest.worst_gap_at is not None and guest.downtime is not None:
            downtime = (guest.worst_gap_at, guest.downtime)
        picture.heartbeat_svg(beats, period, svg, title=title, downtime=downtime)
        evidence["heartbeat-picture"] = svg
    placement = casedir / "xl-history.txt"
    lines = [
        f"# where domain {history.guest} ran (xenstore of every dom0, every {POLL:g} s), seconds from the trigger\n"
    ]
    lines += [f"{t - origin:7.1f}s  {where}\n" for t, where in history.placement()]
    placement.write_text("".join(lines))
    evidence["xl-history"] = placement
    return evidence


def judge_guest(
    beats: list[heartbeat.Beat],
    period: float,
    history: xl.DomainHistory,
    where_after: list[str],
    outcome: Outcome,
    vm: str,
    notes: list[str],
) -> heartbeat.GuestEvidence:
    """What the guest lived through, and the verdict held to it: a ``migrate`` needs a guest that
    kept running; a guest that stopped beating and runs on no dom0 (xenstore and the CIB agree) once
    settled did not keep running. Double runs and doubts go to ``notes``."""
    guest = heartbeat.analyse(beats, period)
    placement = history.placement()
    if placement and placement[-1][1] != "-":
        guest.ended(running=True)
    elif placement and not where_after:
        guest.ended(running=False)
    elif placement:
        notes.append(
            f"xenstore shows domain {xlcfg.NAME} on no dom0 once settled, the CIB has {vm} on "
            f"{', '.join(where_after)}: the guest's state at the end is not known"
        )
    notes.extend(guest.notes)
    verdict = outcome[vm]
    if verdict.verdict == "migrate" and not guest.unbroken:
        reason = (
            "no heartbeat seen"
            if not guest.beats
            else "the guest is not running"
            if guest.stopped
            else "the guest rebooted"
        )
        notes.append(f"{vm}: Pacemaker took the migrate path, but {reason}: not a live migration")
        outcome.verdicts[vm] = replace(verdict, verdict="move", reason=f"migrate path, but {reason}")
    for when, nodes in history.double_runs():
        notes.append(
            f"DOUBLE-RUN: guest {xlcfg.NAME} running on {', '.join(nodes)} at once "
            f"({when - history.samples[0].time:.1f} s after the trigger)"
        )
    return guest
