"""The scenario model: a scenario, its style x trigger cases, expectation rules, the nested tier's
guest. Data only; reading and checking a scenario file is ``scenariobuild``, finding and loading
one is ``scenario``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import styles as st
from .triggers import Trigger
from .version import Version, in_range

GUEST_TYPES = ("pv", "pvh")
# Configuration formats: crm shell, raw CIB XML, pcs commands run against a file CIB.
FORMATS = ("crm", "xml", "pcs")


def default_node_names(count: int) -> tuple[str, ...]:
    """The harness's own node names when a scenario gives a count: node1, node2, ..."""
    return tuple(f"node{i}" for i in range(1, count + 1))


@dataclass(frozen=True)
class NodeAttribute:
    """A node attribute a scenario sets: permanent (``attributes:``, in the configuration's node
    entry) or transient (``status-attributes:``, the status section, gone when the node leaves)."""

    node: str
    name: str
    value: str
    transient: bool = False

    @property
    def lifetime(self) -> str:
        """crm_attribute's word for it."""
        return "reboot" if self.transient else "forever"

    def command(self) -> list[str]:
        """The crm_attribute command that sets it, on a file CIB or a live cluster alike."""
        return ["crm_attribute", "-N", self.node, "-n", self.name, "-l", self.lifetime, "-v", self.value]


@dataclass(frozen=True)
class Guest:
    """The nested tier's real domU for the resource under test (other tiers ignore it)."""

    type: str = "pv"
    memory_mib: int = 96  # the least a Debian PV kernel boots in (80 MiB: "cannot (re-)build domain")
    period: float = 0.1  # heartbeat period, seconds
    dirty_mib: int = 0  # memory the guest keeps dirtying (a migration that cannot converge)


@dataclass(frozen=True)
class Expectation:
    verdicts: tuple[str, ...]
    why: str | None = None
    line: int | None = None

    def accepts(self, verdict: str) -> bool:
        return verdict in self.verdicts

    def __str__(self) -> str:
        return " or ".join(self.verdicts)


@dataclass(frozen=True)
class Rule:
    line: int
    expectation: Expectation
    style: tuple[str, ...] = ()
    trigger: tuple[str, ...] = ()
    resource: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    pacemaker: str | None = None
    xen: str | None = None  # Xen version range: matches only on a tier that runs Xen
    guest: tuple[str, ...] = ()
    node: tuple[str, ...] = ()  # the trigger's node (acted on, or move target), as resolved
    trigger_resource: tuple[str, ...] = ()  # trigger: {move: {resource: vm3}}: the resource it acts on

    def matches(
        self, style: str, trigger: str, resource: str, tier: str, version: Version, facts: dict[str, str]
    ) -> bool:
        """``facts`` may carry 'node' (the resolved trigger's node), 'trigger_resource' (the resource
        it acts on), 'container' (the group or clone of the checked resource), 'xen', 'guest' (nested).
        ``resource:`` matches the checked resource (or its group or clone); the trigger's own resource
        is matched by ``trigger: {move: {resource: ...}}``."""
        xen = facts.get("xen")
        return (
            (not self.style or style in self.style)
            and (not self.trigger or trigger in self.trigger)
            and (not self.node or facts.get("node") in self.node)
            and (not self.trigger_resource or facts.get("trigger_resource") in self.trigger_resource)
            and (
                not self.resource
                or bool({resource, resource.split(":")[0], facts.get("container")} & set(self.resource))
            )
            and (not self.tier or tier in self.tier)
            and (self.pacemaker is None or in_range(version, self.pacemaker))
            and (self.xen is None or (xen is not None and in_range(Version.parse(xen), self.xen)))
            and (not self.guest or facts.get("guest") in self.guest)
        )


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: a scenario written in one style, hit by one trigger."""

    scenario: Scenario
    style: str
    trigger: Trigger

    @property
    def id(self) -> str:
        return f"{self.style}-{self.trigger.name}"

    @property
    def full_id(self) -> str:
        return f"{self.scenario.name}[{self.id}]"

    def expected(
        self, resource: str, tier: str, version: Version, facts: dict[str, str] | None = None
    ) -> Expectation | None:
        return self.scenario.expected(self.style, self.trigger.kind, resource, tier, version, facts or {})


@dataclass
class Scenario:
    name: str
    path: Path
    nodes: int
    resources: list[str]
    configuration: str | None
    cib: str | None
    config_line: int
    topology: st.Topology | None
    styles: list[str]
    triggers: list[Trigger]
    rules: list[Rule]
    title: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    guest: Guest = field(default_factory=Guest)
    # The cases the nested tier runs (minutes each): styles and trigger names; empty = all.
    nested_styles: tuple[str, ...] = ()
    nested_triggers: tuple[str, ...] = ()
    # The nested tier's dom0 release per node ({node1: bookworm, node2: trixie}): a mixed cluster,
    # as in a rolling upgrade; nodes not named run the active release. Other tiers note it only.
    dom0s: dict[str, str] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()  # node names the scenario gives (nodes: [xen01, xen02]); () = node1..N
    attributes: tuple[NodeAttribute, ...] = ()
    format: str = "crm"  # crm, xml or pcs (see FORMATS)
    # Commands pasted with the configuration and not applied ("line 9: commit", "line 3: pcs cluster
    # setup ..."): session control and commands that act on a live cluster; said in every case's notes.
    not_applied: tuple[str, ...] = ()
    # What the configuration was read from when it was not pasted as applied (`pcs config` output),
    # and the parts of it not applied: said in every case's notes.
    config_notes: tuple[str, ...] = ()

    @property
    def node_names(self) -> list[str]:
        """The cluster's node names on the simulate and local tiers."""
        return list(self.hosts or default_node_names(self.nodes))

    @property
    def key(self) -> str:
        """The scenario's identity for directories and caches: its name and a hash of its file, so
        that two files with one ``name:`` never share a settled CIB or a case directory."""
        digest = hashlib.sha256(str(Path(self.path).resolve()).encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def render(self, style: str) -> str:
        if style == st.AS_WRITTEN.name or self.topology is None:
            return self.configuration or ""
        return st.render(self.configuration or "", self.topology, style)

    def cases(self, tier: str | None = None) -> list[Case]:
        """The style x trigger matrix; on the nested tier, only what the scenario's ``nested:`` names."""
        every = [Case(self, style, trigger) for style in self.styles for trigger in self.triggers]
        if tier != "nested":
            return every
        return [
            c
            for c in every
            if (not self.nested_styles or c.style in self.nested_styles)
            and (not self.nested_triggers or c.trigger.kind in self.nested_triggers)
        ]

    def expected(
        self,
        style: str,
        trigger: str,
        resource: str,
        tier: str,
        version: Version,
        facts: dict[str, str] | None = None,
    ) -> Expectation | None:
        for rule in self.rules:
            if rule.matches(style, trigger, resource, tier, version, facts or {}):
                return rule.expectation
        return None
