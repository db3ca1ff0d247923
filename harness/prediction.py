"""What Pacemaker's scheduler does with a scenario, on a file CIB: no cluster at all.

``configured_cib``: an empty CIB for the scenario's nodes with its configuration applied (crmsh,
cached; or raw XML). ``transition``: one trigger applied to a settled CIB and the one transition the
scheduler computes for it, classified into verdicts. The simulate tier is these two plus settling
and caching; the live tiers call ``predict`` on a snapshot of their live CIB just before they
trigger for real (the second oracle), so no tier needs another tier's code.
"""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from . import cache, cibverify, crmsh, hostnames, legacyschema, pcsload, refusal, release, simulator
from . import cib as cibmod
from .errors import HarnessError, InputError
from .ocf import OCF_ERR_GENERIC, OCF_NOT_RUNNING
from .outcome import active_resources, graph_operations
from .runner import run
from .scenario import Scenario
from .tiers.base import Observation, Settled
from .triggers import Resolved, cluster_command

# A primitive without a recurring monitor of its own: the injected failure names a 10 s monitor
# (the operation key needs an interval; the scheduler reacts to the failure alike).
DEFAULT_MONITOR_MS = 10000


def transition(settled: Settled, trigger: Resolved, casedir: Path) -> Observation:
    """The trigger applied to the settled CIB, then one scheduler transition, as verdicts."""
    casedir.mkdir(parents=True, exist_ok=True)
    kind = trigger.substitute or trigger.kind
    before = casedir / "cib-before.xml"
    shutil.copyfile(settled.cib_path, before)
    triggered = casedir / "cib-trigger.xml"
    shutil.copyfile(settled.cib_path, triggered)
    env = {"CIB_file": str(triggered)}
    node_fail: list[str] = []
    inject: list[str] = []
    command = cluster_command(Resolved(kind, trigger.vm, trigger.vm_node, trigger.resource, trigger.node))
    if command is not None:
        result = run(command, env=env, check=False, what=f"apply trigger {kind} to the file CIB")
        if not result.ok:
            raise refusal.command_refused(
                result, f"trigger {trigger.describe()}", settled.cib, trigger.vm, str(trigger.node)
            )
    if kind == "stop":
        # A clean shutdown is the node's 'shutdown' attribute; the scheduler then moves everything away.
        run(
            ["crm_attribute", "-N", str(trigger.node), "-n", "shutdown", "-l", "reboot", "-v", str(int(time.time()))],
            env=env,
            what="apply trigger stop to the file CIB",
        )
    elif kind == "crash":
        node_fail.append(str(trigger.node))
    elif kind == "dependency-failure":
        assert trigger.resource is not None
        interval = monitor_interval_ms(settled.cib, trigger.resource)
        # The dependency died: its monitor answers 'not running', as on the live tiers.
        inject.append(f"{trigger.resource}_monitor_{interval}@{trigger.node}={OCF_NOT_RUNNING}")
    failing = ""
    sim: simulator.Simulation | None = None
    if kind == "migrate-fail":
        # Pacemaker's own model of the fault: the move's transition runs with its migrate_to failing
        # on the source (as cts-scheduler does it); the next transition is what the cluster then does.
        failing = f"{trigger.vm}_migrate_to_0@{trigger.vm_node}={OCF_ERR_GENERIC}"
        attempt = simulator.simulate(triggered, casedir / "attempt", fail=[failing], dot=True)
        assert attempt.cib_out is not None  # simulate saves its output unless told not to
        if any(op.resource == trigger.vm and op.task == "migrate_to" for op in graph_operations(attempt.graph)):
            triggered = casedir / "cib-after-failure.xml"
            shutil.copyfile(attempt.cib_out, triggered)
        else:
            sim = attempt  # the move does not migrate: there is no migrate_to to fail
            failing = ""
    if sim is None:
        sim = simulator.simulate(triggered, casedir / "transition", node_fail=node_fail, inject=inject, dot=True)
    evidence = {"cib-before": before, "cib-trigger": triggered, "graph": sim.graph_path, "summary": sim.result_path}
    if sim.dot_path:
        evidence["graph-dot"] = sim.dot_path
    if sim.cib_out:
        evidence["cib-after"] = sim.cib_out
    outcome = sim.outcome()
    notes = list(outcome.notes)
    substitution = trigger.substitution()
    if kind == "migrate-fail" and not failing:
        substitution = f"'{trigger.kind}': the move's transition has no migrate_to of {trigger.vm}: nothing to fail"
    if failing:
        evidence["cib-after-failure"] = triggered
        substitution = (
            f"the scheduler models '{trigger.kind}': the move's transition with its migrate_to "
            f"failing ({failing}), then the transition that follows it"
        )
    if substitution:
        notes.append(substitution)
    return Observation(outcome, evidence, notes, substitution=substitution)


def predict(cib_path: Path, trigger: Resolved, casedir: Path) -> Observation:
    """The scheduler's prediction for ``trigger`` on a live cluster's CIB snapshot."""
    casedir.mkdir(parents=True, exist_ok=True)
    root = cibmod.read(cib_path)
    settled = Settled(cibmod.cib_node_names(root), cib_path, active_on(cib_path, casedir / "state"), root)
    return transition(settled, trigger, casedir)


def active_on(cib_path: Path, prefix: Path) -> dict[str, list[str]]:
    """Where each resource runs, as the CIB at ``cib_path`` (with its status) records it: the
    scheduler's reading, nothing run (its answer is written beside ``prefix``)."""
    state = simulator.simulate(cib_path, prefix, run_actions=False, save_output=False)
    return active_resources(state.result)


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
    result = simulator.text_summary(triggered, node_fail=node_fail, inject=inject)
    summary_txt = triggered.with_name("transition.summary.txt")
    summary_txt.write_text(result.stdout if result.ok else f"crm_simulate exited {result.rc}:\n{result.stderr}")
    observation.evidence["summary-text"] = summary_txt
    if not result.ok:
        observation.notes.append(
            f"Pacemaker's text summary failed (crm_simulate exited {result.rc}): see {summary_txt}"
        )
    dot = observation.evidence.get("graph-dot")
    if dot is not None:
        picture = simulator.render_picture(dot, "svg")
        if picture:
            observation.evidence["graph-picture"] = picture


def monitor_interval_ms(root: ET.Element, primitive: str) -> int:
    """The interval of the primitive's recurring monitor (DEFAULT_MONITOR_MS if it defines none)."""
    for prim in root.iter("primitive"):
        if prim.get("id") != primitive:
            continue
        for op in prim.iterfind("operations/op"):
            if op.get("name") == "monitor" and parse_interval_ms(op.get("interval", "0")) > 0:
                return parse_interval_ms(op.get("interval", "0"))
    return DEFAULT_MONITOR_MS


def parse_interval_ms(text: str) -> int:
    text = text.strip().lower()
    units = {"ms": 1, "msec": 1, "s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix) and text[: -len(suffix)].strip().isdigit():
            return int(text[: -len(suffix)]) * units[suffix]
    return int(text) * 1000 if text.isdigit() else 0


def configured_cib(scenario: Scenario, style: str, styledir: Path) -> tuple[Path, list[str], list[str]]:
    """The scenario in ``style`` as a file CIB (no status but transient attributes): its path, the
    agents the configuring tool (crmsh or pcs) did not know, and the tool's warnings (notes)."""
    nodes = scenario.node_names
    styledir.mkdir(parents=True, exist_ok=True)
    configured = styledir / "cib-configured.xml"
    text = scenario.render(style) if scenario.cib is None else scenario.cib
    cibmod.empty_cib(configured, nodes, scenario.options, ids=hostnames.node_ids(text, scenario.format))
    if scenario.cib is not None:
        warned = _load_raw_xml(configured, scenario)
        unknown: list[str] = []
    else:
        unknown, warned = _load_text(configured, scenario, text, styledir)
    cibmod.set_attributes(configured, scenario.attributes)
    return configured, unknown, warned


# Bump when the way a configuration is applied changes what a load produces, so that no result of
# the old way is served again (2: crmsh loads strictly first, a typo is an error, not a forced load).
# 3: crmsh's warnings (unknown attributes) are kept with the result.
# 4: a schema refusal of a Pacemaker 3 release (crmsh 5's <master>) is applied under the schema of
# a Debian 12 CIB and upgraded by cibadmin --upgrade (legacyschema); 5: and notes master-max.
LOAD_RECIPE = 5


def _load_text(configured: Path, scenario: Scenario, text: str, styledir: Path) -> tuple[list[str], list[str]]:
    """crm syntax with crmsh, or pcs commands with pcs, on the file CIB (results cached)."""
    tool = "pcs" if scenario.format == "pcs" else "crm"
    (styledir / f"configuration.{tool}").write_text(text)
    # crmsh costs about a second per load, pcs a second per command; the result depends only on these,
    # and on how the harness applies them (LOAD_RECIPE).
    digest = cache.key(
        configured.read_text(), text, release.identity(tool), release.identity("crm_simulate"), LOAD_RECIPE
    )
    hit = cache.get(f"{tool}-load", digest, configured)
    if hit is not None:
        return list(hit["unknown_agents"]), list(hit.get("warnings", []))
    warned: list[str] = []
    if tool == "pcs":
        applied = pcsload.apply(configured, text, scenario.path, scenario.config_line)
        unknown = applied.unknown_agents
    else:
        loaded = crmsh.apply(
            configured, text, crmsh.Source(scenario.path, scenario.config_line, scenario.configuration or "")
        )
        unknown, warned = loaded.unknown_agents, loaded.warnings
    cache.put(f"{tool}-load", digest, configured, {"unknown_agents": unknown, "warnings": warned})
    return unknown, warned


def _merge_node_attributes(root: ET.Element, given: ET.Element) -> None:
    """Copy the instance attributes of the given <nodes> onto the file CIB's node of the same name."""
    ours = {n.get("uname"): n for n in root.iterfind(cibmod.NODES + "/node")}
    for node in given.iter("node"):
        target = ours.get(node.get("uname"))
        if target is not None:
            for attrs in node.iterfind("instance_attributes"):
                target.append(attrs)


def _load_raw_xml(configured: Path, scenario: Scenario) -> list[str]:
    """Put the scenario's raw CIB XML (a whole <cib> or a <configuration>) into the empty CIB; the
    notes (a Pacemaker 2 CIB upgraded by this release's cibadmin, as ``legacyschema`` says)."""
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
    if target is None:
        raise HarnessError(f"{configured}: the empty CIB has no <configuration>")
    for section in config:
        # The scenario's own nodes (same names and ids) and options stand; node attributes of the
        # XML's node entries are kept.
        if section.tag == "crm_config":
            continue
        if section.tag == "nodes":
            _merge_node_attributes(root, section)
            continue
        old = target.find(section.tag)
        if old is not None:
            target.remove(old)
        target.append(section)
    cibmod.write(root, configured)
    result = run(["crm_verify", "--xml-file", str(configured)], check=False)
    notes: list[str] = []
    newest = root.get("validate-with", "")
    if not result.ok and legacyschema.rejected(result.stderr) and legacyschema.newer_than_legacy(newest):
        # A Pacemaker 2 CIB (<master>) on Pacemaker 3: under its own schema, upgraded by cibadmin.
        applied = given.get("validate-with") or legacyschema.LEGACY_SCHEMA
        notes = legacyschema.upgraded(configured, applied if applied != newest else legacyschema.LEGACY_SCHEMA) or []
        if notes:
            result = run(["crm_verify", "--xml-file", str(configured)], check=False)
    if not result.ok and "error" in result.stderr.lower():
        found = cibverify.explain(result.stderr, scenario.cib or "")
        raise InputError(
            "the scenario's CIB XML is not a valid configuration:\n  " + found.message[-1500:],
            path=scenario.path,
            line=scenario.config_line + (found.line or 1) - 1,
            hint=found.hint,
        )
    return notes
