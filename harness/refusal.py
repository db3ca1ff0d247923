"""Why a move did not happen, in Pacemaker's own words and naming the constraint that refused it.

Two ways a move is refused: ``crm_resource`` itself refuses the command (its message is kept, the
CIB it may print is not), or it accepts it and the scheduler keeps the resource where it is (a
``-INFINITY`` location, a ban, a ``#uname`` rule, a colocation with something that cannot run
there): the constraints that forbid the target node are named from the CIB.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from . import cib as cibmod
from .errors import HarnessError
from .runner import Result

_NEGATIVE_INFINITY = {"-INFINITY", "-infinity", "-inf"}


def command_refused(result: Result, what: str, root: ET.Element, resource: str, node: str) -> HarnessError:
    """The error for a refused trigger command: crm_resource's own lines (no XML), and the
    constraints that forbid ``node``."""
    lines = [
        line.strip()
        for line in (result.stderr + "\n" + result.stdout).splitlines()
        if line.strip() and not line.lstrip().startswith("<")
    ]
    said = "\n    ".join(dict.fromkeys(lines[:8])) or f"exit {result.rc}, no message"
    blocking = forbidding(root, resource, node)
    return HarnessError(
        f"{what} was refused (crm_resource exited {result.rc}):\n    {said}"
        + (f"\n  forbidden by: {'; '.join(blocking)}" if blocking else ""),
        hint="choose another target node in the trigger ({move: {node: ...}}), or change the constraint",
    )


def forbidding(root: ET.Element, resource: str, node: str) -> list[str]:
    """Constraints of the CIB that keep ``resource`` (or its group/clone) off ``node``."""
    ids = cibmod.lineage(root, resource)
    found: list[str] = []
    constraints = root.find(cibmod.CONSTRAINTS)
    for loc in constraints.iter("rsc_location") if constraints is not None else ():
        if loc.get("rsc") not in ids:
            continue
        if loc.get("node") == node and loc.get("score") in _NEGATIVE_INFINITY:
            found.append(f"location {loc.get('id')} ({loc.get('rsc')} -INFINITY on {node})")
        for rule in loc.iter("rule"):
            for expr in rule.iter("expression"):
                if expr.get("attribute") != "#uname":
                    continue
                excludes = (
                    rule.get("score") in _NEGATIVE_INFINITY
                    and expr.get("operation") == "eq"
                    and expr.get("value") == node
                ) or (rule.get("score") == "INFINITY" and expr.get("operation") == "eq" and expr.get("value") != node)
                if excludes:
                    found.append(
                        f"location {loc.get('id')} rule {rule.get('id')} "
                        f"(score {rule.get('score')}: #uname {expr.get('operation')} {expr.get('value')})"
                    )
    for col in constraints.iter("rsc_colocation") if constraints is not None else ():
        if col.get("rsc") in ids and col.get("score") in {"INFINITY", "+INFINITY"}:
            found.append(
                f"colocation {col.get('id')} ({col.get('rsc')} with {col.get('with-rsc')}: "
                f"{resource} can only go where {col.get('with-rsc')} runs)"
            )
    return found


def stayed_note(root: ET.Element, resource: str, node: str) -> str:
    """The note for a move the scheduler did not carry out."""
    blocking = forbidding(root, resource, node)
    if blocking:
        return f"the move of {resource} to {node} was not carried out: forbidden by " + "; ".join(blocking)
    return (
        f"the move of {resource} to {node} was not carried out: no constraint forbids {node} outright; "
        "see the scheduler's scores (crm_simulate -Ls on cib-trigger.xml)"
    )
