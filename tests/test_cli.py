"""The command line, end to end on the simulate tier (real crmsh and crm_simulate)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import tools
from harness.cli import main
from harness.version import pacemaker_version

BAD_CRM = """\
name: typo
nodes: 2
resources: [vm1]
configuration: |
  primitive vm1 ocf:pacemaker:Dummy \\
    meta allow-migrate=true
  colocaton c inf: vm1 vm1
expect: migrate
"""


def test_run_seed_json_poster_and_recommended(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            "seed-xen",
            "--json",
            "--style",
            "colocation-order",
            "--style",
            "order-only",
            "--trigger",
            "move",
            "--trigger",
            "dependency-failure",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    verdicts = {(c["style"], c["trigger"]): c["verdicts"][0]["verdict"] for c in data["cases"]}
    assert verdicts == {
        ("colocation-order", "move"): "migrate",
        ("colocation-order", "dependency-failure"): "restart",
        ("order-only", "move"): "migrate",
        ("order-only", "dependency-failure"): "restart",
    }
    assert all(c["status"] == "PASS" for c in data["cases"])
    assert "ocf:lvm2:clvmd" in data["cases"][0]["unknown_agents"]


def test_run_table_and_exit_code_on_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(BAD_CRM.replace("  colocaton c inf: vm1 vm1\n", "").replace("expect: migrate", "expect: move"))
    assert main(["run", str(wrong), "--trigger", "move", "--keep", str(tmp_path / "ev")]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH: vm1: migrate node1 -> node2; expected move" in out
    assert "0 passed, 1 failed" in out
    (evidence,) = (tmp_path / "ev").glob("typo-*-as-written-move")  # the scenario's name and file hash
    assert (evidence / "transition.graph.xml").exists()
    assert (evidence / "transition.summary.txt").read_text().count("Migrate    vm1") == 1


def test_crm_syntax_error_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(BAD_CRM)
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:7: crmsh rejects the configuration" in err
    assert "colocaton" in err and "Traceback" not in err


def test_unknown_resource_in_trigger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ghost.yaml"
    bad.write_text(
        BAD_CRM.replace("  colocaton c inf: vm1 vm1\n", "").replace(
            "expect: migrate", "triggers:\n  - move: {resource: ghost}\nexpect: migrate"
        )
    )
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "names resource 'ghost'" in err and "known resources: vm1" in err


def test_missing_crm_simulate_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = shutil.which
    monkeypatch.setattr(
        tools.shutil, "which", lambda tool, path=None: None if tool == "crm_simulate" else real(tool, path=path)
    )
    assert main(["run", "seed-xen"]) == 2
    err = capsys.readouterr().err
    assert "'crm_simulate' was not found" in err and "apt-get install pacemaker-cli-utils" in err


def test_unknown_tier_and_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nope"]) == 2
    assert "no scenario file or shipped scenario called 'nope'" in capsys.readouterr().err


def test_show_prints_crm_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "seed-xen", "--style", "order-only"]) == 0
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith("order ord-c-xen-vg-fs-then-vm-webdev Mandatory: c-xen-vg-fs vm-webdev")
    )


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("migration-harness")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed\n")
    proc = subprocess.run([str(exe), "run", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid YAML" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGINT in the middle of a run: exit 130, a short message, no file left in the temp directory."""
    import os
    import signal
    import time

    exe = Path(sys.executable).with_name("migration-harness")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "MIGRATION_HARNESS_CACHE": "off"}
    proc = subprocess.Popen(
        [str(exe), "run", "seed-xen"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a test runner started in the background passes it ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not any(scratch.glob("mh-run-*/settled/*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert list(scratch.iterdir()) == []


def test_record_writes_measured_block_and_keeps_the_file_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness import scenario

    path = tmp_path / "typo.yaml"
    path.write_text(
        BAD_CRM.replace("  colocaton c inf: vm1 vm1\n", "").replace(
            "expect: migrate", "triggers: [move, crash]\nexpect: [{trigger: crash, verdict: start}, {verdict: migrate}]"
        )
    )
    assert main(["run", str(path), "--record"]) == 0
    text = path.read_text()
    expected = (
        f"measured:\n  simulate pacemaker-{pacemaker_version()}:\n    as-written: {{move: migrate, crash: start}}"
    )
    assert expected in text, text
    assert scenario.load(path).name == "typo"
    capsys.readouterr()
    assert main(["run", str(path), "--json"]) == 0
    results = tmp_path / "out.json"
    results.write_text(capsys.readouterr().out)
    assert main(["record", str(results), str(path)]) == 0
    assert path.read_text() == text  # recording the same verdicts again changes nothing


def test_record_of_nested_verdicts_names_release_xen_guest_and_the_guests_evidence(tmp_path: Path) -> None:
    """`record` of a nested run's --json: one entry per release, Xen and guest type; each cell says
    what the guest did."""
    import json

    import yaml

    path = tmp_path / "typo.yaml"
    path.write_text(BAD_CRM.replace("  colocaton c inf: vm1 vm1\n", ""))
    case = {
        "scenario": "typo",
        "file": str(path),
        "case": "as-written-move",
        "style": "as-written",
        "trigger": "move",
        "tier": "nested",
        "release": "bookworm",
        "pacemaker": "2.1.5",
        "facts": {"xen": "4.17.5", "guest": "pv"},
        "guest": "kept running, down 17210 ms",
        "verdicts": [{"verdict": "migrate"}],
    }
    results = tmp_path / "nested.json"
    results.write_text(
        json.dumps(
            {
                "cases": [
                    case,
                    {
                        **case,
                        "case": "as-written-crash",
                        "trigger": "crash",
                        "guest": "rebooted (2 boots)",
                        "verdicts": [{"verdict": "start"}],
                    },
                ]
            }
        )
    )
    assert main(["record", str(results), str(path)]) == 0
    measured = yaml.safe_load(path.read_text())["measured"]
    assert measured == {
        "nested pacemaker-2.1.5 (bookworm, xen-4.17.5, pv)": {
            "as-written": {
                "move": "migrate; guest kept running, down 17210 ms",
                "crash": "start; guest rebooted (2 boots)",
            }
        }
    }
