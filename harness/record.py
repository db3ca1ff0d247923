"""Record measured verdicts in a scenario file (``migration-harness run --record``).

The ``measured:`` block is kept last in the file: one entry per tier and Pacemaker version, style by
style, so a distro upgrade shows as a diff of that block. Everything above it stays as written.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from .engine import CaseResult


def record(path: Path, results: list[CaseResult]) -> None:
    text = path.read_text()
    existing = (yaml.safe_load(text) or {}).get("measured") or {}
    for result in results:
        if not result.checks:
            continue
        key = f"{result.tier} pacemaker-{result.version}"
        cell = "; ".join(c.verdict.verdict for c in result.checks)
        existing.setdefault(key, {}).setdefault(result.case.style, {})[result.case.trigger.name] = cell
    head = text.split("\nmeasured:", 1)[0].rstrip("\n")
    block = yaml.safe_dump({"measured": _plain(existing)}, sort_keys=False, default_flow_style=None, width=200)
    path.write_text(head + "\n# Verdicts measured by `migration-harness run --record` (tier, Pacemaker version, style, trigger).\n" + block)


def _plain(value: object) -> object:
    if isinstance(value, (dict, defaultdict)):
        return {k: _plain(v) for k, v in value.items()}
    return value


def group_by_file(results: list[CaseResult]) -> dict[Path, list[CaseResult]]:
    grouped: dict[Path, list[CaseResult]] = defaultdict(list)
    for result in results:
        grouped[result.case.scenario.path].append(result)
    return grouped
