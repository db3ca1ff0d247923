"""An SVG file made fit to sit inside an HTML page: parsed, cleaned, serialized again.

Graphviz and the guest's heartbeat picture write whole SVG documents (XML prolog, doctype,
comments); inside HTML only the ``<svg>`` element belongs. Names in the pictures come from users'
configurations, so the element is rebuilt from a parse rather than pasted: nothing that runs code
(scripts, event handlers, foreign content, ``javascript:`` links) or loads anything from elsewhere
(links and references outside the picture) survives.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
# Serialize as <svg xmlns=...> and xlink:href, not ns0:/ns1: prefixes.
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

# Elements that run code or embed another document: dropped with their content.
DROPPED = {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener"}
HREFS = {"href", f"{{{XLINK}}}href"}


def inline(document: str) -> str | None:
    """The ``<svg>`` element of ``document``, cleaned; None if it is not an SVG picture."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    if root.tag != f"{{{SVG}}}svg":
        return None
    _clean(root)
    return ET.tostring(root, encoding="unicode")


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) in DROPPED or not child.tag.startswith(f"{{{SVG}}}"):
            element.remove(child)
            continue
        _clean(child)
    for name, value in list(element.attrib.items()):
        lowered = value.strip().lower()
        if (
            _local(name).lower().startswith("on")
            or (name in HREFS and not value.startswith("#"))
            or "javascript:" in lowered
            or ("url(" in lowered and "url(#" not in lowered.replace(" ", ""))
        ):
            del element.attrib[name]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
