"""Real scheduler output of Debian 12 (2.1.5) and Debian 13 (3.0.0) for the same 2.1.5 corpus inputs.

``<input>.<release>.result.xml`` and ``.graph.xml`` for each ``*.xml`` input here (copied from the
pacemaker 2.1.5 corpus). Debian 13's tools come from release.ensure("trixie") (built once).

    PYTHONPATH=. python tests/data/conformance/upgrade/make_outputs.py
"""

from __future__ import annotations

from pathlib import Path

from harness import release, releaseroot
from harness.runner import run

HERE = Path(__file__).parent


def main() -> None:
    previous = release.active()
    try:
        for name in ("bookworm", "trixie"):
            release.activate(releaseroot.ensure(name))
            for source in sorted(HERE.glob("*.xml")):
                if source.name.count(".") > 1:
                    continue  # an output, not an input
                stem = source.stem
                graph = HERE / f"{stem}.{name}.graph.xml"
                result = run(["crm_simulate", "--xml-file", str(source), "--run", "--save-graph", str(graph),
                              "--output-as", "xml"])
                (HERE / f"{stem}.{name}.result.xml").write_text(result.stdout.replace(str(HERE) + "/", ""))
    finally:
        release.activate(previous)


if __name__ == "__main__":
    main()
