"""A crmsh 4 configuration on a release whose newest CIB schema dropped what it is made of.

crmsh 5.0 still writes ``ms ID CHILD`` as the legacy ``<master>`` element, and Pacemaker 3.0's
newest schema (pacemaker-4.0, which ``cibadmin --empty`` gives) no longer has it: cibadmin refuses
the CIB ("Update does not conform to the configured schema", crmsh's "could not replace cib
(rc=78)"). A cluster upgraded from Debian 12 holds that CIB under the schema Pacemaker 2.1.5 wrote
(pacemaker-3.9), and Pacemaker 3's upgrade transforms turn ``<master>`` into a ``<clone>`` with
``promotable=true``. So, on a schema refusal, the configuration is applied again under that
schema and the CIB then upgraded with the release's own ``cibadmin --upgrade --force``, as an
upgraded cluster's would be; the case's notes say so. What even the old schema refuses, or the
upgrade cannot carry over, is an error naming the element the schema rejects.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from . import cib as cibmod
from . import schemas, version
from .runner import run

# The schema a Debian 12 (Pacemaker 2.1.5) cluster's CIB carries: the last that has <master>
# in both 2.1.5 and 3.0.
LEGACY_SCHEMA = "pacemaker-3.9"
_SIGNS = ("did not pass schema validation", "does not conform to the configured schema", "(rc=78)")
# Clone meta-attributes of the master/slave era that Pacemaker 3.0 still honours under the new name.
_LEGACY_META = {"master-max": "promoted-max", "master-node-max": "promoted-node-max"}
_REJECTED = re.compile(r"Did not expect element (\S+) there")


def is_schema_refusal(output: str) -> bool:
    """Whether crmsh's refusal is the CIB schema's (not a crm syntax or name error)."""
    low = output.lower()
    return any(sign.lower() in low for sign in _SIGNS)


def rejected(output: str) -> list[str]:
    """The elements the schema validation names ("Did not expect element master there")."""
    return list(dict.fromkeys(_REJECTED.findall(output)))


def schema(cib_path: Path) -> str:
    return cibmod.read(cib_path).get("validate-with", "")


def newer_than_legacy(name: str) -> bool:
    """Whether ``name`` (pacemaker-X.Y) is a newer schema than the one a Debian 12 CIB carries."""
    found, legacy = schemas.number(name), schemas.number(LEGACY_SCHEMA)
    return found is not None and legacy is not None and found > legacy


def lower(cib_path: Path) -> None:
    """Give the CIB file the legacy schema (the release must know it)."""
    run(["cibadmin", f"--empty={LEGACY_SCHEMA}"], what=f"check that this release knows schema {LEGACY_SCHEMA}")
    _claim(cib_path, cibmod.read(cib_path), LEGACY_SCHEMA)


def _claim(cib_path: Path, root: ET.Element, name: str) -> None:
    """Write ``root`` to the CIB file claiming schema ``name``."""
    root.set("validate-with", name)
    cibmod.write(root, cib_path)


def upgrade(cib_path: Path) -> str | None:
    """``cibadmin --upgrade --force`` on the CIB file (the release's own transforms): None, or why
    it failed in cibadmin's words."""
    result = run(["cibadmin", "--upgrade", "--force"], env={"CIB_file": str(cib_path)}, check=False, timeout=60)
    if result.ok:
        return None
    return f"cibadmin --upgrade exited {result.rc}: " + (result.stderr + result.stdout).strip()[-800:]


def upgraded(cib_path: Path, applied: str) -> list[str] | None:
    """A CIB file (raw XML) given schema ``applied`` and upgraded by cibadmin: the notes, or None
    when the upgrade fails (the file is then left as it was)."""
    pristine = cib_path.read_text()
    root = cibmod.read(cib_path)
    newest = root.get("validate-with", "")
    _claim(cib_path, root, applied)
    if upgrade(cib_path) is not None:
        cib_path.write_text(pristine)
        return None
    return notes(root, cibmod.read(cib_path), newest, applied, holder="the CIB XML holds")


def notes(
    before: ET.Element, after: ET.Element, newest: str, applied: str = LEGACY_SCHEMA, holder: str = "crmsh writes"
) -> list[str]:
    """What the upgrade did, for each case's notes: one line per converted ``<master>``, and the
    schema change itself."""
    pacemaker = version.pacemaker_version()
    whose = "a Debian 12 cluster's" if applied == LEGACY_SCHEMA else "the CIB XML's own"
    found: list[str] = []
    resources = after.find(cibmod.RESOURCES)
    clones = {c.get("id") for c in resources.iter("clone")} if resources is not None else set()
    for master in before.iter("master"):
        rid = master.get("id", "")
        if rid in clones:
            found.append(
                f"`ms {rid}` is `clone {rid} ... meta promotable=true` on Pacemaker {pacemaker}: {holder} the "
                f"legacy <master>, which schema {newest} no longer has, so the configuration was applied with "
                f"schema {applied} ({whose}) and the CIB upgraded by cibadmin --upgrade, "
                "as an upgraded cluster's would be"
            )
    legacy = sorted({nv.get("name", "") for nv in after.iter("nvpair") if nv.get("name") in _LEGACY_META})
    for name in legacy:
        found.append(
            f"meta {name} kept as written: Pacemaker {pacemaker} still reads it as {_LEGACY_META[name]} "
            "(deprecated there; its CIB upgrade does not rename it)"
        )
    if not found:
        found.append(
            f"the configuration was applied with schema {applied} ({whose}; schema {newest} "
            f"refuses it) and the CIB upgraded to {after.get('validate-with')} by Pacemaker {pacemaker}'s "
            "cibadmin --upgrade, as an upgraded cluster's would be"
        )
    return found
