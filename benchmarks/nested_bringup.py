"""Benchmark of the nested tier: cold bring-up (box cached) and restore-from-snapshot times.

usage: python benchmarks/nested_bringup.py [--nodes 2 3] [--restores 3] [--keep]
One cluster at a time (the machine runs one VM-heavy job at once); each is torn down after, except
the last one with --keep (for `migration-harness run --tier nested --run DIR`).
Prints one line per measurement and a summary table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness.errors import HarnessError
from harness.rundir import RunDir
from harness.tiers.nested import box
from harness.tiers.nested.cluster import NestedLab, dom0_release


def measure(nodes: int, restores: int, keep: bool = False) -> dict[str, float]:
    run = RunDir.create("nested")
    started = time.monotonic()
    lab = NestedLab.create(nodes, run, progress=lambda line: print(f"  {line}", flush=True))
    result = {"bring-up": time.monotonic() - started}
    try:
        times = []
        for i in range(restores):
            seconds = lab.restore()
            lab.wait_formed(timeout=120)
            times.append(seconds)
            print(f"{nodes} nodes: restore {i + 1}: {seconds:.1f}s", flush=True)
        result["restore (median)"] = statistics.median(times)
        result["restore (worst)"] = max(times)
    except BaseException:
        lab.down()
        raise
    if keep:
        print(f"{nodes} nodes: kept up in {run.path} (migration-harness down --run {run.path})", flush=True)
        return result
    t = time.monotonic()
    lab.down()
    result["down"] = time.monotonic() - t
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[2, 3], choices=[2, 3])
    parser.add_argument("--restores", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the last cluster up")
    args = parser.parse_args()
    try:
        cached = box.find(dom0_release(), box.choose_xen(dom0_release()))
        if cached is None:
            print("box not cached: building it first (not part of the timings)", flush=True)
            box.build(dom0_release(), box.choose_xen(dom0_release()))
        table = {
            n: measure(n, args.restores, keep=args.keep and i == len(args.nodes) - 1) for i, n in enumerate(args.nodes)
        }
    except HarnessError as exc:
        print(f"nested_bringup: {exc}", file=sys.stderr)
        return 2
    columns = ["bring-up", "restore (median)", "restore (worst)", "down"]
    print("\nnodes  " + "  ".join(f"{k:>17}" for k in columns))
    for n, row in table.items():
        print(f"{n:5}  " + "  ".join(f"{row[k]:16.1f}s" if k in row else f"{'kept':>17}" for k in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
