"""Scenarios as data: one YAML file each, validated with errors that name the file and the line.

A scenario names a candidate configuration (crm syntax, or raw CIB XML), the resources under test,
the triggers, and the expected verdict, optionally per constraint style, trigger and Pacemaker
version range. ``Scenario.cases()`` expands it into the style x trigger matrix that every tier runs.
This module finds and loads scenario files (and shipped scenarios); the model is ``scenariotypes``,
the checking ``scenariobuild``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from . import yamlfile
from .errors import InputError
from .outcome import VERDICTS
from .scenariobuild import Builder
from .scenariotypes import GUEST_TYPES, Case, Expectation, Guest, Rule, Scenario
from .yamlfile import kind_of

__all__ = [
    "GUEST_TYPES",
    "Case",
    "Expectation",
    "Guest",
    "Rule",
    "Scenario",
    "adhoc",
    "find",
    "load",
    "parse",
    "shipped",
    "shipped_dir",
]


def shipped_dir() -> Path:
    return Path(str(resources.files("harness") / "scenarios"))


def shipped() -> list[Path]:
    return sorted(shipped_dir().glob("*.yaml"))


def find(names: list[str]) -> list[Path]:
    """Scenario files from paths or shipped scenario names; all shipped ones when empty."""
    if not names:
        return shipped()
    found = []
    by_name = {p.stem: p for p in shipped()}
    for name in names:
        path = Path(name)
        if path.is_dir():
            inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not inside:
                raise InputError(
                    "no scenario files (*.yaml) in this directory",
                    path=path,
                    hint="name scenario files, a directory that holds some, or a shipped scenario",
                )
            found.extend(inside)
        elif path.exists():
            found.append(path)
        elif name in by_name:
            found.append(by_name[name])
        else:
            peeked = {p: _peek_name(p) for p in shipped()}
            match = [p for p, n in peeked.items() if n == name]
            if not match:
                unreadable = [p.name for p, n in peeked.items() if n is None]
                raise InputError(
                    f"no scenario file or shipped scenario called '{name}'"
                    + (f" (unreadable shipped files: {', '.join(unreadable)})" if unreadable else ""),
                    hint="shipped: " + ", ".join(sorted(n or p.stem for p, n in peeked.items())),
                )
            found.extend(match)
    return found


def _peek_name(path: Path) -> str | None:
    try:
        data, _ = yamlfile.parse(yamlfile.read(path), path)
    except InputError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def load(path: Path | str) -> Scenario:
    path = Path(path)
    return parse(yamlfile.read(path), path)


def parse(text: str, path: Path) -> Scenario:
    data, lines = yamlfile.parse(text, path)
    if not isinstance(data, dict):
        raise InputError(
            f"a scenario is a YAML mapping (name:, nodes:, configuration:, ...), this file holds {kind_of(data)}",
            path=path,
            line=1,
            hint="see 'Writing a scenario' in the README for a complete example",
        )
    return Builder(path, data, lines).build()


def adhoc(
    name: str,
    path: Path,
    configuration: str,
    resources: list[str],
    nodes: int = 2,
    options: dict[str, str] | None = None,
) -> Scenario:
    """A scenario for a user's own test (the ``migration_cluster`` fixture): the configuration as
    written, validated like a file; it expects nothing, the test asserts."""
    data: dict[str, Any] = {
        "name": name,
        "nodes": nodes,
        "resources": resources,
        "configuration": configuration,
        "options": options or {},
        "triggers": ["none"],
        "expect": [{"verdict": list(VERDICTS)}],
    }
    return Builder(path, data, yamlfile.Lines({}, {})).build()
