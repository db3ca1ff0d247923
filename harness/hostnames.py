"""The host names a configuration itself names, in any of the three formats a scenario takes.

A pasted configuration says which hosts it runs on: crm's ``node xen01`` entries and
``location l vm 100: xen01``, rules such as ``#uname eq xen01``, the CIB's ``<node uname=>`` and
``rsc_location node=``, pcs's ``constraint location vm prefers xen01=100``. The scenario checks them
against its ``nodes:`` so that a misspelt or missing host is an error naming it and its line, not a
constraint that silently never applies.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from . import crmtext

# A host name as corosync, Pacemaker and /etc/hosts take it: RFC 1123 labels (a short name or an FQDN).
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_UNAME_RULE = re.compile(r"#uname\s+(?:(?:string|integer|number|version):)?(?:eq|ne)\s+([\w.-]+)")
_SCORE = re.compile(r"^(?:[+-]?(?:inf|INFINITY|infinity|\d+)):$")
_PCS_OPTION_WORDS = {"resource-discovery", "rule", "id", "role", "score", "--force", "--"}


@dataclass(frozen=True)
class Named:
    """A host the configuration names, and the line (1-based, in the configuration text) naming it."""

    host: str
    line: int
    what: str  # "node entry", "location constraint", "rule"


def named(text: str, fmt: str) -> list[Named]:
    """Every host ``text`` (in format ``fmt``: crm, xml or pcs) names, in order."""
    if fmt == "xml":
        return _in_xml(text)
    if fmt == "pcs":
        return _in_pcs(text)
    return _in_crm(text)


def node_ids(text: str, fmt: str) -> dict[str, str]:
    """Node ids the configuration gives its hosts (crm ``node 1084783225: xen01``, the CIB's
    ``<node id=>``), so that the file CIB uses the same ids and crmsh updates those entries."""
    ids: dict[str, str] = {}
    if fmt == "crm":
        for statement in crmtext.parse(text):
            words = statement.words
            if statement.kind == "node" and len(words) > 2 and words[1].endswith(":") and words[1][:-1].isdigit():
                ids[words[2].split(":")[0]] = words[1][:-1]
    elif fmt == "xml":
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return ids
        for node in root.iter("node"):
            if node.get("uname") and node.get("id"):
                ids[node.get("uname", "")] = node.get("id", "")
    return ids


def _in_crm(text: str) -> list[Named]:
    found: list[Named] = []
    for statement in crmtext.parse(text):
        words = statement.words
        if statement.kind == "node" and len(words) > 1:
            name = words[2] if words[1].endswith(":") and len(words) > 2 else words[1]
            if not name.startswith("$"):
                found.append(Named(name.split(":")[0], statement.line, "node entry"))
        elif statement.kind == "location" and "rule" not in words:
            for index, word in enumerate(words[:-1]):
                if _SCORE.match(word):
                    found.append(Named(words[index + 1], _line_of(statement, words[index + 1]), "location constraint"))
                    break
        for match in _UNAME_RULE.finditer(statement.text):
            found.append(Named(match.group(1), _line_of(statement, match.group(0).split()[0]), "rule"))
    return found


def _line_of(statement: crmtext.Statement, word: str) -> int:
    for offset, line in enumerate(statement.text.splitlines()):
        if word in line:
            return statement.line + offset
    return statement.line


def _in_xml(text: str) -> list[Named]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []  # the loader reports the parse error with its line
    lines = text.splitlines()

    def line_of(value: str) -> int:
        return next((i for i, line in enumerate(lines, start=1) if f'"{value}"' in line), 1)

    found = [Named(n.get("uname", ""), line_of(n.get("uname", "")), "node entry") for n in root.iter("node")]
    found += [
        Named(c.get("node", ""), line_of(c.get("node", "")), "location constraint")
        for c in root.iter("rsc_location")
        if c.get("node")
    ]
    found += [
        Named(e.get("value", ""), line_of(e.get("value", "")), "rule")
        for e in root.iter("expression")
        if e.get("attribute") == "#uname" and e.get("value")
    ]
    return [n for n in found if n.host]


def _in_pcs(text: str) -> list[Named]:
    found: list[Named] = []
    for number, words in pcs_commands(text):
        args = pcs_positional(words[1:])
        if args[:2] == ["constraint", "location"] and len(args) > 4 and args[3] in {"prefers", "avoids"}:
            for arg in args[4:]:
                if arg in _PCS_OPTION_WORDS or "=" in arg and arg.split("=")[0] in _PCS_OPTION_WORDS:
                    break
                found.append(Named(arg.split("=")[0], number, "location constraint"))
        elif args[:3] == ["constraint", "location", "add"] and len(args) > 5:
            found.append(Named(args[5], number, "location constraint"))
        elif args[:2] == ["node", "attribute"] and len(args) > 2:
            found.append(Named(args[2], number, "node attribute"))
        found += [Named(m.group(1), number, "rule") for m in _UNAME_RULE.finditer(" ".join(words))]
    return found


# pcs's options that take a value (pcs/cli/common/parse_args.py: "f:p:u:" and the long ones with "=").
PCS_OPTIONS_WITH_VALUE = frozenset(
    {"-f", "-p", "-u"}
    | {
        f"--{name}"
        for name in [
            "request-timeout",
            "name",
            "group",
            "node",
            "from",
            "to",
            "after",
            "before",
            "corosync_conf",
            "booth-conf",
            "booth-key",
            "output-format",
            "token",
        ]
    }
)


def pcs_positional(args: list[str]) -> list[str]:
    """pcs's arguments without its options (``-f FILE``, ``--force``, ``--wait=30``, ``--group G``), as
    pcs's getopt sees them anywhere on the line: what is left says which command it is."""
    out: list[str] = []
    value = False
    for arg in args:
        if value:
            value = False
        elif arg in PCS_OPTIONS_WITH_VALUE:
            value = True
        elif not arg.startswith("-") or arg == "-" or re.match(r"^-(?:\d|INFINITY$|inf$)", arg, re.I):
            out.append(arg)
    return out


def pcs_commands(text: str) -> list[tuple[int, list[str]]]:
    """The pcs commands of a configuration: (line, words), continuations joined, comments skipped."""
    commands: list[tuple[int, list[str]]] = []
    for statement in crmtext.parse(text):
        try:
            words = shlex.split(statement.text.replace("\\\n", " "), comments=True)
        except ValueError:
            words = statement.words
        if words:
            commands.append((statement.line, words))
    return commands
