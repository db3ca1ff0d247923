"""The verdict table at the end of a pytest session on a live tier (with the guest's evidence)."""

from __future__ import annotations

from typing import Any

from . import engine
from .report import run_table


def summary(terminalreporter: Any, results: list[engine.CaseResult]) -> None:
    shown = [r for r in results if r.tier != "simulate" and not r.skipped]
    if not shown:
        return
    terminalreporter.section(f"migration verdicts ({shown[0].tier} tier)")
    terminalreporter.write_line(run_table(shown))
    for result in shown:
        seconds = result.observation.seconds if result.observation else {}
        if "migration" in seconds or "guest-downtime" in seconds:
            terminalreporter.write_line(
                f"{result.case.full_id}: migrate_to {seconds.get('migration', float('nan')):.1f} s, guest downtime "
                f"{seconds.get('guest-downtime', float('nan')) * 1000:.0f} ms, case {result.seconds:.0f} s; "
                f"evidence {result.casedir}")
