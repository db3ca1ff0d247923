"""Conformance, pure part: does a verdict name what Pacemaker's expected Transition Summary names?

For one corpus input three things meet: the expected text summary (``pcmksummary.Summary``), the
summary the release's own ``crm_simulate`` printed in XML for the same input (``SummaryAction``s and
fencing), and the harness's verdicts (``Outcome``). The input is *reproduced* when crm_simulate's
summary equals the expected one; only then does it say anything about the harness, which *agrees*
when every expected line has a verdict with the same action, instance id, nodes, role, blocked and
reason, no verdict is extra, and the same nodes are fenced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .outcome import Outcome, SummaryAction, Verdict
from .pcmksummary import DOWN_FENCING, Fence, Line, Summary

# Inputs whose disagreement is understood and accepted, by release series ("" for all), each with
# the reason. Keep this list short: every entry is a place where a user would see something other
# than Pacemaker's own summary.
EXCEPTIONS: dict[str, dict[str, str]] = {}

# What the harness compares of a line: (action, resource, from, to, role, reason, blocked).
Key = tuple[str, str, "str | None", "str | None", "str | None", "str | None", bool]


@dataclass
class CaseResult:
    name: str
    status: str  # agree | disagree | not-reproduced | exception | error
    problems: list[str] = field(default_factory=list)  # one line per difference, for people
    pacemaker_version: str = ""

    def as_json(self) -> dict[str, object]:
        return {"input": self.name, "status": self.status, "problems": self.problems}


def line_key(line: Line) -> Key:
    source, dest = line.nodes()
    return (line.action, line.resource, source, dest, line.role_text, line.reason, line.blocked)


def verdict_key(verdict: Verdict) -> Key:
    return (
        verdict.verdict,
        verdict.resource,
        verdict.from_node,
        verdict.to_node,
        verdict.role,
        verdict.reason,
        verdict.blocked,
    )


def _fenced(fencing: tuple[Fence, ...] | list[Fence]) -> list[str]:
    return sorted(f.node for f in fencing if f.kind in DOWN_FENCING)


def reproduction_problems(expected: Summary, actions: list[SummaryAction], fencing: list[Fence]) -> list[str]:
    """How crm_simulate's own summary differs from the expected one (empty: reproduced)."""
    problems = [f"expected summary line not understood: {raw.strip()}" for raw in expected.unparsed]
    want = sorted((str(line), line_key(line)) for line in expected.lines)
    got = sorted((str(a), line_key(a.line())) for a in actions)
    want_keys = [k for _, k in want]
    got_keys = [k for _, k in got]
    for text, key in want:
        if key not in got_keys:
            problems.append(f"expected '{text}'; crm_simulate does not say it")
    for text, key in got:
        if key not in want_keys:
            problems.append(f"crm_simulate says '{text}'; not expected")
    if _fenced(expected.fencing) != _fenced(fencing):
        problems.append(f"expected fencing of {_fenced(expected.fencing)}; crm_simulate fences {_fenced(fencing)}")
    return problems


def agreement_problems(expected: Summary, outcome: Outcome) -> list[str]:
    """How the harness's verdicts differ from the expected summary (empty: they agree)."""
    problems = []
    verdicts: dict[str, list[Verdict]] = {}
    for verdict in outcome.all():
        verdicts.setdefault(verdict.resource, []).append(verdict)
    for line in expected.lines:
        found = verdicts.get(line.resource, [])
        match = next((v for v in found if verdict_key(v) == line_key(line)), None)
        if match is not None:
            found.remove(match)
        elif found:
            problems.append(f"expected '{line}'; harness: {found.pop(0).describe()}")
        else:
            problems.append(f"expected '{line}'; harness: no verdict for {line.resource}")
    for extra in (v for found in verdicts.values() for v in found):
        problems.append(f"no line expected for {extra.resource}; harness: {extra.describe()}")
    if sorted(outcome.fenced) != _fenced(expected.fencing):
        problems.append(f"expected fencing of {_fenced(expected.fencing)}; harness: {sorted(outcome.fenced)}")
    return problems


def judge(
    name: str,
    series: str,
    expected: Summary,
    actions: list[SummaryAction],
    fencing: list[Fence],
    outcome: Outcome,
) -> CaseResult:
    """The status of one input: not reproduced by crm_simulate, agreeing, an accepted exception,
    or disagreeing."""
    problems = reproduction_problems(expected, actions, fencing)
    if problems:
        return CaseResult(name, "not-reproduced", problems)
    problems = agreement_problems(expected, outcome)
    if not problems:
        return CaseResult(name, "agree")
    reason = EXCEPTIONS.get(series, {}).get(name) or EXCEPTIONS.get("", {}).get(name)
    if reason:
        return CaseResult(name, "exception", [f"accepted: {reason}", *problems])
    return CaseResult(name, "disagree", problems)
