"""The local tier on real daemons: formation, the seed scenario's verdicts, faults, and teardown.

Each module reuses one cluster (``local_backend``); the teardown tests run their own.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import scenario as scenario_mod
from harness.engine import resolve, run_case
from harness.errors import InputError
from harness.rundir import RunDir
from harness.tiers.local.backend import LocalBackend, LocalObservation
from harness.tiers.local.cluster import LocalLab
from harness.triggers import Resolved, Trigger
from harness.version import pacemaker_version

from .helpers import default_sigint, host_links, processes_naming, recorded_alive

pytestmark = pytest.mark.tier("local")
SEED = "pacemaker-ml-2012-01-xen-live-migration"


@pytest.fixture(scope="module")
def seed() -> scenario_mod.Scenario:
    return scenario_mod.load(scenario_mod.find([SEED])[0])


def _fault(
    backend: LocalBackend, seed: scenario_mod.Scenario, style: str, kind: str, base: str, casedir: Path
) -> LocalObservation:
    settled = backend.configure(seed, style, casedir)
    resolved = resolve(Trigger(base), seed, settled)
    observation = backend.trigger(settled, Resolved(kind, resolved.vm, resolved.vm_node, None, resolved.node), casedir)
    assert isinstance(observation, LocalObservation)
    return observation


def test_formation_touches_nothing_on_the_host(local_backend: LocalBackend) -> None:
    links = host_links()
    local_backend.up(2)
    lab = local_backend.lab
    assert lab is not None
    status = lab.status()
    assert "Online: [ node1 node2 ]" in status
    assert host_links() == links  # every link lives in the cluster's own namespaces
    assert (
        not any(lab.plan.cluster_name in name for name in os.listdir("/run/netns"))
        if os.path.isdir("/run/netns")
        else True
    )
    assert lab.exec("node2", ["hostname"]) == 0


@pytest.mark.parametrize("style", ["order-only", "colocation-order"])
@pytest.mark.parametrize("trigger", ["move", "standby"])
def test_seed_scenario_migrates_with_stand_ins(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, style: str, trigger: str, tmp_path: Path
) -> None:
    case = next(c for c in seed.cases() if c.style == style and c.trigger.name == trigger)
    result = run_case(local_backend, case, tmp_path, pacemaker_version())
    assert result.passed, result.explain()
    assert "ocf:lvm2:clvmd" in result.stand_ins and "ocf:heartbeat:Xen" in result.stand_ins
    observation = result.observation
    assert isinstance(observation, LocalObservation)
    assert observation.prediction is not None and observation.prediction["vm-webdev"].verdict == "migrate"
    ran = [(e.action, e.node) for e in observation.journal if e.resource == "vm-webdev" and e.action != "monitor"]
    assert ran[:2] == [("migrate_to", "node1"), ("migrate_from", "node2")], ran
    for name in ("journal", "cib-after", "pe-inputs", "node1-pacemaker-log", "node2-corosync-log"):
        assert observation.evidence[name].exists(), name
    assert list(observation.evidence["pe-inputs"].iterdir())


def test_crash_gives_a_start_elsewhere(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    case = next(c for c in seed.cases() if c.style == "order-only" and c.trigger.name == "crash")
    result = run_case(local_backend, case, tmp_path, pacemaker_version())
    assert result.passed, result.explain()
    verdict = result.observation.outcome["vm-webdev"]  # type: ignore[union-attr]
    assert verdict.verdict == "start" and verdict.to_node == "node2"
    assert not any(e.action.startswith("migrate") for e in result.observation.journal)  # type: ignore[union-attr]


def test_failed_migrate_to_recovers_by_stop_start(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    observation = _fault(local_backend, seed, "order-only", "migrate-fail", "move", tmp_path)
    verdict = observation.outcome["vm-webdev"]
    # Pacemaker's word for it (its next transition's summary), on every tier.
    assert verdict.verdict == "recover" and (verdict.from_node, verdict.to_node) == ("node1", "node2")
    assert any(e.action == "migrate_to" and e.rc != 0 for e in observation.journal)
    assert observation.prediction is not None and observation.prediction["vm-webdev"].verdict == "recover"
    assert not any(n.startswith("DIVERGENCE vm-webdev") for n in observation.notes), observation.notes
    assert not observation.double_active


def test_corosync_only_death_is_detected_as_double_active(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    observation = _fault(local_backend, seed, "order-only", "corosync-kill", "crash", tmp_path)
    assert observation.double_active.get("vm-webdev") == ["node1", "node2"]
    assert any(n.startswith("DOUBLE-ACTIVE: vm-webdev") for n in observation.notes)


def test_partition_without_fencing_runs_the_vm_on_both_sides(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    observation = _fault(local_backend, seed, "order-only", "partition", "crash", tmp_path)
    assert observation.outcome["vm-webdev"].verdict == "start"
    assert observation.double_active.get("vm-webdev") == ["node1", "node2"]


def test_next_scenario_does_not_inherit_the_fault(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    """After a corosync kill, configure re-forms the broken node and the VM starts on node1 again."""
    _fault(local_backend, seed, "order-only", "corosync-kill", "crash", tmp_path / "fault")
    case = next(c for c in seed.cases() if c.style == "order-only" and c.trigger.name == "none")
    result = run_case(local_backend, case, tmp_path, pacemaker_version())
    assert result.passed, result.explain()
    assert result.observation.outcome["vm-webdev"].to_node == "node1"  # type: ignore[union-attr]


def test_three_nodes_crash_of_the_dc_starts_the_vm_elsewhere(seed: scenario_mod.Scenario, tmp_path: Path) -> None:
    LocalBackend.sanity_check()
    backend = LocalBackend(tmp_path)
    try:
        backend.up(3)
        lab = backend.lab
        assert lab is not None and "Online: [ node1 node2 node3 ]" in lab.status()
        three = scenario_mod.Scenario(**{**seed.__dict__, "nodes": 3})
        settled = backend.configure(three, "order-only", tmp_path / "case")
        resolved = resolve(Trigger("crash"), three, settled)
        observation = backend.trigger(settled, resolved, tmp_path / "case")
        verdict = observation.outcome["vm-webdev"]
        assert verdict.verdict == "start" and verdict.to_node in {"node2", "node3"}, observation.notes
    finally:
        backend.down()


# -- teardown ----------------------------------------------------------------------------------------
BRING_UP = """
import sys
from pathlib import Path
from harness.rundir import RunDir
from harness.tiers.local.cluster import LocalLab
run = RunDir.create("local", Path(sys.argv[1]))
print(run.path, flush=True)
LocalLab.create(int(sys.argv[2]), run)
print("formed", flush=True)
import time
time.sleep(600)
"""


def _spawn(base: Path, nodes: int = 2) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", BRING_UP, str(base), str(nodes)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def _assert_nothing_left(run: Path, state: dict, links: set[str]) -> None:
    assert recorded_alive(state) == []
    assert processes_naming(run) == []
    assert host_links() == links


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_sigint_during_bring_up_leaves_nothing(tmp_path: Path) -> None:
    LocalBackend.sanity_check()
    links = host_links()
    proc, run = _spawn(tmp_path)
    # Interrupt once the nodes exist (the state records them), before the cluster has formed.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = json.loads((run / "state.json").read_text())
        if len(state.get("node_procs", {})) == 2:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the nodes never started")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) != 0
    _assert_nothing_left(run, state, links)
    assert not run.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_sigkill_of_the_owner_then_clean_leaves_nothing(tmp_path: Path) -> None:
    LocalBackend.sanity_check()
    links = host_links()
    proc, run = _spawn(tmp_path)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "formed"
    proc.kill()
    proc.wait()
    state = json.loads((run / "state.json").read_text())
    assert recorded_alive(state), "the cluster should outlive its killed owner until clean"
    removed = LocalLab.clean(RunDir.open(run))
    assert any("init" in line for line in removed)
    assert not run.exists()
    _assert_nothing_left(run, state, links)


def test_bad_node_count_is_refused_before_anything_starts(tmp_path: Path) -> None:
    run = RunDir.create("local", tmp_path)
    with pytest.raises(InputError, match="2 to 16 nodes"):
        LocalLab.create(17, run)
    assert "node_procs" not in json.loads(run.state_file.read_text())


PASTED = """\
name: pasted-pcs-hosts
nodes: [xen01, xen02, xen03]
resources: [vm1, kvm1]
status-attributes: {xen02: {pingd: 0}}
configuration: |
  pcs resource create vm1 ocf:heartbeat:Xen xmfile=/etc/xen/vm1.cfg meta allow-migrate=true
  pcs resource create kvm1 ocf:acme:KVMGuest meta allow-migrate=true
  pcs resource create libvirtd systemd:libvirtd clone
  pcs constraint location vm1 prefers xen01=100
  pcs constraint location kvm1 prefers xen01=100
  pcs constraint location vm1 rule score=-INFINITY pingd lt 1
  pcs constraint location kvm1 rule score=-INFINITY pingd lt 1
  pcs constraint order start libvirtd-clone then start vm1
triggers: [{standby: {node: xen01}}]
expect:
  - verdict: migrate
"""


def test_pasted_pcs_with_host_names_runs_as_on_the_simulate_tier(local_backend: LocalBackend, tmp_path: Path) -> None:
    path = tmp_path / "pasted.yaml"
    path.write_text(PASTED)
    pasted = scenario_mod.load(path)
    (case,) = pasted.cases()
    result = run_case(local_backend, case, tmp_path / "case", pacemaker_version())
    assert result.passed, result.explain()
    # Real host names; xen02's transient pingd=0 keeps both guests off it, as the scheduler predicts.
    assert [(c.resource, c.verdict.from_node, c.verdict.to_node) for c in result.checks] == [
        ("vm1", "xen01", "xen03"),
        ("kvm1", "xen01", "xen03"),
    ]
    assert result.observation is not None and result.observation.prediction is not None
    assert result.observation.prediction["kvm1"].verdict == "migrate"
    assert any("ocf:acme:KVMGuest absent here" in n for n in result.observation.notes)
    assert "systemd:libvirtd" in result.unknown_agents and "ocf:acme:KVMGuest" in result.unknown_agents


def _migrate_to_running() -> bool:
    """An OCF agent's migrate_to is executing right now (the stand-in, slowed down)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"migrate_to" in argv and any(b"resource.d" in a for a in argv):
            return True
    return False


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_sigint_during_a_migration_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C of `migration-harness run --tier local` while the VM's migrate_to is running."""
    LocalBackend.sanity_check()
    links = host_links()
    runs = tmp_path / "runs"
    exe = Path(sys.executable).with_name("migration-harness")
    env = {**os.environ, "MIGRATION_HARNESS_RUNS": str(runs), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [str(exe), "run", "--tier", "local", "xen-lvmlockd", "--style", "order-only", "--trigger", "migrate-slow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 240
    while not _migrate_to_running():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"no migrate_to was seen running: {proc.communicate()}")
        time.sleep(0.05)
    (run,) = [p.parent for p in runs.glob("*/state.json")]
    state = json.loads((run / "state.json").read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    _assert_nothing_left(run, state, links)
    assert not run.exists()


def test_nothing_a_run_creates_is_writable_by_others(
    local_backend: LocalBackend, seed: scenario_mod.Scenario, tmp_path: Path
) -> None:
    """Every file and directory of a run (its state, the nodes' CIBs and logs, the stand-ins'
    journal a verdict is read from) belongs to root or the cluster's users and is closed to others;
    the corosync key is readable by its owner only."""
    local_backend.configure(seed, "order-only", tmp_path)
    lab = local_backend.lab
    assert lab is not None
    root = lab.rundir.path
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    writable = []
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            continue
        if info.st_mode & stat.S_IWOTH and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX):
            writable.append(f"{oct(stat.S_IMODE(info.st_mode))} {path}")
    assert writable == []
    assert stat.S_IMODE((root / "authkey").stat().st_mode) & 0o077 == 0
