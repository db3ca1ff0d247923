"""A scenario's configuration made real for the nested tier's dom0s.

The resource under test runs the harness's test guest (``ocf:heartbeat:Xen`` with the guest's
xl config), whatever guest the scenario's author had. Its storage stays as written when every
agent exists on the dom0s (a scenario written for today's stack, like xen-lvmlockd). When it does
not (the seed thread's 2012 stack: clvmd, cmirrord, o2cb have no agent on Debian 12), the storage
is *realized*: today's equivalent takes its place under the same ids, so the VM's constraints stay
exactly as the style wrote them:

* the storage clone (``topology.storage``) keeps its id and meta attributes and holds
  ``LVM-activate`` of the shared VG (shared activation through lvmlockd);
* in the group style, the VM's group holds that LVM-activate and then the VM;
* a locking clone ``mh-locking`` (dlm via ``ocf:pacemaker:controld``, ``ocf:heartbeat:lvmlockd``)
  comes first, colocated and ordered before the storage;
* every other resource and every constraint that does not name the VM or its storage goes.

Every change is said in the notes that go with each verdict.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ...errors import HarnessError
from ...prediction import parse_interval_ms
from ...styles import Topology

XEN_AGENT = ("ocf", "heartbeat", "Xen")
LOCKING = "mh-locking"
SHARED_VG = "mh-shared-vg"
_REFERENCE_ATTRIBUTES = ("rsc", "with-rsc", "first", "then")


class Unrealizable(HarnessError):
    """The scenario cannot run on real dom0s (the case is skipped, with this reason)."""


@dataclass
class Realized:
    resources: ET.Element
    constraints: ET.Element
    notes: list[str] = field(default_factory=list)


def agent_of(primitive: ET.Element) -> str:
    provider = primitive.get("provider")
    parts = [primitive.get("class", ""), *([provider] if provider else []), primitive.get("type", "")]
    return ":".join(parts)


def not_a_xen_guest(primitive: ET.Element) -> str | None:
    """Why the resource under test cannot be the nested tier's test guest, or None."""
    if (primitive.get("class"), primitive.get("provider"), primitive.get("type")) == XEN_AGENT:
        return None
    return f"'{primitive.get('id')}' is {agent_of(primitive)}: the nested tier runs Xen guests (ocf:heartbeat:Xen) only"


def _nvpairs(parent: ET.Element, tag: str, owner: str, values: dict[str, str]) -> ET.Element:
    block = ET.SubElement(parent, tag, id=f"{owner}-{tag.replace('_', '-')}")
    for name, value in values.items():
        ET.SubElement(block, "nvpair", id=f"{owner}-{tag.split('_')[0]}-{name}", name=name, value=value)
    return block


def _primitive(
    rid: str, agent: tuple[str, str, str], params: dict[str, str], ops: list[tuple[str, str, str]]
) -> ET.Element:
    element = ET.Element("primitive", {"id": rid, "class": agent[0], "provider": agent[1], "type": agent[2]})
    if params:
        _nvpairs(element, "instance_attributes", rid, params)
    operations = ET.SubElement(element, "operations")
    for name, interval, timeout in ops:
        attributes = {"id": f"{rid}-{name}-{interval}", "name": name, "interval": interval, "timeout": timeout}
        if name == "monitor" and agent[2] in {"controld", "lvmlockd"}:
            attributes["on-fail"] = "fence"
        ET.SubElement(operations, "op", attributes)
    return element


def _ops(monitor: str) -> list[tuple[str, str, str]]:
    return [("start", "0", "90s"), ("stop", "0", "100s"), ("monitor", "30s", monitor)]


def shared_vg(vg: str, rid: str = SHARED_VG) -> ET.Element:
    return _primitive(
        rid,
        ("ocf", "heartbeat", "LVM-activate"),
        {"vgname": vg, "vg_access_mode": "lvmlockd", "activation_mode": "shared"},
        _ops("90s"),
    )


def locking_clone() -> ET.Element:
    clone = ET.Element("clone", id=LOCKING)
    group = ET.SubElement(clone, "group", id=f"{LOCKING}-group")
    group.append(_primitive("mh-dlm", ("ocf", "pacemaker", "controld"), {}, _ops("60s")))
    group.append(_primitive("mh-lvmlockd", ("ocf", "heartbeat", "lvmlockd"), {}, _ops("90s")))
    _nvpairs(clone, "meta_attributes", LOCKING, {"interleave": "true"})
    return clone


def _references(constraint: ET.Element) -> set[str]:
    found = {constraint.get(a) for a in _REFERENCE_ATTRIBUTES if constraint.get(a)}
    found.update(ref.get("id") for ref in constraint.iter("resource_ref") if ref.get("id"))
    return {f for f in found if f}


def realize(
    configuration: ET.Element,
    vm: str,
    topology: Topology | None,
    installed: set[str],
    xmfile: str,
    domain: str,
    vg: str,
) -> Realized:
    """``configuration``: the <configuration> of the style's CIB; ``installed``: agents on the dom0s."""
    resources = copy.deepcopy(configuration.find("resources"))
    constraints = copy.deepcopy(configuration.find("constraints"))
    if resources is None:
        raise Unrealizable("the configuration has no resources")
    if constraints is None:
        constraints = ET.Element("constraints")
    notes: list[str] = []
    parents = {child: parent for parent in resources.iter() for child in parent}
    primitive = next((p for p in resources.iter("primitive") if p.get("id") == vm), None)
    if primitive is None:
        raise Unrealizable(f"resource under test '{vm}' is not a primitive")
    refused = not_a_xen_guest(primitive)
    if refused:
        raise Unrealizable(refused)
    _guest_params(primitive, xmfile, domain)
    notes.append(f"nested tier: {vm} runs the harness's test guest ({xmfile}, domain {domain})")
    for op in primitive.iter("op"):
        if op.attrib.pop("start-delay", None) is not None:
            notes.append(f"nested tier: {vm}'s monitor start-delay dropped (it holds each transition open that long)")
    raised = _emulation_timeouts(primitive)
    if raised:
        notes.append(
            f"nested tier: {vm}'s timeouts raised for software emulation (the guest's start takes about a minute, "
            f"xl migrate about two): {', '.join(raised)}"
        )
    missing = sorted({agent_of(p) for p in resources.iter("primitive")} - installed - {agent_of(primitive)})
    if not missing:
        return Realized(resources, constraints, notes)
    if topology is None:
        raise Unrealizable(
            f"agents {', '.join(missing)} are not on the dom0s, and the scenario has no "
            "topology saying which clone is the VM's storage"
        )
    return _realize_storage(resources, constraints, parents, primitive, topology, vg, missing, notes)


# What the test guest's operations take under software emulation (QEMU TCG, 2 cores), with room:
# start 54-61 s and xl migrate 95-112 s were measured; a poster's 60 s would fail a start that works.
EMULATION_TIMEOUTS = {"start": 180, "stop": 180, "migrate_to": 300, "migrate_from": 180}


def _emulation_timeouts(primitive: ET.Element) -> list[str]:
    """The VM's start, stop and migrate timeouts at least EMULATION_TIMEOUTS; what was raised."""
    raised = []
    operations = primitive.find("operations")
    if operations is None:
        operations = ET.SubElement(primitive, "operations")
    vm = primitive.get("id", "")
    for name, floor in EMULATION_TIMEOUTS.items():
        ops = [op for op in operations.findall("op") if op.get("name") == name]
        if not ops:
            ops = [ET.SubElement(operations, "op", id=f"{vm}-{name}-emulation", name=name, interval="0")]
        for op in ops:
            if parse_interval_ms(op.get("timeout", "20s")) < floor * 1000:
                raised.append(f"{name} {op.get('timeout', 'default')} -> {floor}s")
                op.set("timeout", f"{floor}s")
    return raised


def _guest_params(primitive: ET.Element, xmfile: str, domain: str) -> None:
    for block in primitive.findall("instance_attributes"):
        primitive.remove(block)
    vm = primitive.get("id", "")
    block = ET.Element("instance_attributes", id=f"{vm}-instance_attributes")
    for name, value in (("xmfile", xmfile), ("name", domain)):
        ET.SubElement(block, "nvpair", id=f"{vm}-instance_attributes-{name}", name=name, value=value)
    primitive.insert(0, block)


def _realize_storage(
    resources: ET.Element,
    constraints: ET.Element,
    parents: dict[ET.Element, ET.Element],
    primitive: ET.Element,
    topology: Topology,
    vg: str,
    missing: list[str],
    notes: list[str],
) -> Realized:
    vm = primitive.get("id", "")
    group = parents.get(primitive)
    group = group if group is not None and group.tag == "group" else None
    storage = next((c for c in resources if c.tag in {"clone", "master"} and c.get("id") == topology.storage), None)
    dropped = sorted(p.get("id", "") for p in resources.iter("primitive") if p is not primitive)
    kept: list[ET.Element] = []
    if group is not None:
        # The group style: the storage un-cloned into the VM's group, the VM last.
        for member in list(group):
            if member.tag == "primitive" and member is not primitive:
                group.remove(member)
        group.insert(list(group).index(primitive), shared_vg(vg))
        kept.append(group)
        anchor = group.get("id", "")
    elif storage is not None:
        for child in list(storage):
            if child.tag in {"primitive", "group"}:
                storage.remove(child)
        storage.insert(0, shared_vg(vg))
        kept += [storage, primitive]
        anchor = storage.get("id", "")
    else:
        raise Unrealizable(f"topology.storage '{topology.storage}' is not a clone of the configuration")
    for child in list(resources):
        resources.remove(child)
    resources.append(locking_clone())
    for element in kept:
        resources.append(element)
    names = {vm, anchor}
    gone = []
    for constraint in list(constraints):
        if not _references(constraint) <= names:
            constraints.remove(constraint)
            gone.append(constraint.get("id", "?"))
    ET.SubElement(
        constraints,
        "rsc_colocation",
        {"id": f"col-{anchor}-with-{LOCKING}", "rsc": anchor, "with-rsc": LOCKING, "score": "INFINITY"},
    )
    ET.SubElement(
        constraints, "rsc_order", id=f"ord-{LOCKING}-then-{anchor}", first=LOCKING, then=anchor, kind="Mandatory"
    )
    notes.append(
        f"nested tier: storage realized: {', '.join(missing)} have no agent on the dom0s, so "
        f"{', '.join(dropped)} became today's stack: dlm + lvmlockd (clone {LOCKING}) before "
        f"LVM-activate of the shared VG {vg} in {anchor}; {vm}'s own constraints as the style writes them"
        + (f"; dropped constraints: {', '.join(gone)}" if gone else "")
    )
    return Realized(resources, constraints, notes)
