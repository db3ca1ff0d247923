"""The nested tier's own files, shipped inside the package (a wheel holds them as a checkout does):
the Vagrantfile and the provisioning scripts (box build, host namespace holder, node roles, the
test guest's /init). Found with importlib.resources, so an installed harness needs no checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

VAGRANT_DIR = Path(str(resources.files(__package__)))
PROVISIONING = VAGRANT_DIR / "provisioning"
