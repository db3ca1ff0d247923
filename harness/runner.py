"""The one place that runs external programs.

Argument lists only, never a shell; an explicit environment; everything logged at debug level.
Running a tool and interpreting its output are separate: callers parse ``Result``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import release
from .errors import CommandFailed
from .tools import which

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.rc == 0


def _prepare(argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """The argument list to execute (the program resolved, or wrapped to run inside the active
    release) and the full environment (ours plus ``env``)."""
    args = [str(a) for a in argv]
    inside = release.tool_path(args[0])
    if inside is not None:
        args = release.wrap([inside, *args[1:]], env)
        args[0] = which("bwrap")
    else:
        args[0] = which(args[0]) if os.sep not in args[0] else args[0]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return args, full_env


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float | None = 300,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
) -> Result:
    """Run ``argv``; ``env`` is added to a copy of the current environment.

    With ``check`` a non-zero exit raises CommandFailed carrying argv, rc and output.
    """
    args, full_env = _prepare(argv, env)
    log.debug("run %s%s", " ".join(args), f" env={dict(env)}" if env else "")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            args,
            env=full_env,
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(args, None, _text(exc.stdout), _text(exc.stderr), what=what, hint=hint) from None
    result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
    log.debug("rc=%d in %.3fs", result.rc, result.seconds)
    if check and not result.ok:
        raise CommandFailed(args, result.rc, result.stdout, result.stderr, what=what, hint=hint)
    return result


def stream(
    argv: Sequence[str | os.PathLike[str]],
    on_line: Callable[[str], None],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = 3600,
    what: str | None = None,
    hint: str | None = None,
    stop_grace: float | None = None,
) -> Result:
    """Run ``argv`` like ``run(check=True)``, passing each output line (stdout and stderr merged)
    to ``on_line`` as it comes, for long jobs whose progress a user should see.

    The Result's stdout holds the whole output; a failure raises CommandFailed with its tail.
    Interrupted, the child is killed; with ``stop_grace``, it runs in a process group of its own
    (a Ctrl-C in the terminal reaches the harness only), which is sent SIGTERM, given that many
    seconds to clean up after itself (a build script's mounts and loop devices), then SIGKILL.
    """
    args, full_env = _prepare(argv, env)
    log.debug("stream %s%s", " ".join(args), f" env={dict(env)}" if env else "")
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        args,
        env=full_env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=stop_grace is not None,
    ) as proc:
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                # Progress bars redraw with \r: keep only the last state of such a line.
                line = raw.rstrip("\n").rsplit("\r", 1)[-1]
                lines.append(line)
                on_line(line)
                if timeout is not None and time.monotonic() - started > timeout:
                    raise subprocess.TimeoutExpired(args, timeout)
            rc = proc.wait()
        except BaseException:
            # Ours to stop: the child we started, by its PID (and with a grace, the group it leads).
            if stop_grace is None:
                proc.kill()
                proc.wait()
            else:
                _stop_group(proc, stop_grace)
            if isinstance(sys.exc_info()[1], subprocess.TimeoutExpired):
                raise CommandFailed(args, None, "\n".join(lines), "", what=what, hint=hint) from None
            raise
    result = Result(tuple(args), rc, "\n".join(lines), "", time.monotonic() - started)
    log.debug("rc=%d in %.3fs", rc, result.seconds)
    if rc != 0:
        raise CommandFailed(args, rc, result.stdout, "", what=what, hint=hint)
    return result


def _stop_group(proc: subprocess.Popen[str], grace: float) -> None:
    """SIGTERM to the process group ``proc`` leads, ``grace`` seconds for it to exit, then SIGKILL
    to whatever of the group is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def spawn(
    argv: Sequence[str | os.PathLike[str]],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-lived program (a cluster node's init) in its own session, output to ``log_path``.

    Its own session: a Ctrl-C in the terminal reaches the harness only, which then tears the
    program down by PID in order, instead of the kernel killing daemons half-way.
    """
    args, full_env = _prepare(argv, env)
    log.debug("spawn %s", " ".join(args))
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            args,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
