"""Benchmark of the simulate tier: prints figures, asserts nothing about speed.

1. The seed scenario's full style x trigger matrix: verdicts per second, cold (no crm-load cache:
   every style goes through crmsh) and warm (crmsh's result cached).
2. Replaying a directory of 100 scheduler inputs (pe-input-N.bz2, a chain of real transitions made
   with crm_simulate) with `migration-harness replay DIR` against a plain sequential loop of bare
   `crm_simulate --xml-file F --run` over the same files.

    .venv/bin/python benchmarks/simulate_bench.py [--inputs 100]
"""

from __future__ import annotations

import argparse
import bz2
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import engine, replay, scenario
from harness.tiers.simulate.backend import SimulateBackend
from harness.runner import run
from harness.version import pacemaker_version

SEED = scenario.shipped_dir() / "pacemaker-ml-2012-01-xen-live-migration.yaml"


def matrix(cache_dir: str) -> tuple[float, int, int]:
    os.environ["MIGRATION_HARNESS_CACHE"] = cache_dir
    s = scenario.load(SEED)
    work = Path(tempfile.mkdtemp(prefix="mh-bench-"))
    try:
        started = time.monotonic()
        backend = SimulateBackend(work)
        backend.up(s.nodes)
        results = engine.run_cases(backend, s.cases(), work, pacemaker_version())
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return seconds, len(results), sum(r.passed for r in results)


def make_inputs(count: int, outdir: Path) -> None:
    """A chain of transitions: the VM is moved back and forth; each step's input is saved like a DC does."""
    s = scenario.load(SEED)
    work = Path(tempfile.mkdtemp(prefix="mh-bench-inputs-"))
    try:
        backend = SimulateBackend(work)
        backend.up(s.nodes)
        current = backend.configure(s, "colocation-order", work).cib_path
        for number in range(count):
            step = work / f"step-{number}.xml"
            shutil.copyfile(current, step)
            target = "node2" if number % 2 == 0 else "node1"
            run(["crm_resource", "--move", "-r", "vm-webdev", "-N", target, "--force"], env={"CIB_file": str(step)}, check=False)
            (outdir / f"pe-input-{number}.bz2").write_bytes(bz2.compress(step.read_bytes()))
            after = work / f"after-{number}.xml"
            run(["crm_simulate", "--xml-file", str(step), "--simulate", "--save-output", str(after)])
            run(["crm_resource", "--clear", "-r", "vm-webdev"], env={"CIB_file": str(after)}, check=False)
            current = after
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bare_loop(files: list[Path]) -> float:
    started = time.monotonic()
    for path in files:
        subprocess.run(["crm_simulate", "--xml-file", str(path), "--run"], capture_output=True, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=100)
    args = parser.parse_args()
    print(f"Pacemaker {pacemaker_version()}, {os.cpu_count()} CPUs")

    cache = tempfile.mkdtemp(prefix="mh-bench-cache-")
    try:
        cold, cases, passed = matrix(cache)
        warm, _, _ = matrix(cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"seed matrix ({cases} cases, {passed} as expected):")
    print(f"  cold (crmsh loads every style): {cold:6.2f} s  {cases / cold:6.1f} verdicts/s")
    print(f"  warm (crm-load cache hit)     : {warm:6.2f} s  {cases / warm:6.1f} verdicts/s")

    pengine = Path(tempfile.mkdtemp(prefix="mh-bench-pengine-"))
    try:
        make_inputs(args.inputs, pengine)
        files = replay.expand([pengine])
        bare = bare_loop(files)
        started = time.monotonic()
        results = replay.replay([pengine])
        ours = time.monotonic() - started
        migrations = sum(r.outcome["vm-webdev"].migrated for r in results)
    finally:
        shutil.rmtree(pengine, ignore_errors=True)
    print(f"replay of {len(files)} scheduler inputs ({migrations} migrations found):")
    print(f"  bare sequential crm_simulate loop : {bare:6.2f} s")
    print(f"  migration-harness replay DIR      : {ours:6.2f} s  ({bare / ours:.2f}x)")


if __name__ == "__main__":
    main()
