"""The nested tier: the scenario on Vagrant + libvirt VMs running Xen dom0s with an iSCSI SAN.

up: a ``NestedLab`` of 2 or 3 dom0s and a SAN, or the run given as ``run`` (a cluster left up by
``migration-harness up --tier nested``: restored per case, never torn down). configure: every VM
back to the snapshot ``formed``; the test guest on every dom0 (its xl config, the harness's
heartbeat /init, a logical volume on the shared VG as its disk); the scenario in the case's style,
made real (``realize``), loaded into the live CIB; wait idle. trigger: snapshot the CIB and ask the
scheduler for its prediction; do it for real (``actions``) while ``xl list`` is polled on every
dom0; wait idle; verdicts from the operations pacemaker-controld logged on each node (``observe``),
checked against the guest's own heartbeat and the DC's saved scheduler inputs. A ``migrate``
verdict needs both Pacemaker's migrate path and an unbroken guest.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ... import cib as cibmod
from ...errors import BackendUnavailable, CaseSkipped, HarnessError
from ...outcome import Outcome
from ...prediction import active_on, configured_cib
from ...rundir import RunDir
from ...scenario import Scenario
from ...triggers import NODE_LEAVES, Resolved
from .. import live
from ..base import Backend, Observation, Settled
from . import actions, dom0info, hostcaps, judging, load, observe, poller, realize, settings
from .guest import heartbeat, xl, xlcfg
from .settings import VG

if TYPE_CHECKING:
    from .cluster import NestedLab
    from .ssh import Node

# A storage stack plus a guest starting, or a guest migrating, under software emulation: minutes.
SETTLE_TIMEOUT = 600.0
# After a restore, corosync re-forms within a token timeout or two; 180 s means it will not.
REFORM_TIMEOUT = 180.0
# The DC saves a scheduler input within seconds of a trigger, but a crash first waits for SBD's
# fencing (msgwait, tens of seconds under emulation).
TRANSITION_TIMEOUT = 240.0


@dataclass(frozen=True)
class NestedSettled(Settled):
    """The nested cluster at rest, with what the trigger needs to know of the guest."""

    period: float = 0.1  # the guest's heartbeat period (its kernel command line), seconds


@dataclass
class NestedObservation(Observation):
    guest: heartbeat.GuestEvidence | None = None
    history: xl.DomainHistory | None = None


class NestedBackend(Backend):
    name = "nested"
    concurrent = False
    can_attach = True

    def __init__(self, workdir: Path, *, run_dir: Path | None = None) -> None:
        super().__init__(workdir, run_dir=run_dir)
        self.lab: NestedLab | None = None
        self._fresh = False  # just formed: the first case needs no restore
        self._agents: set[str] | None = None
        self._cannot: dict[str, str | None] = {}
        self._dom0s: dict[str, dom0info.Dom0] = {}  # per node: release, Xen, Pacemaker

    @classmethod
    def sanity_check(cls, run_dir: Path | None = None) -> None:
        if run_dir is not None:
            return  # the run's own libvirtd already runs: nothing more is needed here
        hostcaps.sanity_check(isolated=True)

    def describe(self) -> str:
        dom0s = f"; dom0s: {dom0info.describe(self._dom0s)}" if self._dom0s else ""
        return f"nested: Vagrant + libvirt, Xen dom0 VMs + iSCSI SAN{dom0s}; {hostcaps.detect().describe()}"

    def facts(self, scenario: Scenario) -> dict[str, str]:
        return {"xen": dom0info.xen_fact(self._dom0s), "guest": scenario.guest.type}

    def _lab(self) -> NestedLab:
        if self.lab is None:
            raise HarnessError("the nested tier is not up")
        return self.lab

    # -- up / down -------------------------------------------------------------------------
    def up(self, nodes: int, dom0s: Mapping[str, str] | None = None) -> None:
        """A cluster of ``nodes`` dom0s, each on its release (``dom0s``; the others on the active
        release); the one up is kept when its identity (nodes and releases) is the one wanted."""
        from .cluster import NestedLab, dom0_release

        wanted = settings.wanted_identity(nodes, dom0_release(), dom0s)
        if self.lab is not None and self.lab.identity() == wanted:
            return
        if self.run_dir is not None:
            lab = NestedLab.attach(RunDir.open(self.run_dir))
            if lab.identity() != wanted:
                raise BackendUnavailable(
                    f"run {self.run_dir} has dom0s {settings.show_identity(lab.identity())}, "
                    f"the scenario needs {settings.show_identity(wanted)}",
                    hint="bring up a run that fits (migration-harness up --tier nested --nodes N --dom0s "
                    "node1=bookworm,node2=trixie), or leave out --run",
                )
            self.lab, self._fresh = lab, False
        else:
            from .front import mode

            mode()  # a bad MIGRATION_HARNESS_LIBVIRT fails before a run directory exists
            self.down()
            # The bring-up's minutes show on the session's terminal (under xdist: each worker's, by id).
            self.lab = NestedLab.create(nodes, RunDir.create("nested"), progress=self.progress, dom0s=dom0s)
            self._fresh = True
        self._agents = None
        releases = self.lab.releases()
        self._dom0s = {n.name: dom0info.read(n, releases.get(n.name, "")) for n in self.lab.nodes()}

    def up_for(self, scenario: Scenario) -> None:
        self.up(scenario.nodes, scenario.dom0s)

    def cannot_run(self, scenario: Scenario) -> str | None:
        if scenario.key not in self._cannot:
            self._cannot[scenario.key] = load.cannot_run(scenario, self.workdir / "precheck")
        return self._cannot[scenario.key]

    def down(self) -> None:
        if self.lab is not None and self.run_dir is None:
            self.lab.down()
        self.lab = None

    def _installed_agents(self, node: Node) -> set[str]:
        if self._agents is None:
            self._agents = dom0info.installed_agents(node)
        return self._agents

    # -- configure -------------------------------------------------------------------------
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> NestedSettled:
        refused = self.cannot_run(scenario)  # before a cluster is brought up for it
        if refused:
            raise CaseSkipped(refused)
        self.up_for(scenario)
        lab = self._lab()
        started = time.monotonic()
        casedir.mkdir(parents=True, exist_ok=True)
        vm = scenario.resources[0]
        first = lab.nodes()[0]
        configured, _unknown, _warned = configured_cib(scenario, style, casedir / "style")
        config = cibmod.read(configured).find("configuration")
        if config is None:
            raise HarnessError(f"{configured}: no <configuration> in the configured CIB")
        try:
            made = realize.realize(
                config, vm, scenario.topology, self._installed_agents(first), xlcfg.CONFIG, xlcfg.NAME, VG
            )
        except realize.Unrealizable as exc:
            raise CaseSkipped(f"nested tier: {exc.message}") from None
        options = load.cluster_options(scenario, made.notes)
        phases = live.Phases(progress=self.progress)
        settle_notes: list[str] = []
        snapshot = load.prepared_snapshot(scenario, made)
        prepared = snapshot in lab.snapshots()
        if prepared:
            # The storage stack up and the guest running, as an earlier style of this scenario left
            # them: only the constraints and meta attributes change, on the running guest.
            with phases("restore", f"restoring every VM from snapshot {snapshot} (storage up, guest running)"):
                lab.restore(snapshot)
                lab.wait_formed(timeout=REFORM_TIMEOUT)
            self._fresh = False
            with phases("load", f"applying style {style} to the running guest"):
                load.load(first, made, options)
            with phases("settle", "waiting for the cluster to settle with the style's constraints (idle)"):
                self._wait_idle(lab.plan.nodes, SETTLE_TIMEOUT, settle_notes)
        else:
            if not self._fresh:
                with phases("restore", "restoring every VM from the snapshot"):
                    lab.restore()
                    lab.wait_formed(timeout=REFORM_TIMEOUT)
            self._fresh = False
            with phases("guest", "installing the test guest on every dom0"):
                load.prepare_guest(lab, scenario)
            with phases("load", f"loading style {style} into the live CIB"):
                load.load(first, made, options)
            with phases("settle", "waiting for the storage stack and the guest to start (idle cluster)"):
                self._wait_idle(lab.plan.nodes, SETTLE_TIMEOUT, settle_notes)
        settled_path = casedir / "cib-settled.xml"
        settled_path.write_text(first.run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
        active = self.active(settled_path)
        failures = cibmod.failed_operations(cibmod.read(settled_path))
        if failures:
            raise HarnessError(
                f"the configuration did not settle cleanly on the nested cluster: {'; '.join(failures)}",
                hint="operations run slowly under software emulation: give start/stop operations the timeouts the "
                f"agents' metadata recommend (crm ra info <agent>); the CIB is {settled_path}",
            )
        if not active.get(vm):
            running = [f"{r}: {', '.join(n)}" for r, n in active.items()]
            raise HarnessError(
                f"{vm} did not start on the nested cluster (active: {'; '.join(running) or 'nothing'})",
                hint=f"see {settled_path} and the nodes' /var/log/pacemaker/pacemaker.log",
            )
        if not prepared:
            with phases("snapshot", f"snapshot {snapshot}: storage up and guest running, for the next styles"):
                lab.snapshot_save(snapshot)
        phases.seconds["configure"] = time.monotonic() - started
        phases.say(f"settled: {vm} on {', '.join(active[vm])}")
        return NestedSettled(
            list(lab.plan.nodes),
            settled_path,
            active,
            cibmod.read(settled_path),
            notes=tuple(made.notes + settle_notes),
            seconds=phases.seconds,
            period=scenario.guest.period,
        )

    @staticmethod
    def active(cib_path: Path) -> dict[str, list[str]]:
        """Where each resource runs, as the CIB at ``cib_path`` records it."""
        return active_on(cib_path, cib_path.parent / f"{cib_path.stem}-state")

    def _wait_idle(self, via: Sequence[str], timeout: float, notes: list[str] | None = None) -> float:
        """Until the DC is idle with nothing left to plan (``live.IDLE_SCRIPT``), asked of the first
        node of ``via`` that answers; returns seconds, what the script noted added to ``notes``."""
        started = time.monotonic()
        lab = self._lab()
        last = ""
        for name in via:
            try:
                result = lab.node(name).run(
                    ["sh", "-c", live.IDLE_SCRIPT, "wait-idle", str(int(timeout))], check=False, timeout=timeout + 60
                )
            except HarnessError as exc:
                last = exc.message
                continue
            said = live.idle_notes(result.stdout, result.rc)
            if said is not None:
                if notes is not None:
                    notes += said
                return time.monotonic() - started
            last = result.stdout.strip()
            break
        raise HarnessError(
            f"the nested cluster did not become idle in {timeout:.0f} s: {last}",
            hint="see the nodes' /var/log/pacemaker/pacemaker.log (migration-harness exec)",
        )

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> NestedObservation:
        lab = self._lab()
        casedir.mkdir(parents=True, exist_ok=True)
        phases = live.Phases(settled.seconds, progress=self.progress)
        period = settled.period if isinstance(settled, NestedSettled) else NestedSettled.period
        first = lab.nodes()[0]
        before = casedir / "cib-before.xml"
        with phases("predict", "the scheduler's prediction on the live CIB"):
            before.write_text(first.run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
            predicted, notes = live.predict(before, trigger, casedir / "prediction")
        notes = list(settled.notes) + notes
        gone = trigger.node if trigger.kind in NODE_LEAVES else None
        survivors = [n for n in lab.plan.nodes if n != gone]
        start = observe.TriggerStart.read(lab, settled.active.get(trigger.vm, []))
        if start.stale:
            notes.append(
                f"the guest was restarted before the trigger (while the style settled): {len(start.stale)} earlier "
                "boot(s) left out of the guest's evidence"
            )
        xl_poller = poller.XlPoller(lab, xlcfg.NAME, report=phases.say)
        xl_poller.start()
        try:
            start.triggered = time.time()
            with phases("trigger", f"trigger: {actions.describe(trigger)}"):
                actions.carry_out(lab, trigger)
            with phases("transition", "waiting for the DC's transition"):
                if trigger.kind != "none":
                    observe.wait_transition(lab, survivors, start.inputs, TRANSITION_TIMEOUT)
            with phases(
                "trigger-settle", "waiting for the cluster to settle (a migration takes minutes under emulation)"
            ):
                self._wait_idle(survivors, SETTLE_TIMEOUT, notes)
        finally:
            xl_poller.stop()
        seconds = phases.seconds
        seconds["trigger+settle"] = seconds["trigger"] + seconds["transition"] + seconds["trigger-settle"]
        phases.say("settled: reading what ran")
        return self._observe(
            settled,
            trigger,
            casedir,
            survivors,
            start,
            xl_poller.history,
            predicted,
            notes,
            seconds,
            period,
        )

    def _observe(
        self,
        settled: Settled,
        trigger: Resolved,
        casedir: Path,
        survivors: list[str],
        start: observe.TriggerStart,
        history: xl.DomainHistory,
        predicted: Outcome | None,
        notes: list[str],
        seconds: dict[str, float],
        period: float,
    ) -> NestedObservation:
        lab = self._lab()
        evidence: dict[str, Path] = {}
        logs = casedir / "logs"
        logs.mkdir(exist_ok=True)
        entries: list[live.Executed] = []
        beats: list[heartbeat.Beat] = []
        reached: list[str] = []
        # Every dom0 that answers, the one the trigger took down included: a fenced dom0 reboots and
        # rejoins, and the cluster may start the guest there again.
        collected = observe.collect_all({n: lab.node(n) for n in lab.plan.nodes}, start, logs)
        lost = judging.lost_nodes(collected)
        skews = dict(start.skews)
        for name, got in collected.items():
            if isinstance(got, HarnessError):
                notes.append(
                    f"{name} unreachable after the trigger ({got.message}): its operations and console are missing"
                )
                continue
            if got.rebooted:
                skews[name] = got.skew if got.skew is not None else skews.get(name, 0.0)
                notes.append(
                    f"{name} rebooted after the trigger: its log read from the trigger's time on (its clock "
                    f"{skews[name]:+.1f} s from the host's)"
                )
            entries += got.entries
            beats += got.beats
            evidence.update(got.evidence)
            reached.append(name)
        if not reached:
            raise HarnessError("no node of the nested cluster answers after the trigger")
        # The boot running at the trigger first (analyse() drops repeats); boots before it are not evidence.
        beats = start.beats + [b for b in beats if b.boot not in start.stale]
        entries.sort(key=lambda e: e.start)
        (casedir / "operations.tsv").write_text(observe.operations_table(entries, start.triggered, skews))
        evidence["operations"] = casedir / "operations.tsv"
        after = casedir / "cib-after.xml"
        after.write_text(lab.node(reached[0]).run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
        evidence["cib-after"] = after
        saved, missing = observe.saved_inputs(lab, reached, start.inputs, casedir / "pe-inputs")
        evidence["pe-inputs"] = casedir / "pe-inputs"
        notes += missing
        plan = live.planned(saved, trigger.vm, casedir / "transitions")
        notes += plan.notes
        outcome = live.observed_outcome(entries, settled.active, plan.summary)
        notes.extend(outcome.notes)
        vm = trigger.vm
        where_after = self.active(after).get(vm, [])
        outcome.verdicts[vm] = judging.died_with(outcome[vm], settled.active.get(vm, []), where_after, lost)
        on_now = set(where_after) | set(history.samples[-1].running_on(xlcfg.NAME) if history.samples else [])
        beats_now = observe.beating([lab.node(n) for n in sorted(on_now) if n in reached])
        guest = judging.judge_guest(beats, period, history, where_after, outcome, vm, notes, beats_now)
        verdict = outcome[vm]
        notes += live.judge(vm, verdict, entries, plan, predicted)
        migrate_seconds = observe.migration_seconds(entries, vm)
        if migrate_seconds is not None:
            seconds["migration"] = migrate_seconds
        if guest.unbroken and guest.downtime is not None:
            seconds["guest-downtime"] = guest.downtime
        described = actions.describe(trigger)
        evidence.update(
            judging.guest_evidence(casedir, beats, period, history, f"{vm}: {described}", guest, start.triggered)
        )
        evidence["verdict"] = live.write_verdict(
            casedir / "verdict.txt", described, verdict, predicted, plan, notes, guest=guest.describe(), seconds=seconds
        )
        notes.insert(0, guest.describe())
        return NestedObservation(
            outcome,
            evidence,
            notes,
            prediction=predicted,
            guest=guest,
            history=history,
            planned=plan.outcome,
            seconds=seconds,
            trigger=described,
        )
