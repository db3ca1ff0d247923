"""Guest evidence: heartbeat analysis, xl list parsing, double-run detection, the picture."""

from __future__ import annotations

from pathlib import Path

from harness.tiers.nested.guest import heartbeat, picture, xl

BOOT_A = "0b6d3f1e-8f3a-4c39-9d59-1f0c6f1d2a01"
BOOT_B = "7c1e2d3f-0000-4c39-9d59-1f0c6f1d2a02"


def console(
    boot: str,
    first: int,
    last: int,
    start: float,
    period: float = 0.1,
    pause_after: int | None = None,
    pause: float = 0.0,
) -> str:
    lines, up = [f"MHB-START boot={boot} period={period} dirty=0"], start
    for n in range(first, last + 1):
        lines.append(f"MHB boot={boot} n={n} up={up:.2f}")
        up += period + 0.002 + (pause if n == pause_after else 0.0)
    return "\n".join(lines) + "\n"


def test_live_migration_is_one_boot_with_a_short_gap() -> None:
    # Source logs beats 0..50, the target 51..100; the guest paused 0.35 s between 50 and 51.
    whole = console(BOOT_A, 0, 100, 5.0, pause_after=50, pause=0.35)
    source = "\n".join(
        line for line in whole.splitlines() if " n=" not in line or int(line.split(" n=")[1].split()[0]) <= 50
    )
    target = "\n".join(
        line for line in whole.splitlines() if " n=" in line and int(line.split(" n=")[1].split()[0]) >= 50
    )
    beats = heartbeat.parse(source, "node1") + heartbeat.parse(target, "node2")
    evidence = heartbeat.analyse(beats, 0.1)
    assert evidence.unbroken and evidence.boots == [BOOT_A]
    assert evidence.nodes == ["node1", "node2"]
    assert evidence.beats == 101  # beat 50 logged by both consoles counts once
    assert evidence.downtime is not None and 0.34 < evidence.downtime < 0.36
    assert "downtime 35" in evidence.describe()


def test_stop_start_is_a_new_boot() -> None:
    beats = heartbeat.parse(console(BOOT_A, 0, 40, 5.0), "node1") + heartbeat.parse(
        console(BOOT_B, 0, 30, 3.0), "node2"
    )
    evidence = heartbeat.analyse(beats, 0.1)
    assert not evidence.unbroken
    assert evidence.boots == [BOOT_A, BOOT_B]
    assert evidence.describe().startswith("guest rebooted: 2 boots")


def test_no_heartbeat() -> None:
    evidence = heartbeat.analyse(heartbeat.parse("Xen console noise\n", "node1"), 0.1)
    assert not evidence.unbroken and evidence.describe() == "no heartbeat seen"


def test_a_migrations_copies_do_not_run_and_placement_follows_the_guest() -> None:
    """xenstore during and after a migration: the source's copy departs (--migratedaway), the
    target's arrives paused (--incoming); only the guest under its own name runs."""
    source = "0 Domain-0\n3 guest--migratedaway\n"
    target = "0 Domain-0\n5 guest\n"
    assert [(d.name, d.id, d.running) for d in xl.parse_xenstore(source)] == [
        ("Domain-0", 0, True),
        ("guest--migratedaway", 3, False),
    ]
    history = xl.DomainHistory("guest")
    history.add_xenstore(0.0, {"node1": target, "node2": "0 Domain-0\n"})
    history.add_xenstore(1.0, {"node1": source, "node2": target})
    assert history.double_runs() == []
    assert history.placement() == [(0.0, "node1"), (1.0, "node2")]
    history.add_xenstore(2.0, {"node1": target, "node2": target})
    assert history.double_runs() == [(2.0, ["node1", "node2"])]
    history.add_xenstore(3.0, {"node1": "0 Domain-0\n", "node2": "0 Domain-0\n"})
    assert history.placement()[-1] == (3.0, "-")


def test_picture_marks_reboots(tmp_path: Path) -> None:
    beats = heartbeat.parse(console(BOOT_A, 0, 20, 5.0, pause_after=10, pause=0.5), "node1") + heartbeat.parse(
        console(BOOT_B, 0, 10, 2.0), "node2"
    )
    svg = picture.heartbeat_svg(beats, 0.1, tmp_path / "hb.svg", "seed-xen[order-only-move]").read_text()
    assert (
        svg.startswith("<svg") and "reboot" in svg and svg.count("<circle") == 30
    )  # 20 intervals of the first boot, 10 of the second


def test_picture_has_a_time_axis_and_marks_the_downtime(tmp_path: Path) -> None:
    beats = heartbeat.parse(console(BOOT_A, 0, 40, 5.0, pause_after=20, pause=0.8), "node1")
    evidence = heartbeat.analyse(beats, 0.1)
    assert evidence.unbroken and evidence.downtime is not None and evidence.worst_gap_at is not None
    downtime = (evidence.worst_gap_at, evidence.downtime)
    svg = picture.heartbeat_svg(beats, 0.1, tmp_path / "hb.svg", "move", downtime=downtime).read_text()
    assert f"downtime {evidence.downtime * 1000:.0f} ms" in svg and "<rect" in svg
    assert 'text-anchor="middle">0</text>' in svg  # the time axis starts at 0 s
    rebooted = heartbeat.parse(console(BOOT_B, 0, 10, 2.0), "node2") + beats
    assert (
        "downtime"
        not in picture.heartbeat_svg(rebooted, 0.1, tmp_path / "r.svg", "crash", downtime=downtime).read_text()
    )


def test_boots_before_the_trigger_are_not_evidence() -> None:
    """A style loaded onto a snapshot's running guest restarted it (boot A on node1, then boot B on
    node2) before the trigger: only boot B is the guest the trigger moves."""
    consoles = {
        "node1": heartbeat.parse(console(BOOT_A, 0, 40, 5.0), "node1"),
        "node2": heartbeat.parse(console(BOOT_B, 0, 30, 3.0), "node2"),
    }
    current, stale = heartbeat.current_boot(consoles, ["node2"])
    assert {b.boot for b in current} == {BOOT_B} and stale == {BOOT_A}
    # Moved live to node1 afterwards: node1's console now holds boot A's old beats and B's new ones.
    after = heartbeat.parse(console(BOOT_A, 0, 40, 5.0) + console(BOOT_B, 31, 60, 6.2), "node1")
    evidence = heartbeat.analyse(current + [b for b in after if b.boot not in stale], 0.1)
    assert evidence.unbroken and evidence.boots == [BOOT_B] and evidence.nodes == ["node2", "node1"]
    # Nothing runs yet (no node given): every beat stays, nothing is stale.
    assert heartbeat.current_boot(consoles, []) == (consoles["node1"] + consoles["node2"], set())


def test_xenstore_readings_and_double_runs_only_when_read_at_once() -> None:
    """Domains from xenstore (real output of a dom0 during a migration: the target's copy is
    --incoming); dom0s polled independently are a double run only when read at overlapping times."""
    source = "0 Domain-0\n1 guest\n"
    target = "0 Domain-0\n2 guest--incoming\n"
    after = "0 Domain-0\n2 guest\n"
    assert [(d.name, d.id, d.running) for d in xl.parse_xenstore(target)] == [
        ("Domain-0", 0, True),
        ("guest--incoming", 2, False),
    ]
    history = xl.DomainHistory("guest")
    history.add_xenstore(1.0, {"node1": source, "node2": target}, {"node1": (0.5, 1.0), "node2": (0.6, 0.9)})
    # node1's last reading (slow: its dom0 sends the migration) is older than node2's new one.
    history.add_xenstore(9.0, {"node1": source, "node2": after}, {"node1": (0.5, 1.0), "node2": (8.5, 9.0)})
    assert history.double_runs() == []
    history.add_xenstore(10.0, {"node1": source, "node2": after}, {"node1": (9.2, 9.9), "node2": (9.5, 10.0)})
    assert history.double_runs() == [(10.0, ["node1", "node2"])]
    assert [where for _, where in history.placement()] == ["node1", "node1,node2"]


def test_a_migrations_handover_read_on_both_sides_is_not_a_double_run() -> None:
    """Two xdist clusters at once (heavy load): one round read node2 (the source) before xl's
    rename to --migratedaway and node1 (the target) after its --incoming copy took the guest's name:
    xl-history showed "115.3s node1,node2" for one round and the verdict carried a DOUBLE-RUN note
    on a clean live migration. A handover framed by the incoming copy before and the guest on the
    target alone after is not a double run; the same overlap that lasts is."""
    source, incoming = "0 Domain-0\n1 guest\n", "0 Domain-0\n2 guest--incoming\n"
    target, away = "0 Domain-0\n2 guest\n", "0 Domain-0\n1 guest--migratedaway\n"
    history = xl.DomainHistory("guest")
    history.add_xenstore(114.8, {"node2": source, "node1": incoming})
    history.add_xenstore(115.3, {"node2": source, "node1": target}, {"node2": (114.9, 115.3), "node1": (115.2, 115.3)})
    history.add_xenstore(115.4, {"node2": away, "node1": target})
    assert history.double_runs() == []
    assert [where for _, where in history.placement()] == ["node2", "node2,node1", "node1"]
    # The same round followed by another with the guest still named on both: two copies ran.
    lasting = xl.DomainHistory("guest")
    lasting.add_xenstore(114.8, {"node2": source, "node1": incoming})
    lasting.add_xenstore(115.3, {"node2": source, "node1": target})
    lasting.add_xenstore(115.8, {"node2": source, "node1": target})
    assert lasting.double_runs() == [(115.3, ["node2", "node1"]), (115.8, ["node2", "node1"])]
    # Without the incoming copy before it (the guest started afresh on node1): a double run.
    fresh = xl.DomainHistory("guest")
    fresh.add_xenstore(114.8, {"node2": source, "node1": "0 Domain-0\n"})
    fresh.add_xenstore(115.3, {"node2": source, "node1": target})
    fresh.add_xenstore(115.4, {"node2": away, "node1": target})
    assert fresh.double_runs() == [(115.3, ["node2", "node1"])]


def test_a_guest_that_stopped_beating_and_runs_nowhere_did_not_keep_running() -> None:
    # CI's nested crash case: node2's dom0 reset 18.8 s into the guest's life, nothing after it.
    evidence = heartbeat.analyse(heartbeat.parse(console(BOOT_A, 0, 60, 8.85, period=0.15), "node2"), 0.15)
    assert evidence.unbroken
    evidence.ended(running=False)
    assert not evidence.unbroken and evidence.stopped
    assert evidence.describe() == "guest stopped: its last beat on node2, not running anywhere once the cluster settled"


def test_a_guest_still_running_at_the_end_keeps_its_downtime() -> None:
    evidence = heartbeat.analyse(
        heartbeat.parse(console(BOOT_A, 0, 100, 5.0, pause_after=50, pause=0.35), "node1"), 0.1
    )
    evidence.ended(running=True)
    assert evidence.unbroken and not evidence.stopped and evidence.downtime is not None
    assert evidence.describe().startswith("guest kept running on node1, downtime ")


def test_the_verdict_table_says_stopped() -> None:
    from types import SimpleNamespace

    from harness.engine import guest_words

    evidence = heartbeat.analyse(heartbeat.parse(console(BOOT_A, 0, 20, 1.0), "node2"), 0.1)
    evidence.ended(running=False)
    assert guest_words(SimpleNamespace(guest=evidence)) == "stopped"  # type: ignore[arg-type]


CRASH = Path(__file__).parent / "data" / "nested"


def crash_beats() -> list[heartbeat.Beat]:
    """CI's crash case (stored): the guest's beats on node2 until its dom0 was reset."""
    rows = (CRASH / "crash-restarted-there.heartbeat.tsv").read_text().splitlines()
    return [heartbeat.Beat(node, boot, int(n), float(up)) for node, boot, n, up in (r.split("\t") for r in rows)]


def test_a_guest_restarted_on_its_rejoined_dom0_did_not_keep_running() -> None:
    # CI, 2026-11-26: node2's dom0 reset, fenced, rejoined; Pacemaker started the guest there again.
    # Its beats stopped at the reset; at the end xenstore shows a domain on node2 that does not beat
    # yet. The harness said "kept running, downtime 420 ms": one boot, no gap, no end check.
    from harness.outcome import Outcome, Verdict
    from harness.tiers.nested.judging import judge_guest

    history = xl.DomainHistory("mh-guest")
    history.add_xenstore(0.0, {"node1": "0 Domain-0\n", "node2": "0 Domain-0\n7 mh-guest\n"})
    history.add_xenstore(50.0, {"node1": "0 Domain-0\n"})
    history.add_xenstore(260.0, {"node1": "0 Domain-0\n", "node2": "0 Domain-0\n1 mh-guest\n"})
    outcome = Outcome({"vm-guest": Verdict("vm-guest", "start", "node2", "node2")})
    notes: list[str] = []
    guest = judge_guest(crash_beats(), 0.1, history, ["node2"], outcome, "vm-guest", notes, beats_now=False)
    assert not guest.unbroken and guest.silent_at_end and not guest.stopped
    assert guest.describe().startswith("guest rebooted: its beats stopped on node2")
    # Without the end check (no dom0 asked), the same beats would read as one unbroken boot.
    unchecked = judge_guest(crash_beats(), 0.1, history, ["node2"], outcome, "vm-guest", [], beats_now=None)
    assert unchecked.unbroken


def test_a_migrate_verdict_needs_a_guest_beating_at_the_end() -> None:
    from harness.outcome import Outcome, Verdict
    from harness.tiers.nested.judging import judge_guest

    history = xl.DomainHistory("mh-guest")
    history.add_xenstore(0.0, {"node1": "0 Domain-0\n", "node2": "0 Domain-0\n7 mh-guest\n"})
    history.add_xenstore(90.0, {"node1": "0 Domain-0\n3 mh-guest\n", "node2": "0 Domain-0\n"})
    outcome = Outcome({"vm-guest": Verdict("vm-guest", "migrate", "node2", "node1")})
    beating = judge_guest(crash_beats(), 0.1, history, ["node1"], outcome, "vm-guest", [], beats_now=True)
    assert beating.unbroken and outcome["vm-guest"].verdict == "migrate"
    silent = judge_guest(crash_beats(), 0.1, history, ["node1"], outcome, "vm-guest", [], beats_now=False)
    assert not silent.unbroken
    assert outcome["vm-guest"].verdict == "move"
    assert outcome["vm-guest"].reason == "migrate path, but the guest stopped beating"
