"""Pacemaker 2.0's text answer read into the 2.1+ answer's terms, on REAL crm_simulate 2.0.5 and
crm_mon 2.0.5 output (tests/data/bullseye, see its README)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import pcmk20
from harness.errors import HarnessError
from harness.notrunning import promoted_on
from harness.outcome import SummaryAction, active_resources, summary_actions, summary_fencing

DATA = Path(__file__).parent / "data" / "bullseye"


def answer(case: str) -> ET.Element:
    d = DATA / case
    return pcmk20.answer(
        (d / "crm_simulate.txt").read_text(),
        (d / "argv").read_text().strip(),
        (d / "crm_mon-before.xml").read_text(),
        (d / "crm_mon-after.xml").read_text(),
    )


def text_status(case: str, heading: str) -> dict[str, str]:
    """'rsc (agent): Started node' lines of a status section of crm_simulate 2.0.5's own text."""
    text = (DATA / case / "crm_simulate.txt").read_text()
    section = text.split(heading + "\n", 1)[1].split("\n\n", 2)[1]
    return dict(re.findall(r"^ (\S+)\t\(\S+\):\t (\S+ ?\S*)$", section, re.M))


def test_migration_and_where_the_vm_is_before_and_after() -> None:
    result = answer("colocation-order-move")
    assert summary_actions(result) == [SummaryAction("vm-webdev", "migrate", source="node1", target="node2")]
    assert active_resources(result)["vm-webdev"] == ["node1"]
    assert active_resources(result, "revised_cluster_status")["vm-webdev"] == ["node2"]
    # crm_mon's reading of the CIBs is crm_simulate's own text status.
    assert text_status("colocation-order-move", "Current cluster status:")["vm-webdev"] == "Started node1"
    assert text_status("colocation-order-move", "Revised cluster status:")["vm-webdev"] == "Started node2"
    assert result.get("request", "").startswith("crm_simulate --xml-file")


def test_cloned_group_members_get_their_instance_numbers() -> None:
    result = answer("colocation-order-move")
    active = active_resources(result)
    assert active["fs-xen:0"] == ["node1"] and active["fs-xen:1"] == ["node2"]
    assert active["dlm:0"] == ["node1"] and active["dlm:1"] == ["node2"]


def test_shutdown_line_is_skipped_and_reasons_kept() -> None:
    actions = summary_actions(answer("group-stop"))
    assert [(a.action, a.resource) for a in actions] == [
        ("move", "clvm-xenvg"),
        ("move", "fs-xen"),
        ("move", "vm-webdev"),
        ("stop", "dlm:0"),
        ("stop", "clvm:0"),
        ("stop", "o2cb:0"),
        ("stop", "cmirror:0"),
    ]
    assert actions[2] == SummaryAction(
        "vm-webdev", "move", source="node1", target="node2", reason="unrunnable fs-xen stop"
    )
    assert actions[3] == SummaryAction("dlm:0", "stop", node="node1", reason="node availability")
    assert summary_fencing(answer("group-stop")) == []


def test_node_failure_and_injected_failure() -> None:
    crash = answer("colocation-order-crash")
    assert summary_actions(crash) == [SummaryAction("vm-webdev", "start", node="node2")]
    assert active_resources(crash)["vm-webdev"] == ["node1"]  # before the injected failure
    failed = summary_actions(answer("colocation-order-dependency-failure"))
    assert failed == [
        SummaryAction("vm-webdev", "restart", node="node1", reason="required c-xen-vg-fs running"),
        SummaryAction("fs-xen:0", "recover", node="node1"),
    ]


def test_settle_from_no_status() -> None:
    result = answer("settle")
    assert active_resources(result) == {}
    assert len(summary_actions(result)) == 13
    assert all(a.action == "start" for a in summary_actions(result))
    assert active_resources(result, "revised_cluster_status")["vm-webdev"] == ["node1"]


def test_master_and_slave_get_their_2_1_names() -> None:
    result = answer("promotable-swap")
    assert summary_actions(result) == [
        SummaryAction("st:0", "demote", node="node1", role="Promoted", next_role="Unpromoted"),
        SummaryAction("st:1", "promote", node="node2", role="Unpromoted", next_role="Promoted"),
    ]
    assert str(summary_actions(result)[1]) == "Promote st:1 ( Unpromoted -> Promoted node2 )"
    assert promoted_on(result) == {"ms": ["node1"]}
    after = result.find("revised_cluster_status")
    assert after is not None
    wrapper = ET.Element("r")
    ET.SubElement(wrapper, "cluster_status").extend(list(after))
    assert promoted_on(wrapper) == {"ms": ["node2"]}


def test_an_unknown_summary_line_is_an_error_naming_it() -> None:
    d = DATA / "colocation-order-move"
    text = (d / "crm_simulate.txt").read_text().replace(" * Migrate ", " * Frobnicate ")
    with pytest.raises(HarnessError, match="unknown shape: \\* Frobnicate +vm-webdev"):
        pcmk20.answer(text, "crm_simulate", (d / "crm_mon-before.xml").read_text())


def test_no_summary_or_no_crm_mon_xml_is_an_error() -> None:
    before = (DATA / "settle" / "crm_mon-before.xml").read_text()
    with pytest.raises(HarnessError, match="no 'Transition Summary:'"):
        pcmk20.answer("crm_simulate: Unknown option --output-as\n", "crm_simulate", before)
    with pytest.raises(HarnessError, match="crm_mon's output is not XML"):
        pcmk20.answer((DATA / "settle" / "crm_simulate.txt").read_text(), "crm_simulate", "Error: connect")
