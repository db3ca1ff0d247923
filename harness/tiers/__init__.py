"""Tiers: a lazy registry from tier name to backend class.

Importing a tier's module happens only when it is asked for, so a machine without Vagrant can
still run the simulate tier, and an unknown name gets a clear error.
"""

from __future__ import annotations

import importlib

from ..errors import InputError
from .base import Backend, Lab

TIERS = {
    "simulate": "harness.tiers.simulate.backend.SimulateBackend",
    "local": "harness.tiers.local.backend.LocalBackend",
    "nested": "harness.tiers.nested.backend.NestedBackend",
}
DEFAULT_TIER = "simulate"
# Tiers with a live cluster that `up`, `status`, `exec`, `down` and `clean` manage.
LABS = {
    "local": "harness.tiers.local.cluster.LocalLab",
    "nested": "harness.tiers.nested.cluster.NestedLab",
}


def get(name: str) -> type[Backend]:
    return _load(name, TIERS)


def get_lab(name: str) -> type[Lab]:
    return _load(name, LABS)


def _load(name: str, table: dict[str, str]):  # type: ignore[no-untyped-def]
    try:
        dotted = table[name]
    except KeyError:
        raise InputError(f"unknown tier '{name}'", hint="tiers: " + ", ".join(table)) from None
    module_name, class_name = dotted.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("harness"):
            raise InputError(f"the {name} tier is not built yet in this version") from None
        raise InputError(
            f"the {name} tier needs the Python package '{exc.name}'",
            hint="pip install 'migration-harness[nested]'",
        ) from None
    return getattr(module, class_name)
