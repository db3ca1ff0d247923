"""What `clean` releases under a leftover directory: mounts (deepest first) and loop devices.

The mountinfo lines are this machine's own (a tmpfs mounted on a path with a space, and one under
it); the loop devices are read from a directory laid out as /sys/block is.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from harness import procs, teardown

MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
95 27 0:44 / /tmp/mh-mi/x\\040y rw,relatime - tmpfs none rw
96 95 0:45 / /tmp/mh-mi/x\\040y/sub rw,relatime - tmpfs none rw
"""


def test_mounts_under_a_directory_deepest_first_with_escapes_decoded() -> None:
    assert teardown.mounts_under(Path("/tmp/mh-mi"), MOUNTINFO) == ["/tmp/mh-mi/x y/sub", "/tmp/mh-mi/x y"]
    assert teardown.mounts_under(Path("/tmp/mh-mi/x y/sub"), MOUNTINFO) == ["/tmp/mh-mi/x y/sub"]


def test_a_sibling_with_a_common_prefix_is_not_under() -> None:
    assert teardown.mounts_under(Path("/tmp/mh"), MOUNTINFO) == []


def test_loop_devices_backed_by_files_under_a_directory(tmp_path: Path) -> None:
    base = tmp_path / ".building-box-123"
    for name, backing in [
        ("loop0", f"{base}/work/disk.raw"),
        ("loop1", f"{base}/work/disk.raw (deleted)"),  # the file removed while attached
        ("loop2", "/var/lib/other/disk.img"),
    ]:
        (tmp_path / "sys" / name / "loop").mkdir(parents=True)
        (tmp_path / "sys" / name / "loop" / "backing_file").write_text(backing + "\n")
    (tmp_path / "sys" / "loop3").mkdir()  # an unattached loop device has no loop/ directory
    assert teardown.loops_backed_under(base, tmp_path / "sys") == ["/dev/loop0", "/dev/loop1"]


def test_processes_working_in_a_directory_and_their_children_hold_it(tmp_path: Path) -> None:
    base = tmp_path / ".building-box-1"
    base.mkdir()
    # A shell working in the directory (as dpkg in a chroot does) and the child it starts.
    shell = subprocess.Popen(["sh", "-c", "sleep 30 & wait"], cwd=base)
    try:
        deadline = time.monotonic() + 5
        while not procs.children(shell.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        held = {p.pid for p in procs.holding(base)}
        assert shell.pid in held and set(procs.children(shell.pid)) <= held and len(held) == 2
        assert procs.holding(tmp_path / "elsewhere") == []
    finally:
        procs.terminate([*procs.holding(base)], grace=1.0)  # the sleep and the shell, by PID
        shell.wait()


def test_unfinished_box_builds_are_those_of_dead_builders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.tiers.nested import box

    monkeypatch.setenv("MIGRATION_HARNESS_CACHE", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()  # a PID that has exited
    boxes = tmp_path / "boxes"
    dead, alive = boxes / f".building-mh-x-{gone.pid}", boxes / f".building-mh-x-{os.getpid()}"
    for directory in (dead, alive, boxes / "mh-x-finished"):
        directory.mkdir(parents=True)
    (boxes / f".building-link-{gone.pid}").symlink_to(dead)  # a link is never removed
    assert box.unfinished_builds() == [dead]
