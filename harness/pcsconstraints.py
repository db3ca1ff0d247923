"""The constraint lines of pcs listings (``pcsconfig``), as pcs 0.9-0.11.5 and 0.11.7+/0.12 print
them, and the helpers both modules read listing lines with.

0.9-0.11.5: ``Resource: vm1`` / ``Enabled on:`` / ``Node: n1 (score:100) (id:x)``, ``start a then
start b (kind:Optional) (non-symmetrical)``, ``a with b (score:INFINITY) (rsc-role:Promoted)``.
0.11.7+: one line a constraint naming its resources in quotes, ``(id: x)`` its only parenthesis,
its options one a line below (``score=INFINITY``, ``symmetrical=0 kind=Optional``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .errors import InputError

_OPTION = re.compile(r"\s*\(([^()]*)\)\s*$")
_ACTIONS = "start|stop|promote|demote"
_ORDER = re.compile(rf"^(?:({_ACTIONS}) )?(\S+) then (?:({_ACTIONS}) )?(\S+)$")
_COLOCATION = re.compile(r"^(\S+) with (\S+)$")
_ROLES = "Started|Stopped|Promoted|Unpromoted|Master|Slave"
# pcs 0.11.7+: the constraint's resources in quotes, its options one a line below.
_LOCATION_NEW = re.compile(rf"^(?:({_ROLES}) )?resource '([^']+)' (prefers|avoids) node '([^']+)' with score (\S+)$")
_ORDER_NEW = re.compile(rf"^(?:({_ACTIONS}) )?resource '([^']+)' then (?:({_ACTIONS}) )?resource '([^']+)'$")
_COLOCATION_NEW = re.compile(rf"^(?:({_ROLES}) )?resource '([^']+)' with (?:({_ROLES}) )?resource '([^']+)'$")


@dataclass
class Node:
    line: int  # in the configuration text, 1-based
    text: str
    children: list[Node] = field(default_factory=list)


def parenthesized(text: str) -> tuple[str, list[str]]:
    """'A with B (score:INFINITY) (id:x)' -> ('A with B', ['score:INFINITY', 'id:x'])."""
    found: list[str] = []
    while match := _OPTION.search(text):
        found.insert(0, match.group(1).strip())
        text = text[: match.start()]
    return text.strip(), found


def name_values(node: Node, rest: str) -> list[str]:
    """name=value pairs: inline (0.9, 0.10: 'Attributes: a=b c="x y"') or below, one a line (0.11:
    'Attributes: ID' then 'a=b' and 'c="x y"') or several a line (0.11.7+ operations, options)."""
    if "=" in rest:
        return split(node, rest)
    return [word for child in node.children for word in split(child, parenthesized(child.text)[0])]


def split(node: Node, text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise Unreadable(node, f"not name=value pairs pcs prints ({error}): '{text[:80]}'") from None


class Unreadable(Exception):
    """A line a helper without the reader's path cannot read; the reader makes it an InputError."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


class Constraints:
    """Reads constraint lines into pcs commands; mixed into pcsconfig's reader, which says where a
    line is (``fail``) and keeps the commands (``emit``)."""

    ids: set[str]

    def fail(self, node: Node, message: str) -> InputError:
        raise NotImplementedError

    def emit(self, node: Node, *words: str) -> None:
        raise NotImplementedError

    def unique(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.ids:
            candidate, n = f"{wanted}-{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def location(self, node: Node) -> None:
        if not node.text.startswith("Resource: "):  # 0.11.7+: one line a constraint
            return self.location_new(node)
        head, _, rsc = node.text.partition(": ")
        if head != "Resource":
            raise self.fail(node, f"location constraints on '{node.text[:60]}' are not supported (patterns, rules)")
        for child in node.children:
            kind, _, rest = child.text.partition(":")
            if kind not in ("Enabled on", "Disabled on"):
                raise self.fail(child, f"location constraints with rules are not supported: '{child.text[:70]}'")
            entries = [(child, rest.strip())] if rest.strip() else [(c, c.text) for c in child.children]
            for where, entry in entries:
                self.location_entry(where, rsc.strip(), entry, enabled=kind == "Enabled on")

    def location_entry(self, node: Node, rsc: str, entry: str, enabled: bool) -> None:
        entry = entry.removeprefix("Node: ")
        host, options = parenthesized(entry)
        if " " in host or not host:
            raise self.fail(node, f"not a location entry pcs prints: '{node.text[:80]}'")
        score, cid, extra = "INFINITY" if enabled else "-INFINITY", "", []
        for option in options:
            key, sep, value = option.partition(":")
            if key == "score":
                score = value
            elif key == "id":
                cid = value
            elif option.startswith("resource-discovery="):
                extra.append(option)
            else:
                raise self.fail(node, f"location option ({option}) is not supported (roles, rules)")
        cid = self.unique(cid or f"location-{rsc}-{host}-{score}")
        self.emit(node, "constraint", "location", "add", cid, rsc, host, score, *extra)

    def location_new(self, node: Node) -> None:
        plain, options = parenthesized(node.text)
        match = _LOCATION_NEW.match(plain)
        if not match:
            if re.match(r"^(?:\w+ )?resource (?:'[^']*'|pattern)", plain):
                raise self.fail(node, f"location constraints with rules or patterns are not supported: '{plain[:70]}'")
            raise self.fail(node, f"not a location constraint pcs prints: '{node.text[:80]}'")
        role, rsc, verb, host, score = match.groups()
        if role:
            raise self.fail(node, f"location constraints with a role are not supported: '{plain[:70]}'")
        if verb == "avoids":
            score = score[1:] if score.startswith("-") else "-" + score
        cid = self.unique(self.option_id(node, options) or f"location-{rsc}-{host}-{score}")
        extra = name_values(node, "")
        for option in extra:
            if not option.startswith("resource-discovery="):
                raise self.fail(node, f"location option ({option}) is not supported")
        self.emit(node, "constraint", "location", "add", cid, rsc, host, score, *extra)

    def option_id(self, node: Node, options: list[str]) -> str:
        """The id of a 0.11.7+ constraint line's '(id: x)', the only option pcs prints in parentheses."""
        found = ""
        for option in options:
            key, _, value = option.partition(":")
            if key != "id":
                raise self.fail(node, f"not a constraint option pcs prints: '({option})'")
            found = value.strip()
        return found

    def order_new(self, node: Node, plain: str, options: list[str]) -> None:
        match = _ORDER_NEW.match(plain)
        if not match:
            raise self.fail(node, f"not an ordering constraint pcs prints: '{node.text[:80]}'")
        first_action, first, then_action, then = match.groups()
        words = ["constraint", "order"] + ([first_action] if first_action else []) + [first, "then"]
        words += ([then_action] if then_action else []) + [then]
        for option in name_values(node, ""):
            key, _, value = option.partition("=")
            if option in ("kind=Mandatory", "symmetrical=1", "require-all=1"):
                continue
            if key in ("symmetrical", "require-all") and value in ("0", "1"):
                words.append(f"{key}={'true' if value == '1' else 'false'}")
            elif key in ("kind", "score", "symmetrical", "require-all"):
                words.append(option)
            else:
                raise self.fail(node, f"ordering option ({option}) is not supported")
        if cid := self.option_id(node, options):
            words.append(f"id={self.unique(cid)}")
        self.emit(node, *words)

    def colocation_new(self, node: Node, plain: str, options: list[str]) -> None:
        match = _COLOCATION_NEW.match(plain)
        if not match:
            raise self.fail(node, f"not a colocation constraint pcs prints: '{node.text[:80]}'")
        role, rsc, with_role, with_rsc = match.groups()
        score, rest = "INFINITY", []
        for option in name_values(node, ""):
            key, _, value = option.partition("=")
            if key == "score":
                score = value
            elif key == "influence":
                rest.append(option)
            else:
                raise self.fail(node, f"colocation option ({option}) is not supported")
        if cid := self.option_id(node, options):
            rest.append(f"id={self.unique(cid)}")
        words = ["constraint", "colocation", "add"] + ([role] if role else []) + [rsc, "with"]
        words += ([with_role] if with_role else []) + [with_rsc, score, *rest]
        self.emit(node, *words)

    def order(self, node: Node) -> None:
        plain, options = parenthesized(node.text)
        if "resource '" in plain:  # 0.11.7+
            return self.order_new(node, plain, options)
        match = _ORDER.match(plain)
        if not match:
            raise self.fail(node, f"ordering constraint not supported (resource sets?): '{node.text[:80]}'")
        first_action, first, then_action, then = match.groups()
        words = ["constraint", "order"] + ([first_action] if first_action else []) + [first, "then"]
        words += ([then_action] if then_action else []) + [then]
        for option in options:
            key, _, value = option.partition(":")
            if key == "kind" and value != "Mandatory":  # Pacemaker's default: pcs prints it for none
                words.append(f"kind={value}")
            elif key == "kind":
                continue
            elif key == "id":
                words.append(f"id={self.unique(value)}")
            elif option == "non-symmetrical":
                words.append("symmetrical=false")
            elif key == "Options":
                words += [w for w in value.split() if not w.startswith(("first-action=", "then-action="))]
            elif key == "score":
                words.append(f"score={value}")
            else:
                raise self.fail(node, f"ordering option ({option}) is not supported")
        self.emit(node, *words)

    def colocation(self, node: Node) -> None:
        plain, options = parenthesized(node.text)
        if "resource '" in plain:  # 0.11.7+
            return self.colocation_new(node, plain, options)
        match = _COLOCATION.match(plain)
        if not match:
            raise self.fail(node, f"colocation constraint not supported (resource sets?): '{node.text[:80]}'")
        rsc, with_rsc = match.groups()
        score, roles, rest = "INFINITY", {"rsc-role": "", "with-rsc-role": ""}, []
        for option in options:
            key, _, value = option.partition(":")
            if key == "score":
                score = value
            elif key in roles:
                roles[key] = value
            elif key == "id":
                rest.append(f"id={self.unique(value)}")
            elif key == "Options":
                rest += value.split()
            else:
                raise self.fail(node, f"colocation option ({option}) is not supported")
        words = ["constraint", "colocation", "add"] + [r for r in [roles["rsc-role"]] if r] + [rsc, "with"]
        words += [r for r in [roles["with-rsc-role"]] if r] + [with_rsc, score, *rest]
        self.emit(node, *words)
