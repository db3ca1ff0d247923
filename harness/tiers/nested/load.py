"""Putting a case on the nested cluster: the test guest on every dom0, the scenario into the live CIB."""

from __future__ import annotations

import copy
import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from ... import cib as cibmod
from ...errors import HarnessError
from ...prediction import configured_cib
from ...scenario import Scenario
from ...styles import AS_WRITTEN
from . import realize
from .guest import initramfs, xlcfg
from .settings import VG

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node


def prepared_snapshot(scenario: Scenario, made: realize.Realized) -> str:
    """The snapshot a case of ``scenario`` can start from: its resources up and the guest running.

    Keyed by the scenario, its guest and the realized resources without their meta attributes:
    styles that differ in constraints or meta attributes only (interleave, allow-migrate) share one;
    a style with other resources (the group style) gets its own. Constraints and meta attributes
    are applied to the running guest, as an administrator changes a live cluster.
    """
    structure = copy.deepcopy(made.resources)
    for parent in list(structure.iter()):
        for meta in parent.findall("meta_attributes"):
            parent.remove(meta)
    text = json.dumps([scenario.key, repr(scenario.guest), ET.tostring(structure, encoding="unicode")])
    return "prepared-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def cannot_run(scenario: Scenario, workdir: Path) -> str | None:
    """Why the nested tier skips every case of ``scenario``, known from the scenario alone."""
    if scenario.hosts or scenario.attributes:
        return (
            "nested tier: the scenario names its own hosts or node attributes; the nested tier's dom0s are "
            "node1, node2 (, node3) and it does not rename them or set attributes: run it on simulate or local"
        )
    if len(scenario.resources) != 1:
        return "nested tier: it runs one guest: the scenario must name one resource under test"
    try:
        configured, _, _ = configured_cib(scenario, AS_WRITTEN.name, workdir / scenario.key)
    except HarnessError:
        return None  # the case itself reports it, with its style
    vm = scenario.resources[0]
    primitive = next((p for p in cibmod.read(configured).iter("primitive") if p.get("id") == vm), None)
    if primitive is None:
        return None  # a group or clone under test: configure says why
    refused = realize.not_a_xen_guest(primitive)
    return f"nested tier: {refused}" if refused else None


def prepare_guest(lab: NestedLab, scenario: Scenario) -> None:
    """On every dom0: the guest's xl config and initramfs; once on the shared VG: its disk."""
    config = xlcfg.render(scenario.guest, xlcfg.Disk(VG)).encode()
    overlay = initramfs.overlay()
    for node in lab.nodes():
        node.put("/tmp/mh-guest.cfg", config, 0o644)
        node.put("/tmp/mh-init.cpio.gz", overlay, 0o644)
        node.run(
            [
                "sh",
                "-c",
                f"install -m 0644 /tmp/mh-guest.cfg {xlcfg.CONFIG} && "
                f"cat {xlcfg.BOX_INITRD} /tmp/mh-init.cpio.gz > {xlcfg.INITRD}",
            ],
            what=f"{node.name}: install the test guest",
        )
    first = lab.nodes()[0]
    if not first.run(["lvs", f"{VG}/{xlcfg.NAME}"], check=False).ok:
        first.run(
            ["lvcreate", "--yes", "--activate", "n", "-L", f"{xlcfg.LV_MIB}M", "-n", xlcfg.NAME, VG],
            what="the guest's disk on the shared VG",
        )


# Pacemaker recomputes at least this often while idle (its default is 15 min). Measured in CI, twice
# (Pacemaker 2.1.5): a dom0 reset by the crash trigger reboots and rejoins before SBD's fencing of
# it completes, is fenced again, and the DC computes its transition while that node is "pending"
# (the guest's start on the survivor "blocked"), then stays idle with the start unrun once the
# node is offline, until the next cluster event: the next recheck. One minute instead of fifteen,
# said in the verdict's notes; a scenario that sets the option keeps its own.
RECHECK_INTERVAL = "60s"
RECHECK_NOTE = (
    f"nested tier: cluster-recheck-interval {RECHECK_INTERVAL} (Pacemaker's default 15min): a DC left idle with a "
    "plan it has not run acts within a minute, where a real cluster could wait up to 15"
)


def cluster_options(scenario: Scenario, notes: list[str]) -> dict[str, str]:
    """The scenario's cluster options, with the nested tier's recheck interval unless it sets its own
    (then said in ``notes``)."""
    options = dict(scenario.options)
    if "cluster-recheck-interval" not in options:
        options["cluster-recheck-interval"] = RECHECK_INTERVAL
        notes.append(RECHECK_NOTE)
    return options


def load(node: Node, made: realize.Realized, options: dict[str, str]) -> None:
    """The realized scenario into the live CIB (the formed cluster's fencing resource stays)."""
    current = ET.fromstring(node.run(["cibadmin", "-Q", "-o", "resources"], what="read the resources").stdout)
    resources = ET.Element("resources")
    # The formed cluster's fencing resource stays; what a scenario snapshot already holds of the
    # scenario is replaced by the style's version of it.
    ours = {element.get("id") for element in made.resources}
    for element in current:
        if element.get("id") not in ours:
            resources.append(element)
    for element in made.resources:
        resources.append(element)
    for section, element in (("resources", resources), ("constraints", made.constraints)):
        node.put(f"/tmp/mh-{section}.xml", ET.tostring(element), 0o644)
        node.run(
            ["cibadmin", "--replace", "-o", section, "--xml-file", f"/tmp/mh-{section}.xml"],
            what=f"load the scenario's {section}",
        )
    for name, value in options.items():
        node.run(["crm_attribute", "-t", "crm_config", "-n", name, "-v", str(value)], what=f"cluster option {name}")
