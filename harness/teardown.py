"""Remove a directory tree a killed process left behind, with what may still hold it: the processes
working in it (a box build's mmdebstrap, apt and dpkg in its chroot), file systems mounted under it,
loop devices backed by files in it. ``clean`` uses it for scratch directories and unfinished box
builds; everything is found from the path (never by a program's name), and only what is this
user's and lies under that path is touched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import procs
from .errors import HarnessError
from .runner import run

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def _under(candidate: str, base: Path) -> bool:
    return Path(candidate).is_relative_to(base)


def mounts_under(base: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or under ``base``, deepest first (the order to unmount them)."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return []
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = _unescape(fields[4])
            if _under(point, base):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def loops_backed_under(base: Path, sys_block: Path = Path("/sys/block")) -> list[str]:
    """Loop devices (``/dev/loopN``) whose backing file lies under ``base``."""
    found = []
    for backing in sorted(sys_block.glob("loop*/loop/backing_file")):
        try:
            target = backing.read_text().strip().removesuffix(" (deleted)")
        except OSError:
            continue
        if _under(target, base):
            found.append(f"/dev/{backing.parent.parent.name}")
    return found


def remove_tree(base: Path) -> list[str]:
    """Stop what holds ``base``, unmount and detach what lies under it, remove it; what was done,
    one line each. A mount or loop device that will not let go is an error naming it."""
    done = []
    holding = procs.holding(base)
    if holding:
        procs.terminate(holding, grace=20.0)
        done.append(f"{len(holding)} process(es) working in {base} stopped")
    for point in mounts_under(base):
        if run(["umount", point], check=False, timeout=60).ok or run(["umount", "-l", point], check=False).ok:
            done.append(f"mount {point}")
    for device in loops_backed_under(base):
        if run(["losetup", "-d", device], check=False, timeout=60).ok:
            done.append(f"loop device {device}")
    still = mounts_under(base) + loops_backed_under(base)
    if still:
        raise HarnessError(
            f"{base}: could not release {', '.join(still)}",
            hint="see `findmnt` and `losetup -l`; then run `migration-harness clean` again",
        )
    shutil.rmtree(base, ignore_errors=True)
    done.append(f"directory {base}")
    return done
