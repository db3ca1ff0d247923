"""What each dom0 of a nested cluster runs: its Xen and Pacemaker versions and its OCF agents.

Read per node, because a cluster may mix releases (a rolling upgrade: node1 on Debian 12, node2 on
Debian 13). ``describe`` and ``xen_fact`` turn the readings into the backend's report line and the
``xen`` fact expectation rules match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...version import Version

if TYPE_CHECKING:
    from .ssh import Node

_VERSION = re.compile(r"\d+(\.\d+)+")
_QUERY = "${Package} ${Version}\n"
_AGENTS = (
    'cd /usr/lib/ocf/resource.d && for p in *; do for a in "$p"/*; do [ -x "$a" ] && echo "ocf:$p:${a#*/}"; done; done'
)


@dataclass(frozen=True)
class Dom0:
    release: str
    xen: str  # "4.17.5", "" when unknown
    pacemaker: str  # "2.1.5", "" when unknown

    def __str__(self) -> str:
        return f"{self.release or '?'}, Xen {self.xen or '?'}, Pacemaker {self.pacemaker or '?'}"


def parse_versions(dpkg_query: str, release: str = "") -> Dom0:
    """``dpkg-query -W -f '${Package} ${Version}\\n' xen-hypervisor-common pacemaker`` read."""
    found: dict[str, str] = {}
    for line in dpkg_query.splitlines():
        parts = line.split()
        if len(parts) == 2 and (match := _VERSION.match(parts[1].split(":", 1)[-1])):
            found[parts[0]] = match.group(0)
    return Dom0(release, found.get("xen-hypervisor-common", ""), found.get("pacemaker", ""))


def read(node: Node, release: str = "") -> Dom0:
    out = node.run(["dpkg-query", "-W", "-f", _QUERY, "xen-hypervisor-common", "pacemaker"], check=False).stdout
    return parse_versions(out, release)


def installed_agents(node: Node) -> set[str]:
    return set(node.run(["sh", "-c", _AGENTS]).stdout.split())


def describe(dom0s: Mapping[str, Dom0]) -> str:
    """One node's versions when all agree, else each node's: 'node1 bookworm, Xen 4.17.5, ...; node2 ...'."""
    if not dom0s:
        return ""
    distinct = set(dom0s.values())
    if len(distinct) == 1:
        return str(next(iter(distinct)))
    return "; ".join(f"{name} {dom0}" for name, dom0 in dom0s.items())


def xen_fact(dom0s: Mapping[str, Dom0]) -> str:
    """The ``xen`` an expectation rule's range is matched against: the oldest Xen of the cluster
    (in a mixed cluster a migration needs both ends; the older one is the limit), "" when unknown."""
    known = [d.xen for d in dom0s.values() if d.xen]
    return min(known, key=Version.parse) if known else ""
