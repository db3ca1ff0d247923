"""YAML files as users write them: decoded strictly, parsed safely, with the line of every key and item.

``load(path)`` returns the document and a ``Lines`` map from a key path such as
``("expect", 2, "verdict")`` to its 1-based line, so that a validation error can point at what to
fix. Whatever a file holds (binary bytes, a truncated document, duplicate keys, a value YAML
cannot construct, nesting deep enough to exhaust the stack) becomes an InputError naming the file
and the line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

KeyPath = tuple[str | int, ...]
_MERGE = "tag:yaml.org,2002:merge"
TEXT_HINT = "a scenario is a UTF-8 YAML text file (name:, nodes:, configuration:, ...)"


@dataclass(frozen=True)
class Lines:
    """1-based lines of the keys (and sequence items) of a YAML document, by key path."""

    by_path: dict[KeyPath, int]
    text_start: dict[KeyPath, int]  # first line of a scalar's text (a block scalar: the line after '|')

    def of(self, *path: str | int) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path[:-1]
        return None


class _Loader(yaml.SafeLoader):
    """SafeLoader whose construction errors (``!!int x``, a date like 2012-13-45) name the value's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value ({exc})", node.start_mark
            ) from None


def decode(data: bytes, path: Path) -> str:
    """The text of a file that must be UTF-8 text: binary content is an InputError with its line."""
    if b"\0" in data:
        offset = data.index(b"\0")
        raise InputError(
            "not a text file (it contains NUL bytes)", path=path, line=data[:offset].count(b"\n") + 1, hint=TEXT_HINT
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=data[: exc.start].count(b"\n") + 1,
            hint=TEXT_HINT,
        ) from None


def read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory, not a scenario file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    return decode(data, path)


def parse(text: str, path: Path) -> tuple[Any, Lines]:
    """The document in ``text`` and its line map; every YAML problem is an InputError."""
    try:
        loader = _Loader(text)  # its reader already refuses non-printable characters
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, path) from None
    try:
        node = loader.get_single_node()
        lines = _lines(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, path) from None
    except RecursionError:
        raise InputError("the YAML is nested too deeply to read", path=path, hint=TEXT_HINT) from None
    finally:
        loader.dispose()
    return data, lines


def _yaml_error(exc: yaml.YAMLError, text: str, path: Path) -> InputError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return InputError(f"character {exc.character!r} is not allowed in YAML", path=path, line=line, hint=TEXT_HINT)
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return InputError(
        f"invalid YAML: {problem}",
        path=path,
        line=mark.line + 1 if mark else None,
        hint="check indentation and quoting; block text such as the configuration goes after 'configuration: |'",
    )


def _lines(root: yaml.Node | None, path: Path) -> Lines:
    """Walk the node tree once: lines by key path, and duplicate keys refused where they stand."""
    by_path: dict[KeyPath, int] = {}
    text_start: dict[KeyPath, int] = {}
    seen: set[int] = set()  # aliases share nodes: visit each once (a "billion laughs" file stays cheap)

    def walk(node: yaml.Node, at: KeyPath) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            text_start[at] = node.start_mark.line + (2 if node.style in {"|", ">"} else 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                by_path[at + (index,)] = item.start_mark.line + 1
                walk(item, at + (index,))
        elif isinstance(node, yaml.MappingNode):
            _walk_mapping(node, at, walk)

    def _walk_mapping(node: yaml.MappingNode, at: KeyPath, visit: Any) -> None:
        first: dict[str, int] = {}
        for key, value in node.value:
            if key.tag == _MERGE or not isinstance(key, yaml.ScalarNode):
                visit(value, at)
                continue
            line = key.start_mark.line + 1
            if key.value in first:
                raise InputError(
                    f"duplicate key '{key.value}' (first on line {first[key.value]})",
                    path=path,
                    line=line,
                    hint="YAML keeps only the last one: merge them or remove one",
                )
            first[key.value] = line
            by_path[at + (key.value,)] = line
            visit(value, at + (key.value,))

    if root is not None:
        walk(root, ())
    return Lines(by_path, text_start)


def kind_of(value: Any) -> str:
    """How a user would name the type of a YAML value, for 'must be X, not Y' messages."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping (key: value)"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a YAML {type(value).__name__}"
