"""Pacemaker's own scheduler regression corpus of a Debian release, fetched from the Debian archive.

The release's ``dists/<codename>/main/source/Sources.xz`` names the ``pacemaker`` source package's
upstream tarball (``pacemaker_<upstream>.orig.tar.gz``), its directory and SHA-256. The tarball
carries ``cts/scheduler/xml/<name>.xml`` (scheduler inputs) and ``cts/scheduler/summary/<name>.summary``
(their expected output); only those are extracted, once, under the harness's cache root keyed by
the release and the tarball's checksum. With the cache off they go to a temporary directory that
``open_corpus`` removes afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import cache, release, releaseroot
from .errors import HarnessError, InputError

PACKAGE = "pacemaker"
_INPUTS = "/cts/scheduler/xml/"
_EXPECTED = "/cts/scheduler/summary/"


@dataclass(frozen=True)
class SourcePackage:
    """A source package's entry in a ``Sources`` index."""

    package: str
    version: str  # Debian version: 2.1.5-1+deb12u1
    directory: str  # pool/main/p/pacemaker
    files: dict[str, tuple[str, int]]  # name -> (sha256, size)

    @property
    def upstream(self) -> str:
        """2.1.5 of 2.1.5-1+deb12u1 (and of an epoch 1:2.1.5-1)."""
        return self.version.split(":", 1)[-1].rsplit("-", 1)[0]

    @property
    def orig(self) -> str:
        names = [n for n in self.files if ".orig.tar." in n and not n.endswith(".asc")]
        if not names:
            raise HarnessError(f"the {self.package} {self.version} source package has no upstream tarball")
        return names[0]


@dataclass(frozen=True)
class Case:
    name: str
    input: Path
    expected: Path


@dataclass(frozen=True)
class Corpus:
    release: str
    source: SourcePackage
    root: Path  # holds xml/ and summary/

    def cases(self) -> list[Case]:
        """Every input that has an expected summary, by name."""
        return [
            Case(path.stem, path, self.root / "summary" / f"{path.stem}.summary")
            for path in sorted((self.root / "xml").glob("*.xml"))
            if (self.root / "summary" / f"{path.stem}.summary").exists()
        ]


def parse_sources(text: str, package: str = PACKAGE) -> SourcePackage | None:
    """The newest entry of ``package`` in a ``Sources`` index (pure)."""
    found: list[SourcePackage] = []
    for paragraph in text.split("\n\n"):
        fields = _fields(paragraph)
        if fields.get("Package") != package:
            continue
        files: dict[str, tuple[str, int]] = {}
        for line in fields.get("Checksums-Sha256", "").splitlines():
            parts = line.split()
            if len(parts) == 3:
                files[parts[2]] = (parts[0], int(parts[1]))
        found.append(SourcePackage(package, fields.get("Version", ""), fields.get("Directory", ""), files))
    return max(found, key=lambda p: p.version) if found else None


def _fields(paragraph: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = None
    for line in paragraph.splitlines():
        if line[:1] in {" ", "\t"} and name:
            fields[name] += "\n" + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise HarnessError(
            f"the Debian archive answers {exc.code} for {url}",
            hint="this archive mirror does not serve that file (see harness/release.py: mirror())",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise HarnessError(f"cannot reach the Debian archive for {url}: {exc}") from None


def source_package(name: str) -> SourcePackage:
    """The release's Pacemaker source package, from its ``Sources.xz``."""
    url = f"{releaseroot.mirror().rstrip('/')}/dists/{name}/main/source/Sources.xz"
    try:
        text = lzma.decompress(_download(url)).decode(errors="replace")
    except lzma.LZMAError as exc:
        raise HarnessError(f"{url} is not xz ({exc})") from None
    found = parse_sources(text)
    if found is None:
        raise HarnessError(f"{url} lists no '{PACKAGE}' source package")
    return found


def _extract(data: bytes, dest: Path) -> None:
    """The inputs and expected summaries of a Pacemaker tarball, into ``dest``/xml and /summary."""
    (dest / "xml").mkdir(parents=True)
    (dest / "summary").mkdir()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            for marker, sub, suffix in ((_INPUTS, "xml", ".xml"), (_EXPECTED, "summary", ".summary")):
                head, found, tail = member.name.partition(marker)
                if found and "/" not in tail and tail.endswith(suffix) and head.count("/") == 0:
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    (dest / sub / tail).write_bytes(extracted.read())


def _fetch_into(name: str, source: SourcePackage, dest: Path) -> None:
    orig = source.orig
    sha256, _ = source.files[orig]
    try:
        data = _download(f"{releaseroot.mirror().rstrip('/')}/{source.directory}/{orig}")
    except HarnessError as exc:
        others = ", ".join(r for r in release.RELEASES if r != name)
        raise HarnessError(
            f"{exc.message}: the corpus of {name} cannot be fetched",
            hint=f"run its scheduler on another release's corpus: --release {name} --corpus NAME ({others})",
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise HarnessError(f"{orig} of {name} does not have the SHA-256 its Sources index gives ({sha256})")
    staging = Path(tempfile.mkdtemp(prefix=".corpus-", dir=dest.parent))
    try:
        _extract(data, staging / "c")
        if not any((staging / "c" / "xml").iterdir()):
            raise HarnessError(f"{orig} holds no cts/scheduler/xml inputs")
        (staging / "c" / "source.json").write_text(
            json.dumps(
                {
                    "package": source.package,
                    "version": source.version,
                    "directory": source.directory,
                    "files": source.files,
                }
            )
        )
        (staging / "c").rename(dest)
    except FileExistsError:
        pass  # another run extracted it meanwhile: the same content
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cached(base: Path, name: str) -> tuple[SourcePackage, Path] | None:
    """The newest corpus of ``name`` already extracted (for a machine without the archive)."""
    found = sorted((base / "corpus").glob(f"{name}-*/source.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    meta = json.loads(found[-1].read_text())
    files = {k: (v[0], int(v[1])) for k, v in meta["files"].items()}
    return SourcePackage(meta["package"], meta["version"], meta["directory"], files), found[-1].parent


@contextmanager
def open_corpus(name: str) -> Iterator[Corpus]:
    """The corpus of release ``name``, fetched on first use (cached; a temporary copy if the
    cache is off, removed on exit). Without the archive, the last corpus cached for it."""
    if name == "host":
        name = release.host_codename()
    if name not in release.RELEASES and name != release.host_codename():
        raise InputError(f"unknown release '{name}'", hint="releases: " + ", ".join(release.RELEASES))
    base = cache.root()
    try:
        source = source_package(name)
    except HarnessError:
        cached = _cached(base, name) if base is not None else None
        if cached is None:
            raise
        yield Corpus(name, *cached)
        return
    sha256 = source.files[source.orig][0]
    if base is not None:
        dest = base / "corpus" / f"{name}-{sha256[:16]}"
        if not (dest / "source.json").is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(dest, ignore_errors=True)  # an extraction of an older version of this module
            _fetch_into(name, source, dest)
        yield Corpus(name, source, dest)
        return
    temp = Path(tempfile.mkdtemp(prefix="mh-corpus-"))
    try:
        _fetch_into(name, source, temp / "c")
        yield Corpus(name, source, temp / "c")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
