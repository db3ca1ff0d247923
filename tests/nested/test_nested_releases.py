"""Per-node dom0 releases (a rolling upgrade: node1 on Debian 12, node2 on Debian 13): the plan and
settings, the lab's identity the backend compares, the versions read per node, the box inputs per
release, and what Pacemaker 3.0.0's crm_mon prints."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import BackendUnavailable, InputError
from harness.rundir import RunDir
from harness.tiers.nested import backend as backend_mod
from harness.tiers.nested import box, checks, cluster, dom0info, settings

DATA = Path(__file__).parent.parent / "data" / "nested"
MIXED = {"node1": "bookworm", "node2": "trixie"}


def test_machine_releases_default_and_mixed() -> None:
    plan = settings.make_plan("abc123", 2)
    assert settings.machine_releases(plan, "bookworm") == dict.fromkeys(("san", "node1", "node2"), "bookworm")
    mixed = settings.machine_releases(plan, "bookworm", {"node2": "trixie"})
    assert mixed == {"san": "bookworm", "node1": "bookworm", "node2": "trixie"}
    with pytest.raises(InputError, match="node3"):
        settings.machine_releases(plan, "bookworm", {"node3": "trixie"})


def test_vagrant_settings_give_each_machine_its_box() -> None:
    plan = settings.make_plan("abc123", 2)
    made = settings.vagrant_settings(
        plan, box="mh-bookworm-x", boxes={"node2": "mh-trixie-y"}, cpu_mode="tcg", serial_dir=Path("/s")
    )
    assert made["box"] == "mh-bookworm-x"
    assert {m["name"]: m["box"] for m in made["machines"]} == {
        "san": "mh-bookworm-x",
        "node1": "mh-bookworm-x",
        "node2": "mh-trixie-y",
    }
    plain = settings.vagrant_settings(plan, box="mh-bookworm-x", cpu_mode="tcg", serial_dir=Path("/s"))
    assert {m["box"] for m in plain["machines"]} == {"mh-bookworm-x"}


def test_wanted_identity_names_every_node_and_its_release() -> None:
    assert settings.wanted_identity(2, "bookworm") == (("node1", "bookworm"), ("node2", "bookworm"))
    wanted = settings.wanted_identity(3, "bookworm", {"node2": "trixie"})
    assert wanted == (("node1", "bookworm"), ("node2", "trixie"), ("node3", "bookworm"))
    assert settings.show_identity(wanted) == "node1 bookworm, node2 trixie, node3 bookworm"


def _rundir(tmp_path: Path, **data: Any) -> RunDir:
    run = RunDir.create("nested", base=tmp_path)
    run.update(nodes=2, **data)
    return run


def test_lab_identity_from_its_recorded_releases_or_its_box(tmp_path: Path) -> None:
    releases = {"san": "bookworm", **MIXED}
    lab = cluster.NestedLab(_rundir(tmp_path, box="mh-bookworm-xen4.17.5.72-d78b080799b3", releases=releases))
    assert lab.identity() == (("node1", "bookworm"), ("node2", "trixie"))
    # A run from before per-node releases: every machine on the one box, its release in the name.
    old = cluster.NestedLab(_rundir(tmp_path, box="mh-bookworm-xen4.17.5.72-d78b080799b3"))
    assert old.identity() == (("node1", "bookworm"), ("node2", "bookworm"))
    assert cluster.box_release("mh-trixie-xencandidate-d2158d5f7269") == "trixie"
    assert cluster.box_release("something-else") == ""


class FakeNode:
    def __init__(self, name: str, query: str) -> None:
        self.name, self.query = name, query

    def run(self, argv: list[str], **_: Any) -> SimpleNamespace:
        return SimpleNamespace(stdout=self.query, ok=True)


QUERIES = {
    "bookworm": "xen-hypervisor-common 4.17.5+72-g01140da4e8-1\npacemaker 2.1.5-1+deb12u1\n",
    "trixie": "xen-hypervisor-common 4.20.4+63-g7abfd2bce2-0+deb13u1\npacemaker 3.0.0-2\n",
}


class FakeLab:
    def __init__(self, releases: dict[str, str]) -> None:
        self._releases = releases
        self.downed = False

    def identity(self) -> settings.Identity:
        return tuple(sorted(self._releases.items()))

    def releases(self) -> dict[str, str]:
        return dict(self._releases)

    def nodes(self) -> list[FakeNode]:
        return [FakeNode(n, QUERIES[r]) for n, r in sorted(self._releases.items())]

    def down(self) -> None:
        self.downed = True


@pytest.fixture
def bookworm_host(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    """The active release is bookworm; NestedLab.create records what it was asked for."""
    created: list[tuple[int, Any]] = []

    def create(nodes: int, rundir: RunDir, progress: Any = None, dom0s: Any = None) -> FakeLab:
        created.append((nodes, dom0s))
        return FakeLab(dict(settings.wanted_identity(nodes, "bookworm", dom0s)))

    monkeypatch.setattr(cluster, "dom0_release", lambda: "bookworm")
    monkeypatch.setattr(cluster.NestedLab, "create", staticmethod(create))
    monkeypatch.setattr(RunDir, "create", classmethod(lambda cls, tier, base=None: SimpleNamespace(tier=tier)))
    return created


def test_backend_keeps_a_lab_of_the_wanted_identity_and_replaces_another(
    tmp_path: Path, bookworm_host: list[tuple[int, Any]]
) -> None:
    backend = backend_mod.NestedBackend(tmp_path)
    backend.up(2, MIXED)
    assert bookworm_host == [(2, MIXED)]
    mixed = backend.lab
    backend.up(2, {"node1": "bookworm", "node2": "trixie"})  # the same identity: kept
    assert backend.lab is mixed and len(bookworm_host) == 1
    backend.up(2)  # every node on the active release: another cluster
    assert isinstance(mixed, FakeLab) and mixed.downed
    assert bookworm_host[-1] == (2, None)
    backend.up(2, {"node1": "bookworm"})  # names only what is the default anyway: kept
    assert len(bookworm_host) == 2


def test_backend_reads_versions_per_node(tmp_path: Path, bookworm_host: list[tuple[int, Any]]) -> None:
    backend = backend_mod.NestedBackend(tmp_path)
    backend.up(2, MIXED)
    described = backend.describe()
    assert "node1 bookworm, Xen 4.17.5, Pacemaker 2.1.5" in described
    assert "node2 trixie, Xen 4.20.4, Pacemaker 3.0.0" in described
    scenario = SimpleNamespace(guest=SimpleNamespace(type="pv"))
    assert backend.facts(scenario)["xen"] == "4.17.5"  # type: ignore[arg-type]


def test_an_attached_run_of_other_releases_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "dom0_release", lambda: "bookworm")
    monkeypatch.setattr(
        cluster.NestedLab, "attach", staticmethod(lambda rundir: FakeLab(dict.fromkeys(MIXED, "bookworm")))
    )
    monkeypatch.setattr(RunDir, "open", classmethod(lambda cls, path: None))
    backend = backend_mod.NestedBackend(tmp_path, run_dir=tmp_path)
    with pytest.raises(BackendUnavailable, match="node2 bookworm.*needs node1 bookworm, node2 trixie"):
        backend.up(2, MIXED)
    backend.up(2)
    assert backend.lab is not None


def test_dom0_versions_read_and_described() -> None:
    old = dom0info.parse_versions(QUERIES["bookworm"], "bookworm")
    new = dom0info.parse_versions(QUERIES["trixie"], "trixie")
    assert (old.xen, old.pacemaker, new.xen, new.pacemaker) == ("4.17.5", "2.1.5", "4.20.4", "3.0.0")
    assert dom0info.describe({"node1": old, "node2": old}) == "bookworm, Xen 4.17.5, Pacemaker 2.1.5"
    assert dom0info.xen_fact({"node1": new, "node2": old}) == "4.17.5"
    assert dom0info.xen_fact({}) == ""
    assert dom0info.parse_versions("", "trixie") == dom0info.Dom0("trixie", "", "")


def test_box_inputs_of_one_release_leave_out_the_others_files(tmp_path: Path) -> None:
    inputs = tmp_path / "box"
    (inputs / "hooks").mkdir(parents=True)
    (inputs / "build.sh").write_text("build")
    (inputs / "packages-bookworm.txt").write_text("xen-utils-4.17")
    (inputs / "packages-trixie.txt").write_text("xen-utils-4.20")
    before = {r: box.inputs_hash(r, None, "m", "s", inputs) for r in box.RELEASES}
    (inputs / "hooks" / "customize15-trixie.sh").write_text("trixie only")
    after = {r: box.inputs_hash(r, None, "m", "s", inputs) for r in box.RELEASES}
    assert after["bookworm"] == before["bookworm"] and after["trixie"] != before["trixie"]
    (inputs / "hooks" / "customize10-system.sh").write_text("every release")
    assert all(box.inputs_hash(r, None, "m", "s", inputs) != after[r] for r in box.RELEASES)
    assert box.for_release("customize15-trixie.sh", "trixie") and not box.for_release(
        "customize15-trixie.sh", "bookworm"
    )
    assert box.for_release("build.sh", "bookworm") and box.for_release("packages-bookworm.txt", "bookworm")


def test_the_shipped_box_inputs_per_release() -> None:
    trixie = (box.PROVISIONING / "packages-trixie.txt").read_text().split()
    assert {"xen-hypervisor-4.20-amd64", "xen-utils-4.20", "dlm-controld", "lvm2-lockd", "sbd"} <= set(trixie)
    assert not any("4.17" in p for p in trixie)
    hooks = [p.name for p in (box.PROVISIONING / "hooks").iterdir()]
    assert [h for h in hooks if not box.for_release(h, "bookworm")] == ["customize15-trixie.sh"]


@pytest.mark.parametrize("version", ["2.1.5", "3.0.0"])
def test_cluster_formed_on_real_crm_mon_output(version: str) -> None:
    text = (DATA / f"crm_mon-{version}.xml").read_text()
    assert checks.cluster_formed(text, ["node1", "node2"]).ok
    assert not checks.cluster_formed(text, ["node1", "node2", "node3"]).ok


def test_the_rolling_upgrade_scenarios_name_their_dom0s() -> None:
    from harness import scenario

    for name, target in (("rolling-upgrade", "node2"), ("rolling-upgrade-back", "node1")):
        [path] = scenario.find([name])
        loaded = scenario.load(path)
        assert loaded.dom0s == MIXED
        assert [(c.style, c.trigger.kind, c.trigger.node) for c in loaded.cases("nested")] == [
            ("colocation-order", "move", target)
        ]
        # The nested tier's verdicts as measured on a mixed cluster: old -> new migrates, new -> old
        # cannot (trixie's Xen has no shadow paging for a PV guest's log-dirty).
        nested = [rule for rule in loaded.rules if "nested" in rule.tier]
        assert [rule.expectation.verdicts for rule in nested] == (
            [("migrate",)] if name == "rolling-upgrade" else [("recover", "move")]
        ), nested


def test_a_scenario_without_dom0s_has_none(tmp_path: Path) -> None:
    from harness import scenario

    [path] = scenario.find(["xen-lvmlockd"])
    assert scenario.load(path).dom0s == {}


def test_the_rolling_upgrade_guest_keeps_its_home_on_the_nested_tier(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from harness import scenario
    from harness.prediction import configured_cib
    from harness.tiers.nested import realize
    from harness.tiers.nested.guest import xlcfg

    [path] = scenario.find(["rolling-upgrade"])
    loaded = scenario.load(path)
    cib, _, _ = configured_cib(loaded, "colocation-order", tmp_path)
    config = ET.parse(cib).getroot().find("configuration")
    assert config is not None
    agents = {"ocf:pacemaker:controld", "ocf:heartbeat:lvmlockd", "ocf:heartbeat:LVM-activate", "ocf:heartbeat:Xen"}
    made = realize.realize(config, "vm-guest", loaded.topology, agents, xlcfg.CONFIG, xlcfg.NAME, "mh_shared")
    homes = [(c.get("rsc"), c.get("node"), c.get("score")) for c in made.constraints if c.tag == "rsc_location"]
    assert homes == [("vm-guest", "node1", "100")]
