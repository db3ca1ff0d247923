"""Constraint styles: one topology (a VM that depends on a cloned storage stack), many ways to write it.

``render(base, topology, style)`` returns the crm configuration of the scenario written in that
style. Each style is the VM's constraints as people write them on mailing lists; the base
configuration (the storage stack and the VM's primitive) stays as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import crmtext
from .errors import InputError


@dataclass(frozen=True)
class Topology:
    vm: str  # the migratable resource
    storage: str  # the clone it depends on


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    pacemaker: str | None = None  # version range where the style can be written at all


STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("colocation-order", "colocation + order with the clone, interleave=true (the seed thread's poster)"),
        Style("colocation-order-no-interleave", "colocation + order with the clone, interleave=false"),
        Style("order-only", "order only: the VM starts after the clone (the thread's advice)"),
        Style("colocation-only", "colocation with the clone, no order"),
        Style("group", "the VM inside a group with its storage (no clone)"),
        Style("order-asymmetric", "order only, symmetrical=false"),
        Style(
            "colocation-no-influence",
            "colocation with influence=false + order",
            pacemaker=">=2.1",
        ),
    )
}
AS_WRITTEN = Style("as-written", "the configuration exactly as written in the scenario")


class TopologyError(InputError):
    """The topology names something the configuration does not have; ``key`` is 'vm' or 'storage'."""

    def __init__(self, message: str, key: str, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.key = key


def check(base: str, topology: Topology) -> crmtext.Statement:
    """The storage clone's statement, or TopologyError if the topology does not fit the configuration."""
    statements = crmtext.parse(base)
    clones = [s.id for s in statements if s.kind in {"clone", "ms"}]
    clone = crmtext.find(statements, topology.storage)
    if clone is None or clone.kind not in {"clone", "ms"}:
        what = "is not defined" if clone is None else f"is a {clone.kind}, not a clone"
        raise TopologyError(
            f"topology.storage '{topology.storage}' {what} in the configuration",
            "storage",
            hint="clones in the configuration: " + (", ".join(clones) or "none"),
        )
    if len(clone.words) < 3:
        raise TopologyError(
            f"clone '{clone.id}' names no resource to clone",
            "storage",
            hint=f"write: clone {clone.id} <resource> meta interleave=true",
        )
    child = crmtext.find(statements, crmtext.clone_child(clone))
    if child is not None and child.kind == "group" and not crmtext.group_members(child):
        raise TopologyError(
            f"group '{child.id}' (cloned by '{clone.id}') has no members",
            "storage",
            hint=f"write: group {child.id} <resource> [<resource> ...]",
        )
    if crmtext.find(statements, topology.vm) is None:
        resources = [s.id for s in statements if s.kind in {"primitive", "group"}]
        raise TopologyError(
            f"topology.vm '{topology.vm}' is not a resource in the configuration",
            "vm",
            hint="resources: " + (", ".join(resources) or "none"),
        )
    return clone


def render(base: str, topology: Topology, style: str) -> str:
    check(base, topology)
    statements = crmtext.parse(base)
    vm, storage = topology.vm, topology.storage
    clone = crmtext.find(statements, storage)
    assert clone is not None
    colocation = f"colocation col-{vm}-with-{storage} inf: {vm} {storage}"
    order = f"order ord-{storage}-then-{vm} Mandatory: {storage} {vm}"
    if style == "colocation-order":
        return _with(statements, colocation, order)
    if style == "colocation-order-no-interleave":
        statements = [
            crmtext.set_meta(s, "interleave", "false") if s.kind in {"clone", "ms"} else s for s in statements
        ]
        return _with(statements, colocation, order)
    if style == "order-only":
        return _with(statements, order)
    if style == "colocation-only":
        return _with(statements, colocation)
    if style == "order-asymmetric":
        return _with(statements, order + " symmetrical=false")
    if style == "colocation-no-influence":
        # crmsh 4.4 has no keyword for the constraint's influence attribute: its own raw-XML
        # statement writes it (and `crm configure show` prints it back the same way).
        xml = (
            f'xml <rsc_colocation id="col-{vm}-with-{storage}" rsc="{vm}" with-rsc="{storage}" '
            f'score="INFINITY" influence="false"/>'
        )
        return _with(statements, xml, order)
    if style == "group":
        return _as_group(statements, vm, storage, clone)
    raise InputError(f"unknown style '{style}'", hint="styles: " + ", ".join(STYLES))


def _with(statements: list[crmtext.Statement], *extra: str) -> str:
    return crmtext.render(statements) + "\n".join(extra) + "\n"


def _as_group(statements: list[crmtext.Statement], vm: str, storage: str, clone: crmtext.Statement) -> str:
    """Un-clone the storage and put the VM at the end of a group with it."""
    child_id = crmtext.clone_child(clone)
    child = crmtext.find(statements, child_id)
    out: list[crmtext.Statement] = []
    group_id = child_id if child is not None and child.kind == "group" else f"g-{vm}"
    for statement in statements:
        if statement is clone:
            continue
        if child is not None and statement is child and child.kind == "group":
            statement = crmtext.append_members(statement, [vm])
        elif crmtext.is_constraint(statement):
            statement = crmtext.rename_in_constraint(statement, storage, group_id)
        out.append(statement)
    extra = [] if group_id == child_id else [f"group {group_id} {child_id} {vm}"]
    return _with(out, *extra)
