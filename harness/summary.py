"""A case's result as plain data: what the HTML page and the pytest terminal table show.

A ``CaseResult`` holds live objects (the case, the observation, paths into an evidence directory
that may be pruned). ``summarize`` reads from it, once, everything a reader needs later: verdicts
with Pacemaker's reason, expectations, the prediction and the DC's plan, the guest's evidence,
notes, stand-ins, and the text of the pictures and summaries. The result is JSON-able, so that
pytest-xdist carries it from a worker to the controller inside a test report, and the page is
rendered from the same data whether it came from ``migration-harness run`` or from pytest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import CaseResult
from .report import guest_cell, verdict_cell

# Evidence read into the summary, by the name the tiers give it; the page shows each in its place.
PICTURES = {"graph-picture": "transition graph", "heartbeat-picture": "guest heartbeat"}
TEXTS = {"summary-text": "Pacemaker's transition summary", "verdict": "verdict.txt"}
# A picture or text larger than this is named, not inlined (a graph of thousands of actions).
MAX_INLINE = 4 * 1024 * 1024


@dataclass(frozen=True)
class VerdictSummary:
    """One resource's verdict, its expectation and how it was reached."""

    resource: str
    verdict: str
    text: str  # "vm1: migrate node1 -> node2 (due to ...)"
    reason: str | None  # Pacemaker's reason, as the scheduler states it
    expected: str | None  # None: no 'expect' rule matches
    why: str | None  # the expectation's own explanation
    passed: bool
    operations: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseSummary:
    """Everything shown about one case of one run (tier x release), as JSON-able values."""

    scenario: str
    file: str
    case: str  # style-trigger, e.g. order-only-move
    full_id: str  # seed-xen[order-only-move]
    style: str
    trigger: str
    tier: str
    release: str
    pacemaker: str
    status: str  # PASS FAIL ERROR SKIP NO-EXPECT
    verdict: str  # the table's cell
    expected: str
    trigger_text: str | None = None
    substitution: str | None = None
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0
    verdicts: tuple[VerdictSummary, ...] = ()
    prediction: tuple[str, ...] = ()  # live tiers: what the scheduler predicted on the same CIB
    planned: tuple[str, ...] = ()  # live tiers: the DC's own plan
    guest: str | None = None  # nested tier: the guest in a few words
    guest_detail: str | None = None
    guest_downtime_ms: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    unknown_agents: tuple[str, ...] = ()
    stand_ins: tuple[str, ...] = ()
    evidence: str | None = None  # the case's evidence directory (it may have been removed since)
    pictures: dict[str, str] = field(default_factory=dict)  # label -> SVG document text
    texts: dict[str, str] = field(default_factory=dict)  # label -> text
    explanation: str = ""  # CaseResult.explain(): the failure message

    @property
    def run(self) -> str:
        """Which run answered: tier, release and Pacemaker version (a column where several ran)."""
        return f"{self.tier}, {self.release} (Pacemaker {self.pacemaker})"

    @property
    def path(self) -> tuple[tuple[str, ...], ...]:
        """The path taken per resource, without reason texts: what an upgrade may change."""
        return tuple((v.resource, v.verdict, v.text.split(" (due to ")[0]) for v in self.verdicts)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseSummary:
        """The inverse of ``as_json`` (lists back to tuples), ignoring keys it does not know."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["verdicts"] = tuple(
            VerdictSummary(**{**v, "operations": tuple(v.get("operations", ()))}) for v in data.get("verdicts", ())
        )
        for name in ("prediction", "planned", "notes", "unknown_agents", "stand_ins"):
            values[name] = tuple(data.get(name, ()))
        return cls(**values)


def summarize(result: CaseResult) -> CaseSummary:
    """Read a case's result and the evidence it points to into a ``CaseSummary``."""
    observation = result.observation
    verdict, expected = verdict_cell(result)
    guest = getattr(observation, "guest", None)
    downtime = guest.downtime if guest is not None and guest.unbroken else None
    trigger_text = (observation.trigger if observation and observation.trigger else None) or (
        result.trigger.describe() if result.trigger else None
    )
    resources = result.case.scenario.resources
    return CaseSummary(
        scenario=result.case.scenario.name,
        file=str(result.case.scenario.path),
        case=result.case.id,
        full_id=result.case.full_id,
        style=result.case.style,
        trigger=result.case.trigger.name,
        tier=result.tier,
        release=result.release,
        pacemaker=str(result.version),
        status=result.status,
        verdict=verdict,
        expected=expected,
        trigger_text=trigger_text,
        substitution=observation.substitution if observation else None,
        skipped=result.skipped,
        error=result.error,
        seconds=round(result.seconds, 3),
        verdicts=tuple(
            VerdictSummary(
                resource=c.resource,
                verdict=c.verdict.verdict,
                text=c.verdict.describe(),
                reason=c.verdict.reason,
                expected=str(c.expected) if c.expected else None,
                why=c.expected.why if c.expected else None,
                passed=c.passed,
                operations=tuple(str(op) for op in c.verdict.operations),
            )
            for c in result.checks
        ),
        prediction=_describe(observation.prediction, resources) if observation else (),
        planned=_describe(observation.planned, resources) if observation else (),
        guest=guest_cell(result),
        guest_detail=guest.describe() if guest is not None else None,
        guest_downtime_ms=round(downtime * 1000, 1) if downtime is not None else None,
        phases={k: round(v, 3) for k, v in observation.seconds.items()} if observation else {},
        notes=tuple(observation.notes) if observation else (),
        unknown_agents=tuple(result.unknown_agents),
        stand_ins=tuple(result.stand_ins),
        evidence=str(result.casedir) if result.casedir else None,
        pictures=_read(observation.evidence if observation else {}, PICTURES),
        texts=_read(observation.evidence if observation else {}, TEXTS),
        explanation=result.explain() if result.failed else "",
    )


def _describe(outcome: Any, resources: list[str]) -> tuple[str, ...]:
    """Each resource's verdict in ``outcome`` (a prediction or a plan), or nothing without one."""
    if outcome is None:
        return ()
    return tuple(outcome[resource].describe() for resource in resources)


def _read(evidence: dict[str, Path], wanted: dict[str, str]) -> dict[str, str]:
    """The text of the wanted evidence files that exist, by label; an oversized one is named."""
    found: dict[str, str] = {}
    for name, label in wanted.items():
        path = evidence.get(name)
        if path is None or not path.is_file():
            continue
        size = path.stat().st_size
        found[label] = (
            path.read_text(errors="replace")
            if size <= MAX_INLINE
            else f"({path.name} is {size} bytes, too large to inline; see the evidence directory)"
        )
    return found
