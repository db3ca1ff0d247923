"""``crm_mon --output-as=xml`` read once, purely: membership, DC, quorum, resource roles.

Every place that asks a live cluster "who is online, is there a DC, is fencing started" runs
``crm_mon -1 --output-as=xml`` its own way (nsenter, SSH) and hands the text here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .errors import HarnessError


@dataclass(frozen=True)
class NodeState:
    name: str
    online: bool
    standby: bool = False
    unclean: bool = False


@dataclass(frozen=True)
class ClusterStatus:
    nodes: dict[str, NodeState]
    dc: str | None  # None: no DC elected
    quorum: bool
    roles: dict[str, str] = field(default_factory=dict)  # resource id -> role ("Started", "Stopped", ...)

    @property
    def online(self) -> set[str]:
        return {name for name, state in self.nodes.items() if state.online}


def parse(text: str) -> ClusterStatus:
    """The cluster as one node's crm_mon sees it; HarnessError if the text is not crm_mon's XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise HarnessError(f"crm_mon output is not XML: {exc}: {text[:200]!r}") from None
    nodes = {
        entry.get("name", ""): NodeState(
            entry.get("name", ""),
            entry.get("online") == "true",
            entry.get("standby") == "true",
            entry.get("unclean") == "true",
        )
        for entry in root.iterfind("nodes/node")
    }
    dc_entry = root.find("summary/current_dc")
    present = dc_entry is not None and dc_entry.get("present") == "true"
    return ClusterStatus(
        nodes,
        dc_entry.get("name") if present and dc_entry is not None else None,
        dc_entry is not None and dc_entry.get("with_quorum") == "true",
        {r.get("id", ""): r.get("role", "") for r in root.iter("resource")},
    )
