"""Verdicts: what happened to each resource in one transition, derived from the transition graph.

Pure functions over XML (ElementTree in, frozen dataclasses out). The graph's operations decide the
path (``migrate_to``/``migrate_from`` versus ``stop``/``start``); the scheduler's summary
(``crm_simulate --output-as=xml``, element ``actions``) refines the name (restart versus recover)
and gives Pacemaker's reason. Where the two disagree, the verdict keeps the graph's path and says so.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

VERDICTS = (
    "migrate",
    "move",
    "restart",
    "start",
    "stop",
    "recover",
    "reload",
    "promote",
    "demote",
    "stay",
)
# Verdicts in which the resource is stopped and started (for a VM: the guest reboots).
STOP_START = frozenset({"move", "restart", "recover", "start"})

# Operations that change where or how a resource runs; monitors, notifies, cancels, deletes and
# probes do not.
_PATH_TASKS = frozenset(
    {"migrate_to", "migrate_from", "start", "stop", "promote", "demote", "reload", "reload-agent"}
)
# The order in which a transition runs a resource's operations (synapse order is arbitrary).
_EXECUTION_ORDER = {"migrate_to": 0, "migrate_from": 1, "demote": 2, "stop": 3, "start": 4, "promote": 5}

# Summary action names that refine a graph-derived stop/start path.
_STOP_START_NAMES = frozenset({"move", "restart", "recover", "start"})


@dataclass(frozen=True)
class Operation:
    resource: str
    task: str
    node: str | None
    interval_ms: int = 0
    pseudo: bool = False

    def __str__(self) -> str:
        where = f" on {self.node}" if self.node else " (pseudo: implied, not executed)"
        return f"{self.resource} {self.task}{where}"


@dataclass(frozen=True)
class SummaryAction:
    """One line of the scheduler's 'Transition Summary'."""

    resource: str
    action: str
    node: str | None = None
    source: str | None = None
    target: str | None = None
    reason: str | None = None
    blocked: bool = False

    def __str__(self) -> str:
        nodes = self.node or (f"{self.source} -> {self.target}" if self.target else self.source)
        text = f"{self.action.capitalize()} {self.resource} ( {nodes} )"
        if self.reason:
            text += f" due to {self.reason}"
        return text + (" (blocked)" if self.blocked else "")


@dataclass(frozen=True)
class Verdict:
    resource: str
    verdict: str
    from_node: str | None = None
    to_node: str | None = None
    reason: str | None = None
    operations: tuple[Operation, ...] = ()
    summary: SummaryAction | None = None
    conflict: str | None = None

    @property
    def migrated(self) -> bool:
        return self.verdict == "migrate"

    @property
    def stopped_and_started(self) -> bool:
        return self.verdict in STOP_START

    def describe(self) -> str:
        nodes = ""
        if self.from_node and self.to_node and self.from_node != self.to_node:
            nodes = f" {self.from_node} -> {self.to_node}"
        elif self.to_node or self.from_node:
            nodes = f" on {self.to_node or self.from_node}"
        text = f"{self.resource}: {self.verdict}{nodes}"
        if self.reason:
            text += f" (due to {self.reason})"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.resource,
            "verdict": self.verdict,
            "from": self.from_node,
            "to": self.to_node,
            "reason": self.reason,
        }


@dataclass
class Outcome(Mapping[str, Verdict]):
    """Verdicts of one transition, by resource id (clone instances by instance id, e.g. clvm:0).

    ``outcome["vm1"]`` of a resource the transition does not touch is ``stay`` on the node where
    it was active before.
    """

    verdicts: dict[str, Verdict]
    active_before: dict[str, list[str]] = field(default_factory=dict)
    fenced: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, resource: str) -> Verdict:
        if resource in self.verdicts:
            return self.verdicts[resource]
        nodes = self.active_before.get(resource, [])
        where = nodes[0] if nodes else None
        return Verdict(resource, "stay", where, where)

    def __contains__(self, resource: object) -> bool:
        return resource in self.verdicts

    def __iter__(self) -> Iterator[str]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    def as_json(self) -> dict[str, object]:
        return {"resources": [v.as_json() for v in self.verdicts.values()]}


def graph_operations(graph: ET.Element) -> list[Operation]:
    """The resource operations of a transition graph, executed and pseudo, in synapse order."""
    operations = []
    for action in graph.iterfind("synapse/action_set/*"):
        task = action.get("operation", "")
        if action.tag == "rsc_op":
            primitive = action.find("primitive")
            if primitive is None:
                continue
            resource = primitive.get("long-id") or primitive.get("id", "")
            attributes = action.find("attributes")
            interval = int(attributes.get("CRM_meta_interval", "0")) if attributes is not None else 0
            operations.append(Operation(resource, task, action.get("on_node"), interval))
        elif action.tag == "pseudo_event" and task == "stop":
            key = action.get("operation_key", "")
            resource = key.rsplit("_", 2)[0] if key.count("_") >= 2 else key
            operations.append(Operation(resource, "stop", None, pseudo=True))
    return operations


def fenced_nodes(graph: ET.Element) -> tuple[str, ...]:
    return tuple(
        op.get("on_node", "")
        for op in graph.iterfind("synapse/action_set/crm_event")
        if op.get("operation") == "stonith"
    )


def summary_actions(result: ET.Element) -> list[SummaryAction]:
    """The 'Transition Summary' of ``crm_simulate --output-as=xml``."""
    return [
        SummaryAction(
            resource=a.get("resource", ""),
            action=a.get("action", ""),
            node=a.get("node"),
            source=a.get("source"),
            target=a.get("dest") or a.get("target"),
            reason=a.get("reason"),
            blocked=a.get("blocked") == "true",
        )
        for a in result.iterfind("actions/rsc_action")
    ]


def active_resources(result: ET.Element, section: str = "cluster_status") -> dict[str, list[str]]:
    """Where each resource is active, by id, from a status section of crm_simulate's XML output.

    Members of cloned groups get their group's instance number (``fs-xen:0``), as in the graph.
    """
    active: dict[str, list[str]] = {}
    status = result.find(section)
    if status is None:
        return active
    for parent in status.iter():
        for resource in parent.findall("resource"):
            rid = resource.get("id", "")
            if parent.tag == "group" and ":" in parent.get("id", ""):
                rid = f"{rid}:{parent.get('id', '').rsplit(':', 1)[1]}"
            nodes = [n.get("name", "") for n in resource.findall("node")]
            if nodes and resource.get("active") == "true":
                active.setdefault(rid, []).extend(nodes)
    return active


def classify(
    graph: ET.Element,
    summary: list[SummaryAction] | None = None,
    active_before: dict[str, list[str]] | None = None,
) -> Outcome:
    """One verdict per resource a transition graph acts on."""
    return classify_operations(graph_operations(graph), summary, active_before, fenced_nodes(graph))


def classify_operations(
    operations: Iterable[Operation],
    summary: list[SummaryAction] | None = None,
    active_before: dict[str, list[str]] | None = None,
    fenced: tuple[str, ...] = (),
) -> Outcome:
    """One verdict per resource the operations act on, wherever they came from: a transition
    graph (planned) or what a live cluster ran (observed)."""
    summary = summary or []
    active_before = active_before or {}
    by_resource: dict[str, list[Operation]] = {}
    for op in operations:
        if op.task in _PATH_TASKS and not (op.task == "stop" and op.pseudo and op.resource not in active_before):
            by_resource.setdefault(op.resource, []).append(op)
    actions = {a.resource: a for a in summary}
    verdicts: dict[str, Verdict] = {}
    for resource, ops in by_resource.items():
        verdicts[resource] = _verdict(resource, ops, actions.get(resource), active_before.get(resource, []))
    outcome = Outcome(verdicts, active_before, fenced)
    for action in summary:
        if action.resource not in verdicts and not action.blocked:
            outcome.notes.append(f"summary lists '{action}' but the graph has no operation for it")
    outcome.notes.extend(v.conflict for v in verdicts.values() if v.conflict)
    return outcome


def _verdict(
    resource: str, ops: list[Operation], action: SummaryAction | None, was_on: list[str]
) -> Verdict:
    ops = sorted(ops, key=lambda op: _EXECUTION_ORDER.get(op.task, 9))
    tasks = {op.task for op in ops}
    stops = [op.node for op in ops if op.task == "stop"]
    starts = [op.node for op in ops if op.task == "start"]
    reason = action.reason if action else None
    if tasks & {"migrate_to", "migrate_from"}:
        source = next((op.node for op in ops if op.task == "migrate_to"), None)
        target = next((op.node for op in ops if op.task == "migrate_from"), None)
        source = source or (stops[0] if stops else (was_on[0] if was_on else None))
        name, from_node, to_node = "migrate", source, target
    elif stops and starts:
        to_node = starts[0]
        # Left: a node it stops on and does not start on again (a failed migration stops it on both).
        left = [n for n in stops if n and n not in starts] or [n for n in was_on if n not in starts]
        from_node = left[0] if left else next((n for n in stops if n), to_node)
        name = "restart" if from_node == to_node else "move"
    elif starts:
        lost = [n for n in was_on if n not in starts]
        name, from_node, to_node = "start", (lost[0] if lost else None), starts[0]
    elif stops:
        name, from_node, to_node = "stop", stops[0] or (was_on[0] if was_on else None), None
    elif "promote" in tasks:
        node = next(op.node for op in ops if op.task == "promote")
        name, from_node, to_node = "promote", node, node
    elif "demote" in tasks:
        node = next(op.node for op in ops if op.task == "demote")
        name, from_node, to_node = "demote", node, node
    else:
        node = ops[0].node
        name, from_node, to_node = "reload", node, node
    conflict = None
    if action is not None:
        said = action.action.lower()
        if name in STOP_START and said in _STOP_START_NAMES:
            name = said
        elif said != name and not (said == "re-promote" and name in {"promote", "demote"}):
            conflict = (
                f"{resource}: the graph's operations say {name} but the scheduler summary says "
                f"'{action}'"
            )
    return Verdict(resource, name, from_node, to_node, reason, tuple(ops), action, conflict)
