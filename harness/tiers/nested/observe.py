"""What the nested cluster shows after a trigger: each dom0's logs and guest console, whether the
guest still beats, the DC's saved scheduler inputs.

``TriggerStart`` records each dom0 just before the trigger (log size, boot id, clock skew, the
guest's beats); ``collect`` reads one dom0's pacemaker log since the trigger into ``Executed``
operations (by byte offset, or by time if the dom0 rebooted since) and copies the rest of its
evidence; ``beating`` asks whether the guest beats now; ``saved_inputs`` fetches the DC's
scheduler inputs. Where the domain ran meanwhile is ``poller``'s; what it all means, ``judging``'s.
"""

from __future__ import annotations

import base64
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import HarnessError
from ..live import SAVED_INPUT, Executed, input_number
from . import pcmklog
from .guest import heartbeat, xlcfg

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node

PENGINE = "/var/lib/pacemaker/pengine"
CONSOLE_GLOB = f"/var/log/xen/console/guest-{xlcfg.NAME}*.log"
# Every console log of the guest, one after another (none yet: nothing, and success).
CONSOLE_CAT = f'for f in {CONSOLE_GLOB}; do [ -f "$f" ] && cat "$f"; done; true'
# Reading a log or a listing over SSH takes well under a second; 60 s means the node is gone.
READ_TIMEOUT = 60
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
    # Without a boot id from before the trigger (not read), as it always was: from the offset.
    script = (
        f'b=$(cat {BOOT_ID}); echo "$b"; echo {_SECTION}; '
        f'if [ -z {shlex.quote(boot_id)} ] || [ "$b" = {shlex.quote(boot_id)} ]; '
        f"then tail -c +{offset + 1} {pcmklog.LOG}; else tail -c {REBOOTED_LOG_BYTES} {pcmklog.LOG}; fi"
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
