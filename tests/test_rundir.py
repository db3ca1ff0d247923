"""Run directories belong to one user: the root is per user and 0700, and refused when not private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness import rundir
from harness.errors import UnsafeDirectory


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(rundir.ENV_RUNS, raising=False)
    monkeypatch.setattr(rundir, "TMP", tmp_path)
    return tmp_path


def test_default_root_is_per_user_and_private(tmp_root: Path) -> None:
    root = rundir.root()
    assert root == tmp_root / f"migration-harness-{os.getuid()}" / "runs"
    assert mode(root.parent) == 0o700 and mode(root) == 0o700
    run = rundir.RunDir.create("local")
    assert run.path.parent == root and mode(run.path) == 0o700
    secret = run.path / "corosync-authkey"
    rundir.write_secret(secret, b"k" * 32)
    assert mode(secret) == 0o600
    assert [r.id for r in rundir.all_runs()] == [run.id]


@pytest.mark.parametrize("bits", [0o777, 0o770, 0o1777])
def test_a_root_others_can_write_is_refused(tmp_root: Path, bits: int) -> None:
    base = tmp_root / f"migration-harness-{os.getuid()}"
    base.mkdir()
    base.chmod(bits)
    with pytest.raises(UnsafeDirectory, match="can be written by other users") as info:
        rundir.root()
    assert info.value.path == base and "MIGRATION_HARNESS_RUNS" in str(info.value)
    with pytest.raises(UnsafeDirectory):
        rundir.all_runs()  # `clean` would act on what a state file there says


def test_a_root_owned_by_someone_else_or_a_symlink_is_refused(tmp_root: Path, tmp_path: Path) -> None:
    base = tmp_root / f"migration-harness-{os.getuid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    base.symlink_to(elsewhere)
    with pytest.raises(UnsafeDirectory, match="symbolic link"):
        rundir.root()
    base.unlink()
    if os.getuid() != 0:
        pytest.skip("changing a directory's owner needs root")
    base.mkdir(mode=0o700)
    os.chown(base, 65534, 65534)
    with pytest.raises(UnsafeDirectory, match="owned by uid 65534"):
        rundir.RunDir.create("local")


def test_given_root_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = tmp_path / "runs"
    monkeypatch.setenv(rundir.ENV_RUNS, str(given))
    assert rundir.root() == given and mode(given) == 0o700
    given.chmod(0o757)
    with pytest.raises(UnsafeDirectory):
        rundir.root()


def test_state_without_a_tier_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("[1, 2]")
    with pytest.raises(rundir.HarnessError, match="not a run directory"):
        rundir.RunDir.open(tmp_path)


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_clean_removes_a_run_killed_before_it_recorded_its_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # CI, 2026-11-26: `up --tier local` killed 0.25 s after its start, between RunDir.create (tier and
    # owner) and the lab's first update (the node count): `clean` exited 2 ("not a local-tier run").
    from harness.cli import main

    monkeypatch.setenv(rundir.ENV_RUNS, str(tmp_path / "runs"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    run = rundir.RunDir.create("local")
    run.update(owner=_dead_pid())
    assert set(run.data) == {"tier", "owner", "created"}
    assert main(["clean"]) == 0
    assert not run.path.exists()
    assert f"run directory {run.path}" in capsys.readouterr().out


def test_one_run_clean_cannot_remove_does_not_keep_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness import tiers
    from harness.cli import main
    from harness.errors import HarnessError

    monkeypatch.setenv(rundir.ENV_RUNS, str(tmp_path / "runs"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    stuck, fine = rundir.RunDir.create("nested"), rundir.RunDir.create("local")
    for run in (stuck, fine):
        run.update(owner=_dead_pid())

    class Stuck:
        @classmethod
        def clean(cls, run: rundir.RunDir) -> list[str]:
            raise HarnessError("libvirt did not answer")

    real = tiers.get_lab
    monkeypatch.setattr(tiers, "get_lab", lambda tier: Stuck if tier == "nested" else real(tier))
    assert main(["clean"]) == 2
    assert stuck.path.exists() and not fine.path.exists()
    err = capsys.readouterr().err
    assert f"run {stuck.path} not cleaned: libvirt did not answer" in err
