"""Interrupt the nested tier at its phases and check that `clean` leaves nothing behind.

`migration-harness up --tier nested` is interrupted (SIGINT, or SIGKILL then `clean`) when its
progress says it reached a phase: the VMs starting (`vagrant up`), provisioning (the SAN's LUNs
being made). Afterwards no process names the run, no run directory, no network namespace of the
run, no qemu of the run. A case interrupted on an attached cluster (SIGKILL of `run --run DIR`
while the guest moves) leaves its scratch directory for `clean`, and the cluster it ran on answers
the next case. Minutes of VMs: only with --tier nested (`-m tier`), after the smoke test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from interrupting import CLI, interrupt_at, naming

pytestmark = pytest.mark.tier("nested")

# Output that says a phase has begun, and how long it may take to get there under emulation.
PHASES = {
    "vagrant-up": ("vagrant up:", 120),
    "provisioning": ("SAN: LIO target", 600),
}


def _leftovers(runs: Path, tmp: Path, netns_before: set[str]) -> list[str]:
    left = [f"process {pid} names the runs root" for pid in naming(str(runs))]
    left += [f"run directory {p}" for p in runs.glob("*/") if p.is_dir()] if runs.exists() else []
    left += [f"scratch directory {p}" for p in tmp.glob("mh-run-*")]
    netns = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    left += [f"network namespace {n}" for n in sorted(netns - netns_before)]
    return left


def _skip_unless_nested(request: pytest.FixtureRequest) -> None:
    from harness import session
    from harness.tiers.nested.backend import NestedBackend

    if session.effective_tier(request.config) != "nested":
        pytest.skip("nested interruptions: only with --tier nested")
    try:
        NestedBackend.sanity_check()
    except Exception as exc:  # the tier's own reason (no vagrant-libvirt, not root, ...)
        pytest.skip(f"nested tier unavailable: {exc}")


@pytest.mark.parametrize("phase", sorted(PHASES))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_up_interrupted_at_a_phase_then_clean_leaves_nothing(
    phase: str, sig: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _skip_unless_nested(request)
    if phase == "provisioning" and sig == signal.SIGINT:
        pytest.skip("one provisioning interruption (SIGKILL, the harder one) is enough for minutes of VMs")
    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "MIGRATION_HARNESS_RUNS": str(runs), "TMPDIR": str(tmp)}
    netns_before = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    marker, limit = PHASES[phase]
    done = interrupt_at(["up", "--tier", "nested", "--nodes", "2"], env, marker, limit, sig, settle=2)
    output = done.output
    assert "Traceback" not in output, output[-3000:]
    if sig == signal.SIGINT:
        assert done.rc == 130, output[-3000:]
    cleaned = subprocess.run([*CLI, "clean"], env=env, capture_output=True, text=True, timeout=300)
    assert cleaned.returncode == 0, cleaned.stderr
    left = _leftovers(runs, tmp, netns_before)
    assert left == [], (output[-2000:], cleaned.stdout, left)


def test_a_case_killed_on_an_attached_cluster_leaves_it_usable(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """SIGKILL of `run --run DIR` while its guest moves: `clean` removes the case's scratch, not the
    cluster (its owner is alive), and the next case on the cluster passes."""
    _skip_unless_nested(request)
    from harness import session

    backend = session.state(request.config).backend(2)
    lab = getattr(backend, "lab", None)
    if lab is None:
        pytest.skip("no nested cluster in this session")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    argv = [*CLI, "run", "seed-xen", "--tier", "nested", "--run", str(lab.rundir.path)]
    argv += ["--style", "order-only", "--trigger", "move"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 900
    for line in proc.stdout:
        lines.append(line)
        if "trigger: crm resource move" in line or time.monotonic() > deadline:
            break
    time.sleep(5)  # the guest on its way
    proc.kill()
    proc.wait(timeout=60)
    assert any("trigger: crm resource move" in line for line in lines), "".join(lines[-20:])
    cleaned = subprocess.run([*CLI, "clean"], env=env, capture_output=True, text=True, timeout=300)
    assert cleaned.returncode == 0, cleaned.stderr
    assert list(tmp.glob("mh-run-*")) == [], cleaned.stdout
    assert lab.rundir.path.is_dir(), "clean removed a cluster whose owner is alive"
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
