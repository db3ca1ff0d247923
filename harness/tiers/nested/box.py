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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ... import cache
from ...errors import HarnessError, InputError
from ...runner import stream, which

PROVISIONING = Path(__file__).resolve().parents[2] / "provisioning" / "box"
RELEASES = ("bookworm", "trixie")
# Xen builds that still have shadow paging, so PV guests live-migrate (see the notes).
MIGRATABLE_XEN = {"bookworm": "4.17.5+72-g01140da4e8-1"}
HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
VAGRANT_PUBKEY_GLOB = "/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub"
_XEN_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")


