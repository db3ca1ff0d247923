"""`pcs config` output (and the `pcs resource config` / `pcs constraint [--full]` listings on their own)
read into the `pcs -f` commands that build the same configuration, as pcs 0.9 (RHEL 7), 0.10
(RHEL 8, Debian 11), 0.11 (Debian 12) and 0.11.7+/0.12 (Debian 13) print it.

pcs 0.11.7 changed the constraint listings: one line a constraint naming its resources in quotes
(``resource 'vm1' prefers node 'n1' with score 100 (id: ...)``, ``Promoted resource 'a' with
resource 'b'``, ``start resource 'a' then start resource 'b'``) and its options one a line below
(``score=INFINITY``, ``symmetrical=0 kind=Optional``); "Order Constraints:", sets under their own
"... Set Constraints:" headers, and several options or operation settings on one line.

The commands are applied with the real pcs like pasted pcs commands (``pcsload``): nothing here
writes the CIB. Each command sits at the line of the listing it comes from, so pcs's refusals name
that line. What cannot be read faithfully (rules, resource sets, bundles, tickets, a line pcs does
not print) is an InputError at its line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .pcsconstraints import Constraints, Node, Unreadable, name_values, parenthesized

# Lines that say a text is a pcs listing, not commands.
MARKERS = re.compile(
    r"^\s*(?:Cluster Name:|(?:Corosync|Pacemaker) Nodes:|(?:Location|Ordering|Order|Colocation|Ticket) Constraints:|"
    r"(?:Location|Order|Colocation|Ticket) Set Constraints:|"
    r"Resources:\s*$|Stonith Devices:|Fencing Levels:|(?:Resources|Operations) Defaults:|Cluster Properties:|"
    r"(?:Resource|Clone|Master|Group|Bundle): [\w.:-]+(?: \(class=[^)]*\))?\s*$)",
    re.M,
)
INSTEAD = "paste the pcs commands you ran, or `pcs cluster cib` (XML, under 'cib: |')"
# Set by the cluster itself, not by whoever configured it.
_CLUSTER_SET = {"dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh"}
_RESOURCE = re.compile(r"^Resource: ([\w.:-]+) \(class=(\S+)(?: provider=(\S+))? type=([^)\s]+)\)$")


@dataclass
class Read:
    commands: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, words), "pcs" first
    notes: list[str] = field(default_factory=list)
    nodes: list[tuple[int, str]] = field(default_factory=list)  # Corosync / Pacemaker Nodes

    def text(self, total_lines: int) -> str:
        """The commands as pcs-format text, each at its line (or the next free one)."""
        slots = [""] * total_lines
        last = 0
        for line, words in self.commands:
            slot = max(line, last + 1)
            while slot > len(slots):
                slots.append("")
            slots[slot - 1] = shlex.join(words)
            last = slot
        return "\n".join(slots) + "\n"


def looks_like(text: str) -> bool:
    return MARKERS.search(text) is not None


def read(text: str, *, path: Path | str | None = None, first_line: int = 1) -> Read:
    return _Reader(path, first_line).run(text)


def _tree(text: str) -> list[Node]:
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        node = Node(number, raw.strip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((indent, node))
    return roots


class _Reader(Constraints):
    def __init__(self, path: Path | str | None, first_line: int) -> None:
        self.path, self.first_line = path, first_line
        self.out = Read()
        self.ids: set[str] = set()

    def run(self, text: str) -> Read:
        try:
            for root in _tree(text):
                self.section(root)
        except Unreadable as error:
            raise self.fail(error.node, error.message) from None
        return self.out

    def fail(self, node: Node, message: str, hint: str = INSTEAD) -> InputError:
        return InputError(message, path=self.path, line=self.first_line + node.line - 1, hint=hint)

    def emit(self, node: Node, *words: str) -> None:
        self.out.commands.append((node.line, ["pcs", *words]))

    def note(self, node: Node, what: str) -> None:
        self.out.notes.append(f"line {self.first_line + node.line - 1}: {what}")

    def section(self, node: Node) -> None:
        head, _, rest = node.text.partition(":")
        rest = rest.strip()
        if head == "Cluster Name":
            self.note(node, f"cluster name {rest} (not configuration)")
        elif head in ("Corosync Nodes", "Pacemaker Nodes"):
            words = rest.split() + [w for child in node.children for w in child.text.split()]
            self.out.nodes += [(self.first_line + node.line - 1, w) for w in words]
        elif head == "Resources" and not rest:
            for child in node.children:
                self.resource(child, group=None)
        elif head == "Stonith Devices" and not rest:
            for child in node.children:
                self.resource(child, group=None, stonith=True)
        elif head == "Location Constraints" and not rest:
            for child in node.children:
                self.location(child)
        elif head in ("Ordering Constraints", "Order Constraints", "Colocation Constraints") and not rest:
            for child in node.children:
                (self.order if head.startswith("Order") else self.colocation)(child)
        elif head.endswith(" Set Constraints") and not rest:  # 0.11.7+
            if node.children:
                raise self.fail(node.children[0], f"resource sets are not supported ('{head}')")
        elif head == "Ticket Constraints" and not rest:
            if node.children:
                raise self.fail(node.children[0], "ticket constraints are not supported")
        elif head in ("Resources Defaults", "Operations Defaults") and not rest:
            self.defaults(node, ["resource", "defaults"] if head[0] == "R" else ["resource", "op", "defaults"])
        elif head == "Cluster Properties":
            self.properties(node)
        elif head == "Node Attributes" and not rest:
            for child in node.children:
                name, _, attrs = child.text.partition(":")
                self.emit(child, "node", "attribute", name.strip(), *shlex.split(attrs))
        elif head in ("Fencing Levels", "Alerts", "Tags", "Quorum") and not rest:
            if any(
                c.text not in ("No alerts defined", "No tags defined", "Options:") or c.children for c in node.children
            ):
                self.note(node, f"'{head}' ignored (it does not decide where resources run)")
        elif head in ("Resource", "Clone", "Master", "Group", "Bundle"):
            self.resource(node, group=None)  # a `pcs resource config` listing
        else:
            raise self.fail(node, f"not a line of `pcs config` this reader knows: '{node.text[:80]}'")

    # -- resources -------------------------------------------------------------------------------
    def resource(self, node: Node, group: str | None, stonith: bool = False) -> str:
        kind, _, name = node.text.partition(": ")
        name = name.strip()
        if kind == "Resource":
            return self.primitive(node, group, stonith)
        if kind == "Group" and group is None:
            members = [c for c in node.children if c.text.startswith("Resource: ")]
            for child in members:
                self.primitive(child, name, False)
            for other in node.children:
                if other not in members:
                    self.emit(other, "resource", "meta", name, *self.meta(other))
            return name
        if kind in ("Clone", "Master") and group is None:
            inner = [c for c in node.children if re.match(r"^(?:Resource|Group): ", c.text)]
            if len(inner) != 1:
                raise self.fail(node, f"{kind} {name} holds {len(inner)} resources or groups, not one")
            meta: list[str] = []
            for other in node.children:
                if other is not inner[0]:
                    meta += self.meta(other)
            promotable = kind == "Master" or "promotable=true" in meta
            wrap = ["promotable" if promotable else "clone", name, *[m for m in meta if m != "promotable=true"]]
            if inner[0].text.startswith("Resource: "):
                # pcs 0.11.5 refuses to clone a resource whose agent this machine lacks, even with
                # --force; `resource create ... clone ID options` makes the same clone and takes --force.
                self.primitive(inner[0], None, False, wrap)
            else:
                self.emit(node, "resource", wrap[0], self.resource(inner[0], None), *wrap[1:])
            return name
        raise self.fail(node, f"'{node.text[:60]}': {kind.lower()} resources are not supported here")

    def meta(self, node: Node) -> list[str]:
        head, _, rest = node.text.partition(":")
        if head not in ("Meta Attrs", "Meta Attributes"):
            raise self.fail(node, f"not supported in a clone or group listing: '{node.text[:80]}'")
        return name_values(node, rest.strip())

    def primitive(self, node: Node, group: str | None, stonith: bool, wrap: list[str] | None = None) -> str:
        match = _RESOURCE.match(node.text)
        if not match:
            raise self.fail(node, f"a resource line pcs prints as 'Resource: ID (class=... type=...)': '{node.text}'")
        rid, klass, provider, agent = match.groups()
        words: list[str] = []
        extra: list[tuple[Node, list[str]]] = []
        for child in node.children:
            head, _, rest = child.text.partition(":")
            rest = rest.strip()
            if head == "Attributes":
                words[:0] = name_values(child, rest)
            elif head in ("Meta Attrs", "Meta Attributes"):
                words += ["meta", *name_values(child, rest)]
            elif head == "Utilization":
                extra.append((child, ["resource", "utilization", rid, *name_values(child, rest)]))
            elif head == "Operations":
                words += self.operations(child, rest)
            elif head == "Description":
                words += ["description=" + rest]
            else:
                raise self.fail(child, f"not supported in a resource listing: '{child.text[:80]}'")
        if stonith or klass == "stonith":
            self.emit(node, "stonith", "create", rid, agent, *words)
        else:
            full = ":".join(p for p in (klass, provider, agent) if p)
            self.emit(
                node,
                "resource",
                "create",
                rid,
                full,
                *words,
                "--no-default-ops",
                *(wrap or []),
                *(["--group", group] if group else []),
            )
        for where, command in extra:
            self.emit(where, *command)
        return rid

    def operations(self, node: Node, rest: str) -> list[str]:
        words: list[str] = []
        if rest:  # 0.9, 0.10: "Operations: monitor interval=30s (id)", then one per line below
            for text in [rest] + [c.text for c in node.children]:
                plain, _ = parenthesized(text)
                words += ["op", *shlex.split(plain)]
        else:  # 0.11: "monitor: id" and its options one a line below
            for child in node.children:
                name = child.text.partition(":")[0]
                words += ["op", name, *name_values(child, "")]
        return words

    # -- cluster-wide ----------------------------------------------------------------------------
    def defaults(self, node: Node, command: list[str]) -> None:
        for child in node.children:
            if child.text == "No defaults set":
                continue
            if child.text.startswith("Meta Attrs:"):
                for rule in child.children:
                    if rule.text.startswith("Rule:"):
                        raise self.fail(rule, f"defaults with rules are not supported: '{rule.text[:60]}'")
                pairs = name_values(child, "")
            else:
                pairs = [child.text.replace(": ", "=", 1) if "=" not in child.text else child.text]
            if any(p.startswith("Rule:") or "=" not in p for p in pairs):
                raise self.fail(child, f"defaults with rules are not supported: '{child.text[:60]}'")
            self.emit(child, *command, "update", *pairs)

    def properties(self, node: Node) -> None:
        for child in node.children:
            name, sep, value = child.text.partition(": ")
            if not sep:
                name, sep, value = child.text.partition("=")
            if not sep or " " in name:
                raise self.fail(child, f"not a cluster property line: '{child.text[:80]}'")
            if name in _CLUSTER_SET:
                continue
            self.emit(child, "property", "set", f"{name}={value}")
