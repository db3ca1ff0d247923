"""The nested tier's realization of a scenario: the test guest, today's storage stack, the VM's constraints kept."""

from __future__ import annotations

import gzip
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import scenario
from harness.prediction import configured_cib
from harness.scenario import Guest
from harness.tiers.nested import realize
from harness.tiers.nested.guest import initramfs, xlcfg

DOM0_AGENTS = {  # what Debian 12's resource-agents and pacemaker put in /usr/lib/ocf/resource.d
    "ocf:pacemaker:controld",
    "ocf:heartbeat:lvmlockd",
    "ocf:heartbeat:LVM-activate",
    "ocf:heartbeat:Xen",
    "ocf:heartbeat:LVM",
    "ocf:heartbeat:Filesystem",
    "ocf:pacemaker:Dummy",
}


def _configuration(name: str, style: str, tmp_path: Path) -> tuple[scenario.Scenario, ET.Element]:
    [path] = scenario.find([name])
    loaded = scenario.load(path)
    cib, _, _ = configured_cib(loaded, style, tmp_path)
    config = ET.parse(cib).getroot().find("configuration")
    assert config is not None
    return loaded, config


def _realize(loaded: scenario.Scenario, config: ET.Element, installed: set[str] = DOM0_AGENTS) -> realize.Realized:
    return realize.realize(
        config, loaded.resources[0], loaded.topology, installed, xlcfg.CONFIG, xlcfg.NAME, "mh_shared"
    )


def _constraints(made: realize.Realized) -> set[tuple[str, ...]]:
    return {tuple(c.get(a, "") for a in ("rsc", "with-rsc", "first", "then")) for c in made.constraints}


@pytest.mark.parametrize("style", ["colocation-order", "order-only"])
def test_seed_storage_becomes_todays_stack_under_the_same_clone(style: str, tmp_path: Path) -> None:
    loaded, config = _configuration("seed-xen", style, tmp_path)
    made = _realize(loaded, config)
    top = [(e.tag, e.get("id")) for e in made.resources]
    assert top == [("clone", "mh-locking"), ("clone", "c-xen-vg-fs"), ("primitive", "vm-webdev")]
    assert [p.get("type") for p in made.resources.iter("primitive")] == ["controld", "lvmlockd", "LVM-activate", "Xen"]
    storage = made.resources.find("clone[@id='c-xen-vg-fs']")
    assert storage is not None
    interleave = storage.find("meta_attributes/nvpair[@name='interleave']")
    assert interleave is not None and interleave.get("value") == "true"
    constraints = _constraints(made)
    # The VM's own constraints, as the style wrote them, plus locking before storage.
    assert ("", "", "c-xen-vg-fs", "vm-webdev") in constraints
    assert (("vm-webdev", "c-xen-vg-fs", "", "") in constraints) == (style == "colocation-order")
    assert ("", "", "mh-locking", "c-xen-vg-fs") in constraints
    assert not any("clvm" in "".join(c) for c in constraints)
    assert any("storage realized" in n and "ocf:lvm2:clvmd" in n for n in made.notes)


def test_seed_vm_runs_the_test_guest_without_start_delay(tmp_path: Path) -> None:
    loaded, config = _configuration("seed-xen", "colocation-order", tmp_path)
    made = _realize(loaded, config)
    vm = made.resources.find("primitive[@id='vm-webdev']")
    assert vm is not None
    params = {n.get("name"): n.get("value") for n in vm.iterfind("instance_attributes/nvpair")}
    assert params == {"xmfile": xlcfg.CONFIG, "name": xlcfg.NAME}
    allow = vm.find("meta_attributes/nvpair[@name='allow-migrate']")
    assert allow is not None and allow.get("value") == "true"
    assert all(op.get("start-delay") is None for op in vm.iter("op"))
    assert any("start-delay dropped" in n for n in made.notes)


def test_group_style_puts_the_shared_vg_before_the_vm_in_its_group(tmp_path: Path) -> None:
    loaded, config = _configuration("seed-xen", "group", tmp_path)
    made = _realize(loaded, config)
    group = made.resources.find("group[@id='xen-vg-fs']")
    assert group is not None
    assert [p.get("id") for p in group.iter("primitive")] == ["mh-shared-vg", "vm-webdev"]
    assert ("", "", "mh-locking", "xen-vg-fs") in _constraints(made)


def test_a_scenario_for_todays_stack_is_loaded_as_written(tmp_path: Path) -> None:
    loaded, config = _configuration("xen-lvmlockd", "colocation-order", tmp_path)
    made = _realize(loaded, config)
    ids = [p.get("id") for p in made.resources.iter("primitive")]
    resources = config.find("resources")
    assert resources is not None
    assert ids == [p.get("id") for p in resources.iter("primitive")]
    assert not any("storage realized" in n for n in made.notes)


def test_a_vm_that_is_not_xen_cannot_run_there(tmp_path: Path) -> None:
    loaded, config = _configuration("users-2016-libvirtd", "colocation-order", tmp_path)
    with pytest.raises(realize.Unrealizable, match="Xen guests"):
        _realize(loaded, config)


def test_missing_agents_without_topology_is_unrealizable(tmp_path: Path) -> None:
    loaded, config = _configuration("seed-xen", "colocation-order", tmp_path)
    with pytest.raises(realize.Unrealizable, match="no topology"):
        realize.realize(config, "vm-webdev", None, DOM0_AGENTS, xlcfg.CONFIG, xlcfg.NAME, "mh_shared")


def test_initramfs_overlay_is_a_cpio_the_kernel_reads(tmp_path: Path) -> None:
    archive = tmp_path / "overlay.cpio"
    archive.write_bytes(gzip.decompress(initramfs.overlay(b"#!/bin/sh\necho hi\n")))
    listing = subprocess.run(
        ["cpio", "-itv"], input=archive.read_bytes(), capture_output=True, check=True
    ).stdout.decode()
    assert listing.split()[0] == "-rwxr-xr-x" and listing.split()[-1] == "init"
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["cpio", "-id", "--quiet"], input=archive.read_bytes(), cwd=out, check=True)
    assert (out / "init").read_bytes() == b"#!/bin/sh\necho hi\n"


def test_xl_config_for_pv_and_pvh() -> None:
    pv = xlcfg.render(Guest("pv", 128, 0.1, 0), xlcfg.Disk("mh_shared"))
    assert 'type = "pv"' in pv and "memory = 128" in pv
    assert 'disk = [ "phy:/dev/mh_shared/mh-guest,xvda,w" ]' in pv
    assert 'extra = "console=hvc0 mh.period=0.1 mh.dirty=0"' in pv
    pvh = xlcfg.render(Guest("pvh", 96, 0.05, 32), xlcfg.Disk("vg0"))
    assert 'type = "pvh"' in pvh and "mh.period=0.05 mh.dirty=32" in pvh


def test_styles_that_differ_in_constraints_share_a_prepared_snapshot(tmp_path: Path) -> None:
    """A case starts from its scenario's snapshot with the storage up and the guest running when
    only constraints or meta attributes differ; the group style (other resources) gets its own."""
    from harness.tiers.nested.load import prepared_snapshot

    keys = {}
    for style in ("colocation-order", "colocation-order-no-interleave", "order-only", "colocation-only", "group"):
        loaded, config = _configuration("seed-xen", style, tmp_path / style)
        keys[style] = prepared_snapshot(loaded, _realize(loaded, config))
    assert len({keys[s] for s in keys if s != "group"}) == 1
    assert keys["group"] != keys["colocation-order"]
    assert all(k.startswith("prepared-") for k in keys.values())
    # Another guest (its xl config differs) never starts from this guest's snapshot.
    loaded, config = _configuration("seed-xen", "colocation-order", tmp_path / "pvh")
    other = scenario.Scenario(**{**loaded.__dict__, "guest": Guest(type="pvh")})
    assert prepared_snapshot(other, _realize(other, config)) != keys["colocation-order"]


def test_the_guests_timeouts_are_raised_for_emulation(tmp_path: Path) -> None:
    """The poster's start timeout of 60 s fails a start that takes 54-61 s under emulation (a
    group-style move then failed over back): the nested tier raises it, and says so."""
    loaded, config = _configuration("seed-xen", "group", tmp_path)
    made = _realize(loaded, config)
    vm = next(p for p in made.resources.iter("primitive") if p.get("id") == "vm-webdev")
    timeouts = {op.get("name"): op.get("timeout") for op in vm.iter("op") if op.get("interval") in {"0", "0s"}}
    assert timeouts["start"] == "180s" and timeouts["migrate_to"] == "300s", timeouts
    assert any("timeouts raised for software emulation" in n and "start 60 -> 180s" in n for n in made.notes), (
        made.notes
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("seed-xen", None),
        ("xen-lvmlockd", None),
        ("rolling-upgrade", None),
        ("seapath-meta-25", "names its own hosts"),
        ("users-2016-libvirtd", "the nested tier runs Xen guests"),
        ("ra-489-ssh-tunnel", "names its own hosts"),
    ],
)
def test_what_the_nested_tier_cannot_run_is_known_before_a_cluster(
    name: str, reason: str | None, tmp_path: Path
) -> None:
    """A scenario the nested tier would only skip (a 3-node VirtualDomain report, say) must not cost a
    cluster bring-up: the reason comes from the scenario alone."""
    from harness.tiers.nested.backend import NestedBackend

    [path] = scenario.find([name])
    said = NestedBackend(tmp_path).cannot_run(scenario.load(path))
    assert (said is None) if reason is None else (said is not None and reason in said), said


def test_configure_refuses_what_the_nested_tier_cannot_run_before_any_cluster(tmp_path: Path) -> None:
    """Every caller of configure (run_case, the migration_cluster fixture) gets the refusal before
    a cluster is brought up: the backend here has none and must not try to make one."""
    from harness.errors import CaseSkipped
    from harness.tiers.nested.backend import NestedBackend

    [path] = scenario.find(["users-2016-libvirtd"])
    backend = NestedBackend(tmp_path)
    with pytest.raises(CaseSkipped, match="the nested tier runs Xen guests"):
        backend.configure(scenario.load(path), "as-written", tmp_path / "case")
    assert backend.lab is None
