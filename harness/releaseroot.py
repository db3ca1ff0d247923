"""Root filesystems of other Debian releases, built once with mmdebstrap and cached.

``ensure("trixie")`` builds (once, cached outside the clone in the cache's artefacts directory,
keyed by a hash of its inputs: the release, the packages, the archive and the recipe's version) a
root filesystem of that release from the Debian archive; ``release.activate`` then makes every
Pacemaker and crmsh command run inside it.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import cache, release
from .errors import InputError
from .release import PACKAGES, RELEASES, Release, host_codename
from .runner import run

# Bump when the way a root is built changes (the packages and the archive are keyed on their own).
RECIPE = 2  # 2: apt accepts an archive snapshot's expired Valid-Until
# mmdebstrap downloads and unpacks ~150 packages: 2-4 minutes here; 30 minutes means it is stuck.
BUILD_TIMEOUT = 1800


def mirror() -> str:
    """The Debian archive this machine's apt uses (deb.debian.org if it says nothing)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    try:
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    except OSError:
        pass
    return "http://deb.debian.org/debian"


# The harness reads crm_simulate's XML answer (--output-as xml, Pacemaker 2.1 on), and Pacemaker
# 2.0's text answer with crm_mon's XML (``pcmk20``); nothing older.
SUPPORTED = ">=2.0"


def activate(name: str, progress: Callable[[str], None] = print) -> Release:
    """Make ``name`` the release whose tools answer (built on first use); refused if its Pacemaker
    is older than the harness can read, and the host's release stays active then."""
    from .version import in_range, pacemaker_version

    previous = release.active()
    chosen = ensure(name, progress)
    release.activate(chosen)
    version = pacemaker_version()
    if not in_range(version, SUPPORTED):
        release.activate(previous)
        raise InputError(
            f"release {chosen.name} has Pacemaker {version}: the harness reads crm_simulate's answer "
            "from Pacemaker 2.0 on",
            hint="releases the harness answers with: bullseye (2.0.5), bookworm (2.1.5), trixie (3.0.0), forky (3.0.1)",
        )
    return chosen


def ensure(name: str, progress: Callable[[str], None] = print) -> Release:
    """The release called ``name``, building its root filesystem on first use."""
    if name in {"host", host_codename()}:
        return Release(name if name != "host" else host_codename(), None)
    if name not in RELEASES:
        raise InputError(f"unknown release '{name}'", hint="releases: host, " + ", ".join(RELEASES))
    base = cache.artefacts()
    digest = cache.key("release-rootfs", name, PACKAGES, mirror(), RECIPE)
    rootfs = base / "releases" / f"{name}-{digest[:12]}" / "rootfs"
    if (rootfs / "usr" / "sbin" / "crm_simulate").exists():
        return Release(name, rootfs)
    _build(name, rootfs, progress)
    return Release(name, rootfs)


def _build(name: str, rootfs: Path, progress: Callable[[str], None]) -> None:
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    # A staging directory of this build's own: two builds of one release never share one.
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=rootfs.parent))
    tarball = staging / "rootfs.tar"
    started = time.monotonic()
    progress(f"release {name}: building its Pacemaker tools with mmdebstrap from {mirror()} (about 2 minutes, once)")
    try:
        run(
            # A testing release's InRelease may be past its Valid-Until on an archive snapshot.
            [
                "mmdebstrap",
                "--variant=apt",
                '--aptopt=Acquire::Check-Valid-Until "false"',
                "--include=" + ",".join(PACKAGES),
                name,
                str(tarball),
                mirror(),
            ],
            timeout=BUILD_TIMEOUT,
            what=f"build the {name} root filesystem",
            hint="mmdebstrap needs the Debian archive; see the output above",
        )
        target = staging / "rootfs"
        target.mkdir()
        with tarfile.open(tarball) as tar:
            tar.extractall(target, filter="fully_trusted")
        tarball.unlink()
        try:
            target.rename(rootfs)
        except OSError:
            if not (rootfs / "usr" / "sbin" / "crm_simulate").exists():
                raise  # not a concurrent build of the same root that finished first
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress(f"release {name}: ready in {time.monotonic() - started:.0f} s at {rootfs}")
