"""Checking a scenario file's data into a ``Scenario``: every key, every type, with the file and the
line of what is wrong and how to fix it (``InputError``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import styles as st
from . import yamlfile
from .errors import InputError
from .outcome import VERDICTS
from .scenariotypes import GUEST_TYPES, Expectation, Guest, Rule, Scenario
from .triggers import KINDS, PLAIN, Trigger
from .version import check_range
from .yamlfile import kind_of

_TOP_KEYS = {
    "name",
    "title",
    "source",
    "nodes",
    "resources",
    "configuration",
    "cib",
    "topology",
    "styles",
    "triggers",
    "expect",
    "options",
    "measured",
    "notes",
    "fencing",
    "guest",
    "nested",
}
_RULE_KEYS = {"style", "trigger", "pacemaker", "resource", "verdict", "tier", "why", "xen", "guest"}
# Keys the model once reserved but no tier ever read: refused, so that nobody believes they act.
_UNSUPPORTED = {
    "fencing": "no tier reads it (the simulate tier runs with stonith-enabled=false, "
    "the live tiers configure their own fencing)",
}
# Pacemaker ids are XML IDs; a scenario name also names directories.
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _label(where: tuple[str | int, ...]) -> str:
    """('expect', 2, 'verdict') -> "'verdict' in item 3 of 'expect'"."""
    *parents, last = where
    text = f"item {last + 1}" if isinstance(last, int) else f"'{last}'"
    for index in range(len(parents) - 1, -1, -1):
        part = parents[index]
        if isinstance(part, int):
            continue
        item = where[index + 1] if index + 1 < len(where) else None
        if isinstance(item, int) and index + 1 < len(where) - 1:
            text += f" in item {item + 1} of '{part}'"
        elif not (isinstance(last, int) and index == len(parents) - 1):
            text += f" in '{part}'"
        else:
            text += f" of '{part}'"
    return text


class Builder:
    """Checks every value's type and names before the Scenario is built; errors point at the line."""

    def __init__(self, path: Path, data: dict[Any, Any], lines: yamlfile.Lines) -> None:
        self.path, self.data, self.lines = path, data, lines

    def fail(self, message: str, *where: str | int, line: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=line or self.lines.of(*where), hint=hint)

    # -- typed accessors -----------------------------------------------------------------------
    def wrong(self, where: tuple[str | int, ...], value: Any, wanted: str, hint: str | None = None) -> InputError:
        return self.fail(f"{_label(where)} must be {wanted}, not {kind_of(value)}", *where, hint=hint)

    def text(self, value: Any, *where: str | int, wanted: str = "text", hint: str | None = None) -> str:
        if not isinstance(value, str):
            raise self.wrong(where, value, wanted, hint)
        return value

    def ident(self, value: Any, *where: str | int, what: str = "a resource id", pattern: re.Pattern[str] = _ID) -> str:
        text = self.text(value, *where, wanted=what)
        if not pattern.match(text):
            first = "a letter or digit" if pattern is _NAME else "a letter or '_'"
            raise self.fail(
                f"{_label(where)}: '{text}' is not {what}",
                *where,
                hint=f"start with {first}; use letters, digits, '_', '.' and '-' only",
            )
        return text

    def names(self, value: Any, *where: str | int, wanted: str = "a name or a list of names") -> tuple[str, ...]:
        """A name or a list of names, as ``style:``, ``trigger:``, ``verdict:`` take them."""
        items = value if isinstance(value, list) else [value]
        if value is None or not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise self.wrong(where, value if not isinstance(value, list) else _first_bad(items), wanted)
        return tuple(items)

    def mapping(
        self, value: Any, *where: str | int, keys: set[str] | None = None, wanted: str = "a mapping (key: value)"
    ) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.wrong(where, value, wanted)
        extra = sorted(str(k) for k in value if keys is not None and k not in keys)
        if extra:
            raise self.fail(
                f"unknown key '{extra[0]}' in {_label(where)}",
                *where,
                extra[0],
                hint="keys: " + ", ".join(sorted(keys or ())),
            )
        return value

    # -- the scenario ---------------------------------------------------------------------------
    def build(self) -> Scenario:
        data = self.data
        unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
        if unknown:
            raise self.fail(
                f"unknown key '{unknown[0]}'", unknown[0], hint="known keys: " + ", ".join(sorted(_TOP_KEYS))
            )
        for key, reason in _UNSUPPORTED.items():
            if key in data:
                raise self.fail(f"'{key}' is not supported: {reason}", key, hint=f"remove '{key}'")
        if "name" not in data:
            raise self.fail("missing 'name' (a short id such as seed-xen)", line=1)
        name = self.ident(data["name"], "name", what="a short id such as seed-xen", pattern=_NAME)
        nodes = data.get("nodes", 2)
        if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes not in (2, 3):
            shown = str(nodes) if isinstance(nodes, (int, float)) and not isinstance(nodes, bool) else kind_of(nodes)
            raise self.fail(
                f"nodes must be 2 or 3, not {shown}", "nodes", hint="write nodes: 2 (nodes are node1, node2 and node3)"
            )
        configuration, cib, config_key = self._configuration()
        resources_ = self._resources()
        topology = self._topology(configuration)
        styles = self._styles(topology)
        triggers = self._triggers(nodes)
        rules = self._rules(resources_)
        self._free_text()
        self._measured()
        return Scenario(
            name=name.strip(),
            path=self.path,
            nodes=nodes,
            resources=list(resources_),
            configuration=configuration,
            cib=cib,
            config_line=self.lines.text_start.get((config_key,), 1),
            topology=topology,
            styles=styles,
            triggers=triggers,
            rules=rules,
            title=self.text(data.get("title", ""), "title", hint='quote it: title: "..."'),
            source=self.mapping(
                data.get("source") or {}, "source", wanted="a mapping such as {list: ..., date: ..., link: ...}"
            ),
            options=self._options(),
            guest=self._guest(),
            **self._nested(styles, triggers),
        )

    def _configuration(self) -> tuple[str | None, str | None, str]:
        configuration, cib = self.data.get("configuration"), self.data.get("cib")
        if (configuration is None) == (cib is None):
            raise self.fail(
                "give exactly one of 'configuration' (crm syntax) or 'cib' (raw CIB XML)",
                "configuration" if configuration is not None else "cib",
            )
        key = "configuration" if configuration is not None else "cib"
        text = self.text(
            configuration if configuration is not None else cib,
            key,
            wanted="text: write it after 'configuration: |' (or 'cib: |')",
        )
        if key == "configuration" and text.lstrip().startswith("<"):
            return None, text, key
        return (text, None, key) if key == "configuration" else (None, text, key)

    def _resources(self) -> tuple[str, ...]:
        raw = self.data.get("resources")
        if raw is None or raw == []:
            raise self.fail(
                "'resources' lists the resource ids under test, e.g. resources: [vm1]",
                "resources",
                line=None if "resources" in self.data else 1,
            )
        if not isinstance(raw, (str, list)):
            raise self.wrong(("resources",), raw, "a list of resource ids, e.g. [vm1]")
        items = [raw] if isinstance(raw, str) else raw
        return tuple(
            self.ident(r, "resources", index) if isinstance(raw, list) else self.ident(r, "resources")
            for index, r in enumerate(items)
        )

    def _topology(self, configuration: str | None) -> st.Topology | None:
        raw = self.data.get("topology")
        if raw is None:
            return None
        raw = self.mapping(raw, "topology", keys={"vm", "storage"}, wanted="a mapping {vm: ..., storage: ...}")
        for key in ("vm", "storage"):
            if key not in raw:
                raise self.fail(
                    "'topology' needs 'vm' (the migratable resource) and 'storage' (the clone it depends on)",
                    "topology",
                )
        if configuration is None:
            raise self.fail("'topology' renders crm syntax: use 'configuration', not 'cib' (raw XML)", "topology")
        topology = st.Topology(
            self.ident(raw["vm"], "topology", "vm"), self.ident(raw["storage"], "topology", "storage")
        )
        try:
            st.check(configuration, topology)
        except st.TopologyError as exc:
            raise self.fail(exc.message, "topology", exc.key, hint=exc.hint) from None
        return topology

    def _styles(self, topology: st.Topology | None) -> list[str]:
        raw = self.data.get("styles")
        if topology is None:
            if raw not in (None, st.AS_WRITTEN.name, [st.AS_WRITTEN.name]):
                raise self.fail(
                    "'styles' needs a 'topology' to render them",
                    "styles",
                    hint="add topology: {vm: ..., storage: ...}, or remove 'styles'",
                )
            return [st.AS_WRITTEN.name]
        if raw is None or raw == "all":
            return list(st.STYLES)
        if not isinstance(raw, list) or not raw:
            raise self.wrong(("styles",), raw, "'all' or a list of style names")
        known = set(st.STYLES) | {st.AS_WRITTEN.name}
        for index, style in enumerate(raw):
            self.text(style, "styles", index, wanted="a style name")
            if style not in known:
                raise self.fail(f"unknown style '{style}'", "styles", index, hint="styles: " + ", ".join(sorted(known)))
        return list(raw)

    def _triggers(self, nodes: int) -> list[Trigger]:
        raw = self.data.get("triggers", "all")
        if raw == "all":
            return [Trigger(kind) for kind in PLAIN]
        if not isinstance(raw, list) or not raw:
            raise self.wrong(("triggers",), raw, "'all' or a list such as [move, standby, crash]")
        return [self._trigger(item, index, nodes) for index, item in enumerate(raw)]

    def _trigger(self, item: Any, index: int, nodes: int) -> Trigger:
        where = ("triggers", index)
        params: Any
        if isinstance(item, str):
            kind, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            kind, params = next(iter(item.items()))
            params = {} if params is None else params
        else:
            raise self.wrong(where, item, "a trigger name (move) or {name: {resource: ..., node: ...}}")
        if kind not in KINDS:
            raise self.fail(f"unknown trigger '{kind}'", *where, hint="triggers: " + ", ".join(KINDS))
        if isinstance(params, dict) and "rc" in params:
            raise self.fail(
                f"trigger '{kind}': 'rc' is not supported: a dependency failure is always a monitor "
                "answering 7 (not running)",
                *where,
                kind,
                "rc",
                hint="remove 'rc'",
            )
        params = self.mapping(
            params, *where, kind, keys={"resource", "node"}, wanted="a mapping {resource: ..., node: ...}"
        )
        node = params.get("node")
        names = [f"node{i}" for i in range(1, nodes + 1)]
        if node is not None and node not in names:
            shown = f"'{node}'" if isinstance(node, str) else kind_of(node)
            raise self.fail(
                f"trigger '{kind}' names node {shown}, which this {nodes}-node scenario does not have",
                *where,
                kind,
                "node",
                hint="nodes: " + ", ".join(names),
            )
        resource = params.get("resource")
        if resource is not None:
            resource = self.ident(resource, *where, kind, "resource")
        return Trigger(kind, resource, node)

    def _rules(self, resources_: tuple[str, ...]) -> list[Rule]:
        raw = self.data.get("expect")
        if raw is None:
            raise self.fail(
                "missing 'expect': the verdict you expect, e.g. expect: [{verdict: migrate}]",
                "expect",
                line=None if "expect" in self.data else 1,
            )
        if isinstance(raw, str):
            raw = [{"verdict": raw}]
        if not isinstance(raw, list) or not raw:
            raise self.wrong(("expect",), raw, "a verdict or a list of rules: {style:, trigger:, pacemaker:, verdict:}")
        return [self._rule(item, index, resources_) for index, item in enumerate(raw)]

    def _rule(self, item: Any, index: int, resources_: tuple[str, ...]) -> Rule:
        where: tuple[str | int, ...] = ("expect", index)
        line = self.lines.of(*where) or 0
        item = self.mapping(item, *where, keys=_RULE_KEYS, wanted="a rule {verdict: ..., style: ..., trigger: ...}")
        if "verdict" not in item:
            raise self.fail("each 'expect' rule needs a 'verdict'", *where)
        known_values = {
            "verdict": set(VERDICTS),
            "style": set(st.STYLES) | {st.AS_WRITTEN.name},
            "trigger": set(KINDS),
            "resource": set(resources_),
            "tier": {"simulate", "local", "nested"},
            "guest": set(GUEST_TYPES),
        }
        values: dict[str, tuple[str, ...]] = {}
        for key, known in known_values.items():
            if key not in item:
                values[key] = ()
                continue
            values[key] = self.names(item[key], *where, key)
            for value in values[key]:
                if value not in known:
                    what = "unknown verdict" if key == "verdict" else f"'expect' rule names unknown {key}"
                    raise self.fail(f"{what} '{value}'", *where, key, hint=f"{key}s: " + ", ".join(sorted(known)))
        ranges = {key: self._range(item.get(key), *where, key) for key in ("pacemaker", "xen")}
        why = self.text(item["why"], *where, "why") if item.get("why") is not None else None
        return Rule(
            line=line,
            expectation=Expectation(values["verdict"], why, line),
            style=values["style"],
            trigger=values["trigger"],
            resource=values["resource"],
            tier=values["tier"],
            pacemaker=ranges["pacemaker"],
            xen=ranges["xen"],
            guest=values["guest"],
        )

    def _range(self, value: Any, *where: str | int) -> str | None:
        if value is None:
            return None
        text = self.text(
            value,
            *where,
            wanted='a quoted version range such as ">=2.0, <3"',
            hint=f'quote it: {where[-1]}: "=={value}"' if isinstance(value, (int, float)) else None,
        )
        try:
            check_range(text)
        except ValueError as exc:
            raise self.fail(str(exc), *where) from None
        return text

    def _options(self) -> dict[str, str]:
        raw = self.mapping(
            self.data.get("options") or {},
            "options",
            wanted="a mapping of cluster options, e.g. {no-quorum-policy: ignore}",
        )
        options = {}
        for key, value in raw.items():
            name = self.ident(key, "options", what="a cluster option name")
            if not isinstance(value, (str, int, float)):
                raise self.wrong(("options", name), value, "text, a number or true/false")
            options[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return options

    def _free_text(self) -> None:
        notes = self.data.get("notes")
        if notes is not None and not isinstance(notes, str):
            self.names(notes, "notes", wanted="text or a list of text")

    def _measured(self) -> None:
        """``measured:`` is written by ``--record``: {'<tier> pacemaker-<version>': {style: {trigger: verdict}}}."""
        raw = self.data.get("measured")
        if raw is None:
            return
        wanted = "what `run --record` writes: {<tier> pacemaker-<version>: {<style>: {<trigger>: <verdict>}}}"
        for key, by_style in self.mapping(raw, "measured", wanted=wanted).items():
            for style, by_trigger in self.mapping(by_style, "measured", key, wanted=wanted).items():
                for trigger, cell in self.mapping(by_trigger, "measured", key, style, wanted=wanted).items():
                    self.text(cell, "measured", key, style, trigger, wanted="a verdict (text)")

    def _nested(self, styles: list[str], triggers: list[Trigger]) -> dict[str, tuple[str, ...]]:
        raw = self.data.get("nested")
        if raw is None:
            return {}
        raw = self.mapping(
            raw,
            "nested",
            keys={"styles", "triggers"},
            wanted="a mapping {styles: [...], triggers: [...]}: the cases the nested tier runs (minutes each)",
        )
        chosen_styles = self.names(raw["styles"], "nested", "styles") if "styles" in raw else ()
        chosen_triggers = self.names(raw["triggers"], "nested", "triggers") if "triggers" in raw else ()
        for value in chosen_styles:
            if value not in styles:
                raise self.fail(
                    f"'nested' names style '{value}', which the scenario does not run",
                    "nested",
                    "styles",
                    hint="styles: " + ", ".join(styles),
                )
        names = [t.kind for t in triggers]
        for value in chosen_triggers:
            if value not in names:
                raise self.fail(
                    f"'nested' names trigger '{value}', which the scenario does not run",
                    "nested",
                    "triggers",
                    hint="triggers: " + ", ".join(names),
                )
        return {"nested_styles": chosen_styles, "nested_triggers": chosen_triggers}

    def _guest(self) -> Guest:
        raw = self.data.get("guest")
        if raw is None:
            return Guest()
        raw = self.mapping(
            raw,
            "guest",
            keys={"type", "memory", "period", "dirty"},
            wanted="a mapping {type: pv or pvh, memory: MiB, period: seconds, dirty: MiB}",
        )
        kind = raw.get("type", "pv")
        if kind not in GUEST_TYPES:
            shown = f"'{kind}'" if isinstance(kind, str) else kind_of(kind)
            raise self.fail(f"unknown guest type {shown}", "guest", "type", hint="guest types: pv, pvh")
        memory = self._number(raw, "memory", 128, integer=True)
        period = self._number(raw, "period", 0.1, integer=False)
        dirty = self._number(raw, "dirty", 0, integer=True, zero=True)
        return Guest(kind, int(memory), float(period), int(dirty))

    def _number(self, raw: dict[Any, Any], key: str, default: float, *, integer: bool, zero: bool = False) -> float:
        value = raw.get(key, default)
        types = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, types) or value < 0 or (value == 0 and not zero):
            wanted = "a whole number of MiB" if integer else "a number of seconds"
            shown = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else kind_of(value)
            raise self.fail(f"'{key}' in 'guest' must be {wanted} above 0, not {shown}", "guest", key)
        return value


def _first_bad(items: list[Any]) -> Any:
    return next((v for v in items if not (isinstance(v, str) and v.strip())), items[0] if items else None)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)
