"""Typed access to a scenario file's data: every value checked, errors with the file, the line and
how to fix it (``InputError``). ``scenarioparts`` and ``scenariobuild`` build on it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import yamlfile
from .errors import InputError
from .yamlfile import kind_of

# Pacemaker ids are XML IDs; a scenario name also names directories.
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _label(where: tuple[str | int, ...]) -> str:
    """('expect', 2, 'verdict') -> "'verdict' in item 3 of 'expect'"."""
    *parents, last = where
    text = f"item {last + 1}" if isinstance(last, int) else f"'{last}'"
    for index in range(len(parents) - 1, -1, -1):
        part = parents[index]
        if isinstance(part, int):
            continue
        item = where[index + 1] if index + 1 < len(where) else None
        if isinstance(item, int) and index + 1 < len(where) - 1:
            text += f" in item {item + 1} of '{part}'"
        elif not (isinstance(last, int) and index == len(parents) - 1):
            text += f" in '{part}'"
        else:
            text += f" of '{part}'"
    return text


class Checker:
    """Typed accessors over one scenario file's data; every error points at the line."""

    def __init__(self, path: Path, data: dict[Any, Any], lines: yamlfile.Lines) -> None:
        self.path, self.data, self.lines = path, data, lines

    def fail(self, message: str, *where: str | int, line: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=line or self.lines.of(*where), hint=hint)

    # -- typed accessors -----------------------------------------------------------------------
    def wrong(self, where: tuple[str | int, ...], value: Any, wanted: str, hint: str | None = None) -> InputError:
        return self.fail(f"{_label(where)} must be {wanted}, not {kind_of(value)}", *where, hint=hint)

    def text(self, value: Any, *where: str | int, wanted: str = "text", hint: str | None = None) -> str:
        if not isinstance(value, str):
            raise self.wrong(where, value, wanted, hint)
        return value

    def ident(self, value: Any, *where: str | int, what: str = "a resource id", pattern: re.Pattern[str] = _ID) -> str:
        text = self.text(value, *where, wanted=what)
        if not pattern.match(text):
            first = "a letter or digit" if pattern is _NAME else "a letter or '_'"
            raise self.fail(
                f"{_label(where)}: '{text}' is not {what}",
                *where,
                hint=f"start with {first}; use letters, digits, '_', '.' and '-' only",
            )
        return text

    def names(self, value: Any, *where: str | int, wanted: str = "a name or a list of names") -> tuple[str, ...]:
        """A name or a list of names, as ``style:``, ``trigger:``, ``verdict:`` take them."""
        items = value if isinstance(value, list) else [value]
        if value is None or not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise self.wrong(where, value if not isinstance(value, list) else _first_bad(items), wanted)
        return tuple(items)

    def mapping(
        self, value: Any, *where: str | int, keys: set[str] | None = None, wanted: str = "a mapping (key: value)"
    ) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.wrong(where, value, wanted)
        extra = sorted(str(k) for k in value if keys is not None and k not in keys)
        if extra:
            raise self.fail(
                f"unknown key '{extra[0]}' in {_label(where)}",
                *where,
                extra[0],
                hint="keys: " + ", ".join(sorted(keys or ())),
            )
        return value


def _first_bad(items: list[Any]) -> Any:
    return next((v for v in items if not (isinstance(v, str) and v.strip())), items[0] if items else None)
