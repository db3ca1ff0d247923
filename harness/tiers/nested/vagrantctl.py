"""python-vagrant, run inside the run's namespaces, with the run's own state and settings.

Every vagrant call gets: the Vagrantfile at the repo top, ``VAGRANT_DOTFILE_PATH`` in the run
directory (parallel runs never share machine state), ``MH_SETTINGS`` (the run's settings.json), a
``VAGRANT_HOME`` of the run's own whose boxes are the cache's (imported once), and, when isolated, an
``nsenter`` prefix so vagrant talks to the run's own libvirtd.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import vagrant

from ... import cache
from ...errors import CommandFailed
from . import files

REPO = files.VAGRANT_DIR  # where the Vagrantfile is (VAGRANT_CWD)
_MACHINE_LINE = re.compile(r"^==> (\w+): (.*)$")
# Vagrant lines that are detail, not a phase: the domain's settings table, the box-version advice.
_DETAIL = re.compile(r"^(-- |No version detected|generating a local metadata|See https://)")


class Vagrant(vagrant.Vagrant):
    """python-vagrant with an argv prefix (``nsenter ... --``) before the vagrant executable."""

    def __init__(self, prefix: list[str], env: dict[str, str], log_path: Path) -> None:
        # Output python-vagrant does not return goes to the run's vagrant.log (for errors); it wants
        # factories of context managers, and enters each file it is given itself.
        super().__init__(
            root=str(REPO),
            env=env,
            out_cm=lambda: open(log_path, "ab"),  # noqa: SIM115
            err_cm=lambda: open(log_path, "ab"),  # noqa: SIM115
        )
        self._prefix = prefix
        self.log_path = log_path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _make_vagrant_command(self, args):
        return self._prefix + super()._make_vagrant_command(args)


def imported_boxes() -> Path:
    """Where imported boxes live, shared by every run (a box is imported once)."""
    return cache.artefacts() / "vagrant.d" / "boxes"


def run_home(run_path: Path) -> Path:
    """The run's own VAGRANT_HOME, its ``boxes`` the shared directory.

    Vagrant's machine index (``data/machine-index``) lives in VAGRANT_HOME and finds a new machine's
    entry by name, provider and Vagrantfile path: with one home for all runs, two runs at once
    (pytest-xdist workers) took each other's san/node1 entries and failed with "Vagrant can't use
    the requested machine because it is locked!". Each run has its own index now; only boxes are
    shared.
    """
    home = run_path / "vagrant.d"
    boxes = home / "boxes"
    if not boxes.is_symlink():
        imported_boxes().mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        boxes.symlink_to(imported_boxes(), target_is_directory=True)
    return home


def environment(run_path: Path, settings_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "VAGRANT_HOME": str(run_home(run_path)),
            "VAGRANT_CWD": str(REPO),
            "VAGRANT_DOTFILE_PATH": str(run_path / ".vagrant"),
            "VAGRANT_CHECKPOINT_DISABLE": "1",
            "VAGRANT_BOX_UPDATE_CHECK_DISABLE": "1",
            "VAGRANT_DEFAULT_PROVIDER": "libvirt",
            "VAGRANT_NO_COLOR": "1",
            "MH_SETTINGS": str(settings_file),
        }
    )
    return env


def ensure_box(v: Vagrant, name: str, package: Path) -> bool:
    """Import the box into the shared boxes unless it is there; True when it was imported. Runs
    side by side import it once: the second waits for the first (a lock file beside the boxes)."""
    with open(imported_boxes().parent / "boxes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if any(b.name == name for b in v.box_list()):
            return False
        v.box_add(name, str(package))
        return True


def follow(lines: Iterable[str], progress: Callable[[str], None], started: float, keep: list[str]) -> None:
    """Turn vagrant's output into one progress line per machine and phase, with the elapsed time.

    Repeated lines (progress bars) are dropped; every line is kept in ``keep`` for errors.
    """
    last: dict[str, str] = {}
    for raw in lines:
        for line in raw.replace("\r", "\n").splitlines():
            line = line.strip()
            if not line:
                continue
            keep.append(line)
            match = _MACHINE_LINE.match(line)
            if not match:
                continue
            machine, text = match.groups()
            if _DETAIL.match(text.strip()):
                continue
            # Keep the phase, drop volatile detail (percentages, byte counts).
            phase = re.sub(r"\s+\d+%.*$", "", text)
            if last.get(machine) == phase:
                continue
            last[machine] = phase
            progress(f"[{time.monotonic() - started:6.1f}s] {machine}: {phase}")


def up(v: Vagrant, progress: Callable[[str], None], started: float) -> None:
    """``vagrant up --no-provision`` of every machine in parallel, progress streamed."""
    keep: list[str] = []
    try:
        follow(v.up(no_provision=True, provider="libvirt", stream_output=True), progress, started, keep)
    except Exception as exc:  # python-vagrant raises CalledProcessError without the output
        raise CommandFailed(
            ["vagrant", "up", "--no-provision"],
            getattr(exc, "returncode", None),
            "\n".join(keep[-40:]),
            v.log_tail(),
            what="bringing the VMs up",
        ) from None
