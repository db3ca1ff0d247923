"""The ``migration-harness`` command: run scenarios, replay scheduler inputs, manage live clusters.

Exit codes: 0 every case that ran gave the expected verdict (skipped cases are listed and counted,
and at least one case ran); 1 a verdict differs from its expectation, or a case failed with an
error; 2 bad input or an environment problem (the message says what and how to fix); 3 nothing
was verified: every case was skipped (a tier that cannot run them, a style this Pacemaker lacks);
130 interrupted (after cleaning up).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

from . import release, releaseroot, rundir, scenario, scratch, tiers
from .errors import FileFailure, HarnessError, InputError
from .styles import AS_WRITTEN, STYLES
from .triggers import KINDS

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR, EXIT_ALL_SKIPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(name)s: %(message)s")
    # SIGTERM unwinds like Ctrl-C, so every `finally` that tears down a cluster runs.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return args.func(args)
    except HarnessError as exc:
        print(f"migration-harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("migration-harness: interrupted; what this run started has been removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-harness",
        description="When this VM has to move, does Pacemaker migrate it live, or stop and start it?",
    )
    parser.add_argument("--debug", action="store_true", help="log every external command")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run scenarios: a table of scenario x style x trigger -> verdict")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files, directories or shipped names (default: all shipped)")
    p.add_argument("--tier", default=tiers.DEFAULT_TIER, choices=list(tiers.TIERS))
    p.add_argument("--style", action="append", type=_style, help="only these styles (repeatable)")
    p.add_argument("--trigger", action="append", type=_trigger, help="only these triggers (repeatable)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the evidence of every case in DIR")
    p.add_argument("--jobs", type=_positive_int, help="parallel cases on the simulate tier (default: CPU count)")
    p.add_argument("--release", action="append", metavar="NAME",
                   help="Debian release whose Pacemaker answers: host (default), bookworm, trixie; twice for a side-by-side table")
    p.add_argument("--run", type=Path, metavar="DIR",
                   help="nested tier: run on the cluster `up --tier nested` left in DIR (restored per case, left up)")
    p.add_argument("--record", action="store_true", help="write the measured verdicts into each scenario file's 'measured:' block")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("replay", help="verdicts for CIBs / scheduler inputs (pe-input-N.bz2) or directories of them")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="for one FILE: {\"resources\": [...]}; for more: a list")
    p.add_argument("--jobs", type=_positive_int, help="parallel replays (default: CPU count)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep graphs and summaries in DIR")
    p.set_defaults(func=cmd_replay)

    from . import fromreport  # `scenario from-report`: its options live with it

    fromreport.add_parser(sub)

    p = sub.add_parser("record", help="write the verdicts of a `run --json` output into the scenario files")
    p.add_argument("results", type=Path, metavar="RESULTS.json")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files or shipped names (default: all shipped)")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("list", help="shipped scenarios, styles and triggers")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="print a scenario's configuration rendered in a style (crm syntax)")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--style", default=None)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("up", help="bring up a live cluster (local or nested tier) and leave it running")
    p.add_argument("--tier", required=True, choices=[t for t in tiers.LABS])
    p.add_argument("--nodes", type=int, default=2, choices=[2, 3])
    p.add_argument("--hosts", type=lambda t: t.split(","), metavar="A,B,...", help="local tier: the nodes' names")
    p.set_defaults(func=cmd_up)

    for name, func, text in (("status", "cmd_status", "show a live cluster"), ("down", "cmd_down", "tear a live cluster down")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--run", type=Path, metavar="DIR", help="the run directory (default: the one cluster left up by `up`)")
        p.set_defaults(func=globals()[func])

    p = sub.add_parser("exec", help="run a command on a node of a live cluster: exec node1 -- crm_mon -1")
    p.add_argument("node")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD")
    p.add_argument("--run", type=Path, metavar="DIR")
    p.set_defaults(func=cmd_exec)

    p = sub.add_parser("clean", help="remove what dead runs left behind (processes, namespaces, links, VMs)")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("box", help="build, list and remove the nested tier's Vagrant boxes")
    box = p.add_subparsers(dest="box_command", required=True, metavar="ACTION")
    b = box.add_parser("build", help="build a libvirt box offline from the Debian archive")
    b.add_argument("--release", default="bookworm")
    b.add_argument("--xen", default=None,
                   help="Xen package version: a version, 'candidate' (the archive's current one: 4.17.7 on bookworm, "
                        "no PV live migration) or 'pinned' (default: one that can live-migrate PV guests, 4.17.5 on "
                        "bookworm); the nested tier's choice is $MIGRATION_HARNESS_XEN")
    b.set_defaults(func=cmd_box_build)
    b = box.add_parser("list", help="cached boxes")
    b.set_defaults(func=cmd_box_list)
    b = box.add_parser("remove", help="remove a cached box")
    b.add_argument("name")
    b.set_defaults(func=cmd_box_remove)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give at least 1")
    return value


def _style(text: str) -> str:
    known = [*STYLES, AS_WRITTEN.name]
    if text not in known:
        raise argparse.ArgumentTypeError(f"unknown style '{text}' (styles: {', '.join(known)})")
    return text


def _trigger(text: str) -> str:
    if text not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown trigger '{text}' (triggers: {', '.join(KINDS)})")
    return text


def _workdir(keep: Path | None, what: str) -> Path:
    """--keep DIR (created if missing, refused if it is something else), or a fresh scratch directory."""
    if keep is None:
        return scratch.make(what)
    if keep.exists() and not keep.is_dir():
        raise InputError("--keep: exists and is not a directory", path=keep,
                         hint="give a directory for the evidence (it is created if missing)")
    try:
        keep.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--keep: cannot create the directory: {exc.strerror}", path=keep) from None
    return keep


def _load_scenarios(names: list[str]) -> tuple[list[scenario.Scenario], list[FileFailure]]:
    """One file: its error is the command's. Several: a bad file is reported, the others run."""
    paths = scenario.find(names)
    if len(paths) == 1:
        return [scenario.load(paths[0])], []
    loaded, failures = [], []
    for path in paths:
        try:
            loaded.append(scenario.load(path))
        except InputError as exc:
            failures.append(FileFailure(path, str(exc)))
    return loaded, failures


def _select(args: argparse.Namespace, scenarios: list[scenario.Scenario]) -> list[scenario.Case]:
    cases = [
        c
        for s in scenarios
        # --style/--trigger pick from the whole matrix; without them the nested tier runs what the
        # scenario's `nested:` names.
        for c in s.cases(None if args.style or args.trigger else args.tier)
        if (not args.style or c.style in args.style) and (not args.trigger or c.trigger.kind in args.trigger)
    ]
    if not cases and scenarios:
        styles = sorted({st for s in scenarios for st in s.styles})
        triggers = sorted({t.name for s in scenarios for t in s.triggers})
        raise InputError(
            "no case matches the given --style/--trigger filters",
            hint=f"these scenarios run styles: {', '.join(styles)}; triggers: {', '.join(triggers)}",
        )
    return cases


def cmd_run(args: argparse.Namespace) -> int:
    scenarios, failures = _load_scenarios(args.scenarios)
    cases = _select(args, scenarios)
    if args.run is not None and args.tier != "nested":
        raise InputError("--run DIR is for the nested tier", hint="add --tier nested")
    backend_cls = tiers.get(args.tier)
    workdir = _workdir(args.keep, "run")
    started = time.monotonic()
    try:
        results, by_release = _run_releases(args, backend_cls, cases, scenarios, workdir, failures) if cases else ([], {})
    except BaseException:
        # Interrupted or failed: the run's files go with it unless the user asked to keep them.
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return _report_run(args, results, by_release, workdir, started, failures)


def _run_releases(args, backend_cls, cases, scenarios, workdir, failures):  # type: ignore[no-untyped-def]
    from . import engine
    from .version import pacemaker_version

    results: list[engine.CaseResult] = []
    by_release: dict[str, list[engine.CaseResult]] = {}
    for name in args.release or ["host"]:
        release.activate(releaseroot.ensure(name, progress=lambda line: print(line, file=sys.stderr, flush=True)))
        run_dir = args.run.resolve() if args.run else None
        backend_cls.sanity_check(run_dir)
        version = pacemaker_version()
        label = release.active().label
        reldir = workdir / label if args.release and len(args.release) > 1 else workdir
        reldir.mkdir(parents=True, exist_ok=True)
        with backend_cls(reldir, run_dir=run_dir) as backend:
            if not args.json:
                print(f"tier: {backend.describe()}; {len(cases)} cases from {len(scenarios)} scenario(s)", flush=True)
            for nodes in sorted({s.nodes for s in scenarios}):
                backend.up(nodes)
                for each in (s for s in scenarios if s.nodes == nodes):
                    chunk = _run_scenario(args, backend, [c for c in cases if c.scenario is each], reldir, version,
                                          failures, alone=len(scenarios) == 1)
                    by_release.setdefault(f"{label} (Pacemaker {version})", []).extend(chunk)
                    results += chunk
    return results, by_release


def _run_scenario(args, backend, cases, workdir, version, failures, *, alone):  # type: ignore[no-untyped-def]
    """The cases of one scenario; a scenario the tier refuses (crm syntax, a topology that names
    nothing) is a failure of that file when other scenarios run beside it."""
    from . import engine

    if not cases:
        return []
    try:
        return engine.run_cases(backend, cases, workdir, version, jobs=args.jobs,
                                progress=None if backend.concurrent else _case_done)
    except InputError as exc:
        if alone:
            raise
        path = cases[0].scenario.path
        if all(f.path != path for f in failures):
            failures.append(FileFailure(path, str(exc)))
        return []


def _case_done(result) -> None:  # type: ignore[no-untyped-def]
    """One line per finished case on the live tiers (each takes seconds to minutes)."""
    verdicts = ", ".join(c.verdict.describe() for c in result.checks) or result.skipped or result.error or "-"
    print(f"  [{result.seconds:6.1f}s] {result.case.scenario.name} {result.case.id}: {verdicts}", file=sys.stderr, flush=True)


def _report_run(args, results, by_release, workdir, started, failures):  # type: ignore[no-untyped-def]
    from . import report

    for failure in failures:
        print(f"migration-harness: error: {failure.error}", file=sys.stderr)

    failing = [r for r in results if r.failed]
    if args.record:
        from . import record

        record.record(record.rows_from_results(results))
    if args.tier == "simulate":
        from .prediction import render_evidence

        for result in results if args.keep else failing:
            if result.observation:
                render_evidence(result.observation)
    if not args.keep:
        _prune(workdir, failing)  # before the report, so that every evidence path it prints exists
    elapsed = time.monotonic() - started
    if args.json:
        counts = report.counts(results)
        print(json.dumps({"tier": args.tier, "seconds": round(elapsed, 3), **counts,
                          "cases": [r.as_json() for r in results],
                          "errors": [{"file": str(f.path), "error": f.error} for f in failures]}, indent=2))
    else:
        if len(by_release) > 1:
            print(report.side_by_side(by_release))
        else:
            print(report.run_table(results, failures))
        print(report.run_footer(results, failures))
        kept = f"; evidence in {workdir}" if args.keep else (f"; evidence of the failing cases kept in {workdir}" if failing else "")
        print(f"{len(results)} cases in {elapsed:.1f} s{kept}")
    if failures:
        return EXIT_ERROR
    if failing:
        return EXIT_MISMATCH
    return EXIT_OK if any(r.passed for r in results) else EXIT_ALL_SKIPPED


def _prune(workdir: Path, failing: list) -> None:  # list[CaseResult]
    """Without --keep, keep only the evidence a failure message points to."""
    import shutil

    if not failing:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    keep = {r.casedir for r in failing if r.casedir}
    for child in workdir.iterdir():
        if child.is_dir() and child not in keep and child.name != "settled":
            shutil.rmtree(child, ignore_errors=True)


def cmd_replay(args: argparse.Namespace) -> int:
    from . import replay, report

    if args.keep is not None:
        _workdir(args.keep, "replay")
    results = replay.replay(args.files, jobs=args.jobs, keep=args.keep)
    if args.json:
        if len(results) == 1 and results[0].outcome is not None:
            print(json.dumps(results[0].outcome.as_json(), indent=2))
        else:
            print(json.dumps([{"file": str(r.path), **(r.outcome.as_json() if r.outcome else {"error": r.error})}
                              for r in results], indent=2))
    else:
        print(report.replay_text(results))
    for failed in (r for r in results if r.error):
        print(f"migration-harness: error: {failed.error}", file=sys.stderr)
    return EXIT_ERROR if any(r.error for r in results) else EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from . import record

    paths: dict[str, list[Path]] = {}
    for found in scenario.find(args.scenarios):
        paths.setdefault(scenario.load(found).name, []).append(found)
    for path in record.record(record.rows_from_json(args.results, paths)):
        print(f"recorded into {path}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from .styles import STYLES

    print("shipped scenarios:")
    for path in scenario.shipped():
        s = scenario.load(path)
        print(f"  {s.name:24} {s.nodes} nodes  {path.name}  {s.title}")
    print("styles:")
    for style in STYLES.values():
        print(f"  {style.name:32} {style.description}")
    print("triggers:")
    for kind in KINDS.values():
        print(f"  {kind.name:20} {kind.description}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    paths = scenario.find([args.scenario])
    if len(paths) != 1:
        raise InputError(f"show prints one scenario; this directory holds {len(paths)}", path=args.scenario,
                         hint="name one file: " + ", ".join(p.name for p in paths[:5]))
    s = scenario.load(paths[0])
    style = args.style or s.styles[0]
    if style not in s.styles:
        raise InputError(f"scenario {s.name} has no style '{style}'", path=s.path, hint="styles: " + ", ".join(s.styles))
    sys.stdout.write(s.render(style) if s.configuration is not None else (s.cib or ""))
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    lab_cls = tiers.get_lab(args.tier)
    run = rundir.RunDir.create(args.tier)
    started = time.monotonic()
    names = {"names": args.hosts} if args.hosts else {}  # the local tier names its nodes after the hosts given
    lab_cls.create(len(args.hosts) if args.hosts else args.nodes, run, progress=lambda line: print(line, flush=True), **names)
    # The cluster outlives this command: no owner process keeps it, `down` removes it.
    run.update(owner=None)
    print(f"{args.tier} cluster of {args.nodes} nodes up in {time.monotonic() - started:.1f} s; run directory {run.path}")
    print("next: migration-harness status | exec node1 -- crm_mon -1 | down")
    return EXIT_OK


def _attach(args: argparse.Namespace) -> tiers.Lab:
    """The run named with --run, or else the one cluster left up by `up` (a run whose owner is a
    live command is that command's: never touched)."""
    if args.run:
        run = rundir.RunDir.open(args.run)
    else:
        left = [r for r in rundir.all_runs() if r.data.get("owner") is None and not _dead(r)]
        if not left:
            raise InputError("no cluster left up by `migration-harness up` (runs of commands still running are theirs)",
                             hint="bring one up with `migration-harness up --tier local`, or name a run with --run DIR")
        if len(left) > 1:
            raise InputError(f"{len(left)} clusters are up: " + ", ".join(str(r.path) for r in left),
                             hint="choose one with --run DIR")
        run = left[0]
        print(f"run {run.path} ({run.data.get('tier')} tier, left up by `up`)", file=sys.stderr)
    return tiers.get_lab(run.data["tier"]).attach(run)


def cmd_status(args: argparse.Namespace) -> int:
    print(_attach(args).status())
    return EXIT_OK


def cmd_exec(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    # `exec node1 --run DIR -- CMD`: options before the `--` are ours, not the command's.
    if "--" in argv:
        ours, argv = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
        if ours[:1] == ["--run"] and len(ours) == 2:
            args.run = Path(ours[1])
        elif ours:
            raise HarnessError(f"exec: unexpected {' '.join(ours)} before --", hint="migration-harness exec [--run DIR] node1 -- crm_mon -1")
    if not argv:
        raise HarnessError("exec needs a command after --", hint="migration-harness exec node1 -- crm_mon -1")
    return _attach(args).exec(args.node, argv)


def cmd_down(args: argparse.Namespace) -> int:
    lab = _attach(args)
    lab.down()
    print("down: every process, namespace and link of the run removed")
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    removed: list[str] = []
    for run in rundir.all_runs():
        if not _dead(run):
            continue
        tier = run.data.get("tier", "")
        if tier in tiers.LABS:
            removed += tiers.get_lab(tier).clean(run)
        run.remove()
        removed.append(f"run directory {run.path}")
    removed += scratch.remove_leftovers()
    print("\n".join(removed) if removed else "nothing to clean")
    return EXIT_OK


def _dead(run: rundir.RunDir) -> bool:
    """Dead: its owner process is gone; or, for a cluster left up by `up` (no owner), every process
    it recorded is gone. A run that records neither is being created: not dead."""
    if run.data.get("owner") is not None:
        return not run.owner_alive()
    pids = run.data.get("pids") or []
    if not pids:
        return False
    for pid in pids:
        try:
            os.kill(int(pid), 0)
            return False
        except (ProcessLookupError, ValueError):
            continue
        except PermissionError:
            return False
    return True


def cmd_box_build(args: argparse.Namespace) -> int:
    from .tiers.nested import box

    xen = box.choose_xen(args.release, args.xen)
    path = box.build(release=args.release, xen=xen, progress=lambda line: print(line, flush=True))
    print(f"box ready: {path}")
    return EXIT_OK


def cmd_box_list(args: argparse.Namespace) -> int:
    from .tiers.nested import box

    for line in box.list_boxes():
        print(line)
    return EXIT_OK


def cmd_box_remove(args: argparse.Namespace) -> int:
    from .tiers.nested import box

    box.remove(args.name)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
