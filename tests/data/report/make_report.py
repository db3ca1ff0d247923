"""Make ``seed-report.tar.bz2``: a crm_report-shaped archive of real scheduler inputs.

The layout is crm_report's (``DEST/<node>/pengine/pe-input-N.bz2``, ``DEST/<node>/cib.xml``,
``DEST/description.txt``); the inputs are the scheduler inputs of ``tests/data/replay`` (made by
``tests/data/make_inputs.py`` with the real Pacemaker tools), bzip2-compressed as a DC saves them.
Node1 was DC first, node2 after it; node2's series starts with the input node1 saved last (the same
content under two nodes, as crm_report collects it when the DC changes), so a replay must drop one.
The inputs come from separate branches of one settled CIB; their CIB versions are renumbered along the
series (epoch 10, 11, ...) as one cluster's history would grow them, so time and version agree.

    python tests/data/report/make_report.py
"""

from __future__ import annotations

import bz2
import io
import re
import tarfile
from pathlib import Path

HERE = Path(__file__).parent
REPLAY = HERE.parent / "replay"
START = 1795600000  # file times, one minute apart: the order the DCs saved them
SERIES = [
    ("node1", "pe-input-40.bz2", "settled.xml"),
    ("node1", "pe-input-41.bz2", "move.xml"),
    ("node1", "pe-input-42.bz2", "failed-migrate-to.xml"),
    ("node2", "pe-input-7.bz2", "failed-migrate-to.xml"),
    ("node2", "pe-input-8.bz2", "crash.xml"),
    ("node2", "pe-warn-3.bz2", "failed-dependency.xml"),
]


def add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def main() -> None:
    with tarfile.open(HERE / "seed-report.tar.bz2", "w:bz2") as tar:
        add(tar, "seed-report/description.txt", b"crm_report of the seed scenario's inputs (test data)\n", START)
        epochs: dict[str, int] = {}
        for minute, (node, name, source) in enumerate(SERIES):
            epoch = epochs.setdefault(source, 10 + len(epochs))  # the same input keeps its version
            xml = re.sub(
                rb'(<cib[^>]*?) epoch="\d+"', rb'\1 epoch="%d"' % epoch, (REPLAY / source).read_bytes(), count=1
            )
            add(tar, f"seed-report/{node}/pengine/{name}", bz2.compress(xml), START + 60 * minute)
        for node in ("node1", "node2"):
            add(tar, f"seed-report/{node}/cib.xml", (REPLAY / "settled.xml").read_bytes(), START + 600)


if __name__ == "__main__":
    main()
