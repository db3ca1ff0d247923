"""Running Pacemaker's scheduler, ``crm_simulate``, on a file CIB, and reading what it wrote."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import outcome as oc
from . import pcmk20
from .errors import CommandFailed, HarnessError
from .runner import Result, run


@dataclass(frozen=True)
class Simulation:
    """What one ``crm_simulate`` run left: its inputs and its files."""

    argv: tuple[str, ...]
    cib_in: Path
    graph_path: Path
    dot_path: Path | None
    cib_out: Path | None
    result_path: Path
    result: ET.Element
    graph: ET.Element

    def outcome(self) -> oc.Outcome:
        return planned_outcome(self.result, self.graph)

    def has_actions(self) -> bool:
        """True if the transition does anything but monitors (i.e. the cluster is not settled)."""
        return any(op.task != "monitor" or op.interval_ms == 0 for op in oc.graph_operations(self.graph))


def simulate(
    cib_in: Path,
    prefix: Path,
    *,
    node_up: Sequence[str] = (),
    node_fail: Sequence[str] = (),
    inject: Sequence[str] = (),
    fail: Sequence[str] = (),
    dot: bool = False,
    save_output: bool = True,
    run_actions: bool = True,
    timeout: float = 120,
) -> Simulation:
    """Run the scheduler on ``cib_in``; files are written as ``<prefix>.graph.xml`` etc."""
    graph_path = prefix.with_name(prefix.name + ".graph.xml")
    result_path = prefix.with_name(prefix.name + ".summary.xml")
    dot_path = prefix.with_name(prefix.name + ".graph.dot") if dot else None
    cib_out = prefix.with_name(prefix.name + ".after.xml") if save_output else None
    argv: list[str] = ["crm_simulate", "--xml-file", str(cib_in), "--save-graph", str(graph_path)]
    argv.append("--simulate" if run_actions else "--run")
    for node in node_up:
        argv += ["--node-up", node]
    for node in node_fail:
        argv += ["--node-fail", node]
    for spec in inject:
        argv += ["--op-inject", spec]
    for spec in fail:  # fails when the simulated transition runs it (needs run_actions)
        argv += ["--op-fail", spec]
    if dot_path:
        argv += ["--save-dotfile", str(dot_path)]
    if cib_out:
        argv += ["--save-output", str(cib_out)]
    if legacy():
        root = _legacy_answer(argv, cib_in, cib_out, timeout, f"the scheduler failed on {cib_in}")
        result_path.write_text(ET.tostring(root, encoding="unicode"))
        return Simulation(tuple(argv), cib_in, graph_path, dot_path, cib_out, result_path, root, _graph(graph_path))
    argv += ["--output-as", "xml"]
    result = run(argv, check=False, timeout=timeout)
    if not result.ok:
        raise CommandFailed(argv, result.rc, result.stdout, result.stderr, what=f"the scheduler failed on {cib_in}")
    result_path.write_text(result.stdout)
    try:
        root = ET.fromstring(result.stdout)
        graph = ET.parse(graph_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise HarnessError(f"crm_simulate wrote unreadable output for {cib_in}: {exc}") from None
    return Simulation(tuple(argv), cib_in, graph_path, dot_path, cib_out, result_path, root, graph)


@dataclass(frozen=True)
class Schedule:
    """One scheduler run on an input, nothing executed: where resources are (``result``'s
    ``cluster_status``), the summary (its ``actions``) and the transition graph, parsed once."""

    argv: tuple[str, ...]
    result: ET.Element
    graph: ET.Element

    def outcome(self) -> oc.Outcome:
        return planned_outcome(self.result, self.graph)


# Pacemaker 3.0.0's crm_simulate prints no Transition Summary in its XML answer once it has injected
# a change (--node-fail, --op-inject): the answer ends after <modifications>. Its text output has
# the summary; the graph has the operations.
MISSING_SUMMARY = (
    "crm_simulate's XML answer has no Transition Summary (Pacemaker 3.0 omits it after an injected "
    "node failure or operation): verdicts from the transition graph's operations alone"
)


def planned_outcome(result: ET.Element, graph: ET.Element) -> oc.Outcome:
    """The verdicts of a planned transition: named as the scheduler's summary names them, or, where
    the answer carries no summary at all (not an empty one), from the graph's operations."""
    if result.find("actions") is None:
        # As the summary of an older Pacemaker names them: what ran on a node the answer's
        # injection failed is not running any more (Start on the survivor, not a move from it).
        failing = {m.get("node") for m in result.iter("modify_node") if m.get("action") == "Failing"}
        active = {
            rid: kept
            for rid, nodes in oc.active_resources(result).items()
            if (kept := [n for n in nodes if n not in failing])
        }
        outcome = oc.classify(graph, None, active)
        if outcome.verdicts:
            outcome.notes.append(MISSING_SUMMARY)
        return outcome
    return oc.classify(graph, oc.summary_actions(result), oc.active_resources(result))


def schedule(cib: Path | bytes, workdir: Path, *, keep_as: str | None = None, timeout: float = 120) -> Schedule:
    """Run the scheduler once on ``cib`` (a file crm_simulate reads itself, plain or ``.bz2``, or
    the XML, piped in) and parse what it answers. ``workdir`` holds the graph for the time of the
    call, or keeps it and the summary as ``<keep_as>.graph.xml`` and ``<keep_as>.summary.xml``."""
    if keep_as:
        graph_path = workdir / f"{keep_as}.graph.xml"
    else:
        fd, name = tempfile.mkstemp(prefix="graph-", suffix=".xml", dir=workdir)
        os.close(fd)
        graph_path = Path(name)
    if legacy():
        return _legacy_schedule(cib, workdir, graph_path, keep_as, timeout)
    source = ["--xml-file", str(cib)] if isinstance(cib, Path) else ["--xml-pipe"]
    argv = ["crm_simulate", *source, "--run", "--save-graph", str(graph_path), "--output-as", "xml"]
    what = f"the scheduler failed on {cib if isinstance(cib, Path) else 'the input'}"
    try:
        result = run(
            argv, input=None if isinstance(cib, Path) else cib.decode(errors="replace"), check=False, timeout=timeout
        )
        if not result.ok:
            raise CommandFailed(argv, result.rc, result.stdout, result.stderr, what=what)
        if keep_as:
            (workdir / f"{keep_as}.summary.xml").write_text(result.stdout)
        try:
            root = ET.fromstring(result.stdout)
            graph = ET.parse(graph_path).getroot()
        except (ET.ParseError, OSError) as exc:
            raise HarnessError(f"crm_simulate wrote unreadable output ({exc})") from None
    finally:
        if not keep_as:
            graph_path.unlink(missing_ok=True)
    return Schedule(tuple(argv), root, graph)


def legacy() -> bool:
    """True if the active release's crm_simulate has no XML answer (Pacemaker 2.0)."""
    from .version import in_range, pacemaker_version

    return in_range(pacemaker_version(), pcmk20.VERSIONS)


def _legacy_answer(argv: list[str], cib_in: Path, cib_out: Path | None, timeout: float, what: str) -> ET.Element:
    """Pacemaker 2.0: the text answer of ``argv`` and crm_mon's XML on its input and output CIBs,
    as the element crm_simulate 2.1+ answers (``pcmk20``)."""
    result = run(argv, check=False, timeout=timeout)
    if not result.ok:
        raise CommandFailed(argv, result.rc, result.stdout, result.stderr, what=what)
    after = _crm_mon(cib_out, timeout) if cib_out is not None else None
    return pcmk20.answer(result.stdout, " ".join(argv), _crm_mon(cib_in, timeout), after)


def _crm_mon(cib: Path, timeout: float) -> str:
    """Where resources are in the CIB file ``cib``, as crm_mon's XML says it."""
    argv = ["crm_mon", "--output-as", "xml", "-1", "--inactive"]
    return run(argv, env={"CIB_file": str(cib)}, timeout=timeout, what=f"crm_mon failed on {cib}").stdout


def _legacy_schedule(
    cib: Path | bytes, workdir: Path, graph_path: Path, keep_as: str | None, timeout: float
) -> Schedule:
    """``schedule`` on Pacemaker 2.0 (its crm_mon reads a file: piped XML is written to one)."""
    piped = None
    if not isinstance(cib, Path):
        fd, name = tempfile.mkstemp(prefix="input-", suffix=".xml", dir=workdir)
        os.close(fd)
        piped = Path(name)
        piped.write_bytes(cib)
    source = piped or cib
    assert isinstance(source, Path)
    argv = ["crm_simulate", "--xml-file", str(source), "--run", "--save-graph", str(graph_path)]
    what = f"the scheduler failed on {cib if isinstance(cib, Path) else 'the input'}"
    try:
        root = _legacy_answer(argv, source, None, timeout, what)
        if keep_as:
            (workdir / f"{keep_as}.summary.xml").write_text(ET.tostring(root, encoding="unicode"))
        graph = _graph(graph_path)
    finally:
        if not keep_as:
            graph_path.unlink(missing_ok=True)
        if piped is not None:
            piped.unlink(missing_ok=True)
    return Schedule(tuple(argv), root, graph)


def _graph(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise HarnessError(f"crm_simulate wrote an unreadable transition graph {path}: {exc}") from None


def text_summary(cib_in: Path, **kwargs: Sequence[str]) -> Result:
    """Pacemaker's own human-readable summary for the same run (for reports and artifacts); the
    caller says what a non-zero exit means for it."""
    argv = ["crm_simulate", "--xml-file", str(cib_in), "--simulate"]
    for node in kwargs.get("node_fail", ()):
        argv += ["--node-fail", node]
    for spec in kwargs.get("inject", ()):
        argv += ["--op-inject", spec]
    return run(argv, check=False)


def render_picture(dot_path: Path, fmt: str = "svg") -> Path | None:
    """dot -> SVG/PNG of the transition graph; None if graphviz is missing or fails."""
    out = dot_path.with_suffix(f".{fmt}")
    try:
        result = run(["dot", f"-T{fmt}", "-o", str(out), str(dot_path)], check=False)
    except HarnessError:
        return None
    return out if result.ok else None
