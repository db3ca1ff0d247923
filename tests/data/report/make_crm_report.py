"""Make ``xen-crm-report.tar.bz2`` with the real ``crm_report`` on a real local-tier cluster (root).

A cluster of two nodes named xen01 and xen02 (corosync + pacemaker in namespaces, stand-in agents)
runs ``crm-report-source.yaml`` (moves and a standby of two guests), then ``crm_report -S`` runs
inside each node (there is no ssh between namespaced nodes, so each collects itself, as crm_report's
collector does on every node) and the two are combined into one report directory, as crm_report
does over ssh. Only the files the harness reads are kept (each node's ``pengine/``, ``cib.xml``,
``crm_mon.txt``, ``members.txt``): the rest holds the host's journal and system information.

    python tests/data/report/make_crm_report.py
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from harness import scenario
from harness.engine import run_case
from harness.tiers.local.backend import LocalBackend
from harness.version import pacemaker_version

HERE = Path(__file__).parent
KEPT = ("cib.xml", "crm_mon.txt", "members.txt")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mh-crm-report-"))
    source = scenario.load(HERE / "crm-report-source.yaml")
    backend = LocalBackend(work / "run")
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 60))
    try:
        backend.up(source.nodes, source.node_names)
        for case in source.cases():
            result = run_case(backend, case, work / case.id, pacemaker_version())
            print(case.id, result.status)
        lab = backend.lab
        assert lab is not None
        for node in lab.plan.node_names:
            lab.run_in(node, ["crm_report", "-S", "-f", start, str(work / f"{node}-report")], timeout=600)
    finally:
        backend.down()
    combined = work / "xen-report"
    for node in source.node_names:
        with tarfile.open(work / f"{node}-report.tar.bz2") as tar:
            tar.extractall(work / "unpacked")
        collected = work / "unpacked" / f"{node}-report" / node
        (combined / node).mkdir(parents=True)
        for name in KEPT:
            if (collected / name).exists():
                shutil.copy2(collected / name, combined / node / name)
        if (collected / "pengine").is_dir():
            shutil.copytree(collected / "pengine", combined / node / "pengine")
    with tarfile.open(HERE / "xen-crm-report.tar.bz2", "w:bz2") as tar:
        tar.add(combined, arcname="xen-report")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
