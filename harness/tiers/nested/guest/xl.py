"""Xen domains on each dom0, and whether a guest ever ran on two at once.

Read from xenstore (``XENSTORE_LIST``: each domain's id and name), not from ``xl list``: xl takes
libxl's lock, which a migration holds for its whole length, so ``xl list`` on the source blocks
until the guest has gone and never shows it there. xenstore has no run state; a domain named as the
guest is taken to run (the target's copy is named ``<name>--incoming`` until it is resumed).

During a live migration the guest exists on both dom0s, but only one copy runs: the target's is
``<name>--incoming`` (paused) until the end, the source's becomes ``<name>--migratedaway``. A guest
named as itself on two dom0s read at overlapping times is a double run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TRANSIENT = ("--incoming", "--migratedaway")
# One line per domain: "<domid> <name>"; dom0 included.
XENSTORE_LIST = (
    "for d in $(xenstore-list /local/domain); do "
    'printf "%s %s\\n" "$d" "$(xenstore-read /local/domain/$d/name 2>/dev/null)"; done'
)
_XS_ROW = re.compile(r"^(?P<id>\d+) (?P<name>\S+)$")


@dataclass(frozen=True)
class Domain:
    name: str
    id: int

    @property
    def running(self) -> bool:
        """Not a migration's paused (incoming) or departing copy."""
        return not self.name.endswith(_TRANSIENT)


def parse_xenstore(text: str) -> list[Domain]:
    """``XENSTORE_LIST``'s output; a domain still being built (no name yet) is left out."""
    domains = []
    for line in text.splitlines():
        match = _XS_ROW.match(line.strip())
        if match:
            domains.append(Domain(match["name"], int(match["id"])))
    return domains


@dataclass
class Sample:
    """One polling round: the domains of every dom0 at (about) the same time; with ``spans``, the
    interval in which each dom0's reading was taken (readings of dom0s polled independently)."""

    time: float
    by_node: dict[str, list[Domain]]
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)

    def at_once(self, nodes: list[str]) -> bool:
        """Whether the readings of ``nodes`` were taken at overlapping times (unknown: yes)."""
        known = [self.spans[n] for n in nodes if n in self.spans]
        return len(known) < 2 or max(a for a, _ in known) <= min(b for _, b in known)

    def running_on(self, guest: str) -> list[str]:
        return [node for node, domains in self.by_node.items() if any(d.name == guest and d.running for d in domains)]


@dataclass
class DomainHistory:
    guest: str
    samples: list[Sample] = field(default_factory=list)

    def add_xenstore(
        self, time: float, by_node: dict[str, str], spans: dict[str, tuple[float, float]] | None = None
    ) -> None:
        """One round of ``XENSTORE_LIST`` outputs (``spans``: when each was read)."""
        self.samples.append(Sample(time, {node: parse_xenstore(text) for node, text in by_node.items()}, spans or {}))

    def double_runs(self) -> list[tuple[float, list[str]]]:
        found = []
        for i, sample in enumerate(self.samples):
            running = sample.running_on(self.guest)
            if len(running) > 1 and sample.at_once(running) and not self._handover(i, running):
                found.append((sample.time, running))
        return found

    def _handover(self, i: int, running: list[str]) -> bool:
        """Whether round ``i``, which names the guest on two dom0s, is a live migration's handover
        read on both sides of it. ``xl migrate`` renames the source's copy ``--migratedaway``
        before the target's ``--incoming`` copy takes the guest's name, so no instant has both
        named as the guest; two readings of one round can still straddle the two renames (the
        source's taken before, the target's after: seen in a round of 0.1 s under load). It is
        the handover when the round before had the target's copy still incoming and the round
        after has the guest on the target alone; anything longer is a double run."""
        if len(running) != 2 or i == 0 or i + 1 >= len(self.samples):
            return False
        before, after = self.samples[i - 1], self.samples[i + 1]
        incoming = [
            node for node in running if any(d.name == f"{self.guest}--incoming" for d in before.by_node.get(node, []))
        ]
        return len(incoming) == 1 and after.running_on(self.guest) == incoming

    def placement(self) -> list[tuple[float, str]]:
        """When the guest changed node (or stopped running anywhere: '-')."""
        changes: list[tuple[float, str]] = []
        for sample in self.samples:
            where = ",".join(sample.running_on(self.guest)) or "-"
            if not changes or changes[-1][1] != where:
                changes.append((sample.time, where))
        return changes
