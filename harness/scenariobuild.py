"""Checking a scenario file's data into a ``Scenario``: every key, every type, with the file and the
line of what is wrong and how to fix it (``InputError``).
"""

from __future__ import annotations

import re
from typing import Any

from . import configformat
from . import styles as st
from .outcome import VERDICTS
from .scenariocheck import _NAME
from .scenarioparts import Parts, node_names
from .scenariotypes import GUEST_TYPES, Expectation, Rule, Scenario
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
    "attributes",
    "status-attributes",
}
# A resource under test: an id, or a clone instance (lv:1).
_TARGET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*(:\d+)?$")
_RULE_KEYS = {"style", "trigger", "pacemaker", "resource", "verdict", "tier", "why", "xen", "guest", "node"}
# Keys the model once reserved but no tier ever read: refused, so that nobody believes they act.
_UNSUPPORTED = {
    "fencing": "no tier reads it (the simulate tier runs with stonith-enabled=false, "
    "the live tiers configure their own fencing)",
}


class Builder(Parts):
    """Checks every value's type and names before the Scenario is built; errors point at the line."""

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
        nodes, hosts = self._nodes()
        names = node_names(nodes, hosts)
        configuration, cib, config_key, fmt = self._configuration()
        self._check_hosts(cib if cib is not None else configuration or "", fmt, names, config_key, bool(hosts))
        resources_ = self._resources()
        topology = self._topology(configuration, fmt)
        styles = self._styles(topology)
        triggers = self._triggers(names)
        rules = self._rules(resources_, names)
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
            **self._nested(styles, triggers, names),
            hosts=hosts,
            attributes=self._attributes(names),
            format=fmt,
            not_applied=self.not_applied,
            config_notes=self.config_notes,
        )

    def _configuration(self) -> tuple[str | None, str | None, str, str]:
        """(crm or pcs text, raw XML, the key it was given under, its format)."""
        configuration, cib = self.data.get("configuration"), self.data.get("cib")
        if (configuration is None) == (cib is None):
            raise self.fail(
                "give exactly one of 'configuration' (crm syntax or pcs commands) or 'cib' (raw CIB XML)",
                "configuration" if configuration is not None else "cib",
            )
        key = "configuration" if configuration is not None else "cib"
        text = self.text(
            configuration if configuration is not None else cib,
            key,
            wanted="text: write it after 'configuration: |' (or 'cib: |')",
        )
        detected = configformat.detect(text, path=self.path, first_line=self.lines.text_start.get((key,), 1))
        self.not_applied = detected.dropped
        self.config_notes = detected.notes
        if detected.format == "xml":
            return None, detected.text, key, "xml"
        if key == "cib":
            raise self.fail(
                "'cib' holds raw CIB XML (starting with '<')",
                key,
                hint="put crm syntax or pcs commands under 'configuration: |'",
            )
        return detected.text, None, key, detected.format

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
            self.ident(r, "resources", index, pattern=_TARGET)
            if isinstance(raw, list)
            else self.ident(r, "resources", pattern=_TARGET)
            for index, r in enumerate(items)
        )

    def _topology(self, configuration: str | None, fmt: str) -> st.Topology | None:
        raw = self.data.get("topology")
        if raw is None:
            return None
        if fmt == "pcs":
            raise self.fail(
                "'topology' renders crm syntax: styles cannot rewrite pcs commands",
                "topology",
                hint="remove 'topology', or paste `crm configure show` output",
            )
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

    def _triggers(self, names: list[str]) -> list[Trigger]:
        raw = self.data.get("triggers", "all")
        if raw == "all":
            return [Trigger(kind) for kind in PLAIN]
        if not isinstance(raw, list) or not raw:
            raise self.wrong(("triggers",), raw, "'all' or a list such as [move, standby, crash]")
        return [self._trigger(item, index, names) for index, item in enumerate(raw)]

    def _trigger(self, item: Any, index: int, names: list[str], where: tuple[str | int, ...] | None = None) -> Trigger:
        where = where or ("triggers", index)
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
        if node is not None and node not in names:
            shown = f"'{node}'" if isinstance(node, str) else kind_of(node)
            raise self.fail(
                f"trigger '{kind}' names node {shown}, which this {len(names)}-node scenario does not have",
                *where,
                kind,
                "node",
                hint="nodes: " + ", ".join(names),
            )
        resource = params.get("resource")
        if resource is not None:
            resource = self.ident(resource, *where, kind, "resource")
        return Trigger(kind, resource, node)

    def _rules(self, resources_: tuple[str, ...], names: list[str]) -> list[Rule]:
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
        return [self._rule(item, index, resources_, names) for index, item in enumerate(raw)]

    def _rule(self, item: Any, index: int, resources_: tuple[str, ...], names: list[str]) -> Rule:
        where: tuple[str | int, ...] = ("expect", index)
        line = self.lines.of(*where) or 0
        item = self.mapping(item, *where, keys=_RULE_KEYS, wanted="a rule {verdict: ..., style: ..., trigger: ...}")
        if "verdict" not in item:
            raise self.fail("each 'expect' rule needs a 'verdict'", *where)
        known_values = {
            "verdict": set(VERDICTS),
            "style": set(st.STYLES) | {st.AS_WRITTEN.name},
            "trigger": set(KINDS),
            "resource": set(resources_) | self._configuration_words(),
            "tier": {"simulate", "local", "nested"},
            "guest": set(GUEST_TYPES),
            "node": set(names),
        }
        values: dict[str, tuple[str, ...]] = {}
        trigger_resource: tuple[str, ...] = ()
        if isinstance(item.get("trigger"), dict):
            # trigger: {move: {resource: vm3, node: xen02}}: the kind and the arguments it acts with
            written = self._trigger(item["trigger"], 0, sorted(known_values["node"]), where=(*where, "trigger"))
            item = {**item, "trigger": written.kind}
            if written.node:
                item["node"] = [*self.names(item.get("node", []) or [written.node], *where, "node"), written.node]
            trigger_resource = (written.resource,) if written.resource else ()
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
            node=values["node"],
            trigger_resource=trigger_resource,
        )

    def _configuration_words(self) -> set[str]:
        """Every word of the configuration: an expect rule's ``resource:`` may name a group's member
        (the configuration is parsed by crmsh or pcs later; a typo still fails here)."""
        text = self.data.get("configuration") or self.data.get("cib") or ""
        return set(re.findall(r"[A-Za-z_][A-Za-z0-9_.:-]*", text)) if isinstance(text, str) else set()

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
