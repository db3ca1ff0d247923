"""Applying a configuration written as pcs commands to a file CIB, with the real pcs (``pcs -f FILE``).

Posted configurations depend on what pcs really did (defaults it adds, where ``meta`` lands), so the
commands are run as posted, never rewritten into crm syntax. pcs needs no pcsd and no cluster for
``-f``. It refuses an agent this machine lacks until ``--force``: such a command is run again forced
and the agent reported, as crmsh's are. Commands that act on a live cluster or on files of their
own (``pcs cluster setup``, ``pcs cluster cib FILE``, ``pcs cluster cib-push``, ``pcs host auth``)
are skipped and said so; ``-f FILE`` written by the poster is replaced by the scenario's file.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import cib as cibmod
from .errors import InputError, summarize
from .hostnames import pcs_commands, pcs_positional
from .runner import Result, run

# Sub-commands that do not describe the configuration (they act on the cluster or on pcsd).
_SKIPPED = (
    ("cluster", "setup"),
    ("cluster", "start"),
    ("cluster", "stop"),
    ("cluster", "enable"),
    ("cluster", "auth"),
    ("cluster", "cib"),
    ("cluster", "cib-push"),
    ("cluster", "verify"),
    ("host", "auth"),
    ("status",),
    ("config",),
    ("resource", "status"),
    ("resource", "cleanup"),
    ("resource", "refresh"),
    ("resource", "move"),
    ("resource", "ban"),
    ("resource", "clear"),
    ("node", "standby"),
    ("node", "unstandby"),
)
_AGENT_MISSING = re.compile(r"Agent '([^']+)' is not installed or does not provide valid metadata")
_OPTIONS_WITH_VALUE = {"-f", "--corosync_conf"}
PCS_TIMEOUT = 120
HOST_CIBADMIN = shutil.which("cibadmin") or "/usr/sbin/cibadmin"


@dataclass
class Applied:
    """What applying the commands left to say: the agents pcs was forced past. (The commands it
    skips are named from the scenario's text: ``skipped``, ``configformat.Detected.dropped``.)"""

    unknown_agents: list[str] = field(default_factory=list)


def apply(cib_path: Path, text: str, source: Path | str, first_line: int = 1) -> Applied:
    """Run every pcs command of ``text`` against the file CIB, in order."""
    applied = Applied()
    _readable_by_host(cib_path)
    for line, words in pcs_commands(text):
        where = first_line + line - 1
        if words[0] != "pcs":
            raise InputError(f"not a pcs command: {' '.join(words)[:80]}", path=source, line=where)
        args = _without_file(words[1:])
        if skipped(words):
            continue
        result = _pcs(cib_path, args)
        if not result.ok:
            output = result.stderr + result.stdout
            missing = _AGENT_MISSING.findall(output)
            if missing and "--force" not in args:
                result = _pcs(cib_path, [*args, "--force"])
                applied.unknown_agents.extend(a for a in missing if a not in applied.unknown_agents)
                output = result.stderr + result.stdout
            if not result.ok:
                raise InputError(
                    f"pcs refuses this command (exit {result.rc}):\n    pcs {' '.join(args)}\n  "
                    + summarize(output).replace("\n", "\n  "),
                    path=source,
                    line=where,
                    hint="fix the command as pcs says (`pcs resource describe AGENT` lists an agent's options)",
                )
    return applied


def skipped(words: list[str]) -> bool:
    """Whether a pcs command (its words, ``pcs`` first) is one that acts on a live cluster or on
    pcsd, not on the configuration (``pcs cluster setup``, ``pcs -f x resource move``)."""
    plain = pcs_positional(words[1:])
    return any(tuple(plain[: len(s)]) == s for s in _SKIPPED)


def _readable_by_host(cib_path: Path) -> None:
    """pcs is the host's: a CIB made by a newer release (``--release trixie``) names a schema and a
    feature set the host's tools refuse ("unable to get cib", "Protocol not supported"). The empty
    CIB is declared at the host's instead; the release's tools read older ones as they always do."""
    root = cibmod.read(cib_path)
    host = _host_versions()
    if _schema_number(root.get("validate-with", "")) > _schema_number(host["validate-with"]):
        for name, value in host.items():
            root.set(name, value)
        cibmod.write(root, cib_path)


@functools.cache
def _host_versions() -> dict[str, str]:
    """The schema and feature set of the host's own empty CIB (the newest its tools accept)."""
    # An absolute path: the host's own cibadmin, never the active release's.
    empty = run([HOST_CIBADMIN, "--empty"], what="the host's newest CIB schema").stdout
    found = dict(re.findall(r'(validate-with|crm_feature_set)="([^"]+)"', empty))
    return {"validate-with": "pacemaker-3.0", **found}


def _schema_number(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name)) or (0,)


def _pcs(cib_path: Path, args: list[str]) -> Result:
    return run(["pcs", "-f", str(cib_path), *args], check=False, timeout=PCS_TIMEOUT, what="pcs on the file CIB")


def _without_file(args: list[str]) -> list[str]:
    """The arguments without a ``-f FILE`` / ``--corosync_conf FILE`` the poster used."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _OPTIONS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-f") and len(arg) > 2 and not arg.startswith("--"):
            continue
        out.append(arg)
    return out
