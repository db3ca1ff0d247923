"""Record measured verdicts in a scenario file (``run --record``, or ``record RESULTS.json``).

The ``measured:`` block is kept last in the file: one entry per tier and Pacemaker version, style by
style, so a distro upgrade shows as a diff of that block. Everything above it stays as written.
Verdicts of the local tier used stand-in agents; its key says so. The nested tier's key names the
Debian release, Xen and the guest type, and each of its cells the guest's own evidence (kept running
and its downtime, or rebooted).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import yaml

from .engine import CaseResult, guest_words
from .errors import InputError

HEADER = "# Verdicts measured by `migration-harness run --record` (tier, Pacemaker version, style, trigger)."


class Row(NamedTuple):
    scenario_path: Path
    tier: str
    pacemaker: str
    style: str
    trigger: str
    cell: str
    stand_ins: bool
    release: str = ""
    facts: Mapping[str, str] = MappingProxyType({})  # read-only: a default shared by every row
    guest: str | None = None

    @property
    def key(self) -> str:
        """The ``measured:`` entry the row belongs to."""
        key = f"{self.tier} pacemaker-{self.pacemaker}"
        if self.tier == "nested":
            parts = [self.release.split()[0] if self.release else ""]
            parts += [f"xen-{self.facts['xen']}" if self.facts.get("xen") else "", self.facts.get("guest", "")]
            key += " (" + ", ".join(p for p in parts if p) + ")"
        return key + (" (stand-in agents)" if self.stand_ins else "")

    @property
    def value(self) -> str:
        return f"{self.cell}; guest {self.guest}" if self.guest else self.cell


def rows_from_results(results: Iterable[CaseResult]) -> list[Row]:
    return [
        Row(
            r.case.scenario.path,
            r.tier,
            str(r.version),
            r.case.style,
            r.case.trigger.name,
            "; ".join(c.verdict.verdict for c in r.checks),
            bool(r.stand_ins),
            r.release,
            dict(r.facts),
            guest_words(r.observation),
        )
        for r in results
        if r.checks
    ]


def rows_from_json(path: Path, scenario_paths: dict[str, list[Path]]) -> list[Row]:
    """Rows from ``run --json`` output; each case's scenario file is its own ``file`` where that is one
    of ``scenario_paths`` (name -> files), else the one file of that name."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"not the JSON output of `migration-harness run --json`: {exc}", path=path) from None
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise InputError("not the JSON output of `migration-harness run --json`: no list of 'cases'", path=path)
    rows = []
    for index, case in enumerate(cases):
        row = _row(case, scenario_paths, path, index)
        if row is not None:
            rows.append(row)
    return rows


def _row(case: Any, scenario_paths: dict[str, list[Path]], path: Path, index: int) -> Row | None:
    """One case of ``run --json`` output as a Row (None: the case has no verdict to record)."""
    fields = ("scenario", "tier", "pacemaker", "style", "trigger")
    if not isinstance(case, dict) or not all(isinstance(case.get(f), str) for f in fields):
        raise InputError(f"case {index + 1} is not what `run --json` writes (it needs {', '.join(fields)})", path=path)
    verdicts = case.get("verdicts")
    if not verdicts:
        return None
    if not isinstance(verdicts, list) or not all(
        isinstance(v, dict) and isinstance(v.get("verdict"), str) for v in verdicts
    ):
        raise InputError(f"case {index + 1}: 'verdicts' is not a list of {{verdict: ...}}", path=path)
    name = case["scenario"]
    candidates = scenario_paths.get(name, [])
    given = Path(case["file"]).resolve() if isinstance(case.get("file"), str) else None
    chosen = [p for p in candidates if p.resolve() == given] or (candidates if len(candidates) == 1 else [])
    if not chosen:
        hint = (
            "several files are called so: " + ", ".join(map(str, candidates))
            if candidates
            else "name the scenario files to record into"
        )
        raise InputError(f"no single scenario file for '{name}'", path=path, hint=hint)
    # The case id's trigger part: the kind, with its arguments where the scenario gave any.
    trigger = (
        str(case["case"]).removeprefix(f"{case['style']}-") if isinstance(case.get("case"), str) else case["trigger"]
    )
    return Row(
        chosen[0],
        case["tier"],
        case["pacemaker"],
        case["style"],
        trigger,
        "; ".join(v["verdict"] for v in verdicts),
        bool(case.get("stand_ins")),
        str(case.get("release") or ""),
        {str(k): str(v) for k, v in case["facts"].items()} if isinstance(case.get("facts"), dict) else {},
        case["guest"] if isinstance(case.get("guest"), str) else None,
    )


def record(rows: Iterable[Row]) -> list[Path]:
    by_file: dict[Path, list[Row]] = defaultdict(list)
    for row in rows:
        by_file[row.scenario_path].append(row)
    for path, file_rows in by_file.items():
        text = path.read_text()
        existing: dict[str, Any] = (yaml.safe_load(text) or {}).get("measured") or {}
        for row in file_rows:
            existing.setdefault(row.key, {}).setdefault(row.style, {})[row.trigger] = row.value
        head = text.split(f"\n{HEADER}", 1)[0].split("\nmeasured:", 1)[0].rstrip("\n")
        block = yaml.safe_dump({"measured": existing}, sort_keys=False, default_flow_style=None, width=200)
        path.write_text(f"{head}\n{HEADER}\n{block}")
    return list(by_file)
