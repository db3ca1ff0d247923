"""Xen domains as ``xl list`` shows them on each dom0, and whether a guest ever ran on two at once.

During a live migration the guest exists on both dom0s, but only one copy runs: the target's is
``<name>--incoming`` (paused) until the end, the source's becomes ``<name>--migratedaway``. A guest
running (state r or b, not paused, not dying) on two dom0s in the same polling round is a double run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<id>\d+)\s+(?P<mem>\d+)\s+(?P<vcpus>\d+)\s+(?P<state>[-rbpscd]{6})\s+(?P<time>[\d.]+)"
)
_TRANSIENT = ("--incoming", "--migratedaway")


@dataclass(frozen=True)
class Domain:
    name: str
    id: int
    memory_mib: int
    state: str

    @property
    def running(self) -> bool:
        """Running or blocked (idle), and not a migration's paused or departing copy."""
        return (
            ("r" in self.state or "b" in self.state)
            and "p" not in self.state
            and "d" not in self.state
            and not self.name.endswith(_TRANSIENT)
        )


def parse_list(text: str) -> list[Domain]:
    domains = []
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match:
            domains.append(Domain(match["name"], int(match["id"]), int(match["mem"]), match["state"]))
    return domains


@dataclass
class Sample:
    """One polling round: the domains of every dom0 at (about) the same time."""

    time: float
    by_node: dict[str, list[Domain]]

    def running_on(self, guest: str) -> list[str]:
        return [node for node, domains in self.by_node.items() if any(d.name == guest and d.running for d in domains)]


@dataclass
class DomainHistory:
    guest: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, time: float, by_node: dict[str, str]) -> None:
        self.samples.append(Sample(time, {node: parse_list(text) for node, text in by_node.items()}))

    def double_runs(self) -> list[tuple[float, list[str]]]:
        return [(s.time, s.running_on(self.guest)) for s in self.samples if len(s.running_on(self.guest)) > 1]

    def placement(self) -> list[tuple[float, str]]:
        """When the guest changed node (or stopped running anywhere: '-')."""
        changes: list[tuple[float, str]] = []
        for sample in self.samples:
            where = ",".join(sample.running_on(self.guest)) or "-"
            if not changes or changes[-1][1] != where:
                changes.append((sample.time, where))
        return changes
