"""What a local-tier run may leave behind: processes that name its directory, recorded PIDs alive."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from harness.procs import Proc


def processes_naming(path: Path) -> list[int]:
    """PIDs whose command line mentions ``path`` (the nodes' inits do: they run <run>/nodeN/init.sh)."""
    needle = str(path).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return [p for p in found if p != os.getpid()]


def recorded_alive(state: dict) -> list[int]:
    procs = [state["hub"]] if "hub" in state else []
    for entry in state.get("node_procs", {}).values():
        procs.extend(entry[role] for role in ("init", "holder") if role in entry)
    return [p[0] for p in procs if Proc.from_json(p).alive()]


def host_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def default_sigint() -> None:
    """In a child about to exec: Ctrl-C as a terminal would deliver it. A test runner started in the
    background (`pytest ... &` in a script) passes SIGINT on ignored, and a child that ignores it
    would make every SIGINT test pass or fail for the wrong reason."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
