"""Errors that carry what a user needs to act: which input, where, what a tool printed, how to fix.

Every error the harness raises on purpose derives from HarnessError; the CLI and the pytest plugin
print ``str(error)`` and exit non-zero instead of showing a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence


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
        status = "timed out" if rc is None else f"exited {rc}"
        output = (stderr.strip() or stdout.strip())[-2000:]
        head = f"{what}: " if what else ""
        super().__init__(
            f"{head}command {' '.join(argv)} {status}" + (f"\n{output}" if output else ""),
            hint=hint,
        )
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


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
