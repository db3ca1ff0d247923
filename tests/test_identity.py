"""A case's identity: its scenario file, style, trigger kind and trigger arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

SCENARIO = """\
name: twin
nodes: 3
resources: [vm1]
configuration: |
  primitive vm1 ocf:pacemaker:Dummy meta allow-migrate={migrate}
triggers: [standby, {{standby: {{node: node1}}}}, {{move: {{node: node3}}}}]
expect: [{{verdict: [migrate, move, stay]}}]
"""


def test_two_files_with_one_name_get_their_own_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "twin.yaml").write_text(SCENARIO.format(migrate="true"))
    (tmp_path / "b" / "twin.yaml").write_text(SCENARIO.format(migrate="false"))
    assert (
        main(
            ["run", str(tmp_path / "a" / "twin.yaml"), str(tmp_path / "b" / "twin.yaml"), "--json", "--trigger", "move"]
        )
        == 0
    )
    cases = json.loads(capsys.readouterr().out)["cases"]
    by_file = {Path(c["file"]).parent.name: c["verdicts"][0]["verdict"] for c in cases}
    assert by_file == {"a": "migrate", "b": "move"}


def test_triggers_of_one_kind_with_different_arguments_are_distinct_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "twin.yaml"
    path.write_text(SCENARIO.format(migrate="true"))
    assert main(["run", str(path), "--json", "--trigger", "standby", "--keep", str(tmp_path / "ev")]) == 0
    cases = json.loads(capsys.readouterr().out)["cases"]
    assert sorted(c["case"] for c in cases) == ["as-written-standby", "as-written-standby-node1"]
    assert {c["trigger_args"].get("node") for c in cases} == {None, "node1"}
    assert len({c["evidence"] for c in cases}) == 2
    # standby of the VM's own node (node1) moves it; so does the explicit one: same node, same verdict
    assert {c["verdicts"][0]["verdict"] for c in cases} == {"migrate"}
