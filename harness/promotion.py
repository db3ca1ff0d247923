"""Promotion scores of promotable clones: what a promotable agent sets and a file CIB lacks.

A promotable agent (ocf:linbit:drbd, ocf:heartbeat:mysql, ocf:pacemaker:Stateful) sets its
instance's promotion score from its start and monitor: ``crm_attribute --promotion -v N``
(``crm_master -l reboot -v N`` before Pacemaker 2.1), the transient node attribute
``master-<primitive id>`` (``master-<id>:<n>`` for a globally unique clone; the prefix is the same
on Pacemaker 2.0, 2.1 and 3.0: ``pcmk_promotion_score_name``). Without a score no instance is
promoted, and whatever is colocated with or ordered after the promoted role stays stopped.
crm_simulate runs no agent, so the simulate tier sets ``DEFAULT_SCORE`` where an instance runs
after each settling round, as the agent would; a scenario that sets a ``master-<id>`` itself
(``status-attributes:``) gets none added for that name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import cib as cibmod
from .scenariotypes import NodeAttribute

PREFIX = "master-"
# One equal score everywhere: no node preferred, as a healthy DRBD's agent scores every UpToDate peer.
DEFAULT_SCORE = 10000
_TRUE = {"true", "yes", "1", "on", "y"}


@dataclass(frozen=True)
class Promotable:
    clone: str  # the clone's id (a <clone promotable="true"> or the old <master>)
    primitives: tuple[str, ...]
    unique: bool  # globally-unique: the score is per instance (master-<id>:<n>)
    max_promoted: str  # promoted-max / master-max as configured ("1" when unset)


def promotables(root: ET.Element) -> list[Promotable]:
    """The configuration's promotable clones."""
    found = []
    resources = root.find(cibmod.RESOURCES)
    for element in resources.iter() if resources is not None else ():
        if element.tag == "master" or (
            element.tag == "clone" and (cibmod.meta(element, "promotable") or "").lower() in _TRUE
        ):
            found.append(
                Promotable(
                    element.get("id", ""),
                    tuple(p.get("id", "") for p in element.iter("primitive")),
                    (cibmod.meta(element, "globally-unique") or "").lower() in _TRUE,
                    cibmod.meta(element, "promoted-max", "master-max") or "1",
                )
            )
    return found


def score_name(instance: str, unique: bool) -> str:
    """The node attribute holding an instance's promotion score."""
    return PREFIX + (instance if unique else instance.split(":")[0])


def _primitive(name: str) -> str:
    return name[len(PREFIX) :].split(":")[0]


def transient(root: ET.Element, node: str, name: str) -> str | None:
    """The value of the node's transient attribute ``name`` in the CIB's status, if set."""
    for state in root.iterfind(f"{cibmod.STATUS}/node_state"):
        if state.get("uname") == node:
            for nv in state.iterfind("transient_attributes/instance_attributes/nvpair"):
                if nv.get("name") == name:
                    return nv.get("value")
    return None


def given_names(given: Iterable[NodeAttribute]) -> set[str]:
    """The promotion score names the scenario sets itself (transient ``master-*``): no agent or
    stand-in sets those."""
    return {a.name for a in given if a.transient and a.name.startswith(PREFIX)}


def missing(
    root: ET.Element, active: Mapping[str, Sequence[str]], given: Iterable[NodeAttribute]
) -> list[NodeAttribute]:
    """The promotion scores an agent would have set by now and the CIB lacks: every node where an
    instance of a promotable clone runs, unless the scenario sets that score name itself."""
    own = given_names(given)
    scores = []
    for promotable in promotables(root):
        for rid, nodes in sorted(active.items()):
            if rid.split(":")[0] not in promotable.primitives:
                continue
            name = score_name(rid, promotable.unique)
            for node in nodes:
                if name not in own and transient(root, node, name) is None:
                    scores.append(NodeAttribute(node, name, str(DEFAULT_SCORE), transient=True))
    return scores


SIMULATED = "crm_attribute --promotion from its start and monitor; crm_simulate runs no agent"


def present(root: ET.Element, given: Iterable[NodeAttribute]) -> list[NodeAttribute]:
    """The promotion scores of promotable primitives the CIB's status holds, but those the scenario
    sets itself: what the agents (stand-ins) set."""
    own = given_names(given)
    primitives = {p for x in promotables(root) for p in x.primitives}
    found = []
    for state in root.iterfind(f"{cibmod.STATUS}/node_state"):
        for nv in state.iterfind("transient_attributes/instance_attributes/nvpair"):
            name = nv.get("name", "")
            if name.startswith(PREFIX) and _primitive(name) in primitives and name not in own:
                found.append(NodeAttribute(state.get("uname", ""), name, nv.get("value", ""), transient=True))
    return found


def notes(
    realized: Sequence[NodeAttribute], given: Iterable[NodeAttribute], root: ET.Element, how: str = SIMULATED
) -> list[str]:
    """The verdict's words for the scores the tier set, and for those the scenario set itself."""
    said = []
    by_name: dict[str, list[str]] = {}
    for score in realized:
        by_name.setdefault(f"{score.name}={score.value}", []).append(score.node)
    for name, nodes in by_name.items():
        said.append(
            f"realized: promotion score {name} on {', '.join(sorted(set(nodes)))} (every node where the "
            f"instance runs), as the agent would set it ({how})"
        )
    primitives = {p for x in promotables(root) for p in x.primitives}
    own = sorted(name for name in given_names(given) if _primitive(name) in primitives)
    if own:
        said.append(f"promotion scores {', '.join(own)} as the scenario's status-attributes set them (none added)")
    return said
