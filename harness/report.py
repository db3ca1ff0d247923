"""Plain-text tables for people and JSON for programs; nothing here computes a verdict."""

from __future__ import annotations

from collections.abc import Sequence

from .engine import CaseResult, guest_words, not_applied_note
from .errors import FileFailure
from .outcome import Verdict
from .replay import Replayed, timeline


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def verdict_cell(result: CaseResult) -> tuple[str, str]:
    if result.error:
        return "error", "-"
    if not result.checks:
        return "-", "-"
    verdicts = "; ".join(
        (f"{c.resource}: " if len(result.checks) > 1 else "") + c.verdict.describe().split(": ", 1)[1]
        for c in result.checks
    )
    expected = "; ".join(str(c.expected) if c.expected else "?" for c in result.checks)
    return verdicts, expected


def guest_cell(result: CaseResult) -> str | None:
    """The nested tier's guest evidence in a few words (None where the tier has no real guest)."""
    return guest_words(result.observation)


def run_table(results: Sequence[CaseResult], failures: Sequence[FileFailure] = ()) -> str:
    rows = []
    guests = [guest_cell(r) for r in results]
    with_guest = any(g is not None for g in guests)
    for result, guest in zip(results, guests):
        verdict, expected = verdict_cell(result)
        row = [result.case.scenario.name, result.case.style, result.case.trigger.name, verdict]
        rows.append(row + ([guest or "-"] if with_guest else []) + [expected, result.status])
    for failure in failures:
        rows.append(
            [failure.path.name, "-", "-", "not run: the file has an error (below)"]
            + (["-"] if with_guest else [])
            + ["-", "ERROR"]
        )
    return table(
        rows, ["scenario", "style", "trigger", "verdict"] + (["guest"] if with_guest else []) + ["expected", "result"]
    )


def side_by_side(by_release: dict[str, Sequence[CaseResult]]) -> str:
    """One row per case, one verdict column per release, and whether the upgrade changes it."""
    labels = list(by_release)
    Path_ = tuple[tuple[str, str | None, str | None], ...]
    cells: dict[tuple[str, str, str], dict[str, tuple[str, Path_ | None]]] = {}
    for label, results in by_release.items():
        for result in results:
            key = (result.case.scenario.name, result.case.style, result.case.trigger.name)
            verdict, _ = verdict_cell(result)
            path = tuple((c.verdict.verdict, c.verdict.from_node, c.verdict.to_node) for c in result.checks)
            # A skipped case has no path: it cannot have changed (the release cannot run it).
            cells.setdefault(key, {})[label] = (f"{verdict} [{result.status}]", None if result.skipped else path)
    rows = []
    for key, by_label in cells.items():
        values = [by_label.get(label, ("-", None)) for label in labels]
        # A changed reason text alone is not a changed path.
        changed = len({path for _, path in values if path is not None}) > 1
        rows.append([*key, *(text for text, _ in values), "CHANGED" if changed else ""])
    return table(rows, ["scenario", "style", "trigger", *labels, "upgrade"])


def counts(results: Sequence[CaseResult]) -> dict[str, int]:
    """Cases that ran and passed, ran and failed (a mismatch or an error), and were skipped."""
    return {
        "passed": sum(r.passed for r in results),
        "failed": sum(r.failed for r in results),
        "skipped": sum(r.skipped is not None for r in results),
    }


def run_footer(results: Sequence[CaseResult], failures: Sequence[FileFailure] = ()) -> str:
    lines = []
    unknown = sorted({a for r in results for a in r.unknown_agents})
    stand_ins = sorted({a for r in results for a in r.stand_ins})
    if unknown:
        lines.append(
            "agents unknown on this system (configuration accepted; this tier does not run them): " + ", ".join(unknown)
        )
    if stand_ins:
        lines.append("verdicts used the harness's stand-in agents for: " + ", ".join(stand_ins))
    for scenario in {r.case.scenario.path: r.case.scenario for r in results}.values():
        if scenario.not_applied:
            lines.append(f"{scenario.path}: " + not_applied_note(scenario.not_applied))
        lines.extend(f"{scenario.path}: {note}" for note in scenario.config_notes)
    for result in results:
        if result.failed:
            lines.append("")
            lines.append(result.explain())
    for failure in failures:
        lines.append("")
        lines.append(f"error: {failure.error}")
    skipped = sorted({r.skipped for r in results if r.skipped})
    if skipped:
        lines.append("")
        lines += [f"skipped: {reason}" for reason in skipped]
    found = counts(results)
    lines.append("")
    lines.append(
        f"{found['passed']} passed, {found['failed']} failed, {found['skipped']} skipped"
        + (f", {len(failures)} file(s) with errors" if failures else "")
    )
    return "\n".join(lines)


def _verdict_row(v: Verdict) -> list[str]:
    verdict = v.verdict + (" (blocked)" if v.blocked else "")
    return [v.resource, verdict, v.from_node or "-", v.to_node or "-", v.role or "", v.reason or ""]


def replay_text(results: Sequence[Replayed]) -> str:
    if len(results) == 1 and not results[0].error:
        outcome = results[0].outcome
        rows = [_verdict_row(v) for v in outcome.all()]
        text = (
            table(rows, ["resource", "verdict", "from", "to", "role", "reason"])
            if rows
            else "the transition does nothing"
        )
        fenced = f"\nfenced: {', '.join(outcome.fenced)}" if outcome.fenced else ""
        notes = "".join(f"\nnote: {n}" for n in outcome.notes)
        return f"{results[0].path}\n{text}{fenced}{notes}"
    good = [r for r in results if not r.error]
    failed = [r for r in results if r.error]
    lines = [f"{len(results)} scheduler inputs replayed" + (f", {len(failed)} of them could not be" if failed else "")]
    acted = [r for r in good if r.outcome.verdicts]
    lines.append(f"{len(acted)} of them act on a resource")
    if failed:
        lines.append("")
        lines.append(
            table(
                [[r.path.name, "ERROR", (r.error or "").splitlines()[0]] for r in failed],
                ["input", "result", "error (in full on stderr)"],
            )
        )
    for vm, events in timeline(good).items():
        lines.append("")
        lines.append(f"timeline of {vm}:")
        lines.extend(f"  {name}: {text.split(': ', 1)[1]}" for name, text in events)
    vms = {vm for r in good for vm in r.vms}
    quiet = sorted(vms - set(timeline(good)))
    if quiet:
        lines.append("")
        lines.append("VMs no input acts on: " + ", ".join(quiet))
    return "\n".join(lines)
