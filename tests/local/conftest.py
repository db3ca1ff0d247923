"""Fixtures of the local-tier tests: one cluster per module, reused across its tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import BackendUnavailable
from harness.tiers.local.backend import LocalBackend


@pytest.fixture(scope="module")
def local_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBackend]:
    try:
        LocalBackend.sanity_check()
    except BackendUnavailable as exc:
        pytest.skip(f"tier local cannot run here: {exc}")
    backend = LocalBackend(Path(tmp_path_factory.mktemp("local")))
    try:
        yield backend
    finally:
        backend.down()
