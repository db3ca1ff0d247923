"""A CIB written by a newer Pacemaker than the one answering: said as such, with the releases that
read it, instead of a page of Relax-NG complaints.

Pacemaker refuses an input whose ``validate-with`` names a schema it does not have ("Cannot
upgrade configuration (claiming schema pacemaker-4.0) to at least pacemaker-3.0 because it does
not validate with any schema from unknown to pacemaker-3.9"): a Debian 13 cluster's saved input
replayed with Debian 12's tools, or a Debian 12 one with Debian 11's.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET

from . import release
from .release import RELEASES
from .runner import run
from .version import Version, pacemaker_version

_SCHEMA = re.compile(r"^pacemaker-(\d+(?:\.\d+)*)$")
_PACEMAKER = re.compile(r"Pacemaker (\d+(?:\.\d+)*)")


def number(name: str) -> Version | None:
    """A schema name's version (``pacemaker-4.0`` -> 4.0); None for anything else."""
    match = _SCHEMA.match(name)
    return Version.parse(match.group(1)) if match else None


def claimed(root: ET.Element) -> Version | None:
    """The schema version the CIB claims (``validate-with="pacemaker-4.0"`` -> 4.0), if any."""
    return number(root.get("validate-with", ""))


def newest() -> Version | None:
    """The newest schema the active release's Pacemaker has: what ``cibadmin --empty`` writes."""
    return _newest(release.active().name)


@functools.cache
def _newest(release_name: str) -> Version | None:
    result = run(["cibadmin", "--empty"], check=False)
    try:
        return claimed(ET.fromstring(result.stdout)) if result.ok else None
    except ET.ParseError:
        return None


def newer_than_this(root: ET.Element) -> tuple[str, str] | None:
    """If the CIB claims a schema newer than the active Pacemaker has (it will refuse it): what to
    say, and the hint (the releases whose Pacemaker is newer). Else None."""
    schema, reads = claimed(root), newest()
    if schema is None or reads is None or schema <= reads:
        return None
    here = pacemaker_version()
    newer = [
        f"--release {name} (Pacemaker {found.group(1)})"
        for name, description in RELEASES.items()
        if (found := _PACEMAKER.search(description)) and Version.parse(found.group(1)) > here
    ]
    hint = (
        "a newer Pacemaker wrote it: answer with the release of the cluster that wrote it, " + " or ".join(newer)
        if newer
        else "a newer Pacemaker wrote it, and no release the harness knows has one"
    )
    said = f"it claims CIB schema pacemaker-{schema}, newer than Pacemaker {here} reads (up to pacemaker-{reads})"
    return said, hint
