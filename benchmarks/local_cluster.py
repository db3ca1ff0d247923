"""Benchmark of the local tier: formation time (2 and 3 nodes), time per scenario case with cluster
reuse against re-forming the cluster for every case, and where a reused case's seconds go.

    sudo .venv/bin/python benchmarks/local_cluster.py [--rounds N] [--cases K]

A "case" here is one case of the seed scenario (reset, load the configuration, settle, predict,
trigger, settle, observe). Prints two tables (the totals side by side, then the median of each
phase of a reused case); every cluster it starts is torn down, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import scenario as scenario_mod
from harness.engine import run_case
from harness.errors import HarnessError
from harness.rundir import RunDir
from harness.tiers.local.backend import LocalBackend
from harness.tiers.local.cluster import LocalLab
from harness.version import pacemaker_version

SEED = "pacemaker-ml-2012-01-xen-live-migration"
CASES = [("order-only", "move"), ("colocation-order", "standby"), ("order-only", "ban"), ("group", "move")]


def formation(nodes: int, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        run = RunDir.create("local")
        started = time.monotonic()
        lab = LocalLab.create(nodes, run)
        seconds.append(time.monotonic() - started)
        lab.down()
    return seconds


def scenarios(reuse: bool, count: int, workdir: Path) -> tuple[list[float], list[str], list[dict[str, float]]]:
    seed = scenario_mod.load(scenario_mod.find([SEED])[0])
    version = pacemaker_version()
    picked = [next(c for c in seed.cases() if (c.style, c.trigger.kind) == pair) for pair in CASES[:count]]
    seconds: list[float] = []
    verdicts: list[str] = []
    phases: list[dict[str, float]] = []
    backend = LocalBackend(workdir)
    try:
        backend.up(seed.nodes)
        # Warm the configuration cache (crmsh's result on a file CIB) for every style once, outside
        # the measurement, in both modes.
        for case in picked:
            backend.configure(seed, case.style, workdir / "warm")
        for number, case in enumerate(picked):
            started = time.monotonic()
            if not reuse:
                backend.down()
                backend.up(seed.nodes)
            result = run_case(backend, case, workdir / f"{'reuse' if reuse else 'reform'}-{number}", version)
            seconds.append(time.monotonic() - started)
            if result.observation is not None:
                phases.append(result.observation.seconds)
            verdicts.append(f"{case.id}: {result.checks[0].verdict.verdict if result.checks else result.error}")
    finally:
        backend.down()
    return seconds, verdicts, phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="formations per node count")
    parser.add_argument("--cases", type=int, default=len(CASES), help=f"scenario cases per mode (max {len(CASES)})")
    args = parser.parse_args()
    try:
        LocalBackend.sanity_check()
        rows = []
        for nodes in (2, 3):
            times = formation(nodes, args.rounds)
            rows.append((f"formation, {nodes} nodes", times))
        with tempfile.TemporaryDirectory(prefix="mh-bench-") as tmp:
            reuse, verdicts, phases = scenarios(True, args.cases, Path(tmp))
            reform, _, _ = scenarios(False, args.cases, Path(tmp))
        rows.append(("scenario with cluster reuse", reuse))
        rows.append(("scenario re-forming the cluster", reform))
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{'what':34} {'n':>3} {'median s':>9} {'min s':>7} {'max s':>7}")
    for label, times in rows:
        print(f"{label:34} {len(times):3d} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f}")
    print(f"\n{'phase of a reused case':34} {'n':>3} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name in dict.fromkeys(k for p in phases for k in p):
        times = [p[name] for p in phases if name in p]
        print(f"{name:34} {len(times):3d} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f}")
    print("verdicts: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
