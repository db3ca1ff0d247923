"""A VM colocated with and ordered after the promoted role of a dual-primary promotable clone, on
real daemons: the stand-in promotes, answers 8 while promoted and sets its promotion score with
crm_attribute --promotion, as ocf:linbit:drbd does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cib as cibmod
from harness import notrunning, promotion
from harness import scenario as scenario_mod
from harness.engine import run_case
from harness.tiers.local.backend import LocalBackend, LocalObservation
from harness.version import pacemaker_version

pytestmark = pytest.mark.tier("local")

DRBD = """\
name: drbd-dual-primary-local
nodes: [alice, bob]
resources: [res_VirtDom1]
configuration: |
  primitive res_drbd_VirtDom1 ocf:linbit:drbd params drbd_resource=VirtDom1 \\
    op monitor interval=15s role=Master op monitor interval=30s role=Slave
  ms ms_drbd_VirtDom1 res_drbd_VirtDom1 meta master-max=2 notify=true interleave=true
  primitive res_VirtDom1 ocf:heartbeat:VirtualDomain params config=/etc/libvirt/qemu/VirtDom1.xml \\
    meta allow-migrate=true op monitor interval=10s timeout=30s
  colocation c_virtdom1_on_drbd inf: res_VirtDom1 ms_drbd_VirtDom1:Master
  order o_drbd_before_virtdom1 inf: ms_drbd_VirtDom1:promote res_VirtDom1:start
triggers: [move]
expect: migrate
"""


def test_vm_on_dual_primary_drbd_migrates_with_stand_in_promotion(local_backend: LocalBackend, tmp_path: Path) -> None:
    path = tmp_path / "drbd.yaml"
    path.write_text(DRBD)
    (case,) = scenario_mod.load(path).cases()
    result = run_case(local_backend, case, tmp_path / "case", pacemaker_version())
    assert result.passed, result.explain()
    observation = result.observation
    assert isinstance(observation, LocalObservation)
    assert observation.prediction is not None and observation.prediction["res_VirtDom1"].verdict == "migrate"
    # Before the trigger: both instances promoted (the scheduler's reading of the live CIB) on the
    # scores the stand-ins set through attrd.
    casedir = tmp_path / "case"
    state = ET.parse(casedir / "settled-state.summary.xml").getroot()
    assert {k: sorted(v) for k, v in notrunning.promoted_on(state).items()} == {"ms_drbd_VirtDom1": ["alice", "bob"]}
    settled = cibmod.read(casedir / "cib-settled.xml")
    for node in ("alice", "bob"):
        assert promotion.transient(settled, node, "master-res_drbd_VirtDom1") == "10000"
    assert any(
        n.startswith("realized: promotion score master-res_drbd_VirtDom1=10000 on alice, bob")
        for n in observation.notes
    ), observation.notes
    ran = [(e.action, e.node) for e in observation.journal if e.resource == "res_VirtDom1" and e.action != "monitor"]
    assert ran[:2] == [("migrate_to", "alice"), ("migrate_from", "bob")], ran
