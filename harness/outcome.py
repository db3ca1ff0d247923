"""Verdicts: what happened to each resource in one transition, derived from the transition graph.

Pure functions over XML (ElementTree in, frozen dataclasses out). The graph's operations decide the
path (``migrate_to``/``migrate_from`` versus ``stop``/``start``). For a planned transition
(``classify``) the scheduler's summary (``crm_simulate --output-as=xml``, element ``actions``) names
everything else as Pacemaker's own "Transition Summary" does: the action (restart versus recover),
the clone instance, the nodes, the role, the reason and whether the action is blocked (a blocked
action has no operation in the graph: the resource will *not* start, stop or move). For what a live
cluster ran (``classify_operations`` without a graph) the operations decide, the summary only
refines the name. Where graph and summary disagree on the path, the verdict keeps the graph's and
says so.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from . import pcmksummary
from .pcmkresult import (
    SummaryAction,
    active_resources,
    summary_actions,
    summary_fencing,
)

__all__ = [
    "STOP_START",
    "VERDICTS",
    "Operation",
    "Outcome",
    "SummaryAction",
    "Verdict",
    "active_resources",
    "classify",
    "classify_operations",
    "fenced_nodes",
    "graph_operations",
    "summary_actions",
    "summary_fencing",
]

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
    "re-promote",
    "stay",
)
# Verdicts in which the resource is stopped and started (for a VM: the guest reboots).
STOP_START = frozenset({"move", "restart", "recover", "start"})

# Operations that change where or how a resource runs; monitors, notifies, cancels, deletes and
# probes do not.
_PATH_TASKS = frozenset({"migrate_to", "migrate_from", "start", "stop", "promote", "demote", "reload", "reload-agent"})
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
class Verdict:
    resource: str
    verdict: str
    from_node: str | None = None
    to_node: str | None = None
    reason: str | None = None
    operations: tuple[Operation, ...] = ()
    summary: SummaryAction | None = None
    conflict: str | None = None
    blocked: bool = False  # the scheduler wants it but cannot: nothing of it will run
    role: str | None = None  # "Unpromoted -> Promoted" where the role changes, else the role named

    @property
    def migrated(self) -> bool:
        return self.verdict == "migrate" and not self.blocked

    @property
    def stopped_and_started(self) -> bool:
        return self.verdict in STOP_START and not self.blocked

    def describe(self) -> str:
        nodes = ""
        if self.from_node and self.to_node and self.from_node != self.to_node:
            nodes = f" {self.from_node} -> {self.to_node}"
        elif self.to_node or self.from_node:
            nodes = f" on {self.to_node or self.from_node}"
        text = f"{self.resource}: {self.verdict}{nodes}"
        if self.role:
            text += f" [{self.role}]"
        if self.reason:
            text += f" (due to {self.reason})"
        return text + (" BLOCKED" if self.blocked else "")

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.resource,
            "verdict": self.verdict,
            "from": self.from_node,
            "to": self.to_node,
            "reason": self.reason,
            "blocked": self.blocked,
            "role": self.role,
        }


@dataclass
class Outcome(Mapping[str, Verdict]):
    """Verdicts of one transition, by resource id (clone instances by instance id, e.g. clvm:0).

    ``outcome["vm1"]`` of a resource the transition does not touch is ``stay`` on the node where
    it was active before. A resource active on several nodes at once can have several summary
    lines ("Stop rsc1 ( node1 )", "Stop rsc1 ( node2 )"): the first is its verdict, the others
    are in ``more``; ``all()`` gives every one in the summary's order.
    """

    verdicts: dict[str, Verdict]
    active_before: dict[str, list[str]] = field(default_factory=dict)
    fenced: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    more: list[Verdict] = field(default_factory=list)

    def all(self) -> list[Verdict]:
        return [*self.verdicts.values(), *self.more]

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
        return {"resources": [v.as_json() for v in self.all()], "fenced": list(self.fenced)}


def graph_operations(graph: ET.Element) -> list[Operation]:
    """The resource operations of a transition graph, executed and pseudo, in synapse order.

    Resources are named as the scheduler names them (``internal_operation_key``): for an anonymous
    clone the instance the summary names (``cnx1:1``), not the instance number the node's history
    happened to record (``long-id`` ``cnx1:0``).
    """
    operations = []
    for action in graph.iterfind("synapse/action_set/*"):
        task = action.get("operation", "")
        if action.tag == "rsc_op":
            primitive = action.find("primitive")
            if primitive is None:
                continue
            attributes = action.find("attributes")
            interval = _int(attributes.get("CRM_meta_interval")) if attributes is not None else 0
            resource = (
                _key_resource(action.get("internal_operation_key"), task, interval)
                or primitive.get("long-id")
                or primitive.get("id")
                or ""
            )
            operations.append(Operation(resource, task, action.get("on_node"), interval))
        elif action.tag == "pseudo_event" and task == "stop":
            key = action.get("internal_operation_key") or action.get("operation_key") or ""
            resource = _key_resource(key, task, 0) or key
            operations.append(Operation(resource, task, None, pseudo=True))
    return operations


def _key_resource(key: str | None, task: str, interval: int) -> str | None:
    """The resource of an operation key ``<resource>_<task>_<interval>`` (tasks have underscores)."""
    suffix = f"_{task}_{interval}"
    return key[: -len(suffix)] if key and key.endswith(suffix) else None


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def fenced_nodes(graph: ET.Element) -> tuple[str, ...]:
    """Nodes the transition fences down (reboot or off; unfencing, ``on``, is not listed); guest
    nodes are fenced by a pseudo action (their container is stopped)."""
    fenced: list[str] = []
    for event in graph.iterfind("synapse/action_set/*"):
        if event.tag not in {"crm_event", "pseudo_event"} or event.get("operation") != "stonith":
            continue
        attributes = event.find("attributes")
        kind = attributes.get("CRM_meta_stonith_action") if attributes is not None else None
        kind = kind or event.get("operation_key", "").rsplit("-", 1)[-1]
        node = event.get("on_node", "")
        if kind in pcmksummary.DOWN_FENCING and node not in fenced:
            fenced.append(node)
    return tuple(fenced)


def classify(
    graph: ET.Element,
    summary: list[SummaryAction] | None = None,
    active_before: dict[str, list[str]] | None = None,
) -> Outcome:
    """One verdict per resource a planned transition acts on or wants to act on.

    With the scheduler's summary, every line of it becomes a verdict named as the line names it
    (blocked ones included); the graph's operations decide migrate versus stop/start. Without a
    summary, the operations alone decide (as ``classify_operations``).
    """
    operations = graph_operations(graph)
    fenced = fenced_nodes(graph)
    if summary is None:
        return classify_operations(operations, None, active_before, fenced)
    active_before = active_before or {}
    by_resource = _path_operations(operations, active_before)
    lines: dict[str, int] = {}
    for action in summary:
        lines[action.resource] = lines.get(action.resource, 0) + 1
    outcome = Outcome({}, active_before, fenced)
    for action in summary:
        ops = by_resource.get(action.resource, [])
        if lines[action.resource] > 1:  # active on several nodes: each line gets its node's operations
            ops = [op for op in ops if op.node in {action.node, action.source, action.target}]
        verdict = _planned(action, ops)
        if action.resource in outcome.verdicts:
            outcome.more.append(verdict)
        else:
            outcome.verdicts[action.resource] = verdict
    for resource, ops in by_resource.items():
        if resource not in lines and not all(op.pseudo for op in ops):
            # Pacemaker sees no change of state: a start it already waits for (pending), or the
            # stop on the source that finishes a migration the target has completed.
            outcome.notes.append(
                f"{resource}: the graph has {', '.join(str(op) for op in ops)} but the summary lists no action for it"
            )
    outcome.notes.extend(v.conflict for v in outcome.all() if v.conflict)
    return outcome


def _planned(action: SummaryAction, ops: list[Operation]) -> Verdict:
    """A summary line as a verdict, its path checked against the graph's operations."""
    ops = sorted(ops, key=lambda op: _EXECUTION_ORDER.get(op.task, 9))
    name = action.action.lower()
    tasks = {op.task for op in ops if not op.pseudo}
    conflict = None
    if tasks & {"migrate_to", "migrate_from"} and name != "migrate":
        conflict = f"{action.resource}: the graph migrates it but the scheduler summary says '{action}'"
        name = "migrate"
    elif name == "migrate" and not action.blocked and not tasks & {"migrate_to", "migrate_from"}:
        conflict = f"{action.resource}: the scheduler summary says '{action}' but the graph has no migration"
        name = "move"
    from_node, to_node = action.line().nodes()
    return Verdict(
        action.resource,
        name,
        from_node,
        to_node,
        action.reason,
        tuple(ops),
        action,
        conflict,
        blocked=action.blocked,
        role=action.role_text,
    )


def _path_operations(
    operations: Iterable[Operation], active_before: dict[str, list[str]]
) -> dict[str, list[Operation]]:
    by_resource: dict[str, list[Operation]] = {}
    for op in operations:
        if op.task in _PATH_TASKS and not (op.pseudo and op.resource not in active_before and op.task == "stop"):
            by_resource.setdefault(op.resource, []).append(op)
    return by_resource


def classify_operations(
    operations: Iterable[Operation],
    summary: list[SummaryAction] | None = None,
    active_before: dict[str, list[str]] | None = None,
    fenced: tuple[str, ...] = (),
) -> Outcome:
    """One verdict per resource the operations act on, wherever they came from: a transition
    graph (planned) or what a live cluster ran (observed). The operations decide the path and the
    nodes; the summary refines the name and gives the reason and role."""
    summary = summary or []
    active_before = active_before or {}
    by_resource = _path_operations(operations, active_before)
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


def _verdict(resource: str, ops: list[Operation], action: SummaryAction | None, was_on: list[str]) -> Verdict:
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
            conflict = f"{resource}: the graph's operations say {name} but the scheduler summary says '{action}'"
    role = action.role_text if action is not None else None
    return Verdict(resource, name, from_node, to_node, reason, tuple(ops), action, conflict, role=role)
