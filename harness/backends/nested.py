"""The nested tier: Vagrant + libvirt VMs running Xen dom0s with an iSCSI SAN (harness/nested/).

Part 1 (this module now): sanity check, report header, bring-up and teardown of a ``NestedLab``.
Part 2 (issue 5) adds ``configure`` and ``trigger`` with real ``ocf:heartbeat:Xen`` guests; until
then they raise a HarnessError saying so. Heavy imports (python-vagrant, paramiko) happen in
``up`` only, so the sanity check can report them missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BackendUnavailable, HarnessError
from ..nested import hostcaps
from ..rundir import RunDir
from ..scenario import Scenario
from ..triggers import Resolved
from .base import Backend, Observation, Settled

if TYPE_CHECKING:
    from ..nested.cluster import NestedLab


class NestedBackend(Backend):
    name = "nested"
    concurrent = False

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.lab: "NestedLab | None" = None

    @classmethod
    def sanity_check(cls) -> None:
        hostcaps.sanity_check(isolated=True)

    def describe(self) -> str:
        return f"nested: Vagrant + libvirt, Xen dom0 VMs + iSCSI SAN; {hostcaps.detect().describe()}"

    def up(self, nodes: int) -> None:
        from ..nested.cluster import NestedLab

        # Not before minutes of bring-up: say at once that scenarios cannot run here yet.
        raise BackendUnavailable(
            "the nested tier brings clusters up (migration-harness up --tier nested, the smoke test) "
            "but runs no scenarios yet: real Xen guests under Pacemaker are the next step (issue 5)"
        )

        if self.lab is not None and len(self.lab.plan.nodes) == nodes:
            self.lab.restore()
            return
        self.down()
        self.lab = NestedLab.create(nodes, RunDir.create("nested"))

    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled:
        raise HarnessError("the nested tier runs no scenarios yet (issue 5)")

    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> Observation:
        raise HarnessError("the nested tier runs no scenarios yet (issue 5)")

    def down(self) -> None:
        if self.lab is not None:
            self.lab.down()
            self.lab = None
