"""Replay: run the scheduler on CIBs and saved scheduler inputs as they are, and give verdicts.

Inputs are what people attach to bug reports: a CIB, a ``pe-input-N.bz2`` (bzip2, gzip or plain),
or the ``pengine/`` directory of a crm_report with hundreds of them, replayed in parallel and shown
as a timeline of what happened to each VM.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import cib as cibmod
from . import reportinput, schemas, scratch, simulator
from .errors import CommandFailed, HarnessError, InputError
from .outcome import Outcome

# pe-input-12.bz2, also with a prefix as crm_report and the harness's evidence name them
_INPUT_NAME = re.compile(r"(?:^|[-_.])pe-(input|warn|error)-(\d+)(\.bz2|\.gz|\.xml)?$")
_VM_AGENTS = {"Xen", "VirtualDomain", "xen", "vm"}


@dataclass
class Replayed:
    path: Path
    outcome: Outcome  # empty when the input could not be replayed: see ``error``
    vms: list[str]  # migratable resources (allow-migrate, or a VM agent)
    cib_version: tuple[int, int, int] = (0, 0, 0)  # admin_epoch, epoch, num_updates
    error: str | None = None  # why this input has no verdicts (the others still have theirs)

    @property
    def sequence(self) -> tuple[tuple[int, int, int], tuple[int, str]]:
        """Chronological: the CIB version a scheduler input was computed from, then its number
        (pe-input-N and pe-error-M are numbered separately, so numbers alone do not order them)."""
        return (self.cib_version, _order(self.path))


def expand(paths: list[Path]) -> list[Path]:
    """Files to replay: the files given, and the scheduler inputs or XML files of directories."""
    files: list[Path] = []
    for path in paths:
        if reportinput.is_report(path):  # a crm_report: every node's inputs, by time, once
            files.extend(reportinput.inputs(path))
        elif path.is_dir():
            inside = sorted(
                (
                    p
                    for p in path.iterdir()
                    if p.is_file() and (_INPUT_NAME.search(p.name) or p.suffix in {".xml", ".bz2", ".gz"})
                ),
                key=lambda p: _order(p),
            )
            if not inside:
                raise InputError("no scheduler inputs (pe-input-N.bz2) or XML files in this directory", path=path)
            files.extend(inside)
        elif path.exists():
            files.append(path)
        else:
            raise InputError("no such file or directory", path=path)
    return files


def _order(path: Path) -> tuple[int, str]:
    match = _INPUT_NAME.search(path.name)
    return (int(match.group(2)), path.name) if match else (1 << 30, path.name)


def replay_one(path: Path, workdir: Path, keep: bool = False) -> Replayed:
    """One input: read and parsed once (for its VMs and version), piped to the scheduler as it is."""
    data = cibmod.read_bytes(path)
    root = cibmod.parse(data, path)
    cibmod.check_is_cib(root, path)
    try:
        planned = simulator.schedule(data, workdir, keep_as=path.name if keep else None)
    except CommandFailed as exc:
        newer = schemas.newer_than_this(root)
        if newer is not None:
            raise InputError(f"the scheduler cannot process this input: {newer[0]}", path=path, hint=newer[1]) from None
        # The input is piped in: crm_simulate calls it unknown.xml; its line numbers are the user's.
        shown = str(path) + (" (decompressed)" if path.suffix in {".bz2", ".gz"} else "")
        raise InputError(
            f"the scheduler cannot process this input: crm_simulate {exc.status}\n"
            + exc.output(rename={"unknown.xml": shown}),
            path=path,
        ) from None
    except HarnessError as exc:
        raise InputError(f"the scheduler cannot process this input: {exc.message}", path=path) from None
    vms = [p.id for p in cibmod.primitives(root) if p.allow_migrate or p.type in _VM_AGENTS]
    version = tuple(_int(root.get(name)) for name in ("admin_epoch", "epoch", "num_updates"))
    return Replayed(path, planned.outcome(), vms, version)  # type: ignore[arg-type]


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def replay(
    paths: list[Path],
    *,
    jobs: int | None = None,
    keep: Path | None = None,
    progress: Callable[[Replayed], None] | None = None,
) -> list[Replayed]:
    """Every input replayed by the active release's scheduler, in parallel, in the order given.
    An input that cannot be replayed gets a result with ``error`` set; the others are answered."""
    files = expand(paths)
    workdir = keep or scratch.make("replay")
    workdir.mkdir(parents=True, exist_ok=True)
    try:

        def one(path: Path) -> Replayed:
            try:
                result = replay_one(path, workdir, keep is not None)
            except HarnessError as exc:
                result = Replayed(path, Outcome({}), [], error=str(exc))
            if progress:
                progress(result)
            return result

        if len(files) == 1:
            return [one(files[0])]
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            return list(pool.map(one, files))
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


def timeline(results: list[Replayed]) -> dict[str, list[tuple[str, str]]]:
    """For each VM, the inputs that acted on it and what they did, in input order."""
    lines: dict[str, list[tuple[str, str]]] = {}
    for result in sorted(results, key=lambda r: r.sequence):
        for vm in result.vms:
            if result.outcome is not None and vm in result.outcome.verdicts:
                lines.setdefault(vm, []).append((result.path.name, result.outcome[vm].describe()))
    return lines
