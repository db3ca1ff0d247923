"""The pytest plugin, run through real pytest (pytester) on the simulate tier."""

from __future__ import annotations

import pytest

from harness.release import host_codename
from harness.version import pacemaker_version

# Facts of this host, not of the machine the tests were written on.
HOST = host_codename()
PACEMAKER = str(pacemaker_version())

SCENARIO = """\
name: mine
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


def test_scenario_files_become_marked_items(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "mine.yaml").write_text(SCENARIO.format(verdict="migrate"))
    result = pytester.runpytest("-m", "migration", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            f"migration-harness: tier simulate, release {HOST}, Pacemaker {PACEMAKER}",
            "*mine[[]as-written-move[]] PASSED*",
            "*mine[[]as-written-crash[]] PASSED*",
        ]
    )
    assert result.ret == 0


def test_mismatch_explains_path_reason_and_evidence(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "mine.yaml").write_text(SCENARIO.format(verdict="move"))
    artifacts = pytester.path / "artifacts"
    result = pytester.runpytest("-m", "migration", "--migration-artifacts", str(artifacts), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*mine[[]as-written-move[]] on the simulate tier ({HOST}, Pacemaker {PACEMAKER})",
            "*trigger: crm resource move vm1 node2",
            "*MISMATCH: vm1: migrate node1 -> node2; expected move",
            "*operations: vm1 migrate_to on node1, vm1 migrate_from on node2, vm1 stop on node1",
            f"*evidence: {artifacts}/mine-*-as-written-move",
        ]
    )
    (evidence,) = artifacts.glob("mine-*-as-written-move")
    for name in (
        "cib-before.xml",
        "transition.after.xml",
        "transition.graph.xml",
        "transition.summary.txt",
        "transition.graph.svg",
    ):
        assert (evidence / name).exists(), name


def test_bad_scenario_is_one_failing_item_and_the_others_still_run(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    pytester.path.joinpath("scenarios", "bad.yaml").write_text(SCENARIO.format(verdict="teleport"))
    pytester.path.joinpath("scenarios", "good.yaml").write_text(SCENARIO.format(verdict="migrate"))
    result = pytester.runpytest("-m", "migration", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)  # good.yaml's move and crash
    result.stdout.fnmatch_lines(["*bad.yaml:13: unknown verdict 'teleport'*"])
    assert "Traceback" not in result.stdout.str() and "Interrupted" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_fixture_api_for_users_own_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        '''
        import pytest

        CONFIG = """
        primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true
        primitive lv ocf:pacemaker:Dummy
        group g lv vm1
        """

        @pytest.mark.migration
        def test_group_member_is_not_migrated(migration_cluster):
            migration_cluster.configure(CONFIG, resources=["vm1"])
            outcome = migration_cluster.trigger("standby")
            assert not outcome["vm1"].migrated
            assert outcome["vm1"].verdict == "move"
            assert outcome["vm1"].to_node == "node2"

        def test_three_nodes_move_to_named_node(migration_cluster):
            migration_cluster.configure("primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true", resources=["vm1"], nodes=3)
            outcome = migration_cluster.trigger("move", node="node3")
            assert (outcome["vm1"].verdict, outcome["vm1"].to_node) == ("migrate", "node3")
        '''
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_tier_option_env_and_unknown(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile("def test_x(): pass")
    monkeypatch.setenv("MIGRATION_HARNESS_TIER", "teleport")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(["*unknown tier 'teleport'*"])
    result = pytester.runpytest("--tier", "simulate", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_live_cases_progress_passes_output_capture(pytester: pytest.Pytester) -> None:
    """A nested case takes minutes: its phase lines must reach the terminal (or a CI log file) while
    the test runs, not be captured with the test's output."""
    pytester.makepyfile(
        """
        from harness import session

        def test_progress(request):
            session.progress_writer(request.config)("  [   1.0s] restoring every VM from the snapshot")
            print("captured-print")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*restoring every VM from the snapshot*"])
    result.stdout.no_fnmatch_line("*captured-print*")


def test_a_live_cases_progress_under_xdist_names_its_worker(pytester: pytest.Pytester) -> None:
    """Under pytest-xdist each worker brings up its own cluster: its phase lines reach the
    controller's standard error as they come, each headed by the worker's id."""
    pytester.makepyfile(
        """
        from harness import session

        def test_progress(request):
            session.progress_writer(request.config)("[   1.0s] vagrant up: san, node1, node2 in parallel")
            print("captured-print")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "1")
    result.assert_outcomes(passed=1)
    result.stderr.fnmatch_lines(["[[]gw0[]] [[]   1.0s[]] vagrant up: san, node1, node2 in parallel"])
    assert "captured-print" not in result.stdout.str() + result.stderr.str()
