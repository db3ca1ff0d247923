"""A crm_report (or hb_report) as replay input: every node's scheduler inputs, in time order, once.

``crm_report -f TIME DEST`` writes ``DEST.tar.bz2`` holding ``DEST/<node>/pengine/pe-input-N.bz2``
(also ``pe-warn-N``, ``pe-error-N``; older collectors keep ``<node>/var/lib/pacemaker/pengine`` or
``<node>/var/lib/pengine``). Every node that was DC has its own series, and the same input can sit
under several nodes. ``inputs`` finds them all, orders them by the time the scheduler ran
(``execution-date`` in the input, else its file time), drops inputs of identical content, and names
each copy ``<node>-pe-input-N.bz2`` so a timeline says which DC computed it. Archives are unpacked
into a private scratch directory (``scratch.make``), only regular files under the report's own
directory, never a path that leaves it, never links or devices.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import cib as cibmod
from . import scratch
from .errors import InputError

ARCHIVES = (".tar.bz2", ".tar.gz", ".tar.xz", ".tbz2", ".tgz", ".txz", ".tar")
_INPUT = re.compile(r"^pe-(input|warn|error)-(\d+)(\.bz2|\.gz|\.xml)?$")
_PENGINE_DIRS = ("pengine", "pacemaker/pengine", "var/lib/pacemaker/pengine", "var/lib/pengine")
# What is worth unpacking: scheduler inputs, each node's CIB and the report's description.
_WANTED = re.compile(r"(^|/)(pe-(input|warn|error)-\d+(\.bz2|\.gz|\.xml)?|cib\.xml|description\.txt|members\.txt)$")
MAX_MEMBER_BYTES = 256 << 20
MAX_TOTAL_BYTES = 2 << 30
_scratch_dirs: list[Path] = []


@dataclass(frozen=True)
class SchedulerInput:
    node: str  # the node whose pengine directory held it
    path: Path  # the file as unpacked (or as given)
    number: int
    when: int  # execution-date (seconds), or the file's modification time


@dataclass(frozen=True)
class Report:
    root: Path  # the report's directory (unpacked, or as given)
    nodes: list[str]  # node directories, sorted
    inputs: list[SchedulerInput]  # by time, duplicates dropped
    duplicates: int  # inputs dropped because another node held the same content


def is_report(path: Path) -> bool:
    """A crm_report tarball, or a directory laid out like one (node directories with scheduler inputs)."""
    if path.is_file():
        return path.name.endswith(ARCHIVES)
    return path.is_dir() and any(_pengine_dirs(path))


def inputs(path: Path) -> list[Path]:
    """The scheduler inputs of a crm_report directory or tarball, as files to replay (time order)."""
    report = load(path)
    if not report.inputs:
        raise InputError(
            "this crm_report holds no scheduler inputs (no <node>/pengine/pe-input-N.bz2)",
            path=path,
            hint="collect a window in which the cluster acted: crm_report -f 'YYYY-MM-DD HH:MM' DEST",
        )
    scratch_dir = scratch.make("report-inputs")
    _scratch_dirs.append(scratch_dir)
    # <scratch>/<report>/<node>-pe-input-N.bz2: a replay's JSON names the report and the node
    named = scratch_dir / re.sub(r"\.(tar(\.(bz2|gz|xz))?|tbz2|tgz|txz)$", "", path.name)
    named.mkdir()
    files = []
    for found in report.inputs:
        target = named / f"{found.node}-{found.path.name}"
        shutil.copyfile(found.path, target)
        files.append(target)
    return files


def load(path: Path) -> Report:
    """The report at ``path`` (a directory, or an archive unpacked into a scratch directory)."""
    if not path.exists():
        raise InputError("no such file or directory", path=path)
    root = _unpack(path) if path.is_file() else path
    found: list[SchedulerInput] = []
    nodes: set[str] = set()
    for node, pengine in _pengine_dirs(root):
        nodes.add(node)
        for file in sorted(pengine.iterdir()):
            match = _INPUT.match(file.name)
            if match and file.is_file() and not file.is_symlink():
                found.append(SchedulerInput(node, file, int(match.group(2)), _when(file)))
    found.sort(key=lambda i: (i.when, i.number, i.node))
    unique: list[SchedulerInput] = []
    seen: set[str] = set()
    for item in found:
        digest = hashlib.sha256(_content(item.path)).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(item)
    nodes |= {d.name for d in root.iterdir() if (d / "cib.xml").is_file()}
    return Report(root, sorted(nodes), unique, len(found) - len(unique))


def _pengine_dirs(root: Path) -> list[tuple[str, Path]]:
    """(node, its scheduler-input directory) for each node directory of the report."""
    found = []
    for node_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        for relative in _PENGINE_DIRS:
            candidate = node_dir / relative
            if candidate.is_dir() and not candidate.is_symlink():
                found.append((node_dir.name, candidate))
    return found


def _content(path: Path) -> bytes:
    try:
        return cibmod.read_bytes(path)
    except InputError:
        return path.read_bytes()


def _when(path: Path) -> int:
    """When the scheduler ran on this input: its execution-date, else the file's time."""
    try:
        head = _content(path)[:4096].decode("utf-8", "replace")
    except OSError:
        head = ""
    match = re.search(r'execution-date="(\d+)"', head)
    return int(match.group(1)) if match else int(path.stat().st_mtime)


def _unpack(archive: Path) -> Path:
    """Unpack the wanted members of a crm_report archive into a scratch directory; the report's root."""
    if not archive.name.endswith(ARCHIVES):
        raise InputError(
            "not a crm_report: give its directory or its archive (.tar.bz2, .tar.gz, .tar.xz)",
            path=archive,
        )
    dest = scratch.make("report")
    _scratch_dirs.append(dest)
    try:
        with tarfile.open(archive, "r:*") as tar:
            total = 0
            for member in tar:
                name = _safe_name(member.name, archive)
                if member.isdir() or not _WANTED.search(name):
                    continue
                if not member.isfile():
                    continue  # links, devices, fifos: never unpacked
                total += member.size
                if member.size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                    raise InputError(f"archive member {name} is too large to be a crm_report's", path=archive)
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    continue
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                os.utime(target, (member.mtime, member.mtime))  # an input without execution-date keeps its time
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(
            f"cannot read this archive: {exc}",
            path=archive,
            hint="give the .tar.bz2 crm_report wrote (or its unpacked directory)",
        ) from None
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) == 1 and not _pengine_dirs(dest):
        return tops[0]
    return dest


def _safe_name(name: str, archive: Path) -> str:
    """A member name that stays inside the destination, or an InputError."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or "\x00" in name:
        raise InputError(f"archive member '{name}' points outside the report: refused", path=archive)
    return str(pure)


@atexit.register
def _cleanup() -> None:
    for path in _scratch_dirs:
        shutil.rmtree(path, ignore_errors=True)
