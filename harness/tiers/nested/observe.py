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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import HarnessError
from ...outcome import Outcome, Verdict
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
# A dom0 taken for gone is asked again this often (seconds): a fenced dom0 reboots and rejoins.
RETRY_GONE = 5.0
# How much of the log of a dom0 that rebooted since the trigger is read (its end: the part written
# before the reset may be lost, so the log is read by time, not from the trigger's byte offset).
REBOOTED_LOG_BYTES = 8_000_000
BOOT_ID = "/proc/sys/kernel/random/boot_id"


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
    boot_ids: dict[str, str] = field(default_factory=dict)  # each dom0's kernel boot id: did it reboot since?
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
            boot_ids={n: read[n][4] for n in names},
        )


_SECTION = "--mh-section--"


def _state(node: Node) -> tuple[int, set[str], float, str, str]:
    """One dom0 before a trigger: its log's size, saved inputs, clock skew, guest console, boot id."""
    skew = clock_skew(node)
    out = node.run(
        [
            "sh",
            "-c",
            f"cat {BOOT_ID}; echo {_SECTION}; stat -c %s {pcmklog.LOG} 2>/dev/null || echo 0; echo {_SECTION}; "
            f"ls -1 {PENGINE}; echo {_SECTION}; " + CONSOLE_CAT,
        ],
        check=False,
        timeout=READ_TIMEOUT,
    ).stdout
    boot_id, size, listing, console_text = (out.split(f"{_SECTION}\n", 3) + ["", "", ""])[:4]
    return (
        int(size.strip()) if size.strip().isdigit() else 0,
        _saved(listing),
        skew,
        console_text,
        boot_id.strip(),
    )


def _saved(listing: str) -> set[str]:
    return {name for name in listing.split() if SAVED_INPUT.match(name)}


def pe_inputs(node: Node) -> set[str]:
    return _saved(node.run(["ls", "-1", PENGINE], check=False, timeout=30).stdout)


def console(node: Node) -> str:
    return node.run(["sh", "-c", CONSOLE_CAT], check=False, timeout=READ_TIMEOUT).stdout


@dataclass
class Collected:
    """What one node showed after a trigger. A node that rebooted since (fenced, reset) is read by
    time: its log from before the reset may be cut short, so the trigger's byte offset means
    nothing there; its clock was set anew by its boot (``skew``, measured now)."""

    entries: list[Executed]
    beats: list[heartbeat.Beat]
    evidence: dict[str, Path]
    rebooted: bool = False
    skew: float | None = None


def read_log_since(node: Node, offset: int, boot_id: str, origin: float) -> tuple[str, bool, float | None]:
    """A dom0's pacemaker log since the trigger (host time ``origin``): from the trigger's byte
    offset if the dom0 has not rebooted since (same boot id), else the lines stamped after the
    trigger by the dom0's clock now. Returns the text, whether it rebooted, and its skew if so."""
    script = (
        f'b=$(cat {BOOT_ID}); echo "$b"; echo {_SECTION}; '
        f'if [ "$b" = {boot_id or "unknown"!r} ]; then tail -c +{offset + 1} {pcmklog.LOG}; '
        f"else tail -c {REBOOTED_LOG_BYTES} {pcmklog.LOG}; fi"
    )
    out = node.run(["sh", "-c", script], timeout=READ_TIMEOUT).stdout
    now_boot, _, text = out.partition(f"{_SECTION}\n")
    if not boot_id or now_boot.strip() == boot_id:
        return text, False, None
    skew = clock_skew(node)
    return pcmklog.since(text, pcmklog.log_seconds(origin + skew)), True, skew


def collect(node: Node, name: str, offset: int, boot_id: str, origin: float, logs: Path) -> Collected:
    """One node's pacemaker log since the trigger, its other logs, and the guest's console."""
    evidence: dict[str, Path] = {}
    text, rebooted, skew = read_log_since(node, offset, boot_id, origin)
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
    return Collected(pcmklog.parse(text), heartbeat.parse(guest_console, name), evidence, rebooted, skew)


def collect_all(nodes: dict[str, Node], start: TriggerStart, logs: Path) -> dict[str, Collected | HarnessError]:
    """``collect`` on every node at once (a thread each: a dozen SSH reads cost seconds each under
    emulation); a node that does not answer gives its error instead."""

    def one(name: str) -> Collected | HarnessError:
        try:
            return collect(
                nodes[name], name, start.offsets.get(name, 0), start.boot_ids.get(name, ""), start.triggered, logs
            )
        except HarnessError as exc:
            return exc

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
        # Samples are recorded once every dom0 answered (or the first round ran out): a round with
        # some dom0s not yet heard of would show the guest on no dom0 before the trigger.
        self._first_round_done = threading.Event()
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
        with self._lock:
            self._first_round_done.set()
            self._record(time.time())

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for node in self.nodes.values():
            node.close()

    def _loop(self, name: str) -> None:
        """Poll one dom0 until stopped. A dom0 gone (GONE_AFTER failed readings) is asked again every
        RETRY_GONE seconds on a fresh connection: a fenced dom0 reboots, rejoins, and the cluster
        can start the guest there again."""
        node, failures = self.nodes[name], 0
        while not self._stop.is_set():
            asked = time.time()
            try:
                result = node.run(["sh", "-c", xl.XENSTORE_LIST], check=False, timeout=30)
            except HarnessError:
                result = None
            if self._stop.is_set():  # an answer after stop() (a slow connect) would change a history being read
                break
            if result is None or not result.ok:
                failures += 1
                node.close()  # the next try connects afresh: this connection may lead to a dom0 since reset
                if failures == self.GONE_AFTER:  # its domains are gone with it
                    with self._lock:
                        self._latest.pop(name, None)
                        self._record(time.time())
                        if self.report is not None:
                            self.report(f"{name} does not answer: taken for gone, asked again every {RETRY_GONE:g} s")
                self._stop.wait(POLL if failures < self.GONE_AFTER else RETRY_GONE)
                continue
            if failures >= self.GONE_AFTER and self.report is not None:
                self.report(f"{name} answers again")
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
        if not self._first_round_done.is_set():
            return
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


# How long the guest is watched for a new beat at the end (seconds): dozens of beats under
# emulation (one every 0.2-0.3 s), and still short beside a case.
BEATING_WAIT = 5


def _last_beat_script(wait: float) -> str:
    """The last heartbeat in the newest console log (the one xenconsoled writes to now: after a
    migration that is ``guest-<name>--incoming.log``), twice, ``wait`` seconds apart."""
    last = (
        f'f=$(ls -t {CONSOLE_GLOB} 2>/dev/null | head -n 1); [ -n "$f" ] && tail -c 4096 "$f" | grep -a "MHB boot" '
        "| tail -n 1"
    )
    return f"{last}; echo {_SECTION}; sleep {wait:g}; {last}; true"


def beating(nodes: list[Node], wait: float = BEATING_WAIT) -> bool | None:
    """Whether the guest beats now on one of ``nodes`` (the dom0s its domain runs on, by xenstore
    or the CIB): a new beat within ``wait`` seconds. None when no node could be asked."""
    if not nodes:
        return None

    def one(node: Node) -> bool | None:
        try:
            out = node.run(["sh", "-c", _last_beat_script(wait)], check=False, timeout=READ_TIMEOUT + wait).stdout
        except HarnessError:
            return None
        first, _, second = out.partition(f"{_SECTION}\n")
        before, after = heartbeat.parse(first, node.name), heartbeat.parse(second, node.name)
        if not after:
            return False
        return not before or (after[-1].boot, after[-1].n) != (before[-1].boot, before[-1].n)

    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        answers = list(pool.map(one, nodes))
    if any(answers):
        return True
    return None if all(a is None for a in answers) else False


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


def lost_nodes(collected: dict[str, Collected | HarnessError]) -> dict[str, str]:
    """The dom0s the trigger took down, with how: rebooted since (fenced, reset) or not answering."""
    lost = {}
    for name, got in collected.items():
        if isinstance(got, HarnessError):
            lost[name] = "not answering since"
        elif got.rebooted:
            lost[name] = "rebooted since"
    return lost


def died_with(verdict: Verdict, before: list[str], where_after: list[str], lost: dict[str, str]) -> Verdict:
    """The verdict of a resource that ran on a dom0 the trigger took down: it died with it, whatever
    the logs that survive show of it. Started again afterwards (elsewhere, or there once the dom0
    rejoined: Pacemaker's next transition says "Start") is ``start``, not started is ``stop``; a
    ``move``, ``recover`` or ``migrate`` the logs show is kept (Pacemaker's own name for it)."""
    gone = [n for n in before if n in lost]
    if gone and verdict.verdict in ("stay", "start", "restart"):
        return replace(
            verdict,
            verdict="start" if where_after else "stop",
            from_node=gone[0],
            to_node=where_after[0] if where_after else None,
            reason=f"it died with {gone[0]}, {lost[gone[0]]} the trigger",
        )
    if verdict.verdict == "stay" and where_after != before:
        # Nothing ran for it on a node that answers, yet it is gone: it died with a fenced node.
        gone_from = ", ".join(before) or "?"
        return replace(
            verdict,
            verdict="stop" if not where_after else "start",
            from_node=gone_from,
            to_node=where_after[0] if where_after else None,
            reason=f"it died with {gone_from}",
        )
    return verdict


def judge_guest(
    beats: list[heartbeat.Beat],
    period: float,
    history: xl.DomainHistory,
    where_after: list[str],
    outcome: Outcome,
    vm: str,
    notes: list[str],
    beats_now: bool | None = None,
) -> heartbeat.GuestEvidence:
    """What the guest lived through, and the verdict held to it: a ``migrate`` needs a guest that
    kept running. ``beats_now`` (``beating``) says whether the guest still beat once the cluster had
    settled: a guest that did not (or whose domain runs on no dom0, xenstore and the CIB agreeing)
    did not keep running, whatever its beats until then. Double runs and doubts go to ``notes``."""
    guest = heartbeat.analyse(beats, period)
    placement = history.placement()
    domain_on = placement[-1][1] != "-" if placement else None
    if beats_now is True:
        guest.ended(running=True)
    elif beats_now is False:
        # Its domain runs (xenstore or the CIB say so) but does not beat: a domain started afresh
        # (its boot not beating yet), or a guest that hangs; either way it did not keep running.
        guest.fell_silent(domain_runs=bool(domain_on or where_after))
    elif domain_on:
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
            else "the guest stopped beating"
            if guest.silent_at_end
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
