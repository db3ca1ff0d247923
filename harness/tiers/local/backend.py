"""The local tier: the scenario on a real corosync + pacemaker cluster of namespaced nodes.

up: a ``LocalLab`` of 2 or 3 nodes (kept across scenarios; re-formed only for another node count).
configure: reset the previous scenario (no resources, no constraints, no history, every node back
and online), stand-in agents under the scenario's agent names, the configuration loaded
(``config``), wait idle, snapshot the CIB. trigger: snapshot, the scheduler's prediction on that
snapshot, the trigger done for real (``actions``), wait idle, verdicts from what ran (the
stand-ins' journal) judged against the prediction and the DC's plan (``harness.tiers.live``);
double-active resources and every divergence become notes.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ... import cib as cibmod
from ... import targets
from ...errors import BackendUnavailable, HarnessError, InputError, ToolMissing
from ...prediction import active_on
from ...rundir import RunDir
from ...runner import run, which
from ...scenario import Scenario
from ...scenariotypes import NodeAttribute
from ...triggers import MOVES, NODE_LEAVES, Resolved
from ...version import pacemaker_version
from .. import live
from ..base import Backend, Observation, Settled
from . import actions, config, observe, standin
from .cluster import LocalLab
from .netns import set_link
from .node import daemons

TOOLS = (
    "corosync",
    "corosync-keygen",
    "corosync-cfgtool",
    "pacemakerd",
    "crm",
    "cibadmin",
    "crmadmin",
    "crm_mon",
    "crm_resource",
    "crm_attribute",
    "crm_simulate",
    "unshare",
    "nsenter",
    "ip",
)
# Inside the first node: maintenance mode on, the configuration emptied (constraints first: a
# resource may not go while a constraint names it), each "node name lifetime" argument's attribute
# removed.
RESET_SCRIPT = r"""
set -e
crm_attribute -t crm_config -n maintenance-mode -v true
cibadmin --replace -o constraints --xml-text '<constraints/>'
cibadmin --replace -o resources --xml-text '<resources/>'
cibadmin --delete --xml-text '<rsc_defaults/>' 2>/dev/null || true
cibadmin --delete --xml-text '<op_defaults/>' 2>/dev/null || true
for attribute in "$@"; do
    set -- $attribute
    crm_attribute -N "$1" -n "$2" -l "$3" -D 2>/dev/null || true
done
"""
# The DC saves a scheduler input within a second of a trigger here; 60 s means it never noticed.
TRANSITION_TIMEOUT = 60.0


@dataclass
class LocalObservation(Observation):
    """An Observation with what only a live cluster shows."""

    double_active: dict[str, list[str]] = field(default_factory=dict)
    journal: list[live.Executed] = field(default_factory=list)


class LocalBackend(Backend):
    name = "local"
    concurrent = False

    def __init__(self, workdir: Path, *, run_dir: Path | None = None) -> None:
        super().__init__(workdir, run_dir=run_dir)
        self.lab: LocalLab | None = None
        # Node attributes the current scenario set, and nodes a standby trigger put in standby: the
        # next reset removes them.
        self._attributes: tuple[NodeAttribute, ...] = ()
        self._standby: set[str] = set()

    @classmethod
    def sanity_check(cls, run_dir: Path | None = None) -> None:
        if os.geteuid() != 0:
            raise BackendUnavailable(
                "the local tier needs root (namespaces, mounts, cluster daemons)",
                hint="run as root, e.g. sudo -E pytest --tier local",
            )
        try:
            for tool in TOOLS:
                which(tool)
        except ToolMissing as exc:
            raise BackendUnavailable(exc.message, hint=exc.hint) from None
        probe = run(
            ["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--mount-proc", "--", "true"],
            check=False,
            timeout=30,
        )
        if not probe.ok:
            raise BackendUnavailable(
                f"unshare cannot create namespaces here: {probe.stderr.strip()}",
                hint="run on a host (or a privileged container) that allows user, net, mount and PID namespaces",
            )
        try:
            import pwd

            pwd.getpwnam("hacluster")
        except KeyError:
            raise BackendUnavailable("user hacluster is missing", hint="apt-get install pacemaker") from None

    def describe(self) -> str:
        return f"local (real corosync + pacemaker in namespaces, Pacemaker {pacemaker_version()})"

    # -- cluster ---------------------------------------------------------------------------
    def up(self, nodes: int, names: Sequence[str] = ()) -> None:
        """A cluster of ``nodes`` nodes named ``names`` (or node1..N); the one up is kept if it fits."""
        if (
            self.lab is not None
            and self.lab.plan.nodes == nodes
            and (not names or self.lab.plan.node_names == list(names))
        ):
            return
        self.down()
        self.lab = LocalLab.create(nodes, RunDir.create("local"), names=names)

    def up_for(self, scenario: Scenario) -> None:
        self.up(scenario.nodes, scenario.node_names)

    def down(self) -> None:
        if self.lab is not None:
            lab, self.lab = self.lab, None
            lab.down()

    def _lab(self) -> LocalLab:
        if self.lab is None:
            raise HarnessError("the local cluster is not up")
        return self.lab

    # -- configure -------------------------------------------------------------------------
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled:
        phases = live.Phases()
        casedir.mkdir(parents=True, exist_ok=True)
        self.up(scenario.nodes, scenario.node_names)
        lab = self._lab()
        prepared = config.prepare(scenario, style, casedir)
        with phases("reset"):
            self.reset()
        agents = standin.install(prepared.specs, lab.ocf_dir, lab.standin_dir, prepared.migratable)
        standin.set_given_scores(lab.standin_dir, config.given_scores(scenario))
        first = lab.alive_nodes()[0]
        with phases("load"):
            config.load_sections(lab, prepared.sections, first)
            config.set_attributes(lab, prepared.attributes, first)
            self._attributes = prepared.attributes
            for name, value in scenario.options.items():
                lab.run_in(
                    first,
                    ["crm_attribute", "-t", "crm_config", "-n", name, "-v", str(value)],
                    what=f"cluster option {name}",
                )
        settle_notes: list[str] = []
        with phases("settle"):
            observe.wait_idle(lab, notes=settle_notes)
        settled_path = casedir / "cib-settled.xml"
        with phases("snapshot"):
            self._snapshot(settled_path)
            root = cibmod.read(settled_path)
            active = active_on(settled_path, casedir / "settled-state")
        scores, score_notes = config.promotion_scores(root, scenario)
        self._attributes += tuple(scores)  # the reset deletes them with the scenario's own
        for resource in scenario.resources:
            if resource.split(":")[0] not in cibmod.resource_ids(root):
                raise InputError(f"resource under test '{resource}' is not in the configuration", path=scenario.path)
        return Settled(
            list(lab.plan.node_names),
            settled_path,
            active,
            root,
            unknown_agents=sorted({*prepared.unknown_agents, *(a.name for a in agents if not a.installed)}),
            stand_ins=sorted(a.name for a in agents),
            notes=prepared.notes + _assumed_notes(agents) + tuple(settle_notes) + tuple(score_notes),
            seconds=phases.seconds,
        )

    def reset(self) -> None:
        """Back to an empty, healthy cluster: every node up and linked, no resources, no history."""
        lab = self._lab()
        standin.set_control(lab.standin_dir, [])
        for node in lab.plan.node_names:
            if not lab.node_alive(node) or set(daemons(lab.init(node))) != {"corosync", "pacemakerd"}:
                lab.restart_node(node)  # crashed, stopped, or its corosync killed: a fresh node
            else:
                set_link(lab.hub(), lab.plan, node, up=True)  # after a partition
        lab.wait_formed()
        first = lab.plan.node_names[0]
        # In maintenance mode the cluster acts on nothing: the old resources are dropped from the
        # configuration, their stand-ins' state wiped and their history refreshed away, instead of
        # stopping a whole storage stack one member after another. One script inside one node: the
        # tools' own start-up is what a reset costs, not a process per step on the host.
        attributes = [(a.node, a.name, a.lifetime) for a in self._attributes]
        attributes += [(node, "standby", "forever") for node in sorted(self._standby)]
        lab.run_in(first, ["sh", "-c", RESET_SCRIPT, "reset", *(" ".join(a) for a in attributes)], what="reset")
        self._attributes, self._standby = (), set()
        for node in lab.alive_nodes():
            standin.wipe_state(lab.init(node).pid)
        lab.run_in(first, ["crm_resource", "--refresh"], what="forget the previous scenario's history")
        observe.wait_idle(lab)
        lab.run_in(
            first, ["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-D"], what="maintenance mode off"
        )

    def _snapshot(self, path: Path) -> None:
        lab = self._lab()
        node = lab.alive_nodes()[0]
        path.write_text(lab.run_in(node, ["cibadmin", "-Q"], what="snapshot the CIB").stdout)

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> LocalObservation:
        lab = self._lab()
        phases = live.Phases(settled.seconds)
        casedir.mkdir(parents=True, exist_ok=True)
        before = casedir / "cib-before.xml"
        with phases("predict"):
            self._snapshot(before)
            predicted, notes = live.predict(before, trigger, casedir / "prediction")
        notes = list(settled.notes) + notes
        old_inputs = set(observe.pe_inputs(lab))
        survivors = [n for n in lab.plan.node_names if n != trigger.node] if trigger.kind in NODE_LEAVES else None
        t0 = time.time()
        if trigger.kind == "standby" and trigger.node:
            self._standby.add(trigger.node)
        with phases("trigger"):
            actions.carry_out(lab, trigger)
        with phases("transition"):
            if survivors and trigger.node:
                # A DC among the survivors stays idle until its membership notices the loss.
                observe.node_offline(lab, trigger.node, survivors)
            if trigger.kind != "none":
                self._wait_transition(old_inputs)
        with phases("trigger-settle"):
            observe.wait_idle(lab, via=survivors, notes=notes)
        with phases("observe"):
            entries = observe.window(observe.parse_journal(_read(lab.standin_dir / "journal")), t0)
            new_inputs = sorted((p for p in observe.pe_inputs(lab) if p not in old_inputs), key=_input_order)
            evidence, missing = self._artifacts(casedir, entries, new_inputs)
            notes += missing
            # A group or clone under test is judged by its first member (the verdicts are per member).
            target = targets.find(settled.cib, trigger.vm)
            vm = target.members[0] if target and target.kind != "primitive" and target.members else trigger.vm
            plan = live.planned(new_inputs, vm, casedir / "transitions")
            notes += plan.notes
            notes += _intermediate_move(settled, trigger, new_inputs)
            outcome = live.observed_outcome(entries, settled.active, plan.summary)
            verdict = outcome[vm]
            notes += outcome.notes
            notes += live.judge(vm, verdict, entries, plan, predicted)
            if "cib-after" in evidence:
                unseen = observe.unjournaled(cibmod.read(evidence["cib-after"]), entries, t0)
                if unseen:
                    notes.append("the CIB status records operations the journal lacks: " + ", ".join(unseen))
            doubles = observe.double_active(observe.running(lab), observe.clone_members(settled.cib))
            for resource, nodes in doubles.items():
                notes.append(f"DOUBLE-ACTIVE: {resource} runs on {', '.join(nodes)} at once")
            described = actions.describe(trigger)
            evidence["verdict"] = live.write_verdict(
                casedir / "verdict.txt", described, verdict, predicted, plan, notes, seconds=phases.seconds
            )
        return LocalObservation(
            outcome,
            evidence,
            notes,
            prediction=predicted,
            double_active=doubles,
            journal=entries,
            planned=plan.outcome,
            seconds=phases.seconds,
            trigger=described,
        )

    def _wait_transition(self, old_inputs: set[Path], timeout: float = TRANSITION_TIMEOUT) -> None:
        """Until the DC saved a scheduler input after the trigger (it has noticed the change)."""
        lab = self._lab()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set(observe.pe_inputs(lab)) - old_inputs:
                return
            time.sleep(observe.POLL)
        raise HarnessError(
            f"no transition after the trigger in {timeout:.0f} s",
            hint=f"see {lab.rundir.path}/node*/log-pacemaker/pacemaker.log",
        )

    def _artifacts(
        self, casedir: Path, entries: list[live.Executed], inputs: list[Path]
    ) -> tuple[dict[str, Path], list[str]]:
        """Copy the case's evidence; what could not be had is returned as notes, not dropped."""
        lab = self._lab()
        evidence: dict[str, Path] = {}
        notes: list[str] = []
        journal = casedir / "journal.tsv"
        journal.write_text("".join(str(e) + "\n" for e in entries))
        evidence["journal"] = journal
        after = casedir / "cib-after.xml"
        alive = lab.alive_nodes()
        if alive:
            result = lab.run_in(alive[0], ["cibadmin", "-Q"], check=False)
            if result.ok:
                after.write_text(result.stdout)
                evidence["cib-after"] = after
            else:
                notes.append(
                    f"no CIB after the trigger: cibadmin -Q on {alive[0]} exited {result.rc}: "
                    f"{result.stderr.strip()[-300:]}"
                )
        else:
            notes.append("no CIB after the trigger: no node alive")
        target = casedir / "pe-inputs"
        target.mkdir(exist_ok=True)
        for path in inputs:
            shutil.copyfile(path, target / f"{path.parent.parent.parent.name}-{path.name}")
        evidence["pe-inputs"] = target
        for node in lab.plan.node_names:
            dirs = lab.dirs(node)
            for label, log in (("pacemaker", dirs.pacemaker_log), ("corosync", dirs.corosync_log)):
                if log.exists():
                    copy = casedir / "logs" / f"{node}-{label}.log"
                    copy.parent.mkdir(exist_ok=True)
                    shutil.copyfile(log, copy)
                    evidence[f"{node}-{label}-log"] = copy
        return evidence, notes


def _intermediate_move(settled: Settled, trigger: Resolved, inputs: list[Path]) -> list[str]:
    """A configuration that already holds ``cli-prefer-VM`` (a pin left by ``crm resource move``, as
    SEAPATH's tooling places guests) is replaced by the trigger's move in two CIB updates; the DC
    may compute a transition on the CIB between them, without any preference. Said when it did."""
    if trigger.kind not in MOVES or not inputs:
        return []
    constraint = f"cli-prefer-{trigger.vm}"
    had = any(c.get("id") == constraint for c in settled.cib.iter("rsc_location"))
    first = cibmod.read(inputs[0])
    if not had or any(c.get("id") == constraint for c in first.iter("rsc_location")):
        return []
    return [
        f"live cluster: the configuration's own {constraint} was replaced by the move in two CIB updates, and "
        f"the DC's first transition ({inputs[0].name}) ran on the CIB between them, with no preference for "
        f"{trigger.vm}; the scheduler on a file CIB sees only the end state"
    ]


def _assumed_notes(agents: list[standin.Agent]) -> tuple[str, ...]:
    assumed = sorted(a.name for a in agents if a.assumed)
    if not assumed:
        return ()
    return (
        f"local tier: {', '.join(assumed)} absent here and unknown to the harness: stood in for with "
        "migrate_to/migrate_from because the configuration sets allow-migrate=true on it",
    )


def _input_order(path: Path) -> tuple[float, str]:
    return (path.stat().st_mtime, path.name)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""  # no stand-in has run an action yet
