"""Why a resource under test is not running after the cluster settled, in concrete words.

Read from the settled CIB (constraints, meta attributes, failed operations, promotion scores in the
status) and the scheduler's own reading of it (``crm_simulate`` without running anything: which
instances are active, which promoted). Each cause names its constraint and the data behind it; none
is specific to one agent.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from . import cib as cibmod
from . import promotion, simulator
from .outcome import active_resources

_PROMOTED = {"Master", "Promoted"}
_STOPPED = {"Stopped", "stopped"}


def hint(cib_path: Path, root: ET.Element, rid: str) -> str:
    """The likely causes of ``rid`` being stopped, then where the settled CIB is."""
    causes = reasons(cib_path, root, rid)
    said = "; ".join(causes) if causes else "no constraint or failure explains it: check its agents and constraints"
    return f"{said}; the settled CIB is {cib_path}"


def reasons(cib_path: Path, root: ET.Element, rid: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="mh-why-") as tmp:
        state = simulator.simulate(cib_path, Path(tmp) / "state", run_actions=False, save_output=False)
        active = active_resources(state.result)
        promoted = promoted_on(state.result)
    ids = cibmod.lineage(root, rid)
    causes = [f"{i} has target-role={role}" for i in ids if (role := _meta(root, i, "target-role")) in _STOPPED]
    # What it depends on: (resource, whether its promoted role) -> the constraints that say so.
    needs: dict[tuple[str, bool], list[str]] = {}
    constraints = root.find(cibmod.CONSTRAINTS)
    for con in constraints if constraints is not None else ():
        if con.tag == "rsc_colocation" and con.get("rsc") in ids and not _negative(con.get("score", "0")):
            key = (con.get("with-rsc", ""), con.get("with-rsc-role", "") in _PROMOTED)
        elif con.tag == "rsc_order" and con.get("then") in ids and con.get("kind", "Mandatory") == "Mandatory":
            key = (con.get("first", ""), con.get("first-action") == "promote")
        else:
            continue
        needs.setdefault(key, []).append(f"{con.tag.removeprefix('rsc_')} {con.get('id')}")
    for (other, needs_promoted), named in needs.items():
        causes.extend(_dependency(root, other, needs_promoted, ", ".join(named), active, promoted))
    failed = [f for f in cibmod.failed_operations(root) if f.split(" ")[0].split(":")[0] in ids]
    if failed:
        causes.append("failed operations: " + "; ".join(failed))
    return causes


def _dependency(
    root: ET.Element,
    other: str,
    needs_promoted: bool,
    what: str,
    active: dict[str, list[str]],
    promoted: dict[str, list[str]],
) -> list[str]:
    if needs_promoted:
        clone = next((p for p in promotion.promotables(root) if p.clone == other), None)
        if clone is not None and not promoted.get(other):
            return [
                f"it depends on the promoted role of {other} ({what}), and no instance of {other} is promoted: "
                + _scores(root, clone)
            ]
        return []
    members = {p.get("id", "") for e in root.iter() if e.get("id") == other for p in e.iter("primitive")}
    if members and not any(k.split(":")[0] in members for k in active):
        return [f"it depends on {other} ({what}), which is not running either"]
    return []


def _scores(root: ET.Element, clone: promotion.Promotable) -> str:
    """The clone's promotion scores as the status holds them, per node."""
    nodes = cibmod.cib_node_names(root)
    names = sorted({promotion.score_name(p, False) for p in clone.primitives})
    found = [
        f"{name} {node}={value}"
        for name in names
        for node in nodes
        if (value := promotion.transient(root, node, name)) is not None
    ]
    if not found:
        return (
            f"no promotion score ({', '.join(names)}) on any node. A promotable agent sets it "
            "(crm_attribute --promotion) where its instance runs; set it in status-attributes"
        )
    return (
        f"promotion scores {', '.join(found)} ({clone.clone} promotes at most {clone.max_promoted}; "
        "an instance with a negative or no score is not promoted)"
    )


def promoted_on(result: ET.Element) -> dict[str, list[str]]:
    """Clone id -> nodes where one of its instances is promoted, from crm_simulate's status."""
    found: dict[str, list[str]] = {}
    status = result.find("cluster_status")
    for clone in status.iter("clone") if status is not None else ():
        for resource in clone.iter("resource"):
            if resource.get("role") in _PROMOTED and resource.get("active") == "true":
                found.setdefault(clone.get("id", ""), []).extend(n.get("name", "") for n in resource.iter("node"))
    return found


def _meta(root: ET.Element, rid: str, name: str) -> str | None:
    for element in root.iter():
        if element.get("id") == rid and element.tag in {"primitive", "group", "clone", "master", "bundle"}:
            found = cibmod.meta(element, name)
            if found is not None:
                return found
    return None


def _negative(score: str) -> bool:
    return score.strip().startswith("-")
