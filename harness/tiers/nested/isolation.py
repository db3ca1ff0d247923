"""A run's own libvirtd, in a network + mount namespace of its own, so nothing touches the host.

``ip netns add mh-<id>``; a holder process (provisioning/host/ns-holder.sh) inside it with a
private mount namespace binds private libvirt directories under the run directory; virtlogd and
libvirtd start in there (``nsenter -t <holder> -m -n``). Every vagrant call and every SSH socket
is made inside. Teardown kills, by PID, the daemons we started and whatever else lives in the
run's network namespace (its qemu and dnsmasq processes), then deletes the namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import HarnessError
from ...runner import run, spawn
from . import files

HOLDER = files.PROVISIONING / "host" / "ns-holder.sh"
QEMU_CONF = """
# migration-harness: a private libvirtd for one run, inside its own namespaces.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
"""
CLONE_NEWNET = 0x40000000


@dataclass
class Isolation:
    """The namespaces and daemons of one run; all fields are recorded in the run's state."""

    netns: str
    state_dir: Path
    holder: int | None = None
    virtlogd: int | None = None
    libvirtd: int | None = None

    @classmethod
    def for_run(cls, run_id: str, run_path: Path) -> Isolation:
        return cls(netns=f"mh-{run_id}", state_dir=run_path / "libvirt")

    def to_state(self) -> dict:
        return {
            "netns": self.netns,
            "state_dir": str(self.state_dir),
            "holder": self.holder,
            "virtlogd": self.virtlogd,
            "libvirtd": self.libvirtd,
        }

    @classmethod
    def from_state(cls, data: dict) -> Isolation:
        return cls(
            data["netns"], Path(data["state_dir"]), data.get("holder"), data.get("virtlogd"), data.get("libvirtd")
        )

    def prefix(self, workdir: Path | None = None) -> list[str]:
        """argv prefix that runs a command inside the run's namespaces."""
        if self.holder is None:
            raise HarnessError(f"namespace {self.netns} has no holder process")
        wd = [f"--wd={workdir}"] if workdir else []
        return ["nsenter", "-t", str(self.holder), "-m", "-n", *wd, "--"]

    def start(self, on_pid: Callable[[Isolation], None]) -> None:
        """Create namespaces and start virtlogd + libvirtd; ``on_pid`` records progress so a
        failure half-way can still be cleaned up."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        etc = self.state_dir / "etc"
        if not etc.exists():
            shutil.copytree("/etc/libvirt", etc, symlinks=True)
            # No host default network (virbr0) in here.
            shutil.rmtree(etc / "qemu" / "networks" / "autostart", ignore_errors=True)
            with open(etc / "qemu.conf", "a") as conf:
                conf.write(QEMU_CONF)
        run(["ip", "netns", "add", self.netns], what="creating the run's network namespace")
        on_pid(self)
        ready = self.state_dir / "holder.ready"
        ready.unlink(missing_ok=True)
        self.holder = spawn(
            [
                "ip",
                "netns",
                "exec",
                self.netns,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                HOLDER,
                self.state_dir,
                ready,
            ],
            log_path=self.state_dir / "holder.log",
        ).pid
        on_pid(self)
        wait_for(lambda: ready.exists(), 20, f"namespace holder (see {self.state_dir / 'holder.log'})")
        pids = self.state_dir / "pids"
        pids.mkdir(exist_ok=True)
        run([*self.prefix(), "virtlogd", "-d", "-p", pids / "virtlogd.pid"], what="starting virtlogd")
        self.virtlogd = _read_pid(pids / "virtlogd.pid")
        on_pid(self)
        run([*self.prefix(), "libvirtd", "-d", "-p", pids / "libvirtd.pid"], what="starting libvirtd")
        self.libvirtd = _read_pid(pids / "libvirtd.pid")
        on_pid(self)
        wait_for(lambda: run(self.virsh("version"), check=False, timeout=30).ok, 60, "libvirtd")
        images = "/var/lib/libvirt/images"
        run(self.virsh("pool-define-as", "default", "dir", "--target", images), what="defining the pool")
        run(self.virsh("pool-start", "default"), what="starting the pool")

    def virsh(self, *args: str) -> list[str]:
        """argv of virsh talking to the run's own libvirtd."""
        return [*self.prefix(), "virsh", "-c", "qemu:///system", *args]

    def pids_inside(self) -> list[int]:
        """Every process in the run's network namespace (all of them ours)."""
        return netns_pids(self.netns)

    def stop(self) -> list[str]:
        """Kill what we started, by PID; delete the namespace. Returns what was removed."""
        removed: list[str] = []
        first = [p for p in (self.libvirtd, self.virtlogd) if p]
        for pid in first + [p for p in self.pids_inside() if p not in first and p != self.holder]:
            if kill_pid(pid):
                removed.append(f"process {pid}")
        if self.holder and kill_pid(self.holder):
            removed.append(f"namespace holder {self.holder}")
        if delete_netns(self.netns):
            removed.append(f"network namespace {self.netns}")
        self.holder = self.virtlogd = self.libvirtd = None
        return removed

    def connect(self, host: str, port: int, timeout: float = 10) -> socket.socket:
        """A TCP connection made inside the run's network namespace (for paramiko)."""
        if self.holder is None:
            raise HarnessError(f"namespace {self.netns} is not running")
        return socket_in_netns(f"/proc/{self.holder}/ns/net", host, port, timeout)


def netns_pids(netns: str) -> list[int]:
    """The processes in a named network namespace (none if it is gone)."""
    result = run(["ip", "netns", "pids", netns], check=False, timeout=30)
    return [int(p) for p in result.stdout.split() if p.isdigit()] if result.ok else []


def delete_netns(netns: str) -> bool:
    """Delete a named network namespace (its veth ends go with it); False if there was none."""
    if not Path(f"/run/netns/{netns}").exists():
        return False
    run(["ip", "netns", "del", netns], check=False)
    return True


def socket_in_netns(netns_file: str, host: str, port: int, timeout: float = 10) -> socket.socket:
    """A TCP connection made inside a network namespace (setns in a thread of its own: it applies
    to that thread only, and the socket keeps the namespace it was made in)."""
    result: dict[str, object] = {}

    def worker() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            fd = os.open(netns_file, os.O_RDONLY)
        except OSError as exc:
            result["error"] = exc
            return
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                result["error"] = OSError(ctypes.get_errno(), "setns")
                return
            result["sock"] = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            result["error"] = exc
        finally:
            os.close(fd)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["sock"]  # type: ignore[return-value]


def _read_pid(path: Path) -> int:
    for _ in range(50):
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise HarnessError(f"no PID in {path}")


def kill_pid(pid: int, grace: float = 5.0) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        _reap(pid)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # not our child, or already reaped
        os.waitpid(pid, os.WNOHANG)


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise HarnessError(f"{what} not ready after {seconds:.0f}s")
