"""A live cluster's nodes as pytest-testinfra hosts, by node name (the ``migration_nodes`` fixture).

Each host is made on first use by the lab (``Lab.testinfra_host``), so a test that looks at one
node opens nothing on the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .tiers.base import Lab


class NodeHosts(Mapping[str, Any]):
    """``hosts["node1"].run("crm_mon -1")``; iterating gives the cluster's node names."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        self._names = lab.testinfra_nodes()  # also: a missing pytest-testinfra fails here, clearly
        self._hosts: dict[str, Any] = {}

    def __getitem__(self, node: str) -> Any:
        if node not in self._hosts:
            self._hosts[node] = self._lab.testinfra_host(node)
        return self._hosts[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<NodeHosts {', '.join(self._names)}>"
