"""Benchmark of the nested tier's scenarios: time per scenario from the snapshot, then live migrations.

usage: python benchmarks/nested_migration.py [--run DIR] [--migrations 10] [--scenario xen-lvmlockd]

1. The same case twice, side by side: from the cluster's ``formed`` snapshot (restore, the storage
   stack and the guest brought up, the scenario's snapshot taken) and then from that scenario
   snapshot (restore with the guest running, the style applied, move, observe): time and phases.
2. On that cluster, the guest moved back and forth ``--migrations`` times with ``crm_resource
   --move``: for each, how long migrate_to ran (xl migrate) and the guest's downtime measured by its
   own heartbeat (the largest gap in its clock across that migration).
Prints one line per measurement and the median and worst of each. Without --run it brings a
2-node cluster up first (not part of the timings) and tears it down after.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import cib as cibmod
from harness import engine, scenario
from harness.errors import HarnessError
from harness.tiers.nested.backend import NestedBackend, NestedSettled
from harness.tiers.nested.guest import heartbeat
from harness.triggers import Resolved
from harness.version import pacemaker_version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a 2-node run left up by `migration-harness up --tier nested`")
    parser.add_argument("--migrations", type=int, default=10)
    parser.add_argument("--scenario", default="xen-lvmlockd")
    parser.add_argument("--style", default="colocation-order")
    parser.add_argument(
        "--moves-only",
        action="store_true",
        help="skip the whole case: move the guest the run already has (after a first run of this benchmark)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mh-bench-nested-"))
    [path] = scenario.find([args.scenario])
    loaded = scenario.load(path)
    case = next(c for c in loaded.cases() if c.style == args.style and c.trigger.kind == "move")
    try:
        with NestedBackend(workdir, run_dir=args.run.resolve() if args.run else None) as backend:
            t = time.monotonic()
            backend.up(loaded.nodes)
            print(f"cluster ready in {time.monotonic() - t:.1f}s ({backend.describe()})", flush=True)
            vm = loaded.resources[0]
            if args.moves_only:
                assert backend.lab is not None
                start = workdir / "live-cib.xml"
                start.write_text(backend.lab.nodes()[0].run(["cibadmin", "-Q"]).stdout)
            else:
                backend._fresh = False  # measure a case as every case after the first runs: from a snapshot
                for label in ("from the formed snapshot (baseline)", "from the scenario's snapshot"):
                    casedir = workdir / ("case-prepared" if "scenario" in label else "case-formed")
                    result = engine.run_case(backend, case, casedir, pacemaker_version())
                    if result.error:
                        raise HarnessError(f"the case failed: {result.error}")
                    assert result.observation is not None
                    phases = result.observation.seconds
                    print(
                        f"one case {label} ({case.full_id}): {result.seconds:.1f}s; "
                        + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()),
                        flush=True,
                    )
                    for check in result.checks:
                        print(f"  verdict: {check.verdict.describe()}; {result.observation.notes[0]}", flush=True)
                start = casedir / "cib-after.xml"
            migrations, downtimes = measure_moves(backend, vm, start, args.migrations, workdir, loaded.guest.period)
    except HarnessError as exc:
        print(f"nested_migration: {exc}", file=sys.stderr)
        return 2
    print(f"\n{len(migrations)} migrations      median    worst")
    print(f"migrate_to (xl migrate)  {statistics.median(migrations):6.1f}s  {max(migrations):6.1f}s")
    print(f"guest downtime           {statistics.median(downtimes) * 1000:6.0f}ms {max(downtimes) * 1000:6.0f}ms")
    print(f"evidence in {workdir}")
    return 0


def measure_moves(
    backend: NestedBackend, vm: str, settled_cib: Path, count: int, workdir: Path, period: float
) -> tuple[list[float], list[float]]:
    assert backend.lab is not None
    migrations: list[float] = []
    downtimes: list[float] = []
    nodes = list(backend.lab.plan.nodes)
    seen = 0
    for i in range(count):
        active = backend.active(settled_cib)
        settled = NestedSettled(nodes, settled_cib, active, cibmod.read(settled_cib), period=period)
        where = settled.active[vm][0]
        target = next(n for n in nodes if n != where)
        observation = backend.trigger(settled, Resolved("move", vm, where, None, target), workdir / f"move-{i:02d}")
        verdict = observation.outcome[vm]
        beats = [
            b
            for b in heartbeat.parse(
                "\n".join(p.read_text() for k, p in observation.evidence.items() if k.endswith("guest-console")), "any"
            )
        ]
        window = [b for b in beats if b.n >= seen]
        seen = max((b.n for b in beats), default=seen)
        evidence = heartbeat.analyse(window, period)
        if verdict.verdict != "migrate" or evidence.downtime is None:
            raise HarnessError(f"move {i + 1}: {verdict.describe()} ({evidence.describe()}): not a live migration")
        seconds = observation.seconds.get("migration", float("nan"))
        migrations.append(seconds)
        downtimes.append(evidence.downtime)
        print(
            f"migration {i + 1:2}: {where} -> {target}: migrate_to {seconds:.1f}s, guest downtime "
            f"{evidence.downtime * 1000:.0f} ms, settled in {observation.seconds['trigger+settle']:.1f}s",
            flush=True,
        )
        settled_cib = workdir / f"move-{i:02d}" / "cib-after.xml"
    return migrations, downtimes


if __name__ == "__main__":
    sys.exit(main())
