"""Scratch directories in $TMPDIR that carry their owner's PID, so ``clean`` can find the ones a
killed process left: ``$TMPDIR/mh-run-<pid>-<what>-XXXXXXXX``, mode 0700.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

PREFIX = "mh-run-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")


def make(what: str) -> Path:
    """A new private scratch directory of this process (mkdtemp creates it 0700)."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-{what}-"))


def owner_alive(pid: int, created: float) -> bool:
    """The directory's creator still runs: that PID exists and started before the directory."""
    try:
        started = os.stat(f"/proc/{pid}").st_mtime
    except OSError:
        return False
    # A PID reused by a process started after the directory was made is not its owner.
    return started <= created + 1


def leftovers(base: Path | None = None) -> list[Path]:
    """Scratch directories of this user whose creating process is gone."""
    base = base or Path(tempfile.gettempdir())
    return orphaned(base.glob(f"{PREFIX}*"), lambda name: m.group(1) if (m := _NAME.match(name)) else None)


def orphaned(paths: Iterable[Path], owner: Callable[[str], str | None]) -> list[Path]:
    """Of ``paths``, this user's directories (not links) whose owner, the PID ``owner`` reads from
    the name (None: not one of ours), is gone."""
    found = []
    for path in paths:
        pid = owner(path.name)
        try:
            info = path.lstat()
        except OSError:
            continue
        if pid is None or not path.is_dir() or path.is_symlink() or info.st_uid != os.geteuid():
            continue
        if not pid.isdigit() or not owner_alive(int(pid), info.st_ctime):
            found.append(path)
    return found


def remove_leftovers(base: Path | None = None) -> list[str]:
    """Remove the scratch directories of dead processes, with whatever still holds them (a box built
    with the cache off has its mounts and loop devices there)."""
    from .teardown import remove_tree  # the runner, imported late: the cache imports this module

    removed = []
    for path in leftovers(base):
        remove_tree(path)
        removed.append(f"scratch directory {path}")
    return removed
