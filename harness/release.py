"""Debian releases as a parameter: which release's Pacemaker tools answer, and how to run them.

The distro-upgrade question ("do my verdicts change from Debian 12 to Debian 13?") needs the
other release's scheduler and crmsh. While a release is active every Pacemaker and crmsh command
runs inside its root filesystem with bubblewrap, the files it reads and writes bound at the same
paths (``wrap``); ``host`` (or the host's own codename) uses the host's tools. Building a root is
``releaseroot``'s (it runs programs; this module only decides how they are run).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import cache
from .errors import HarnessError
from .tools import which

# The Debian release each name stands for, and what the simulate tier needs from it.
RELEASES = {
    "bullseye": "Debian 11 (Pacemaker 2.0.5, Xen 4.14)",
    "bookworm": "Debian 12 (Pacemaker 2.1.5, Xen 4.17)",
    "trixie": "Debian 13 (Pacemaker 3.0.0, Xen 4.20)",
    "forky": "Debian 14, testing (Pacemaker 3.0.1, Xen 4.20)",
}
PACKAGES = ["pacemaker-cli-utils", "crmsh", "resource-agents", "pacemaker-resource-agents"]
# Programs that come from the release (everything else, such as dot, runs on the host).
RELEASE_TOOLS = frozenset({"crm_simulate", "crm_resource", "crm_attribute", "cibadmin", "crm_verify", "crm", "crm_mon"})


@dataclass(frozen=True)
class Release:
    name: str
    rootfs: Path | None  # None: the host's own tools

    @property
    def label(self) -> str:
        return self.name


def host_codename() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "host"


_active = Release(host_codename(), None)


def active() -> Release:
    return _active


def activate(release: Release) -> None:
    global _active
    _active = release


def tool_path(tool: str) -> str | None:
    """Where the active release has ``tool`` (a path inside its root), or None to use the host's."""
    rootfs = _active.rootfs
    if rootfs is None or tool not in RELEASE_TOOLS:
        return None
    for directory in ("usr/sbin", "usr/bin", "sbin", "bin"):
        if (rootfs / directory / tool).exists():
            return f"/{directory}/{tool}"
    raise HarnessError(
        f"release {_active.name} has no '{tool}' in {rootfs}", hint=f"remove {rootfs.parent} to rebuild it"
    )


def identity(tool: str) -> str:
    """Changes when the active release's ``tool`` changes (for cache keys)."""
    inside = tool_path(tool)
    if inside is not None and _active.rootfs is not None:
        return f"{_active.name}:" + cache.tool_identity(str(_active.rootfs) + inside)
    return cache.tool_identity(which(tool))


def wrap(argv: Sequence[str], env: Mapping[str, str] | None) -> list[str]:
    """bwrap argv that runs ``argv`` inside the active release, with the paths it uses bound."""
    assert _active.rootfs is not None
    binds: set[str] = set()
    for value in [*argv[1:], *(env or {}).values()]:
        for piece in str(value).split("="):
            if piece.startswith("/") and not piece.startswith(("/usr", "/proc", "/dev")):
                path = Path(piece)
                folder = path if path.is_dir() else path.parent
                if folder.exists():
                    binds.add(str(folder))
    binds.add(tempfile_dir())
    prefix = ["bwrap", "--bind", str(_active.rootfs), "/", "--proc", "/proc", "--dev", "/dev"]
    for directory in sorted(binds):
        prefix += ["--bind", directory, directory]
    return prefix + ["--chdir", os.getcwd() if os.getcwd() in binds else "/", *argv]


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()
