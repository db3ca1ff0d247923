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


def test_a_rebooted_dom0s_log_is_read_from_the_triggers_time() -> None:
    # CI's crash case: node1's log lines around the fencing of node2 (stored, trimmed to the
    # controller's lines); read by time from 17:49:35 on, as a dom0 that rebooted is.
    import calendar

    text = (DATA / "crash-restarted-there.node1.pacemaker.log").read_text()
    zero = pcmklog.log_seconds(calendar.timegm((2026, 11, 26, 17, 49, 35, 0, 0, 0)))
    part = pcmklog.since(text, zero)
    assert part.startswith("Nov 26 17:49:35.316 ") and "Calculated transition 12" in part.splitlines()[0]
    assert "Calculated transition 11" not in part
    assert pcmklog.since(text, zero + 86400) == ""
    assert pcmklog.since("Foo 1 00:00:00 not a stamp\n" + text, zero).startswith("Nov 26 17:49:35.316 ")


def test_a_vm_that_died_with_its_dom0_and_was_started_there_again_is_a_start(tmp_path: Path) -> None:
    # CI, 2026-11-26: node2's dom0 reset; fenced; it rejoined before the DC's start of the guest on
    # node1 ran, and Pacemaker's next transition started it on node2 ("Start vm-guest ( node2 )").
    # The survivors' logs show nothing of it: the harness said "stay on node2".
    from harness.prediction import active_on
    from harness.tiers.live import Executed
    from harness.tiers.nested.judging import died_with

    after = tmp_path / "cib-after.xml"
    after.write_text((DATA / "crash-restarted-there.cib-after.xml").read_text())
    where_after = active_on(after, tmp_path / "state").get("vm-guest", [])
    assert where_after == ["node2"]
    before = {"vm-guest": ["node2"]}
    lost = {"node2": "rebooted since"}
    nothing = observed_outcome([], before)["vm-guest"]
    assert nothing.verdict == "stay"
    verdict = died_with(nothing, ["node2"], where_after, lost)
    assert verdict.describe() == "vm-guest: start on node2 (due to it died with node2, rebooted since the trigger)"
    # node2's own log, read once it answered again: the start it ran after rejoining.
    ran = observed_outcome([Executed("node2", "vm-guest", "start", 10.0, 45.0, 0, "real")], before)["vm-guest"]
    assert died_with(ran, ["node2"], where_after, lost).verdict == "start"
    # Not started anywhere: stop. A move the logs show is Pacemaker's own name: kept.
    assert died_with(nothing, ["node2"], [], lost).verdict == "stop"
    moved = observed_outcome([Executed("node1", "vm-guest", "start", 10.0, 45.0, 0, "real")], before)["vm-guest"]
    assert died_with(moved, ["node2"], ["node1"], lost).to_node == "node1"
    # A dom0 that did not go down changes nothing.
    assert died_with(nothing, ["node2"], ["node2"], {}) == nothing


class _LocalNode:
    """A dom0 stand-in for the shell the harness sends over SSH: runs it here (the console logs in
    a directory of the test)."""

    name = "node2"

    def run(self, argv: list[str], **_: object) -> object:
        import subprocess
        from types import SimpleNamespace

        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return SimpleNamespace(stdout=done.stdout, ok=done.returncode == 0, rc=done.returncode)


def test_beating_reads_the_newest_console_twice(tmp_path: Path, monkeypatch) -> None:
    import threading
    import time

    from harness.tiers.nested import observe

    monkeypatch.setattr(observe, "CONSOLE_GLOB", str(tmp_path / "guest-mh-guest*.log"))
    old = tmp_path / "guest-mh-guest.log"
    old.write_text("MHB boot=aa n=1 up=1.0\nMHB boot=aa n=2 up=1.2\n")
    time.sleep(0.05)
    newest = tmp_path / "guest-mh-guest--incoming.log"  # after a migration: the target's console
    newest.write_text("MHB boot=aa n=3 up=1.4\n")
    node: object = _LocalNode()
    assert observe.beating([node], wait=0.5) is False  # type: ignore[list-item]

    def beat() -> None:
        time.sleep(0.2)
        with newest.open("a") as f:
            f.write("MHB boot=aa n=4 up=1.6\n")

    writer = threading.Thread(target=beat)
    writer.start()
    assert observe.beating([node], wait=0.8) is True  # type: ignore[list-item]
    writer.join()
    assert observe.beating([]) is None


class _ScriptedDom0:
    """A dom0 for the xenstore poller: answers from a script of readings (None: does not answer)."""

    def __init__(self, name: str, readings: list[str | None]) -> None:
        self.name, self.readings, self.closed = name, readings, 0

    def run(self, argv: list[str], **_: object) -> object:
        from types import SimpleNamespace

        from harness.errors import HarnessError

        reading = self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]
        if reading is None:
            raise HarnessError(f"{self.name}: SSH connection lost")
        return SimpleNamespace(ok=True, stdout=reading, rc=0)

    def close(self) -> None:
        self.closed += 1


def test_the_poller_sees_a_dom0_that_comes_back(monkeypatch) -> None:
    # The crash case: node2 reset (three failed readings: gone), rebooted, answers again, and
    # the cluster starts the guest there. The poller used to give node2 up for good.
    import time
    from types import SimpleNamespace

    from harness.tiers.nested import poller as pollermod

    monkeypatch.setattr(pollermod, "POLL", 0.01)
    monkeypatch.setattr(pollermod, "RETRY_GONE", 0.01)
    guest, idle = "0 Domain-0\n7 mh-guest\n", "0 Domain-0\n"
    dom0s = {
        "node1": _ScriptedDom0("node1", [idle]),
        "node2": _ScriptedDom0("node2", [guest] * 5 + [None] * 6 + [idle] * 3 + [guest]),
    }
    lab = SimpleNamespace(plan=SimpleNamespace(nodes=list(dom0s)), fresh_node=lambda name: dom0s[name])
    said: list[str] = []
    poller = pollermod.XlPoller(lab, "mh-guest", report=said.append)  # type: ignore[arg-type]
    poller.start()
    deadline = time.monotonic() + 10
    while len(dom0s["node2"].readings) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    poller.stop()
    places = [where for _, where in poller.history.placement()]
    assert places[0] == "node2"  # never "-" before every dom0 answered once
    assert places == ["node2", "-", "node2"]
    assert dom0s["node2"].closed >= 6  # a fresh connection after each failed reading
    assert "node2 answers again" in said and any("taken for gone" in s for s in said)


def test_a_dom0s_log_is_read_from_the_offset_unless_it_rebooted(tmp_path: Path, monkeypatch) -> None:
    # The shell the harness sends, run here on a copy of CI's node1 lines: the boot id this
    # machine has (not rebooted) or none known reads from the trigger's byte offset; another boot
    # id (rebooted) reads by time.
    import calendar

    from harness.tiers.nested import observe

    text = (DATA / "crash-restarted-there.node1.pacemaker.log").read_text()
    log = tmp_path / "pacemaker.log"
    log.write_text(text)
    monkeypatch.setattr(pcmklog, "LOG", str(log))
    monkeypatch.setattr(observe, "clock_skew", lambda node: 0.0)
    offset = text.index("Nov 26 17:49:41")
    now_boot = Path(observe.BOOT_ID).read_text().strip()
    node: object = _LocalNode()
    for boot_id in (now_boot, ""):
        read, rebooted, skew = observe.read_log_since(node, offset, boot_id, 0.0)  # type: ignore[arg-type]
        assert (read, rebooted, skew) == (text[offset:], False, None)
    origin = calendar.timegm((2026, 11, 26, 17, 49, 35, 0, 0, 0))
    read, rebooted, skew = observe.read_log_since(node, offset, "another-boot", origin)  # type: ignore[arg-type]
    assert rebooted and skew == 0.0 and read.startswith("Nov 26 17:49:35.316 ")
