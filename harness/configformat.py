"""Which of the three configuration formats a pasted text is, and what to paste when it is none.

``crm`` (``crm configure show`` output), ``xml`` (a ``<cib>`` or ``<configuration>``) and ``pcs``
(lines that are ``pcs ...`` commands, as a poster ran them). Reports also carry what pcs and
crm_mon *print* (``pcs config``, ``pcs status``, ``pcs constraint`` listings, ``crm_mon -1``): those
describe a configuration but cannot be applied, and the error says which form to paste instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import crmpaste, hostnames, pcsconfig, pcsload
from .errors import InputError

# Shell prompts people paste in front of commands: "$ pcs ...", "[root@xen01 ~]# pcs ...".
_PROMPT = re.compile(r"^(\s*)(?:\[[^\]\n]*\]\s*[#$]|\$)\s*(?=pcs\b)", re.M)
_PCS_LINE = re.compile(r"^\s*pcs(\s|$)")

# Lines only `pcs status`, `pcs constraint` or crm_mon print, with what printed them (`pcs config`
# output and the `pcs resource config` / `pcs constraint` listings are read: pcsconfig).
_STATUS = (
    (re.compile(r"^\s*Cluster name:", re.M), "pcs status"),
    (re.compile(r"^\s*(?:\* )?Online: \[", re.M), "pcs status / crm_mon"),
    (re.compile(r"^\s*(?:Full List of Resources|Node List):", re.M), "pcs status / crm_mon"),
    (re.compile(r"^\s*Stack: corosync", re.M), "pcs status / crm_mon"),
)
_PRINTED = (
    (
        re.compile(r"^\s*(?:start|stop|promote) [\w.:-]+ then (?:start|stop|promote|demote) [\w.:-]+ \(kind:", re.M),
        "pcs constraint",
    ),
    (re.compile(r"^\s*\* [\w.-]+\s+\(ocf:[\w.-]+:[\w.-]+\):\s+(?:Started|Stopped)", re.M), "pcs status / crm_mon"),
    (re.compile(r"^\s*[\w.-]+\s+\((?:ocf::|ocf:)[\w.-]+:[\w.-]+\):\s+(?:Started|Stopped)", re.M), "crm_mon"),
)
INSTEAD = (
    "paste the configuration in a form that can be applied: the pcs commands you ran (one `pcs ...` per "
    "line), or `pcs cluster cib` (XML, under 'cib: |'), or `crm configure show`"
)


@dataclass(frozen=True)
class Detected:
    format: str  # crm, xml or pcs
    text: str  # the text to apply (prompts removed; dropped commands are blank lines: lines stay put)
    # Commands pasted with the configuration that are not applied (a crm session's commit, quit;
    # pcs cluster setup, pcs resource move): "line N: command", N a line of the scenario file.
    dropped: tuple[str, ...] = ()
    # Said in every case's notes: what the configuration was read from (`pcs config` output) and
    # what of it was not applied.
    notes: tuple[str, ...] = ()


def detect(text: str, *, path: Path | str | None = None, first_line: int = 1) -> Detected:
    """The format of a pasted configuration; InputError for pcs/crm_mon *output* pasted instead."""
    if text.lstrip().startswith("<"):
        return Detected("xml", text)
    _refuse_printed(_STATUS, text, path, first_line)
    if pcsconfig.looks_like(text):
        read = pcsconfig.read(text, path=path, first_line=first_line)
        said = "the configuration was read from `pcs config` output into the equivalent pcs commands, applied with pcs"
        return Detected("pcs", read.text(len(text.splitlines())), notes=(said, *read.notes))
    _refuse_printed(_PRINTED, text, path, first_line)
    unprompted = _PROMPT.sub(r"\1", text)
    lines = [ln for ln in unprompted.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    commands = [ln for ln in lines if _PCS_LINE.match(ln)]
    if commands and _all_pcs(unprompted):
        skipped = [
            f"line {first_line + line - 1}: {' '.join(words)}"
            for line, words in hostnames.pcs_commands(unprompted)
            if pcsload.skipped(words)
        ]
        return Detected("pcs", unprompted, tuple(skipped))
    if commands:
        first = next(i for i, ln in enumerate(unprompted.splitlines(), start=1) if _PCS_LINE.match(ln))
        raise InputError(
            "the configuration mixes pcs commands and crm syntax",
            path=path,
            line=first_line + first - 1,
            hint="give one format: every line a `pcs ...` command, or `crm configure show` output",
        )
    cleaned, dropped = crmpaste.clean(text)
    return Detected("crm", cleaned, tuple(f"line {first_line + line - 1}: {command}" for line, command in dropped))


def _refuse_printed(
    patterns: tuple[tuple[re.Pattern[str], str], ...], text: str, path: Path | str | None, first_line: int
) -> None:
    for pattern, printed_by in patterns:
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1 + (1 if text[match.start()] == "\n" else 0)
            raise InputError(
                f"this is what `{printed_by}` prints, not a configuration: "
                f"'{text[match.start() :].strip().splitlines()[0]}'",
                path=path,
                line=first_line + line - 1,
                hint=INSTEAD,
            )


def _all_pcs(text: str) -> bool:
    """Every statement (continuations joined) starts with ``pcs``."""
    continuing = False
    for line in text.splitlines():
        stripped = line.strip()
        if not continuing and stripped and not stripped.startswith("#") and not _PCS_LINE.match(line):
            return False
        continuing = stripped.endswith("\\")
    return True
