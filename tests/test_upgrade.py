"""Side by side: the same 2.1.5 corpus inputs answered by Debian 12's and Debian 13's scheduler
(real output stored by tests/data/conformance/upgrade/make_outputs.py)."""

from __future__ import annotations

import bz2
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import outcome as oc
from harness import upgrade
from harness.cli import main
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
    old, new = by_id["C"].cells["bookworm"], by_id["C"].cells["trixie"]
    assert old is not None and new is not None
    assert (old["reason"], new["reason"]) == ("unrunnable B stop", "unmigrateable B stop")


def test_json_and_counts() -> None:
    data = upgrade.as_json(RELEASES, compared())
    assert data["releases"] == RELEASES
    assert data["counts"] == {"inputs": 2, "path": 1, "reason": 1, "unchanged": 0, "errors": 0}
    inputs = data["inputs"]
    assert isinstance(inputs, list)
    first = inputs[0]["resources"][0]
    assert set(first) == {"id", "bookworm", "trixie", "change"}
    text = upgrade.text(RELEASES, compared())
    assert text.splitlines()[-1] == (
        "2 inputs on bookworm and trixie: 1 change a resource's path, "
        "1 only Pacemaker's reason text, 0 unchanged, 0 errors"
    )


def test_bad_input_on_several_releases_is_an_error_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The host's scheduler under two names: every good input answered, the truncated one an error, exit 2."""
    replay_data = Path(__file__).parent / "data" / "replay"
    pengine = tmp_path / "pengine"
    pengine.mkdir()
    (pengine / "pe-input-1.bz2").write_bytes(bz2.compress((replay_data / "move.xml").read_bytes()))
    (pengine / "pe-input-2.bz2").write_bytes(b"<cib><configuration>")
    assert main(["replay", "--release", "host", "--release", "bookworm", "--json", str(pengine)]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["releases"] == ["host", "bookworm"]
    good, bad = data["inputs"]
    assert "errors" not in good and {r["id"]: r["change"] for r in good["resources"]}["vm-webdev"] is None
    assert set(bad["errors"]) == {"host", "bookworm"} and "not XML" in bad["errors"]["host"]
    assert data["counts"]["errors"] == 1
    assert "Traceback" not in captured.err


def test_a_case_one_release_skips_is_not_a_changed_path() -> None:
    """Pacemaker 2.0.5 cannot run the colocation-no-influence style (`influence` came with 2.1): the
    side-by-side table shows the skip, and says CHANGED only where both releases gave a path."""
    from harness import report, scenario
    from harness.engine import CaseResult, Check
    from harness.outcome import Verdict
    from harness.version import Version

    seed = next(p for p in scenario.shipped() if scenario.load(p).name == "seed-xen")
    cases = {c.id: c for c in scenario.load(seed).cases()}

    def ran(case_id: str, verdict: str, release: str) -> CaseResult:
        v = Verdict("vm-webdev", verdict, "node1", "node2")
        return CaseResult(
            cases[case_id],
            "simulate",
            Version.parse("2.1.5"),
            None,
            None,
            [Check("vm-webdev", v, None)],
            release=release,
        )

    skipped = CaseResult(
        cases["colocation-no-influence-move"],
        "simulate",
        Version.parse("2.0.5"),
        None,
        None,
        release="bullseye",
        skipped="the style needs Pacemaker >= 2.1",
    )
    text = report.side_by_side(
        {
            "bullseye": [skipped, ran("group-move", "migrate", "bullseye")],
            "bookworm": [
                ran("colocation-no-influence-move", "migrate", "bookworm"),
                ran("group-move", "move", "bookworm"),
            ],
        }
    )
    rows = {line.split()[1]: line for line in text.splitlines()[2:]}
    assert "[SKIP]" in rows["colocation-no-influence"] and not rows["colocation-no-influence"].endswith("CHANGED")
    assert rows["group"].endswith("CHANGED")
