"""Copy the corpus inputs the conformance unit tests use, with the real scheduler output for each.

For every name below: ``<name>.xml`` (the input of Pacemaker's regression corpus, as the Debian
archive's pacemaker 2.1.5 source has it), ``<name>.summary`` (its expected Transition Summary),
and what the host's crm_simulate (2.1.5, Debian 12) answers: ``<name>.result.xml``
(``--output-as=xml``) and ``<name>.graph.xml`` (``--save-graph``). Rerun it after a change of
release and review the diff.

    PYTHONPATH=. python tests/data/conformance/make_inputs.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness import corpus
from harness.runner import run

HERE = Path(__file__).parent
# name -> the class of disagreement it shows (see tests/test_conformance.py)
NAMES = {
    "bug-suse-707150": "a: Start vm-01 blocked by an unrunnable clone",
    "group14": "a: starts blocked by no quorum",
    "migrate-5": "b: summary instance dom0-iscsi1-cnx1:1, graph long-id :0",
    "a-demote-then-b-migrate": "b: promotable instances demoted/promoted as the summary names them",
    "stonith-1": "c: resources of a fenced node move from it",
    "promoted-8": "d: a move that changes the role",
    "bug-pm-11": "d: start + promote of a stopped instance is Promote (Stopped -> Promoted)",
    "bug-5186-partial-migrate": "e: a VM left half-migrated moves from where the summary says",
    "rec-rsc-0": "a resource active on two nodes: two summary lines",
    "mon-rsc-3": "a pending start: the graph acts, the summary lists nothing",
}


def main(release: str = "bookworm") -> None:
    with corpus.open_corpus(release) as found:
        for name in NAMES:
            shutil.copyfile(found.root / "xml" / f"{name}.xml", HERE / f"{name}.xml")
            shutil.copyfile(found.root / "summary" / f"{name}.summary", HERE / f"{name}.summary")
            result = run(["crm_simulate", "--xml-file", str(HERE / f"{name}.xml"), "--run",
                          "--save-graph", str(HERE / f"{name}.graph.xml"), "--output-as", "xml"])
            (HERE / f"{name}.result.xml").write_text(result.stdout.replace(str(HERE) + "/", ""))


if __name__ == "__main__":
    main(*sys.argv[1:])
