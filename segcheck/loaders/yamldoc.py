"""Safe YAML and JSON reading that keeps line numbers for error messages.

YAML goes through libyaml's parser when available and its event stream is turned into plain values
here with an explicit stack (libyaml's recursive composer crashes on deep nesting), without
PyYAML's object constructor: no tag can build an object, aliases are counted and capped (alias
bombs), nesting is capped, and duplicate keys are errors.
JSON goes through `json` (fast for generated topologies); when an error needs a line number, the
text is scanned once more by a small JSON tokenizer of our own that records where each key and
item starts (not by YAML, which reads some JSON escapes differently and caps nesting lower).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor

from ..errors import TopologyError

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_EXPANSION = 100_000
# Longest integer written in a topology that is read as a number (Python's own conversion cap).
MAX_INT_DIGITS = 4300
# Integers read as numbers: plain decimal as written. 0x1F, 0100 (octal), 0b1, 1_000 and 1:20
# (sexagesimal) are kept as the text written, so an id or ticket is never silently rewritten.
_PLAIN_INT = re.compile(r"\+?(?:0|[1-9][0-9]*)|-[1-9][0-9]*")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_CONSTRUCTOR = SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_IMPLICIT: dict[str, list[tuple[str, Any]]] = {
    first: [*resolvers, *yaml.resolver.Resolver.yaml_implicit_resolvers.get(None, [])]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    if first is not None
}
_WILDCARD: list[tuple[str, Any]] = list(
    yaml.resolver.Resolver.yaml_implicit_resolvers.get(None, [])
)


def _resolve_plain(value: str) -> str:
    """The tag of a plain (unquoted) scalar, as PyYAML's Resolver.resolve decides it."""
    for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
        if regexp.match(value):
            return str(tag)
    return _STR


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    _INT,
    _FLOAT,
    _TIMESTAMP,
}


def shown(value: object, limit: int = 60, as_text: bool = False) -> str:
    """repr() (or, with `as_text`, str() where that is printable) of a value for a one-line
    message, cut short: an input can hold a name of 16,000 characters or 4,300 digits."""
    text = str(value)
    if not (as_text and text.isprintable()) and not (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


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
                    self._located = _locate_json(self.path, self._text)
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


def size_error(path: str) -> TopologyError:
    """The error for a file over MAX_FILE_BYTES."""
    return TopologyError(
        path, f"file is larger than {MAX_FILE_BYTES} bytes, the limit for a topology"
    )


def read_limited(path: str, stream: BinaryIO) -> bytes:
    """Read a whole input, refusing (without reading it all) one over MAX_FILE_BYTES."""
    raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise size_error(path)
    return raw


def load_document(path: str, raw: bytes) -> Document:
    """Decode, sniff JSON or YAML, and parse safely."""
    if len(raw) > MAX_FILE_BYTES:
        raise size_error(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TopologyError(path, _not_utf8(raw), line) from exc
    nul = text.find("\x00")
    if nul >= 0:
        raise TopologyError(path, "file is binary, not YAML or JSON", text.count("\n", 0, nul) + 1)
    if path.lower().endswith(".json"):
        return _load_json(path, text)
    if text.lstrip().startswith("{"):
        # Probably JSON (fast to parse); a YAML flow mapping also starts with "{".
        try:
            return _load_json(path, text)
        except TopologyError:
            pass
    return Document(path, _compose(path, text))


def _not_utf8(raw: bytes) -> str:
    """Why bytes that are not UTF-8 fail, in words a user can act on: a file saved by a
    Japanese Windows editor is CP932 (Shift_JIS), one saved as "Unicode" is UTF-16."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "the file is in UTF-16, not UTF-8: save it as UTF-8"
    try:
        raw.decode("cp932")  # strict: a file that is not CP932 either is just "not UTF-8"
    except UnicodeDecodeError:
        return "file is not UTF-8 text"
    return (
        "the file is in Shift_JIS (CP932), not UTF-8: save it as UTF-8 "
        "(メモ帳: 名前を付けて保存 → 文字コード UTF-8)"
    )


# What makes YAML unreadable to people who type it in a Japanese editor, on the line where it
# was typed (the parser notices later, often lines below): a tab or a full-width space in the
# indentation, a full-width space after a key's colon, a key ended with a full-width colon.
_TAB_INDENT = re.compile(r"[ \u3000]*\t")
_IDEOGRAPHIC_INDENT = re.compile(r"[ \t]*\u3000")
_IDEOGRAPHIC_AFTER_COLON = re.compile(r"[^#'\"]*?[A-Za-z0-9_-]:\u3000")
_FULL_WIDTH_COLON = re.compile(r"\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*：")


def _typing_slip(text: str, last: int) -> tuple[int, str] | None:
    """The first line up to `last` with a slip the parser cannot see for what it is."""
    for number, line in enumerate(_YAML_BREAK.split(text)[:last], 1):
        if line.lstrip(" \t\u3000").startswith("#"):
            continue
        if _TAB_INDENT.match(line):
            return number, (
                "a tab in the indentation: YAML indents with spaces only; "
                "replace the tab with spaces"
            )
        if _IDEOGRAPHIC_INDENT.match(line):
            return number, (
                "a full-width space (全角スペース, U+3000) in the indentation: YAML indents "
                "with ASCII spaces only; replace it with half-width spaces"
            )
        if _IDEOGRAPHIC_AFTER_COLON.match(line):
            return number, (
                "a full-width space (全角スペース, U+3000) after the colon: write 'key: value' "
                "with a half-width space"
            )
        typed = _FULL_WIDTH_COLON.match(line)
        if typed is not None:
            word = typed.group(1)
            return number, (
                f"a full-width colon (：) after {word}: YAML needs the ASCII colon; "
                f"write '{word}: …'"
            )
    return None


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
        line = min(exc.lineno, _last_line(text))  # not the empty line after the last break
        raise TopologyError(path, f"invalid JSON: {exc.msg}", line) from exc
    except (_DuplicateKey, RecursionError, ValueError):
        # A duplicate key, nesting too deep for `json`, or an integer too long to convert
        # (Python's 4,300-digit cap): the scanner finds which one and its line.
        _locate_json(path, text, strict=True)
        raise TopologyError(path, "invalid JSON: a value cannot be read") from None
    return Document(path, data, text)


class _DuplicateKey(Exception):
    pass


# One JSON token: a newline (counted), blanks, a string, a structural character, or a bare
# literal (number, true, false, null). Strict JSON strings hold no raw newline.
_JSON_TOKEN = re.compile(
    r'(\n)|[ \t\r]+|("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\]])|[,:]|([^ \t\r\n{}\[\],:"]+)'
)
_JSON_INT = re.compile(r"-?[0-9]+")


def _locate_json(path: str, text: str, strict: bool = False) -> LDict | LList | None:
    """The containers of a JSON text with the line of every key and item; no values.

    Iterative (any nesting depth) and independent of YAML, so every error in a file that `json`
    read keeps its line. With `strict`, the defects `json` reports without a line are raised
    with one: a duplicate key, nesting deeper than MAX_DEPTH, an integer over MAX_INT_DIGITS.
    """
    line = 1
    root: LDict | LList | None = None
    stack: list[LDict | LList] = []
    keys: list[str | None] = []  # per open container: the key awaiting its value (mappings)
    for match in _JSON_TOKEN.finditer(text):
        newline, string, bracket, literal = match.groups()
        if newline:
            line += 1
            continue
        if string is None and bracket is None and literal is None:
            continue  # blanks, commas, colons
        top = stack[-1] if stack else None
        if isinstance(top, LDict) and keys[-1] is None and string is not None:
            key = json.loads(string)
            if key in top:
                if strict:
                    raise TopologyError(path, f"duplicate key {shown(key)}", line)
            top.key_lines[key] = line
            top[key] = None
            keys[-1] = key
            continue
        if bracket in ("}", "]"):
            if stack:
                stack.pop()
                keys.pop()
            continue
        if literal is not None and strict and _JSON_INT.fullmatch(literal):
            if len(literal.lstrip("-")) > MAX_INT_DIGITS:
                raise TopologyError(path, f"number with more than {MAX_INT_DIGITS} digits", line)
        value: Any = None
        if bracket is not None:  # "{" or "["
            if strict and len(stack) >= MAX_DEPTH:
                raise TopologyError(path, f"nesting deeper than {MAX_DEPTH} levels", line)
            if bracket == "{":
                value = LDict()
                value.key_lines = {}
            else:
                value = LList()
                value.item_lines = []
            value.line = line
        if isinstance(top, LDict):
            top[keys[-1]] = value  # type: ignore[index]
            keys[-1] = None
        elif isinstance(top, LList):
            top.item_lines.append(line)
            top.append(value)
        elif root is None and value is not None:
            root = value
        if value is not None:
            stack.append(value)
            keys.append(None)
    return root


def _compose(path: str, text: str) -> Any:
    """Parse YAML text into LDict / LList / scalars from libyaml's event stream.

    Built iteratively with an explicit stack: libyaml's own composer recurses in C and crashes
    the interpreter (SIGSEGV) on a small file nested tens of thousands of levels deep.
    """
    loader = _Loader(text)
    try:
        return _EventBuilder(path, loader).build()
    except yaml.reader.ReaderError as exc:
        # A character YAML cannot hold (a control character, U+FFFE); libyaml counts its
        # position in bytes, PyYAML's reader in characters: find the character instead.
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        at = text.find(char)
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        code = f"U+{ord(char):04X}" if len(char) == 1 else repr(char)
        raise TopologyError(path, f"the character {code} is not allowed in YAML", line) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, _last_line(text)) if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        slip = _typing_slip(text, line or _last_line(text))
        if slip is not None:
            raise TopologyError(path, slip[1], slip[0]) from exc
        if "nesting depth" in problem:
            # libyaml >= 0.2.5 as bundled by PyYAML 6.0.4 caps nesting itself, scanning ahead
            # of the events this builder counts: one message whichever limit is met first.
            raise TopologyError(path, f"nesting deeper than {MAX_DEPTH} levels", line) from exc
        raise TopologyError(path, f"invalid YAML: {problem}", line) from exc
    except yaml.YAMLError as exc:  # pragma: no cover (every libyaml error is one of the above)
        raise TopologyError(path, f"invalid YAML: {' '.join(str(exc).split())}") from exc
    finally:
        loader.dispose()


_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _last_line(text: str) -> int:
    """The last line that holds text, counted as libyaml counts lines: an error at the end
    of the file is reported there, not on the empty line after the final line break."""
    ends_with_break = text[-1:] in ("\r", "\n", "\x85", "\u2028", "\u2029")
    return max(1, len(_YAML_BREAK.findall(text)) + (0 if ends_with_break else 1))


class _Open:
    """A collection being built: its value, anchor, weight so far and a pending mapping key."""

    __slots__ = ("value", "anchor", "weight", "key", "key_line")

    def __init__(self, value: LDict | LList, anchor: str | None) -> None:
        self.value = value
        self.anchor = anchor
        self.weight = 1
        self.key: str | None = None
        self.key_line = 0


class _EventBuilder:
    """Turns parser events into LDict / LList / scalars, safely.

    No tag can build an object, aliases are counted by the values they expand to and capped
    (alias bombs), nesting is capped, duplicate keys are errors.
    """

    def __init__(self, path: str, loader: Any) -> None:
        self.path = path
        self.loader = loader
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, weight)
        self.open_anchors: set[str] = set()
        self.expanded = 0

    def fail(self, event: Any, message: str) -> TopologyError:
        return TopologyError(self.path, message, event.start_mark.line + 1)

    def build(self) -> Any:
        loader = self.loader
        stack: list[_Open] = []
        root: Any = None
        documents = 0
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                scalar = self.scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (scalar, 1)
                if stack:
                    top = stack[-1]
                    if isinstance(top.value, LDict) and top.key is None:
                        self.set_key(top, scalar, event)
                    else:
                        self.add(top, scalar, 1, event.start_mark.line + 1, event)
                else:
                    root = scalar
                continue
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mapping = kind is yaml.MappingStartEvent
                expected = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
                if event.tag not in (None, "!", expected):
                    raise self.fail(event, f"unsupported YAML tag {event.tag!r}")
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(event, f"nesting deeper than {MAX_DEPTH} levels")
                line = event.start_mark.line + 1
                value: LDict | LList
                if mapping:
                    value = LDict()
                    value.key_lines = {}
                else:
                    value = LList()
                    value.item_lines = []
                value.line = line
                if stack:
                    self.check_key_position(stack[-1], event)
                if event.anchor is not None:
                    self.open_anchors.add(event.anchor)
                stack.append(_Open(value, event.anchor))
                continue
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                done = stack.pop()
                if done.anchor is not None:
                    self.open_anchors.discard(done.anchor)
                    self.anchors[done.anchor] = (done.value, done.weight)
                if stack:
                    self.add(stack[-1], done.value, done.weight, done.value.line, event)
                else:
                    root = done.value
                continue
            if kind is yaml.AliasEvent:
                name = event.anchor
                if name in self.open_anchors:
                    raise self.fail(
                        event, f"YAML alias *{name} refers to a collection that holds it"
                    )
                if name not in self.anchors:
                    raise self.fail(event, f"YAML alias *{name} names no anchor")
                aliased, weight = self.anchors[name]
                self.expanded += weight
                if self.expanded > MAX_ALIAS_EXPANSION:
                    raise self.fail(
                        event,
                        f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} values "
                        "(an alias bomb?); write the values out",
                    )
                if stack:
                    top = stack[-1]
                    if isinstance(top.value, LDict) and top.key is None:
                        raise self.fail(event, "mapping keys must be plain names")
                    self.add(top, aliased, weight, event.start_mark.line + 1, event)
                else:
                    root = aliased
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self.fail(event, "expected a single YAML document, found several")
                continue
            if kind in (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent):
                continue
            raise self.fail(event, "unsupported YAML event")  # pragma: no cover
        return root

    def check_key_position(self, top: _Open, event: Any) -> None:
        """A collection may be a value, never a mapping key."""
        if isinstance(top.value, LDict) and top.key is None:
            raise self.fail(event, "mapping keys must be plain names")

    def set_key(self, top: _Open, scalar: Any, event: Any) -> None:
        if event.tag == _MERGE or (event.tag is None and event.implicit[0] and event.value == "<<"):
            raise self.fail(event, "YAML merge keys (<<) are not supported")
        # Names are what was written: YAML 1.1 would turn `no:` into False and `0100:` into 64.
        key = event.value if isinstance(event.value, str) else str(scalar)
        assert isinstance(top.value, LDict)
        if key in top.value:
            raise self.fail(event, f"duplicate key {key!r}")
        top.key = key
        top.key_line = event.start_mark.line + 1

    def add(self, top: _Open, value: Any, weight: int, line: int, event: Any) -> None:
        top.weight += weight
        container = top.value
        if isinstance(container, LDict):
            key = top.key
            assert key is not None
            container.key_lines[key] = top.key_line
            container[key] = value
            top.key = None
        else:
            container.item_lines.append(line)
            container.append(value)

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return event.value  # quoted or block scalar: a string
            tag = _resolve_plain(event.value)
        if tag == _STR:
            return event.value
        if tag == _MERGE:
            return event.value  # only meaningful as a key; set_key rejects it there
        if tag == _FLOAT or (tag == _INT and not _is_plain_int(event.value)):
            # 0100 (octal 64), 0x1F, 1_000, 1:20 or 1.10: keep the text as written, so an id or
            # ticket is never silently rewritten; a port written so is refused. Never converted:
            # 5,000 hex digits make an int that str() refuses (Python's digit cap).
            return event.value
        if tag in _SCALAR_TAGS:
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
            try:
                return _SCALAR_CONSTRUCTOR.yaml_constructors[tag](_SCALAR_CONSTRUCTOR, node)
            except (yaml.YAMLError, ValueError, OverflowError) as exc:
                if tag == _TIMESTAMP:
                    return event.value  # e.g. 2027-02-30: the loader reports it as "not a date"
                raise self.fail(event, f"malformed value {shown(event.value)}") from exc
        raise self.fail(event, f"unsupported YAML tag {tag!r}")


def _is_plain_int(text: str) -> bool:
    """Decimal as written (+5, -3, 0) and short enough to convert."""
    return _PLAIN_INT.fullmatch(text) is not None and len(text) <= MAX_INT_DIGITS
