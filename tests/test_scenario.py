"""Scenario files: loading, validation errors that name the file and line, expectations, cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import scenario
from harness.errors import InputError
from harness.version import Version


def _verdicts(expectation: scenario.Expectation | None) -> tuple[str, ...]:
    assert expectation is not None, "no expect rule matched"
    return expectation.verdicts


GOOD = """\
name: demo
nodes: 2
resources: [vm1]
configuration: |
  primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true
triggers: [move, standby]
expect:
  - trigger: standby
    pacemaker: ">=2.0"
    verdict: migrate
  - verdict: [migrate, move]
"""


def load(tmp_path: Path, text: str) -> scenario.Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return scenario.load(path)


def test_good_scenario_expands_to_cases(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD)
    assert [c.full_id for c in s.cases()] == ["demo[as-written-move]", "demo[as-written-standby]"]
    assert s.config_line == 5
    case = s.cases()[1]
    assert _verdicts(case.expected("vm1", "simulate", Version.parse("2.1.5"))) == ("migrate",)
    assert _verdicts(case.expected("vm1", "simulate", Version.parse("1.1.6"))) == ("migrate", "move")


def test_shipped_seed_scenario_loads_with_all_styles_and_triggers() -> None:
    (path,) = scenario.find(["seed-xen"])
    s = scenario.load(path)
    assert len(s.styles) == 7 and len(s.triggers) == 7
    assert "seed-xen[order-only-standby]" in {c.full_id for c in s.cases()}
    assert s.source["pacemaker"] == "1.1.6"


@pytest.mark.parametrize(
    "edit,message,line",
    [
        (("nodes: 2", "nodes: 17"), "nodes must be 2 to 16", 2),
        (("triggers: [move, standby]", "triggers: [move, reboot]"), "unknown trigger 'reboot'", 6),
        (("verdict: migrate", "verdict: teleport"), "unknown verdict 'teleport'", 10),
        (('">=2.0"', '"about 2"'), "invalid version range", 9),
        (("name: demo", "name: demo\ncolour: blue"), "unknown key 'colour'", 2),
        (
            ("  - verdict: [migrate, move]", "  - verdict: [migrate, move]\n    style: sideways"),
            "unknown style 'sideways'",
            12,
        ),
        (("triggers: [move, standby]", "triggers:\n  - crash: {node: node7}"), "does not have", 7),
    ],
)
def test_errors_name_the_line(tmp_path: Path, edit: tuple[str, str], message: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, GOOD.replace(*edit))
    text = str(info.value)
    assert message in text
    assert f"s.yaml:{line}:" in text


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, GOOD.replace("resources: [vm1]", "resources: [vm1"))
    assert "invalid YAML" in str(info.value)
    assert "s.yaml:" in str(info.value)


def test_missing_expectation_and_config(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing 'expect'"):
        load(tmp_path, GOOD[: GOOD.index("expect:")])
    with pytest.raises(InputError, match="exactly one of 'configuration'"):
        load(tmp_path, "name: x\nresources: [a]\nexpect: migrate\n")


def test_unknown_shipped_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no scenario file or shipped scenario called 'nope'"):
        scenario.find(["nope"])


def test_xen_and_guest_rules_match_only_where_the_tier_reports_them(tmp_path: Path) -> None:
    s = load(
        tmp_path,
        GOOD.replace(
            "expect:\n",
            'guest: {type: pv}\nexpect:\n  - {tier: nested, guest: pv, xen: ">=4.17.7, <4.18", verdict: move}\n',
        ),
    )
    assert s.guest.type == "pv" and s.guest.period == 0.1
    case = s.cases()[0]
    v = Version.parse("2.1.5")
    assert _verdicts(case.expected("vm1", "nested", v, {"xen": "4.17.7", "guest": "pv"})) == ("move",)
    assert _verdicts(case.expected("vm1", "nested", v, {"xen": "4.17.5", "guest": "pv"})) == ("migrate", "move")
    assert _verdicts(case.expected("vm1", "nested", v, {"xen": "4.17.7", "guest": "pvh"})) == ("migrate", "move")
    assert _verdicts(case.expected("vm1", "simulate", v, {})) == ("migrate", "move")


def test_bad_guest_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown guest type 'hvm'"):
        load(tmp_path, GOOD.replace("expect:\n", "guest: {type: hvm}\nexpect:\n"))


def test_nested_key_narrows_the_matrix_on_the_nested_tier_only(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD.replace("expect:\n", "nested: {triggers: [standby]}\nexpect:\n"))
    assert [c.full_id for c in s.cases("nested")] == ["demo[as-written-standby]"]
    assert len(s.cases("simulate")) == len(s.cases()) == 2


def test_nested_key_names_only_known_cases(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'nested' names trigger 'crash'") as info:
        load(tmp_path, GOOD.replace("expect:\n", "nested: {triggers: [crash]}\nexpect:\n"))
    assert info.value.line == 7
    with pytest.raises(InputError, match="unknown key 'nodes' in 'nested'"):
        load(tmp_path, GOOD.replace("expect:\n", "nested: {nodes: 3}\nexpect:\n"))
