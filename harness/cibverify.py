"""What crm_verify says about a scenario's raw CIB XML, in the scenario's terms.

crm_verify checks the file CIB the harness built (a temporary copy, deleted on exit) and prints each
schema error once per pass, with that copy's path and line, and "-V may provide more details". The
message keeps the errors once, without the copy's path or crm_verify's boilerplate; the line is the
scenario file's line of the offending element; a reference to an unknown id gets the closest id the
XML defines.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# "/tmp/x/cib-configured.xml:13: element rsc_order: validity error : IDREF attribute first references an unknown ID "a""
_LOCATED = re.compile(r"^\S+?:\d+: (?=element )")
_ELEMENT = re.compile(r'element ([\w-]+): .*?(?:attribute ([\w-]+) .*?)?"([^"]+)"')
_UNKNOWN_ID = re.compile(r'unknown ID "([^"]+)"')
_NOISE = ("-V may provide more details", "Errors found during check")


@dataclass(frozen=True)
class Finding:
    message: str  # the errors, once each
    line: int | None  # 1-based line of ``xml`` holding the offending element
    hint: str


def explain(output: str, xml: str) -> Finding:
    """crm_verify's ``output`` about a CIB made from the scenario's ``xml`` text."""
    errors: list[str] = []
    for raw in output.splitlines():
        line = _LOCATED.sub("", raw.strip())
        if line and not any(n in line for n in _NOISE) and line not in errors:
            errors.append(line)
    where = next((found for found in map(lambda e: _line_of(e, xml), errors) if found), None)
    hint = "fix the element on that line (crm_verify --xml-file FILE checks a CIB)"
    unknown = next((m.group(1) for m in map(_UNKNOWN_ID.search, errors) if m), None)
    if unknown:
        ids = re.findall(r'\bid="([^"]+)"', xml)
        close = difflib.get_close_matches(unknown, ids, n=1)
        hint = (f"did you mean {close[0]}? " if close else "") + f"'{unknown}' is no id of the XML"
    return Finding("\n  ".join(errors) or output.strip(), where, hint)


def _line_of(error: str, xml: str) -> int | None:
    match = _ELEMENT.search(error)
    if not match:
        return None
    element, attribute, value = match.groups()
    wanted = f'{attribute}="{value}"' if attribute else f'"{value}"'
    lines = xml.splitlines()
    for number, line in enumerate(lines, start=1):
        if f"<{element}" in line and wanted in line:
            return number
    return next((n for n, line in enumerate(lines, start=1) if wanted in line), None)
