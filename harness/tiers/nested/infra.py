"""pytest-testinfra ``host`` objects for the nested tier's machines, over the lab's own SSH
connections (opened inside the run's network namespace), so users' tests can say
``lab.testinfra_host("node1").service("pacemaker").is_running``."""

from __future__ import annotations

import paramiko
import testinfra.host
from testinfra.backend.paramiko import ParamikoBackend

from .ssh import Node


class LabBackend(ParamikoBackend):
    """testinfra's paramiko backend, with the SSH client taken from a lab Node."""

    NAME = "nested"

    def __init__(self, node: Node, sudo: bool = True) -> None:
        super().__init__(f"{node.endpoint.user}@{node.name}", sudo=sudo)
        self._node = node

    @property  # type: ignore[override]
    def client(self) -> paramiko.SSHClient:
        return self._node.client(wait=60)


def host(node: Node, sudo: bool = True) -> testinfra.host.Host:
    return testinfra.host.Host(LabBackend(node, sudo=sudo))
