"""PAN-OS configuration text → one element tree, whatever the form, with every element's line.

A PAN-OS configuration comes as XML (`show config running` through the API, an exported
snapshot, a `<config>` fragment), as `set` commands (`set cli config-output-format set`) or in
the brace form the CLI shows by default. All three describe the same XML tree; this module builds
that tree (stdlib `xml.etree.ElementTree` elements) and records, for each element, the line it
came from, so the interpreter (`panos.py`) reads one structure and the XML and set forms of a
configuration import identically, down to their XPaths.

The set and brace forms do not say which words are element names and which are list-entry names
(`rules RULE1`), member values (`from [ z1 z2 ]`) or texts (`action allow`); a small schema of
the parts segcheck reads says so. Elsewhere a generic rule builds some tree, which nothing reads.

XML is parsed by expat without DTD processing: a document declaring entities is refused before
any is expanded (no billion laughs), and external entities are never fetched.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol
from xml.parsers import expat

from ...errors import ConfigError
from .panos_data import DEFAULT_VSYS, LOCAL_DEVICE


class Lines(Protocol):
    def get(self, elem: ET.Element, /) -> int | None: ...


class _OffsetLines:
    """Each element's line from its start tag's byte offset, looked up when asked."""

    def __init__(self, elements: list[ET.Element], offsets: list[int], data: bytes) -> None:
        self.order = {elem: k for k, elem in enumerate(elements)}
        self.offsets = offsets
        self.newlines = [m.start() for m in re.finditer(b"\n", data)]

    def get(self, elem: ET.Element, /) -> int | None:
        k = self.order.get(elem)
        return None if k is None else bisect_right(self.newlines, self.offsets[k]) + 1


@dataclass
class ConfigTree:
    """A configuration as its `<config>` element, each element's line, and what was skipped."""

    root: ET.Element
    lines: Lines
    form: str  # "xml", "set" or "brace"
    unrecognised: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def build_tree(data: bytes | str, display_name: str) -> ConfigTree:
    """Detect the form by content and build the tree; ConfigError when it is none of them."""
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        head = data.lstrip()[:1]
        if head == b"<":
            return _xml_tree(data, display_name)
        text = _decode(data, display_name)
    else:
        text = data.removeprefix("\ufeff")
        if text.lstrip()[:1] == "<":
            return _xml_tree(text, display_name)
    if not text.strip():
        raise ConfigError(display_name, "empty configuration")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(display_name, "binary data (NUL byte), not a configuration", line)
    return _SetBuilder(display_name).build(text)


def _decode(data: bytes, display_name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(display_name, "not UTF-8 text (PAN-OS writes UTF-8)", line) from None


# --- XML ---------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


_START_TAG = re.compile(rb"<(?![/?!])")


def _xml_tree(data: bytes | str, display_name: str) -> ConfigTree:
    found = _xml_fast(data, display_name) if isinstance(data, bytes) else None
    top, lines = found if found is not None else _xml_checked(data, display_name)
    root = _config_element(top)
    if root is None:
        raise ConfigError(
            display_name,
            f"XML root <{top.tag}> is not a PAN-OS configuration (<config>, or an API "
            "<response> holding one)",
            lines.get(top),
        )
    return ConfigTree(root, lines, "xml")


def _xml_fast(data: bytes, display_name: str) -> tuple[ET.Element, Lines] | None:
    """The C parser, lines from the start tags' offsets; None when that cannot be trusted.

    Without a DOCTYPE a document cannot declare entities, so the C parser is safe; without
    comments or CDATA holding a `<`, the n-th start tag in the bytes is the n-th element in
    document order. Anything else (or an ASCII-incompatible encoding) takes the checked path.
    """
    if b"<!DOCTYPE" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        return None
    try:
        parser = ET.XMLParser(target=ET.TreeBuilder())
        parser.feed(data)
        top = parser.close()
    except ET.ParseError as exc:
        raise ConfigError(
            display_name, f"not well-formed XML: {expat.ErrorString(exc.code)}", exc.position[0]
        ) from None
    elements = list(top.iter())
    positions = [m.start() for m in _START_TAG.finditer(data)]
    if len(positions) != len(elements):
        return None
    return top, _OffsetLines(elements, positions, data)


def _xml_checked(data: bytes | str, display_name: str) -> tuple[ET.Element, Lines]:
    """expat with a handler per element (its line) and entity declarations refused."""
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    tb_start = builder.start

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[tb_start(tag, attrs)] = parser.CurrentLineNumber

    def entity_decl(name: str, *_: object) -> None:
        raise _Refused(
            f"XML entity declaration {name!r}: a DOCTYPE declaring entities is refused "
            "(PAN-OS never writes one)",
            parser.CurrentLineNumber,
        )

    def external_entity(*_: object) -> int:
        raise _Refused("XML external entity reference refused", parser.CurrentLineNumber)

    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = external_entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise ConfigError(display_name, str(exc), exc.line) from None
    except expat.ExpatError as exc:
        raise ConfigError(
            display_name, f"not well-formed XML: {expat.ErrorString(exc.code)}", exc.lineno
        ) from None
    return builder.close(), lines


def _config_element(top: ET.Element) -> ET.Element | None:
    """The <config> element: the root itself, or inside an API <response><result>."""
    if top.tag == "config":
        return top
    if top.tag in ("response", "result"):
        found = top.find("config")
        if found is None:
            found = top.find("result/config")
        return found
    return None


# --- schema of the parts segcheck reads --------------------------------------------------------


class _Kind(Enum):
    CONTAINER = 1  # named child elements
    ENTRIES = 2  # <entry name="..."> children
    MEMBERS = 3  # <member> children: one value or [ a b c ]
    LEAF = 4  # text: one value
    TEXT = 5  # free text: the rest of the line
    ANY = 6  # not read by segcheck: a generic tree


@dataclass(frozen=True)
class _S:
    kind: _Kind
    children: dict[str, _S] = field(default_factory=dict)
    entry: _S | None = None


_ANY = _S(_Kind.ANY)
_M = _S(_Kind.MEMBERS)
_L = _S(_Kind.LEAF)
_T = _S(_Kind.TEXT)


def _c(children: dict[str, _S]) -> _S:
    return _S(_Kind.CONTAINER, children)


def _e(entry: _S) -> _S:
    return _S(_Kind.ENTRIES, entry=entry)


_SECURITY_RULE = _c(
    {
        "from": _M,
        "to": _M,
        "source": _M,
        "destination": _M,
        "service": _M,
        "application": _M,
        "source-user": _M,
        "category": _M,
        "source-hip": _M,
        "destination-hip": _M,
        "hip-profiles": _M,
        "tag": _M,
        "negate-source": _L,
        "negate-destination": _L,
        "action": _L,
        "disabled": _L,
        "rule-type": _L,
        "schedule": _L,
        "description": _T,
    }
)
_RULEBASE = _c(
    {
        "security": _c({"rules": _e(_SECURITY_RULE)}),
        "default-security-rules": _c({"rules": _e(_c({"action": _L}))}),
        "nat": _c({"rules": _e(_c({"disabled": _L, "description": _T}))}),
    }
)
_PORTS = _c({"port": _L, "source-port": _L})
_OBJECTS = {
    "address": _e(
        _c(
            {
                "ip-netmask": _L,
                "ip-range": _L,
                "fqdn": _L,
                "ip-wildcard": _L,
                "description": _T,
                "tag": _M,
            }
        )
    ),
    "address-group": _e(
        _c({"static": _M, "dynamic": _c({"filter": _T}), "description": _T, "tag": _M})
    ),
    "service": _e(
        _c(
            {
                "protocol": _c({"tcp": _PORTS, "udp": _PORTS, "sctp": _PORTS}),
                "description": _T,
                "tag": _M,
            }
        )
    ),
    "service-group": _e(_c({"members": _M, "tag": _M})),
    "external-list": _e(_ANY),
    "region": _e(_c({"address": _M})),
}
_ZONE = _c(
    {
        "network": _c(
            {
                "layer3": _M,
                "layer2": _M,
                "virtual-wire": _M,
                "tap": _M,
                "tunnel": _ANY,
                "external": _M,
            }
        )
    }
)
_VSYS = _c(
    {
        **_OBJECTS,
        "zone": _e(_ZONE),
        "rulebase": _RULEBASE,
        "import": _c({"network": _c({"interface": _M})}),
        "display-name": _T,
    }
)
_DEVICE_GROUP = _c(
    {
        **_OBJECTS,
        "pre-rulebase": _RULEBASE,
        "post-rulebase": _RULEBASE,
        "parent-dg": _L,
        "devices": _e(_ANY),
        "description": _T,
    }
)
_SCOPE_RULEBASES = _c({**_OBJECTS, "pre-rulebase": _RULEBASE, "post-rulebase": _RULEBASE})
_IP = _e(_ANY)
_IPV6 = _c({"address": _e(_ANY)})
_UNIT = _c({"ip": _IP, "ipv6": _IPV6, "tag": _L, "comment": _T})
_LAYER3 = _c({"ip": _IP, "ipv6": _IPV6, "units": _e(_UNIT), "mtu": _L})
_PHYSICAL = _c({"layer3": _LAYER3, "comment": _T, "aggregate-group": _L})
_LOGICAL = _c({"ip": _IP, "ipv6": _IPV6, "units": _e(_UNIT), "comment": _T})
_ROUTE = _c(
    {
        "destination": _L,
        "interface": _L,
        "nexthop": _c({"ip-address": _L, "ipv6-address": _L, "next-vr": _L, "fqdn": _L}),
        "metric": _L,
        "admin-dist": _L,
    }
)
_ROUTING_TABLE = _c(
    {"ip": _c({"static-route": _e(_ROUTE)}), "ipv6": _c({"static-route": _e(_ROUTE)})}
)
_NETWORK = _c(
    {
        "interface": _c(
            {
                "ethernet": _e(_PHYSICAL),
                "aggregate-ethernet": _e(_PHYSICAL),
                "vlan": _LOGICAL,
                "loopback": _LOGICAL,
                "tunnel": _LOGICAL,
            }
        ),
        "virtual-router": _e(_c({"interface": _M, "routing-table": _ROUTING_TABLE})),
        "logical-router": _e(
            _c({"vrf": _e(_c({"interface": _M, "routing-table": _ROUTING_TABLE}))})
        ),
    }
)
_DEVICE = _c({"network": _NETWORK, "vsys": _e(_VSYS), "device-group": _e(_DEVICE_GROUP)})
_ROOT = _c(
    {
        "shared": _SCOPE_RULEBASES,
        "devices": _e(_DEVICE),
        "policy": _c({"panorama": _SCOPE_RULEBASES}),
        "readonly": _c({"devices": _e(_c({"device-group": _e(_c({"parent-dg": _L}))}))}),
    }
)

# Where a relative set command starts: under /config, under the device entry, or (everything
# else, as on a single-vsys firewall) under vsys1.
_CONFIG_LEVEL = frozenset({"shared", "mgt-config", "policy", "readonly", "panorama"})
_DEVICE_LEVEL = frozenset(
    {
        "deviceconfig",
        "network",
        "vsys",
        "device-group",
        "template",
        "template-stack",
        "log-collector",
        "log-collector-group",
        "platform",
        "plugins",
    }
)

# --- set and brace forms -----------------------------------------------------------------------

# A token: a double-quoted string (it ends at a quote followed by a blank, `]` or the end, so a
# quote inside a description survives, and it may span lines), a single-quoted string, a bracket,
# or a word.
_TOKEN = re.compile(
    r"""\s*(?:"((?:[^"]|"(?![\s\];{}]|\Z))*)"(?=[\s\];{}]|\Z)|'([^'\n]*)'(?=[\s\];{}]|\Z)|([\[\]])|([^\s\[\]]+))"""
)
_BRACE_TOKEN = re.compile(
    r"""\s*(?:"((?:[^"]|"(?![\s\];{}]|\Z))*)"(?=[\s\];{}]|\Z)|'([^'\n]*)'(?=[\s\];{}]|\Z)|([\[\]{};])|([^\s\[\]{};]+))"""
)
_PROMPT = re.compile(r"^(\[edit.*\]|\S+@\S+[#>]\s*)$")  # CLI prompt echoes in a pasted session
_SESSION = frozenset({"configure", "commit", "exit", "quit"})
_VERBS = ("set ", "delete ", "move ")
_MAX_CONTINUATION = 10_000  # lines a quoted value may span (certificates)


class _SetBuilder:
    """Applies set/delete/move commands (and brace blocks) to one tree."""

    def __init__(self, display_name: str) -> None:
        self.name = display_name
        self.root = ET.Element("config")
        self.lines: dict[ET.Element, int] = {self.root: 1}
        self.index: dict[ET.Element, dict[tuple[str, str | None], ET.Element]] = {}
        self.unrecognised: list[tuple[int, str]] = []
        self.commands = 0
        self.braces = False
        # (id of the start element, path words…) → (element, schema) of a list entry; cleared
        # by any delete, so a deleted element is never reused
        self._prefix: dict[tuple[object, ...], tuple[ET.Element, _S]] = {}
        self._not_structural: set[tuple[object, ...]] = set()

    # -- driving

    def build(self, text: str) -> ConfigTree:
        lines = text.splitlines()
        n = len(lines)
        i = 0
        while i < n:
            raw = lines[i]
            line_no = i + 1
            i += 1
            stripped = raw.strip()
            if not stripped.startswith("set ") and (
                not stripped or stripped[0] in "#!" or _PROMPT.match(stripped)
            ):
                continue
            if stripped.endswith("{") and not stripped.startswith(_VERBS):
                # a brace block runs to its matching close
                i = self._brace_block(lines, i - 1)
                continue
            if '"' in stripped or "'" in stripped:
                tokens, consumed = self._quoted_tokens(lines, i - 1)
                i += consumed
            else:
                tokens = stripped.replace("[", " [ ").replace("]", " ] ").split()
            self._command(tokens, line_no, stripped)
        if not self.commands:
            first = next(
                (
                    (k + 1, s.strip())
                    for k, s in enumerate(lines)
                    if s.strip() and s.strip()[0] not in "#!"
                ),
                (1, ""),
            )
            xml_at = next(
                (k + 1 for k, s in enumerate(lines) if s.lstrip().startswith(("<config", "<?xml"))),
                None,
            )
            if xml_at is not None:  # e.g. `admin@fw> show config running` pasted above it
                raise ConfigError(
                    self.name,
                    f"XML starts at line {xml_at}: remove the lines before it",
                    first[0],
                )
            raise ConfigError(
                self.name,
                f"neither PAN-OS XML nor set/brace commands (first line: {first[1][:60]!r})",
                first[0],
            )
        form = "brace" if self.braces else "set"
        return ConfigTree(self.root, self.lines, form, self.unrecognised)

    def _quoted_tokens(self, lines: list[str], start: int) -> tuple[list[str], int]:
        """Tokens of the command at `start`, joining following lines while a quote is open."""
        logical = lines[start]
        tokens, open_quote = _scan(_TOKEN, logical)
        extra = 0
        while open_quote and start + extra + 1 < len(lines) and extra < _MAX_CONTINUATION:
            extra += 1
            following = lines[start + extra]
            logical += "\n" + following
            if '"' in following:  # only a quote can close the value
                tokens, open_quote = _scan(_TOKEN, logical)
        if open_quote:  # never closed: the quote is an ordinary character of this line
            return _scan(_TOKEN, lines[start])[0], 0
        return tokens, extra

    def _command(self, tokens: list[str], line: int, text: str) -> None:
        verb = tokens[0]
        if verb in _SESSION and len(tokens) == 1:
            return
        if verb not in ("set", "delete", "move") or len(tokens) < 2:
            self.unrecognised.append((line, f"not a PAN-OS set command: {text[:80]!r}"))
            return
        self.commands += 1
        if verb == "set":
            elem, schema, rest = self._start(tokens[1:], line)
            self._set(elem, schema, rest, line, text)
        elif verb == "delete":
            self._delete(tokens[1:], line)
        else:
            self._move(tokens[1:], line, text)

    def _brace_block(self, lines: list[str], start: int) -> int:
        """Read brace statements from line index `start` until the block closes; next index."""
        self.braces = True
        self.commands += 1
        text = "\n".join(
            "" if (s := raw.lstrip()) and s[0] in "#!" else raw for raw in lines[start:]
        )
        stack: list[list[str]] = []
        current: list[str] = []
        current_line = line = start + 1
        last = 0
        for m in _BRACE_TOKEN.finditer(text):
            begin = m.start(m.lastindex or 0)
            line += text.count("\n", last, begin)
            last = begin
            dq, sq, punct, word = m.groups()
            if punct == "{":
                if not current:
                    self.unrecognised.append((line, "'{' without a name"))
                stack.append(current)
                self._touch([t for seg in stack for t in seg], current_line)
                current = []
            elif punct == ";" or punct == "}":
                if current:
                    self._touch([t for seg in stack for t in seg] + current, current_line)
                    current = []
                if punct == "}":
                    if not stack:
                        self.unrecognised.append((line, "'}' without an open block"))
                        return line
                    stack.pop()
                    if not stack:
                        return line  # resume line by line after the closing brace
            else:
                if not current:
                    current_line = line
                current.append(dq if dq is not None else sq if sq is not None else punct or word)
        self.unrecognised.append((start + 1, "brace block never closed"))
        return len(lines)

    def _touch(self, tokens: list[str], line: int) -> None:
        """A brace statement: the same as `set` with its full path."""
        if tokens:
            elem, schema, rest = self._start(tokens, line)
            self._set(elem, schema, rest, line, " ".join(tokens))

    # -- tree edits

    def _start(self, tokens: list[str], line: int) -> tuple[ET.Element, _S, list[str]]:
        first = tokens[0]
        if first == "config":
            return self.root, _ROOT, tokens[1:]
        if first in _CONFIG_LEVEL:
            return self.root, _ROOT, tokens
        device = self._device(line)
        if first in _DEVICE_LEVEL:
            return device, _DEVICE, tokens
        vsys = self._prefix.get((id(device), "vsys", DEFAULT_VSYS))
        if vsys is None:
            parent = self._child(device, "vsys", None, line)
            vsys = self._child(parent, "entry", DEFAULT_VSYS, line), _VSYS
            self._prefix[(id(device), "vsys", DEFAULT_VSYS)] = vsys
        return vsys[0], _VSYS, tokens

    def _device(self, line: int) -> ET.Element:
        found = self._prefix.get((id(self.root), "devices", LOCAL_DEVICE))
        if found is None:
            devices = self._child(self.root, "devices", None, line)
            found = self._child(devices, "entry", LOCAL_DEVICE, line), _DEVICE
            self._prefix[(id(self.root), "devices", LOCAL_DEVICE)] = found
        return found[0]

    def _child(self, parent: ET.Element, tag: str, name: str | None, line: int) -> ET.Element:
        index = self.index.get(parent)
        if index is None:
            index = self.index[parent] = {}
        key = (tag, name)
        child = index.get(key)
        if child is None:
            child = ET.SubElement(parent, tag, {"name": name} if name is not None else {})
            index[key] = child
            self.lines[child] = line
        return child

    def _members(self, elem: ET.Element, values: list[str], line: int) -> None:
        index = self.index.get(elem)
        if index is None:
            index = self.index[elem] = {}
        for value in values:
            if ("member", value) not in index:
                member = ET.SubElement(elem, "member")
                member.text = value
                index[("member", value)] = member
                self.lines[member] = line

    def _set(self, elem: ET.Element, schema: _S, tokens: list[str], line: int, text: str) -> None:
        # Commands repeat their path (`rulebase security rules R …` eight times per rule):
        # the element holding the last field is cached by the words before that field.
        cut = len(tokens) - 2 if "[" not in tokens else tokens.index("[") - 1
        if cut > 0:
            key = (id(elem), *tokens[:cut])
            found = self._prefix.get(key)
            if found is not None:
                self._rest(found[0], found[1], tokens, cut, line, text)
                return
            if key not in self._not_structural:
                walked = self._structural(elem, schema, tokens, cut, line)
                if walked is not None:
                    self._prefix[key] = walked
                    self._rest(walked[0], walked[1], tokens, cut, line, text)
                    return
                self._not_structural.add(key)
        self._set_walking(elem, schema, tokens, line, text)

    def _structural(
        self, elem: ET.Element, schema: _S, tokens: list[str], end: int, line: int
    ) -> tuple[ET.Element, _S] | None:
        """The container that tokens[:end] name, if they are all containers and entries."""
        walk = schema
        for i in range(end):
            if walk.kind is _Kind.CONTAINER:
                nxt = walk.children.get(tokens[i])
                if nxt is None or nxt.kind not in (_Kind.CONTAINER, _Kind.ENTRIES):
                    return None
                walk = nxt
            elif walk.kind is _Kind.ENTRIES:
                assert walk.entry is not None
                walk = walk.entry
            else:
                return None
        if walk.kind is not _Kind.CONTAINER:
            return None
        return self._walk(elem, schema, tokens, end, line)

    def _set_walking(
        self, elem: ET.Element, schema: _S, tokens: list[str], line: int, text: str
    ) -> None:
        n = len(tokens)
        walk, i, end = schema, 0, 0
        while i < n:
            if walk.kind is _Kind.CONTAINER:
                nxt = walk.children.get(tokens[i])
                if nxt is None or nxt.kind not in (_Kind.CONTAINER, _Kind.ENTRIES):
                    break
                walk = nxt
            elif walk.kind is _Kind.ENTRIES:
                assert walk.entry is not None
                walk = walk.entry
                end = i + 1
            else:
                break
            i += 1
        i = 0
        if end:
            key = (id(elem), *tokens[:end])
            cached = self._prefix.get(key)
            if cached is None:
                elem, schema = self._walk(elem, schema, tokens, end, line)
                self._prefix[key] = (elem, schema)
            else:
                elem, schema = cached
            i = end
        self._rest(elem, schema, tokens, i, line, text)

    def _walk(
        self, elem: ET.Element, schema: _S, tokens: list[str], end: int, line: int
    ) -> tuple[ET.Element, _S]:
        """Create the containers and entries named by tokens[:end] (all structural)."""
        for i in range(end):
            if schema.kind is _Kind.CONTAINER:
                elem = self._child(elem, tokens[i], None, line)
                schema = schema.children[tokens[i]]
            else:
                assert schema.entry is not None
                elem = self._child(elem, "entry", tokens[i], line)
                schema = schema.entry
        return elem, schema

    def _rest(
        self, elem: ET.Element, schema: _S, tokens: list[str], i: int, line: int, text: str
    ) -> None:
        n = len(tokens)
        while True:
            kind = schema.kind
            if kind is _Kind.CONTAINER:
                if i == n:
                    return
                tag = tokens[i]
                i += 1
                child = self._child(elem, tag, None, line)
                child_schema = schema.children.get(tag, _ANY)
                # the show output may put sibling values on one line:
                # `protocol udp port 5,6 source-port 9,10`
                end = _sibling_value_end(child_schema, tokens, i, schema)
                if end is None:
                    elem, schema = child, child_schema
                    continue
                if child_schema.kind is _Kind.LEAF:
                    child.text = tokens[i]
                else:
                    self._members(child, _list_value(tokens[i:end])[0], line)
                i = end
            elif kind is _Kind.ENTRIES:
                if i == n:
                    return
                assert schema.entry is not None
                elem = self._child(elem, "entry", tokens[i], line)
                i += 1
                schema = schema.entry
            elif kind is _Kind.MEMBERS:
                values, ok = _list_value(tokens[i:])
                if not ok:
                    self.unrecognised.append((line, f"malformed list: {text[:80]!r}"))
                self._members(elem, values, line)
                return
            elif kind is _Kind.LEAF or kind is _Kind.TEXT:
                rest = tokens[i:]
                if kind is _Kind.LEAF and len(rest) > 1:
                    self.unrecognised.append((line, f"one value expected: {text[:80]!r}"))
                elem.text = " ".join(rest) if rest else None
                return
            else:  # generic: a list, a text, or one more element
                rest = tokens[i:]
                if not rest:
                    return
                if rest[0] == "[":
                    self._members(elem, _list_value(rest)[0], line)
                    return
                if len(rest) == 1:
                    elem.text = rest[0]
                    return
                elem = self._child(elem, rest[0], None, line)
                i += 1

    def _locate(
        self, tokens: list[str]
    ) -> tuple[ET.Element | None, ET.Element | None, list[str], _S]:
        """(parent, element, member values left, schema) along an existing path."""
        first = tokens[0]
        if first == "config":
            parent: ET.Element | None = None
            elem: ET.Element | None = self.root
            schema, tokens = _ROOT, tokens[1:]
        elif first in _CONFIG_LEVEL:
            parent, elem, schema = None, self.root, _ROOT
        else:
            devices = self._find(self.root, "devices", None)
            parent = devices
            elem = self._find(devices, "entry", LOCAL_DEVICE) if devices is not None else None
            schema = _DEVICE
            if first not in _DEVICE_LEVEL and elem is not None:
                vsys = self._find(elem, "vsys", None)
                parent = vsys
                elem = self._find(vsys, "entry", DEFAULT_VSYS) if vsys is not None else None
                schema = _VSYS
        i, n = 0, len(tokens)
        while i < n and elem is not None:
            kind = schema.kind
            if kind is _Kind.MEMBERS:
                return parent, elem, _list_value(tokens[i:])[0], schema
            if kind is _Kind.ENTRIES:
                assert schema.entry is not None
                parent, elem = elem, self._find(elem, "entry", tokens[i])
                schema = schema.entry
            elif kind is _Kind.CONTAINER:
                parent, elem = elem, self._find(elem, tokens[i], None)
                schema = schema.children.get(tokens[i], _ANY)
            elif kind is _Kind.ANY:
                parent, elem = elem, self._find(elem, tokens[i], None)
            else:
                return parent, elem, tokens[i:], schema
            i += 1
        return parent, elem, [], schema

    def _find(self, parent: ET.Element | None, tag: str, name: str | None) -> ET.Element | None:
        if parent is None:
            return None
        return self.index.get(parent, {}).get((tag, name))

    def _remove(self, parent: ET.Element, child: ET.Element) -> None:
        parent.remove(child)
        index = self.index.get(parent, {})
        key = next((k for k, v in index.items() if v is child), None)
        if key is not None:
            del index[key]

    def _delete(self, tokens: list[str], line: int) -> None:
        self._prefix.clear()
        self._not_structural.clear()
        parent, elem, values, schema = self._locate(tokens)
        if elem is None:
            return  # deleting what is not there changes nothing
        if values and schema.kind is _Kind.MEMBERS:
            for value in values:
                member = self._find(elem, "member", value)
                if member is not None:
                    self._remove(elem, member)
            return
        if values:  # `delete … description` with a value: the whole leaf goes
            elem.text = None
            return
        if parent is not None:
            self._remove(parent, elem)

    def _move(self, tokens: list[str], line: int, text: str) -> None:
        where = next(
            (k for k in range(len(tokens)) if tokens[k] in ("top", "bottom", "before", "after")),
            None,
        )
        if where is None or where == 0:
            self.unrecognised.append((line, f"move without a position: {text[:80]!r}"))
            return
        parent, elem, _, _ = self._locate(tokens[:where])
        if parent is None or elem is None:
            self.unrecognised.append((line, f"move of an undefined entry: {text[:80]!r}"))
            return
        position = tokens[where]
        if position in ("top", "bottom"):
            parent.remove(elem)
            if position == "top":
                parent.insert(0, elem)
            else:
                parent.append(elem)
            return
        anchor = self._find(parent, "entry", tokens[where + 1]) if where + 1 < len(tokens) else None
        if anchor is None or anchor is elem:
            self.unrecognised.append((line, f"move relative to an undefined entry: {text[:80]!r}"))
            return
        parent.remove(elem)
        k = list(parent).index(anchor)
        parent.insert(k if position == "before" else k + 1, elem)


def _sibling_value_end(child: _S, tokens: list[str], i: int, container: _S) -> int | None:
    """End of a leaf or list value at `i` when a sibling of the container follows it."""
    if child.kind is _Kind.LEAF:
        end = i + 1
    elif child.kind is _Kind.MEMBERS and i < len(tokens):
        if tokens[i] == "[":
            try:
                end = tokens.index("]", i) + 1
            except ValueError:
                return None
        else:
            end = i + 1
    else:
        return None
    if end < len(tokens) and tokens[end] in container.children:
        return end
    return None


def _scan(pattern: re.Pattern[str], text: str) -> tuple[list[str], bool]:
    """Tokens of `text`, and whether a double quote was left open."""
    tokens: list[str] = []
    pos = 0
    open_quote = False
    length = len(text)
    while pos < length:
        m = pattern.match(text, pos)
        if m is None or m.end() == pos:
            break
        dq, sq, punct, word = m.groups()
        pos = m.end()
        if dq is not None:
            tokens.append(dq)
        elif sq is not None:
            tokens.append(sq)
        elif punct is not None:
            tokens.append(punct)
        elif word is not None:
            if word.startswith('"'):
                open_quote = True
            tokens.append(word)
    return tokens, open_quote


def _list_value(tokens: list[str]) -> tuple[list[str], bool]:
    """Values of `x` or `[ x y z ]`; False when malformed (then the values as far as they go)."""
    if not tokens:
        return [], True
    if tokens[0] != "[":
        return tokens, len(tokens) == 1
    if tokens[-1] != "]":
        return tokens[1:], False
    inner = tokens[1:-1]
    return inner, "[" not in inner and "]" not in inner
