"""A content-addressed cache outside the clone for slow, pure steps (crmsh loads, boxes).

The key is a hash of every input that can change the result; a hit is a file copy. The root is
``$MIGRATION_HARNESS_CACHE`` or ``~/.cache/migration-harness``; ``MIGRATION_HARNESS_CACHE=off``
disables it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def root() -> Path | None:
    value = os.environ.get("MIGRATION_HARNESS_CACHE", "")
    if value.lower() in {"off", "0", "no"}:
        return None
    return Path(value) if value else Path.home() / ".cache" / "migration-harness"


# Bump an area's revision when the code that computes its results changes what it produces: the
# old entries are then never hit again.
REVISIONS = {
    "crm-load": 2,  # 2: crmsh.apply loads strictly first (a typo is an error, not a forced load)
}


def _area(base: Path, area: str) -> Path:
    revision = REVISIONS.get(area)
    return base / (f"{area}.{revision}" if revision else area)


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
    entry = _area(base, area) / digest
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
    target = _area(base, area) / digest
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        shutil.copyfile(source, staging / "data")
        (staging / "meta.json").write_text(json.dumps(meta))
        staging.rename(target)
    except OSError:
        shutil.rmtree(locals().get("staging", target / "nonexistent"), ignore_errors=True)
