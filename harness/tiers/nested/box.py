"""The nested tier's Vagrant box: built offline from the Debian archive, cached by its inputs.

A box is named ``mh-<release>-xen<version>-<hash>``, where the hash covers everything that goes
into it (the build script, its hooks, the package list, the release, the Xen version and the
mirrors), so a changed input gives a new box and an unchanged one is never rebuilt. Boxes live in
the cache's artefacts directory (``harness.cache``: ``~/.cache/migration-harness/boxes``), outside the repo;
each is a directory holding ``package.box``, ``packages.txt`` and ``box.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ... import cache, scratch, teardown
from ...errors import HarnessError, InputError
from ...runner import stream, which
from . import files

PROVISIONING = files.PROVISIONING / "box"
RELEASES = ("bookworm", "trixie")
# Xen builds that still have shadow paging, so PV guests live-migrate (see the notes).
MIGRATABLE_XEN = {"bookworm": "4.17.5+72-g01140da4e8-1"}
HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
VAGRANT_PUBKEY_GLOB = "/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub"
# A build works in BUILDING<name>-<pid> next to the finished boxes, renamed when complete.
BUILDING = ".building-"
# Seconds an interrupted build script gets to unmount, detach its loop devices and let mmdebstrap
# clean up, before it is killed.
BUILD_STOP_GRACE = 60.0
_XEN_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")


@dataclass(frozen=True)
class Box:
    name: str
    release: str
    xen: str | None
    path: Path  # the package.box file
    size: int
    built: float
    seconds: float

    @property
    def directory(self) -> Path:
        return self.path.parent

    def __str__(self) -> str:
        built = time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.built))
        return (
            f"{self.name}  {self.release}  xen {self.xen or 'candidate'}  "
            f"{self.size / 2**20:.0f} MiB  built {built} UTC in {self.seconds:.0f}s"
        )


def boxes_dir() -> Path:
    return cache.artefacts() / "boxes"


def host_mirrors(sources: Path = HOST_SOURCES) -> tuple[str, str]:
    """The archive and security URIs this machine's apt uses (deb822 file), else Debian's."""
    mirror, security = DEFAULT_MIRROR, DEFAULT_SECURITY
    try:
        text = sources.read_text()
    except OSError:
        return mirror, security
    for stanza in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#"))
        uri = fields.get("URIs", "").split()
        suites = fields.get("Suites", "")
        if not uri:
            continue
        if "-security" in suites:
            security = uri[0]
        else:
            mirror = uri[0]
    return mirror, security


def for_release(name: str, release: str) -> bool:
    """Whether a file under provisioning/box goes into ``release``'s box: a name ending in
    ``-<release>`` (before its extension: ``packages-trixie.txt``, ``customize15-trixie.sh``) is that
    release's alone; any other file is every release's."""
    stem = name.split(".", 1)[0]
    return not any(stem.endswith(f"-{other}") for other in RELEASES if other != release)


def inputs_hash(release: str, xen: str | None, mirror: str, security: str, inputs: Path = PROVISIONING) -> str:
    """Hash of every build input: the files under provisioning/box that go into this release's box
    (``for_release``), release, Xen, mirrors."""
    digest = hashlib.sha256()
    for path in sorted(p for p in inputs.rglob("*") if p.is_file()):
        if not for_release(path.name, release):
            continue
        digest.update(str(path.relative_to(inputs)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps([release, xen, mirror, security]).encode())
    return digest.hexdigest()[:12]


XEN_ENV = "MIGRATION_HARNESS_XEN"


def choose_xen(release: str, choice: str | None = None) -> str | None:
    """The Xen package version a box gets: 'pinned' (default: one that live-migrates PV guests),
    'candidate' (what the archive installs today: Debian 12's is 4.17.7, which cannot), or a version.
    ``choice`` defaults to $MIGRATION_HARNESS_XEN."""
    choice = choice or os.environ.get(XEN_ENV) or "pinned"
    if choice == "pinned":
        return MIGRATABLE_XEN.get(release)
    if choice == "candidate":
        return None
    _check(release, choice)
    return choice


def box_name(release: str, xen: str | None, digest: str) -> str:
    xen_part = re.sub(r"[^A-Za-z0-9.]+", ".", xen.split("-")[0]) if xen else "candidate"
    return f"mh-{release}-xen{xen_part}-{digest}"


def _check(release: str, xen: str | None) -> None:
    if release not in RELEASES:
        raise InputError(f"unknown release {release!r}", hint=f"one of: {', '.join(RELEASES)}")
    if not (PROVISIONING / f"packages-{release}.txt").is_file():
        raise InputError(f"no package list for {release}", path=PROVISIONING)
    if xen is not None and not _XEN_VERSION.match(xen):
        raise InputError(f"not a Debian package version: {xen!r}", hint="e.g. 4.17.5+72-g01140da4e8-1")


def find(release: str = "bookworm", xen: str | None = None) -> Box | None:
    """The cached box for these inputs, or None."""
    _check(release, xen)
    mirror, security = host_mirrors()
    name = box_name(release, xen, inputs_hash(release, xen, mirror, security))
    return _load(boxes_dir() / name)


def build(
    release: str = "bookworm",
    xen: str | None = None,
    progress: Callable[[str], None] = print,
    *,
    force: bool = False,
) -> Path:
    """Build (or find cached) the box; returns the path of its ``package.box``.

    Needs root (mmdebstrap in root mode, loop devices, mount). Progress: one line per phase with
    the elapsed time; a failure leaves nothing behind and raises CommandFailed with the output tail.
    """
    _check(release, xen)
    mirror, security = host_mirrors()
    # Build from a copy of the inputs taken now, so the hash names exactly what was built even
    # when provisioning/box is edited during the build.
    boxes_dir().mkdir(parents=True, exist_ok=True)
    snapshot = Path(tempfile.mkdtemp(prefix=".inputs-", dir=boxes_dir()))
    try:
        # Only this release's files: another release's hook must not run in this build.
        shutil.copytree(
            PROVISIONING,
            snapshot / "box",
            ignore=lambda _dir, names: [n for n in names if not for_release(n, release)],
        )
        return _build(release, xen, mirror, security, snapshot / "box", progress, force)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def _build(
    release: str,
    xen: str | None,
    mirror: str,
    security: str,
    inputs: Path,
    progress: Callable[[str], None],
    force: bool,
) -> Path:
    name = box_name(release, xen, inputs_hash(release, xen, mirror, security, inputs))
    final = boxes_dir() / name
    if not force and (cached := _load(final)) is not None:
        progress(f"box {name}: cached ({cached.size / 2**20:.0f} MiB)")
        return cached.path
    if os.geteuid() != 0:
        raise HarnessError("building a box needs root (mmdebstrap, loop devices, mount)")
    for tool in ("mmdebstrap", "sfdisk", "losetup", "mkfs.ext4", "grub-install", "qemu-img", "cpio"):
        which(tool)
    pubkeys = sorted(Path("/").glob(VAGRANT_PUBKEY_GLOB.lstrip("/")))
    if not pubkeys:
        raise HarnessError("Vagrant's insecure public key was not found", hint="apt-get install vagrant")

    tmp = boxes_dir() / f"{BUILDING}{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.monotonic()
    log_lines: list[str] = []

    def on_line(line: str) -> None:
        log_lines.append(line)
        if line.startswith("### phase: "):
            progress(f"[{time.monotonic() - started:6.1f}s] box {name}: {line[11:]}")

    try:
        stream(
            [inputs / "build.sh", tmp, release, xen or "", mirror, security, pubkeys[-1]],
            on_line,
            timeout=3600,
            what=f"building box {name}",
            stop_grace=BUILD_STOP_GRACE,
        )
        seconds = time.monotonic() - started
        package = tmp / "package.box"
        meta = {
            "name": name,
            "release": release,
            "xen": xen,
            "built": time.time(),
            "seconds": round(seconds, 1),
            "size": package.stat().st_size,
        }
        (tmp / "box.json").write_text(json.dumps(meta, indent=2))
        (tmp / "build.log").write_text("\n".join(log_lines) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(f"box {name}: built in {seconds:.0f}s, {int(str(meta['size'])) / 2**20:.0f} MiB at {final}")
    return final / "package.box"


def unfinished_builds() -> list[Path]:
    """Build directories whose builder is gone (killed): ``clean`` removes them, and what holds them."""
    base = boxes_dir()
    if not base.is_dir():
        return []
    return scratch.orphaned(sorted(base.glob(f"{BUILDING}*")), lambda name: name.rsplit("-", 1)[-1])


def remove_unfinished_builds() -> list[str]:
    removed = []
    for path in unfinished_builds():
        teardown.remove_tree(path)
        removed.append(f"unfinished box build {path}")
    return removed


def _load(directory: Path) -> Box | None:
    try:
        meta = json.loads((directory / "box.json").read_text())
    except (OSError, ValueError):
        return None
    package = directory / "package.box"
    if not package.is_file():
        return None
    return Box(
        meta["name"], meta["release"], meta.get("xen"), package, meta["size"], meta["built"], meta.get("seconds", 0.0)
    )


def list_boxes() -> list[Box]:
    """Every complete box in the cache, oldest first."""
    base = boxes_dir()
    if not base.is_dir():
        return []
    found = [b for d in sorted(base.iterdir()) if d.is_dir() and (b := _load(d)) is not None]
    return sorted(found, key=lambda b: b.built)


def remove(name: str) -> Path:
    """Remove a cached box by name; InputError if there is none of that name."""
    if "/" in name or name.startswith("."):
        raise InputError(f"not a box name: {name!r}")
    directory = boxes_dir() / name
    if _load(directory) is None:
        known = ", ".join(b.name for b in list_boxes()) or "none"
        raise InputError(f"no cached box named {name!r}", hint=f"cached boxes: {known}")
    shutil.rmtree(directory)
    # Its import into Vagrant's box store (shared by every run's VAGRANT_HOME), if any.
    from . import vagrantctl  # python-vagrant: the nested extra

    shutil.rmtree(vagrantctl.imported_boxes() / name, ignore_errors=True)
    return directory
