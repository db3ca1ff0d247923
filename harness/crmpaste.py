"""crm shell configuration as people paste it: an interactive session or one-shot commands.

Posts show ``crm(live)configure# primitive ...`` (crmsh's own prompt, any CIB and level:
``crm(live)#``, ``crm(live/node1)configure#``, ``crm(test-cib)configure#``) with ``commit``,
``verify``, ``end`` and ``quit`` between the statements, or one-shot ``crm configure primitive ...``
commands, often behind a shell prompt (``[root@xen01 ~]#``, ``root@xen01:~#``, ``#``, ``$``,
``sudo``). ``clean`` turns them into what ``crm configure load`` takes: the prompts and the
``crm configure`` prefix removed, the session's control commands (and crm commands outside
``configure``: ``crm resource move``, ``crm status``) replaced by blank lines and returned as dropped,
so every statement stays on its own line of the scenario file. The rest of a line is left as
written: crmsh reads quotes (``xmfile="/etc/xen/vm.cfg"``) as the shell would have.
"""

from __future__ import annotations

import re

_SHELL_PROMPT = r"(?:\[[^\]\n]*\]\s*[#$]|[\w.-]+@[\w.-]+:[^\s#$]*[#$]|[#$])"
# [shell prompt] [sudo] crm ... : the crm part in group "crm".
_CRM_LINE = re.compile(rf"^\s*(?:(?P<prompt>{_SHELL_PROMPT})\s*)?(?:sudo\s+(?:-\S+\s+)*)?(?P<crm>crm(?:\(|\s|$).*)$")
# crmsh's interactive prompt: crm(CIB[/NODE])LEVEL#
_CRM_PROMPT = re.compile(r"^crm\([^)\n]*\)(?P<level>[\w/]*)#\s?")
_CRM_OPTION = re.compile(r"^-{1,2}[\w-]+(?:=\S*)?$")
# Commands of a crm session that are not configuration statements.
SESSION = frozenset(
    [
        "commit",
        "verify",
        "end",
        "up",
        "back",
        "quit",
        "exit",
        "bye",
        "cd",
        "ls",
        "show",
        "help",
        "ptest",
        "simulate",
        "rsctest",
        "edit",
        "cib",
        "cibstatus",
        "erase",
        "refresh",
        "save",
        "load",
        "upgrade",
        "filter",
        "graph",
        "history",
        "ra",
        "status",
        "configure",
    ]
)
# A shell's continuation prompt in front of a continued one-shot command.
_CONTINUATION_PROMPT = re.compile(r"^(\s*)>\s?")


def clean(text: str) -> tuple[str, list[tuple[int, str]]]:
    """``text`` as crm syntax (same number of lines) and the dropped commands: (line, command)."""
    out: list[str] = []
    dropped: list[tuple[int, str]] = []
    continuing = oneshot = False
    for number, line in enumerate(text.splitlines(), start=1):
        if continuing:
            out.append(_CONTINUATION_PROMPT.sub(r"\1", line) if oneshot else line)
            continuing = line.rstrip().endswith("\\")
            continue
        statement, oneshot = _statement(line)
        if statement is None:
            dropped.append((number, line.strip()))
            out.append("")
            continue
        out.append(statement)
        continuing = statement.rstrip().endswith("\\")
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), dropped


def _statement(line: str) -> tuple[str | None, bool]:
    """The crm statement a pasted line holds (None: a command to drop), and whether it was a
    one-shot shell command (its continuation lines may carry the shell's ``>`` prompt)."""
    match = _CRM_LINE.match(line)
    oneshot = False
    if match:
        rest = match.group("crm")
        prompt = _CRM_PROMPT.match(rest)
        if prompt:
            level, rest = prompt.group("level"), rest[prompt.end() :]
            if level not in ("", "configure"):
                return None, False  # crm(live)resource# move ...: acts on the cluster
            if level == "" and rest.strip():
                rest = _configure_part(rest.split(None, 1))
        else:
            oneshot = True
            words = rest.split(None, 1)[1:]
            while words and _CRM_OPTION.match(words[0].split(None, 1)[0]):
                words = words[0].split(None, 1)[1:]
            rest = _configure_part(words[0].split(None, 1) if words else [])
            if rest is None and match.group("prompt") == "#" and words:
                return line, False  # "# crm resource move ...": a comment as far as crmsh is concerned
        if rest is None:
            return None, False
        line = rest
    first = line.split(None, 1)[0] if line.strip() else ""
    if first in SESSION:
        return None, False
    return line, oneshot


def _configure_part(words: list[str]) -> str | None:
    """``configure primitive ...`` -> ``primitive ...``; another level (``resource move``) -> None."""
    if not words or words[0] != "configure":
        return None
    return words[1] if len(words) > 1 else None
