"""Side by side: the same 2.1.5 corpus inputs answered by Debian 12's and Debian 13's scheduler
(real output stored by tests/data/conformance/upgrade/make_outputs.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness import outcome as oc
from harness import upgrade
from harness.replay import Replayed

DATA = Path(__file__).parent / "data" / "conformance" / "upgrade"
RELEASES = ["bookworm", "trixie"]


def replayed(stem: str, release: str) -> Replayed:
    result = ET.parse(DATA / f"{stem}.{release}.result.xml").getroot()
    graph = ET.parse(DATA / f"{stem}.{release}.graph.xml").getroot()
    outcome = oc.classify(graph, oc.summary_actions(result), oc.active_resources(result))
    return Replayed(DATA / f"{stem}.xml", outcome, [])


def compared() -> list[tuple[str, list[upgrade.Row], dict[str, str]]]:
    stems = ["colocation-vs-stickiness", "7-migrate-group-one-unmigratable"]
    return upgrade.compare({r: [replayed(s, r) for s in stems] for r in RELEASES})


def test_path_change_stop_start_becomes_stay() -> None:
    """Same input, 3.0.0 keeps dummy2a where it is; 2.1.5 moves it (stop/start)."""
    (_, rows, errors), _ = compared()
    by_id = {r.resource: r for r in rows}
    assert not errors
    assert by_id["dummy2a"].change == "path"
    assert by_id["dummy2a"].cells == {
        "bookworm": {"verdict": "move", "from": "rhel7-5", "to": "rhel7-4", "reason": None, "blocked": False},
        "trixie": {"verdict": "stay", "from": "rhel7-5", "to": "rhel7-5", "reason": None, "blocked": False},
    }


def test_only_the_reason_text_changes() -> None:
    """'unrunnable B stop' (2.1.5) became 'unmigrateable B stop' (3.0.0): the same move."""
    _, (_, rows, _) = compared()
    by_id = {r.resource: r for r in rows}
    assert by_id["C"].change == "reason"
    assert (by_id["C"].cells["bookworm"]["reason"], by_id["C"].cells["trixie"]["reason"]) == (
        "unrunnable B stop", "unmigrateable B stop")


def test_json_and_counts() -> None:
    data = upgrade.as_json(RELEASES, compared())
    assert data["releases"] == RELEASES
    assert data["counts"] == {"inputs": 2, "path": 1, "reason": 1, "unchanged": 0, "errors": 0}
    first = data["inputs"][0]["resources"][0]
    assert set(first) == {"id", "bookworm", "trixie", "change"}
    text = upgrade.text(RELEASES, compared())
    assert text.splitlines()[-1] == ("2 inputs on bookworm and trixie: 1 change a resource's path, "
                                     "1 only Pacemaker's reason text, 0 unchanged, 0 errors")
