"""``scenario from-report``: a scenario file written from a crm_report or a CIB, ready to run.

The CIB is a node's ``cib.xml`` in the report (else its newest scheduler input), or the file given.
The scenario has the cluster's real node names, its configuration in crm syntax as crmsh renders a
CIB (``crm configure show`` with ``CIB_file``), every migratable resource under test (allow-migrate,
or a VM agent; not those held stopped), and the triggers move (each VM), standby and crash.
Constraints a ``crm resource move``/``ban`` left (``cli-prefer-*``, ``cli-ban-*``) are dropped
and named in a comment. Without ``--record`` the expectations say what an administrator wants (a
live migration; a crash restarts); with it, they are the verdicts the given releases measure.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import yaml

from . import cib as cibmod
from . import crmsh, crmtext, reportinput, scenario, schemas, scratch
from .errors import InputError
from .triggers import Trigger

_VM_AGENTS = {"Xen", "VirtualDomain", "xen"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LEFT_BY_TOOLS = re.compile(r"^cli-(prefer|ban)-")


def cib_of(path: Path) -> tuple[Path, str]:
    """The CIB to describe, and where it came from (for the scenario's ``source``)."""
    if reportinput.is_report(path):
        report = reportinput.load(path)
        for node in report.nodes:
            candidate = report.root / node / "cib.xml"
            if candidate.is_file():
                return candidate, f"{path} ({node}/cib.xml)"
        if report.inputs:
            newest = report.inputs[-1]
            return newest.path, f"{path} ({newest.node}/{newest.path.name})"
        raise InputError("this crm_report holds neither a node's cib.xml nor scheduler inputs", path=path)
    root = cibmod.read(path)
    cibmod.check_is_cib(root, path)
    return path, str(path)


def crm_configuration(cib_path: Path, workdir: Path) -> tuple[str, list[str]]:
    """The configuration in crm syntax, without constraints the tools left; and what was dropped."""
    plain = workdir / "cib.xml"
    plain.write_bytes(cibmod.read_bytes(cib_path))
    result = crmsh.crm(["configure", "show"], plain, what="render the CIB in crm syntax")
    kept, dropped = [], []
    for statement in crmtext.parse(_ANSI.sub("", result.stdout)):
        if crmtext.is_constraint(statement) and _LEFT_BY_TOOLS.match(statement.id):
            dropped.append(statement.text.replace("\n", " "))
        else:
            kept.append(statement)
    return crmtext.render(kept), dropped


def migratable(root: ET.Element) -> list[str]:
    """Resources that can live-migrate (allow-migrate, or a VM agent) and are not held stopped."""
    found = []
    for primitive in cibmod.primitives(root):
        stopped = primitive.meta.get("target-role", "").lower() == "stopped"
        if (primitive.allow_migrate or primitive.type in _VM_AGENTS) and not stopped:
            found.append(primitive.id)
    return found


Measured = tuple[Trigger, str, str, "str | None"]  # trigger, resource, verdict, Pacemaker range (or None)


def write(
    source: Path, *, name: str | None = None, verdicts: Sequence[Measured] = (), releases: Sequence[str] = ()
) -> str:
    """The scenario's YAML text; ``verdicts`` become its expectations. The CIB is rendered by the
    active release's crmsh, or by the first of ``releases`` whose Pacemaker reads its schema."""
    workdir = scratch.make("from-report")
    try:
        cib_path, described = cib_of(source)
        root = cibmod.read(cib_path)
        nodes = cibmod.cib_node_names(root)
        if len(nodes) < 2:
            raise InputError(f"the CIB names {len(nodes)} node(s); a scenario has 2 to 16", path=cib_path)
        vms = migratable(root)
        if not vms:
            raise InputError(
                "no migratable resource in this configuration (no allow-migrate=true, no Xen or VirtualDomain)",
                path=cib_path,
            )
        _reading_release(root, releases, cib_path)
        text, dropped = crm_configuration(cib_path, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    triggers: list[object] = [{"move": {"resource": vm}} for vm in vms] if len(vms) > 1 else ["move"]
    triggers += ["standby", "crash"]
    head = {
        "name": name or _name(source),
        "title": f"What happens to {', '.join(vms)} when it has to move (written from {source.name})",
        "source": {"report": described},
        "nodes": nodes,
        "resources": vms,
    }
    lines = [yaml.safe_dump(head, sort_keys=False, default_flow_style=None, width=120).rstrip()]
    lines += [f"# dropped: {d}  (left by crm resource move/ban)" for d in dropped]
    lines.append("configuration: |")
    lines += [f"  {line}" if line.strip() else "" for line in text.rstrip().splitlines()]
    lines.append(yaml.safe_dump({"triggers": triggers}, sort_keys=False, default_flow_style=None, width=120).rstrip())
    lines.append(
        yaml.safe_dump({"expect": _rules(verdicts)}, sort_keys=False, default_flow_style=None, width=120).rstrip()
    )
    return "\n".join(lines) + "\n"


def _reading_release(root: ET.Element, releases: Sequence[str], cib_path: Path) -> None:
    """Activate a release that reads the CIB's schema (a Debian 13 cluster's CIB is beyond Debian
    12's Pacemaker): the active one if it does, else the first of ``releases`` that does; an
    InputError naming the releases that would if none does."""
    newer = schemas.newer_than_this(root)
    if newer is None:
        return
    from . import releaseroot

    for each in releases:
        releaseroot.activate(each, progress=lambda line: None)
        newer = schemas.newer_than_this(root)
        if newer is None:
            return
    raise InputError(f"crmsh cannot render this CIB: {newer[0]}", path=cib_path, hint=newer[1])


def _rules(verdicts: Sequence[Measured]) -> list[dict[str, object]]:
    if not verdicts:
        return [
            {"trigger": "crash", "verdict": "start", "why": "a crashed node's guests start afresh elsewhere"},
            {"verdict": "migrate", "why": "what an administrator wants: a live migration; run it to see"},
        ]
    rules: list[dict[str, object]] = []
    for trigger, resource, verdict, pacemaker in verdicts:
        written: object = {trigger.kind: trigger.arguments()} if trigger.arguments() else trigger.kind
        rule: dict[str, object] = {"trigger": written, "resource": resource, "verdict": verdict}
        if pacemaker:
            rule["pacemaker"] = pacemaker
        rules.append(rule)
    return rules


def record(text: str, source: Path, releases: Sequence[str], *, name: str | None = None) -> str:
    """The scenario measured on the simulate tier of each release, its verdicts as expectations."""
    from . import engine, releaseroot
    from .tiers.simulate.backend import SimulateBackend
    from .version import pacemaker_version

    workdir = scratch.make("from-report-record")
    try:
        draft = workdir / "draft.yaml"
        draft.write_text(text)
        written = scenario.load(draft)
        by_release: dict[str, list[tuple[Trigger, str, str]]] = {}
        for each in releases or ["host"]:
            releaseroot.activate(each, progress=lambda line: None)
            version = str(pacemaker_version())
            with SimulateBackend(workdir / each) as backend:
                backend.up(written.nodes)
                for result in engine.run_cases(backend, written.cases(), workdir / each, pacemaker_version()):
                    if result.error:
                        raise InputError(f"{result.case.id}: {result.error}", path=source)
                    for check_ in result.checks:
                        by_release.setdefault(version, []).append(
                            (result.case.trigger, check_.resource, check_.verdict.verdict)
                        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured = list(by_release.values())
    if all(m == measured[0] for m in measured):
        verdicts: list[Measured] = [(t, r, v, None) for t, r, v in measured[0]]
    else:
        verdicts = [(t, r, v, f"=={version}") for version, rows in by_release.items() for t, r, v in rows]
    return write(source, name=name, verdicts=verdicts, releases=releases)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``migration-harness scenario from-report ...`` on the CLI's sub-command parser."""
    p = sub.add_parser("scenario", help="write scenarios: scenario from-report REPORT|CIB [-o FILE] [--record]")
    scen = p.add_subparsers(dest="scenario_command", required=True, metavar="ACTION")
    s = scen.add_parser("from-report", help="a scenario from a crm_report (directory or tarball) or a CIB file")
    s.add_argument("source", type=Path, metavar="REPORT|CIB")
    s.add_argument("-o", "--output", type=Path, metavar="FILE", help="write it here (default: print it)")
    s.add_argument("--name", help="the scenario's name (default: from the file name)")
    s.add_argument("--record", action="store_true", help="measure the verdicts and write them as expectations")
    s.add_argument(
        "--release",
        action="append",
        metavar="NAME",
        help="a Debian release whose tools read the CIB and, with --record, measure it (repeatable)",
    )
    s.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """``migration-harness scenario from-report SOURCE [-o FILE] [--record] [--release R]...``"""
    text = write(args.source, name=args.name, releases=args.release or [])
    if args.record:
        text = record(text, args.source, args.release or [], name=args.name)
    check(text, args.output or Path(f"{_name(args.source)}.yaml"))
    if args.output is None:
        print(text, end="")
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _name(source: Path) -> str:
    stem = re.sub(r"\.(tar\.(bz2|gz|xz)|tbz2|tgz|txz|tar|xml|bz2|gz)$", "", source.name)
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "report"
    return cleaned if cleaned[0].isalnum() else f"r{cleaned}"


def check(text: str, target: Path) -> scenario.Scenario:
    """The written text loads as a scenario (or the error says what the writer got wrong)."""
    return scenario.parse(text, target)
