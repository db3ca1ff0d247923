"""crm shell configuration text as statements: just enough structure to render constraint styles.

A statement is one logical line (backslash continuations joined). Rendering rewrites whole
statements and keeps every other line exactly as written, so the result is still what a user would
paste into ``crm configure``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Statement:
    kind: str  # primitive, group, clone, colocation, order, xml, property, ...
    id: str
    text: str  # as written, continuation lines included
    line: int  # 1-based line of its first line

    @property
    def words(self) -> list[str]:
        return self.text.replace("\\\n", " ").split()


def parse(text: str) -> list[Statement]:
    statements: list[Statement] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        first = index
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        while lines[index].rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
        body = "\n".join(lines[first : index + 1])
        words = body.split()
        kind = words[0]
        ident = words[1].rstrip(":") if len(words) > 1 else ""
        statements.append(Statement(kind, ident, body, first + 1))
        index += 1
    return statements


def render(statements: list[Statement]) -> str:
    return "\n".join(s.text for s in statements) + "\n"


def find(statements: list[Statement], ident: str) -> Statement | None:
    return next((s for s in statements if s.id == ident and s.kind not in _CONSTRAINTS), None)


_CONSTRAINTS = {"colocation", "collocation", "order", "location", "rsc_ticket", "xml"}


def is_constraint(statement: Statement) -> bool:
    return statement.kind in _CONSTRAINTS


def clone_child(statement: Statement) -> str:
    """The resource a ``clone``/``ms`` statement clones."""
    return statement.words[2]


def group_members(statement: Statement) -> list[str]:
    members = []
    for word in statement.words[2:]:
        if word in {"meta", "params", "description", "utilization"} or "=" in word:
            break
        members.append(word)
    return members


def rename_in_constraint(statement: Statement, old: str, new: str) -> Statement:
    """Replace resource ``old`` by ``new`` where it appears as a constraint operand."""
    pattern = re.compile(rf"(?<=[\s(])({re.escape(old)})(?=(:\w+)?(\s|\)|$))")
    return replace(statement, text=pattern.sub(new, statement.text))


def set_meta(statement: Statement, name: str, value: str) -> Statement:
    """Set a meta attribute on a resource statement, adding a ``meta`` clause if there is none."""
    pattern = re.compile(rf'(\s){re.escape(name)}=("[^"]*"|\S+)')
    if pattern.search(statement.text):
        text = pattern.sub(rf'\g<1>{name}="{value}"', statement.text, count=1)
    elif re.search(r"\smeta\s", statement.text):
        text = re.sub(r"(\smeta)(\s)", rf'\1 {name}="{value}"\2', statement.text, count=1)
    else:
        text = statement.text.rstrip() + f' \\\n\tmeta {name}="{value}"'
    return replace(statement, text=text)


def append_members(statement: Statement, members: list[str]) -> Statement:
    """Add members at the end of a group's member list."""
    existing = group_members(statement)
    last = existing[-1]
    pattern = re.compile(rf"(\s){re.escape(last)}(?=\s|$)")
    text = pattern.sub(rf"\1{last} {' '.join(members)}", statement.text, count=1)
    return replace(statement, text=text)
