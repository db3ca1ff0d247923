"""The run's libvirtd reached over SSH, as a libvirt host on another machine is
(``MIGRATION_HARNESS_LIBVIRT=ssh``, ``up --libvirt ssh``).

The libvirt host is the run's own namespaces (isolation.py: its libvirtd, its VMs and their
networks) plus a dropbear SSH server there, listening on a test address of a veth pair. The other
end of the pair is in a second network namespace, the client side (``mh-<id>-c``), where Vagrant,
virsh and the harness's own SSH sessions run. From there, the only way in is the libvirt host's
SSH, as with a remote host:

- libvirt: ``qemu+ssh://root@<address>/system`` (libvirt's SSH transport; virt-ssh-helper on the
  far side talks to the libvirtd there), for Vagrant's domains, networks, volume uploads and for
  the harness's snapshots;
- Vagrant's own SSH to each VM: ``ProxyCommand ssh <address> -W %h:%p`` through the libvirt host;
- the harness's paramiko sessions: a ``direct-tcpip`` channel through one SSH transport to it.

The client key, the host key, the known-hosts file and an ``ssh`` wrapper that names them live in
the run directory: nothing is read from or written to ``~/.ssh``. Root's home inside the libvirt
host's mount namespace is the run's (a private /etc/passwd bound there), so its authorized_keys is
the run's too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from ...errors import InputError
from ...runner import run, spawn
from .isolation import Isolation, delete_netns, kill_pid, netns_pids, socket_in_netns, wait_for
from .settings import run_subnet

MODES = ("private", "ssh")
ENV = "MIGRATION_HARNESS_LIBVIRT"


def mode() -> str:
    """How Vagrant reaches the run's libvirtd: ``private`` (its socket, inside the run's namespaces;
    the default) or ``ssh`` (over SSH from a second namespace, as a remote libvirt host)."""
    chosen = os.environ.get(ENV, "").strip() or "private"
    if chosen not in MODES:
        raise InputError(f"{ENV}={chosen!r}: not a libvirt mode", hint=f"one of {', '.join(MODES)} (or unset: private)")
    return chosen


def addresses(run_id: str) -> tuple[str, str]:
    """The libvirt host's and the client's test address (a /30 of the run's own, 10.192.0.0/10)."""
    a, b = run_subnet(run_id)
    return f"10.{192 + a}.{b}.1", f"10.{192 + a}.{b}.2"


@dataclass
class Front:
    """The libvirt host's SSH side and the client namespace; every field is in the run's state."""

    client_netns: str
    directory: Path
    address: str
    client_address: str
    link: str  # the veth's name on the libvirt host's side (the client's: link[:-1] + "c")
    dropbear: int | None = None

    def __post_init__(self) -> None:
        self._jump: paramiko.Transport | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, run_id: str, run_path: Path) -> Front:
        address, client = addresses(run_id)
        return cls(f"mh-{run_id}-c", run_path / "front", address, client, f"mh{run_id}h")

    def to_state(self) -> dict:
        return {
            "client_netns": self.client_netns,
            "directory": str(self.directory),
            "address": self.address,
            "client_address": self.client_address,
            "link": self.link,
            "dropbear": self.dropbear,
        }

    @classmethod
    def from_state(cls, data: dict) -> Front:
        return cls(
            data["client_netns"],
            Path(data["directory"]),
            data["address"],
            data["client_address"],
            data["link"],
            data.get("dropbear"),
        )

    # --- what the client side uses ---------------------------------------------------------

    @property
    def key(self) -> Path:
        return self.directory / "client_key"

    @property
    def ssh(self) -> Path:
        """``ssh`` with the run's key, known-hosts file and options: for libvirt and ProxyCommand."""
        return self.directory / "ssh"

    def uri(self) -> str:
        return f"qemu+ssh://root@{self.address}/system?command={self.ssh}&keyfile={self.key}"

    def proxy_command(self) -> str:
        return f"{self.ssh} {self.address} -W %h:%p"

    def prefix(self, workdir: Path | None = None) -> list[str]:
        """argv prefix that runs a command on the client side."""
        wd = [f"--wd={workdir}"] if workdir else []
        return ["nsenter", f"--net=/run/netns/{self.client_netns}", *wd, "--"]

    def virsh(self, *args: str) -> list[str]:
        return [*self.prefix(), "virsh", "-c", self.uri(), *args]

    def connect(self, host: str, port: int) -> paramiko.Channel:
        """A channel to ``host:port`` on the libvirt host's networks, through its SSH (for paramiko)."""
        try:
            return self._transport().open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=10)
        except paramiko.SSHException as exc:
            raise OSError(f"through the libvirt host {self.address}: {exc}") from None

    def _transport(self) -> paramiko.Transport:
        with self._lock:
            if self._jump is not None and self._jump.is_active():
                return self._jump
            sock = socket_in_netns(f"/run/netns/{self.client_netns}", self.address, 22)
            transport = paramiko.Transport(sock)
            try:
                transport.start_client(timeout=20)
                transport.auth_publickey("root", paramiko.Ed25519Key.from_private_key_file(str(self.key)))
            except (paramiko.SSHException, OSError):
                transport.close()
                raise
            transport.set_keepalive(15)
            self._jump = transport
            return transport

    def close(self) -> None:
        with self._lock:
            if self._jump is not None:
                self._jump.close()
                self._jump = None

    # --- bring-up and teardown --------------------------------------------------------------

    def start(self, isolation: Isolation, on_state: Callable[[Front], None]) -> None:
        """Keys and files, the client namespace and its link, dropbear on the libvirt host."""
        inside = isolation.prefix()  # the libvirt host's namespaces (raises if it has no holder)
        # The link is made from the host's mount namespace, where /run/netns names the client's
        # namespace (the libvirt host's mount namespace is private: it does not see it).
        net_only = ["nsenter", "-t", str(isolation.holder), "-n", "--"]
        self._write_files()
        on_state(self)  # the client namespace is named in the state before it exists
        run(["ip", "netns", "add", self.client_netns], what="creating the client side's network namespace")
        peer = self.link[:-1] + "c"
        run(
            [
                *net_only,
                "ip",
                "link",
                "add",
                self.link,
                "type",
                "veth",
                "peer",
                "name",
                peer,
                "netns",
                self.client_netns,
            ],
            what="linking the libvirt host to the client side",
        )
        run([*net_only, "ip", "addr", "add", f"{self.address}/30", "dev", self.link], what="the libvirt host's address")
        run([*net_only, "ip", "link", "set", self.link, "up"], what="the libvirt host's link")
        client = ["ip", "-n", self.client_netns]
        run([*client, "addr", "add", f"{self.client_address}/30", "dev", peer], what="the client's address")
        run([*client, "link", "set", peer, "up"], what="the client's link")
        run([*client, "link", "set", "lo", "up"], what="the client's loopback")
        # Root's home on the libvirt host is the run's (its authorized_keys): a private passwd.
        run(
            [*inside, "mount", "--bind", self.directory / "passwd", "/etc/passwd"],
            what="root's home on the libvirt host",
        )
        self.dropbear = spawn(
            [
                *inside,
                "dropbear", "-F", "-E", "-s", "-m", "-e", "-k",
                "-r", self.directory / "hostkey",
                "-p", f"{self.address}:22",
                "-P", self.directory / "dropbear.pid",
            ],
            log_path=self.directory / "dropbear.log",
        ).pid  # fmt: skip
        on_state(self)
        wait_for(self._answers, 30, f"SSH on the libvirt host {self.address} (see {self.directory / 'dropbear.log'})")

    def _answers(self) -> bool:
        return run([*self.prefix(), self.ssh, self.address, "true"], check=False, timeout=20).ok

    def _write_files(self) -> None:
        d = self.directory
        home = d / "root"
        (home / ".ssh").mkdir(parents=True, exist_ok=True)
        for path in (d, home, home / ".ssh"):
            path.chmod(0o700)
        if not self.key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.client_netns, "-f", self.key])
        if not (d / "hostkey").exists():
            run(["dropbearkey", "-t", "ed25519", "-f", d / "hostkey"], what="the libvirt host's SSH key")
        keys = home / ".ssh" / "authorized_keys"
        keys.write_text(Path(f"{self.key}.pub").read_text())
        keys.chmod(0o600)
        passwd = []
        for line in Path("/etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if len(fields) == 7 and fields[0] == "root":
                fields[5], fields[6] = str(home), "/bin/sh"
            passwd.append(":".join(fields))
        (d / "passwd").write_text("\n".join(passwd) + "\n")
        (d / "ssh_config").write_text(
            "Host *\n"
            "  User root\n"
            f"  IdentityFile {self.key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {d / 'known_hosts'}\n"
            "  StrictHostKeyChecking accept-new\n"
            "  BatchMode yes\n"
            "  ConnectTimeout 20\n"
            "  ServerAliveInterval 15\n"
            "  LogLevel ERROR\n"
        )
        self.ssh.write_text(f'#!/bin/sh\n# ssh to the run\'s libvirt host\nexec ssh -F {d / "ssh_config"} "$@"\n')
        self.ssh.chmod(0o700)

    def stop(self) -> list[str]:
        """Stop dropbear and whatever runs on the client side (by PID), delete the client namespace
        (its end of the link goes with it)."""
        self.close()
        removed: list[str] = []
        for pid in [p for p in (self.dropbear,) if p] + netns_pids(self.client_netns):
            if kill_pid(pid):
                removed.append(f"process {pid}")
        if delete_netns(self.client_netns):
            removed.append(f"network namespace {self.client_netns}")
        self.dropbear = None
        return removed
