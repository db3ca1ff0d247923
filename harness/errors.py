"""Errors that carry what a user needs to act: which input, where, what a tool printed, how to fix.

Every error the harness raises on purpose derives from HarnessError; the CLI and the pytest plugin
print ``str(error)`` and exit non-zero instead of showing a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class HarnessError(Exception):
    """Base of every expected failure. ``hint`` says how to fix it."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(HarnessError):
    """Bad user input: a scenario file, a replay file, a trigger naming an unknown resource."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(where + message, hint=hint)
        self.path = path
        self.line = line


class ToolMissing(HarnessError):
    """An external program the harness needs is not installed."""

    def __init__(self, tool: str, package: str | None) -> None:
        hint = f"install it: apt-get install {package}" if package else None
        super().__init__(f"required program '{tool}' was not found on PATH", hint=hint)
        self.tool = tool
        self.package = package


def summarize(output: str, *, rename: Mapping[str, str] | None = None, head: int = 8, tail: int = 4) -> str:
    """The lines of a tool's output that carry the cause, duplicates dropped: the first ones (where a
    validator puts the root cause, e.g. Relax-NG errors) and the last ones (where a tool puts its
    verdict). ``rename`` replaces paths of temporary copies by what the user gave."""
    lines: list[str] = []
    seen: set[str] = set()
    for line in output.splitlines():
        for old, new in (rename or {}).items():
            line = line.replace(old, new)
        line = line.rstrip()
        if len(line) > _LINE_MAX:
            line = line[:_LINE_MAX] + " ..."
        if line.strip() and line not in seen:
            seen.add(line)
            lines.append(line)
    if len(lines) > head + tail + 1:
        lines = [*lines[:head], f"... ({len(lines) - head - tail} more lines)", *lines[-tail:]]
    return "\n".join(lines)


_LINE_MAX = 500


class CommandFailed(HarnessError):
    """An external program exited non-zero (or timed out) where success was required."""

    def __init__(
        self,
        argv: Sequence[str],
        rc: int | None,
        stdout: str,
        stderr: str,
        *,
        what: str | None = None,
        hint: str | None = None,
    ) -> None:
        head = f"{what}: " if what else ""
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        output = self.output()
        super().__init__(
            f"{head}command {' '.join(argv)} {self.status}" + (f"\n{output}" if output else ""),
            hint=hint,
        )

    @property
    def status(self) -> str:
        return "timed out" if self.rc is None else f"exited {self.rc}"

    def output(self, rename: Mapping[str, str] | None = None) -> str:
        """What the program printed that says why (see ``summarize``)."""
        return summarize(self.stderr.strip() or self.stdout.strip(), rename=rename)


class UnsafeDirectory(HarnessError):
    """A directory the harness would trust (runs, state, secrets) that another user could change."""

    def __init__(self, path: Path, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: refused: it {reason}", hint=hint)
        self.path = path
        self.reason = reason


class CaseSkipped(HarnessError):
    """This case cannot run on this tier (its reason becomes the case's skip reason)."""


class BackendUnavailable(HarnessError):
    """A tier cannot run on this machine; ``reason`` says why (tests skip with it)."""


@dataclass
class Unknown:
    """Something a configuration names that this system does not have (an agent, say)."""

    kind: str
    name: str
    detail: str = ""
    where: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileFailure:
    """One input of several that could not be used; the others still run. ``error`` is the message."""

    path: Path
    error: str
