"""pytest-testinfra on a local-tier node: commands run inside the node's namespaces.

testinfra speaks shell command lines (``host.run("crm_mon -1")``, and its modules build their own);
each becomes ``/bin/sh -c LINE`` entered into the node with ``nsenter`` by ``LocalLab.run_in``, the
same way in as every other command the harness runs on a node (argument list, runner, logged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult

if TYPE_CHECKING:
    from .cluster import LocalLab

TIMEOUT = 600.0


def argv(command: str) -> list[str]:
    """The argument list that runs a testinfra command line in the node's shell."""
    return ["/bin/sh", "-c", command]


class NamespaceBackend(BaseBackend):
    """testinfra's backend for one local-tier node (as root: the node's processes are root's)."""

    NAME = "local-tier"

    def __init__(self, lab: LocalLab, node: str, **kwargs: Any) -> None:
        self.lab = lab
        self.node = node
        super().__init__(node, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        line = self.get_command(command, *args)
        result = self.lab.run_in(self.node, argv(line), check=False, timeout=TIMEOUT)
        return self.result(result.rc, self.encode(line), result.stdout, result.stderr)


def host(lab: LocalLab, node: str) -> testinfra.host.Host:
    lab.init(node)  # an unknown node: HarnessError naming the known ones
    backend = NamespaceBackend(lab, node)
    made = testinfra.host.Host(backend)
    backend.set_host(made)
    return made


def nodes(lab: LocalLab) -> list[str]:
    return list(lab.plan.node_names)
