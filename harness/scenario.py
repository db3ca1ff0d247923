"""Scenarios as data: one YAML file each, validated with errors that name the file and the line.

A scenario names a candidate configuration (crm syntax, or raw CIB XML), the resources under test,
the triggers, and the expected verdict, optionally per constraint style, trigger and Pacemaker
version range. ``Scenario.cases()`` expands it into the style x trigger matrix that every tier runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from . import styles as st
from .errors import InputError
from .outcome import VERDICTS
from .triggers import KINDS, PLAIN, Trigger
from .version import Version, check_range, in_range

_TOP_KEYS = {
    "name", "title", "source", "nodes", "resources", "configuration", "cib", "topology",
    "styles", "triggers", "expect", "options", "measured", "notes", "fencing", "guest", "nested",
}
_RULE_KEYS = {"style", "trigger", "pacemaker", "resource", "verdict", "tier", "why", "xen", "guest"}
GUEST_TYPES = ("pv", "pvh")


@dataclass(frozen=True)
class Guest:
    """The nested tier's real domU for the resource under test (other tiers ignore it)."""

    type: str = "pv"
    memory_mib: int = 128
    period: float = 0.1  # heartbeat period, seconds
    dirty_mib: int = 0  # memory the guest keeps dirtying (a migration that cannot converge)


@dataclass(frozen=True)
class Expectation:
    verdicts: tuple[str, ...]
    why: str | None = None
    line: int | None = None

    def accepts(self, verdict: str) -> bool:
        return verdict in self.verdicts

    def __str__(self) -> str:
        return " or ".join(self.verdicts)


@dataclass(frozen=True)
class Rule:
    line: int
    expectation: Expectation
    style: tuple[str, ...] = ()
    trigger: tuple[str, ...] = ()
    resource: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    pacemaker: str | None = None
    xen: str | None = None  # Xen version range: matches only on a tier that runs Xen
    guest: tuple[str, ...] = ()

    def matches(
        self, style: str, trigger: str, resource: str, tier: str, version: Version, facts: dict[str, str]
    ) -> bool:
        xen = facts.get("xen")
        return (
            (not self.style or style in self.style)
            and (not self.trigger or trigger in self.trigger)
            and (not self.resource or resource in self.resource)
            and (not self.tier or tier in self.tier)
            and (self.pacemaker is None or in_range(version, self.pacemaker))
            and (self.xen is None or (xen is not None and in_range(Version.parse(xen), self.xen)))
            and (not self.guest or facts.get("guest") in self.guest)
        )


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: a scenario written in one style, hit by one trigger."""

    scenario: "Scenario"
    style: str
    trigger: Trigger

    @property
    def id(self) -> str:
        return f"{self.style}-{self.trigger.name}"

    @property
    def full_id(self) -> str:
        return f"{self.scenario.name}[{self.id}]"

    def expected(
        self, resource: str, tier: str, version: Version, facts: dict[str, str] | None = None
    ) -> Expectation | None:
        return self.scenario.expected(self.style, self.trigger.kind, resource, tier, version, facts or {})


@dataclass
class Scenario:
    name: str
    path: Path
    nodes: int
    resources: list[str]
    configuration: str | None
    cib: str | None
    config_line: int
    topology: st.Topology | None
    styles: list[str]
    triggers: list[Trigger]
    rules: list[Rule]
    title: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    guest: Guest = field(default_factory=Guest)
    # The cases the nested tier runs (minutes each): styles and trigger names; empty = all.
    nested_styles: tuple[str, ...] = ()
    nested_triggers: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The scenario's identity for directories and caches: its name and a hash of its file, so
        that two files with one ``name:`` never share a settled CIB or a case directory."""
        digest = hashlib.sha256(str(Path(self.path).resolve()).encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def render(self, style: str) -> str:
        if style == st.AS_WRITTEN.name or self.topology is None:
            return self.configuration or ""
        return st.render(self.configuration or "", self.topology, style)

    def cases(self, tier: str | None = None) -> list[Case]:
        """The style x trigger matrix; on the nested tier, only what the scenario's ``nested:`` names."""
        every = [Case(self, style, trigger) for style in self.styles for trigger in self.triggers]
        if tier != "nested":
            return every
        return [
            c for c in every
            if (not self.nested_styles or c.style in self.nested_styles)
            and (not self.nested_triggers or c.trigger.kind in self.nested_triggers)
        ]

    def expected(
        self, style: str, trigger: str, resource: str, tier: str, version: Version,
        facts: dict[str, str] | None = None,
    ) -> Expectation | None:
        for rule in self.rules:
            if rule.matches(style, trigger, resource, tier, version, facts or {}):
                return rule.expectation
        return None


def shipped_dir() -> Path:
    return Path(str(resources.files("harness") / "scenarios"))


def shipped() -> list[Path]:
    return sorted(shipped_dir().glob("*.yaml"))


def find(names: list[str]) -> list[Path]:
    """Scenario files from paths or shipped scenario names; all shipped ones when empty."""
    if not names:
        return shipped()
    found = []
    by_name = {p.stem: p for p in shipped()}
    for name in names:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(path.glob("*.yaml")))
        elif path.exists():
            found.append(path)
        elif name in by_name:
            found.append(by_name[name])
        else:
            names = {p: _peek_name(p) for p in shipped()}
            match = [p for p, n in names.items() if n == name]
            if not match:
                unreadable = [p.name for p, n in names.items() if n is None]
                raise InputError(
                    f"no scenario file or shipped scenario called '{name}'"
                    + (f" (unreadable shipped files: {', '.join(unreadable)})" if unreadable else ""),
                    hint="shipped: " + ", ".join(sorted(n or p.stem for p, n in names.items())),
                )
            found.extend(match)
    return found


def _peek_name(path: Path) -> str | None:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data.get("name") if isinstance(data, dict) else None


def load(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read scenario: {exc.strerror}", path=path) from None
    return parse(text, path)


def parse(text: str, path: Path) -> Scenario:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            f"invalid YAML: {problem}",
            path=path,
            line=mark.line + 1 if mark else None,
            hint="check indentation and quoting; block text such as the configuration goes after 'configuration: |'",
        ) from None
    if not isinstance(data, dict) or node is None:
        raise InputError("a scenario is a YAML mapping (name:, nodes:, configuration:, ...)", path=path)
    lines = _key_lines(node)
    return _Builder(path, data, lines).build()


def adhoc(name: str, path: Path, configuration: str, resources: list[str], nodes: int = 2,
          options: dict[str, str] | None = None) -> Scenario:
    """A scenario for a user's own test (the ``migration_cluster`` fixture): the configuration as
    written, validated like a file; it expects nothing, the test asserts."""
    data: dict[str, Any] = {
        "name": name, "nodes": nodes, "resources": resources, "configuration": configuration,
        "options": options or {}, "triggers": ["none"], "expect": [{"verdict": list(VERDICTS)}],
    }
    return _Builder(path, data, {}).build()


def _key_lines(node: yaml.Node) -> dict[str, Any]:
    """Line numbers (1-based) of top-level keys and of the items of 'expect' and 'triggers'."""
    lines: dict[str, Any] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        name = key.value
        lines[name] = key.start_mark.line + 1
        if isinstance(value, yaml.ScalarNode) and value.style in {"|", ">"}:
            lines[name + ".text"] = value.start_mark.line + 2
        elif isinstance(value, yaml.ScalarNode):
            lines[name + ".text"] = value.start_mark.line + 1
        if isinstance(value, yaml.SequenceNode):
            lines[name + ".items"] = [item.start_mark.line + 1 for item in value.value]
    return lines


class _Builder:
    def __init__(self, path: Path, data: dict[str, Any], lines: dict[str, Any]) -> None:
        self.path, self.data, self.lines = path, data, lines

    def fail(self, message: str, key: str | None = None, line: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=line or (self.lines.get(key) if key else None), hint=hint)

    def build(self) -> Scenario:
        data = self.data
        unknown = set(data) - _TOP_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise self.fail(f"unknown key '{key}'", key, hint="known keys: " + ", ".join(sorted(_TOP_KEYS)))
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail("missing 'name' (a short id such as seed-xen)", "name")
        nodes = data.get("nodes", 2)
        if nodes not in (2, 3):
            raise self.fail(f"nodes must be 2 or 3, not {nodes!r}", "nodes")
        configuration, cib = data.get("configuration"), data.get("cib")
        if (configuration is None) == (cib is None):
            raise self.fail("give exactly one of 'configuration' (crm syntax) or 'cib' (raw CIB XML)")
        if configuration is not None and not isinstance(configuration, str):
            raise self.fail("'configuration' is crm shell text: write it after 'configuration: |'", "configuration")
        if isinstance(configuration, str) and configuration.lstrip().startswith("<"):
            configuration, cib = None, configuration
        resources_ = data.get("resources")
        if isinstance(resources_, str):
            resources_ = [resources_]
        if not resources_ or not all(isinstance(r, str) for r in resources_):
            raise self.fail("'resources' lists the resource ids under test, e.g. [vm1]", "resources")
        topology = self._topology()
        styles = self._styles(topology)
        triggers = self._triggers(resources_)
        rules = self._rules(styles, triggers, resources_)
        config_key = "configuration" if data.get("configuration") is not None else "cib"
        options = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in (data.get("options") or {}).items()}
        return Scenario(
            name=name.strip(),
            path=self.path,
            nodes=nodes,
            resources=list(resources_),
            configuration=configuration,
            cib=cib,
            config_line=self.lines.get(config_key + ".text", 1),
            topology=topology,
            styles=styles,
            triggers=triggers,
            rules=rules,
            title=str(data.get("title", "")),
            source=data.get("source") or {},
            options=options,
            guest=self._guest(),
            **self._nested(styles, triggers),
        )

    def _nested(self, styles: list[str], triggers: list[Trigger]) -> dict[str, tuple[str, ...]]:
        raw = self.data.get("nested")
        if raw is None:
            return {}
        if not isinstance(raw, dict) or set(raw) - {"styles", "triggers"}:
            raise self.fail("'nested' takes styles and triggers: the cases the nested tier runs (minutes each)", "nested")
        chosen_styles, chosen_triggers = _as_tuple(raw.get("styles")), _as_tuple(raw.get("triggers"))
        for value in chosen_styles:
            if value not in styles:
                raise self.fail(f"'nested' names style '{value}', which the scenario does not run", "nested",
                                hint="styles: " + ", ".join(styles))
        names = [t.kind for t in triggers]
        for value in chosen_triggers:
            if value not in names:
                raise self.fail(f"'nested' names trigger '{value}', which the scenario does not run", "nested",
                                hint="triggers: " + ", ".join(names))
        return {"nested_styles": chosen_styles, "nested_triggers": chosen_triggers}

    def _guest(self) -> Guest:
        raw = self.data.get("guest")
        if raw is None:
            return Guest()
        if not isinstance(raw, dict) or set(raw) - {"type", "memory", "period", "dirty"}:
            raise self.fail("'guest' takes type (pv or pvh), memory (MiB), period (s) and dirty (MiB)", "guest")
        kind = str(raw.get("type", "pv"))
        if kind not in GUEST_TYPES:
            raise self.fail(f"unknown guest type '{kind}'", "guest", hint="guest types: pv, pvh")
        try:
            return Guest(kind, int(raw.get("memory", 128)), float(raw.get("period", 0.1)), int(raw.get("dirty", 0)))
        except (TypeError, ValueError):
            raise self.fail("guest memory and dirty are MiB (integers), period is seconds", "guest") from None

    def _topology(self) -> st.Topology | None:
        raw = self.data.get("topology")
        if raw is None:
            return None
        if not isinstance(raw, dict) or not {"vm", "storage"} <= set(raw):
            raise self.fail("'topology' needs 'vm' (the migratable resource) and 'storage' (the clone it depends on)", "topology")
        if self.data.get("configuration") is None:
            raise self.fail("'topology' renders crm syntax: use 'configuration', not 'cib'", "topology")
        return st.Topology(str(raw["vm"]), str(raw["storage"]))

    def _styles(self, topology: st.Topology | None) -> list[str]:
        raw = self.data.get("styles")
        if topology is None:
            if raw not in (None, [st.AS_WRITTEN.name]):
                raise self.fail("'styles' needs a 'topology' to render them", "styles")
            return [st.AS_WRITTEN.name]
        if raw in (None, "all"):
            return list(st.STYLES)
        if not isinstance(raw, list):
            raise self.fail("'styles' is 'all' or a list of style names", "styles")
        known = set(st.STYLES) | {st.AS_WRITTEN.name}
        for index, style in enumerate(raw):
            if style not in known:
                raise self.fail(
                    f"unknown style '{style}'",
                    line=self._item_line("styles", index),
                    hint="styles: " + ", ".join(sorted(known)),
                )
        return [str(s) for s in raw]

    def _item_line(self, key: str, index: int) -> int | None:
        items = self.lines.get(key + ".items") or []
        return items[index] if index < len(items) else self.lines.get(key)

    def _triggers(self, resources_: list[str]) -> list[Trigger]:
        raw = self.data.get("triggers", "all")
        if raw == "all":
            return [Trigger(kind) for kind in PLAIN]
        if not isinstance(raw, list) or not raw:
            raise self.fail("'triggers' is 'all' or a list such as [move, standby, crash]", "triggers")
        triggers = []
        for index, item in enumerate(raw):
            line = self._item_line("triggers", index)
            if isinstance(item, str):
                kind, params = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                kind, params = next(iter(item.items()))
                params = params or {}
            else:
                raise self.fail("a trigger is a name (move) or {name: {resource: ..., node: ...}}", line=line)
            if kind not in KINDS:
                raise self.fail(f"unknown trigger '{kind}'", line=line, hint="triggers: " + ", ".join(KINDS))
            if not isinstance(params, dict) or set(params) - {"resource", "node"}:
                raise self.fail(f"trigger '{kind}' takes resource: and node: only", line=line)
            node = params.get("node")
            if node is not None and node not in [f"node{i}" for i in range(1, self.data.get("nodes", 2) + 1)]:
                raise self.fail(
                    f"trigger '{kind}' names node '{node}', which this {self.data.get('nodes', 2)}-node scenario does not have",
                    line=line,
                    hint="nodes are called node1, node2 (and node3)",
                )
            triggers.append(Trigger(kind, params.get("resource"), node))
        return triggers

    def _rules(self, styles: list[str], triggers: list[Trigger], resources_: list[str]) -> list[Rule]:
        raw = self.data.get("expect")
        if raw is None:
            raise self.fail("missing 'expect': the verdict you expect, e.g. expect: [{verdict: migrate}]")
        if isinstance(raw, str):
            raw = [{"verdict": raw}]
        if not isinstance(raw, list):
            raise self.fail("'expect' is a list of rules: {style:, trigger:, pacemaker:, verdict:}", "expect")
        rules = []
        style_names = set(st.STYLES) | {st.AS_WRITTEN.name}
        for index, item in enumerate(raw):
            line = self._item_line("expect", index) or 0
            if not isinstance(item, dict) or "verdict" not in item:
                raise self.fail("each 'expect' rule needs a 'verdict'", line=line)
            extra = set(item) - _RULE_KEYS
            if extra:
                raise self.fail(f"unknown key '{sorted(extra)[0]}' in an 'expect' rule", line=line, hint="keys: " + ", ".join(sorted(_RULE_KEYS)))
            verdicts = _as_tuple(item["verdict"])
            for verdict in verdicts:
                if verdict not in VERDICTS:
                    raise self.fail(f"unknown verdict '{verdict}'", line=line, hint="verdicts: " + ", ".join(VERDICTS))
            for key, known in (("style", style_names), ("trigger", set(KINDS)), ("resource", set(resources_)), ("tier", {"simulate", "local", "nested"})):
                for value in _as_tuple(item.get(key)):
                    if value not in known:
                        raise self.fail(f"'expect' rule names unknown {key} '{value}'", line=line, hint=f"{key}s: " + ", ".join(sorted(known)))
            for key in ("pacemaker", "xen"):
                if item.get(key) is not None:
                    try:
                        check_range(str(item[key]))
                    except ValueError as exc:
                        raise self.fail(str(exc), line=line) from None
            for value in _as_tuple(item.get("guest")):
                if value not in GUEST_TYPES:
                    raise self.fail(f"'expect' rule names unknown guest type '{value}'", line=line, hint="guest types: pv, pvh")
            pacemaker = item.get("pacemaker")
            rules.append(
                Rule(
                    line=line,
                    expectation=Expectation(verdicts, item.get("why"), line),
                    style=_as_tuple(item.get("style")),
                    trigger=_as_tuple(item.get("trigger")),
                    resource=_as_tuple(item.get("resource")),
                    tier=_as_tuple(item.get("tier")),
                    pacemaker=str(pacemaker) if pacemaker is not None else None,
                    xen=str(item["xen"]) if item.get("xen") is not None else None,
                    guest=_as_tuple(item.get("guest")),
                )
            )
        return rules


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)
