"""The nested tier: the scenario on Vagrant + libvirt VMs running Xen dom0s with an iSCSI SAN.

up: a ``NestedLab`` of 2 or 3 dom0s and a SAN (harness/nested/), or the run given by
``$MIGRATION_HARNESS_RUN`` (a cluster left up by ``migration-harness up --tier nested``).
configure: every VM back to the snapshot ``formed``; the test guest on every dom0 (its xl config,
the harness's heartbeat /init, a logical volume on the shared VG as its disk); the scenario in the
case's style, made real (harness/nested/realize.py), loaded into the live CIB; wait idle.
trigger: snapshot the CIB and ask the simulate tier for its prediction; do it for real while
``xl list`` is polled on every dom0; wait idle; verdicts from the operations pacemaker-controld
logged on each node, checked against the guest's own heartbeat (same boot, counter unbroken,
downtime) and the DC's saved scheduler inputs. A ``migrate`` verdict needs both Pacemaker's migrate
path and an unbroken guest.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import cib as cibmod
from .. import simulator
from ..errors import BackendUnavailable, CaseSkipped, HarnessError
from ..guest import heartbeat, initramfs, picture, xl, xlcfg
from ..local.observe import IDLE_SCRIPT, SAVED_INPUT, JournalEntry, failed, journal_outcome
from ..nested import actions, hostcaps, pcmklog, realize
from ..nested.settings import VG
from ..outcome import Outcome, active_resources, summary_actions
from ..rundir import RunDir
from ..scenario import Scenario
from ..triggers import KINDS, Resolved
from .base import Backend, Observation, Settled
from .simulate import configured_cib, predict

if TYPE_CHECKING:
    from ..nested.cluster import NestedLab
    from ..nested.ssh import Node

RUN_ENV = "MIGRATION_HARNESS_RUN"
PENGINE = "/var/lib/pacemaker/pengine"
CONSOLE_GLOB = f"/var/log/xen/console/guest-{xlcfg.NAME}*.log"
SETTLE_TIMEOUT = 600.0  # a storage stack plus a guest starting under software emulation
POLL = 0.5


@dataclass
class NestedObservation(Observation):
    guest: heartbeat.GuestEvidence | None = None
    history: xl.DomainHistory | None = None


class NestedBackend(Backend):
    name = "nested"
    concurrent = False

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.lab: "NestedLab | None" = None
        self._attached = False  # a run someone else brought up: restored, never torn down
        self._fresh = False  # just formed: the first case needs no restore
        self._agents: set[str] | None = None
        self._xen: str | None = None
        self.adjustments: list[str] = []
        self.seconds: dict[str, float] = {}
        self.period = 0.1  # the configured guest's heartbeat period (its kernel command line)

    @classmethod
    def sanity_check(cls) -> None:
        if os.environ.get(RUN_ENV):
            return  # the run's own libvirtd already runs: nothing more is needed here
        hostcaps.sanity_check(isolated=True)

    def describe(self) -> str:
        xen = f", Xen {self._xen}" if self._xen else ""
        return f"nested: Vagrant + libvirt, Xen dom0 VMs + iSCSI SAN{xen}; {hostcaps.detect().describe()}"

    def facts(self, scenario: Scenario) -> dict[str, str]:
        return {"xen": self._xen or "", "guest": scenario.guest.type}

    def _lab(self) -> "NestedLab":
        if self.lab is None:
            raise HarnessError("the nested tier is not up")
        return self.lab

    # -- up / down -------------------------------------------------------------------------
    def up(self, nodes: int) -> None:
        from ..nested.cluster import NestedLab

        if self.lab is not None and len(self.lab.plan.nodes) == nodes:
            return
        given = os.environ.get(RUN_ENV)
        if given:
            lab = NestedLab.attach(RunDir.open(Path(given)))
            if len(lab.plan.nodes) != nodes:
                raise BackendUnavailable(f"run {given} has {len(lab.plan.nodes)} nodes, the scenario needs {nodes}",
                                         hint=f"unset {RUN_ENV}, or bring up a {nodes}-node run")
            self.lab, self._attached, self._fresh = lab, True, False
        else:
            self.down()
            self.lab = NestedLab.create(nodes, RunDir.create("nested"))
            self._attached, self._fresh = False, True
        self._xen = self._xen_version(self.lab.nodes()[0])

    def down(self) -> None:
        if self.lab is not None and not self._attached:
            self.lab.down()
        self.lab = None

    @staticmethod
    def _xen_version(node: "Node") -> str:
        out = node.run(["dpkg-query", "-W", "-f", "${Version}\n", "xen-hypervisor-common"], check=False).stdout
        match = re.match(r"\d+(\.\d+)+", out.strip())
        return match.group(0) if match else ""

    def _installed_agents(self, node: "Node") -> set[str]:
        if self._agents is None:
            out = node.run(["sh", "-c", "cd /usr/lib/ocf/resource.d && for p in *; do for a in \"$p\"/*; do "
                                        "[ -x \"$a\" ] && echo \"ocf:$p:${a#*/}\"; done; done"]).stdout
            self._agents = set(out.split())
        return self._agents

    # -- configure -------------------------------------------------------------------------
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled:
        lab = self._lab()
        started = time.monotonic()
        casedir.mkdir(parents=True, exist_ok=True)
        if len(scenario.resources) != 1:
            raise CaseSkipped("the nested tier runs one guest: the scenario must name one resource under test")
        vm = scenario.resources[0]
        first = lab.nodes()[0]
        configured, _unknown = configured_cib(scenario, style, casedir / "style")
        config = cibmod.read(configured).find("configuration")
        assert config is not None
        try:
            made = realize.realize(config, vm, scenario.topology, self._installed_agents(first),
                                   xlcfg.CONFIG, xlcfg.NAME, VG)
        except realize.Unrealizable as exc:
            raise CaseSkipped(f"nested tier: {exc.message}") from None
        self.adjustments = list(made.notes)
        self.seconds = {}
        if not self._fresh:
            self.seconds["restore"] = lab.restore()
            lab.wait_formed(timeout=180)
        self._fresh = False
        self._prepare_guest(scenario)
        self.period = scenario.guest.period
        self._load(first, made, scenario.options)
        self.seconds["idle-wait"] = self._wait_idle(lab.plan.nodes, SETTLE_TIMEOUT)
        settled_path = casedir / "cib-settled.xml"
        settled_path.write_text(first.run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
        settled = self.settled(settled_path)
        failures = cibmod.failed_operations(settled.cib)
        if failures:
            raise HarnessError(
                f"the configuration did not settle cleanly on the nested cluster: {'; '.join(failures)}",
                hint="operations run slowly under software emulation: give start/stop operations the timeouts the "
                     f"agents' metadata recommend (crm ra info <agent>); the CIB is {settled_path}")
        active = settled.active
        if not active.get(vm):
            failures = [f"{r}: {', '.join(n)}" for r, n in active.items()]
            raise HarnessError(f"{vm} did not start on the nested cluster (active: {'; '.join(failures) or 'nothing'})",
                               hint=f"see {settled_path} and the nodes' /var/log/pacemaker/pacemaker.log")
        self.seconds["configure"] = time.monotonic() - started
        return settled

    def settled(self, cib_path: Path) -> Settled:
        """The cluster at rest as the CIB at ``cib_path`` records it (where each resource runs)."""
        state = simulator.simulate(cib_path, cib_path.parent / f"{cib_path.stem}-state", run_actions=False,
                                   save_output=False)
        return Settled(list(self._lab().plan.nodes), cib_path, active_resources(state.result), cibmod.read(cib_path))

    def _prepare_guest(self, scenario: Scenario) -> None:
        """On every dom0: the guest's xl config and initramfs; once on the shared VG: its disk."""
        lab = self._lab()
        config = xlcfg.render(scenario.guest, xlcfg.Disk(VG)).encode()
        overlay = initramfs.overlay()
        for node in lab.nodes():
            node.put("/tmp/mh-guest.cfg", config, 0o644)
            node.put("/tmp/mh-init.cpio.gz", overlay, 0o644)
            node.run(["sh", "-c", f"install -m 0644 /tmp/mh-guest.cfg {xlcfg.CONFIG} && "
                                  f"cat {xlcfg.BOX_INITRD} /tmp/mh-init.cpio.gz > {xlcfg.INITRD}"],
                     what=f"{node.name}: install the test guest")
        first = lab.nodes()[0]
        if not first.run(["lvs", f"{VG}/{xlcfg.NAME}"], check=False).ok:
            first.run(["lvcreate", "--yes", "--activate", "n", "-L", f"{xlcfg.LV_MIB}M", "-n", xlcfg.NAME, VG],
                      what="the guest's disk on the shared VG")

    def _load(self, node: "Node", made: realize.Realized, options: dict[str, str]) -> None:
        live = ET.fromstring(node.run(["cibadmin", "-Q", "-o", "resources"], what="read the resources").stdout)
        resources = ET.Element("resources")
        for element in live:  # the fencing resource of the formed cluster stays
            resources.append(element)
        for element in made.resources:
            resources.append(element)
        for section, element in (("resources", resources), ("constraints", made.constraints)):
            node.put(f"/tmp/mh-{section}.xml", ET.tostring(element), 0o644)
            node.run(["cibadmin", "--replace", "-o", section, "--xml-file", f"/tmp/mh-{section}.xml"],
                     what=f"load the scenario's {section}")
        for name, value in options.items():
            node.run(["crm_attribute", "-t", "crm_config", "-n", name, "-v", str(value)], what=f"cluster option {name}")

    def _wait_idle(self, via: list[str], timeout: float) -> float:
        started = time.monotonic()
        lab = self._lab()
        last = ""
        for name in via:
            try:
                result = lab.node(name).run(["sh", "-c", IDLE_SCRIPT, "wait-idle", str(int(timeout))],
                                            check=False, timeout=timeout + 60)
            except HarnessError as exc:
                last = exc.message
                continue
            if result.ok:
                return time.monotonic() - started
            last = result.stdout.strip()
            break
        raise HarnessError(f"the nested cluster did not become idle in {timeout:.0f} s: {last}",
                           hint="see the nodes' /var/log/pacemaker/pacemaker.log (migration-harness exec)")

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> NestedObservation:
        lab = self._lab()
        casedir.mkdir(parents=True, exist_ok=True)
        notes = list(self.adjustments)
        base_kind = KINDS[trigger.kind].predicted_as or trigger.kind
        first = lab.nodes()[0]
        before = casedir / "cib-before.xml"
        before.write_text(first.run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
        prediction: Outcome | None = None
        try:
            prediction = predict(before, replace(trigger, kind=base_kind), casedir / "prediction").outcome
        except HarnessError as exc:
            notes.append(f"no prediction: {exc.message}")
        if base_kind != trigger.kind:
            notes.append(f"fault '{actions.describe(trigger)}': the prediction is the scheduler's for '{base_kind}'")
        gone = trigger.node if base_kind in {"crash", "stop"} or trigger.kind in {"corosync-kill", "partition"} else None
        survivors = [n for n in lab.plan.nodes if n != gone]
        offsets = {n: self._log_size(lab.node(n)) for n in lab.plan.nodes}
        # The guest's beats so far: a node that dies with the trigger takes its console log along,
        # and without them a guest started afresh elsewhere would look like one unbroken boot.
        before_beats = [b for n in lab.plan.nodes for b in heartbeat.parse(self._console(lab.node(n)), n)]
        inputs = {n: self._pe_inputs(lab.node(n)) for n in lab.plan.nodes}
        poller = _XlPoller(lab, xlcfg.NAME)
        poller.start()
        started = time.monotonic()
        try:
            actions.carry_out(lab, trigger)
            if trigger.kind != "none":
                self._wait_transition(survivors, inputs, timeout=240)
            idle = self._wait_idle(survivors, SETTLE_TIMEOUT)
        finally:
            poller.stop()
        seconds = {"restore": self.seconds.get("restore", 0.0), "configure": self.seconds.get("configure", 0.0),
                   "trigger+settle": time.monotonic() - started, "idle-wait": idle}
        return self._observe(settled, trigger, casedir, survivors, offsets, inputs, poller.history,
                             prediction, notes, seconds, before_beats)

    @staticmethod
    def _log_size(node: "Node") -> int:
        out = node.run(["stat", "-c", "%s", pcmklog.LOG], check=False).stdout.strip()
        return int(out) if out.isdigit() else 0

    @staticmethod
    def _pe_inputs(node: "Node") -> set[str]:
        out = node.run(["ls", "-1", PENGINE], check=False, timeout=30).stdout
        return {name for name in out.split() if SAVED_INPUT.match(name)}

    def _wait_transition(self, survivors: list[str], before: dict[str, set[str]], timeout: float) -> None:
        """Until a surviving node saved a scheduler input after the trigger (the DC noticed)."""
        lab = self._lab()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in survivors:
                try:
                    if self._pe_inputs(lab.node(name)) - before.get(name, set()):
                        return
                except HarnessError:
                    continue  # fenced meanwhile: another survivor answers
            time.sleep(1)
        raise HarnessError(f"no transition on {', '.join(survivors)} in {timeout:.0f} s after the trigger")

    def _observe(self, settled: Settled, trigger: Resolved, casedir: Path, survivors: list[str],
                 offsets: dict[str, int], inputs: dict[str, set[str]], history: xl.DomainHistory,
                 prediction: Outcome | None, notes: list[str], seconds: dict[str, float],
                 before_beats: list[heartbeat.Beat]) -> NestedObservation:
        lab = self._lab()
        evidence: dict[str, Path] = {}
        logs = casedir / "logs"
        logs.mkdir(exist_ok=True)
        entries: list[JournalEntry] = []
        beats: list[heartbeat.Beat] = []
        reached: list[str] = []
        for name in survivors:
            try:
                entries += self._collect(lab.node(name), name, offsets[name], logs, evidence, beats)
                reached.append(name)
            except HarnessError as exc:
                # Fenced by the cluster after the trigger (a failed stop, say): what it ran is gone with it.
                notes.append(f"{name} unreachable after the trigger ({exc.message}): its operations and console are missing")
        if not reached:
            raise HarnessError("no node of the nested cluster answers after the trigger")
        survivors = reached
        beats = before_beats + beats  # the boot before the trigger first; analyse() drops repeats
        entries.sort(key=lambda e: e.start)
        (casedir / "operations.tsv").write_text("".join(str(e) + "\n" for e in entries))
        evidence["operations"] = casedir / "operations.tsv"
        after = casedir / "cib-after.xml"
        after.write_text(lab.node(survivors[0]).run(["cibadmin", "-Q"], what="snapshot the CIB").stdout)
        evidence["cib-after"] = after
        planned, summary = self._planned(trigger, casedir, survivors, inputs, evidence)
        outcome = journal_outcome(entries, settled.active, summary)
        notes.extend(outcome.notes)
        for entry in failed(entries):
            notes.append(f"failed: {entry}")
        where_after = self.settled(after).active.get(trigger.vm, [])
        if outcome[trigger.vm].verdict == "stay" and where_after != settled.active.get(trigger.vm, []):
            # Nothing ran for it on a surviving node, yet it is gone: it died with a fenced node.
            gone_from = ", ".join(settled.active.get(trigger.vm, [])) or "?"
            outcome.verdicts[trigger.vm] = replace(
                outcome[trigger.vm], verdict="stop" if not where_after else "start",
                from_node=gone_from, to_node=where_after[0] if where_after else None,
                reason=f"it died with {gone_from}")
        guest = heartbeat.analyse(beats, self.period)
        notes.extend(guest.notes)
        vm = trigger.vm
        verdict = outcome[vm]
        if verdict.verdict == "migrate" and not guest.unbroken:
            reason = "no heartbeat seen" if not guest.beats else "the guest rebooted"
            notes.append(f"{vm}: Pacemaker took the migrate path, but {reason}: not a live migration")
            outcome.verdicts[vm] = replace(verdict, verdict="move", reason=f"migrate path, but {reason}")
            verdict = outcome.verdicts[vm]
        for when, nodes in history.double_runs():
            notes.append(f"DOUBLE-RUN: guest {xlcfg.NAME} running on {', '.join(nodes)} at once ({when - history.samples[0].time:.1f} s after the trigger)")
        if planned is not None and planned[vm].verdict != verdict.verdict:
            notes.append(f"{vm}: the DC planned '{planned[vm].verdict}' in its first transition, but what ran is '{verdict.verdict}'")
        if prediction is not None and prediction[vm].verdict != verdict.verdict:
            notes.append(f"DIVERGENCE {vm}: simulate predicted '{prediction[vm].describe()}', "
                         f"the cluster did '{verdict.describe()}'")
        migrate_seconds = _migration_seconds(entries, vm)
        if migrate_seconds is not None:
            seconds["migration"] = migrate_seconds
        if guest.unbroken and guest.downtime is not None:
            seconds["guest-downtime"] = guest.downtime
        series = casedir / "heartbeat.tsv"
        series.write_text("".join(f"{b.node}\t{b.boot}\t{b.n}\t{b.up}\n" for b in beats))
        evidence["heartbeat"] = series
        if beats:
            svg = casedir / "heartbeat.svg"
            picture.heartbeat_svg(beats, self.period, svg, title=f"{vm}: {actions.describe(trigger)}")
            evidence["heartbeat-picture"] = svg
        placement = casedir / "xl-history.txt"
        placement.write_text("".join(f"{t - (history.samples[0].time if history.samples else t):7.1f}s  {where}\n"
                                     for t, where in history.placement()))
        evidence["xl-history"] = placement
        summary_file = casedir / "verdict.txt"
        summary_file.write_text(
            f"trigger: {actions.describe(trigger)}\n"
            f"verdict (what ran, checked against the guest): {verdict.describe()}\n"
            f"guest: {guest.describe()}\n"
            f"prediction (simulate on the live CIB): {prediction[vm].describe() if prediction is not None else '-'}\n"
            f"planned (the DC's first transition): {planned[vm].describe() if planned is not None else '-'}\n"
            + "".join(f"time: {k} {v:.2f} s\n" for k, v in seconds.items())
            + "".join(f"note: {n}\n" for n in notes)
        )
        evidence["verdict"] = summary_file
        notes.insert(0, guest.describe())
        return NestedObservation(outcome, evidence, notes, prediction=prediction, guest=guest, history=history,
                                 planned=planned, seconds=seconds)

    def _collect(self, node: "Node", name: str, offset: int, logs: Path, evidence: dict[str, Path],
                 beats: list[heartbeat.Beat]) -> list[JournalEntry]:
        """One node's pacemaker log since the trigger, other logs, and the guest's console."""
        text = node.run(["tail", "-c", f"+{offset + 1}", pcmklog.LOG], timeout=60).stdout
        (logs / f"{name}-pacemaker.log").write_text(text)
        evidence[f"{name}-pacemaker-log"] = logs / f"{name}-pacemaker.log"
        for label, command in (("corosync", ["tail", "-n", "300", "/var/log/corosync/corosync.log"]),
                               ("xl-dmesg", ["xl", "dmesg"]),
                               ("xen", ["sh", "-c", "tail -n 200 /var/log/xen/xl-*.log 2>/dev/null"])):
            (logs / f"{name}-{label}.log").write_text(node.run(command, check=False, timeout=60).stdout)
        console = self._console(node)
        (logs / f"{name}-guest-console.log").write_text(console)
        evidence[f"{name}-guest-console"] = logs / f"{name}-guest-console.log"
        beats += heartbeat.parse(console, name)
        return pcmklog.parse(text)

    @staticmethod
    def _console(node: "Node") -> str:
        return node.run(["sh", "-c", f"for f in {CONSOLE_GLOB}; do [ -f \"$f\" ] && cat \"$f\"; done; true"],
                        check=False, timeout=60).stdout

    def _planned(self, trigger: Resolved, casedir: Path, survivors: list[str], before: dict[str, set[str]],
                 evidence: dict[str, Path]) -> tuple[Outcome | None, list]:
        """The DC's saved scheduler inputs since the trigger, replayed: its first plan for the VM."""
        lab = self._lab()
        target = casedir / "pe-inputs"
        target.mkdir(exist_ok=True)
        saved: list[Path] = []
        for name in survivors:
            node = lab.node(name)
            try:
                listing = self._pe_inputs(node)
            except HarnessError:
                continue
            new = sorted(listing - before.get(name, set()), key=lambda n: int(SAVED_INPUT.match(n).group(2)))
            for filename in new:
                data = node.run(["base64", "-w0", f"{PENGINE}/{filename}"], check=False, timeout=60).stdout
                path = target / f"{name}-{filename}"
                path.write_bytes(base64.b64decode(data))
                saved.append(path)
        evidence["pe-inputs"] = target
        (casedir / "transitions").mkdir(exist_ok=True)
        for number, path in enumerate(saved):
            try:
                sim = simulator.simulate(path, casedir / "transitions" / f"{number:02d}-{path.name}",
                                         run_actions=False, save_output=False)
            except HarnessError:
                continue
            outcome = sim.outcome()
            if trigger.vm in outcome:
                return outcome, summary_actions(sim.result)
        return None, []


def _migration_seconds(entries: list[JournalEntry], vm: str) -> float | None:
    """How long the successful migrate_to ran (``xl migrate`` from the source), by the source's log."""
    done = [e for e in entries if e.resource == vm and e.action == "migrate_to" and e.rc == 0]
    return done[-1].end - done[-1].start if done else None


class _XlPoller:
    """``xl list`` on every dom0 every POLL seconds, in a thread of its own SSH connections."""

    def __init__(self, lab: "NestedLab", guest: str) -> None:
        self.nodes = {name: lab.fresh_node(name) for name in lab.plan.nodes}
        self.history = xl.DomainHistory(guest)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="xl-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for node in self.nodes.values():
            node.close()

    def _loop(self) -> None:
        dead: set[str] = set()
        while not self._stop.is_set():
            seen: dict[str, str] = {}
            for name, node in self.nodes.items():
                if name in dead:
                    continue
                try:
                    result = node.run(["xl", "list"], check=False, timeout=10)
                except HarnessError:
                    dead.add(name)  # crashed or cut off: its domains are gone with it
                    continue
                if result.ok:  # xl can fail while a migration holds its lock: no reading, not "gone"
                    seen[name] = result.stdout
            if seen:
                self.history.add(time.time(), seen)
            self._stop.wait(POLL)
