"""When a live cluster has settled: an idle DC, and nothing left that the scheduler would run.

Real crm_simulate on the live CIBs of CI's nested run in which the DC stayed idle with an unrun plan
(tests/data/nested/README.md), through the very filter the idle script runs inside a node.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.tiers import live

DATA = Path(__file__).parent / "data" / "nested"


def plan_of(cib: Path) -> str:
    result = subprocess.run(
        ["sh", "-c", f'crm_simulate -x "$1" -R 2>/dev/null | {live.PLAN_FILTER}', "plan", str(cib)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_an_idle_dc_with_a_runnable_plan_has_not_settled() -> None:
    # node2 offline after its second fencing; the DC never recomputed: the start is still to run.
    assert plan_of(DATA / "crash-stale-idle.cib-after.xml") == "Start vm-guest ( node1 )"


def test_blocked_actions_are_not_a_plan() -> None:
    # The input of the DC's last transition: node2 "pending", the same start blocked.
    assert plan_of(DATA / "crash-stale-idle.pe-input-9.xml") == ""


def test_a_settled_cib_plans_nothing() -> None:
    assert plan_of(DATA / "nested-seed-move.cib-before.xml") == ""


def test_idle_notes_settled_unrun_and_timed_out() -> None:
    note = "the DC was idle for 81 s with a plan it had not run (Start vm-guest ( node1 ))"
    assert live.idle_notes(f'note: {note}\nnode1 epoch="10" num_updates="60"\n', 0) == [note]
    assert live.idle_notes('node1 epoch="10"\n', 0) == []
    stayed = "the DC stayed idle for 600 s with a plan it did not run (Start vm-guest ( node1 ))"
    assert live.idle_notes(f"note: {stayed}\n", 3) == [stayed]
    assert live.idle_notes("DC 'node1' in 'S_TRANSITION_ENGINE'\n", 1) is None


def joining_of(cib: Path) -> str:
    result = subprocess.run(
        ["sh", "-c", live.JOINING_FILTER], input=cib.read_text(), capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_a_node_in_the_membership_that_has_not_joined_is_joining() -> None:
    # The inputs of both stale transitions: node2 back in corosync, fenced, not joined ("pending").
    assert joining_of(DATA / "crash-stale-idle.pe-input-9.xml") == "node2"
    assert joining_of(DATA / "crash-rejoin.pe-input-10.xml") == "node2"


def test_offline_and_joined_nodes_are_not_joining() -> None:
    assert joining_of(DATA / "crash-stale-idle.cib-after.xml") == ""  # node2 out of the membership
    assert joining_of(DATA / "nested-seed-move.cib-before.xml") == ""  # both joined
