"""Pacemaker versions: detect the installed one, and match version ranges written in scenarios.

A range is one or more comparisons separated by commas, e.g. ``">=2.0"``, ``"<1.1.7"``,
``">=2.0, <3"``. Missing components count as zero, so ``2.1`` equals ``2.1.0``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .errors import HarnessError
from .runner import run

_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(\d+(?:\.\d+)*)\s*$")


@dataclass(frozen=True, order=True)
class Version:
    parts: tuple[int, ...]
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        match = re.search(r"\d+(?:\.\d+)*", text)
        if not match:
            raise ValueError(f"no version number in {text!r}")
        parts = tuple(int(p) for p in match.group(0).split("."))
        while len(parts) > 1 and parts[-1] == 0:
            parts = parts[:-1]
        return cls(parts, match.group(0))

    def __str__(self) -> str:
        return self.text or ".".join(str(p) for p in self.parts)


def check_range(spec: str) -> None:
    """Raise ValueError if ``spec`` is not a valid range."""
    for piece in spec.split(","):
        if not _COMPARISON.match(piece):
            raise ValueError(f"invalid version range {spec!r}: write comparisons like '>=2.0' or '>=2.0, <3'")


def in_range(version: Version, spec: str) -> bool:
    check_range(spec)
    for piece in spec.split(","):
        op, number = _COMPARISON.match(piece).groups()  # type: ignore[union-attr]
        other = Version.parse(number)
        ok = {
            None: version == other,
            "=": version == other,
            "==": version == other,
            "!=": version != other,
            ">=": version >= other,
            "<=": version <= other,
            ">": version > other,
            "<": version < other,
        }[op]
        if not ok:
            return False
    return True


def pacemaker_version() -> Version:
    """The version of the active release's Pacemaker tools (``crm_simulate --version``)."""
    from . import release

    return _pacemaker_version(release.active().name)


@functools.cache
def _pacemaker_version(release_name: str) -> Version:
    # Pacemaker 2.0 prints its version on stderr (and exits 64); later releases on stdout.
    result = run(["crm_simulate", "--version"], check=False)
    out = result.stdout + result.stderr
    match = re.search(r"Pacemaker\s+(\d+(?:\.\d+)*)", out)
    if not match:
        raise HarnessError(f"cannot read the Pacemaker version from: {out.strip()[:200]!r}")
    return Version.parse(match.group(1))
