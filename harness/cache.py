"""The one cache root, outside the clone: results of slow, pure steps and slow artefacts.

Results (crmsh loads) are content-addressed: the key is a hash of every input that can change the
result, and a hit is a file copy. Artefacts (Vagrant boxes, other releases' root filesystems,
Vagrant's home) are directories keyed the same way by their builders. The root is
``$MIGRATION_HARNESS_CACHE`` or ``~/.cache/migration-harness``. ``MIGRATION_HARNESS_CACHE=off``
turns results off, and puts artefacts in a private temporary directory of this process (built
anew, removed when it exits; ``migration-harness clean`` removes one a killed process left).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import scratch

ENV = "MIGRATION_HARNESS_CACHE"
OFF = {"off", "0", "no"}
_private: Path | None = None


def root() -> Path | None:
    """The cache root, or None when caching is off."""
    value = os.environ.get(ENV, "")
    if value.lower() in OFF:
        return None
    return Path(value) if value else Path.home() / ".cache" / "migration-harness"


def artefacts() -> Path:
    """Where slow artefacts live: the cache root, or with the cache off this process's own
    temporary directory (removed at exit)."""
    global _private
    base = root()
    if base is not None:
        return base
    if _private is None:
        _private = scratch.make("nocache")
        atexit.register(shutil.rmtree, _private, True)
    return _private


def key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def tool_identity(path: str) -> str:
    """Changes when the tool is upgraded: its path, size and modification time."""
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{int(stat.st_mtime)}"


def get(area: str, digest: str, dest: Path) -> dict[str, Any] | None:
    """Copy the cached file to ``dest`` and return its metadata, or None on a miss."""
    base = root()
    if base is None:
        return None
    entry = base / area / digest
    try:
        meta = json.loads((entry / "meta.json").read_text())
        shutil.copyfile(entry / "data", dest)
    except (OSError, ValueError):
        return None
    return meta


def put(area: str, digest: str, source: Path, meta: dict[str, Any]) -> None:
    base = root()
    if base is None:
        return
    target = base / area / digest
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        shutil.copyfile(source, staging / "data")
        (staging / "meta.json").write_text(json.dumps(meta))
        staging.rename(target)
    except OSError:
        shutil.rmtree(locals().get("staging", target / "nonexistent"), ignore_errors=True)
