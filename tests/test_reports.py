"""Reports as people paste them: crm_report archives and directories into replay, a scenario written
from a report (round trip), pcs commands, host names and node attributes, groups under test, refused
moves. Every test runs the real tools (crm_simulate, crmsh, pcs) through the real CLI."""

from __future__ import annotations

import bz2
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from harness import cli, reportinput
from harness.errors import InputError

DATA = Path(__file__).parent / "data"
REPORT = DATA / "report" / "seed-report.tar.bz2"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


# -- crm_report in ---------------------------------------------------------------------------------
def test_report_inputs_by_time_once() -> None:
    report = reportinput.load(REPORT)
    assert report.nodes == ["node1", "node2"]
    assert [(i.node, i.path.name) for i in report.inputs] == [
        ("node1", "pe-input-40.bz2"),
        ("node1", "pe-input-41.bz2"),
        ("node1", "pe-input-42.bz2"),  # node2's pe-input-7 holds the same input: dropped
        ("node2", "pe-input-8.bz2"),
        ("node2", "pe-warn-3.bz2"),
    ]
    assert report.duplicates == 1


def test_replay_of_a_report_tarball_gives_the_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _cli(capsys, "replay", str(REPORT))
    assert rc == 0, err
    assert out.splitlines()[:5] == [
        "5 scheduler inputs replayed",
        "4 of them act on a resource",
        "",
        "timeline of vm-webdev:",
        "  node1-pe-input-41.bz2: migrate node1 -> node2",
    ]
    # Pacemaker's own words for the transition after the failed migrate_to: Recover vm-webdev ( node2 ).
    assert "  node1-pe-input-42.bz2: recover on node2" in out


@pytest.mark.parametrize("layout", ["pengine", "var/lib/pacemaker/pengine"])
def test_replay_of_a_report_directory(tmp_path: Path, layout: str, capsys: pytest.CaptureFixture[str]) -> None:
    with tarfile.open(REPORT) as tar:
        tar.extractall(tmp_path, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp_path)
    root = tmp_path / "seed-report"
    if layout != "pengine":
        for node in ("node1", "node2"):
            target = root / node / layout
            target.parent.mkdir(parents=True)
            shutil.move(root / node / "pengine", target)
    rc, out, err = _cli(capsys, "replay", str(root))
    assert rc == 0, err
    assert out.startswith("5 scheduler inputs replayed")


def _tar(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo("r/node1/pengine/pe-input-9.bz2")
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
    return path


def test_an_archive_reaching_outside_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = _tar(tmp_path / "evil.tar.gz", {"r/node1/pengine/../../../escaped/pe-input-1.bz2": b"x"})
    rc, _, err = _cli(capsys, "replay", str(evil))
    assert rc == 2 and "points outside the report: refused" in err and "Traceback" not in err
    assert not (tmp_path / "escaped").exists()


def test_links_in_an_archive_are_never_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = bz2.compress((DATA / "replay" / "move.xml").read_bytes())
    archive = _tar(tmp_path / "r.tar.gz", {"r/node1/pengine/pe-input-1.bz2": good}, link="/etc/shadow")
    rc, out, err = _cli(capsys, "replay", str(archive))
    assert rc == 0, err
    assert "vm-webdev  migrate  node1  node2" in out  # the one regular input; the link was skipped


@pytest.mark.parametrize("content", [b"not an archive at all", None])
def test_a_bad_archive_is_a_clear_error(
    tmp_path: Path, content: bytes | None, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "report.tar.bz2"
    bad.write_bytes(content if content is not None else REPORT.read_bytes()[:3000])  # None: truncated
    rc, _, err = _cli(capsys, "replay", str(bad))
    assert rc == 2 and "cannot read this archive" in err and "Traceback" not in err


def test_a_report_without_inputs_says_so(tmp_path: Path) -> None:
    (tmp_path / "r" / "node1" / "pengine").mkdir(parents=True)
    with pytest.raises(InputError, match="holds no scheduler inputs"):
        reportinput.inputs(tmp_path / "r")


# -- scenario out ----------------------------------------------------------------------------------
def test_from_report_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = tmp_path / "from-report.yaml"
    rc, _, err = _cli(capsys, "scenario", "from-report", str(REPORT), "--record", "-o", str(written))
    assert rc == 0, err
    text = written.read_text()
    assert "nodes: [node1, node2]" in text and "resources: [vm-webdev]" in text
    assert "primitive vm-webdev Xen" in text  # crmsh's own rendering of the CIB
    rc, out, err = _cli(capsys, "run", str(written))
    assert rc == 0, out + err
    assert "3 passed, 0 failed" in out


def test_from_report_without_record_prints_a_loadable_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _cli(capsys, "scenario", "from-report", str(DATA / "real" / "move-colocation-order.pe-input-3.bz2"))
    assert rc == 0, err
    assert "# dropped: location cli-prefer-vm-webdev" in out and "verdict: migrate" in out


# -- pasted configurations -------------------------------------------------------------------------
PCS_HOSTS = """\
name: pcs-hosts
nodes: [xen01, xen02, xen03]
resources: [vm1]
attributes: {xen01: {rack: a}}
status-attributes: {xen02: {pingd: 0}}
configuration: |
  [root@xen01 ~]# pcs resource create vm1 ocf:heartbeat:Xen xmfile=/etc/xen/vm1.cfg meta allow-migrate=true
  pcs resource create libvirtd systemd:libvirtd clone
  pcs constraint location vm1 prefers xen01=100
  pcs constraint location vm1 rule score=-INFINITY pingd lt 1
  pcs constraint order start libvirtd-clone then start vm1
triggers: [{move: {node: xen03}}, {standby: {node: xen01}}, crash]
expect:
  - trigger: crash
    verdict: start
  - verdict: migrate
"""


def test_pcs_commands_with_host_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pcs.yaml"
    path.write_text(PCS_HOSTS)
    rc, out, err = _cli(capsys, "run", "--json", str(path))
    assert rc == 0, out + err
    cases = json.loads(out)["cases"]
    # xen02's transient pingd=0 keeps vm1 off it: the scheduler sends it to xen03.
    assert {(c["trigger"], v["verdict"], v["from"], v["to"]) for c in cases for v in c["verdicts"]} == {
        ("move", "migrate", "xen01", "xen03"),
        ("standby", "migrate", "xen01", "xen03"),
        ("crash", "start", None, "xen03"),  # Pacemaker's summary: Start vm1 ( xen03 )
    }
    assert cases[0]["unknown_agents"] == ["systemd:libvirtd"]  # forced with --force, reported


@pytest.mark.parametrize(
    "configuration,message,line",
    [
        ("  Cluster name: xen\n  Stack: corosync\n", "what `pcs status` prints", 6),
        (
            "  Ticket Constraints:\n    vm1 ticket=T (id:t1)\n",
            "ticket constraints are not supported",
            7,
        ),
        (
            "  Ordering Constraints:\n    start a then start b (kind:Mandatory)\n",
            "pcs refuses this command",
            7,
        ),
        (
            "  pcs resource create vm1 ocf:heartbeat:Xen xmfilez=/x meta allow-migrate=true\n",
            "invalid resource option 'xmfilez'",
            6,
        ),
        (
            "  pcs resource create vm1 ocf:heartbeat:Xen xmfile=/x\n  primitive x Dummy\n",
            "mixes pcs commands and crm syntax",
            6,
        ),
        ("  primitive vm1 Xen params xmfile=/x\n  location l vm1 100: xen07\n", "names host 'xen07'", 7),
        ("  primitive vm1 Xen params xmfile=/x\n  location l vm1 rule -inf: #uname eq xen9\n", "names host 'xen9'", 7),
    ],
)
def test_pasted_configurations_that_cannot_run(
    tmp_path: Path, configuration: str, message: str, line: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pasted.yaml"
    path.write_text(
        f"name: pasted\nnodes: [xen01, xen02]\nresources: [vm1]\nexpect: migrate\nconfiguration: |\n{configuration}"
    )
    rc, _, err = _cli(capsys, "run", str(path))
    assert rc == 2 and "Traceback" not in err
    assert message in err and f"{path}:{line}:" in err, err


GROUP = """\
name: group
nodes: [xen01, xen02]
resources: [gr1]
configuration: |
  primitive vm1 Xen params xmfile=/etc/xen/vm1.cfg meta allow-migrate=true
  primitive vm2 Xen params xmfile=/etc/xen/vm2.cfg meta allow-migrate=true
  primitive vm3 Xen params xmfile=/etc/xen/vm3.cfg meta allow-migrate=true
  group gr1 vm1 vm2
  location l-vm3 vm3 -inf: xen02
  location l-gr1 gr1 50: xen01
triggers: [move, {move: {resource: vm3}}]
expect:
  - trigger: {move: {resource: vm3}}
    verdict: stay
  - resource: vm2
    verdict: migrate
  - verdict: [migrate]
"""


def test_a_group_moves_as_one_with_a_verdict_per_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "group.yaml"
    path.write_text(GROUP)
    rc, out, err = _cli(capsys, "run", "--json", str(path))
    assert rc == 0, out + err
    move, move_vm3 = json.loads(out)["cases"]
    assert [(v["id"], v["verdict"], v["from"], v["to"]) for v in move["verdicts"]] == [
        ("vm1", "migrate", "xen01", "xen02"),
        ("vm2", "migrate", "xen01", "xen02"),
    ]
    assert any("forbidden by location l-vm3 (vm3 -INFINITY on xen02)" in n for n in move_vm3["notes"])


def test_a_move_to_where_it_runs_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "same.yaml"
    path.write_text(GROUP.replace("triggers: [move, {move: {resource: vm3}}]", "triggers: [{move: {node: xen01}}]"))
    rc, _, err = _cli(capsys, "run", str(path))
    assert rc == 2 and "where it already runs" in err and "name another node: xen02" in err, err


CLONE = """\
name: clone-target
nodes: [xen01, xen02, xen03]
resources: [lv-clone, vm1]
configuration: |
  primitive lv ocf:heartbeat:LVM-activate params vgname=vg1 vg_access_mode=lvmlockd
  clone lv-clone lv meta interleave=true clone-max=2
  primitive vm1 Xen params xmfile=/etc/xen/vm1.cfg meta allow-migrate=true
  colocation c inf: vm1 lv-clone
  order o Mandatory: lv-clone vm1
triggers: [{standby: {node: xen01}}]
expect:
  - resource: lv-clone
    verdict: move
  - verdict: move
"""


def test_a_clone_under_test_has_a_verdict_per_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clone.yaml"
    path.write_text(CLONE)
    rc, out, err = _cli(capsys, "run", "--json", str(path))
    assert rc == 0, out + err
    (case,) = json.loads(out)["cases"]
    assert [(v["id"], v["verdict"], v["from"], v["to"]) for v in case["verdicts"]] == [
        ("lv:0", "move", "xen01", "xen03"),
        ("vm1", "move", "xen01", "xen02"),
    ]


def test_a_refused_command_keeps_crm_resource_words_and_names_the_rule() -> None:
    import xml.etree.ElementTree as ET

    from harness import refusal
    from harness.runner import Result

    cib = ET.fromstring(
        "<cib><configuration><resources><group id='g'><primitive id='vm1'/></group></resources><constraints>"
        "<rsc_location id='l-rule' rsc='g'><rule id='r1' score='-INFINITY'>"
        "<expression id='e1' attribute='#uname' operation='eq' value='xen02'/></rule></rsc_location>"
        "</constraints></configuration></cib>"
    )
    said = "crm_resource: Error performing operation: Forbidden\n<cib epoch='1'>\n  <configuration/>\n</cib>\n"
    error = refusal.command_refused(Result(("crm_resource",), 78, "", said, 0.1), "move vm1 xen02", cib, "vm1", "xen02")
    text = str(error)
    assert "crm_resource exited 78" in text and "Error performing operation: Forbidden" in text
    assert "<cib" not in text and "location l-rule rule r1 (score -INFINITY: #uname eq xen02)" in text


CRM_REPORT = DATA / "report" / "xen-crm-report.tar.bz2"


def test_replay_of_a_real_crm_report_names_the_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _cli(capsys, "replay", str(CRM_REPORT))
    assert rc == 0, err
    assert out.startswith("11 scheduler inputs replayed\n")
    assert (
        "timeline of vm1:\n  xen02-pe-input-3.bz2: start on xen01\n  xen02-pe-input-4.bz2: migrate xen01 -> xen02"
        in out
    )


def test_from_a_real_crm_report_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = tmp_path / "xen.yaml"
    rc, _, err = _cli(capsys, "scenario", "from-report", str(CRM_REPORT), "--record", "-o", str(written))
    assert rc == 0, err
    assert "nodes: [xen01, xen02]" in written.read_text()
    rc, out, err = _cli(capsys, "run", str(written))
    assert rc == 0, out + err
    assert "4 passed, 0 failed" in out and "vm2: migrate xen01 -> xen02" in out


@pytest.mark.parametrize("suffix,mode", [(".tar.gz", "w:gz"), (".tar.xz", "w:xz")])
def test_every_compression_crm_report_writes(tmp_path: Path, suffix: str, mode: str) -> None:
    with tarfile.open(REPORT) as source, tarfile.open(tmp_path / f"seed-report{suffix}", mode) as target:  # type: ignore[call-overload]
        for member in source:
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    assert [i.path.name for i in reportinput.load(tmp_path / f"seed-report{suffix}").inputs][:2] == [
        "pe-input-40.bz2",
        "pe-input-41.bz2",
    ]
