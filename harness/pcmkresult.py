"""What ``crm_simulate --output-as=xml`` says, read: its Transition Summary and where resources are.

Pure: an ElementTree element in, frozen dataclasses out. Roles get their Pacemaker 2.1+ names, so
that answers of different releases compare.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from . import pcmksummary


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
    role: str | None = None  # the role before (Promoted, Unpromoted, Stopped...)
    next_role: str | None = None  # the role after, where it changes

    @property
    def role_text(self) -> str | None:
        return self.line().role_text

    def line(self) -> pcmksummary.Line:
        """The same action in the terms of a text summary line (for comparing with one)."""
        return pcmksummary.Line(
            self.action.lower(),
            self.resource,
            self.node,
            self.source,
            self.target,
            self.role,
            self.next_role,
            self.reason,
            self.blocked,
        )

    def __str__(self) -> str:
        return str(self.line())


def summary_actions(result: ET.Element) -> list[SummaryAction]:
    """The 'Transition Summary' of ``crm_simulate --output-as=xml`` (roles by their 2.1+ names)."""
    actions = []
    for a in result.iterfind("actions/rsc_action"):
        source, target = a.get("source"), a.get("dest") or a.get("target")
        node = a.get("node")
        if source and not target and not node:
            # An action in place (restart, reload, promote...) names its node "source".
            node, source = source, None
        actions.append(
            SummaryAction(
                resource=a.get("resource", ""),
                action=a.get("action", ""),
                node=node,
                source=source,
                target=target,
                reason=a.get("reason"),
                blocked=a.get("blocked") == "true",
                role=pcmksummary.role(a.get("role")),
                next_role=pcmksummary.role(a.get("next-role")),
            )
        )
    return actions


def summary_fencing(result: ET.Element) -> list[pcmksummary.Fence]:
    """The fencing lines of the summary: ``node_action task="Fence (reboot)" node="n (resource: r)"``."""
    fencing = []
    for action in result.iterfind("actions/node_action"):
        kind = action.get("task", "").partition("(")[2].rstrip(")") or action.get("task", "")
        node, _, resource = action.get("node", "").partition(" (resource: ")
        fencing.append(pcmksummary.Fence(kind, node, action.get("reason"), resource.rstrip(")") or None))
    return fencing


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
