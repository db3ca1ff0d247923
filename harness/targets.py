"""Resources under test as the cluster sees them: primitives, groups, clones and clone instances.

A scenario may name a group (``resources: [gr1]``): moving it moves the group, and its verdicts
are its members', one each. A clone's verdicts are its instances' (``d:0``, ``d:1``), and a clone
instance (``d:1``) is itself a target. Where a target runs is where its first member runs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from . import cib as cibmod

CONTAINERS = {"group", "clone", "master", "bundle"}


@dataclass(frozen=True)
class Target:
    id: str  # as the scenario names it (a clone instance keeps its ':N')
    kind: str  # primitive, group, clone, master, bundle, instance
    members: tuple[str, ...]  # the primitives whose verdicts make the target's
    container: str | None  # the innermost group or clone holding it, if any

    @property
    def base(self) -> str:
        return self.id.split(":")[0]


def find(root: ET.Element, rid: str) -> Target | None:
    """The target ``rid`` names in the CIB, or None."""
    base, _, instance = rid.partition(":")
    resources = root.find(cibmod.RESOURCES)
    if resources is None:
        return None
    parents = {child: parent for parent in resources.iter() for child in parent}
    for element in resources.iter():
        if element.get("id") != base or element.tag not in CONTAINERS | {"primitive"}:
            continue
        container = _container(element, parents)
        members = tuple(p.get("id", "") for p in element.iter("primitive"))
        if instance:
            return Target(rid, "instance", tuple(f"{m}:{instance}" for m in members), container)
        return Target(rid, element.tag, members, container)
    return None


def _container(element: ET.Element, parents: dict[ET.Element, ET.Element]) -> str | None:
    parent = parents.get(element)
    while parent is not None and parent.tag not in CONTAINERS:
        parent = parents.get(parent)
    return parent.get("id") if parent is not None and parent.tag in CONTAINERS else None


def where(target: Target, active: dict[str, list[str]]) -> list[str]:
    """The nodes the target is active on: its first member's (every instance's, for a clone)."""
    nodes: list[str] = []
    if target.kind == "instance" and not any(m in active for m in target.members):
        # Anonymous clone instances are active under the primitive's own id.
        return list(dict.fromkeys(n for m in target.members for n in active.get(m.split(":")[0], [])))
    for key, on in active.items():
        if key in target.members or (target.kind in {"clone", "master"} and key.split(":")[0] in target.members):
            nodes.extend(n for n in on if n not in nodes)
            if target.kind not in {"clone", "master"}:
                break
    return nodes


def verdict_keys(target: Target, keys: list[str]) -> list[str]:
    """The outcome keys (verdicts, or active resources) that belong to the target, in member order."""
    if target.kind == "primitive" and (target.id in keys or not any(k.startswith(target.id + ":") for k in keys)):
        return [target.id]
    found: list[str] = []
    for member in target.members:
        exact = [k for k in keys if k == member]
        instances = sorted(k for k in keys if k.split(":")[0] == member.split(":")[0] and ":" in k)
        if target.kind == "instance":
            instances = [k for k in instances if k == member]
        found.extend(k for k in (instances or exact or [member]) if k not in found)
    return found
