"""Loading a scenario's configuration into the local cluster, and the adaptations that takes.

The nodes cannot run systemd or init scripts, and a monitor's ``start-delay`` would hold every
transition open that long: both are adapted, and each adaptation becomes a note in every verdict.
crmsh runs inside a node; what it made of a (scenario, style) is kept as CIB sections and loaded
again with cibadmin for the next trigger of that style (crmsh costs seconds per start).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ... import cib as cibmod
from ... import crmsh
from ...errors import CommandFailed, InputError
from ...scenario import Scenario
from . import standin
from .cluster import LocalLab

LOADED_SECTIONS = ("resources", "constraints", "rsc_defaults", "op_defaults")
# A monitor's start-delay holds the whole transition open that long (60 s in the seed scenario)
# and plays no part in the scheduler's choice between migration and stop/start.
_START_DELAY = re.compile(r"""\s+start-delay=("[^"]*"|'[^']*'|\S+)""")
START_DELAY_NOTE = (
    "local tier: monitor start-delay dropped (it only delays the first monitor, and would hold "
    "every transition open that long); the scheduler's choice does not depend on it"
)
# crmsh inside a node loads a configuration in 1-3 s; a stack of dozens of primitives in 120 s is stuck.
CRM_TIMEOUT = 120


@dataclass(frozen=True)
class Prepared:
    """The configuration as this tier loads it: crm text (None for raw XML) and its adaptations."""

    text: str | None
    specs: list[str]  # every agent the configuration names
    notes: tuple[str, ...]


def prepare(scenario: Scenario, style: str, casedir: Path) -> Prepared:
    text = scenario.render(style) if scenario.cib is None else None
    specs = standin.agents_of(text, scenario.cib, scenario.path)
    notes: list[str] = []
    if text is not None:
        (casedir / "configuration.crm").write_text(text)
        text, rewritten = standin.rewrite_non_ocf(text)
        if rewritten:
            notes.append(
                f"local tier: {', '.join(rewritten)} run as ocf:{standin.NON_OCF_PROVIDER}:<same name> stand-ins "
                "(no systemd or init scripts inside a node); the scheduler treats the classes alike"
            )
        if _START_DELAY.search(text):
            notes.append(START_DELAY_NOTE)
            text = _START_DELAY.sub("", text)
    elif scenario.cib and "start-delay" in scenario.cib:
        notes.append(START_DELAY_NOTE)
    return Prepared(text, specs, tuple(notes))


def apply_crm(lab: LocalLab, scenario: Scenario, text: str, casedir: Path, node: str) -> None:
    staged = lab.rundir.path / "configuration.crm"
    staged.write_text(text if text.endswith("\n") else text + "\n")
    result = lab.run_in(
        node, ["crm", "-F", "configure", "load", "update", str(staged)], check=False, timeout=CRM_TIMEOUT
    )
    if result.ok:
        return
    # crmsh's errors inside the node lack the scenario's line numbers: the host's crmsh against a
    # scratch file CIB says which line of the scenario file is wrong.
    scratch = casedir / "cib-syntax-check.xml"
    cibmod.empty_cib(scratch, lab.plan.node_names)
    crmsh.apply(scratch, text, crmsh.Source(scenario.path, scenario.config_line, scenario.configuration or ""))
    raise CommandFailed(
        list(result.argv),
        result.rc,
        result.stdout,
        result.stderr,
        what=f"{scenario.path}: crmsh inside {node} refused the configuration",
    )


def sections(lab: LocalLab, node: str) -> dict[str, str]:
    """The loaded configuration sections, as XML text, to load again without crmsh."""
    config = ET.fromstring(lab.run_in(node, ["cibadmin", "-Q", "-o", "configuration"]).stdout)
    return {
        section: ET.tostring(element, encoding="unicode")
        for section in LOADED_SECTIONS
        if (element := config.find(section)) is not None
    }


def load_sections(lab: LocalLab, found: dict[str, str], node: str) -> None:
    for section, xml in found.items():
        if section in {"resources", "constraints"}:
            lab.run_in(node, ["cibadmin", "--replace", "-o", section, "--xml-text", xml], what=f"load {section}")
        else:  # removed by the reset: created anew
            lab.run_in(node, ["cibadmin", "--create", "-o", "configuration", "--xml-text", xml], what=f"load {section}")


def apply_xml(lab: LocalLab, scenario: Scenario, node: str) -> None:
    given = ET.fromstring(scenario.cib or "")
    for prim in given.iter("primitive"):
        if prim.get("class") in {"systemd", "lsb", "service", "upstart"}:
            prim.set("class", "ocf")
            prim.set("provider", standin.NON_OCF_PROVIDER)
    for op in given.iter("op"):
        op.attrib.pop("start-delay", None)
    config = given.find("configuration") if given.tag == "cib" else given
    if config is None:
        raise InputError("raw XML must be a <cib> or a <configuration>", path=scenario.path)
    load_sections(
        lab,
        {
            section: ET.tostring(element, encoding="unicode")
            for section in LOADED_SECTIONS
            if (element := config.find(section)) is not None
        },
        node,
    )
