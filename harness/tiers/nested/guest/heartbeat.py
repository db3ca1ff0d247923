"""The guest's heartbeat: did the guest keep running through the move, and how long did it stop?

The test domU prints ``MHB boot=<id> n=<counter> up=<seconds>`` on its console every period
(provisioning/box/guest/init); each dom0's xenconsoled logs the console to a file. Reading the lines of
every dom0 together: one boot id and a counter that never goes back mean an unbroken guest (a live
migration); a new boot id means it was stopped and started. The downtime is the largest gap in
the guest's own clock between consecutive beats, minus the guest's usual step: no clock sync between dom0s is
needed, the guest's clock travels with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BEAT = re.compile(r"MHB boot=(?P<boot>[0-9a-f-]+) n=(?P<n>\d+) up=(?P<up>\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Beat:
    node: str
    boot: str
    n: int
    up: float


@dataclass
class GuestEvidence:
    boots: list[str]  # boot ids in the order they were seen
    unbroken: bool  # one boot, counter never went back: the guest kept running
    downtime: float | None  # seconds, largest gap in the guest's clock minus one period
    worst_gap_at: float | None  # guest uptime at which the largest gap started
    nodes: list[str]  # nodes the guest ran on, in order
    beats: int
    notes: list[str] = field(default_factory=list)
    # Whether the guest's domain ran on some dom0 when the cluster had settled (None: not known).
    # One boot that stopped beating is a guest that died (with its dom0, say), not one that kept running.
    running_at_end: bool | None = None
    # Its domain ran once the cluster had settled but no longer beat: started afresh (not beating
    # yet) or hung. Either way it did not keep running.
    silent_at_end: bool = False

    @property
    def stopped(self) -> bool:
        return self.running_at_end is False

    def ended(self, running: bool) -> None:
        """Whether the guest ran somewhere once the cluster had settled; a guest that did not, did not
        keep running, whatever its beats until then."""
        self.running_at_end = running
        if not running:
            self.unbroken = False

    def fell_silent(self, domain_runs: bool) -> None:
        """The guest did not beat once the cluster had settled; ``domain_runs``: a domain of it ran."""
        self.ended(running=False)
        if domain_runs:
            self.running_at_end, self.silent_at_end = None, True

    def describe(self) -> str:
        if not self.beats:
            return "no heartbeat seen"
        if self.silent_at_end:
            where = self.nodes[-1] if self.nodes else "?"
            return (
                f"guest rebooted: its beats stopped on {where} ({len(self.boots)} boot(s) seen); once the cluster "
                "settled a domain of it ran but did not beat (started afresh, not beating yet, or hung)"
            )
        if self.stopped:
            where = self.nodes[-1] if self.nodes else "?"
            if len(self.boots) > 1:
                return (
                    f"guest rebooted: {len(self.boots)} boots on {' -> '.join(self.nodes)}, then not running anywhere"
                )
            return f"guest stopped: its last beat on {where}, not running anywhere once the cluster settled"
        if self.unbroken:
            return (
                f"guest kept running on {' -> '.join(self.nodes)}, downtime {self.downtime * 1000:.0f} ms"
                if self.downtime is not None
                else "guest kept running"
            )
        return f"guest rebooted: {len(self.boots)} boots ({', '.join(b[:8] for b in self.boots)}) on {' -> '.join(self.nodes)}"


def parse(text: str, node: str) -> list[Beat]:
    beats = []
    for match in _BEAT.finditer(text):
        beats.append(Beat(node, match["boot"], int(match["n"]), float(match["up"])))
    return beats


def current_boot(consoles: dict[str, list[Beat]], running_on: list[str]) -> tuple[list[Beat], set[str]]:
    """The beats of the boot that runs now (the last beat on a node the guest runs on), and how many
    other boots the consoles hold (stale: a guest restarted before the trigger, as a style loaded
    onto the running guest of a snapshot can do, is not a reboot the trigger caused)."""
    beats = [b for node in consoles for b in consoles[node]]
    last = next((consoles[n][-1] for n in running_on if consoles.get(n)), None)
    if last is None:
        return beats, set()
    return [b for b in beats if b.boot == last.boot], {b.boot for b in beats} - {last.boot}


def analyse(beats: list[Beat], period: float) -> GuestEvidence:
    """Beats of every node, in any order; ``period`` is the guest's heartbeat period in seconds."""
    if not beats:
        return GuestEvidence([], False, None, None, [], 0, ["no heartbeat line in any console log"])
    boots: list[str] = []
    for beat in beats:  # in the order the consoles were read: source node first
        if beat.boot not in boots:
            boots.append(beat.boot)
    # The same beat can be logged by two consoles around a migration: keep one of each.
    unique = sorted({(b.boot, b.n): b for b in beats}.values(), key=lambda b: (boots.index(b.boot), b.n))
    nodes: list[str] = []
    for beat in unique:
        if not nodes or nodes[-1] != beat.node:
            nodes.append(beat.node)
    notes: list[str] = []
    pairs = [(a, b) for a, b in zip(unique, unique[1:], strict=False) if a.boot == b.boot]
    # The guest's real cadence: the period plus what one loop costs it (0.3 s instead of 0.1 s in
    # a guest under software emulation). The median step per beat; never below the period.
    steps = sorted((b.up - a.up) / (b.n - a.n) for a, b in pairs if b.n > a.n)
    cadence = max(period, steps[len(steps) // 2]) if steps else period
    worst, worst_at, went_back = 0.0, None, False
    for previous, current in pairs:
        if current.up < previous.up:
            went_back = True
            notes.append(f"guest clock went back at beat {current.n} on {current.node}")
        # Time beyond the heartbeat's own cadence: the guest was not running.
        extra = current.up - previous.up - cadence * (current.n - previous.n)
        if extra > worst:
            worst, worst_at = extra, previous.up
    unbroken = len(boots) == 1 and not went_back
    downtime = worst if len(unique) > 1 else None
    return GuestEvidence(boots, unbroken, downtime, worst_at, nodes, len(unique), notes)
