"""Pacemaker 2.0's crm_simulate answer, read into the terms of the 2.1+ XML answer.

crm_simulate 2.0 (Debian 11's 2.0.5) has no ``--output-as``: it prints text. Its "Transition
Summary:" section is read with the text-summary parser (``pcmksummary``, roles by their 2.1+ names:
Master -> Promoted, Slave -> Unpromoted) and where resources are comes from 2.0's
``crm_mon --output-as xml`` on the CIB files (its ``nodes`` and ``resources`` have the shape of the
2.1+ answer's status sections). ``answer`` builds the element ``crm_simulate --output-as xml``
gives, so that everything downstream reads one structure.

Pure: text in, an ElementTree element out; running the programs is ``simulator``'s.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import pcmksummary
from .errors import HarnessError

# The Pacemaker versions this adapter answers for (from 2.1 on crm_simulate answers in XML).
VERSIONS = ">=2.0, <2.1"
# "* Shutdown node1": 2.0 lists a node's clean shutdown in the summary; 2.1+ does not (neither
# its text nor its XML answer), the transition graph has it (do_shutdown).
_SHUTDOWN = re.compile(r"^\s*\*\s+Shutdown\s+\S+\s*$")


def answer(text: str, request: str, before: str, after: str | None = None) -> ET.Element:
    """The 2.1+ answer's ``cluster_status``, ``actions`` and ``revised_cluster_status`` for a
    crm_simulate 2.0 text output ``text``; ``before``/``after`` are crm_mon's XML on the input CIB
    and on the one crm_simulate saved (--save-output). HarnessError if a summary line has a shape
    the parser does not know (a verdict must not silently miss it)."""
    if "Transition Summary:" not in text.splitlines():
        raise HarnessError(f"crm_simulate's output has no 'Transition Summary:' section: {text[:300]!r}")
    summary = pcmksummary.parse(text)
    unknown = [line.strip() for line in summary.unparsed if not _SHUTDOWN.match(line)]
    if unknown:
        raise HarnessError(
            "crm_simulate's Transition Summary has lines of an unknown shape: " + "; ".join(unknown),
            hint="the harness reads Pacemaker 2.0's text summary; report these lines",
        )
    root = ET.Element("pacemaker-result", {"request": request})
    root.append(status_section("cluster_status", before))
    actions = ET.SubElement(root, "actions")
    for line in summary.lines:
        actions.append(rsc_action(line))
    for fence in summary.fencing:
        node = fence.node + (f" (resource: {fence.resource})" if fence.resource else "")
        attrs = {"task": f"Fence ({fence.kind})", "node": node}
        if fence.reason:
            attrs["reason"] = fence.reason
        ET.SubElement(actions, "node_action", attrs)
    if after is not None:
        root.append(status_section("revised_cluster_status", after))
    return root


def rsc_action(line: pcmksummary.Line) -> ET.Element:
    """One summary line as the 2.1+ answer's ``<rsc_action>``."""
    attrs = {"action": line.action, "resource": line.resource}
    for name, value in (
        ("node", line.node),
        ("source", line.source),
        ("dest", line.dest),
        ("role", line.role),
        ("next-role", line.next_role),
        ("reason", line.reason),
    ):
        if value:
            attrs[name] = value
    if line.blocked:
        attrs["blocked"] = "true"
    return ET.Element("rsc_action", attrs)


def status_section(tag: str, crm_mon_xml: str) -> ET.Element:
    """crm_mon's ``nodes`` and ``resources`` under ``tag`` (as crm_simulate 2.1+ nests them)."""
    try:
        mon = ET.fromstring(crm_mon_xml)
    except ET.ParseError as exc:
        raise HarnessError(f"crm_mon's output is not XML ({exc}): {crm_mon_xml[:200]!r}") from None
    section = ET.Element(tag)
    for name in ("nodes", "resources"):
        part = mon.find(name)
        if part is None:
            raise HarnessError(f"crm_mon's XML has no <{name}>: {crm_mon_xml[:200]!r}")
        section.append(part)
    return section
