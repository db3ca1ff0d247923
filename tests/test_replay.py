"""Replay of stored scheduler inputs (made by tests/data/make_inputs.py with the real tools).

Each ``<input>.expected.json`` is the reviewed output of ``migration-harness replay --json``;
``pytest --update-expected`` rewrites them.
"""

from __future__ import annotations

import bz2
import json
from pathlib import Path

import pytest

from harness import replay
from harness.cli import main

REPLAY = Path(__file__).parent / "data" / "replay"  # made with crm_simulate (make_inputs.py)
REAL = Path(__file__).parent / "data" / "real"  # saved by the DCs of real clusters
INPUTS = sorted(
    p for d in (REPLAY, REAL) for p in d.iterdir() if p.is_file() and not p.name.endswith((".expected.json", ".md"))
)


@pytest.mark.parametrize("path", INPUTS, ids=[f"{p.parent.name}/{p.name}" for p in INPUTS])
def test_replay_matches_expected(path: Path, update_expected: bool) -> None:
    (result,) = replay.replay([path])
    assert result.outcome is not None, result.error
    got = result.outcome.as_json()
    expected_file = path.parent / f"{path.name}.expected.json"
    if update_expected:
        expected_file.write_text(json.dumps(got, indent=2) + "\n")
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing: review the output and write it with pytest --update-expected")
    assert got == json.loads(expected_file.read_text())


def test_directory_replay_gives_a_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pengine = tmp_path / "pengine"
    pengine.mkdir()
    for number, name in enumerate(["settled.xml", "move.xml", "crash.xml", "failed-migrate-to.xml"]):
        (pengine / f"pe-input-{number}.bz2").write_bytes(bz2.compress((REPLAY / name).read_bytes()))
    assert main(["replay", str(pengine)]) == 0
    out = capsys.readouterr().out
    assert "4 scheduler inputs replayed" in out
    timeline = out[out.index("timeline of vm-webdev") :].splitlines()
    # These inputs were made apart, not one after the other: only their content is checked here.
    assert sorted(timeline[1:4]) == [
        "  pe-input-1.bz2: migrate node1 -> node2",
        "  pe-input-2.bz2: start on node2",
        "  pe-input-3.bz2: recover on node2",
    ]


def test_json_for_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--json", str(REPLAY / "standby.xml.bz2")]) == 0
    data = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in data["resources"]}
    assert by_id["vm-webdev"] == {
        "id": "vm-webdev",
        "verdict": "migrate",
        "from": "node1",
        "to": "node2",
        "reason": None,
        "blocked": False,
        "role": None,
    }
    assert by_id["clvm:0"]["verdict"] == "stop"
    assert by_id["clvm:0"]["reason"] == "node availability"


@pytest.mark.parametrize(
    "content,message",
    [
        (b"BZh91AY&SY garbage", "corrupt compressed file"),
        (b"<cib><confi", "not XML"),
        (b"<transition_graph/>", "not a CIB"),
        (b"", "not XML"),
    ],
)
def test_bad_inputs_are_clear_errors(
    tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "pe-input-7.bz2"
    bad.write_bytes(content)
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(bad) in err
    assert "Traceback" not in err
    (result,) = replay.replay([bad])
    assert result.error is not None and message in result.error


def test_bad_input_among_good_ones_is_an_error_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated input does not stop the others: they are answered, it gets an error row, exit 2."""
    pengine = tmp_path / "pengine"
    pengine.mkdir()
    (pengine / "pe-input-1.bz2").write_bytes(bz2.compress((REPLAY / "move.xml").read_bytes()))
    (pengine / "pe-input-2.bz2").write_bytes(bz2.compress((REPLAY / "move.xml").read_bytes()[:500]))
    (pengine / "pe-input-3.bz2").write_bytes(bz2.compress((REPLAY / "crash.xml").read_bytes()))
    assert main(["replay", "--json", str(pengine)]) == 2
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [("error" in r) for r in rows] == [False, True, False]
    assert "not XML" in rows[1]["error"] and "pe-input-2.bz2" in rows[1]["error"]
    assert {r["id"]: r["verdict"] for r in rows[0]["resources"]}["vm-webdev"] == "migrate"
    assert "Traceback" not in captured.err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nope.bz2")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_real_failed_migration_timeline_is_chronological(capsys: pytest.CaptureFixture[str]) -> None:
    """pe-input-3 (the plan: migrate) comes before pe-error-0 (the recovery) although 0 < 3:
    inputs are ordered by the CIB version they were computed from."""
    assert main(["replay", str(REAL / "failed-migrate-to")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2:] == [
        "  node2-pe-input-3.bz2: migrate node1 -> node2",
        "  node2-pe-error-0.bz2: recover on node2",
    ]
