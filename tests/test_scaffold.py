"""`migration-harness init`: a user's repository that pytest runs as it is, and that is never
written over by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness import scaffold
from harness.cli import main


def test_init_writes_a_repository_pytest_runs(pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(pytester.path)]) == 0
    out = capsys.readouterr().out
    assert all(f"wrote {pytester.path / where}" in out for where in scaffold.FILES.values())
    assert "MIGRATION_HARNESS_PIP" in out  # no --harness: the pipelines need the CI variable
    result = pytester.runpytest("-m", "migration", "-p", "no:cacheprovider")
    # 7 styles x 4 triggers, the group test of tests/test_cluster.py; the two migration_nodes tests skipped
    result.assert_outcomes(passed=29, skipped=2)


def test_init_refuses_to_overwrite_and_names_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "my-xen-vm.yaml").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"would overwrite {tmp_path}/scenarios/my-xen-vm.yaml, {tmp_path}/pytest.ini" in err and "--force" in err
    assert (tmp_path / "pytest.ini").read_text() == "[pytest]\n" and not (tmp_path / ".gitlab-ci.yml").exists()
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert "testpaths = scenarios tests" in (tmp_path / "pytest.ini").read_text()


def test_init_into_a_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert main(["init", str(tmp_path / "file")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_pipelines_install_the_given_harness_and_keep_the_evidence(tmp_path: Path) -> None:
    spec = "migration-harness[nested] @ git+https://git.example.org/migration-harness.git@v0.1.0"
    scaffold.scaffold(tmp_path, harness=spec)
    github = yaml.safe_load((tmp_path / ".github/workflows/migration-harness.yml").read_text())
    gitlab = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    assert spec in github["env"]["MIGRATION_HARNESS_PIP"] and gitlab["variables"]["MIGRATION_HARNESS_PIP"] == spec
    assert set(github["jobs"]) == {"simulate", "local", "nested"} and "if" in github["jobs"]["nested"]
    assert {"simulate", "local", "nested"} <= set(gitlab) and gitlab["nested"]["rules"]
    for job in ("simulate", "local", "nested"):
        steps = github["jobs"][job]["steps"]
        assert any(
            f"--tier {job}" in str(s.get("run", "")) and f"--migration-html reports/{job}.html" in s["run"]
            for s in steps
        )
        assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
        assert any(f"--tier {job}" in line for line in gitlab[job]["script"] if isinstance(line, str))
    assert gitlab[".migration-harness"]["artifacts"]["reports"]["junit"] == "reports/*.xml"


def test_a_harness_spec_that_would_break_the_pipelines_is_refused(tmp_path: Path) -> None:
    with pytest.raises(scaffold.InputError, match="quotes and newlines"):
        scaffold.scaffold(tmp_path, harness="x'; rm -rf /")
