"""Commands on the VMs over SSH (paramiko), as the vagrant user with sudo.

Remote commands are argument lists, quoted with ``shlex.join`` for the remote shell, never strings
built from input. The TCP connection is made by a ``connect`` callable, so it can be opened inside
the run's network namespace.
"""

from __future__ import annotations

import logging
import shlex
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko

from ...errors import CommandFailed, HarnessError
from ...runner import Result
from ...runner import log as runner_log

# A node that is fenced or rebooting on purpose makes paramiko log tracebacks of its own; the
# harness reports lost connections itself (HarnessError with the node and the command).
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

# A TCP connection to a VM: a socket made inside the run's namespace, or a channel through the
# libvirt host's SSH (front.py); paramiko takes either as its ``sock``.
Connect = Callable[[str, int], socket.socket | paramiko.Channel]


@dataclass(frozen=True)
class Endpoint:
    """What ``vagrant ssh-config`` says about one machine."""

    name: str
    host: str
    port: int
    user: str
    key: Path


class Node:
    """One VM's SSH session."""

    def __init__(self, endpoint: Endpoint, connect: Connect) -> None:
        self.endpoint = endpoint
        self._connect = connect
        self._client: paramiko.SSHClient | None = None

    @property
    def name(self) -> str:
        return self.endpoint.name

    def _transport_of(self, client: paramiko.SSHClient) -> paramiko.Transport:
        transport = client.get_transport()
        if transport is None:
            raise HarnessError(f"{self.name}: the SSH connection to {self.endpoint.host} closed")
        return transport

    def client(self, wait: float = 0) -> paramiko.SSHClient:
        if self._client is not None:
            transport = self._client.get_transport()
            if transport is not None and transport.is_active():
                return self._client
        deadline = time.monotonic() + wait
        while True:
            try:
                sock = self._connect(self.endpoint.host, self.endpoint.port)
                client = paramiko.SSHClient()
                # Host keys are made on each VM's first boot of a throw-away run; nothing to pin.
                client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
                client.connect(
                    self.endpoint.host,
                    port=self.endpoint.port,
                    username=self.endpoint.user,
                    key_filename=str(self.endpoint.key),
                    sock=sock,
                    timeout=20,
                    banner_timeout=60,
                    auth_timeout=60,
                    allow_agent=False,
                    look_for_keys=False,
                )
                self._transport_of(client).set_keepalive(15)
                self._client = client
                return client
            except (OSError, paramiko.SSHException) as exc:
                if time.monotonic() >= deadline:
                    raise HarnessError(
                        f"{self.name}: SSH to {self.endpoint.host}:{self.endpoint.port} failed: {exc}"
                    ) from None
                time.sleep(2)

    def run(
        self,
        argv: Sequence[str],
        *,
        sudo: bool = True,
        check: bool = True,
        timeout: float = 600,
        on_line: Callable[[str], None] | None = None,
        what: str | None = None,
    ) -> Result:
        """Run argv on the node; with ``on_line`` each stdout line is passed on as it comes."""
        command = shlex.join(["sudo", "-n", *argv] if sudo else list(argv))
        # Logged like the runner's local commands: --debug promises every external command.
        runner_log.debug("ssh %s: %s", self.name, command)
        try:
            result = self._run(command, check=check, timeout=timeout, on_line=on_line, what=what)
            runner_log.debug("ssh %s: rc=%d in %.3fs", self.name, result.rc, result.seconds)
            return result
        except (OSError, EOFError, paramiko.SSHException) as exc:
            # The VM went away under us (fenced, rebooted, destroyed): say which and what.
            self.close()
            raise HarnessError(
                f"{what + ': ' if what else ''}{self.name}: SSH connection lost during {command!r}: {exc!r}"
            ) from None

    def _run(
        self, command: str, *, check: bool, timeout: float, on_line: Callable[[str], None] | None, what: str | None
    ) -> Result:
        started = time.monotonic()
        channel = self._transport_of(self.client()).open_session(timeout=30)
        channel.settimeout(timeout)
        channel.exec_command(command)
        out, err = bytearray(), bytearray()
        pending = b""
        try:
            while True:
                if channel.recv_ready():
                    chunk = channel.recv(65536)
                    out += chunk
                    if on_line:
                        pending += chunk
                        *lines, pending = pending.split(b"\n")
                        for line in lines:
                            on_line(line.decode(errors="replace"))
                elif channel.recv_stderr_ready():
                    err += channel.recv_stderr(65536)
                elif channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                else:
                    time.sleep(0.05)
                if time.monotonic() - started > timeout:
                    raise TimeoutError()
        except TimeoutError:
            channel.close()
            raise CommandFailed(
                [self.name, command], None, out.decode(errors="replace"), err.decode(errors="replace"), what=what
            ) from None
        rc = channel.recv_exit_status()
        channel.close()
        if on_line and pending:
            on_line(pending.decode(errors="replace"))
        result = Result(
            (self.name, command),
            rc,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            time.monotonic() - started,
        )
        if check and rc != 0:
            raise CommandFailed([f"{self.name}:", command], rc, result.stdout, result.stderr, what=what)
        return result

    def put(self, remote: str, data: bytes, mode: int = 0o600) -> None:
        """Write a file as the SSH user (into a staging directory it owns)."""
        runner_log.debug("sftp %s: put %s (%d bytes, mode %o)", self.name, remote, len(data), mode)
        with self.client().open_sftp() as sftp:
            with sftp.open(remote, "wb") as fh:
                fh.write(data)
            sftp.chmod(remote, mode)

    def interactive(self, argv: Sequence[str]) -> int:
        """Run argv with output to our stdout/stderr (for ``migration-harness exec``)."""
        result = self.run(argv, check=False, on_line=lambda line: print(line, flush=True))
        if result.stderr:
            sys.stderr.write(result.stderr)
        return result.rc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def parse_ssh_config(name: str, conf: dict[str, str]) -> Endpoint:
    """From python-vagrant's ``conf()`` dict to an Endpoint; a missing key is a clear error."""
    try:
        return Endpoint(name, conf["HostName"], int(conf["Port"]), conf["User"], Path(conf["IdentityFile"].strip('"')))
    except (KeyError, ValueError) as exc:
        raise HarnessError(f"{name}: unusable ssh-config from vagrant ({exc}): {conf}") from None
