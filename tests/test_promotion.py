"""Promotable clones on the simulate tier: the promotion scores a promotable agent would set, realized
where crm_simulate runs no agent, and what a resource that needs a promoted instance says when none
is. Every test runs the real tools (crmsh or pcs, crm_simulate) through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import cib as cibmod
from harness import cli, promotion

# ADMIN-Magazin 2011/05 (Loschwitz, "Pacemaker, Libvirt und KVM"): a VM on dual-primary DRBD.
DRBD = """\
name: drbd-dual-primary
nodes: [alice, bob]
resources: [res_VirtDom1]
{scores}configuration: |
  primitive res_drbd_VirtDom1 ocf:linbit:drbd params drbd_resource=VirtDom1 \\
    op monitor interval=15s role=Master op monitor interval=30s role=Slave
  ms ms_drbd_VirtDom1 res_drbd_VirtDom1 meta master-max=2 notify=true interleave=true
  primitive res_VirtDom1 ocf:heartbeat:VirtualDomain params config=/etc/libvirt/qemu/VirtDom1.xml \\
    meta allow-migrate=true op monitor interval=10s timeout=30s
  colocation c_virtdom1_on_drbd inf: res_VirtDom1 ms_drbd_VirtDom1:Master
  order o_drbd_before_virtdom1 inf: ms_drbd_VirtDom1:promote res_VirtDom1:start
triggers: [move, standby, crash]
expect:
  - trigger: crash
    verdict: start
  - trigger: standby
    verdict: move
    why: "Pacemaker: Move res_VirtDom1 ( alice -> bob ) due to unrunnable ms_drbd_VirtDom1 demote"
  - verdict: migrate
"""
SCORES = "status-attributes: {{alice: {{master-res_drbd_VirtDom1: {a}}}, bob: {{master-res_drbd_VirtDom1: {b}}}}}\n"
REALIZED = "realized: promotion score master-res_drbd_VirtDom1=10000 on alice, bob (every node where the instance runs)"


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    rc = cli.main(["run", "--json", str(path)])
    out, err = capsys.readouterr()
    return rc, json.loads(out)["cases"], err


def _verdicts(cases: list[dict]) -> set[tuple[str, str, str | None, str | None]]:
    return {(c["trigger"], v["verdict"], v["from"], v["to"]) for c in cases for v in c["verdicts"]}


# What plain crm_simulate answers on the same CIB with master-res_drbd_VirtDom1=10000 set by hand on
# both nodes: "Migrate res_VirtDom1 ( alice -> bob )"; "Move res_VirtDom1 ( alice -> bob ) due to
# unrunnable ms_drbd_VirtDom1 demote"; "Start res_VirtDom1 ( bob )".
PACEMAKER = {
    ("move", "migrate", "alice", "bob"),
    ("standby", "move", "alice", "bob"),
    ("crash", "start", None, "bob"),
}


def test_dual_primary_drbd_runs_with_the_agents_promotion_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, cases, err = _run(tmp_path, DRBD.format(scores=""), capsys)
    assert rc == 0, (cases, err)
    assert _verdicts(cases) == PACEMAKER
    for case in cases:
        assert any(n.startswith(REALIZED) for n in case["notes"]), case["notes"]


def test_the_scenarios_own_promotion_scores_win(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, cases, err = _run(tmp_path, DRBD.format(scores=SCORES.format(a=10000, b=10000)), capsys)
    assert rc == 0, (cases, err)
    assert _verdicts(cases) == PACEMAKER  # the same answer as the realized scores
    notes = cases[0]["notes"]
    assert not any(n.startswith("realized: promotion score") for n in notes), notes
    assert (
        "promotion scores master-res_drbd_VirtDom1 as the scenario's status-attributes set them (none added)" in notes
    )


def test_a_vm_that_needs_a_promoted_instance_says_so_when_none_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DRBD.format(scores=SCORES.format(a="-INFINITY", b="-INFINITY")).replace(
        "triggers: [move, standby, crash]", "triggers: [move]"
    )
    rc, cases, err = _run(tmp_path, text, capsys)
    assert rc == 1
    (case,) = cases
    assert "'res_VirtDom1' is not running after the cluster settled" in case["error"]
    assert (
        "it depends on the promoted role of ms_drbd_VirtDom1 (colocation c_virtdom1_on_drbd, order "
        "o_drbd_before_virtdom1), and no instance of ms_drbd_VirtDom1 is promoted: promotion scores "
        "master-res_drbd_VirtDom1 alice=-INFINITY, master-res_drbd_VirtDom1 bob=-INFINITY"
    ) in case["error"]
    # The printed evidence directory exists, and holds what there is: the error and its paths.
    evidence = Path(case["evidence"])
    assert (evidence / "error.txt").read_text().startswith(case["error"])
    settled = case["error"].split("the settled CIB is ")[1].strip()
    assert Path(settled).is_file()


def test_a_dependency_that_is_not_running_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = """\
name: stopped-storage
nodes: 2
resources: [vm]
configuration: |
  primitive lv ocf:pacemaker:Dummy meta target-role=Stopped
  primitive vm ocf:pacemaker:Dummy meta allow-migrate=true
  colocation c inf: vm lv
triggers: [move]
expect: migrate
"""
    rc, (case,), err = _run(tmp_path, text, capsys)
    assert rc == 1
    assert "it depends on lv (colocation c), which is not running either" in case["error"]


def test_single_primary_promotable_clone_from_pcs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # pcs writes <clone> with promotable=true (crmsh's ms is <master>); promoted-max=1: the promoted
    # role moves with the VM, so Pacemaker stops and starts it.
    text = """\
name: pcs-stateful
nodes: [alice, bob, carol]
resources: [vm]
configuration: |
  pcs resource create st ocf:pacemaker:Stateful promotable promoted-max=1
  pcs resource create vm ocf:heartbeat:VirtualDomain config=/etc/libvirt/qemu/vm.xml meta allow-migrate=true
  pcs constraint colocation add vm with Promoted st-clone INFINITY
  pcs constraint order promote st-clone then start vm
triggers: [move]
expect: move
"""
    rc, cases, err = _run(tmp_path, text, capsys)
    assert rc == 0, (cases, err)
    assert _verdicts(cases) == {("move", "move", "alice", "bob")}
    assert any(
        n.startswith("realized: promotion score master-st=10000 on alice, bob, carol") for n in cases[0]["notes"]
    )


def test_promotion_scores_only_where_an_instance_runs() -> None:
    root = cibmod.parse(
        b"""<cib><configuration><resources>
          <clone id="u"><meta_attributes id="m"><nvpair id="p" name="promotable" value="true"/>
            <nvpair id="g" name="globally-unique" value="true"/></meta_attributes>
            <primitive id="x" class="ocf" provider="pacemaker" type="Stateful"/></clone>
          <clone id="plain"><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/></clone>
        </resources></configuration><status/></cib>""",
        Path("inline.xml"),
    )
    active = {"x:0": ["node1"], "x:1": ["node2"], "d": ["node1", "node2"]}
    assert [(a.node, a.name, a.value) for a in promotion.missing(root, active, [])] == [
        ("node1", "master-x:0", "10000"),
        ("node2", "master-x:1", "10000"),
    ]
