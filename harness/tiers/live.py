"""What the live tiers (local, nested) share: operations a real cluster ran -> verdicts.

A live tier records what ran as ``Executed`` operations (the local tier from its stand-ins'
journal, the nested tier from each node's pacemaker log), classifies them with the same
``classify_operations`` as a transition graph, and judges them against two oracles: the
scheduler's prediction on the live CIB just before the trigger, and the DC's own plan (its saved
scheduler inputs, replayed). Also here: the idle test both tiers run inside a node, the name of a
saved scheduler input, and ``verdict.txt``.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import prediction, simulator
from ..errors import HarnessError
from ..outcome import Operation, Outcome, SummaryAction, Verdict, classify_operations, summary_actions
from ..triggers import Resolved

# A scheduler input the DC saved, and its number (pe-input.last and friends are pointers, not inputs).
SAVED_INPUT = re.compile(r"^pe-(input|warn|error)-(\d+)\.bz2$")
# What the stop and start after a failed migration are called before that rule renames them.
RECOVERED = frozenset({"move", "restart", "start"})
# Operations that change where a resource runs; probes and monitors only look.
PATH_ACTIONS = ("start", "stop", "migrate_to", "migrate_from", "promote", "demote")


@dataclass(frozen=True)
class Executed:
    """One operation a live cluster ran: where, when (seconds, the tier's clock) and its OCF rc."""

    node: str
    resource: str
    action: str
    start: float
    end: float
    rc: int
    agent: str

    def __str__(self) -> str:
        return (
            f"{self.start:.3f} {self.node} {self.resource} {self.action} rc={self.rc} ({self.end - self.start:.2f} s)"
        )


def observed_outcome(
    entries: list[Executed],
    active_before: dict[str, list[str]],
    summary: list[SummaryAction] | None = None,
) -> Outcome:
    """Verdicts from what ran: its successful path operations, in the order they ran."""
    operations = [Operation(e.resource, e.action, e.node) for e in entries if e.rc == 0 and e.action in PATH_ACTIONS]
    # Executors name clone instances by their primitive's id; the summary's clone-instance lines
    # (dlm:0) have no counterpart among them and would only add noise.
    ran = {e.resource for e in entries}
    outcome = classify_operations(operations, [a for a in summary or [] if a.resource in ran], active_before)
    for entry in failed(entries):
        verdict = outcome.verdicts.get(entry.resource)
        if entry.action.startswith("migrate_") and verdict is not None and verdict.verdict in RECOVERED:
            # A failed migration followed by stop and start is what Pacemaker's next transition calls
            # Recover: one name for this event on every tier (the simulate tier models it the same way).
            outcome.verdicts[entry.resource] = replace(
                verdict, verdict="recover", reason=f"{entry.action} failed on {entry.node} (rc {entry.rc})"
            )
    return outcome


def failed(entries: list[Executed]) -> list[Executed]:
    """Path operations that did not succeed (a failed migrate_to, say); 7 of a probe is no failure."""
    return [e for e in entries if e.rc != 0 and e.action in PATH_ACTIONS]


def input_number(name: str) -> int:
    match = SAVED_INPUT.match(name)
    return int(match.group(2)) if match else 1 << 30


class Phases:
    """Where a live case's seconds go, phase by phase (``with phases("reset"): ...``); with
    ``progress``, a line as each phase starts (a nested case takes minutes: say what it waits for)."""

    def __init__(self, seconds: dict[str, float] | None = None, progress: Callable[[str], None] | None = None) -> None:
        self.seconds: dict[str, float] = dict(seconds or {})
        self.progress = progress
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(f"  [{time.monotonic() - self.started:6.1f}s] {text}")

    @contextlib.contextmanager
    def __call__(self, name: str, text: str | None = None) -> Iterator[None]:
        started = time.monotonic()
        if text:
            self.say(text)
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started


@dataclass
class Plan:
    """The DC's first transition that acts on the VM, replayed from its saved scheduler input."""

    outcome: Outcome | None = None
    summary: list[SummaryAction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def planned(inputs: list[Path], vm: str, directory: Path) -> Plan:
    """Replay the DC's saved inputs in order; the first whose transition acts on ``vm`` is its plan.
    An input the scheduler cannot replay is named in the notes, not skipped in silence."""
    directory.mkdir(parents=True, exist_ok=True)
    plan = Plan()
    for number, path in enumerate(inputs):
        try:
            sim = simulator.simulate(
                path, directory / f"{number:02d}-{path.name}", run_actions=False, save_output=False
            )
        except HarnessError as exc:
            plan.notes.append(f"the DC's scheduler input {path.name} could not be replayed: {exc.message}")
            continue
        outcome = sim.outcome()
        if vm in outcome:
            plan.outcome, plan.summary = outcome, summary_actions(sim.result)
            break
    return plan


def predict(before: Path, trigger: Resolved, directory: Path) -> tuple[Outcome | None, list[str]]:
    """The scheduler's prediction on the live CIB snapshot ``before`` (None, with the reason, if it fails)."""
    try:
        observation = prediction.predict(before, trigger, directory)
    except HarnessError as exc:
        return None, [f"no prediction: {exc.message}"]
    notes = [f"prediction: {observation.substitution}"] if observation.substitution else []
    return observation.outcome, notes


def judge(vm: str, verdict: Verdict, entries: list[Executed], plan: Plan, predicted: Outcome | None) -> list[str]:
    """What both oracles and the executed operations say beside the verdict."""
    notes = [
        f"failed: {e.resource} {e.action} on {e.node}, rc={e.rc} after {e.end - e.start:.1f} s" for e in failed(entries)
    ]
    if verdict.verdict == "migrate":
        ran = {e.action for e in entries if e.resource == vm and e.rc == 0}
        if not {"migrate_to", "migrate_from"} <= ran:
            notes.append(f"{vm}: verdict migrate without migrate_to + migrate_from among the executed operations")
    if plan.outcome is not None and plan.outcome[vm].verdict != verdict.verdict:
        notes.append(
            f"{vm}: the DC planned '{plan.outcome[vm].verdict}' in its first transition, "
            f"but what ran is '{verdict.verdict}'"
        )
    if predicted is not None and predicted[vm].verdict != verdict.verdict:
        notes.append(
            f"DIVERGENCE {vm}: simulate predicted '{predicted[vm].describe()}', the cluster did '{verdict.describe()}'"
        )
    return notes


def write_verdict(
    path: Path,
    trigger: str,
    verdict: Verdict,
    predicted: Outcome | None,
    plan: Plan,
    notes: list[str],
    *,
    guest: str | None = None,
    seconds: dict[str, float] | None = None,
) -> Path:
    """``verdict.txt``: what ran, what was predicted and what the DC planned, side by side."""
    vm = verdict.resource
    lines = [f"trigger: {trigger}", f"verdict (what ran): {verdict.describe()}"]
    if guest is not None:
        lines.append(f"guest: {guest}")
    lines.append(f"prediction (simulate on the live CIB): {predicted[vm].describe() if predicted is not None else '-'}")
    lines.append(f"planned (the DC's first transition): {plan.outcome[vm].describe() if plan.outcome else '-'}")
    lines += [f"time: {k} {v:.2f} s" for k, v in (seconds or {}).items()]
    lines += [f"note: {n}" for n in notes]
    path.write_text("\n".join(lines) + "\n")
    return path


# Runs inside a node (one nsenter or SSH command instead of three tools per poll): prints the idle
# fingerprint (DC and CIB version) once it is the same twice in a row and the scheduler, run on the
# live CIB, plans nothing runnable; or what it last saw, exit 1, on timeout. Twice, because the DC
# reports S_IDLE for a moment between two transitions. The plan, because an idle DC is not always a
# settled cluster: Pacemaker 2.1.5 can compute a transition while a fenced node is still "pending"
# (its start elsewhere "blocked"), then stay idle after the node is marked offline, until the next
# cluster event (measured: a dom0 back from its reset, fenced again by SBD). While the DC idles with
# a plan it has not run, the script waits on; "note:" lines say so. At the deadline with the plan
# still unrun: the plan, exit 3 (the cluster did not act on it: that is what it did). Nor is a
# cluster settled while a node is in the membership but has not joined (the scheduler's "pending":
# it blocks the actions that need that node probed, measured: the same crash, the dom0 coming back
# a second time); that wait is bounded by half the timeout, then said in a note.
# The runnable actions of crm_simulate's "Transition Summary" on one line, ';' between them
# (blocked ones are not: the cluster cannot run them; the same format from 2.0.5 to 3.0.1).
PLAN_FILTER = (
    r"sed -n '/^Transition Summary:/,/^$/p' | grep '^ *\* ' | grep -vw blocked"
    r" | sed 's/^ *\* *//; s/  */ /g' | paste -sd ';' -"
)

# The nodes in the membership that have not joined the DC (the scheduler's "pending": a node
# coming back, or one Pacemaker is fencing), comma-separated, from `cibadmin -Q -l` on stdin.
# in_ccm is "true"/"false" up to Pacemaker 2.1.6, a timestamp or "0" after.
JOINING_FILTER = (
    r"""grep -o '<node_state [^>]*>' | grep 'in_ccm="' | grep -v 'in_ccm="\(false\|0\)"'"""
    r""" | grep -v 'join="member"' | sed 's/.*uname="\([^"]*\)".*/\1/' | paste -sd ',' -"""
)

IDLE_SCRIPT = r"""
deadline=$(( $(date +%s) + $1 )); prev=""; last="no poll yet"; unrun_since=""; plan=""; joining_since=""; joining_said=""
while [ "$(date +%s)" -lt "$deadline" ]; do
    dc=$(crmadmin -q -D 2>&1 | tail -n 1)
    state=$(crmadmin -q -S "$dc" 2>&1 | tail -n 1)
    if [ "$state" = S_IDLE ]; then
        cib=$(cibadmin -Q -l 2>/dev/null)
        if printf '%s' "$cib" | grep -q 'op-status="-1"'; then
            prev=""; last="pending operations"
        else
            version=$(printf '%s\n' "$cib" | head -n 1 | grep -o '[a-z_]*epoch="[0-9]*"\|num_updates="[0-9]*"' | tr '\n' ' ')
            current="$dc $version"
            joining=$(printf '%s' "$cib" | {JOINING_FILTER})
            if [ "$current" = "$prev" ] && [ -n "$joining" ] && [ "$(date +%s)" -lt "$(( ${joining_since:=$(date +%s)} + $1 / 2 ))" ]; then
                last="idle at $current, $joining in the membership but not joined"; sleep 1
            elif [ "$current" = "$prev" ]; then
                if [ -n "$joining" ] && [ -z "$joining_said" ]; then
                    joining_said=1
                    echo "note: $joining stayed in the membership without joining for $(( $(date +%s) - joining_since )) s: the cluster was taken as settled without it"
                fi
                plan=$(crm_simulate -L -R 2>/dev/null | {PLAN_FILTER})
                if [ -z "$plan" ]; then
                    [ -n "$unrun_since" ] && echo "note: the DC was idle for $(( $(date +%s) - unrun_since )) s with a plan it had not run ($last_plan); it ran it at the next cluster event"
                    echo "$current"; exit 0
                fi
                [ -z "$unrun_since" ] && unrun_since=$(date +%s)
                last_plan=$plan; last="idle at $current with a plan it has not run: $plan"
                sleep 1
            fi
            prev=$current
        fi
    else
        prev=""; last="DC '$dc' in '$state'"
    fi
    sleep 0.1
done
if [ -n "$unrun_since" ] && [ -n "$plan" ]; then
    echo "note: the DC stayed idle for $(( $(date +%s) - unrun_since )) s with a plan it did not run ($plan)"
    exit 3
fi
echo "$last"; exit 1
""".replace("{PLAN_FILTER}", PLAN_FILTER).replace("{JOINING_FILTER}", JOINING_FILTER)


def idle_notes(stdout: str, returncode: int) -> list[str] | None:
    """What ``IDLE_SCRIPT`` said: its notes once settled (exit 0, or 3: idle with a plan the DC never
    ran, which is what the cluster did), None when it timed out before the cluster was idle."""
    if returncode not in (0, 3):
        return None
    return [line.removeprefix("note: ") for line in stdout.splitlines() if line.startswith("note: ")]
