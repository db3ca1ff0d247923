"""What a local-tier run may leave behind: processes that name its directory, recorded PIDs alive."""

from __future__ import annotations

import os
from pathlib import Path

from harness.tiers.local.procs import Proc


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
