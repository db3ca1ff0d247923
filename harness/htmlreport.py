"""One self-contained HTML page of a run: the verdict table, then a section per case.

The page is rendered from ``summary.CaseSummary`` values (what ``migration-harness run --html``
and the pytest plugin's ``--migration-html`` both collect), with its style sheet and every picture
inline: it can be mailed, attached to a CI job or opened years later without the evidence
directory. No JavaScript. Every text is escaped; pictures go through ``svginline``.
"""

from __future__ import annotations

import datetime
import html
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from . import svginline
from .errors import HarnessError, InputError
from .summary import CaseSummary

STATUSES = ("PASS", "FAIL", "NO-EXPECT", "ERROR", "SKIP")


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def write(
    path: Path,
    summaries: Sequence[CaseSummary],
    *,
    errors: Iterable[tuple[str, str]] = (),
    title: str = "migration-harness report",
) -> Path:
    """Write the page to ``path`` (parent directories created); a path that cannot be written is
    an error naming it."""
    page = render(summaries, errors=errors, title=title)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise HarnessError(
            f"cannot write the HTML report {path}: {exc.strerror or exc}", hint="give a writable file path"
        ) from None
    return path


def check_target(path: Path) -> None:
    """Refuse, before a run, a page path that cannot be written: a directory, or a parent that is
    not a directory or not writable."""
    parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if path.is_dir():
        raise InputError("is a directory", path=path, hint="give a file name such as report.html")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InputError(f"cannot write the HTML report: {parent} is not a writable directory", path=path)


def render(
    summaries: Sequence[CaseSummary], *, errors: Iterable[tuple[str, str]] = (), title: str = "migration-harness report"
) -> str:
    """The whole page; ``errors`` are (scenario file, message) of files that could not run."""
    errors = list(errors)
    ids = {id(s): f"case-{n}" for n, s in enumerate(summaries, 1)}
    css = resources.files(__package__).joinpath("htmlreport.css").read_text(encoding="utf-8")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>\n{css}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        _heading(summaries),
        _errors(errors),
        _table(summaries, ids),
        *(_section(s, ids[id(s)]) for s in summaries),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _heading(summaries: Sequence[CaseSummary]) -> str:
    runs = list(dict.fromkeys(s.run for s in summaries))
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    counts = {status: sum(s.status == status for s in summaries) for status in STATUSES}
    shown = "".join(f'<span class="status {status}">{n} {status.lower()}</span>' for status, n in counts.items() if n)
    return (
        f'<p class="meta">{len(summaries)} case{"" if len(summaries) == 1 else "s"} on {e("; ".join(runs) or "no run")}; written {e(now)}</p>'
        f'<p class="counts">{shown}</p>'
    )


def _errors(errors: list[tuple[str, str]]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li><code>{e(path)}</code><pre>{e(message)}</pre></li>" for path, message in errors)
    return f'<h2 class="status ERROR">Scenario files not run</h2><ul class="plain">{items}</ul>'


def _link(anchor: str, text: str) -> str:
    return f'<a href="#{anchor}">{e(text)}</a>'


def _table(summaries: Sequence[CaseSummary], ids: dict[int, str]) -> str:
    """One row per case; where several tiers or releases ran, one column per run."""
    runs = list(dict.fromkeys(s.run for s in summaries))
    if len(runs) > 1:
        return _side_by_side(summaries, runs, ids)
    with_guest = any(s.guest is not None for s in summaries)
    header = ["scenario", "style", "trigger", "verdict", *(["guest"] if with_guest else []), "expected", "result"]
    rows = []
    for s in summaries:
        cells = [
            e(s.scenario),
            e(s.style),
            e(s.trigger),
            _link(ids[id(s)], s.verdict or "-"),
            *([e(s.guest or "-")] if with_guest else []),
            e(s.expected),
            f'<span class="status {e(s.status)}">{e(s.status)}</span>',
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _wrap(header, rows)


def _side_by_side(summaries: Sequence[CaseSummary], runs: list[str], ids: dict[int, str]) -> str:
    by_case: dict[tuple[str, str], dict[str, CaseSummary]] = {}
    for s in summaries:
        by_case.setdefault((s.file, s.case), {})[s.run] = s
    rows = []
    for cells in by_case.values():
        first = next(iter(cells.values()))
        row = [e(first.scenario), e(first.style), e(first.trigger)]
        for run in runs:
            cell = cells.get(run)
            row.append(
                f'{_link(ids[id(cell)], cell.verdict or "-")} <span class="status {e(cell.status)}">'
                f"[{e(cell.status)}]</span>"
                if cell
                else "-"
            )
        # A changed reason text alone is not a changed path.
        changed = len({s.path for s in cells.values() if s.status != "SKIP"}) > 1
        row.append('<span class="changed">CHANGED</span>' if changed else "")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return _wrap(["scenario", "style", "trigger", *runs, "changed"], rows)


def _wrap(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    return f'<table class="verdicts"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


def _section(s: CaseSummary, anchor: str) -> str:
    facts: list[tuple[str, str]] = []
    if s.trigger_text:
        facts.append(("trigger", f"<code>{e(s.trigger_text)}</code>"))
    if s.substitution:
        facts.append(("instead", e(s.substitution)))
    for v in s.verdicts:
        label = "verdict" + (f" ({v.resource})" if len(s.verdicts) > 1 else "")
        facts.append((label, f'<span class="status {"PASS" if v.passed else "FAIL"}">{e(v.text)}</span>'))
        facts.append(("Pacemaker's reason", e(v.reason) if v.reason else '<span class="missing">none given</span>'))
        expected = e(v.expected) if v.expected else "no 'expect' rule matches this style, trigger and version"
        facts.append(("expected", expected + (f" — {e(v.why)}" if v.why else "")))
        if v.operations:
            facts.append(("operations", e(", ".join(v.operations))))
    if s.skipped:
        facts.append(("skipped", e(s.skipped)))
    if s.error:
        facts.append(("error", f"<pre>{e(s.error)}</pre>"))
    if s.prediction or s.planned:
        facts.append(("prediction vs reality", _compare(s)))
    if s.guest_detail:
        # The guest's own description names its downtime where there is one; said once.
        downtime = (
            ""
            if s.guest_downtime_ms is None or "downtime" in s.guest_detail
            else (f"; downtime {s.guest_downtime_ms:.0f} ms")
        )
        facts.append(("guest", e(s.guest_detail + downtime)))
    if s.stand_ins:
        facts.append(("stand-ins", "stood in for by the harness's agents: " + e(", ".join(s.stand_ins))))
    if s.unknown_agents:
        facts.append(("unknown agents", "not run by this tier: " + e(", ".join(s.unknown_agents))))
    if s.notes:
        facts.append(("notes", '<ul class="plain">' + "".join(f"<li>{e(n)}</li>" for n in s.notes) + "</ul>"))
    phases = "".join(f", {e(k)} {v:.1f} s" for k, v in s.phases.items())
    facts.append(("time", f"{s.seconds:.2f} s{phases}"))
    facts.append(("scenario file", f"<code>{e(s.file)}</code>"))
    facts.append(("evidence", _evidence(s.evidence)))
    body = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    failed = s.status in {"FAIL", "ERROR", "NO-EXPECT"}
    return (
        f'<section class="case {e(s.status)}" id="{anchor}">'
        f'<header><h2>{e(s.full_id)}</h2><span class="status {e(s.status)}">{e(s.status)}</span>'
        f'<span class="meta">{e(s.run)}</span></header>'
        f'<dl class="facts">{body}</dl>'
        + (f"<h3>Why it failed</h3><pre>{e(s.explanation)}</pre>" if failed and s.explanation else "")
        + "".join(_picture(label, text) for label, text in s.pictures.items())
        + "".join(
            f"<details{' open' if failed else ''}><summary>{e(label)}</summary><pre>{e(text)}</pre></details>"
            for label, text in s.texts.items()
        )
        + "</section>"
    )


def _compare(s: CaseSummary) -> str:
    """The scheduler's prediction, the DC's own plan and what the cluster did, per resource."""
    rows = []
    for n, v in enumerate(s.verdicts):
        predicted = s.prediction[n] if n < len(s.prediction) else "-"
        planned = s.planned[n] if n < len(s.planned) else "-"
        rows.append(
            f"<tr><td>{e(v.resource)}</td><td>{e(predicted)}</td><td>{e(planned)}</td><td>{e(v.text)}</td></tr>"
        )
    return (
        '<table class="compare"><tr><th>resource</th><th>scheduler predicted</th><th>DC planned</th>'
        "<th>cluster did</th></tr>" + "".join(rows) + "</table>"
    )


def _evidence(path: str | None) -> str:
    if not path:
        return '<span class="missing">none</span>'
    if Path(path).exists():
        return f"<code>{e(path)}</code>"
    return (
        f'<code>{e(path)}</code> <span class="missing">(removed after the run: what this page shows is inlined; '
        "keep it with --keep DIR or --migration-artifacts DIR)</span>"
    )


def _picture(label: str, document: str) -> str:
    svg = svginline.inline(document)
    content = svg if svg is not None else f'<p class="missing">{e(document[:300] or "empty picture")}</p>'
    return f"<figure><figcaption>{e(label)}</figcaption>{content}</figure>"
