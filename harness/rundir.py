"""Run directories: everything a run creates lives under one directory, named by a run id.

``<root>/<run-id>/state.json`` records the tier, the owner's PID and what the run started
(process ids, namespace and link names, VM names), so that ``down`` and ``migration-harness clean``
can remove exactly that, also after the owner was killed. The root is
``$MIGRATION_HARNESS_RUNS`` or ``/tmp/migration-harness-<uid>/runs``: per user, created 0700, and
refused when another user owns it or others can write to it (a state file there says which
processes ``clean`` kills and which files it removes; secrets such as a corosync key live beside it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HarnessError, UnsafeDirectory

ENV_RUNS = "MIGRATION_HARNESS_RUNS"
TMP = Path("/tmp")  # not $TMPDIR: `up` and a later `down` from another shell must agree


def root() -> Path:
    """The runs root, created private when missing; UnsafeDirectory if someone else could change it."""
    given = os.environ.get(ENV_RUNS)
    if given:
        return private_dir(Path(given))
    return private_dir(private_dir(TMP / f"migration-harness-{os.getuid()}") / "runs")


def private_dir(path: Path) -> Path:
    """``path`` as a directory only this user can write to: created 0700, or checked if it exists."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError as exc:
        raise HarnessError(
            f"{path}: cannot create the directory: {exc.strerror}", hint=f"choose another place with {ENV_RUNS}=DIR"
        ) from None
    reason = _unsafe(info)
    if reason:
        raise UnsafeDirectory(path, reason, hint=f"remove it, or choose another place with {ENV_RUNS}=DIR")
    return path


def _unsafe(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if info.st_uid != os.getuid():
        return f"is owned by uid {info.st_uid}, not by you (uid {os.getuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"can be written by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def write_secret(path: Path, data: bytes) -> None:
    """Write a secret readable by this user only: 0600 from its creation on, not chmod-ed afterwards."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


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
    def create(cls, tier: str, base: Path | None = None) -> RunDir:
        base = private_dir(base) if base else root()
        path = base / new_id()
        path.mkdir(mode=0o700)
        run = cls(path, {"tier": tier, "owner": os.getpid(), "created": time.time()})
        run.save()
        return run

    @classmethod
    def open(cls, path: Path) -> RunDir:
        try:
            data = json.loads((path / "state.json").read_text())
        except (OSError, ValueError) as exc:
            raise HarnessError(f"{path}: not a run directory ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("tier"), str):
            raise HarnessError(f"{path}: not a run directory (its state.json records no tier)")
        return cls(path, data)

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
