"""Verdicts name what Pacemaker's own summary names: one test per class of disagreement users met.

Every input here is from Pacemaker's scheduler regression corpus (Debian's pacemaker 2.1.5 source)
with the real crm_simulate 2.1.5 output for it, stored by tests/data/conformance/make_inputs.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import conformance, corpus, pcmksummary
from harness import outcome as oc

DATA = Path(__file__).parent / "data" / "conformance"


def planned(name: str) -> oc.Outcome:
    result = ET.parse(DATA / f"{name}.result.xml").getroot()
    graph = ET.parse(DATA / f"{name}.graph.xml").getroot()
    return oc.classify(graph, oc.summary_actions(result), oc.active_resources(result))


def expected(name: str) -> pcmksummary.Summary:
    return pcmksummary.parse((DATA / f"{name}.summary").read_text())


def path(verdict: oc.Verdict) -> tuple[object, ...]:
    return (verdict.verdict, verdict.from_node, verdict.to_node, verdict.role, verdict.blocked)


def test_blocked_start_is_a_verdict_the_vm_will_not_start() -> None:
    """a: 'Start vm-01 ( hex-9 ) due to unrunnable base-clone running (blocked)'."""
    verdict = planned("bug-suse-707150")["vm-01"]
    assert path(verdict) == ("start", None, "hex-9", None, True)
    assert verdict.reason == "unrunnable base-clone running"
    assert not verdict.operations and not verdict.stopped_and_started
    assert "BLOCKED" in verdict.describe()
    assert verdict.as_json()["blocked"] is True


def test_no_quorum_blocks_starts() -> None:
    """a: 'Start DcIPaddr ( c001n06 ) due to no quorum (blocked)'."""
    verdict = planned("group14")["DcIPaddr"]
    assert path(verdict) == ("start", None, "c001n06", None, True)
    assert verdict.reason == "no quorum"


def test_clone_instance_named_as_the_summary_names_it() -> None:
    """b: the summary stops dom0-iscsi1-cnx1:1, the graph's long-id says :0."""
    outcome = planned("migrate-5")
    assert "dom0-iscsi1-cnx1:0" not in outcome
    verdict = outcome["dom0-iscsi1-cnx1:1"]
    assert path(verdict) == ("stop", "dom0-02", None, None, False)
    assert [(op.task, op.node) for op in verdict.operations] == [("stop", "dom0-02")]


def test_promotable_instances_are_not_swapped() -> None:
    """b: rsc1:0 is demoted on node1 and rsc1:1 promoted on node2, as the summary says."""
    outcome = planned("a-demote-then-b-migrate")
    assert path(outcome["rsc1:0"]) == ("demote", "node1", "node1", "Promoted -> Unpromoted", False)
    assert path(outcome["rsc1:1"]) == ("promote", "node2", "node2", "Unpromoted -> Promoted", False)
    assert {op.task for op in outcome["rsc1:1"].operations} == {"promote"}


def test_resources_of_a_fenced_node_move_from_it() -> None:
    """c: 'Move child_DoFencing:2 ( sles-3 -> sles-4 )' after sles-3 is fenced (no longer 'from None')."""
    outcome = planned("stonith-1")
    assert outcome.fenced == ("sles-3",)
    assert path(outcome["child_DoFencing:2"]) == ("move", "sles-3", "sles-4", None, False)
    # '( sles-3 -> sles-2 Unpromoted )': a move that keeps its role
    assert path(outcome["ocf_msdummy:2"]) == ("move", "sles-3", "sles-2", "Unpromoted", False)
    assert outcome.as_json()["fenced"] == ["sles-3"]


def test_move_that_changes_role_keeps_it() -> None:
    """d: 'Move ocf_msdummy:0 ( Promoted c001n01 -> Unpromoted c001n03 )'."""
    verdict = planned("promoted-8")["ocf_msdummy:0"]
    assert path(verdict) == ("move", "c001n01", "c001n03", "Promoted -> Unpromoted", False)


def test_start_and_promote_of_a_stopped_instance_is_promote() -> None:
    """d: 'Promote stateful-2:1 ( Stopped -> Promoted node-a )', not a start."""
    verdict = planned("bug-pm-11")["stateful-2:1"]
    assert path(verdict) == ("promote", None, "node-a", "Stopped -> Promoted", False)
    assert {op.task for op in verdict.operations} == {"start", "promote"}


def test_half_migrated_vm_moves_from_where_the_summary_says() -> None:
    """e: prmVM2 was left half-migrated; 'Move prmVM2 ( bl460g1n7 -> bl460g1n8 )', not from bl460g1n6."""
    verdict = planned("bug-5186-partial-migrate")["prmVM2"]
    assert path(verdict) == ("move", "bl460g1n7", "bl460g1n8", None, False)


def test_resource_active_on_two_nodes_has_both_lines() -> None:
    outcome = planned("rec-rsc-0")
    assert sorted(path(v) for v in outcome.all()) == [
        ("stop", "node1", None, None, False),
        ("stop", "node2", None, None, False),
    ]
    resources = outcome.as_json()["resources"]
    assert isinstance(resources, list) and [r["id"] for r in resources] == ["rsc1", "rsc1"]


def test_graph_action_without_summary_line_is_a_note_not_a_verdict() -> None:
    """A start Pacemaker already waits for (pending) changes nothing the summary would list."""
    outcome = planned("mon-rsc-3")
    assert not outcome.verdicts
    assert any("rsc1" in note and "summary lists no action" in note for note in outcome.notes)


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.summary")))
def test_every_stored_input_is_reproduced_and_agrees(name: str) -> None:
    result = ET.parse(DATA / f"{name}.result.xml").getroot()
    graph = ET.parse(DATA / f"{name}.graph.xml").getroot()
    actions = oc.summary_actions(result)
    verdicts = oc.classify(graph, actions, oc.active_resources(result))
    case = conformance.judge(name, "2.1", expected(name), actions, oc.summary_fencing(result), verdicts)
    assert (case.status, case.problems) == ("agree", [])


def test_a_summary_crm_simulate_does_not_print_is_not_reproduced() -> None:
    result = ET.parse(DATA / "migrate-5.result.xml").getroot()
    graph = ET.parse(DATA / "migrate-5.graph.xml").getroot()
    actions = oc.summary_actions(result)
    other = expected("rec-rsc-0")
    case = conformance.judge("x", "2.1", other, actions, [], oc.classify(graph, actions))
    assert case.status == "not-reproduced"
    assert "expected 'Stop rsc1 ( node1 ) due to node availability'; crm_simulate does not say it" in case.problems


@pytest.mark.parametrize(
    "text,fields",
    [
        (
            "  * Start      prmIpPostgreSQLDB     ( rh5node2 )",
            ("start", "prmIpPostgreSQLDB", None, "rh5node2", None, None, False),
        ),
        (
            "  * Stop       pgsql:1           (   Promoted srv01 )  due to node availability (blocked)",
            ("stop", "pgsql:1", "srv01", None, "Promoted", "node availability", True),
        ),
        ("  * Start      Fencing     ( pcmk-1 )  blocked", ("start", "Fencing", None, "pcmk-1", None, None, True)),
        (
            "  * Restart    drbd_float:0       ( Unpromoted -> Promoted sambuca.linbit )  due to required ip_float_right start",
            (
                "restart",
                "drbd_float:0",
                "sambuca.linbit",
                "sambuca.linbit",
                "Unpromoted -> Promoted",
                "required ip_float_right start",
                False,
            ),
        ),
        (
            "  * Move       ocf_msdummy:2        ( sles-3 -> sles-2 Unpromoted )",
            ("move", "ocf_msdummy:2", "sles-3", "sles-2", "Unpromoted", None, False),
        ),
        (
            "  * Re-promote   rsc1:0        (           Promoted rhel7-4 )",
            ("re-promote", "rsc1:0", "rhel7-4", "rhel7-4", "Promoted", None, False),
        ),
        (
            "  * Demote     s0:0    ( Master -> Slave hex-14 )",
            ("demote", "s0:0", "hex-14", "hex-14", "Promoted -> Unpromoted", None, False),
        ),
    ],
)
def test_summary_line_shapes(text: str, fields: tuple[object, ...]) -> None:
    line = pcmksummary.parse_line(text)
    assert isinstance(line, pcmksummary.Line)
    assert conformance.line_key(line) == fields


def test_fence_lines() -> None:
    text = (
        "Transition Summary:\n"
        "  * Fence (reboot) galera-bundle-0 (resource: galera-bundle-docker-0) 'guest is unclean'\n"
        "  * Fence (on) node2 'required by rsc1 start'\n"
        "  * Fence (off) rhel7-alt4 'fake is active there (fencing will be revoked if remote connection can be re-established elsewhere)'\n"
    )
    summary = pcmksummary.parse(text)
    assert summary.fenced == ("galera-bundle-0", "rhel7-alt4")
    assert summary.fencing[0].resource == "galera-bundle-docker-0"
    assert not summary.unparsed


def test_sources_index_names_the_upstream_tarball() -> None:
    source = corpus.parse_sources((DATA / "Sources.bookworm-excerpt").read_text())
    assert source is not None
    assert (source.version, source.upstream, source.directory) == ("2.1.5-1+deb12u1", "2.1.5", "pool/main/p/pacemaker")
    assert source.orig == "pacemaker_2.1.5.orig.tar.gz"
    assert source.files[source.orig] == ("7654b78f08d4994b9fd31b8592addbd7f4b173e2cbf30336722419f1ce45e185", 5807791)


def test_unknown_release_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["conformance", "--release", "potato"]) == 2
    err = capsys.readouterr().err
    assert "unknown release 'potato'" in err and "Traceback" not in err


def test_check_case_runs_the_scheduler_once_and_judges(tmp_path: Path) -> None:
    """The running part on a stored corpus input, with the host's crm_simulate (2.1.5 on Debian 12)."""
    from harness.conformance_run import Report, check_case

    case = corpus.Case("bug-suse-707150", DATA / "bug-suse-707150.xml", DATA / "bug-suse-707150.summary")
    result = check_case(case, tmp_path, "2.1")
    assert (result.status, result.problems) == ("agree", [])
    assert not any(tmp_path.iterdir())  # the graph lived only for the call
    broken = corpus.Case("broken", tmp_path / "broken.xml", DATA / "bug-suse-707150.summary")
    broken.input.write_text("<cib><configuration>")
    failed = check_case(broken, tmp_path, "2.1")
    # crm_simulate recovers what it can of a truncated file and plans nothing: not Pacemaker's answer
    assert failed.status == "not-reproduced"
    assert "expected 'Start clvm:0 ( hex-0 )'; crm_simulate does not say it" in failed.problems
    report = Report("bookworm", "2.1.5", [result, failed], 1.0)
    assert report.last_line() == "conformance bookworm (Pacemaker 2.1.5): 1/1 inputs agree"
    assert report.passed and "NOT REPRODUCED by crm_simulate itself broken:" in report.text()
