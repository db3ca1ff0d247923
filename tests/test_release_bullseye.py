"""Debian 11 (bullseye, Pacemaker 2.0.5) on the simulate tier: its crm_simulate has no XML answer,
the harness reads its text (``harness.pcmk20``). The reference is crm_simulate 2.0.5's own text
summary of each case. Builds the bullseye root on a machine that has not yet (a few minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import pcmksummary, release
from harness.cli import main


def _main(argv: list[str]) -> int:
    previous = release.active()
    try:
        return main(argv)
    finally:
        release.activate(previous)


@pytest.mark.network
def test_seed_on_debian_11_agrees_with_its_own_text_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keep = tmp_path / "keep"
    code = _main(["run", "seed-xen", "--release", "bullseye", "--json", "--keep", str(keep)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    ran = [c for c in data["cases"] if c["status"] != "SKIP"]
    assert len(ran) == 42 and all(c["status"] == "PASS" and c["pacemaker"] == "2.0.5" for c in ran)
    # 'influence' (colocation-no-influence) came with 2.1: the scenario says so, skipped.
    assert {c["style"] for c in data["cases"] if c["status"] == "SKIP"} == {"colocation-no-influence"}
    kinds = set()
    for case in ran:
        text = (Path(case["evidence"]) / "transition.summary.txt").read_text()
        lines = {line.resource: line for line in pcmksummary.parse(text).lines}
        for verdict in case["verdicts"]:
            line = lines.get(verdict["id"])
            kinds.add(verdict["verdict"])
            if verdict["verdict"] == "stay":
                assert line is None, (case["case"], line)
                continue
            assert line is not None, (case["case"], verdict)
            assert (line.action, *line.nodes(), line.reason) == (
                verdict["verdict"],
                verdict["from"],
                verdict["to"],
                verdict["reason"],
            ), case["case"]
    assert kinds == {"migrate", "move", "start", "restart", "stay"}

    # Its scheduler inputs, replayed by Debian 11's and Debian 12's schedulers: the same paths.
    inputs = sorted(keep.glob("seed-xen-*-group-standby/cib-trigger.xml"))
    inputs += sorted(keep.glob("seed-xen-*-colocation-order-move/cib-trigger.xml"))
    assert len(inputs) == 2
    code = _main(["replay", "--release", "bullseye", "--release", "bookworm", "--json", *map(str, inputs)])
    replayed = json.loads(capsys.readouterr().out)
    assert code == 0
    verdicts = {
        ("group-standby" in i["file"], r["id"]): (r["bullseye"]["verdict"], r["bookworm"]["verdict"])
        for i in replayed["inputs"]
        for r in i["resources"]
    }
    assert verdicts[(True, "vm-webdev")] == ("move", "move")  # group-standby
    assert verdicts[(False, "vm-webdev")] == ("migrate", "migrate")  # colocation-order-move


@pytest.mark.network
def test_conformance_without_its_corpus_says_which_to_use(capsys: pytest.CaptureFixture[str]) -> None:
    """The archive serves no 2.0.5 source tarball: the error says so and how to run 2.0.5 on
    another release's corpus (.ci/run does: `--release bullseye --corpus bookworm`)."""
    assert _main(["conformance", "--release", "bullseye"]) == 2
    err = capsys.readouterr().err
    assert "the corpus of bullseye cannot be fetched" in err and "--release bullseye --corpus NAME" in err
