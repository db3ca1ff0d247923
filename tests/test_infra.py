"""pytest-testinfra on a local-tier node, without a cluster: the command each testinfra call
becomes, and that the way in (nsenter into a process's namespaces) runs it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("testinfra")

from harness.errors import HarnessError  # noqa: E402
from harness.procs import Proc  # noqa: E402
from harness.runner import Result  # noqa: E402
from harness.tiers.local import infra  # noqa: E402
from harness.tiers.local.node import NodeDirs, enter_argv, run_in  # noqa: E402


class FakeLab:
    """What LocalLab offers the backend: run_in a node, init of a node."""

    def __init__(self, stdout: str = "", rc: int = 0) -> None:
        self.calls: list[tuple[str, list[str], dict[str, Any]]] = []
        self.stdout, self.rc = stdout, rc

    def run_in(self, node: str, argv: list[str], **kwargs: Any) -> Result:
        self.calls.append((node, argv, kwargs))
        return Result(tuple(argv), self.rc, self.stdout, "", 0.0)

    def init(self, node: str) -> Proc:
        if node not in ("node1", "node2"):
            raise HarnessError(f"unknown node '{node}'", hint="nodes: node1, node2")
        return Proc.of(os.getpid())


def test_a_testinfra_call_is_one_shell_line_in_the_node() -> None:
    lab = FakeLab(stdout="Name ID Mem\nDomain-0 0 768\n")
    host = infra.host(lab, "node1")  # type: ignore[arg-type]
    result = host.run("xl list %s", "it's mine")
    node, argv, kwargs = lab.calls[0]
    assert node == "node1"
    assert argv == ["/bin/sh", "-c", "xl list 'it'\"'\"'s mine'"]  # testinfra's own quoting of arguments
    assert kwargs["check"] is False
    assert (result.rc, result.stdout, result.succeeded) == (0, "Name ID Mem\nDomain-0 0 768\n", True)
    assert host.backend.get_pytest_id() == "local-tier://node1"


def test_a_failing_command_is_a_result_not_an_exception() -> None:
    host = infra.host(FakeLab(rc=3), "node2")  # type: ignore[arg-type]
    assert host.run("systemctl is-active pacemaker").rc == 3
    assert host.run_expect([3], "false").rc == 3


def test_an_unknown_node_names_the_known_ones() -> None:
    with pytest.raises(HarnessError, match="unknown node 'node9'"):
        infra.host(FakeLab(), "node9")  # type: ignore[arg-type]


def test_the_line_enters_every_namespace_of_the_nodes_init() -> None:
    assert enter_argv(Proc(1234, 0), infra.argv("crm_mon -1")) == [
        "nsenter",
        "-t",
        "1234",
        "-n",
        "-m",
        "-u",
        "-i",
        "-p",
        "--",
        "/bin/sh",
        "-c",
        "crm_mon -1",
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="nsenter needs root")
def test_the_way_in_runs_here(tmp_path: Path) -> None:
    # Our own process stands in for a node's init: nsenter into our own namespaces is a no-op
    # that runs the very argument list a node would.
    result = run_in(Proc.of(os.getpid()), NodeDirs(tmp_path), infra.argv("echo $HOME; exit 4"), check=False)
    assert (result.rc, result.stdout.strip()) == (4, str(tmp_path / "home"))
