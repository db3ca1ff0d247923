"""Interrupt `up` and `run --tier local` at many moments of bring-up and of a case, with SIGINT and
with SIGKILL (then `clean`), and check that nothing is left: no process naming the run, no run
directory, no scratch directory, no network link or namespace on the host.

A run's processes name its directory on their command line (the hub, each node's unshare and
init), so a process the harness started but had not yet recorded is found as well.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.tiers.local.backend import LocalBackend

from .helpers import default_sigint, host_links, processes_naming

pytestmark = [pytest.mark.tier("local"), pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

# Seconds after the start: the first second (the harness loading, run directory, hub, node spawn),
# the formation (2-4 s), and for `run` the first case (configure, trigger). The interpreter's own
# start-up (under 0.1 s, before any of the harness runs) is Python's, not ours.
MOMENTS = (0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.5, 2.5, 4.0, 6.0)
COMMANDS = {
    "up": ["up", "--tier", "local", "--nodes", "2"],
    "run": ["run", "--tier", "local", "seed-xen", "--style", "order-only", "--trigger", "move"],
}


def _net_namespaces() -> set[str]:
    """Network namespaces of processes on the host, by inode."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found.add(os.readlink(f"/proc/{entry}/ns/net"))
            except OSError:
                continue
    return found


def _leftovers(runs: Path, tmp: Path, links: set[str], namespaces: set[str]) -> list[str]:
    left = [f"process {pid} names the runs root" for pid in processes_naming(runs)]
    left += [f"run directory {p}" for p in runs.glob("*/") if p.is_dir()] if runs.exists() else []
    left += [f"scratch directory {p}" for p in tmp.glob("mh-run-*")]
    left += [f"host link {name}" for name in host_links() - links]
    # A namespace is held by a process: one of ours still alive shows here (transient ones of
    # other processes on the machine would too, so only a growth that stays is reported).
    extra = _net_namespaces() - namespaces
    if extra:
        time.sleep(1)
        extra &= _net_namespaces()
    left += [f"network namespace {ns}" for ns in sorted(extra)]
    return left


def _interrupt(command: str, moment: float, sig: int, tmp_path: Path) -> tuple[int, str, list[str], bool]:
    LocalBackend.sanity_check()
    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "MIGRATION_HARNESS_RUNS": str(runs), "TMPDIR": str(tmp)}
    links, namespaces = host_links(), _net_namespaces()
    cli = [sys.executable, "-m", "harness.cli"]
    proc = subprocess.Popen(
        [*cli, *COMMANDS[command]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    time.sleep(moment)
    finished_before = proc.poll() is not None
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    if sig == signal.SIGKILL or command == "up":
        # A killed owner cannot clean up after itself; a finished `up` leaves its cluster on purpose.
        if command == "up" and proc.returncode == 0:
            subprocess.run([*cli, "down"], env=env, capture_output=True, text=True, timeout=120, check=True)
        subprocess.run([*cli, "clean"], env=env, capture_output=True, text=True, timeout=120, check=True)
    return proc.returncode, err, _leftovers(runs, tmp, links, namespaces), finished_before


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_then_clean_leaves_nothing(command: str, moment: float, sig: int, tmp_path: Path) -> None:
    rc, err, left, finished_before = _interrupt(command, moment, sig, tmp_path)
    assert "Traceback" not in err, err
    if sig == signal.SIGINT and not finished_before:
        assert rc == 130, (rc, err)  # interrupted, and it says so, whatever it was doing
    assert left == [], (rc, err, left)
