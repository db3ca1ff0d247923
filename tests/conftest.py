"""Shared test options: ``--update-expected`` rewrites the stored expectations (cts-scheduler style)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-expected",
        action="store_true",
        default=False,
        help="rewrite tests/data/**/*.expected.json from what the code now produces (review the diff)",
    )


@pytest.fixture
def update_expected(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-expected"))
