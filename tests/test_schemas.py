"""A CIB a newer Pacemaker wrote (a Debian 13 cluster's, schema pacemaker-4.0) given to Debian 12's
tools: `replay` and `scenario from-report` say so and name the releases that read it, instead of
a page of Relax-NG complaints; with `--release trixie` from-report renders it with that release's
crmsh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness import cib as cibmod
from harness import release, schemas
from harness.cli import main

REAL = Path(__file__).parent / "data" / "real" / "group-standby.pe-input.xml"


def written_by_pacemaker_3(tmp_path: Path) -> Path:
    """A real 2.1.5 input claiming Pacemaker 3.0's schema, as a Debian 13 cluster's CIB does."""
    text = re.sub(r'validate-with="pacemaker-[\d.]+"', 'validate-with="pacemaker-4.0"', REAL.read_text())
    path = tmp_path / "pe-input-7.xml"
    path.write_text(text)
    return path


def test_newest_schema_is_the_one_cibadmin_writes() -> None:
    newest = schemas.newest()
    assert newest is not None and str(newest).startswith("3.")  # Debian 12: Pacemaker 2.1.5, pacemaker-3.9
    assert schemas.newer_than_this(cibmod.read(REAL)) is None


def test_replay_of_a_newer_pacemakers_input_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(written_by_pacemaker_3(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert (
        f"claims CIB schema pacemaker-4.0, newer than Pacemaker 2.1.5 reads (up to pacemaker-{schemas.newest()})" in err
    )
    assert "--release trixie (Pacemaker 3.0.0)" in err and "Relax-NG" not in err


def test_from_report_of_a_newer_pacemakers_cib_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scenario.yaml"
    assert main(["scenario", "from-report", str(written_by_pacemaker_3(tmp_path)), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "crmsh cannot render this CIB: it claims CIB schema pacemaker-4.0" in err and "--release trixie" in err
    assert not out.exists()


@pytest.mark.network
def test_from_report_renders_it_with_the_release_that_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "scenario.yaml"
    previous = release.active()
    try:
        assert (
            main(
                [
                    "scenario",
                    "from-report",
                    str(written_by_pacemaker_3(tmp_path)),
                    "--release",
                    "trixie",
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
    finally:
        release.activate(previous)
    written = yaml.safe_load(out.read_text())
    assert written["nodes"] == ["node1", "node2"] and written["resources"] == ["vm-webdev"]
    assert "primitive vm-webdev" in written["configuration"]
