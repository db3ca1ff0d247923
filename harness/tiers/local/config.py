"""Loading a scenario's configuration into the local cluster, and the adaptations that takes.

The configuration is made on the host exactly as the simulate tier makes it
(``prediction.configured_cib``: crmsh, pcs or raw XML on a file CIB, cached), so every tier reads
the same CIB: agents come from its primitives (class, provider, type: crmsh's ``primitive vm Xen``
is ``ocf:heartbeat:Xen`` here too), and its sections are loaded into the live cluster with cibadmin.
The nodes cannot run systemd or init scripts, and a monitor's ``start-delay`` would hold every
transition open that long: both are adapted, and each adaptation becomes a note in every verdict.
Node attributes (the configuration's node entries and the scenario's own) are set on the live
cluster with crm_attribute after the load. Promotion scores are the stand-ins' own (they set them as
a promotable agent does), but for the ``master-<id>`` names the scenario sets itself.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ... import cib as cibmod
from ... import promotion
from ...prediction import configured_cib
from ...scenario import Scenario
from ...scenariotypes import NodeAttribute
from . import standin
from .cluster import LocalLab

LOADED_SECTIONS = ("resources", "constraints", "rsc_defaults", "op_defaults")
START_DELAY_NOTE = (
    "local tier: monitor start-delay dropped (it only delays the first monitor, and would hold "
    "every transition open that long); the scheduler's choice does not depend on it"
)
_NON_OCF = {"systemd", "lsb", "service", "upstart"}


@dataclass(frozen=True)
class Prepared:
    """The configuration as this tier loads it: CIB sections, agents, adaptations, attributes."""

    sections: dict[str, str]  # section name -> XML text
    specs: list[str]  # every agent the configuration names, as the CIB has it (class:provider:type)
    migratable: frozenset[str]  # agents of primitives with allow-migrate=true
    unknown_agents: list[str]  # agents the configuring tool did not know
    notes: tuple[str, ...]
    attributes: tuple[NodeAttribute, ...]


def prepare(scenario: Scenario, style: str, casedir: Path) -> Prepared:
    configured, unknown, warned = configured_cib(scenario, style, casedir / "configured")
    root = cibmod.read(configured)
    primitives = cibmod.primitives(root)
    specs = sorted({p.agent for p in primitives})
    migratable = frozenset(p.agent for p in primitives if p.allow_migrate)
    notes: list[str] = list(warned)
    rewritten = sorted({p.agent for p in primitives if p.standard in _NON_OCF})
    if rewritten:
        notes.append(
            f"local tier: {', '.join(rewritten)} run as ocf:{standin.NON_OCF_PROVIDER}:<same name> stand-ins "
            "(no systemd or init scripts inside a node); the scheduler treats the classes alike"
        )
    config = root.find("configuration")
    assert config is not None  # configured_cib writes a whole CIB
    for prim in config.iter("primitive"):
        if prim.get("class") in _NON_OCF:
            prim.set("class", "ocf")
            prim.set("provider", standin.NON_OCF_PROVIDER)
    fencing = _drop_fencing(config)
    if fencing:
        notes.append(
            f"local tier: fencing devices {', '.join(fencing)} not loaded (the local tier runs without fencing "
            "devices; a crash is a killed node); the scheduler's choice between migration and stop/start does not "
            "depend on them"
        )
        specs = [s for s in specs if not s.startswith("stonith:")]
    delayed = [op for op in config.iter("op") if "start-delay" in op.attrib]
    for op in delayed:
        del op.attrib["start-delay"]
    if delayed:
        notes.append(START_DELAY_NOTE)
    sections = {
        section: ET.tostring(element, encoding="unicode")
        for section in LOADED_SECTIONS
        if (element := config.find(section)) is not None
    }
    attributes = (*cibmod.node_attributes(root), *(a for a in scenario.attributes if a.transient))
    return Prepared(sections, specs, migratable, unknown, tuple(notes), tuple(attributes))


def _drop_fencing(config: ET.Element) -> list[str]:
    """Remove stonith primitives from the configuration; their ids."""
    dropped: list[str] = []
    for parent in list(config.iter()):
        for child in list(parent):
            if child.tag == "primitive" and child.get("class") == "stonith":
                parent.remove(child)
                dropped.append(child.get("id", ""))
    return dropped


def load_sections(lab: LocalLab, found: dict[str, str], node: str) -> None:
    for section, xml in found.items():
        if section in {"resources", "constraints"}:
            lab.run_in(node, ["cibadmin", "--replace", "-o", section, "--xml-text", xml], what=f"load {section}")
        else:  # removed by the reset: created anew
            lab.run_in(node, ["cibadmin", "--create", "-o", "configuration", "--xml-text", xml], what=f"load {section}")


STANDIN_SCORES = "the stand-in sets it with crm_attribute --promotion from its start, promote and monitor"


def promotion_scores(root: ET.Element, scenario: Scenario) -> tuple[list[NodeAttribute], list[str]]:
    """The promotion scores the stand-ins set by the time the cluster settled (the reset deletes
    them), and the notes that say so."""
    realized = promotion.present(root, scenario.attributes)
    return realized, promotion.notes(realized, scenario.attributes, root, STANDIN_SCORES)


def given_scores(scenario: Scenario) -> list[str]:
    return sorted(promotion.given_names(scenario.attributes))


def set_attributes(lab: LocalLab, attributes: tuple[NodeAttribute, ...], node: str) -> None:
    for attribute in attributes:
        lab.run_in(node, attribute.command(), what=f"node attribute {attribute.name} on {attribute.node}")
