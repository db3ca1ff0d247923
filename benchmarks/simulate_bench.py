"""Benchmark of the simulate tier: prints figures, asserts nothing about speed.

1. The seed scenario's full style x trigger matrix: verdicts per second, cold (no crm-load cache:
   every style goes through crmsh) and warm (crmsh's result cached).
2. Replaying a directory of 100 scheduler inputs (pe-input-N.bz2, a chain of real transitions made
   with crm_simulate) with `migration-harness replay DIR` against a plain sequential loop of bare
   `crm_simulate --xml-file F --run` over the same files. The two alternate for ``--rounds``
   rounds (a busy machine's load changes from one second to the next); the best wall time of each
   is compared, and the CPU seconds each used (children and our own), which the machine's other
   load does not change, are printed beside them with the load average.

    .venv/bin/python benchmarks/simulate_bench.py [--inputs 100] [--rounds 3] [--replay-only]
"""

from __future__ import annotations

import argparse
import bz2
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import engine, replay, scenario
from harness.runner import run
from harness.tiers.simulate.backend import SimulateBackend
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
            run(
                ["crm_resource", "--move", "-r", "vm-webdev", "-N", target, "--force"],
                env={"CIB_file": str(step)},
                check=False,
            )
            (outdir / f"pe-input-{number}.bz2").write_bytes(bz2.compress(step.read_bytes()))
            after = work / f"after-{number}.xml"
            run(["crm_simulate", "--xml-file", str(step), "--simulate", "--save-output", str(after)])
            run(["crm_resource", "--clear", "-r", "vm-webdev"], env={"CIB_file": str(after)}, check=False)
            current = after
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cpu() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime


def measured(work: Callable[[], object]) -> tuple[float, float, float]:
    """Wall seconds, children's CPU seconds, our own CPU seconds of ``work()``."""
    children, own = _cpu()
    started = time.monotonic()
    work()
    wall = time.monotonic() - started
    children_after, own_after = _cpu()
    return wall, children_after - children, own_after - own


def bare_loop(files: list[Path]) -> None:
    for path in files:
        subprocess.run(["crm_simulate", "--xml-file", str(path), "--run"], capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--replay-only", action="store_true", help="skip the seed matrix")
    args = parser.parse_args()
    print(f"Pacemaker {pacemaker_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    if not args.replay_only:
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
    bare: list[tuple[float, float, float]] = []
    ours: list[tuple[float, float, float]] = []
    try:
        make_inputs(args.inputs, pengine)
        files = replay.expand([pengine])
        results: list[replay.Replayed] = []
        for _ in range(args.rounds):
            bare.append(measured(lambda: bare_loop(files)))
            ours.append(measured(lambda: results.extend(replay.replay([pengine]))))
        migrations = sum(r.outcome["vm-webdev"].migrated for r in results[-len(files) :])
    finally:
        shutil.rmtree(pengine, ignore_errors=True)
    best_bare, best_ours = min(bare), min(ours)
    print(
        f"replay of {len(files)} scheduler inputs ({migrations} migrations found), best of {args.rounds} alternating rounds:"
    )
    print(f"  bare sequential crm_simulate loop : {best_bare[0]:6.2f} s  (CPU: crm_simulate {best_bare[1]:.2f} s)")
    print(
        f"  migration-harness replay DIR      : {best_ours[0]:6.2f} s  "
        f"(CPU: crm_simulate {best_ours[1]:.2f} s, harness {best_ours[2]:.2f} s)  {best_ours[0] / best_bare[0]:.2f}x of the bare loop"
    )
    print("  every round (bare / replay): " + ", ".join(f"{b[0]:.2f}/{o[0]:.2f}" for b, o in zip(bare, ours)))
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
