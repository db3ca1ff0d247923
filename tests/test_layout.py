"""The house rules the layout promises: no tier imports another tier, no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness import tiers

PACKAGE = Path(tiers.__file__).parent.parent
TIERS = sorted(tiers.TIERS)
MAX_LINES = 400


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = _module(path) if path.name == "__init__.py" else _module(path).rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("tier", TIERS)
def test_no_tier_imports_another(tier: str) -> None:
    others = [f"harness.tiers.{t}" for t in TIERS if t != tier]
    found = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / "tiers" / tier).rglob("*.py")
        for name in imported(path)
        if any(name == o or name.startswith(o + ".") for o in others)
    }
    assert not found, sorted(found)


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_the_import_checker_sees_relative_imports() -> None:
    names = imported(PACKAGE / "tiers" / "local" / "backend.py")
    assert "harness.tiers.live" in names and "harness.tiers.local.actions" in names
