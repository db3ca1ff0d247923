"""Make the scheduler inputs under tests/data/replay with the real Pacemaker tools.

Each input is a CIB with status, as a DC saves it (``pe-input-N``), built from the seed scenario:
settled with crm_simulate, then changed the way a cluster changes it (crm_resource, crm_attribute,
crm_simulate --node-fail/--op-inject, and hand-written operation history for a partial or failed
migration, which crm_simulate cannot inject). Run it to rebuild them, then
``pytest tests/test_replay.py --update-expected`` and review the diff of the expected verdicts.

    python tests/data/make_inputs.py [OUTDIR]
"""

from __future__ import annotations

import bz2
import gzip
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import scenario
from harness.tiers.simulate.backend import SimulateBackend
from harness.runner import run

SEED = scenario.shipped_dir() / "pacemaker-ml-2012-01-xen-live-migration.yaml"
VM = "vm-webdev"


def settled(style: str, work: Path) -> Path:
    s = scenario.load(SEED)
    backend = SimulateBackend(work)
    backend.up(s.nodes)
    return backend.configure(s, style, work).cib_path


def changed(source: Path, dest: Path, *argv: str) -> Path:
    shutil.copyfile(source, dest)
    if argv:
        run(list(argv), env={"CIB_file": str(dest)})
    return dest


def saved(source: Path, dest: Path, *flags: str) -> Path:
    """crm_simulate with --node-fail/--op-inject, saving the modified input without running it."""
    run(["crm_simulate", "--xml-file", str(source), *flags, "--save-output", str(dest)])
    return dest


def with_history(source: Path, dest: Path, node: str, operation: str, rc: int, status: int = 0) -> Path:
    """Append a recorded operation of the VM on ``node`` (what the executor writes after it ran)."""
    root = ET.parse(source).getroot()
    for state in root.iterfind("status/node_state"):
        if state.get("uname") != node:
            continue
        for rsc in state.iterfind("lrm/lrm_resources/lrm_resource"):
            if rsc.get("id") != VM:
                continue
            calls = [int(op.get("call-id", "0")) for op in rsc.iterfind("lrm_rsc_op")]
            template = next(op for op in rsc.iterfind("lrm_rsc_op") if op.get("operation") == "start")
            op = ET.SubElement(rsc, "lrm_rsc_op", dict(template.attrib))
            op.set("id", f"{VM}_last_failure_0" if rc else f"{VM}_migrate_to_0")
            op.set("operation_key", f"{VM}_{operation}_0")
            op.set("operation", operation)
            op.set("call-id", str(max(calls) + 1))
            op.set("rc-code", str(rc))
            op.set("op-status", str(status))
            op.set("migrate_source", node)
            op.set("migrate_target", "node2" if node == "node1" else "node1")
    ET.ElementTree(root).write(dest)
    return dest


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mh-make-inputs-"))
    try:
        base = settled("colocation-order", work / "colo")
        group = settled("group", work / "group")
        tmp = work / "tmp.xml"
        shutil.copyfile(base, outdir / "settled.xml")
        changed(base, outdir / "move.xml", "crm_resource", "--move", "-r", VM, "-N", "node2")
        changed(base, tmp, "crm_attribute", "-N", "node1", "-n", "standby", "-v", "on")
        (outdir / "standby.xml.bz2").write_bytes(bz2.compress(tmp.read_bytes()))
        changed(base, tmp, "crm_resource", "--ban", "-r", VM, "-N", "node1")
        (outdir / "ban.xml.gz").write_bytes(gzip.compress(tmp.read_bytes()))
        changed(group, outdir / "group-move.xml", "crm_resource", "--move", "-r", VM, "-N", "node2")
        saved(base, outdir / "crash.xml", "--node-fail", "node1")
        saved(base, outdir / "failed-dependency.xml", "--op-inject", "fs-xen_monitor_20000@node1=7")
        moved = changed(base, tmp, "crm_resource", "--move", "-r", VM, "-N", "node2")
        with_history(moved, outdir / "partial-migration.xml", "node1", "migrate_to", 0)
        with_history(moved, outdir / "failed-migrate-to.xml", "node1", "migrate_to", 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "replay")
