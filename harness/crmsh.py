"""Applying a configuration written in crm shell syntax to a file CIB (``CIB_file``), with crmsh.

crmsh numbers the statements it rejects ("ERROR: 3: syntax ..."), counting logical lines;
``statement_lines`` maps those numbers back to the lines of the scenario file so that an error
names the file and the line a user has to fix. Agents that this system lacks (``ocf:lvm2:clvmd``
on Debian 12) make crmsh refuse a configuration unless forced: the configuration is applied with
``-F`` and the unknown agents are reported, not fatal.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import CommandFailed, InputError
from .runner import run

_STATEMENT_ERROR = re.compile(r"ERROR: (\d+): (.*?)(?: parsing '(.*)')?$", re.M)
_UNKNOWN_AGENT = re.compile(r"ERROR: ([\w.-]+:(?:[\w.-]+:)?[\w.-]+): no such resource agent")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Source:
    """Where a configuration text came from, so errors can point into the scenario file."""

    path: Path | str
    first_line: int = 1  # line of the file on which the configuration's first line stands
    original: str = ""  # the text as written in the file (the applied text may be a rendered style)


def statement_lines(text: str) -> list[int]:
    """1-based line of each crm statement in ``text`` (continuations joined, blanks and comments skipped)."""
    starts: list[int] = []
    continuing = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not continuing and stripped and not stripped.startswith("#"):
            starts.append(number)
        continuing = stripped.endswith("\\")
    return starts


def apply(cib_path: Path, text: str, source: Source) -> list[str]:
    """Load ``text`` into the CIB file; returns the agents crmsh says do not exist here."""
    with tempfile.NamedTemporaryFile("w", suffix=".crm", dir=cib_path.parent, delete=False) as f:
        f.write(text if text.endswith("\n") else text + "\n")
        crm_file = Path(f.name)
    try:
        result = run(
            ["crm", "-F", "configure", "load", "update", str(crm_file)],
            # setuptools' distutils shim costs crmsh a quarter of a second per start.
            env={"CIB_file": str(cib_path), "SETUPTOOLS_USE_DISTUTILS": "stdlib"},
            check=False,
            timeout=120,
        )
    finally:
        crm_file.unlink(missing_ok=True)
    output = _ANSI.sub("", result.stderr + result.stdout)
    unknown = sorted(set(_UNKNOWN_AGENT.findall(output)))
    if result.ok:
        return unknown
    syntax = _STATEMENT_ERROR.search(output)
    if syntax:
        number, message, statement = int(syntax.group(1)), syntax.group(2), syntax.group(3)
        line = _locate(source.original or text, number, statement)
        raise InputError(
            f"crmsh rejects the configuration: {message}"
            + (f"\n    {statement}" if statement else ""),
            path=source.path,
            line=source.first_line + line - 1 if line else None,
            hint="fix the crm syntax of that statement (see `crm configure help`)",
        )
    raise InputError(
        "crmsh rejects the configuration:\n  " + "\n  ".join(_errors(output)),
        path=source.path,
        hint="check the resource and constraint ids the configuration refers to",
    )


def _locate(text: str, number: int, statement: str | None) -> int | None:
    lines = text.splitlines()
    if statement:
        head = statement.split()[:2]
        for index, line in enumerate(lines, start=1):
            if line.split()[:2] == head:
                return index
    starts = statement_lines(text)
    return starts[number - 1] if 0 < number <= len(starts) else None


def _errors(output: str) -> list[str]:
    wanted = [
        line.strip()
        for line in output.splitlines()
        if "ERROR" in line and "no such resource agent" not in line and "got no meta-data" not in line
    ]
    return wanted or [output.strip()[-1000:]]


def check_available() -> None:
    """Raise ToolMissing with the package to install if crmsh is missing."""
    try:
        run(["crm", "--version"], timeout=60)
    except CommandFailed as exc:
        raise InputError(f"crmsh does not run: {exc}") from None
