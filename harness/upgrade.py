"""The same inputs replayed on several releases, side by side: does an upgrade change the path?

Pure: ``Replayed`` results per release in, rows out. A resource's path is its verdict, its nodes
and whether it is blocked; when only Pacemaker's reason text differs the change is ``reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .outcome import Verdict
from .replay import Replayed


@dataclass(frozen=True)
class Row:
    file: str
    resource: str
    cells: dict[str, dict[str, object] | None]  # release -> verdict cell (None: the input failed there)
    change: str | None  # "path", "reason" or None


def cell(verdict: Verdict) -> dict[str, object]:
    return {
        "verdict": verdict.verdict,
        "from": verdict.from_node,
        "to": verdict.to_node,
        "reason": verdict.reason,
        "blocked": verdict.blocked,
    }


def _path(value: dict[str, object] | None) -> tuple[object, ...] | None:
    return None if value is None else (value["verdict"], value["from"], value["to"], value["blocked"])


def change(cells: Sequence[dict[str, object] | None]) -> str | None:
    if len({_path(c) for c in cells}) > 1:
        return "path"
    if len({c["reason"] for c in cells if c is not None}) > 1:
        return "reason"
    return None


def compare(by_release: dict[str, list[Replayed]]) -> list[tuple[str, list[Row], dict[str, str]]]:
    """Per input (in the order given): its rows and, per release, the error that input met there."""
    releases = list(by_release)
    compared = []
    for results in zip(*by_release.values()):
        errors = {name: r.error for name, r in zip(releases, results) if r.error}
        ids: list[str] = []
        for result in results:
            ids += [v.resource for v in result.outcome.all() if v.resource not in ids]
        rows = []
        for rid in ids:
            cells = {name: (None if r.error else cell(r.outcome[rid])) for name, r in zip(releases, results)}
            rows.append(Row(str(results[0].path), rid, cells, change(list(cells.values()))))
        compared.append((str(results[0].path), rows, errors))
    return compared


def counts(compared: list[tuple[str, list[Row], dict[str, str]]]) -> dict[str, int]:
    """Inputs whose path changes on some resource, inputs where only reason texts change, the rest."""
    path = sum(any(r.change == "path" for r in rows) for _, rows, errors in compared if not errors)
    reason = sum(
        any(r.change == "reason" for r in rows) and not any(r.change == "path" for r in rows)
        for _, rows, errors in compared
        if not errors
    )
    errors = sum(bool(e) for _, _, e in compared)
    return {
        "inputs": len(compared),
        "path": path,
        "reason": reason,
        "unchanged": len(compared) - path - reason - errors,
        "errors": errors,
    }


def as_json(releases: list[str], compared: list[tuple[str, list[Row], dict[str, str]]]) -> dict[str, object]:
    inputs = []
    for file, rows, errors in compared:
        entry: dict[str, object] = {
            "file": file,
            "resources": [{"id": r.resource, **r.cells, "change": r.change} for r in rows],
        }
        if errors:
            entry["errors"] = errors
        inputs.append(entry)
    return {"releases": releases, "inputs": inputs, "counts": counts(compared)}


def _text(value: dict[str, object] | None) -> str:
    if value is None:
        return "error"
    frm, to = value["from"], value["to"]
    nodes = f" {frm} -> {to}" if frm and to and frm != to else (f" on {to or frm}" if to or frm else "")
    return f"{value['verdict']}{nodes}" + (" BLOCKED" if value["blocked"] else "")


def text(releases: list[str], compared: list[tuple[str, list[Row], dict[str, str]]], *, all_rows: bool = False) -> str:
    """A table of the resources whose verdict or reason changes (every resource with ``all_rows``)
    and a last line with the counts."""
    from .report import table

    rows = []
    for file, found, errors in compared:
        file = Path(file).name  # the JSON keeps the whole path
        for name, error in errors.items():
            rows.append(
                [
                    file,
                    "-",
                    *(("error" if n == name else "") for n in releases),
                    f"ERROR on {name}: {error.splitlines()[0]}",
                ]
            )
        for row in found:
            if all_rows or row.change:
                rows.append([file, row.resource, *(_text(row.cells[n]) for n in releases), row.change or ""])
    shown = (
        table(rows, ["input", "resource", *releases, "change"]) if rows else "no resource changes its path or reason"
    )
    c = counts(compared)
    return (
        f"{shown}\n{c['inputs']} inputs on {' and '.join(releases)}: {c['path']} change a resource's path, "
        f"{c['reason']} only Pacemaker's reason text, {c['unchanged']} unchanged, {c['errors']} errors"
    )
