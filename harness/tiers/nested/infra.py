"""pytest-testinfra on a nested-tier machine (a Xen dom0, or the SAN): through the lab's SSH session.

testinfra speaks shell command lines; each becomes ``sudo -n /bin/sh -c LINE`` over the lab's own
paramiko session (``ssh.Node.run``: inside the run's network namespace, logged under --debug,
a lost connection reported with the machine and the command), so assertions see the dom0 as root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node

TIMEOUT = 600.0


class LabSSHBackend(BaseBackend):
    """testinfra's backend for one machine of a nested-tier run."""

    NAME = "nested-tier"

    def __init__(self, node: Node, **kwargs: Any) -> None:
        self.machine = node
        super().__init__(node.name, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        line = self.get_command(command, *args)
        result = self.machine.run(["/bin/sh", "-c", line], sudo=True, check=False, timeout=TIMEOUT)
        return self.result(result.rc, self.encode(line), result.stdout, result.stderr)


def host(lab: NestedLab, node: str) -> testinfra.host.Host:
    backend = LabSSHBackend(lab.node(node))  # an unknown machine: InputError naming the known ones
    made = testinfra.host.Host(backend)
    backend.set_host(made)
    return made


def nodes(lab: NestedLab) -> list[str]:
    return list(lab.plan.nodes)
