"""`run`, `record`, `list`, `show`: scenarios through a tier, the table, the evidence, the exit code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import release, releaseroot, scenario, scratch, tiers
from ..errors import FileFailure, InputError
from ..triggers import KINDS
from . import EXIT_ALL_SKIPPED, EXIT_ERROR, EXIT_MISMATCH, EXIT_OK


def _workdir(keep: Path | None, what: str) -> Path:
    """--keep DIR (created if missing, refused if it is something else), or a fresh scratch directory."""
    if keep is None:
        return scratch.make(what)
    if keep.exists() and not keep.is_dir():
        raise InputError(
            "--keep: exists and is not a directory",
            path=keep,
            hint="give a directory for the evidence (it is created if missing)",
        )
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
    if args.html:
        from ..htmlreport import check_target

        check_target(args.html)  # before minutes of cases, not after
    scenarios, failures = _load_scenarios(args.scenarios)
    cases = _select(args, scenarios)
    if args.run is not None and args.tier != "nested":
        raise InputError("--run DIR is for the nested tier", hint="add --tier nested")
    backend_cls = tiers.get(args.tier)
    workdir = _workdir(args.keep, "run")
    started = time.monotonic()
    try:
        results, by_release = (
            _run_releases(args, backend_cls, cases, scenarios, workdir, failures) if cases else ([], {})
        )
    except BaseException:
        # Interrupted or failed: the run's files go with it unless the user asked to keep them.
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return _report_run(args, results, by_release, workdir, started, failures)


def _run_releases(args, backend_cls, cases, scenarios, workdir, failures):
    from .. import engine
    from ..version import pacemaker_version

    results: list[engine.CaseResult] = []
    by_release: dict[str, list[engine.CaseResult]] = {}
    for name in args.release or ["host"]:
        releaseroot.activate(name, progress=lambda line: print(line, file=sys.stderr, flush=True))
        run_dir = args.run.resolve() if args.run else None
        backend_cls.sanity_check(run_dir)
        version = pacemaker_version()
        label = release.active().label
        reldir = workdir / label if args.release and len(args.release) > 1 else workdir
        reldir.mkdir(parents=True, exist_ok=True)
        with backend_cls(reldir, run_dir=run_dir) as backend:
            if not backend.concurrent:  # a live tier: say what each case is waiting for
                backend.progress = lambda line: print(line, file=sys.stderr, flush=True)
            if not args.json:
                print(f"tier: {backend.describe()}; {len(cases)} cases from {len(scenarios)} scenario(s)", flush=True)
            # Scenarios that fit one cluster run one after another (a live tier brings a cluster up once).
            for each in sorted(scenarios, key=lambda s: (s.nodes, sorted(s.dom0s.items()))):
                own = [c for c in cases if c.scenario is each]
                if own and not backend.cannot_run(each):
                    backend.up_for(each)
                chunk = _run_scenario(args, backend, own, reldir, version, failures, alone=len(scenarios) == 1)
                by_release.setdefault(f"{label} (Pacemaker {version})", []).extend(chunk)
                results += chunk
    return results, by_release


def _run_scenario(args, backend, cases, workdir, version, failures, *, alone):
    """The cases of one scenario; a scenario the tier refuses (crm syntax, a topology that names
    nothing) is a failure of that file when other scenarios run beside it."""
    from .. import engine

    if not cases:
        return []
    try:
        return engine.run_cases(
            backend, cases, workdir, version, jobs=args.jobs, progress=None if backend.concurrent else _case_done
        )
    except InputError as exc:
        if alone:
            raise
        path = cases[0].scenario.path
        if all(f.path != path for f in failures):
            failures.append(FileFailure(path, str(exc)))
        return []


def _case_done(result) -> None:
    """One line per finished case on the live tiers (each takes seconds to minutes)."""
    verdicts = ", ".join(c.verdict.describe() for c in result.checks) or result.skipped or result.error or "-"
    print(
        f"  [{result.seconds:6.1f}s] {result.case.scenario.name} {result.case.id}: {verdicts}",
        file=sys.stderr,
        flush=True,
    )


def _report_run(args, results, by_release, workdir, started, failures):
    from .. import htmlreport, report
    from ..summary import summarize

    for failure in failures:
        print(f"migration-harness: error: {failure.error}", file=sys.stderr)

    failing = [r for r in results if r.failed]
    if args.record:
        from .. import record

        record.record(record.rows_from_results(results))
    if args.tier == "simulate":
        from ..prediction import render_evidence

        for result in results if args.keep or args.html else failing:
            if result.observation:
                render_evidence(result.observation)
    pages = [summarize(r) for r in results] if args.html else []  # read before the evidence is pruned
    if not args.keep:
        _prune(workdir, failing)  # before the report, so that every evidence path it prints exists
    if args.html:
        htmlreport.write(args.html, pages, errors=[(str(f.path), f.error) for f in failures])
        print(f"HTML report: {args.html}", file=sys.stderr)
    elapsed = time.monotonic() - started
    if args.json:
        counts = report.counts(results)
        print(
            json.dumps(
                {
                    "tier": args.tier,
                    "seconds": round(elapsed, 3),
                    **counts,
                    "cases": [r.as_json() for r in results],
                    "errors": [{"file": str(f.path), "error": f.error} for f in failures],
                },
                indent=2,
            )
        )
    else:
        if len(by_release) > 1:
            print(report.side_by_side(by_release))
        else:
            print(report.run_table(results, failures))
        print(report.run_footer(results, failures))
        kept = (
            f"; evidence in {workdir}"
            if args.keep
            else (f"; evidence of the failing cases kept in {workdir}" if failing else "")
        )
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


def cmd_record(args: argparse.Namespace) -> int:
    from .. import record

    paths: dict[str, list[Path]] = {}
    for found in scenario.find(args.scenarios):
        paths.setdefault(scenario.load(found).name, []).append(found)
    for path in record.record(record.rows_from_json(args.results, paths)):
        print(f"recorded into {path}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from ..styles import STYLES

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
        raise InputError(
            f"show prints one scenario; this directory holds {len(paths)}",
            path=args.scenario,
            hint="name one file: " + ", ".join(p.name for p in paths[:5]),
        )
    s = scenario.load(paths[0])
    style = args.style or s.styles[0]
    if style not in s.styles:
        raise InputError(
            f"scenario {s.name} has no style '{style}'", path=s.path, hint="styles: " + ", ".join(s.styles)
        )
    sys.stdout.write(s.render(style) if s.configuration is not None else (s.cib or ""))
    return EXIT_OK
