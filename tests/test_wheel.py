"""The package as a user gets it: a wheel built from the checkout, installed with its dependencies
from PyPI into a fresh venv outside the checkout, used from a user's own directory.

Marked ``network`` (PyPI; a few minutes with the local tier's cases): deselected by default, CI runs it
with ``-m network``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest

from harness.errors import BackendUnavailable
from harness.runner import run
from harness.tiers.local.backend import LocalBackend

pytestmark = pytest.mark.network

CHECKOUT = Path(__file__).resolve().parent.parent
# Everything one tier or another needs at run time, asked of whichever harness the interpreter finds.
PROBE = """
import json, os
import harness
from harness.tiers.nested import box, files
xen = box.choose_xen("bookworm", "pinned")
digest = box.inputs_hash("bookworm", xen, box.DEFAULT_MIRROR, box.DEFAULT_SECURITY)
package = os.path.dirname(harness.__file__)
print(json.dumps({
    "package": package,
    "vagrantfile": files.VAGRANT_DIR.joinpath("Vagrantfile").is_file(),
    "provisioning": sorted(str(p.relative_to(files.PROVISIONING))
                           for p in files.PROVISIONING.rglob("*") if p.is_file()),
    "executable": sorted(os.path.relpath(os.path.join(d, f), package) for d, _, names in os.walk(package)
                         for f in names if os.access(os.path.join(d, f), os.X_OK)),
    "box": box.box_name("bookworm", xen, digest),
}))
"""


def tracked(directory: str) -> list[str]:
    """Files of the checkout under ``directory`` that git tracks or would (untracked, not ignored)."""
    out = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", directory], cwd=CHECKOUT).stdout
    return sorted(line for line in out.splitlines() if (CHECKOUT / line).is_file())


def clean_env(**extra: str) -> dict[str, str]:
    """Nothing of this test session leaks into the user's commands (the checkout on PYTHONPATH,
    pytest's own options)."""
    return {"PYTHONPATH": "", "PYTEST_ADDOPTS": "", "PYTEST_PLUGINS": "", "MIGRATION_HARNESS_TIER": "", **extra}


class Installed(NamedTuple):
    """The wheel installed into a fresh venv, and a user's repository `init` wrote next to it."""

    wheel: Path
    venv: Path
    python: str
    user: Path
    repo: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp_path = tmp_path_factory.mktemp("wheel")
    # A copy of the checkout's files, so that the build writes nothing into the checkout.
    source = tmp_path / "source"
    for name in tracked("."):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, source / name)
    dist = tmp_path / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(dist), "--no-deps", "-q"],
        timeout=600,
        what="build the wheel",
    )
    (wheel,) = dist.glob("migration_harness-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], what="a fresh venv")
    python = str(venv / "bin" / "python")
    run(
        [python, "-m", "pip", "install", "-q", f"{wheel}[nested]"],
        env=clean_env(),
        timeout=900,
        what="install the wheel and its dependencies from PyPI",
    )
    user = tmp_path / "user"
    user.mkdir()
    run([str(venv / "bin" / "migration-harness"), "init", "repo"], cwd=user, env=clean_env())
    return Installed(wheel, venv, python, user, user / "repo")


def users_pytest(installed: Installed, *args: str) -> str:
    """`pytest -m migration ARGS` in the user's repository with the installed harness; its output."""
    result = run(
        [installed.python, "-m", "pytest", "-m", "migration", "-p", "no:cacheprovider", *args],
        cwd=installed.repo,
        env=clean_env(),
        check=False,
        timeout=900,
    )
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def test_wheel_holds_every_package_file(installed: Installed) -> None:
    in_wheel = {info.filename: info for info in zipfile.ZipFile(installed.wheel).infolist()}
    package_files = tracked("harness")
    assert not [name for name in package_files if name not in in_wheel], "package files missing from the wheel"
    executable = [name for name in package_files if os.access(CHECKOUT / name, os.X_OK)]
    assert "harness/agents/standin" in executable
    assert all(in_wheel[name].external_attr >> 16 & 0o111 for name in executable)


def test_users_repository_on_the_simulate_tier(installed: Installed) -> None:
    out = users_pytest(installed, "--junitxml", "junit.xml", "--migration-html", "report.html")
    assert "29 passed, 2 skipped" in out  # 7 styles x 4 triggers and the group test; the nodes' two
    assert (installed.repo / "report.html").stat().st_size > 10000 and (installed.repo / "junit.xml").exists()


def test_users_repository_on_the_local_tier(installed: Installed, tmp_path: Path) -> None:
    """Real corosync + pacemaker in namespaces, the stand-in agent from the installed package, and
    the user's own testinfra checks on the nodes (`migration_nodes`): every style x trigger of the
    example scenario, the group test, the two node tests (the Xen one skips: the local tier's nodes
    run no hypervisor). About 3 minutes."""
    try:
        LocalBackend.sanity_check()
    except BackendUnavailable as exc:
        pytest.skip(f"tier local cannot run here: {exc}")
    html = tmp_path / "local.html"
    out = users_pytest(installed, "--tier", "local", "--migration-html", str(html))
    assert "30 passed, 1 skipped" in out, out[-3000:]  # 7 styles x 4 triggers, the group test, the nodes' test
    assert "the local tier's nodes run no hypervisor" in out  # -rs: the Xen check's reason
    page = html.read_text()
    assert page.count("stood in for by the harness's agents") == 28, "every scenario case says it used stand-ins"


def test_installed_package_resolves_every_nested_input(installed: Installed) -> None:
    user, python, venv = installed.user, installed.python, installed.venv
    there = json.loads(run([python, "-c", PROBE], cwd=user, env=clean_env()).stdout)
    here = json.loads(run([sys.executable, "-c", PROBE], cwd=CHECKOUT, env={"PYTHONPATH": str(CHECKOUT)}).stdout)
    assert there["package"].startswith(str(venv)) and here["package"] == str(CHECKOUT / "harness")
    assert there["vagrantfile"] and there["provisioning"] == here["provisioning"]
    assert {"box/build.sh", "box/guest/init", "roles/node.sh"} <= set(there["provisioning"])
    assert [p for p in here["executable"] if "__pycache__" not in p] == there["executable"]
    assert there["box"] == here["box"], "the installed wheel names a different box than the checkout"
