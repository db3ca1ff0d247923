"""Verdict classification, pure: stored real crm_simulate graphs and summaries in, verdicts out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import outcome as oc

GRAPHS = Path(__file__).parent / "data" / "graphs"


def classify(name: str) -> oc.Outcome:
    graph = ET.parse(GRAPHS / f"{name}.graph.xml").getroot()
    result = ET.parse(GRAPHS / f"{name}.summary.xml").getroot()
    return oc.classify(graph, oc.summary_actions(result), oc.active_resources(result))


def test_migration_is_migrate_to_then_migrate_from() -> None:
    verdict = classify("move")["vm-webdev"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("migrate", "node1", "node2")
    assert verdict.migrated and not verdict.stopped_and_started
    tasks = [(op.task, op.node) for op in verdict.operations]
    assert ("migrate_to", "node1") in tasks and ("migrate_from", "node2") in tasks
    assert ("start", "node2") not in tasks


def test_partial_migration_finishes_with_migrate_from_only() -> None:
    verdict = classify("partial-migration")["vm-webdev"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("migrate", "node1", "node2")
    assert "migrate_to" not in {op.task for op in verdict.operations}


def test_crash_without_fencing_is_a_start_elsewhere() -> None:
    verdict = classify("crash")["vm-webdev"]
    assert (verdict.verdict, verdict.to_node) == ("start", "node2")


def test_failed_dependency_restarts_vm_and_recovers_the_clone_instance() -> None:
    outcome = classify("failed-dependency")
    assert outcome["vm-webdev"].verdict == "restart"
    assert outcome["vm-webdev"].reason == "required c-xen-vg-fs running"
    assert outcome["fs-xen:0"].verdict == "recover"
    assert outcome["fs-xen:0"].from_node == "node1"


def test_failed_migrate_to_is_recovered_by_stop_and_start() -> None:
    """Pacemaker's summary says 'Recover vm-webdev ( node2 )': the failed migration left it active
    on both nodes; it is stopped on both and started on node2."""
    verdict = classify("failed-migrate-to")["vm-webdev"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("recover", "node2", "node2")
    stops = sorted(op.node or "" for op in verdict.operations if op.task == "stop")
    assert stops == ["node1", "node2"]


def test_group_member_moves_with_pacemakers_reason() -> None:
    outcome = classify("group-move")
    assert outcome["vm-webdev"].verdict == "move"
    assert outcome["vm-webdev"].reason == "unrunnable fs-xen stop"
    assert {outcome[r].verdict for r in ("clvm-xenvg", "fs-xen")} == {"move"}


def test_untouched_resource_stays_where_it_was() -> None:
    outcome = classify("failed-dependency")
    assert "dlm:0" not in outcome
    stay = outcome["dlm:0"]
    assert (stay.verdict, stay.from_node, stay.to_node) == ("stay", "node1", "node1")
    assert outcome["nonexistent"].verdict == "stay"


def test_summary_disagreeing_with_graph_is_reported() -> None:
    graph = ET.parse(GRAPHS / "move.graph.xml").getroot()
    said = [oc.SummaryAction("vm-webdev", "move", source="node1", target="node2")]
    outcome = oc.classify(graph, said, {"vm-webdev": ["node1"]})
    assert outcome["vm-webdev"].verdict == "migrate"
    assert any("summary says" in note for note in outcome.notes)


def test_json_shape() -> None:
    data = classify("move").as_json()
    assert data == {
        "resources": [
            {
                "id": "vm-webdev",
                "verdict": "migrate",
                "from": "node1",
                "to": "node2",
                "reason": None,
                "blocked": False,
                "role": None,
            }
        ],
        "fenced": [],
    }


@pytest.mark.parametrize("text,expected", [("20", 20000), ("20s", 20000), ("1m", 60000), ("500ms", 500), ("0", 0)])
def test_interval_parsing(text: str, expected: int) -> None:
    from harness.prediction import parse_interval_ms

    assert parse_interval_ms(text) == expected


def test_an_answer_without_a_summary_is_judged_by_its_graph() -> None:
    """Pacemaker 3.0.0 prints no Transition Summary in XML after --node-fail: the graph still says
    the VM starts on the surviving node, and the verdict must say so too (never 'stay')."""
    from harness import simulator

    data = Path(__file__).parent / "data" / "trixie-node-fail"
    answer = ET.parse(data / "answer.xml").getroot()
    assert answer.find("actions") is None
    outcome = simulator.planned_outcome(answer, ET.parse(data / "graph.xml").getroot())
    verdict = outcome["vm-guest"]
    # As 2.1.5's summary names it ("Start vm-guest ( node2 )"): a start on the survivor, not a
    # move from the failed node, so the releases' verdicts read the same side by side.
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("start", None, "node2")
    assert simulator.MISSING_SUMMARY in outcome.notes
