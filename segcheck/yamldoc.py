"""Safe YAML and JSON reading that keeps line numbers for error messages.

YAML goes through libyaml's composer when available (the node tree is built in C) and is turned
into plain values here, without PyYAML's object constructor: no tag can build an object, aliases
are counted and capped (alias bombs), nesting is capped, and duplicate keys are errors.
JSON goes through `json` (fast for generated topologies); when an error needs a line number, the
text is composed once more as YAML, which JSON is a subset of, to find it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .errors import TopologyError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_EXPANSION = 100_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_CONSTRUCTOR = SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class LDict(dict[str, Any]):
    """A mapping that remembers the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class LList(list[Any]):
    """A sequence that remembers the line of each item (1-based)."""

    line: int
    item_lines: list[int]


Path = Sequence[str | int]


class Document:
    """Parsed data plus a way to find the line of any value by its key path."""

    def __init__(self, path: str, data: Any, text: str | None = None) -> None:
        self.path = path
        self.data = data
        self._text = text  # kept for JSON, to locate lines lazily
        self._located: Any = None

    def error(self, where: Path, message: str) -> TopologyError:
        """A TopologyError naming the file and the line of `where`."""
        return TopologyError(self.path, message, self.line(where))

    def record_line(self, where: Path) -> int | None:
        """Line to keep in the model: known for YAML; None for JSON, never re-parsed for it."""
        return self.line(where) if isinstance(self.data, LDict) else None

    def line(self, where: Path) -> int | None:
        """Line of the value at a key path, or of its nearest located ancestor."""
        root = self.data
        if not isinstance(root, LDict) and self._text is not None:
            if self._located is None:
                try:
                    self._located = _compose(self.path, self._text)
                except TopologyError:
                    self._located = False
            root = self._located
        if not isinstance(root, (LDict, LList)):
            return None
        best: int | None = root.line
        current: Any = root
        for key in where:
            if isinstance(current, LDict) and isinstance(key, str) and key in current:
                best = current.key_lines.get(key, best)
                current = current[key]
            elif isinstance(current, LList) and isinstance(key, int) and 0 <= key < len(current):
                best = current.item_lines[key]
                current = current[key]
            else:
                break
        return best


def load_document(path: str, raw: bytes) -> Document:
    """Decode, sniff JSON or YAML, and parse safely."""
    if len(raw) > MAX_FILE_BYTES:
        raise TopologyError(
            path, f"file is {len(raw)} bytes, over the {MAX_FILE_BYTES} byte limit for a topology"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TopologyError(path, "file is not UTF-8 text", line) from exc
    if "\x00" in text:
        raise TopologyError(path, "file is binary, not YAML or JSON")
    stripped = text.lstrip()
    if path.endswith(".json") or stripped.startswith("{"):
        return _load_json(path, text)
    return Document(path, _compose(path, text))


def _load_json(path: str, text: str) -> Document:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _DuplicateKey(key)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise TopologyError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except _DuplicateKey:
        # Re-read as YAML, which reports the duplicate with its line.
        _compose(path, text)
        raise TopologyError(path, "duplicate key") from None
    except RecursionError:
        raise TopologyError(path, f"nesting deeper than {MAX_DEPTH} levels") from None
    return Document(path, data, text)


class _DuplicateKey(Exception):
    pass


def _compose(path: str, text: str) -> Any:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise TopologyError(path, f"invalid YAML: {problem}", line) from exc
    except yaml.YAMLError as exc:
        raise TopologyError(path, f"invalid YAML: {exc}") from exc
    except RecursionError:
        raise TopologyError(path, f"nesting deeper than {MAX_DEPTH} levels") from None
    if node is None:
        return None
    return _Walker(path).walk(node, 0, False)


class _Walker:
    """Turns a composed node tree into LDict / LList / scalars, safely."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[int] = set()
        self.expanded = 0

    def fail(self, node: yaml.Node, message: str) -> TopologyError:
        return TopologyError(self.path, message, node.start_mark.line + 1)

    def walk(self, node: yaml.Node, depth: int, in_alias: bool) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        if in_alias:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise self.fail(
                    node,
                    f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} values "
                    "(an alias bomb?); write the values out",
                )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.seen:
            in_alias = True  # a second visit: this collection is reached through an alias
        else:
            self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag not in ("tag:yaml.org,2002:map",):
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            result = LDict()
            result.line = node.start_mark.line + 1
            result.key_lines = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "YAML merge keys (<<) are not supported")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "mapping keys must be plain names")
                key = str(key_node.value)
                if key in result:
                    raise self.fail(key_node, f"duplicate key {key!r}")
                result.key_lines[key] = key_node.start_mark.line + 1
                result[key] = self.walk(value_node, depth + 1, in_alias)
            return result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}")
            items = LList()
            items.line = node.start_mark.line + 1
            items.item_lines = []
            for item in node.value:
                items.item_lines.append(item.start_mark.line + 1)
                items.append(self.walk(item, depth + 1, in_alias))
            return items
        raise self.fail(node, "unsupported YAML node")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag in _SCALAR_TAGS:
            try:
                return _SCALAR_CONSTRUCTOR.yaml_constructors[tag](_SCALAR_CONSTRUCTOR, node)
            except (yaml.YAMLError, ValueError) as exc:
                raise self.fail(node, f"malformed value {node.value!r}") from exc
        raise self.fail(node, f"unsupported YAML tag {tag!r}")
