"""`up`, `status`, `exec`, `down`, `clean` (live clusters) and `box` (the nested tier's boxes)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .. import rundir, scratch, tiers
from ..errors import HarnessError, InputError
from . import EXIT_ERROR, EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    lab_cls = tiers.get_lab(args.tier)
    names: dict[str, object] = {"names": args.hosts} if args.hosts else {}  # local: nodes named after the hosts
    if args.dom0s:
        if args.tier != "nested":
            raise InputError("--dom0s is for the nested tier", hint="migration-harness up --tier nested --dom0s ...")
        from ..tiers.nested import settings

        settings.check_dom0s(settings.node_names(args.nodes), args.dom0s)  # before a run directory exists
        names["dom0s"] = args.dom0s
    if args.libvirt:
        if args.tier != "nested":
            raise InputError(
                "--libvirt is for the nested tier", hint="migration-harness up --tier nested --libvirt ssh"
            )
        os.environ["MIGRATION_HARNESS_LIBVIRT"] = args.libvirt
    if args.tier == "nested":
        from ..tiers.nested import front

        front.mode()  # a bad MIGRATION_HARNESS_LIBVIRT fails before a run directory exists
    run = rundir.RunDir.create(args.tier)
    started = time.monotonic()
    lab_cls.create(
        len(args.hosts) if args.hosts else args.nodes, run, progress=lambda line: print(line, flush=True), **names
    )
    # The cluster outlives this command: no owner process keeps it, `down` removes it.
    run.update(owner=None)
    print(
        f"{args.tier} cluster of {args.nodes} nodes up in {time.monotonic() - started:.1f} s; run directory {run.path}"
    )
    print("next: migration-harness status | exec node1 -- crm_mon -1 | down")
    return EXIT_OK


def _attach(args: argparse.Namespace) -> tiers.Lab:
    """The run named with --run, or else the one cluster left up by `up` (a run whose owner is a
    live command is that command's: never touched)."""
    if args.run:
        run = rundir.RunDir.open(args.run)
    else:
        left = [r for r in rundir.all_runs() if r.data.get("owner") is None and not _dead(r)]
        if not left:
            raise InputError(
                "no cluster left up by `migration-harness up` (runs of commands still running are theirs)",
                hint="bring one up with `migration-harness up --tier local`, or name a run with --run DIR",
            )
        if len(left) > 1:
            raise InputError(
                f"{len(left)} clusters are up: " + ", ".join(str(r.path) for r in left),
                hint="choose one with --run DIR",
            )
        run = left[0]
        print(f"run {run.path} ({run.data.get('tier')} tier, left up by `up`)", file=sys.stderr)
    return tiers.get_lab(run.data["tier"]).attach(run)


def cmd_status(args: argparse.Namespace) -> int:
    print(_attach(args).status())
    return EXIT_OK


def cmd_exec(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    # `exec node1 --run DIR -- CMD`: options before the `--` are ours, not the command's.
    if "--" in argv:
        ours, argv = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
        if ours[:1] == ["--run"] and len(ours) == 2:
            args.run = Path(ours[1])
        elif ours:
            raise HarnessError(
                f"exec: unexpected {' '.join(ours)} before --",
                hint="migration-harness exec [--run DIR] node1 -- crm_mon -1",
            )
    if not argv:
        raise HarnessError("exec needs a command after --", hint="migration-harness exec node1 -- crm_mon -1")
    return _attach(args).exec(args.node, argv)


def cmd_down(args: argparse.Namespace) -> int:
    lab = _attach(args)
    lab.down()
    print("down: every process, namespace and link of the run removed")
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    """Every dead run, then scratch directories and unfinished box builds; a run that cannot be
    cleaned is named with its reason (exit 2) and does not keep the others from being cleaned."""
    removed: list[str] = []
    failed: list[str] = []
    for run in rundir.all_runs():
        if not _dead(run):
            continue
        tier = run.data.get("tier", "")
        try:
            if tier in tiers.LABS:
                removed += tiers.get_lab(tier).clean(run)
        except HarnessError as exc:
            failed.append(f"run {run.path} not cleaned: {exc.message}")
            continue
        run.remove()
        removed.append(f"run directory {run.path}")
    from ..tiers.nested import box

    removed += scratch.remove_leftovers()
    removed += box.remove_unfinished_builds()
    print("\n".join(removed) if removed else "nothing to clean")
    for line in failed:
        print(f"migration-harness: {line}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def _dead(run: rundir.RunDir) -> bool:
    """Dead: its owner process is gone; or, for a cluster left up by `up` (no owner), every process
    it recorded is gone. A run that records neither is being created: not dead."""
    if run.data.get("owner") is not None:
        return not run.owner_alive()
    pids = run.data.get("pids") or []
    if not pids:
        return False
    for pid in pids:
        try:
            os.kill(int(pid), 0)
            return False
        except (ProcessLookupError, ValueError):
            continue
        except PermissionError:
            return False
    return True


def cmd_box_build(args: argparse.Namespace) -> int:
    from ..tiers.nested import box

    xen = box.choose_xen(args.release, args.xen)
    path = box.build(release=args.release, xen=xen, progress=lambda line: print(line, flush=True))
    print(f"box ready: {path}")
    return EXIT_OK


def cmd_box_list(args: argparse.Namespace) -> int:
    from ..tiers.nested import box

    for line in box.list_boxes():
        print(line)
    return EXIT_OK


def cmd_box_remove(args: argparse.Namespace) -> int:
    from ..tiers.nested import box

    box.remove(args.name)
    return EXIT_OK
