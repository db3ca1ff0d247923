"""`replay` (saved scheduler inputs, on one release or side by side) and `conformance`."""

from __future__ import annotations

import argparse
import json
import sys

from . import EXIT_ERROR, EXIT_MISMATCH, EXIT_OK
from .run import _workdir


def cmd_replay(args: argparse.Namespace) -> int:
    from .. import replay, report

    if args.keep is not None:
        _workdir(args.keep, "replay")
    if args.release and len(args.release) > 1:
        return _replay_releases(args)
    if args.release:
        from ..conformance_run import activated

        with activated(args.release[0], lambda line: print(line, file=sys.stderr, flush=True)):
            results = replay.replay(args.files, jobs=args.jobs, keep=args.keep)
    else:
        results = replay.replay(args.files, jobs=args.jobs, keep=args.keep)
    if args.json:
        if len(results) == 1 and not results[0].error:
            print(json.dumps(results[0].outcome.as_json(), indent=2))
        else:
            print(
                json.dumps(
                    [
                        {"file": str(r.path), **({"error": r.error} if r.error else r.outcome.as_json())}
                        for r in results
                    ],
                    indent=2,
                )
            )
    else:
        print(report.replay_text(results))
    for result in results:
        if result.error:
            print(f"migration-harness: error: {result.error}", file=sys.stderr)
    return EXIT_ERROR if any(r.error for r in results) else EXIT_OK


def _replay_releases(args: argparse.Namespace) -> int:
    from .. import replay, upgrade
    from ..conformance_run import activated

    by_release = {}
    for name in args.release:
        with activated(name, lambda line: print(line, file=sys.stderr, flush=True)):
            by_release[name] = replay.replay(args.files, jobs=args.jobs, keep=args.keep / name if args.keep else None)
    compared = upgrade.compare(by_release)
    if args.json:
        print(json.dumps(upgrade.as_json(list(by_release), compared), indent=2))
    else:
        print(upgrade.text(list(by_release), compared, all_rows=args.all))
    return EXIT_ERROR if any(errors for _, _, errors in compared) else EXIT_OK


def cmd_conformance(args: argparse.Namespace) -> int:
    from .. import conformance_run

    reports = []
    for name in args.release:
        report = conformance_run.run_release(
            name,
            jobs=args.jobs,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
            corpus_of=args.corpus,
        )
        reports.append(report)
        if not args.json:
            print(report.text(), flush=True)
    if args.json:
        print(json.dumps({"releases": [r.as_json() for r in reports]}, indent=2))
    return EXIT_OK if all(r.passed for r in reports) else EXIT_MISMATCH
