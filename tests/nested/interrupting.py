"""Start a harness command, and interrupt it once its progress says a phase has begun.

Shared by the nested tier's interruption tests (bring-up, box build); imported by its module name
(pytest prepends this directory to sys.path).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from harness import procs

CLI = [sys.executable, "-m", "harness.cli"]


def default_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it (a runner in the background passes it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def naming(needle: str) -> list[int]:
    """This user's processes whose command line names ``needle`` (harness.procs: what clean looks for)."""
    return [proc.pid for proc in procs.mentioning(needle)]


@dataclass
class Interrupted:
    rc: int
    output: str
    at: float  # seconds after the start when the signal was sent


def interrupt_at(
    args: list[str], env: Mapping[str, str], marker: str, limit: float, sig: int, settle: float
) -> Interrupted:
    """``migration-harness ARGS``; once a line of its output holds ``marker`` (within ``limit`` s),
    ``settle`` seconds more, then ``sig``. A command that never gets there fails the test."""
    proc = subprocess.Popen(
        [*CLI, *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    lines: list[str] = []
    reached = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                reached.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        if not reached.wait(limit):
            pytest.fail(f"never reached {marker!r} in {limit} s:\n{''.join(lines[-20:])}")
        time.sleep(settle)  # into the phase, not at its first line
        at = time.monotonic() - started
        proc.send_signal(sig)
        proc.wait(timeout=300)
        reader.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Interrupted(proc.returncode, "".join(lines), at)
