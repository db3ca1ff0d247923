"""Applying a configuration written in crm shell syntax to a file CIB (``CIB_file``), with crmsh.

crmsh numbers the statements it rejects ("ERROR: 3: syntax ..."), counting logical lines;
``statement_lines`` maps those numbers back to the lines of the scenario file so that an error
names the file and the line a user has to fix. The configuration is applied strictly first, so
that crmsh's checks count (``paramz foo=bar`` is read as two unknown parameters, not ignored). Agents
that this system lacks (``ocf:lvm2:clvmd`` on Debian 12) make crmsh refuse a configuration too: only
when they are its sole complaints is the configuration applied again with ``-F``, and the unknown
agents are reported, not fatal.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import cib as cibmod
from . import crmtext, legacyschema, release
from .errors import HarnessError, InputError, summarize
from .runner import Result, run

_STATEMENT_ERROR = re.compile(r"ERROR: (\d+): (.*?)(?: parsing '(.*)')?$", re.M)
_UNKNOWN_AGENT = re.compile(r"ERROR: ([\w.-]+:(?:[\w.-]+:)?[\w.-]+): no such resource agent")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What crmsh says about an agent this system does not have: not the configuration's fault.
_AGENT_MISSING = ("no such resource agent", "got no meta-data")
# "ERROR: vm1: parameter "paramz" is not known": the statement of vm1, the line holding paramz.
_ABOUT = re.compile(r'ERROR: ([\w.-]+): [^"]*(?:"([^"]+)")?')
# crmsh's word on a name Pacemaker does not know ("cib-bootstrap-options: unknown attribute 'x'"):
# legal in the CIB, so a warning for the case's notes, never an error.
_UNKNOWN_ATTRIBUTE = re.compile(r"WARNING: ([\w.-]+): unknown attribute '([^']+)'")
_CRASH = "Traceback (most recent call last):"
_MISSING_REFERENCE = re.compile(r"constraint ([\w.-]+) references a resource ([\w.-]+) which doesn't exist")


@dataclass(frozen=True)
class Source:
    """Where a configuration text came from, so errors can point into the scenario file."""

    path: Path | str
    first_line: int = 1  # line of the file on which the configuration's first line stands
    original: str = ""  # the text as written in the file (the applied text may be a rendered style)


def statement_lines(text: str) -> list[int]:
    """1-based line of each crm statement in ``text`` (continuations joined, blanks and comments skipped)."""
    starts: list[int] = []
    continuing = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not continuing and stripped and not stripped.startswith("#"):
            starts.append(number)
        continuing = stripped.endswith("\\")
    return starts


@dataclass(frozen=True)
class Loaded:
    """What a load left to say: agents crmsh does not know here, and its warnings worth a note."""

    unknown_agents: list[str]
    warnings: list[str]


def apply(cib_path: Path, text: str, source: Source) -> Loaded:
    """Load ``text`` into the CIB file: the agents crmsh says do not exist here, and its warnings.

    Strict first; forced only when crmsh's sole complaints are missing agents. A refusal by a
    schema newer than a Debian 12 cluster's (crmsh 5's ``<master>`` for ``ms`` on Pacemaker 3.0)
    is applied under that older schema and upgraded by the release's cibadmin (``legacyschema``).
    """
    with tempfile.NamedTemporaryFile("w", suffix=".crm", dir=cib_path.parent, delete=False) as f:
        f.write(text if text.endswith("\n") else text + "\n")
        crm_file = Path(f.name)
    try:
        newest = legacyschema.schema(cib_path)
        loaded = _attempt(cib_path, crm_file, text, source)
        if isinstance(loaded, Loaded):
            return loaded
        if not (legacyschema.is_schema_refusal(loaded) and legacyschema.newer_than_legacy(newest)):
            raise rejection(loaded, text, source, schema=newest)
        return _apply_legacy(cib_path, crm_file, text, source, newest, loaded)
    finally:
        crm_file.unlink(missing_ok=True)


def _attempt(cib_path: Path, crm_file: Path, text: str, source: Source) -> Loaded | str:
    """One load: what it left to say, or crmsh's output of its refusal."""
    strict = _load(cib_path, crm_file, force=False)
    output = _output(strict)
    _check_not_crashed(output, source)
    if strict.ok:
        return Loaded([], warnings(output, source.original or text, source))
    unknown = sorted(set(_UNKNOWN_AGENT.findall(output)))
    if not unknown or complaints(output):
        return output
    forced = _load(cib_path, crm_file, force=True)
    if not forced.ok:
        _check_not_crashed(_output(forced), source)
        return _output(forced)
    return Loaded(unknown, warnings(_output(forced), source.original or text, source))


def _apply_legacy(cib_path: Path, crm_file: Path, text: str, source: Source, newest: str, refused: str) -> Loaded:
    """The configuration under the schema a Debian 12 CIB carries, then upgraded by cibadmin."""
    pristine = cib_path.read_text()
    legacyschema.lower(cib_path)
    loaded = _attempt(cib_path, crm_file, text, source)
    if not isinstance(loaded, Loaded):
        cib_path.write_text(pristine)
        raise rejection(loaded, text, source, schema=legacyschema.LEGACY_SCHEMA)
    before = cibmod.read(cib_path)
    failed = legacyschema.upgrade(cib_path)
    if failed:
        elements = legacyschema.rejected(refused)
        raise InputError(
            f"crmsh rejects the configuration: schema {newest} has no "
            + (", ".join(f"<{e}>" for e in elements) or "form for what it writes")
            + f", and this release's Pacemaker cannot upgrade it from {legacyschema.LEGACY_SCHEMA}:\n    {failed}",
            path=source.path,
            line=_schema_line(elements, source.original or text, source),
            hint="write that statement in the form this release's crmsh documents (`crm configure help`)",
        )
    notes = legacyschema.notes(before, cibmod.read(cib_path), newest)
    return Loaded(loaded.unknown_agents, [*loaded.warnings, *notes])


def _check_not_crashed(output: str, source: Source) -> None:
    """crmsh itself crashed (a Python traceback): not the configuration's fault, so no bad-input
    exit and no hint about its spelling."""
    if _CRASH in output:
        raise HarnessError(
            f"crmsh crashed while loading the configuration of {source.path}:\n  "
            + "\n  ".join(output.strip().splitlines()[-6:]),
            hint="a crmsh failure, not an error of the configuration: run the case again; "
            "if it persists, report crmsh's traceback",
        )


def _load(cib_path: Path, crm_file: Path, *, force: bool) -> Result:
    args = [*(["-F"] if force else []), "configure", "load", "update", str(crm_file)]
    return crm(args, cib_path, check=False, timeout=120)


def crm(
    args: list[str], cib_path: Path, *, check: bool = True, timeout: float = 300, what: str | None = None
) -> Result:
    """``crm ARGS`` on the file CIB ``cib_path``, with the active release's crmsh."""
    user_dirs()
    return run(
        ["crm", *args],
        # setuptools' distutils shim costs crmsh a quarter of a second per start.
        env={"CIB_file": str(cib_path), "SETUPTOOLS_USE_DISTUTILS": "stdlib"},
        check=check,
        timeout=timeout,
        what=what,
    )


def user_dirs() -> None:
    """Make crmsh's per-user directories before it starts. crmsh makes them at every start with
    ``os.makedirs`` and no ``exist_ok``, so two first starts at once in a fresh home (pytest-xdist
    workers in a new CI container) race, and the loser dies with FileExistsError: a traceback where
    a verdict should be. In a release's root the home is the root's own."""
    home = Path.home()
    bases = [
        Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config"),
        Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache"),
    ]
    rootfs = release.active().rootfs
    for base in bases:
        target = base / "crm" if rootfs is None else rootfs / (base / "crm").relative_to("/")
        # Not ours to make where it cannot be (a file there, a read-only home): crmsh says what it finds.
        with contextlib.suppress(OSError):
            target.mkdir(mode=0o700, parents=True, exist_ok=True)


def _output(result: Result) -> str:
    return _ANSI.sub("", result.stderr + result.stdout)


def warnings(output: str, text: str, source: Source) -> list[str]:
    """crmsh's warnings about names Pacemaker does not know, each at the scenario line that sets it."""
    found: list[str] = []
    for where, name in dict.fromkeys(_UNKNOWN_ATTRIBUTE.findall(output)):
        lines = [n for n, ln in enumerate(text.splitlines(), start=1) if re.search(rf"(^|\s){re.escape(name)}=", ln)]
        at = f"line {source.first_line + lines[0] - 1}: " if lines else ""
        found.append(
            f"{at}crmsh: {where}: unknown attribute '{name}' (Pacemaker ignores it: check the spelling; "
            "`crm ra info pacemaker-schedulerd` lists the cluster options)"
        )
    return found


def complaints(output: str) -> list[str]:
    """crmsh's ERROR lines other than missing agents (each one a reason to refuse), in order, once."""
    found: list[str] = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("ERROR") and not any(m in line for m in _AGENT_MISSING) and line not in found:
            found.append(line)
    return found


def rejection(output: str, text: str, source: Source, schema: str = "") -> InputError:
    """The InputError for a configuration crmsh refuses: the first statement it names, at its line."""
    if legacyschema.is_schema_refusal(output) and not _STATEMENT_ERROR.search(output):
        return _schema_rejection(output, text, source, schema)
    syntax = _STATEMENT_ERROR.search(output)
    if syntax:
        number, message, statement = int(syntax.group(1)), syntax.group(2), syntax.group(3)
        line = _locate(source.original or text, number, statement)
        return InputError(
            f"crmsh rejects the configuration: {message}" + (f"\n    {statement}" if statement else ""),
            path=source.path,
            line=source.first_line + line - 1 if line else None,
            hint="fix the crm syntax of that statement (see `crm configure help`)",
        )
    missing = _MISSING_REFERENCE.search(output)
    if missing:
        return _missing_reference(missing.group(0), missing.group(1), missing.group(2), source.original or text, source)
    errors = _errors(output)
    line = next((found for found in (_locate_about(e, source.original or text) for e in errors) if found), None)
    hint = (
        "a misspelled keyword (paramz for params) reads as a parameter name; "
        "check the names and ids of that statement (`crm ra info AGENT` lists an agent's parameters)"
    )
    glued = _glued(errors, source.original or text)
    if glued:
        line, word = glued
        hint = f"a quoted value runs into the next word ({word}): put a blank after the closing quote"
    return InputError(
        "crmsh rejects the configuration:\n  " + "\n  ".join(errors),
        path=source.path,
        line=source.first_line + line - 1 if line else None,
        hint=hint,
    )


_GLUED = re.compile(r'="[^"\n]*"[A-Za-z]\w*')


def _glued(errors: list[str], text: str) -> tuple[int, str] | None:
    """The line (and the glued words) where a statement an error names has ``x="v"op``: crmsh
    reads ``op`` as part of the value and the words after it as parameters."""
    named = {m.group(1) for m in map(_ABOUT.match, errors) if m}
    for statement in crmtext.parse(text):
        if statement.id in named:
            for offset, line in enumerate(statement.text.splitlines()):
                found = _GLUED.search(line)
                if found:
                    return statement.line + offset, found.group(0)[1:]
    return None


def _missing_reference(message: str, constraint: str, missing: str, text: str, source: Source) -> InputError:
    """A constraint naming a resource nobody defines: at the constraint's line naming it, with the
    closest id the configuration does define."""
    statements = crmtext.parse(text)
    line = None
    for statement in statements:
        if statement.id == constraint and crmtext.is_constraint(statement):
            offsets = [
                i for i, ln in enumerate(statement.text.splitlines()) if re.search(rf"\b{re.escape(missing)}\b", ln)
            ]
            line = statement.line + (offsets[0] if offsets else 0)
    ids = [s.id for s in statements if s.id and not crmtext.is_constraint(s) and s.kind not in _NOT_RESOURCES]
    close = difflib.get_close_matches(missing, ids, n=1)
    return InputError(
        f"crmsh rejects the configuration: {message}",
        path=source.path,
        line=source.first_line + line - 1 if line else None,
        hint=(f"did you mean {close[0]}? " if close else "")
        + "a constraint names the id of a primitive, group, clone or ms the configuration defines"
        + ("" if close else f" ({', '.join(ids)})" if ids else ""),
    )


_NOT_RESOURCES = {"node", "property", "rsc_defaults", "op_defaults", "fencing_topology", "tag", "role", "user"}


def _locate_about(error: str, text: str) -> int | None:
    """The line of the statement an error names ("ERROR: vm1: ..."), at the quoted word if it has one."""
    match = _ABOUT.match(error)
    if not match:
        return None
    statement = next((s for s in crmtext.parse(text) if s.id == match.group(1)), None)
    if statement is None:
        return None
    word = match.group(2)
    for offset, line in enumerate(statement.text.splitlines()):
        if word and re.search(rf"(^|\s){re.escape(word)}(=|\s|$)", line):
            return statement.line + offset
    return statement.line


def _locate(text: str, number: int, statement: str | None) -> int | None:
    lines = text.splitlines()
    if statement:
        head = statement.split()[:2]
        for index, line in enumerate(lines, start=1):
            if line.split()[:2] == head:
                return index
    starts = statement_lines(text)
    return starts[number - 1] if 0 < number <= len(starts) else None


def _errors(output: str) -> list[str]:
    return complaints(output) or [summarize(output)]


# The crm statement that writes each element a schema may reject.
_STATEMENT_OF = {"master": ("ms", "master"), "primitive": ("primitive",), "group": ("group",), "clone": ("clone",)}
_VALIDATION_LINE = re.compile(r"^(?:Did not expect|Element |Invalid attribute|Expecting |Extra element|Relax-NG)", re.M)


def _schema_rejection(output: str, text: str, source: Source, schema: str) -> InputError:
    """A CIB the schema refuses (cibadmin rc=78): which element, in the schema validation's words."""
    elements = legacyschema.rejected(output)
    said = [ln.strip() for ln in output.splitlines() if _VALIDATION_LINE.match(ln.strip())]
    what = ", ".join(f"<{e}>" for e in elements) or "what crmsh writes for it"
    return InputError(
        f"crmsh rejects the configuration: the CIB schema{f' {schema}' if schema else ''} does not accept {what}"
        + (":\n    " + "\n    ".join(dict.fromkeys(said[:6])) if said else ""),
        path=source.path,
        line=_schema_line(elements, source.original or text, source),
        hint="this release's Pacemaker has no such element in its schema: write that statement in the form "
        "its crmsh documents (`crm configure help`), e.g. `clone ID CHILD meta promotable=true` for `ms`",
    )


def _schema_line(elements: list[str], text: str, source: Source) -> int | None:
    """The scenario line of the first statement that writes one of ``elements``."""
    kinds = {kind for e in elements for kind in _STATEMENT_OF.get(e, (e,))}
    for statement in crmtext.parse(text):
        if statement.kind in kinds:
            return source.first_line + statement.line - 1
    return None
