"""The simulate tier: Pacemaker's own scheduler (crm_simulate) on a file CIB. No cluster at all.

configure: an empty CIB for N nodes -> the scenario's configuration applied with crmsh
(``CIB_file``) -> crm_simulate until nothing is left to do (everything started).
trigger: the trigger written into a copy of that CIB (crm_resource, crm_attribute) or passed to
crm_simulate (--node-fail, --op-inject) -> one transition -> graph, summary, dot picture -> verdicts.
A settled CIB is computed once per scenario and style and shared by its triggers.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from .. import cib as cibmod
from .. import cache, crmsh, release, simulator
from ..errors import BackendUnavailable, HarnessError, InputError, ToolMissing
from ..outcome import active_resources
from ..runner import run, which
from ..scenario import Scenario
from ..triggers import KINDS, Resolved
from ..version import pacemaker_version
from .base import Backend, Observation, Settled

MAX_SETTLE_ROUNDS = 10


class SimulateBackend(Backend):
    name = "simulate"
    concurrent = True

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.nodes: list[str] = []
        self._settled: dict[tuple[str, str, int], Settled | HarnessError] = {}
        self._locks: dict[tuple[str, str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    @classmethod
    def sanity_check(cls) -> None:
        try:
            for tool in ("crm_simulate", "crm_resource", "crm_attribute", "cibadmin"):
                if release.tool_path(tool) is None:
                    which(tool)
        except ToolMissing as exc:
            raise BackendUnavailable(str(exc.message), hint=exc.hint) from None

    def describe(self) -> str:
        return f"simulate (crm_simulate, Pacemaker {pacemaker_version()}, release {release.active().label})"

    def up(self, nodes: int) -> None:
        self.nodes = cibmod.node_names(nodes)

    # -- configure -------------------------------------------------------------------------
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled:
        key = (str(scenario.path), style, scenario.nodes)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._settled:
                styledir = self.workdir / "settled" / f"{scenario.name}-{style}"
                styledir.mkdir(parents=True, exist_ok=True)
                try:
                    self._settled[key] = self._settle(scenario, style, styledir)
                except HarnessError as exc:
                    self._settled[key] = exc
            found = self._settled[key]
            if isinstance(found, HarnessError):
                raise found
            return found

    def _settle(self, scenario: Scenario, style: str, styledir: Path) -> Settled:
        nodes = cibmod.node_names(scenario.nodes)
        configured, unknown = configured_cib(scenario, style, styledir)
        current = configured
        for round_ in range(MAX_SETTLE_ROUNDS):
            sim = simulator.simulate(
                current, styledir / f"settle-{round_}", node_up=nodes if round_ == 0 else ()
            )
            assert sim.cib_out is not None
            current = sim.cib_out
            if not sim.has_actions():
                break
        else:
            raise HarnessError(
                f"{scenario.path}: style {style}: the cluster never settles: after "
                f"{MAX_SETTLE_ROUNDS} transitions the scheduler still has actions",
                hint=f"see {styledir}",
            )
        active = active_resources(sim.result, "revised_cluster_status")
        settled_path = styledir / "cib-settled.xml"
        shutil.copyfile(current, settled_path)
        root = cibmod.read(settled_path)
        for resource in scenario.resources:
            if resource not in cibmod.resource_ids(root):
                raise InputError(
                    f"resource under test '{resource}' is not in the configuration",
                    path=scenario.path,
                    hint="'resources' lists ids defined by the configuration",
                )
        return Settled(nodes, settled_path, active, root, unknown_agents=unknown)

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> Observation:
        casedir.mkdir(parents=True, exist_ok=True)
        fault = KINDS[trigger.kind].predicted_as
        if fault is not None:
            # The scheduler cannot see an agent failing or a link going down: it predicts the
            # trigger the fault looks like, and says so.
            observation = self.trigger(settled, replace(trigger, kind=fault), casedir)
            observation.notes.append(
                f"the scheduler cannot model '{trigger.kind}': this is its prediction for '{fault}'"
            )
            return observation
        before = casedir / "cib-before.xml"
        shutil.copyfile(settled.cib_path, before)
        triggered = casedir / "cib-trigger.xml"
        shutil.copyfile(settled.cib_path, triggered)
        env = {"CIB_file": str(triggered)}
        node_fail: list[str] = []
        inject: list[str] = []
        if trigger.kind == "move":
            run(["crm_resource", "--move", "-r", trigger.vm, "-N", trigger.node], env=env, what="move")
        elif trigger.kind == "ban":
            run(["crm_resource", "--ban", "-r", trigger.vm, "-N", trigger.node], env=env, what="ban")
        elif trigger.kind == "standby":
            run(["crm_attribute", "-N", trigger.node, "-n", "standby", "-v", "on"], env=env)
        elif trigger.kind == "stop":
            run(
                ["crm_attribute", "-N", trigger.node, "-n", "shutdown", "-l", "reboot",
                 "-v", str(int(time.time()))],
                env=env,
            )
        elif trigger.kind == "crash":
            node_fail.append(str(trigger.node))
        elif trigger.kind == "dependency-failure":
            assert trigger.resource is not None
            interval = monitor_interval_ms(settled.cib, trigger.resource)
            inject.append(f"{trigger.resource}_monitor_{interval}@{trigger.node}=7")
        sim = simulator.simulate(
            triggered, casedir / "transition", node_fail=node_fail, inject=inject, dot=True
        )
        evidence = {
            "cib-before": before,
            "cib-trigger": triggered,
            "graph": sim.graph_path,
            "summary": sim.result_path,
        }
        if sim.dot_path:
            evidence["graph-dot"] = sim.dot_path
        if sim.cib_out:
            evidence["cib-after"] = sim.cib_out
        outcome = sim.outcome()
        return Observation(outcome, evidence, list(outcome.notes))


def render_evidence(observation: Observation) -> None:
    """Add the slow, human-facing evidence: Pacemaker's text summary and a picture of the graph."""
    triggered = observation.evidence.get("cib-trigger")
    if triggered is None:
        return
    summary_xml = observation.evidence.get("summary")
    node_fail: list[str] = []
    inject: list[str] = []
    if summary_xml is not None:
        request = ET.parse(summary_xml).getroot().get("request", "")
        words = request.split()
        for flag, target in (("--node-fail", node_fail), ("--op-inject", inject)):
            target.extend(words[i + 1] for i, w in enumerate(words[:-1]) if w == flag)
    text = simulator.text_summary(triggered, node_fail=node_fail, inject=inject)
    summary_txt = triggered.with_name("transition.summary.txt")
    summary_txt.write_text(text)
    observation.evidence["summary-text"] = summary_txt
    dot = observation.evidence.get("graph-dot")
    if dot is not None:
        picture = simulator.render_picture(dot, "svg")
        if picture:
            observation.evidence["graph-picture"] = picture


def monitor_interval_ms(root: ET.Element, primitive: str) -> int:
    """The interval of the primitive's recurring monitor (10 s if it defines none)."""
    for prim in root.iter("primitive"):
        if prim.get("id") != primitive:
            continue
        for op in prim.iterfind("operations/op"):
            if op.get("name") == "monitor" and parse_interval_ms(op.get("interval", "0")) > 0:
                return parse_interval_ms(op.get("interval", "0"))
    return 10000


def parse_interval_ms(text: str) -> int:
    text = text.strip().lower()
    units = {"ms": 1, "msec": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix) and text[: -len(suffix)].strip().isdigit():
            return int(text[: -len(suffix)]) * units[suffix]
    return int(text) * 1000 if text.isdigit() else 0


def _load_raw_xml(configured: Path, scenario: Scenario) -> None:
    """Put the scenario's raw CIB XML (a whole <cib> or a <configuration>) into the empty CIB."""
    try:
        given = ET.fromstring(scenario.cib or "")
    except ET.ParseError as exc:
        raise InputError(
            f"the scenario's CIB XML does not parse: {exc}",
            path=scenario.path,
            line=scenario.config_line + exc.position[0] - 1,
        ) from None
    config = given.find("configuration") if given.tag == "cib" else given
    if config is None or config.tag != "configuration":
        raise InputError(
            f"raw XML must be a <cib> or a <configuration>, not <{given.tag}>",
            path=scenario.path,
            line=scenario.config_line,
        )
    root = cibmod.read(configured)
    target = root.find("configuration")
    assert target is not None
    for section in config:
        if section.tag in {"nodes", "crm_config"}:
            continue
        old = target.find(section.tag)
        if old is not None:
            target.remove(old)
        target.append(section)
    cibmod.write(root, configured)
    result = run(["crm_verify", "--xml-file", str(configured)], check=False)
    if not result.ok and "error" in result.stderr.lower():
        raise InputError(
            "the scenario's CIB XML is not a valid configuration:\n  " + result.stderr.strip()[-1500:],
            path=scenario.path,
            line=scenario.config_line,
        )


def predict(cib_path: Path, trigger: Resolved, casedir: Path) -> Observation:
    """The scheduler's prediction for ``trigger`` on a live cluster's CIB snapshot (the second oracle).

    The other tiers call this just before they trigger for real, and report any divergence.
    """
    casedir.mkdir(parents=True, exist_ok=True)
    root = cibmod.read(cib_path)
    state = simulator.simulate(cib_path, casedir / "state", run_actions=False, save_output=False)
    settled = Settled(cibmod.cib_node_names(root), cib_path, active_resources(state.result), root)
    return SimulateBackend(casedir).trigger(settled, trigger, casedir)


def configured_cib(scenario: Scenario, style: str, styledir: Path) -> tuple[Path, list[str]]:
    """The scenario in ``style`` as a file CIB (no status): its path and the agents crmsh did not know."""
    nodes = cibmod.node_names(scenario.nodes)
    styledir.mkdir(parents=True, exist_ok=True)
    configured = styledir / "cib-configured.xml"
    cibmod.empty_cib(configured, nodes, scenario.options)
    unknown: list[str] = []
    if scenario.cib is not None:
        _load_raw_xml(configured, scenario)
        return configured, unknown
    text = scenario.render(style)
    (styledir / "configuration.crm").write_text(text)
    # crmsh costs about a second per load; its result depends only on these inputs.
    digest = cache.key(configured.read_text(), text, release.identity("crm"), release.identity("crm_simulate"))
    hit = cache.get("crm-load", digest, configured)
    if hit is not None:
        return configured, list(hit["unknown_agents"])
    unknown = crmsh.apply(
        configured, text, crmsh.Source(scenario.path, scenario.config_line, scenario.configuration or "")
    )
    cache.put("crm-load", digest, configured, {"unknown_agents": unknown})
    return configured, unknown

