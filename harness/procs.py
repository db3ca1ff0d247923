"""Processes by PID, never by name: identity checks against PID reuse, signals, child lookup.

A process is recorded as (pid, start time in clock ticks since boot); a later signal goes to that
PID only if the start time still matches, so a recycled PID is never hit.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # field 22 of /proc/PID/stat

    @classmethod
    def of(cls, pid: int) -> Proc:
        start = start_time(pid)
        if start is None:
            raise ProcessLookupError(pid)
        return cls(pid, start)

    def alive(self) -> bool:
        return start_time(self.pid) == self.start and not _zombie(self.pid)

    def signal(self, sig: int) -> bool:
        """Send ``sig`` if this is still the same process; False if it is gone."""
        if start_time(self.pid) != self.start:
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def as_json(self) -> list[int]:
        return [self.pid, self.start]

    @classmethod
    def from_json(cls, data: list[int]) -> Proc:
        return cls(int(data[0]), int(data[1]))


def start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def mentioning(marker: str) -> list[Proc]:
    """Processes of this user whose command line names ``marker`` (a run directory: a path only
    this harness creates), except this process and its ancestors. This is how ``clean`` finds what a
    run started but did not live to record."""
    needle = marker.encode()
    return _identified(pid for pid, argv in _ours() if any(needle in arg for arg in argv))


def holding(base: Path) -> list[Proc]:
    """Processes of this user that name ``base`` on their command line or work in it (current or
    root directory under it: a chroot), with all their descendants; never this process or its
    ancestors."""
    needle = str(base).encode()
    found = {
        proc.pid: proc
        for proc in _identified(
            pid for pid, argv in _ours() if any(needle in arg for arg in argv) or _works_in(pid, base)
        )
    }
    spared = ancestry()
    pending = list(found)
    while pending:
        for child in children(pending.pop()):
            if child not in found and child not in spared:
                try:
                    found[child] = Proc.of(child)
                except ProcessLookupError:
                    continue
                pending.append(child)
    return list(found.values())


def _works_in(pid: int, base: Path) -> bool:
    try:
        places = [os.readlink(f"/proc/{pid}/cwd"), os.readlink(f"/proc/{pid}/root")]
    except OSError:
        return False
    return any(Path(place).is_relative_to(base) for place in places)


def _identified(pids: Iterable[int]) -> list[Proc]:
    """``pids`` as recorded processes; those gone meanwhile left out."""
    found = []
    for pid in pids:
        try:
            found.append(Proc.of(pid))
        except ProcessLookupError:
            continue
    return found


def _ours() -> Iterator[tuple[int, list[bytes]]]:
    """This user's processes (PID, command line), except this process and its ancestors."""
    spared = ancestry()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in spared:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if os.stat(f"/proc/{entry}").st_uid != os.geteuid():
                continue
        except OSError:
            continue
        yield int(entry), argv


def ancestry() -> set[int]:
    """This process and its ancestors: never ours to stop."""
    spared = set()
    pid = os.getpid()
    while pid > 1:
        spared.add(pid)
        pid = _parent(pid)
    return spared


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def wait_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    """Wait until none of ``procs`` is alive; returns those still alive at the timeout."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if p.alive()]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if p.alive()]
    return alive


def terminate(procs: list[Proc], grace: float = 5.0) -> None:
    """TERM, wait ``grace`` seconds, then KILL whatever is left; by recorded identity only."""
    for proc in procs:
        proc.signal(signal.SIGTERM)
    for proc in wait_gone(procs, grace):
        proc.signal(signal.SIGKILL)
    wait_gone(procs, 5.0)
