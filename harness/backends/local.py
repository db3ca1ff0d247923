"""The local tier: the scenario on a real corosync + pacemaker cluster of namespaced nodes.

up: a ``LocalLab`` of 2 or 3 nodes (kept across scenarios; re-formed only for another node count).
configure: reset the previous scenario (no resources, no constraints, no history, every node back
and online), stand-in agents under the scenario's agent names, the rendered configuration through
crmsh inside a node, wait idle, snapshot the CIB.
trigger: snapshot, ask the simulate tier for its prediction on that snapshot, do it for real, wait
idle, verdicts from what ran (the stand-ins' journal, classified like a transition graph) checked
against the DC's plan (its saved scheduler inputs); double-active resources and every divergence
from the prediction become notes.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .. import cib as cibmod
from .. import crmsh, simulator
from ..errors import BackendUnavailable, CommandFailed, HarnessError, InputError, ToolMissing
from ..local import faults, observe, standin
from ..local.faults import FAULTS
from ..local.cluster import LocalLab
from ..local.netns import set_link
from ..local.node import daemons
from ..outcome import Outcome, active_resources, summary_actions
from ..rundir import RunDir
from ..runner import run, which
from ..scenario import Scenario
from ..triggers import Resolved
from ..version import pacemaker_version
from .base import Backend, Observation, Settled
from .simulate import predict

TOOLS = ("corosync", "corosync-keygen", "corosync-cfgtool", "pacemakerd", "crm", "cibadmin", "crmadmin",
         "crm_mon", "crm_resource", "crm_attribute", "crm_simulate", "unshare", "nsenter", "ip")
LOADED_SECTIONS = ("resources", "constraints", "rsc_defaults", "op_defaults")
# A monitor's start-delay holds the whole transition open that long (60 s in the seed scenario)
# and plays no part in the scheduler's choice between migration and stop/start: the local tier
# drops it and says so in every verdict.
_START_DELAY = re.compile(r"""\s+start-delay=("[^"]*"|'[^']*'|\S+)""")


@dataclass
class LocalObservation(Observation):
    """An Observation with what only a live cluster shows."""

    double_active: dict[str, list[str]] = field(default_factory=dict)
    journal: list[observe.JournalEntry] = field(default_factory=list)


class LocalBackend(Backend):
    name = "local"
    concurrent = False

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.lab: LocalLab | None = None
        self.seconds: dict[str, float] = {}
        self.adjustments: list[str] = []
        # (scenario file, style) -> the configuration sections crmsh made of it, to load again
        # without crmsh (seconds per start) when the next trigger of that style needs it.
        self._loaded: dict[tuple[str, str], dict[str, str]] = {}

    @classmethod
    def sanity_check(cls) -> None:
        if os.geteuid() != 0:
            raise BackendUnavailable("the local tier needs root (namespaces, mounts, cluster daemons)",
                                     hint="run as root, e.g. sudo -E pytest --tier local")
        try:
            for tool in TOOLS:
                which(tool)
        except ToolMissing as exc:
            raise BackendUnavailable(exc.message, hint=exc.hint) from None
        probe = run(["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--mount-proc", "--", "true"],
                    check=False, timeout=30)
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
    def up(self, nodes: int) -> None:
        if self.lab is not None and self.lab.plan.nodes == nodes:
            return
        self.down()
        started = time.monotonic()
        rundir = RunDir.create("local")
        self.lab = LocalLab.create(nodes, rundir)
        self.seconds["formation"] = time.monotonic() - started

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
        started = time.monotonic()
        casedir.mkdir(parents=True, exist_ok=True)
        self.up(scenario.nodes)
        lab = self._lab()
        text = scenario.render(style) if scenario.cib is None else None
        self.adjustments = []
        specs = standin.agents_of(text, scenario.cib, scenario.path)
        if text is not None:
            (casedir / "configuration.crm").write_text(text)
            text, rewritten = standin.rewrite_non_ocf(text)
            if rewritten:
                self.adjustments.append(
                    f"local tier: {', '.join(rewritten)} run as ocf:{standin.NON_OCF_PROVIDER}:<same name> stand-ins "
                    "(no systemd or init scripts inside a node); the scheduler treats the classes alike"
                )
        if text is not None and _START_DELAY.search(text):
            self.adjustments.append(
                "local tier: monitor start-delay dropped (it only delays the first monitor, and would hold "
                "every transition open that long); the scheduler's choice does not depend on it"
            )
            text = _START_DELAY.sub("", text)
        self.reset()
        agents = standin.install(specs, lab.ocf_dir, lab.standin_dir)
        first = lab.alive_nodes()[0]
        key = (str(scenario.path), style)
        if key in self._loaded:
            self._load_sections(self._loaded[key], first)
        elif text is not None:
            self._apply_crm(scenario, text, casedir, first)
            self._loaded[key] = self._sections(first)
        else:
            self._apply_xml(scenario, first)
        for name, value in scenario.options.items():
            lab.run_in(first, ["crm_attribute", "-t", "crm_config", "-n", name, "-v", str(value)],
                       what=f"cluster option {name}")
        observe.wait_idle(lab)
        settled_path = casedir / "cib-settled.xml"
        self._snapshot(settled_path)
        root = cibmod.read(settled_path)
        for resource in scenario.resources:
            if resource not in cibmod.resource_ids(root):
                raise InputError(f"resource under test '{resource}' is not in the configuration", path=scenario.path)
        self.seconds["configure"] = time.monotonic() - started
        return Settled(
            list(lab.plan.node_names), settled_path, self._active(settled_path, casedir), root,
            unknown_agents=sorted(a.name for a in agents if not a.installed),
            stand_ins=sorted(a.name for a in agents),
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
        # stopping a whole storage stack one member after another.
        lab.run_in(first, ["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-v", "true"],
                   what="maintenance mode on")
        for section in ("constraints", "resources"):
            # Constraints first: a resource may not go while a constraint still names it.
            lab.run_in(first, ["cibadmin", "--replace", "-o", section, "--xml-text", f"<{section}/>"],
                       what=f"empty the {section}")
        for section in ("rsc_defaults", "op_defaults"):
            lab.run_in(first, ["cibadmin", "--delete", "--xml-text", f"<{section}/>"], check=False)
        for node in lab.plan.node_names:
            lab.run_in(node, ["find", "/run/harness-standin-state", "-mindepth", "1", "-delete"],
                       what=f"wipe the stand-ins' state on {node}")
            for lifetime in ("forever", "reboot"):
                lab.run_in(first, ["crm_attribute", "-N", node, "-n", "standby", "-l", lifetime, "-D"], check=False)
        lab.run_in(first, ["crm_resource", "--refresh"], what="forget the previous scenario's history")
        observe.wait_idle(lab)
        lab.run_in(first, ["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-D"],
                   what="maintenance mode off")

    def _apply_crm(self, scenario: Scenario, text: str, casedir: Path, node: str) -> None:
        lab = self._lab()
        staged = lab.rundir.path / "configuration.crm"
        staged.write_text(text if text.endswith("\n") else text + "\n")
        result = lab.run_in(node, ["crm", "-F", "configure", "load", "update", str(staged)], check=False, timeout=120)
        if result.ok:
            return
        # crmsh's errors inside the node lack the scenario's line numbers: the host's crmsh
        # against a scratch file CIB says which line of the scenario file is wrong.
        scratch = casedir / "cib-syntax-check.xml"
        cibmod.empty_cib(scratch, lab.plan.node_names)
        crmsh.apply(scratch, text, crmsh.Source(scenario.path, scenario.config_line, scenario.configuration or ""))
        raise CommandFailed(list(result.argv), result.rc, result.stdout, result.stderr,
                            what=f"{scenario.path}: crmsh inside {node} refused the configuration")

    def _sections(self, node: str) -> dict[str, str]:
        config = ET.fromstring(self._lab().run_in(node, ["cibadmin", "-Q", "-o", "configuration"]).stdout)
        return {
            section: ET.tostring(element, encoding="unicode")
            for section in LOADED_SECTIONS
            if (element := config.find(section)) is not None
        }

    def _load_sections(self, sections: dict[str, str], node: str) -> None:
        lab = self._lab()
        for section, xml in sections.items():
            if section in {"resources", "constraints"}:
                lab.run_in(node, ["cibadmin", "--replace", "-o", section, "--xml-text", xml], what=f"load {section}")
            else:  # removed by reset(): created anew
                lab.run_in(node, ["cibadmin", "--create", "-o", "configuration", "--xml-text", xml],
                           what=f"load {section}")

    def _apply_xml(self, scenario: Scenario, node: str) -> None:
        given = ET.fromstring(scenario.cib or "")
        for prim in given.iter("primitive"):
            if prim.get("class") in {"systemd", "lsb", "service", "upstart"}:
                prim.set("class", "ocf")
                prim.set("provider", standin.NON_OCF_PROVIDER)
        for op in given.iter("op"):
            if op.attrib.pop("start-delay", None) is not None and not self.adjustments:
                self.adjustments.append("local tier: monitor start-delay dropped (see the crm case)")
        config = given.find("configuration") if given.tag == "cib" else given
        if config is None:
            raise InputError("raw XML must be a <cib> or a <configuration>", path=scenario.path)
        self._load_sections({
            section: ET.tostring(element, encoding="unicode")
            for section in LOADED_SECTIONS
            if (element := config.find(section)) is not None
        }, node)

    def _snapshot(self, path: Path) -> None:
        lab = self._lab()
        node = lab.alive_nodes()[0]
        path.write_text(lab.run_in(node, ["cibadmin", "-Q"], what="snapshot the CIB").stdout)

    def _active(self, cib_path: Path, casedir: Path) -> dict[str, list[str]]:
        state = simulator.simulate(cib_path, casedir / "settled-state", run_actions=False, save_output=False)
        return active_resources(state.result)

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> LocalObservation:
        lab = self._lab()
        casedir.mkdir(parents=True, exist_ok=True)
        notes: list[str] = list(self.adjustments)
        before = casedir / "cib-before.xml"
        self._snapshot(before)
        base_kind = FAULTS.get(trigger.kind, trigger.kind)
        prediction: Outcome | None = None
        try:
            base = Resolved(base_kind, trigger.vm, trigger.vm_node, trigger.resource, trigger.node)
            prediction = predict(before, base, casedir / "prediction").outcome
        except HarnessError as exc:
            notes.append(f"no prediction: {exc.message}")
        if trigger.kind in FAULTS:
            notes.append(f"fault '{faults.describe(trigger)}': the prediction is the scheduler's for '{base_kind}'")
        old_inputs = set(observe.pe_inputs(lab))
        survivors = [n for n in lab.plan.node_names if n != trigger.node] if base_kind in {"crash", "stop"} else None
        t0 = time.time()
        started = time.monotonic()
        faults.carry_out(lab, trigger)
        if survivors and trigger.node:
            # A DC among the survivors stays idle until its membership notices the loss.
            observe.node_offline(lab, trigger.node, survivors)
        if trigger.kind != "none":
            self._wait_transition(old_inputs, survivors)
        idle = observe.wait_idle(lab, via=survivors)
        settle_seconds = time.monotonic() - started
        return self._observe(settled, trigger, casedir, t0, old_inputs, prediction, notes,
                             {"trigger+settle": settle_seconds, "idle-wait": idle}, survivors)

    def _wait_transition(self, old_inputs: set[Path], survivors: list[str] | None, timeout: float = 60) -> None:
        """Until the DC saved a scheduler input after the trigger (it has noticed the change)."""
        lab = self._lab()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set(observe.pe_inputs(lab)) - old_inputs:
                return
            time.sleep(observe.POLL)
        raise HarnessError(f"no transition after the trigger in {timeout:.0f} s",
                           hint=f"see {lab.rundir.path}/node*/log-pacemaker/pacemaker.log")

    def _observe(self, settled: Settled, trigger: Resolved, casedir: Path, t0: float, old_inputs: set[Path],
                 prediction: Outcome | None, notes: list[str], seconds: dict[str, float],
                 survivors: list[str] | None) -> LocalObservation:
        lab = self._lab()
        journal_all = observe.parse_journal(_read(lab.standin_dir / "journal"))
        entries = observe.window(journal_all, t0)
        new_inputs = sorted((p for p in observe.pe_inputs(lab) if p not in old_inputs), key=_input_order)
        evidence = self._artifacts(casedir, entries, new_inputs)
        planned: Outcome | None = None
        summary = []
        (casedir / "transitions").mkdir(exist_ok=True)
        for number, path in enumerate(new_inputs):
            sim = simulator.simulate(path, casedir / "transitions" / f"{number:02d}-{path.name}",
                                     run_actions=False, save_output=False)
            outcome = sim.outcome()
            if planned is None and trigger.vm in outcome:
                planned, summary = outcome, summary_actions(sim.result)
        outcome = observe.journal_outcome(entries, settled.active, summary)
        vm_verdict = outcome[trigger.vm]
        notes.extend(outcome.notes)
        for entry in observe.failed(entries):
            notes.append(f"failed: {entry}")
        if vm_verdict.verdict == "migrate":
            ran = {e.action for e in entries if e.resource == trigger.vm and e.rc == 0}
            if not {"migrate_to", "migrate_from"} <= ran:
                notes.append(f"{trigger.vm}: verdict migrate without migrate_to + migrate_from in the journal")
        if planned is not None and planned[trigger.vm].verdict != vm_verdict.verdict:
            notes.append(f"{trigger.vm}: the DC planned '{planned[trigger.vm].verdict}' in its first transition, "
                         f"but what ran is '{vm_verdict.verdict}'")
        if prediction is not None and prediction[trigger.vm].verdict != vm_verdict.verdict:
            notes.append(f"DIVERGENCE {trigger.vm}: simulate predicted '{prediction[trigger.vm].describe()}', "
                         f"the cluster did '{vm_verdict.describe()}'")
        if "cib-after" in evidence:
            missing = observe.unjournaled(cibmod.read(evidence["cib-after"]), entries, t0)
            if missing:
                notes.append("the CIB status records operations the journal lacks: " + ", ".join(missing))
        doubles = observe.double_active(observe.running(lab), observe.clone_members(settled.cib))
        for resource, nodes in doubles.items():
            notes.append(f"DOUBLE-ACTIVE: {resource} runs on {', '.join(nodes)} at once")
        summary_file = casedir / "verdict.txt"
        summary_file.write_text(
            f"trigger: {faults.describe(trigger)}\n"
            f"verdict (what ran): {vm_verdict.describe()}\n"
            f"prediction (simulate on the live CIB): {prediction[trigger.vm].describe() if prediction is not None else '-'}\n"
            f"planned (the DC's first transition): {planned[trigger.vm].describe() if planned is not None else '-'}\n"
            + "".join(f"note: {n}\n" for n in notes)
        )
        evidence["verdict"] = summary_file
        return LocalObservation(outcome, evidence, notes, prediction=prediction, double_active=doubles,
                                journal=entries, planned=planned, seconds=seconds)

    def _artifacts(self, casedir: Path, entries: list[observe.JournalEntry], inputs: list[Path]) -> dict[str, Path]:
        lab = self._lab()
        evidence: dict[str, Path] = {}
        journal = casedir / "journal.tsv"
        journal.write_text("".join(str(e) + "\n" for e in entries))
        evidence["journal"] = journal
        after = casedir / "cib-after.xml"
        try:
            self._snapshot(after)
            evidence["cib-after"] = after
        except (HarnessError, IndexError):
            pass
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
        return evidence


def _input_order(path: Path) -> tuple[float, str]:
    return (path.stat().st_mtime, path.name)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
