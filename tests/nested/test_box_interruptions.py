"""Interrupt `migration-harness box build` and check that nothing is left behind.

The box build runs mmdebstrap into a work directory next to the finished boxes, then makes a disk
image through two loop devices and a mount. It is interrupted when its progress says a phase has
begun: SIGKILL while mmdebstrap installs (its processes outlive the harness: `clean` must find and
stop them), SIGKILL while the image is mounted (`clean` must unmount, detach the loop devices and
remove the work directory), SIGINT at the same moment (the harness stops the build script, which
cleans up after itself: nothing for `clean`). Afterwards: no unfinished build directory, no mount
or loop device under the cache, no process naming it. Real mmdebstrap from the Debian archive, in
a cache of the test's own: minutes, marked `network`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from interrupting import CLI, interrupt_at, naming

from harness import teardown

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.geteuid() != 0, reason="a box build needs root"),
    pytest.mark.skipif(shutil.which("mmdebstrap") is None, reason="needs mmdebstrap (ci/install nested)"),
]

# Progress that says a phase has begun, and how long it may take to get there.
PHASES = {"mmdebstrap": ("mmdebstrap bookworm", 60), "mounted": (": grub (", 600)}


def _leftovers(cache: Path) -> list[str]:
    left = [f"process {pid} names the cache" for pid in naming(str(cache))]
    left += [f"unfinished build {p}" for p in (cache / "boxes").glob(".building-*")]
    left += [f"mount {m}" for m in teardown.mounts_under(cache)]
    left += [f"loop device {d}" for d in teardown.loops_backed_under(cache)]
    return left


@pytest.mark.parametrize(
    ("phase", "sig"),
    [("mmdebstrap", signal.SIGKILL), ("mounted", signal.SIGKILL), ("mounted", signal.SIGINT)],
    ids=["SIGKILL-mmdebstrap", "SIGKILL-mounted", "SIGINT-mounted"],
)
def test_interrupted_box_build_leaves_nothing(phase: str, sig: int, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "MIGRATION_HARNESS_CACHE": str(cache)}
    marker, limit = PHASES[phase]
    # 3 s into the phase: mmdebstrap's apt running, the image mounted.
    done = interrupt_at(["box", "build", "--release", "bookworm"], env, marker, limit, sig, settle=3)
    rc, out = done.rc, done.output
    print(f"{phase}: signal {sig} at {done.at:.0f} s, rc {rc}")
    if sig == signal.SIGINT:
        assert rc == 130, out[-2000:]
        assert "Traceback" not in out
        assert _leftovers(cache) == []  # the build script cleaned up after itself: nothing for clean
        return
    assert rc == -signal.SIGKILL
    before = _leftovers(cache)
    assert any(item.startswith("unfinished build") for item in before), before  # what clean is for
    cleaned = subprocess.run([*CLI, "clean"], env=env, capture_output=True, text=True, timeout=300)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "unfinished box build" in cleaned.stdout, cleaned.stdout
    assert _leftovers(cache) == [], cleaned.stdout
