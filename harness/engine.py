"""Scenario -> tier -> operations -> verdict: runs cases on a backend and judges them.

Tier-independent: resolving a trigger against the settled cluster (which node the VM is on, where
it goes), comparing each resource's verdict with the scenario's expectation, and explaining a
mismatch with the path taken, Pacemaker's reason and where the evidence is.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import cib as cibmod
from . import notrunning, refusal, release, targets
from .errors import CaseSkipped, HarnessError, InputError
from .outcome import Verdict
from .scenario import Case, Expectation, Scenario
from .styles import STYLES
from .tiers.base import Backend, Observation, Settled
from .triggers import MOVES, Resolved, Trigger
from .version import Version, in_range


@dataclass
class Check:
    resource: str
    verdict: Verdict
    expected: Expectation | None

    @property
    def passed(self) -> bool:
        """A verdict without an expectation does not pass: the scenario must say what it expects."""
        return self.expected is not None and self.expected.accepts(self.verdict.verdict)


@dataclass
class CaseResult:
    case: Case
    tier: str
    version: Version
    trigger: Resolved | None
    observation: Observation | None
    checks: list[Check] = field(default_factory=list)
    casedir: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    unknown_agents: list[str] = field(default_factory=list)
    stand_ins: list[str] = field(default_factory=list)
    release: str = ""
    skipped: str | None = None  # why the case cannot run here (e.g. the style needs a newer Pacemaker)
    facts: dict[str, str] = field(default_factory=dict)  # the tier's facts of the run (nested: xen, guest)

    @property
    def passed(self) -> bool:
        """Ran, and every verdict is what the scenario expects (a skipped case did not pass)."""
        return self.skipped is None and self.error is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> bool:
        return self.skipped is None and not self.passed

    @property
    def status(self) -> str:
        if self.skipped:
            return "SKIP"
        if self.error:
            return "ERROR"
        if any(c.expected is None for c in self.checks):
            return "NO-EXPECT"
        return "PASS" if self.passed else "FAIL"

    def explain(self) -> str:
        """What went wrong, in the words an administrator needs: path, reason, evidence."""
        lines = [f"{self.case.full_id} on the {self.tier} tier ({self.release}, Pacemaker {self.version})"]
        if self.skipped:
            lines.append(f"  skipped: {self.skipped}")
        if self.observation and self.observation.trigger:
            lines.append(f"  trigger: {self.observation.trigger}")
        elif self.trigger:
            lines.append(f"  trigger: {self.trigger.describe()}")
        if self.error:
            lines.append(f"  error: {self.error}")
        for check in self.checks:
            verdict = check.verdict
            mark = "ok" if check.passed else "MISMATCH"
            expected = (
                f"expected {check.expected}"
                if check.expected
                else "no 'expect' rule matches this style, trigger and version: add one"
            )
            lines.append(f"  {mark}: {verdict.describe()}; {expected}")
            if not check.passed or verdict.operations:
                ops = ", ".join(str(op) for op in verdict.operations) or "none"
                lines.append(f"    operations: {ops}")
            if check.expected and check.expected.why:
                lines.append(f"    expectation (line {check.expected.line}): {check.expected.why}")
        if self.observation:
            for note in self.observation.notes:
                lines.append(f"  note: {note}")
        if self.unknown_agents:
            lines.append(f"  agents unknown on this system (not run by this tier): {', '.join(self.unknown_agents)}")
        if self.stand_ins:
            lines.append(f"  stood in for by the harness's agents: {', '.join(self.stand_ins)}")
        if self.casedir and self.casedir.is_dir():
            lines.append(f"  evidence: {self.casedir}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        observation = self.observation
        evidence = str(self.casedir) if self.casedir else None
        return {
            "scenario": self.case.scenario.name,
            "file": str(self.case.scenario.path),
            "case": self.case.id,
            "style": self.case.style,
            "trigger": self.case.trigger.kind,
            "trigger_args": self.case.trigger.arguments(),
            "trigger_text": observation.trigger
            if observation and observation.trigger
            else (self.trigger.describe() if self.trigger else None),
            "substitution": observation.substitution if observation else None,
            "tier": self.tier,
            "release": self.release,
            "pacemaker": str(self.version),
            "facts": self.facts,
            "guest": guest_words(observation),
            "status": self.status,
            "skipped": self.skipped,
            "error": self.error,
            "verdicts": [
                {
                    **c.verdict.as_json(),
                    "expected": list(c.expected.verdicts) if c.expected else None,
                    "passed": c.passed,
                }
                for c in self.checks
            ],
            "notes": list(observation.notes) if observation else [],
            "unknown_agents": self.unknown_agents,
            "stand_ins": self.stand_ins,
            "evidence": evidence if evidence and Path(evidence).exists() else None,
        }


def guest_words(observation: Observation | None) -> str | None:
    """The nested tier's guest evidence in a few words (None where the tier has no real guest)."""
    guest = getattr(observation, "guest", None)
    if guest is None:
        return None
    if not guest.beats:
        return "no heartbeat"
    if guest.stopped:
        return f"rebooted ({len(guest.boots)} boots), then stopped" if len(guest.boots) > 1 else "stopped"
    if guest.silent_at_end:
        return f"rebooted ({len(guest.boots)} boot(s) seen, silent at the end)"
    if guest.unbroken:
        return f"kept running, down {guest.downtime * 1000:.0f} ms" if guest.downtime is not None else "kept running"
    return f"rebooted ({len(guest.boots)} boots)"


def resolve(trigger: Trigger, scenario: Scenario, settled: Settled) -> Resolved:
    """Fill in the trigger's names from the settled cluster: the VM's node, the move target."""
    vm = trigger.resource if trigger.kind in MOVES | {"ban"} and trigger.resource else scenario.resources[0]
    target = targets.find(settled.cib, vm)
    if target is None:
        known = cibmod.resource_ids(settled.cib)
        raise InputError(
            f"trigger '{trigger.kind}' names resource '{vm}', which the configuration does not define",
            path=scenario.path,
            hint="known resources: " + ", ".join(sorted(known)),
        )
    where = targets.where(target, settled.active)
    if not where:
        members = f" (its members {', '.join(target.members)} are all stopped)" if target.kind != "primitive" else ""
        raise HarnessError(
            f"{scenario.path}: '{vm}' is not running after the cluster settled{members}, so nothing can move it",
            hint=notrunning.hint(settled.cib_path, settled.cib, vm),
        )
    vm_node = where[0]
    others = [n for n in settled.nodes if n not in where]
    if trigger.node is not None and trigger.node not in settled.nodes:
        raise InputError(
            f"trigger '{trigger.kind}' names unknown node '{trigger.node}'",
            path=scenario.path,
            hint="nodes: " + ", ".join(settled.nodes),
        )
    node: str | None
    resource: str | None = None
    if trigger.kind in MOVES:
        if trigger.node is not None and trigger.node in where:
            raise InputError(
                f"trigger '{trigger.kind}' moves '{vm}' to {trigger.node}, where it already runs after the "
                "cluster settled: nothing would move",
                path=scenario.path,
                hint="name another node: " + (", ".join(others) or "(it runs everywhere)"),
            )
        if not others:
            raise HarnessError(f"{scenario.path}: '{vm}' runs on every node: there is no node to move it to")
        node = trigger.node or others[0]
    elif trigger.kind == "none":
        node = None
    elif trigger.kind == "dependency-failure":
        node = trigger.node or vm_node
        resource = trigger.resource or _dependency(scenario, settled)
        if resource not in {p.id for p in cibmod.primitives(settled.cib)}:
            raise InputError(
                f"trigger dependency-failure names '{resource}', which is not a primitive of the configuration",
                path=scenario.path,
            )
    else:
        node = trigger.node or vm_node
    return Resolved(trigger.kind, vm, vm_node, resource, node)


def _dependency(scenario: Scenario, settled: Settled) -> str:
    """Default failing dependency: the last primitive inside the storage clone of the topology."""
    if scenario.topology is None:
        raise InputError(
            "trigger dependency-failure needs 'resource:' (the primitive that fails) when the scenario has no topology",
            path=scenario.path,
        )
    storage, vm = scenario.topology.storage, scenario.topology.vm
    primitives = cibmod.primitives(settled.cib)
    inside = _primitives_within(settled, storage)
    if not inside:
        # The group style un-clones the storage: fail its primitives inside the VM's group.
        group = next((p.parent for p in primitives if p.id == vm), None)
        inside = [p.id for p in primitives if group and p.parent == group and p.id != vm]
    if not inside:
        raise InputError(f"no primitive found inside '{storage}' to fail", path=scenario.path)
    return inside[-1]


def _primitives_within(settled: Settled, container: str) -> list[str]:
    """Ids of the primitives inside the resource ``container``, in configuration order."""
    resources = settled.cib.find(cibmod.RESOURCES)
    for element in resources.iter() if resources is not None else ():
        if element.get("id") == container:
            return [p.get("id", "") for p in element.iter("primitive")]
    return []


def run_case(backend: Backend, case: Case, casedir: Path, version: Version) -> CaseResult:
    started = time.monotonic()
    scenario = case.scenario
    result = CaseResult(case, backend.name, version, None, None, casedir=casedir, release=release.active().label)
    style = STYLES.get(case.style)
    if style and style.pacemaker and not in_range(version, style.pacemaker):
        result.skipped = f"style {style.name} needs Pacemaker {style.pacemaker}, this is {version}"
        return result
    try:
        settled = backend.configure(scenario, case.style, casedir)
        result.unknown_agents = list(settled.unknown_agents)
        result.stand_ins = list(settled.stand_ins)
        result.facts = {k: v for k, v in backend.facts(scenario).items() if v}
        resolved = resolve(case.trigger, scenario, settled)
        result.trigger = resolved
        observation = backend.trigger(settled, resolved, casedir)
        result.observation = observation
        if scenario.dom0s and backend.name != "nested":
            observation.notes.append(dom0s_note(scenario.dom0s, backend.name))
        if scenario.not_applied:
            observation.notes.append(not_applied_note(scenario.not_applied))
        observation.notes.extend(scenario.config_notes)
        facts = {**backend.facts(scenario), **_trigger_facts(resolved)}
        for resource in scenario.resources:
            target = targets.find(settled.cib, resource)
            keys = list(observation.outcome) + list(settled.active)
            for key in targets.verdict_keys(target, keys) if target else [resource]:
                verdict = observation.outcome[key]
                container = {"container": target.id} if target and target.kind != "primitive" else {}
                expected = case.expected(key, backend.name, version, {**facts, **container})
                result.checks.append(Check(key, verdict, expected))
        _explain_stay(resolved, settled, observation)
    except InputError:
        raise
    except CaseSkipped as exc:
        result.skipped = exc.message
    except HarnessError as exc:
        result.error = str(exc)
        _keep_error(casedir, result.error)
    result.seconds = time.monotonic() - started
    return result


def _keep_error(casedir: Path, error: str) -> None:
    """A case that failed before its tier wrote anything still has its directory: the error, with
    the paths it names (the settled CIB a configure error points to), is its evidence."""
    casedir.mkdir(parents=True, exist_ok=True)
    (casedir / "error.txt").write_text(error + "\n")


def not_applied_note(commands: tuple[str, ...]) -> str:
    """The pasted commands the configuration's tool was not given (they are no configuration)."""
    return "not applied (session or live-cluster commands, not configuration): " + "; ".join(commands)


def dom0s_note(dom0s: dict[str, str], tier: str) -> str:
    """What a scenario's per-node dom0 releases mean on a tier that runs one Pacemaker."""
    named = ", ".join(f"{node}: {release}" for node, release in dom0s.items())
    return (
        f"nested dom0s ({named}) apply to the nested tier only: on the {tier} tier every node runs one "
        "Pacemaker. In a mixed cluster the DC's scheduler decides, and the DC is not always the newest: an "
        "upgraded node that rejoins leaves the DC in place (measured: a 2.1.5 DC beside a 3.0.0 node). Run this "
        "tier with --release of each release to see both schedulers' answers"
    )


def _trigger_facts(trigger: Resolved) -> dict[str, str]:
    """What an expect rule may match of the trigger: its node and the resource it acts on."""
    facts = {"node": trigger.node or ""}
    acted_on = trigger.resource or (trigger.vm if trigger.kind in MOVES | {"ban"} else None)
    if acted_on:
        facts["trigger_resource"] = acted_on
    return facts


def _explain_stay(trigger: Resolved, settled: Settled, observation: Observation) -> None:
    """A move the scheduler did not carry out says which constraint kept the resource home."""
    if trigger.kind not in MOVES or trigger.node is None:
        return
    target = targets.find(settled.cib, trigger.vm)
    first = target.members[0] if target and target.members else trigger.vm
    if observation.outcome[first].verdict == "stay":
        observation.notes.append(refusal.stayed_note(settled.cib, trigger.vm, trigger.node))


def case_dirname(case: Case) -> str:
    """The case's evidence directory: keyed by its scenario file, not only by ``name:``, so that two
    files with one name never share a directory."""
    return re.sub(r"[^\w.-]+", "-", f"{case.scenario.key}-{case.id}")


def run_cases(
    backend: Backend,
    cases: Iterable[Case],
    workdir: Path,
    version: Version,
    *,
    jobs: int | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run cases in order (concurrently on tiers that allow it); results in the cases' order."""
    cases = list(cases)

    def one(case: Case) -> CaseResult:
        result = run_case(backend, case, workdir / case_dirname(case), version)
        if progress:
            progress(result)
        return result

    if backend.concurrent and len(cases) > 1:
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            # Settle every (scenario, style) first, side by side: the backend caches them, and the
            # triggers of one style would otherwise queue behind its single settling.
            first = {(c.scenario.path, c.style): c for c in cases}
            list(pool.map(lambda c: _warm(backend, c, workdir), first.values()))
            return list(pool.map(one, cases))
    return [one(case) for case in cases]


def _warm(backend: Backend, case: Case, workdir: Path) -> None:
    # The case itself runs configure again and reports the error where it belongs.
    with contextlib.suppress(HarnessError):
        backend.configure(case.scenario, case.style, workdir / case_dirname(case))
