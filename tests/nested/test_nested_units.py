"""Unit tests of the nested tier's pure parts: host detection, the run plan, output readings."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.tiers.nested import checks, hostcaps, settings


def test_kvm_needs_cpu_flag_device_and_vendor_module() -> None:
    # Like this machine: a /dev/kvm (kvm_pvm) but no vmx/svm: software emulation.
    assert hostcaps.classify(set(), True, {"kvm", "kvm_pvm"}, None).mode == "tcg"
    assert hostcaps.classify({"svm"}, False, {"kvm", "kvm_amd"}, "1").mode == "tcg"
    assert hostcaps.classify({"vmx"}, True, {"kvm"}, None).mode == "tcg"
    mode = hostcaps.classify({"vmx"}, True, {"kvm", "kvm_intel"}, "Y\n")
    assert (mode.mode, mode.nested) == ("kvm", True)


def test_plan_is_derived_from_the_run_id() -> None:
    a, b = settings.make_plan("abc123", 2), settings.make_plan("abc124", 3)
    assert a == settings.make_plan("abc123", 2)
    assert a.machines == ("san", "node1", "node2") and b.nodes == ("node1", "node2", "node3")
    assert a.addresses["san"].endswith(".10") and a.addresses["node2"].endswith(".12")
    assert a.prefix == "mh-abc123-" and a.target_iqn.endswith(":abc123.san")
    assert a.management_cidr != b.management_cidr or a.cluster_prefix != b.cluster_prefix


@pytest.mark.parametrize("nodes,run_id", [(1, "abc"), (4, "abc"), (2, "a/b"), (2, "x" * 13)])
def test_plan_rejects_bad_input(nodes: int, run_id: str) -> None:
    with pytest.raises(InputError):
        settings.make_plan(run_id, nodes)


CRM_MON = """<pacemaker-result api-version="2.3" request="crm_mon">
  <summary><current_dc present="true" name="node1" with_quorum="true"/></summary>
  <nodes>
    <node name="node1" id="1" online="true"/>
    <node name="node2" id="2" online="{online}"/>
  </nodes>
  <resources><resource id="fence-sbd" resource_agent="stonith:external/sbd" role="Started"/></resources>
</pacemaker-result>"""


def test_cluster_formed() -> None:
    assert checks.cluster_formed(CRM_MON.format(online="true"), ["node1", "node2"]).ok
    bad = checks.cluster_formed(CRM_MON.format(online="false"), ["node1", "node2"])
    assert not bad.ok and "node2" in bad.detail
    assert not checks.cluster_formed("not xml", ["node1"]).ok


def test_luns_vg_sbd() -> None:
    iqn = "iqn.2026-11.org.migration-harness:abc123.san"
    paths = f"ip-10.1.2.10:3260-iscsi-{iqn}-lun-0 ip-10.1.2.10:3260-iscsi-{iqn}-lun-1"
    assert checks.luns(paths, iqn).ok
    assert not checks.luns(paths.split()[0], iqn).ok
    assert checks.shared_vg("  mh_shared dlm\n", "mh_shared").ok
    assert not checks.shared_vg("  mh_shared \n", "mh_shared").ok
    assert checks.sbd_armed("0\tnode1\tclear\n1\tnode2\tclear\n", "node2").ok
    assert not checks.sbd_armed("0\tnode1\treset\tnode2\n", "node1").ok


def test_each_run_has_its_own_vagrant_home_sharing_the_boxes(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs at once (pytest-xdist workers) with one VAGRANT_HOME failed: Vagrant's machine index
    matched the second run's san/node1 to the first's, locked ("Vagrant can't use the requested
    machine because it is locked!"). Each run has its own home; the imported boxes are shared."""
    import shutil

    from harness.runner import run
    from harness.tiers.nested import vagrantctl

    monkeypatch.setenv("MIGRATION_HARNESS_CACHE", str(tmp_path / "cache"))
    one, two = tmp_path / "runs" / "aaa111", tmp_path / "runs" / "bbb222"
    env_one = vagrantctl.environment(one, one / "settings.json")
    env_two = vagrantctl.environment(two, two / "settings.json")
    assert env_one["VAGRANT_HOME"] != env_two["VAGRANT_HOME"]
    shared = tmp_path / "cache" / "vagrant.d" / "boxes"
    for home in (env_one["VAGRANT_HOME"], env_two["VAGRANT_HOME"]):
        boxes = Path(home) / "boxes"
        assert boxes.is_symlink() and boxes.resolve() == shared.resolve()
    assert vagrantctl.environment(one, one / "settings.json") == env_one  # again: the same, no error
    # A box imported through one run's home is seen through the other's (real vagrant, where installed).
    box = shared / "mh-test-box" / "0" / "libvirt"
    box.mkdir(parents=True)
    (box / "metadata.json").write_text('{"provider": "libvirt", "format": "qcow2", "virtual_size": 1}')
    if shutil.which("vagrant") is None:
        pytest.skip("vagrant not installed: the shared directory checked, not Vagrant's view of it")
    listed = run(["vagrant", "box", "list"], env=env_two, timeout=120).stdout
    assert "mh-test-box" in listed


def test_the_bring_up_reports_through_the_sessions_progress(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bring-up is ten minutes: its lines go where the session's progress goes (the terminal past
    pytest's capture; under xdist the worker's lines, by id), not to a captured print."""
    from harness.tiers.nested import backend, cluster

    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def create(nodes, rundir, progress=None, dom0s=None):
        seen["progress"] = progress
        raise Stop

    monkeypatch.setenv("MIGRATION_HARNESS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(cluster.NestedLab, "create", staticmethod(create))
    nested = backend.NestedBackend(tmp_path / "work")
    lines: list[str] = []
    nested.progress = lines.append
    with pytest.raises(Stop):
        nested.up(2)
    assert seen["progress"] == lines.append
