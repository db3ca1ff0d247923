"""What the nested tier's evidence says once the cluster has settled: the verdict of a VM whose dom0
the trigger took down, whether the guest kept running, and the guest's evidence files.

``lost_nodes`` and ``died_with`` hold a verdict to the dom0s that rebooted or stopped answering;
``judge_guest`` holds a ``migrate`` verdict to a guest that kept running (its beats, where its
domain runs at the end, whether it still beats); ``guest_evidence`` writes ``heartbeat.tsv``,
``heartbeat.svg`` and ``xl-history.txt``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ...errors import HarnessError
from ...outcome import Outcome, Verdict
from .guest import heartbeat, picture, xl, xlcfg
from .observe import Collected
from .poller import POLL


def guest_evidence(
    casedir: Path,
    beats: list[heartbeat.Beat],
    period: float,
    history: xl.DomainHistory,
    title: str,
    guest: heartbeat.GuestEvidence,
    origin: float,
) -> dict[str, Path]:
    """The heartbeat series and picture, and where the domain ran (``xl-history.txt``, seconds from
    the trigger at ``origin``)."""
    evidence: dict[str, Path] = {}
    series = casedir / "heartbeat.tsv"
    series.write_text("".join(f"{b.node}\t{b.boot}\t{b.n}\t{b.up}\n" for b in beats))
    evidence["heartbeat"] = series
    if beats:
        svg = casedir / "heartbeat.svg"
        downtime = None
        if guest.unbroken and guest.worst_gap_at is not None and guest.downtime is not None:
            downtime = (guest.worst_gap_at, guest.downtime)
        picture.heartbeat_svg(beats, period, svg, title=title, downtime=downtime)
        evidence["heartbeat-picture"] = svg
    placement = casedir / "xl-history.txt"
    lines = [
        f"# where domain {history.guest} ran (xenstore of every dom0, every {POLL:g} s), seconds from the trigger\n"
    ]
    lines += [f"{t - origin:7.1f}s  {where}\n" for t, where in history.placement()]
    placement.write_text("".join(lines))
    evidence["xl-history"] = placement
    return evidence


def lost_nodes(collected: dict[str, Collected | HarnessError]) -> dict[str, str]:
    """The dom0s the trigger took down, with how: rebooted since (fenced, reset) or not answering."""
    lost = {}
    for name, got in collected.items():
        if isinstance(got, HarnessError):
            lost[name] = "not answering since"
        elif got.rebooted:
            lost[name] = "rebooted since"
    return lost


def died_with(verdict: Verdict, before: list[str], where_after: list[str], lost: dict[str, str]) -> Verdict:
    """The verdict of a resource that ran on a dom0 the trigger took down: it died with it, whatever
    the logs that survive show of it. Started again afterwards (elsewhere, or there once the dom0
    rejoined: Pacemaker's next transition says "Start") is ``start``, not started is ``stop``; a
    ``move``, ``recover`` or ``migrate`` the logs show is kept (Pacemaker's own name for it)."""
    gone = [n for n in before if n in lost]
    if gone and verdict.verdict in ("stay", "start", "restart"):
        from_node, reason = gone[0], f"it died with {gone[0]}, {lost[gone[0]]} the trigger"
    elif verdict.verdict == "stay" and where_after != before:
        # Nothing ran for it on a node that answers, yet it is gone: it died with a fenced node.
        from_node = ", ".join(before) or "?"
        reason = f"it died with {from_node}"
    else:
        return verdict
    return replace(
        verdict,
        verdict="start" if where_after else "stop",
        from_node=from_node,
        to_node=where_after[0] if where_after else None,
        reason=reason,
    )


def judge_guest(
    beats: list[heartbeat.Beat],
    period: float,
    history: xl.DomainHistory,
    where_after: list[str],
    outcome: Outcome,
    vm: str,
    notes: list[str],
    beats_now: bool | None = None,
) -> heartbeat.GuestEvidence:
    """What the guest lived through, and the verdict held to it: a ``migrate`` needs a guest that
    kept running. ``beats_now`` (``beating``) says whether the guest still beat once the cluster had
    settled: a guest that did not (or whose domain runs on no dom0, xenstore and the CIB agreeing)
    did not keep running, whatever its beats until then. Double runs and doubts go to ``notes``."""
    guest = heartbeat.analyse(beats, period)
    placement = history.placement()
    domain_on = placement[-1][1] != "-" if placement else None
    if beats_now is True:
        guest.ended(running=True)
    elif beats_now is False:
        # Its domain runs (xenstore or the CIB say so) but does not beat: a domain started afresh
        # (its boot not beating yet), or a guest that hangs; either way it did not keep running.
        guest.fell_silent(domain_runs=bool(domain_on or where_after))
    elif domain_on:
        guest.ended(running=True)
    elif placement and not where_after:
        guest.ended(running=False)
    elif placement:
        notes.append(
            f"xenstore shows domain {xlcfg.NAME} on no dom0 once settled, the CIB has {vm} on "
            f"{', '.join(where_after)}: the guest's state at the end is not known"
        )
    notes.extend(guest.notes)
    verdict = outcome[vm]
    if verdict.verdict == "migrate" and not guest.unbroken:
        reason = (
            "no heartbeat seen"
            if not guest.beats
            else "the guest is not running"
            if guest.stopped
            else "the guest stopped beating"
            if guest.silent_at_end
            else "the guest rebooted"
        )
        notes.append(f"{vm}: Pacemaker took the migrate path, but {reason}: not a live migration")
        outcome.verdicts[vm] = replace(verdict, verdict="move", reason=f"migrate path, but {reason}")
    for when, nodes in history.double_runs():
        notes.append(
            f"DOUBLE-RUN: guest {xlcfg.NAME} running on {', '.join(nodes)} at once "
            f"({when - history.samples[0].time:.1f} s after the trigger)"
        )
    return guest
