"""The command line: every subcommand's arguments, and running the chosen one.

``harness.cli`` is the entry point; it imports this module only once its signal handling is in
place, so that a Ctrl-C while Python loads the harness is an interruption like any other.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import release, scaffold, tiers
from ..errors import HarnessError
from ..styles import AS_WRITTEN, STYLES
from ..triggers import KINDS
from . import EXIT_OK, live, replay, run


def run_command(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the subcommand; an expected failure is its message and exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(name)s: %(message)s")
    try:
        return int(args.func(args))
    except HarnessError as exc:
        print(f"migration-harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-harness",
        description="When this VM has to move, does Pacemaker migrate it live, or stop and start it?",
    )
    parser.add_argument("--debug", action="store_true", help="log every external command")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run scenarios: a table of scenario x style x trigger -> verdict")
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files, directories or shipped names (default: all shipped)",
    )
    p.add_argument("--tier", default=tiers.DEFAULT_TIER, choices=list(tiers.TIERS))
    p.add_argument("--style", action="append", type=_style, help="only these styles (repeatable)")
    p.add_argument("--trigger", action="append", type=_trigger, help="only these triggers (repeatable)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the evidence of every case in DIR")
    p.add_argument("--jobs", type=_positive_int, help="parallel cases on the simulate tier (default: CPU count)")
    p.add_argument(
        "--release",
        action="append",
        metavar="NAME",
        help="Debian release whose Pacemaker answers: host (default), bullseye, bookworm, trixie, forky; twice for a side-by-side table",
    )
    p.add_argument(
        "--run",
        type=Path,
        metavar="DIR",
        help="nested tier: run on the cluster `up --tier nested` left in DIR (restored per case, left up)",
    )
    p.add_argument(
        "--record", action="store_true", help="write the measured verdicts into each scenario file's 'measured:' block"
    )
    p.add_argument(
        "--html", type=Path, metavar="FILE", help="also write one self-contained HTML page: table, cases, pictures"
    )
    p.set_defaults(func=run.cmd_run)

    p = sub.add_parser("replay", help="verdicts for CIBs / scheduler inputs (pe-input-N.bz2) or directories of them")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help='for one FILE: {"resources": [...]}; for more: a list')
    p.add_argument("--jobs", type=_positive_int, help="parallel replays (default: CPU count)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep graphs and summaries in DIR")
    p.add_argument(
        "--release",
        action="append",
        metavar="NAME",
        help="Debian release whose scheduler replays (repeatable: side by side, and what the upgrade changes)",
    )
    p.add_argument(
        "--all", action="store_true", help="with several --release: every resource, not only those that change"
    )
    p.set_defaults(func=replay.cmd_replay)

    from .. import fromreport  # `scenario from-report`: its options live with it

    fromreport.add_parser(sub)

    p = sub.add_parser(
        "conformance",
        help="replay Pacemaker's own scheduler regression corpus of a release and "
        "compare every verdict with the expected Transition Summary",
    )
    p.add_argument(
        "--release",
        action="append",
        required=True,
        metavar="NAME",
        help="Debian release (repeatable): " + ", ".join(release.RELEASES),
    )
    p.add_argument(
        "--corpus",
        metavar="NAME",
        help="the corpus of another release (Debian 11's source is not served: --release bullseye --corpus "
        "bookworm); an input counts where this release's crm_simulate prints the expected summary itself",
    )
    p.add_argument("--json", action="store_true", help="print the figures and every non-agreeing input as JSON")
    p.add_argument("--jobs", type=_positive_int, help="parallel scheduler runs (default: CPU count)")
    p.set_defaults(func=replay.cmd_conformance)

    p = sub.add_parser("record", help="write the verdicts of a `run --json` output into the scenario files")
    p.add_argument("results", type=Path, metavar="RESULTS.json")
    p.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="scenario files or shipped names (default: all shipped)"
    )
    p.set_defaults(func=run.cmd_record)

    scaffold.add_parser(sub)  # init [DIR]: a repository of one's own scenarios

    p = sub.add_parser("list", help="shipped scenarios, styles and triggers")
    p.set_defaults(func=run.cmd_list)

    p = sub.add_parser("show", help="print a scenario's configuration rendered in a style (crm syntax)")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--style", default=None)
    p.set_defaults(func=run.cmd_show)

    p = sub.add_parser("up", help="bring up a live cluster (local or nested tier) and leave it running")
    p.add_argument("--tier", required=True, choices=[t for t in tiers.LABS])
    p.add_argument("--nodes", type=int, default=2, choices=[2, 3])
    p.add_argument("--hosts", type=lambda t: t.split(","), metavar="A,B,...", help="local tier: the nodes' names")
    p.add_argument(
        "--dom0s",
        type=_dom0s,
        metavar="NODE=RELEASE,...",
        help="nested tier: each named dom0's Debian release (a rolling upgrade: node1=bookworm,node2=trixie); "
        "the SAN and the dom0s not named run the host's",
    )
    p.add_argument(
        "--libvirt",
        choices=["private", "ssh"],
        help="nested tier: how Vagrant reaches the run's own libvirtd: its socket (private, the default) or "
        "qemu+ssh:// from a second namespace, as a libvirt host on another machine (ssh; also "
        "MIGRATION_HARNESS_LIBVIRT)",
    )
    p.set_defaults(func=live.cmd_up)

    for name, func, text in (
        ("status", live.cmd_status, "show a live cluster"),
        ("down", live.cmd_down, "tear a live cluster down"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--run", type=Path, metavar="DIR", help="the run directory (default: the one cluster left up by `up`)"
        )
        p.set_defaults(func=func)

    p = sub.add_parser("exec", help="run a command on a node of a live cluster: exec node1 -- crm_mon -1")
    p.add_argument("node")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD")
    p.add_argument("--run", type=Path, metavar="DIR")
    p.set_defaults(func=live.cmd_exec)

    p = sub.add_parser("clean", help="remove what dead runs left behind (processes, namespaces, links, VMs)")
    p.set_defaults(func=live.cmd_clean)

    p = sub.add_parser("box", help="build, list and remove the nested tier's Vagrant boxes")
    box = p.add_subparsers(dest="box_command", required=True, metavar="ACTION")
    b = box.add_parser("build", help="build a libvirt box offline from the Debian archive")
    b.add_argument("--release", default="bookworm")
    b.add_argument(
        "--xen",
        default=None,
        help="Xen package version: a version, 'candidate' (the archive's current one: 4.17.7 on bookworm, "
        "no PV live migration) or 'pinned' (default: one that can live-migrate PV guests, 4.17.5 on "
        "bookworm); the nested tier's choice is $MIGRATION_HARNESS_XEN",
    )
    b.set_defaults(func=live.cmd_box_build)
    b = box.add_parser("list", help="cached boxes")
    b.set_defaults(func=live.cmd_box_list)
    b = box.add_parser("remove", help="remove a cached box")
    b.add_argument("name")
    b.set_defaults(func=live.cmd_box_remove)
    return parser


def _dom0s(text: str) -> dict[str, str]:
    from ..tiers.nested.box import RELEASES

    found: dict[str, str] = {}
    for item in filter(None, text.split(",")):
        node, _, name = item.partition("=")
        if not node or name not in RELEASES:
            raise argparse.ArgumentTypeError(f"{item!r}: write NODE=RELEASE, a release one of {', '.join(RELEASES)}")
        found[node] = name
    return found


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give at least 1")
    return value


def _style(text: str) -> str:
    known = [*STYLES, AS_WRITTEN.name]
    if text not in known:
        raise argparse.ArgumentTypeError(f"unknown style '{text}' (styles: {', '.join(known)})")
    return text


def _trigger(text: str) -> str:
    if text not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown trigger '{text}' (triggers: {', '.join(KINDS)})")
    return text
