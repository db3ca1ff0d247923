"""CIB XML in and out: build an empty CIB for N nodes, read resources and agents, load scheduler inputs.

Scheduler inputs as clusters save them (``pe-input-N.bz2``, also gzip or plain) are read here, so
the rest of the harness only sees XML.
"""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .runner import run
from .scenariotypes import NodeAttribute

RESOURCES = "configuration/resources"
CONSTRAINTS = "configuration/constraints"
CRM_CONFIG = "configuration/crm_config"
NODES = "configuration/nodes"
STATUS = "status"

# Options that make a file CIB behave like a formed cluster without fencing devices.
DEFAULT_OPTIONS = {"stonith-enabled": "false"}


@dataclass(frozen=True)
class Primitive:
    id: str
    standard: str
    provider: str | None
    type: str
    meta: dict[str, str]
    parent: str | None  # group or clone id, innermost first

    @property
    def agent(self) -> str:
        if self.provider:
            return f"{self.standard}:{self.provider}:{self.type}"
        return f"{self.standard}:{self.type}"

    @property
    def allow_migrate(self) -> bool:
        return self.meta.get("allow-migrate", "false").lower() in {"true", "yes", "1", "on", "y"}


def node_names(count: int) -> list[str]:
    """The harness's own names for ``count`` nodes (a scenario may give its hosts' names instead)."""
    return [f"node{i}" for i in range(1, count + 1)]


def empty_cib(
    path: Path, nodes: list[str], options: dict[str, str] | None = None, ids: dict[str, str] | None = None
) -> None:
    """Write a CIB for ``nodes`` with quorum, cluster ``options`` and nothing configured; ``ids``:
    node ids the configuration itself gives (else 1, 2, ...)."""
    root = ET.fromstring(run(["cibadmin", "--empty"], what="create an empty CIB").stdout)
    root.set("have-quorum", "1")
    root.set("dc-uuid", "1")
    crm_config = root.find(CRM_CONFIG)
    assert crm_config is not None
    props = ET.SubElement(crm_config, "cluster_property_set", id="cib-bootstrap-options")
    for name, value in {**DEFAULT_OPTIONS, **(options or {})}.items():
        ET.SubElement(props, "nvpair", id=f"cib-bootstrap-options-{name}", name=name, value=str(value))
    nodes_el = root.find(NODES)
    assert nodes_el is not None
    for number, name in enumerate(nodes, start=1):
        ET.SubElement(nodes_el, "node", id=(ids or {}).get(name, str(number)), uname=name)
    first = nodes_el.find("node")
    if first is not None:
        root.set("dc-uuid", first.get("id", "1"))
    write(root, path)


def set_attributes(path: Path, attributes: Sequence[NodeAttribute]) -> None:
    """Set node attributes on a file CIB with crm_attribute, as on a live cluster. A transient
    attribute lives in the node's status entry, which a file CIB has only once the node was seen:
    a bare ``node_state`` is added for it (crm_simulate brings the node up as usual)."""
    if any(a.transient for a in attributes):
        root = read(path)
        status = root.find(STATUS)
        if status is None:
            status = ET.SubElement(root, "status")
        present = {s.get("uname") for s in status.iter("node_state")}
        for node in root.iterfind(f"{NODES}/node"):
            if node.get("uname") not in present:
                ET.SubElement(status, "node_state", id=node.get("id", ""), uname=node.get("uname", ""))
        write(root, path)
    for attribute in attributes:
        run(
            attribute.command(),
            env={"CIB_file": str(path)},
            what=f"set node attribute {attribute.name} on {attribute.node}",
        )


def node_attributes(root: ET.Element) -> list[NodeAttribute]:
    """The permanent node attributes a configuration holds (``node xen01 attributes pingd=1000``)."""
    return [
        NodeAttribute(node.get("uname", ""), nv.get("name", ""), nv.get("value", ""))
        for node in root.iterfind(f"{NODES}/node")
        for nv in node.iterfind("instance_attributes/nvpair")
    ]


def write(root: ET.Element, path: Path) -> None:
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=False)


def read(path: Path) -> ET.Element:
    return parse(read_bytes(path), path)


def parse(data: bytes, path: Path) -> ET.Element:
    """The XML of a CIB or scheduler input read from ``path``; not XML is the user's error."""
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError(
            f"not XML ({exc})",
            path=path,
            line=exc.position[0],
            hint="give a CIB or a scheduler input (pe-input-N.bz2) as a cluster saves it",
        ) from None


def read_bytes(path: Path) -> bytes:
    """The XML of ``path``, decompressing bzip2 or gzip by their magic bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        if data[:3] == b"BZh":
            return bz2.decompress(data)
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(f"corrupt compressed file ({exc})", path=path) from None
    return data


def check_is_cib(root: ET.Element, path: Path) -> None:
    if root.tag != "cib" or root.find("configuration") is None:
        raise InputError(
            f"not a CIB: the root element is <{root.tag}>, expected <cib> with a <configuration>",
            path=path,
            hint="give a CIB or a scheduler input (pe-input-N.bz2) as a cluster saves it",
        )


def primitives(root: ET.Element) -> list[Primitive]:
    found: list[Primitive] = []
    resources = root.find(RESOURCES)
    if resources is None:
        return found

    def walk(element: ET.Element, parent: str | None) -> None:
        for child in element:
            if child.tag == "primitive":
                meta = {nv.get("name", ""): nv.get("value", "") for nv in child.iterfind("meta_attributes/nvpair")}
                found.append(
                    Primitive(
                        child.get("id", ""),
                        child.get("class", ""),
                        child.get("provider"),
                        child.get("type", ""),
                        meta,
                        parent,
                    )
                )
            elif child.tag in {"group", "clone", "master", "bundle"}:
                walk(child, child.get("id"))

    walk(resources, None)
    return found


def resource_ids(root: ET.Element) -> set[str]:
    resources = root.find(RESOURCES)
    if resources is None:
        return set()
    return {
        el.get("id", "") for el in resources.iter() if el.tag in {"primitive", "group", "clone", "master", "bundle"}
    }


def cib_node_names(root: ET.Element) -> list[str]:
    return [n.get("uname", "") for n in root.iterfind(f"{NODES}/node")]


def failed_operations(root: ET.Element) -> list[str]:
    """Operations the CIB status records as failed: '<resource> <op> on <node>: <reason>'.

    A probe (a monitor of interval 0) answering 7 (not running) is no failure.
    """
    failures = []
    for state in root.iterfind("status/node_state"):
        node = state.get("uname", "?")
        for resource in state.iterfind("lrm/lrm_resources/lrm_resource"):
            for op in resource.iterfind("lrm_rsc_op"):
                rc, status = op.get("rc-code", "0"), op.get("op-status", "0")
                probe = op.get("operation") == "monitor" and op.get("interval", "0") == "0"
                if (rc == "0" and status == "0") or (probe and rc == "7" and status == "0") or status == "-1":
                    continue
                reason = op.get("exit-reason") or f"rc={rc}, status={status}"
                failures.append(f"{resource.get('id')} {op.get('operation')} on {node}: {reason}")
    return failures


def lineage(root: ET.Element, resource: str) -> set[str]:
    """The resource and every group or clone holding it (a constraint on either applies)."""
    base = resource.split(":")[0]
    resources = root.find(RESOURCES)
    if resources is None:
        return {base}
    parents = {child: parent for parent in resources.iter() for child in parent}
    ids = {base}
    for element in resources.iter():
        if element.get("id") == base:
            parent = parents.get(element)
            while parent is not None and parent is not resources:
                if parent.get("id"):
                    ids.add(parent.get("id", ""))
                parent = parents.get(parent)
    return ids


def meta(element: ET.Element, *names: str) -> str | None:
    """The value of the first of ``names`` among the element's own meta attributes, if set."""
    for nv in element.iterfind("meta_attributes/nvpair"):
        if nv.get("name") in names:
            return nv.get("value")
    return None
