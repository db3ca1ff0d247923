"""The optional parts of a scenario file: options, notes, measured, nested, guest, and the nodes
(a count or host names) with their attributes, checked against the configuration's own node names.
"""

from __future__ import annotations

from typing import Any

from . import hostnames
from .scenariocheck import Checker
from .scenariotypes import GUEST_TYPES, Guest, NodeAttribute, default_node_names
from .triggers import Trigger
from .yamlfile import kind_of

MIN_NODES, MAX_NODES = 2, 16
_HOST = hostnames.HOST


class Parts(Checker):
    """The optional parts; ``Builder`` adds the required ones."""

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

    def _nested(self, styles: list[str], triggers: list[Trigger], names: list[str]) -> dict[str, Any]:
        raw = self.data.get("nested")
        if raw is None:
            return {}
        raw = self.mapping(
            raw,
            "nested",
            keys={"styles", "triggers", "dom0s"},
            wanted="a mapping {styles: [...], triggers: [...], dom0s: {node1: bookworm}}: what the nested tier runs",
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
        kinds = [t.kind for t in triggers]
        for value in chosen_triggers:
            if value not in kinds:
                raise self.fail(
                    f"'nested' names trigger '{value}', which the scenario does not run",
                    "nested",
                    "triggers",
                    hint="triggers: " + ", ".join(kinds),
                )
        dom0s = self._dom0s(raw["dom0s"], names) if "dom0s" in raw else {}
        return {"nested_styles": chosen_styles, "nested_triggers": chosen_triggers, "dom0s": dom0s}

    def _dom0s(self, raw: Any, names: list[str]) -> dict[str, str]:
        """``dom0s: {node1: bookworm, node2: trixie}``: the Debian release of each named dom0 (the
        nested tier's box per node; the others run the active release)."""
        from .tiers.nested.box import RELEASES  # here: harness.tiers imports the scenario model

        example = f"{{{names[0]}: bookworm, {names[1]}: trixie}}"
        where = ("nested", "dom0s")
        found = self.mapping(raw, *where, wanted=f"a mapping {{node: release}}, e.g. {example}")
        if not found:
            raise self.fail("'dom0s' in 'nested' is empty", *where, hint=f"write e.g. dom0s: {example}, or remove it")
        dom0s: dict[str, str] = {}
        for node, value in found.items():
            if node not in names:
                shown = f"'{node}'" if isinstance(node, str) else kind_of(node)
                raise self.fail(
                    f"'dom0s' in 'nested' names node {shown}, which this {len(names)}-node scenario does not have",
                    *where,
                    str(node),
                    hint="nodes: " + ", ".join(names),
                )
            if not isinstance(value, str) or value not in RELEASES:
                what = (
                    f"the release '{value}', which has no nested-tier box"
                    if isinstance(value, str)
                    else f"{kind_of(value)}, not a release name"
                )
                raise self.fail(
                    f"'dom0s' in 'nested' gives {node} {what}",
                    *where,
                    str(node),
                    hint="releases: " + ", ".join(RELEASES),
                )
            dom0s[str(node)] = value
        return dom0s

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
        memory = self._number(raw, "memory", Guest.memory_mib, integer=True)
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

    # -- nodes ----------------------------------------------------------------------------------
    def _nodes(self) -> tuple[int, tuple[str, ...]]:
        """``nodes:`` a count (node1..nodeN) or the hosts' names (``[xen01, xen02]``)."""
        raw = self.data.get("nodes", 2)
        hint = f"write nodes: 3 (nodes are node1, node2, node3) or the hosts' names, nodes: [xen01, xen02]; {MIN_NODES} to {MAX_NODES}"
        if isinstance(raw, list):
            hosts = tuple(self.text(h, "nodes", i, wanted="a host name") for i, h in enumerate(raw))
            for index, host in enumerate(hosts):
                if not _HOST.match(host):
                    raise self.fail(
                        f"'{host}' is not a host name",
                        "nodes",
                        index,
                        hint="letters, digits, '-' and '.' (the name `crm_node -n` prints)",
                    )
            duplicate = next((h for i, h in enumerate(hosts) if h in hosts[:i]), None)
            if duplicate:
                raise self.fail(f"host '{duplicate}' is listed twice in 'nodes'", "nodes")
            if not MIN_NODES <= len(hosts) <= MAX_NODES:
                listed = f"{len(hosts)} host" + ("" if len(hosts) == 1 else "s")
                raise self.fail(
                    f"nodes lists {listed}; a scenario has {MIN_NODES} to {MAX_NODES}",
                    "nodes",
                    hint=(
                        f"add the other hosts of the cluster: nodes: [{', '.join([*hosts, '<another host>'])}]"
                        if len(hosts) < MIN_NODES
                        else f"keep at most {MAX_NODES} hosts"
                    ),
                )
            return len(hosts), hosts
        if isinstance(raw, bool) or not isinstance(raw, int) or not MIN_NODES <= raw <= MAX_NODES:
            shown = str(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else kind_of(raw)
            raise self.fail(
                f"nodes must be {MIN_NODES} to {MAX_NODES} or a list of host names, not {shown}", "nodes", hint=hint
            )
        return raw, ()

    def _check_hosts(self, text: str, fmt: str, names: list[str], key: str, hosts_given: bool) -> None:
        """Every host the configuration names is one of the scenario's nodes."""
        first = self.lines.text_start.get((key,), 1)
        for found in hostnames.named(text, fmt):
            if found.host in names:
                continue
            if hosts_given:
                hint = "add it to nodes: [" + ", ".join([*names, found.host]) + "], or correct the name"
            else:
                own = list(dict.fromkeys(n.host for n in hostnames.named(text, fmt)))
                own += ["<another host>"] * (MIN_NODES - len(own))
                hint = (
                    f"nodes: {len(names)} means {', '.join(names)}; "
                    f"write the configuration's own hosts: nodes: [{', '.join(own)}]"
                )
            raise self.fail(
                f"the configuration's {found.what} names host '{found.host}', which is not one of the "
                f"scenario's nodes ({', '.join(names)})",
                line=first + found.line - 1,
                hint=hint,
            )

    def _attributes(self, names: list[str]) -> tuple[NodeAttribute, ...]:
        """``attributes:`` (permanent) and ``status-attributes:`` (transient) per node:
        ``{xen01: {pingd: 1000}}``."""
        found: list[NodeAttribute] = []
        for key, transient in (("attributes", False), ("status-attributes", True)):
            raw = self.data.get(key)
            if raw is None:
                continue
            wanted = "a mapping {host: {attribute: value}}, e.g. {xen01: {pingd: 1000}}"
            for node, values in self.mapping(raw, key, wanted=wanted).items():
                if node not in names:
                    raise self.fail(
                        f"'{key}' names host '{node}', which is not one of the scenario's nodes ({', '.join(names)})",
                        key,
                        str(node),
                        hint="nodes: " + ", ".join(names),
                    )
                for name, value in self.mapping(values, key, node, wanted=wanted).items():
                    self.ident(name, key, node, name, what="an attribute name")
                    if isinstance(value, (dict, list)) or value is None:
                        raise self.wrong((key, node, name), value, "text or a number")
                    shown = str(value).lower() if isinstance(value, bool) else str(value)
                    found.append(NodeAttribute(str(node), str(name), shown, transient))
        return tuple(found)


def node_names(count: int, hosts: tuple[str, ...]) -> list[str]:
    return list(hosts or default_node_names(count))
