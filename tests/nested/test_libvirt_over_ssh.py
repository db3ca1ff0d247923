"""The run's libvirtd reached over SSH (front.py), for real and without VMs: the run's namespaces and
libvirtd (isolation.py), dropbear on the test address, libvirt's qemu+ssh:// transport from the
client namespace, the jump the harness's SSH takes, and a teardown that leaves nothing.

Seconds, not minutes: runs in the README's `pytest` where the nested tier's packages are installed
and the user is root; skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import paramiko
import pytest

from harness.runner import run
from harness.tiers.nested import front as front_mod
from harness.tiers.nested import settings
from harness.tiers.nested.front import Front
from harness.tiers.nested.isolation import Isolation

NEEDED = ("libvirtd", "virtlogd", "virsh", "virt-ssh-helper", "dropbear", "dropbearkey", "ssh", "ssh-keygen", "nsenter")


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (ci/install nested)"
    return None


def test_addresses_are_the_runs_own_and_apart_from_its_other_networks() -> None:
    plan = settings.make_plan("0afc96", 2)
    host, client = front_mod.addresses("0afc96")
    assert host.rsplit(".", 1)[0] == client.rsplit(".", 1)[0]
    assert (host.split(".")[3], client.split(".")[3]) == ("1", "2")
    assert int(host.split(".")[1]) >= 192  # 10.192.0.0/10: not the management (10.64/10) or cluster (10.128/10)
    assert host.split(".")[2] == plan.cluster_prefix.split(".")[2]
    assert front_mod.addresses("1fd616") != (host, client)


def test_an_unknown_mode_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import InputError

    monkeypatch.setenv(front_mod.ENV, "tcp")
    with pytest.raises(InputError, match="MIGRATION_HARNESS_LIBVIRT='tcp': not a libvirt mode"):
        front_mod.mode()
    monkeypatch.setenv(front_mod.ENV, "")
    assert front_mod.mode() == "private"
    monkeypatch.setenv(front_mod.ENV, "ssh")
    assert front_mod.mode() == "ssh"


def test_a_bad_mode_fails_before_a_run_directory_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    runs = tmp_path / "runs"
    monkeypatch.setenv("MIGRATION_HARNESS_RUNS", str(runs))
    monkeypatch.setenv(front_mod.ENV, "tcp")
    assert main(["up", "--tier", "nested"]) == 2
    err = capsys.readouterr().err
    assert "MIGRATION_HARNESS_LIBVIRT='tcp': not a libvirt mode" in err and "Traceback" not in err
    assert not runs.exists() or not any(runs.iterdir())


@pytest.fixture
def libvirt_host(tmp_path: Path):
    why = _why_not()
    if why:
        pytest.skip(f"libvirt over SSH: {why}")
    run_id = f"t{os.getpid() % 100000:05d}"
    isolation = Isolation.for_run(run_id, tmp_path)
    front = Front.for_run(run_id, tmp_path)
    states: list[dict] = []
    try:
        isolation.start(lambda iso: None)
        front.start(isolation, lambda f: states.append(f.to_state()))
        yield isolation, front, states
    finally:
        front.stop()
        isolation.stop()


def test_the_runs_libvirtd_answers_over_ssh_from_the_client_side(libvirt_host) -> None:
    isolation, front, states = libvirt_host
    # Named in the state before the namespace existed, then with dropbear's PID.
    assert states[0]["client_netns"] == front.client_netns and states[0]["dropbear"] is None
    assert states[-1]["dropbear"] == front.dropbear
    # libvirt's own SSH transport, from the client namespace: the run's libvirtd and its pool.
    pools = run(front.virsh("pool-list", "--all", "--name"), timeout=60).stdout.split()
    assert pools == ["default"]
    uri = run(front.virsh("uri"), timeout=60).stdout.strip()
    assert uri == front.uri()
    # The host side's libvirtd is the run's: a network defined over SSH shows on its socket.
    xml = front.directory / "net.xml"
    xml.write_text("<network><name>mh-over-ssh</name><bridge name='mhovrssh0'/></network>")
    run(front.virsh("net-define", str(xml)), timeout=60)
    assert "mh-over-ssh" in run(isolation.virsh("net-list", "--all", "--name"), timeout=60).stdout.split()
    # The client side is a namespace of its own: its address, not the libvirt host's.
    ours = run([*front.prefix(), "ip", "-o", "-4", "addr", "show"], timeout=30).stdout
    assert front.client_address in ours and front.address not in ours
    # Keys and known hosts are the run's: the libvirt host's key went to its file, not ~/.ssh.
    assert (front.directory / "known_hosts").read_text().count(front.address) == 1
    known = Path("/root/.ssh/known_hosts")
    assert not known.exists() or front.address not in known.read_text()


def test_the_harness_ssh_jumps_through_the_libvirt_host(libvirt_host) -> None:
    _, front, _ = libvirt_host
    channel = front.connect(front.address, 22)  # what a VM's Node gets: a channel, not a socket
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        front.address,
        username="root",
        key_filename=str(front.key),
        sock=channel,
        allow_agent=False,
        look_for_keys=False,
    )
    _, out, _ = client.exec_command("ip -o -4 addr show")
    seen = out.read().decode()
    client.close()
    assert front.address in seen  # the command ran on the libvirt host's side


def test_stop_leaves_nothing(libvirt_host) -> None:
    isolation, front, _ = libvirt_host
    dropbear = front.dropbear
    assert dropbear and Path(f"/proc/{dropbear}").exists()
    # A teardown from the recorded state alone, as `clean` does after a SIGKILL.
    removed = Front.from_state(front.to_state()).stop() + isolation.stop()
    assert f"network namespace {front.client_netns}" in removed
    assert not Path(f"/run/netns/{front.client_netns}").exists()
    assert not Path(f"/run/netns/{isolation.netns}").exists()
    assert not Path(f"/proc/{dropbear}").exists() or "zombie" in Path(f"/proc/{dropbear}/status").read_text().lower()
