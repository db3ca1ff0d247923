"""Reading a real nested-tier migration: pacemaker.log operations, the guest's consoles, the CIB."""

from __future__ import annotations

from pathlib import Path

from harness import cib as cibmod
from harness.tiers.live import observed_outcome
from harness.tiers.nested import pcmklog
from harness.tiers.nested.guest import heartbeat

DATA = Path(__file__).parent / "data" / "nested"


def _entries() -> list:
    entries = []
    for node in ("node1", "node2"):
        entries += pcmklog.parse((DATA / f"nested-seed-move.{node}.pacemaker.log").read_text())
    return sorted(entries, key=lambda e: e.start)


def test_operations_of_a_real_live_migration() -> None:
    path = [(e.node, e.action, e.rc) for e in _entries() if e.resource == "vm-webdev" and e.action != "monitor"]
    assert path == [("node2", "migrate_to", 0), ("node1", "migrate_from", 0), ("node2", "stop", 0)]
    migrate_to = next(e for e in _entries() if e.action == "migrate_to")
    # From "Requesting local execution" to "Result of": execd says 1m15.604s for the same call.
    assert 75.0 < migrate_to.end - migrate_to.start < 76.5


def test_verdict_from_the_logs_is_migrate() -> None:
    outcome = observed_outcome(_entries(), {"vm-webdev": ["node2"]})
    verdict = outcome["vm-webdev"]
    assert verdict.verdict == "migrate"
    assert (verdict.from_node, verdict.to_node) == ("node2", "node1")


def test_guest_consoles_show_one_boot_across_both_dom0s() -> None:
    beats = []
    for node in ("node2", "node1"):
        beats += heartbeat.parse((DATA / f"nested-seed-move.{node}.console.log").read_text(), node)
    evidence = heartbeat.analyse(beats, 0.1)
    assert evidence.unbroken and len(evidence.boots) == 1
    assert evidence.nodes == ["node2", "node1"]
    # The guest stood still for about 13 s in the final copy under software emulation; its usual
    # step (0.3-0.4 s a beat there, not the nominal 0.1 s) is not counted as downtime.
    assert evidence.downtime is not None and 12.0 < evidence.downtime < 13.5


def test_result_lines_with_and_without_rc() -> None:
    text = (
        "Nov 26 02:19:25.785 node2 pacemaker-controld  [859] (log_executor_event) \tnotice: Result of migrate_to "
        "operation for vm on node2: ok | CIB update 36, graph action confirmed; call=32 key=vm_migrate_to_0 rc=0\n"
        "Nov 26 02:20:01 node1 pacemaker-controld  [1] (log_executor_event) \tnotice: Result of start operation "
        "for vm on node1: error (Timed Out)\n"
        "Nov 26 02:20:02 node1 pacemaker-controld  [1] (log_executor_event) \tnotice: Result of probe operation "
        "for vm on node1: not running\n"
    )
    assert [(e.action, e.rc) for e in pcmklog.parse(text)] == [("migrate_to", 0), ("start", 1), ("probe", 7)]


def test_failed_operations_in_a_cib(tmp_path: Path) -> None:
    root = cibmod.read(DATA / "nested-seed-move.cib-before.xml")
    assert cibmod.failed_operations(root) == []
    op = next(o for o in root.iter("lrm_rsc_op") if o.get("operation") == "start")
    op.set("rc-code", "1")
    op.set("op-status", "2")
    op.set("exit-reason", "Resource agent did not complete within 20s")
    [failure] = cibmod.failed_operations(root)
    assert " start on node" in failure and failure.endswith(": Resource agent did not complete within 20s")


def test_operations_table_is_in_seconds_from_the_trigger_per_node_clock() -> None:
    """operations.tsv: each node's log times on the host's clock (the node's skew at the trigger
    taken off), as seconds from the trigger."""
    import calendar

    from harness.tiers.nested import observe

    entries = _entries()
    # migrate_to began at 02:18:10.085 by node2's clock, which ran 8 s behind the host's; the
    # trigger came 2.5 s before that.
    triggered = calendar.timegm((2026, 11, 26, 2, 18, 7, 0, 0, 0)) + 0.585 + 8.0
    table = observe.operations_table(entries, triggered, {"node2": -8.0, "node1": -8.0})
    header, columns, *rows = table.splitlines()
    assert header.startswith("# seconds from the trigger") and columns.split("\t")[:3] == ["start", "end", "seconds"]
    row = next(r.split("\t") for r in rows if "\tmigrate_to\t" in r)
    assert abs(float(row[0]) - 2.5) < 0.01 and 75.0 < float(row[2]) < 76.5
