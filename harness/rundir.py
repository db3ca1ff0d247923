"""Run directories: everything a run creates lives under one directory, named by a run id.

``<root>/<run-id>/state.json`` records the tier, the owner's PID and what the run started
(process ids, namespace and link names, VM names), so that ``down`` and ``migration-harness clean``
can remove exactly that, also after the owner was killed. The root is
``$MIGRATION_HARNESS_RUNS`` or ``/tmp/migration-harness/runs``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HarnessError


def root() -> Path:
    return Path(os.environ.get("MIGRATION_HARNESS_RUNS", "/tmp/migration-harness/runs"))


def new_id() -> str:
    """Short, so that names derived from it fit interface names (15 characters)."""
    return secrets.token_hex(3)


@dataclass
class RunDir:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @classmethod
    def create(cls, tier: str, base: Path | None = None) -> "RunDir":
        base = base or root()
        base.mkdir(parents=True, exist_ok=True)
        path = base / new_id()
        path.mkdir()
        run = cls(path, {"tier": tier, "owner": os.getpid(), "created": time.time()})
        run.save()
        return run

    @classmethod
    def open(cls, path: Path) -> "RunDir":
        try:
            return cls(path, json.loads((path / "state.json").read_text()))
        except (OSError, ValueError) as exc:
            raise HarnessError(f"{path}: not a run directory ({exc})") from None

    def save(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
        tmp.replace(self.state_file)

    def update(self, **values: Any) -> None:
        self.data.update(values)
        self.save()

    def owner_alive(self) -> bool:
        owner = self.data.get("owner")
        if not isinstance(owner, int):
            return False
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def all_runs(base: Path | None = None) -> list[RunDir]:
    base = base or root()
    runs = []
    for path in sorted(base.glob("*/state.json")):
        try:
            runs.append(RunDir.open(path.parent))
        except HarnessError:
            continue
    return runs


def current(tier: str | None = None) -> RunDir:
    """The most recent live run (for ``status``, ``exec`` and ``down`` without --run)."""
    runs = [r for r in all_runs() if tier is None or r.data.get("tier") == tier]
    if not runs:
        raise HarnessError("no run is up", hint="start one: migration-harness up --tier local --nodes 2")
    return max(runs, key=lambda r: r.data.get("created", 0))
