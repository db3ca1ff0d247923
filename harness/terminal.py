"""The verdict table at the end of a pytest session on a live tier (with the guest's evidence).

Rendered from the cases' summaries as the test reports brought them, so that under pytest-xdist
the controller shows every worker's cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .report import table
from .summary import CaseSummary


def summary(
    terminalreporter: Any, summaries: Sequence[CaseSummary], html: Path | None = None, html_error: str | None = None
) -> None:
    shown = [s for s in summaries if s.tier != "simulate" and s.status != "SKIP"]
    if shown:
        terminalreporter.section(f"migration verdicts ({shown[0].tier} tier)")
        terminalreporter.write_line(verdict_table(shown))
        for s in shown:
            if "migration" in s.phases or "guest-downtime" in s.phases:
                terminalreporter.write_line(
                    f"{s.full_id}: migrate_to {s.phases.get('migration', float('nan')):.1f} s, guest downtime "
                    f"{s.phases.get('guest-downtime', float('nan')) * 1000:.0f} ms, case {s.seconds:.0f} s; "
                    f"evidence {s.evidence}"
                )
    if html_error is not None:
        terminalreporter.write_line(f"migration-harness: error: {html_error}", red=True)
    elif html is not None:
        terminalreporter.write_line(f"migration-harness: HTML report of {len(summaries)} cases: {html}")


def verdict_table(summaries: Sequence[CaseSummary]) -> str:
    """The same columns as ``migration-harness run`` prints."""
    with_guest = any(s.guest is not None for s in summaries)
    rows = [
        [s.scenario, s.style, s.trigger, s.verdict, *([s.guest or "-"] if with_guest else []), s.expected, s.status]
        for s in summaries
    ]
    return table(
        rows, ["scenario", "style", "trigger", "verdict", *(["guest"] if with_guest else []), "expected", "result"]
    )
