"""Releases as a parameter: the same scenario answered by Debian 12's and Debian 13's Pacemaker.

The Debian 13 tools come from a root filesystem built once with mmdebstrap (cached outside the
clone) and run with bubblewrap; this test builds it on a machine that has not yet (a few minutes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import release
from harness.cli import main

SCENARIO = """\
name: upgrade
nodes: 2
resources: [vm1]
configuration: |
  primitive vm1 ocf:heartbeat:Xen params xmfile=/etc/xen/vm1.cfg meta allow-migrate=true
  primitive lv ocf:pacemaker:Dummy
  clone lv-clone lv meta interleave=true
  order o inf: lv-clone vm1
triggers: [move, standby]
expect: migrate
"""


def test_wrap_binds_the_paths_a_command_uses(tmp_path: Path) -> None:
    cib = tmp_path / "cib.xml"
    cib.write_text("<cib/>")
    previous = release.active()
    release.activate(release.Release("trixie", tmp_path / "rootfs"))
    try:
        argv = release.wrap(["/usr/sbin/crm_simulate", "--xml-file", str(cib)], {"CIB_file": str(cib)})
    finally:
        release.activate(previous)
    assert argv[:4] == ["bwrap", "--bind", str(tmp_path / "rootfs"), "/"]
    assert ["--bind", str(tmp_path), str(tmp_path)] == argv[
        argv.index(str(tmp_path)) - 1 : argv.index(str(tmp_path)) + 2
    ]
    assert argv[-3:] == ["/usr/sbin/crm_simulate", "--xml-file", str(cib)]


def test_unknown_release_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "seed-xen", "--release", "potato"]) == 2
    assert "unknown release 'potato'" in capsys.readouterr().err


@pytest.mark.network
def test_same_scenario_on_debian_12_and_13(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "upgrade.yaml"
    path.write_text(SCENARIO)
    previous = release.active()
    try:
        code = main(["run", str(path), "--release", "bookworm", "--release", "trixie", "--json"])
    finally:
        release.activate(previous)
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    seen = {(c["release"], c["pacemaker"], c["trigger"]): c["verdicts"][0]["verdict"] for c in data["cases"]}
    # Debian 13 ships Pacemaker 3.0.0 (the release's own fact, not the host's).
    assert seen == {
        ("bookworm", "2.1.5", "move"): "migrate",
        ("bookworm", "2.1.5", "standby"): "migrate",
        ("trixie", "3.0.0", "move"): "migrate",
        ("trixie", "3.0.0", "standby"): "migrate",
    }
