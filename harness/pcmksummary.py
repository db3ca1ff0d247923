"""Pacemaker's text "Transition Summary", parsed: what an expected ``*.summary`` file says.

Pure: text in, frozen dataclasses out. The shapes are every one found in Pacemaker's own scheduler
regression corpus (``cts/scheduler/summary/*.summary``, 2.0 to 3.0)::

    * Start      rsc1     ( node1 )
    * Stop       clvm:0   ( pcmk-2 )  due to node availability
    * Migrate    vm       ( node1 -> node2 )
    * Move       rsc:0    ( Promoted node1 -> Unpromoted node3 )
    * Promote    ms:0     ( Stopped -> Promoted va1 )  due to colocation with rsc1 (blocked)
    * Recover    galera:0 ( Promoted galera-bundle-0 )
    * Start      Fencing  ( pcmk-1 )  blocked
    * Fence (reboot) node1 (resource: vm-docker-0) 'node is unclean'

Roles are given their Pacemaker 2.1+ names (Master -> Promoted, Slave -> Unpromoted), so that
summaries of different releases compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACTIONS = ("start", "stop", "move", "migrate", "restart", "recover", "promote", "demote", "re-promote", "reload")
ROLES = {
    "Started": "Started",
    "Stopped": "Stopped",
    "Promoted": "Promoted",
    "Unpromoted": "Unpromoted",
    "Master": "Promoted",
    "Slave": "Unpromoted",
    "Unknown": "Unknown",
}
# Fencing that takes a node down (on: unfencing, the node comes back).
DOWN_FENCING = frozenset({"reboot", "off", "poweroff"})

_RSC_LINE = re.compile(
    r"^\s*\*\s+(?P<action>Start|Stop|Move|Migrate|Restart|Recover|Promote|Demote|Re-promote|Reload)\s+"
    r"(?P<resource>\S+)\s+\(\s*(?P<inner>[^()]*?)\s*\)\s*(?P<tail>.*?)\s*$"
)
_FENCE_LINE = re.compile(
    r"^\s*\*\s+Fence\s+\((?P<kind>[a-z]+)\)\s+(?P<node>\S+)(?:\s+\(resource:\s*(?P<resource>[^)]*)\))?"
    r"(?:\s+'(?P<reason>.*)')?\s*$"
)


@dataclass(frozen=True)
class Line:
    """One resource line of a Transition Summary, in the terms of ``crm_simulate --output-as=xml``
    (``rsc_action``): ``node`` where it stays, ``source``/``dest`` where it moves."""

    action: str  # lower case: start, stop, move, migrate, ... re-promote
    resource: str
    node: str | None = None
    source: str | None = None
    dest: str | None = None
    role: str | None = None
    next_role: str | None = None
    reason: str | None = None
    blocked: bool = False

    @property
    def role_text(self) -> str | None:
        """``Unpromoted -> Promoted`` where the role changes, the one role where one is named."""
        if self.role and self.next_role and self.role != self.next_role:
            return f"{self.role} -> {self.next_role}"
        return self.next_role or self.role

    def nodes(self) -> tuple[str | None, str | None]:
        """(from, to) as a verdict says them: a start has no from, a stop no to."""
        if self.source or self.dest:
            return self.source, self.dest
        if self.action == "start" or (self.action == "promote" and self.role == "Stopped"):
            return None, self.node
        if self.action == "stop":
            return self.node, None
        return self.node, self.node

    def __str__(self) -> str:
        if self.source or self.dest:
            left = " ".join(x for x in (self.role, self.source) if x)
            right = " ".join(x for x in (self.next_role, self.dest) if x)
            where = f"{left} -> {right}"
        elif self.next_role:
            where = f"{self.role} -> {self.next_role} {self.node}"
        else:
            where = " ".join(x for x in (self.role, self.node) if x)
        text = f"{self.action.capitalize()} {self.resource} ( {where} )"
        if self.reason:
            text += f" due to {self.reason}"
        return text + (" (blocked)" if self.blocked else "")


@dataclass(frozen=True)
class Fence:
    kind: str  # reboot, off, on
    node: str
    reason: str | None = None
    resource: str | None = None  # a guest node's container, as "(resource: X)" names it


@dataclass(frozen=True)
class Summary:
    lines: tuple[Line, ...]
    fencing: tuple[Fence, ...]
    unparsed: tuple[str, ...] = ()  # lines of the section no shape above matches

    @property
    def fenced(self) -> tuple[str, ...]:
        return tuple(f.node for f in self.fencing if f.kind in DOWN_FENCING)


def role(name: str | None) -> str | None:
    return ROLES.get(name, name) if name else None


def parse_line(text: str) -> Line | Fence | None:
    """One line of the section; None if it has none of the known shapes."""
    match = _RSC_LINE.match(text)
    if match:
        reason, blocked = _tail(match["tail"])
        if reason is None and match["tail"] and not blocked:
            return None
        fields = _inner(match["inner"])
        if fields is None:
            return None
        return Line(match["action"].lower(), match["resource"], reason=reason, blocked=blocked, **fields)
    match = _FENCE_LINE.match(text)
    if match:
        return Fence(match["kind"], match["node"], match["reason"], match["resource"])
    return None


def _tail(tail: str) -> tuple[str | None, bool]:
    """``due to <reason>``, ``(blocked)`` or a bare ``blocked`` after the parentheses."""
    blocked = False
    if tail.endswith("(blocked)"):
        blocked, tail = True, tail[: -len("(blocked)")].rstrip()
    elif tail == "blocked":
        return None, True
    if tail.startswith("due to "):
        return tail[len("due to ") :], blocked
    return (None, blocked) if not tail else (None, False)


def _inner(inner: str) -> dict[str, str | None] | None:
    """The parenthesised part: ``node``, ``Role node``, ``a -> b``, ``Role -> Role node``,
    ``Role a -> Role b``."""
    if "->" not in inner:
        words = inner.split()
        if len(words) == 1:
            return {"node": words[0]}
        if len(words) == 2 and words[0] in ROLES:
            return {"role": role(words[0]), "node": words[1]}
        return None
    left, right = (part.split() for part in inner.split("->", 1))
    fields: dict[str, str | None] = {}
    if left and left[0] in ROLES and (len(left) == 2 or len(right) == 2):
        fields["role"] = role(left.pop(0))
    if right and right[0] in ROLES and len(right) == 2:
        fields["next_role"] = role(right.pop(0))
    elif len(right) == 2 and right[1] in ROLES and "role" not in fields:
        # "sles-3 -> sles-2 Unpromoted" (stonith-1): the role it keeps, as the XML's role
        fields["role"] = role(right.pop())
    if len(left) > 1 or len(right) != 1:
        return None
    if not left:  # a role change in place: "Unpromoted -> Promoted node1"
        if "role" not in fields:
            return None
        fields["node"] = right[0]
        return fields
    fields["source"], fields["dest"] = left[0], right[0]
    return fields


def transition_section(text: str) -> list[str]:
    """The lines of the first 'Transition Summary:' section (up to the first blank line)."""
    lines = text.splitlines()
    try:
        start = lines.index("Transition Summary:")
    except ValueError:
        return []
    section = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        section.append(line)
    return section


def parse(text: str) -> Summary:
    """The Transition Summary of a crm_simulate text output or an expected ``*.summary`` file."""
    lines: list[Line] = []
    fencing: list[Fence] = []
    unparsed: list[str] = []
    for raw in transition_section(text):
        item = parse_line(raw)
        if isinstance(item, Line):
            lines.append(item)
        elif isinstance(item, Fence):
            fencing.append(item)
        else:
            unparsed.append(raw)
    return Summary(tuple(lines), tuple(fencing), tuple(unparsed))
