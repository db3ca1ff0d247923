"""What the pytest plugin hands to CI: JUnit properties per case, the HTML page and the verdict
table under pytest-xdist (every worker's cases), and migration_nodes skipped on the simulate tier."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from harness.release import host_codename
from harness.version import pacemaker_version

HOST = host_codename()
PACEMAKER = str(pacemaker_version())

SCENARIO = """\
name: {name}
nodes: 2
resources: [vm1]
configuration: |
  primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true
  primitive st ocf:pacemaker:Dummy
  clone st-clone st meta interleave=true
  order o inf: st-clone vm1
triggers: [move, crash]
expect:
  - trigger: crash
    verdict: start
  - verdict: {verdict}
"""


def test_junit_xml_carries_each_cases_verdict_and_where_it_ran(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "mine.yaml").write_text(SCENARIO.format(name="mine", verdict="move"))
    artifacts = pytester.path / "artifacts"
    result = pytester.runpytest(
        "-m", "migration", "--junitxml", "junit.xml", "--migration-artifacts", str(artifacts), "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, failed=1)
    cases = {
        case.get("name"): {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
        for case in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    }
    move, crash = cases["mine[as-written-move]"], cases["mine[as-written-crash]"]
    assert move["verdict"] == "migrate node1 -> node2" and move["expected"] == "move" and move["result"] == "FAIL"
    assert crash["verdict"] == "start on node2" and crash["expected"] == "start" and crash["result"] == "PASS"
    for props in (move, crash):
        assert (props["tier"], props["release"], props["pacemaker"]) == ("simulate", HOST, PACEMAKER)
        assert props["evidence"].startswith(str(artifacts / "mine-"))
        assert "guest_downtime_ms" not in props  # the nested tier's only
    assert os.path.isdir(move["evidence"])


def test_xdist_controller_writes_every_workers_cases(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.mkdir("scenarios")
    for name in ("one", "two", "three"):
        pytester.path.joinpath("scenarios", f"{name}.yaml").write_text(SCENARIO.format(name=name, verdict="migrate"))
    page = pytester.path / "out" / "report.html"
    result = pytester.runpytest_subprocess(
        "-m", "migration", "-n", "2", "--migration-html", str(page), "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines([f"migration-harness: HTML report of 6 cases: {page}"])
    text = page.read_text()
    assert len(re.findall(r'<section class="case PASS"', text)) == 6
    assert {f"{n}[as-written-{t}]" for n in ("one", "two", "three") for t in ("move", "crash")} == set(
        re.findall(r"<h2>(\w+\[as-written-\w+\])</h2>", text)
    )
    assert text.count("<svg") == 6  # every case's graph, rendered for the page


def test_migration_nodes_is_skipped_on_the_simulate_tier(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_dom0(migration_nodes):
            assert migration_nodes["node1"].run("true").rc == 0
        """
    )
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*migration_nodes needs a live tier (--tier local or nested)*"])


def test_html_path_that_is_a_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.mkdir("out")
    result = pytester.runpytest("--migration-html", "out", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--migration-html: out: is a directory*"])
