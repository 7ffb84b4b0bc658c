"""FortiOS configuration import: `show full-configuration` or a backup `.conf` → `ParsedConfig`.

Three stages, stdlib only, every element keeping its line:

1. `tokenize`: lines → statements (lists of words) with FortiOS quoting: double quotes,
   backslash escapes, quoted values spanning lines (certificates, comments, scripts), quoted and
   bare parts glued into one word (`"new"_name`). A line whose quoting cannot be read exactly
   (`set service ""HTTPS" "HTTP"`) is read leniently and flagged, never dropped silently.
2. `_TreeBuilder`: statements → the configuration tree, replaying the CLI as the device does:
   repeated `config` blocks and `edit` entries merge, `set`/`unset`/`append`/`select`/`unselect`
   change settings, `delete`/`move`/`clone`/`rename`/`purge` change a table's entries and order.
3. `_VdomReader`: one VDOM's tables → a `Context`: interfaces (with zones), static routes and
   the policies in evaluation order (table position, not policy id), with addresses and services
   resolved exactly. What cannot be resolved offline (FQDN, geography, dynamic addresses, users,
   applications, URL categories, schedules) is recorded so that it never hides a path: an allow
   rule keeps the unknown part (`Match.unresolved`, widened by the compiler), a deny rule drops
   it (it can only deny less than it says). Undefined, unused and disabled objects, NAT and what
   is not modelled (proxy policies, NGFW policy mode) become `Issue`s.

A configuration without VDOMs has the single context `root`; a multi-VDOM backup (`config
global` plus `config vdom` / `edit <name>`) has one context per VDOM, interfaces being assigned
by their `set vdom`. Rule ids are `<vdom>/<policyid>` (`root/12`); FortiOS 6.x's separate IPv6
table `firewall policy6` gives `<vdom>/policy6/<policyid>`, its ids being a namespace of their
own. Predefined services a configuration does not define come from `fortios_services`.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from ...errors import ConfigError
from ...gcpause import paused
from ...model import IPRange
from .fortios_services import (
    FACTORY_ADDRESSES,
    FACTORY_ADDRESSES6,
    FACTORY_OBJECT_NAMES,
    FACTORY_SERVICE_GROUPS,
    FACTORY_SERVICES,
)
from .model import (
    ICMP,
    ICMPV6,
    SCTP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Assumption,
    Context,
    Interface,
    Issue,
    Match,
    Origin,
    ParsedConfig,
    Route,
    Rule,
    ServiceSet,
)

FORMAT = "fortios"
ROOT_VDOM = "root"
ANY = "any"
MAX_POLICY_ID = 4294967294

_IssueSink = Callable[[str, str, int | None], None]  # (kind, message, line)

# --- tokenizer ---------------------------------------------------------------------------------

# a word: quoted parts ("…" with backslash escapes) and bare characters, glued together
_WORD = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"\\]|\\.)+', re.S)
_PART = re.compile(r'"((?:[^"\\]|\\.)*)"|\\(.)|([^"\\]+)', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_CLOSES_QUOTE = re.compile(r'(?:[^"\\]|\\.)*"', re.S)  # inside a quote: up to its closing quote
# keys whose quoted value may hold CLI lines of its own (auto-scripts, replacement messages)
_SCRIPT_KEYS = frozenset({"script", "buffer", "content", "text", "output"})
_MAX_VALUE_LINES = 20000


class Statement(NamedTuple):
    """One CLI statement: its first line (1-based), its words, and why it was read leniently."""

    line: int
    words: tuple[str, ...]
    problem: str | None = None


_new_statement = tuple.__new__  # builds a Statement without the Python-level __new__ (hot path)


def _unquote(word: str) -> str:
    if '"' not in word and "\\" not in word:
        return word
    out = []
    for quoted, escaped, bare in _PART.findall(word):
        if quoted:
            out.append(_ESCAPE.sub(r"\1", quoted))
        elif escaped:
            out.append(escaped)
        else:
            out.append(bare)
    return "".join(out)


def _split(text: str) -> tuple[list[str], int | None]:
    """The words of `text`, and the offset of a quote (or escape) left open, if any."""
    words: list[str] = []
    pos = 0
    for m in _WORD.finditer(text):
        start = m.start()
        if start > pos and not text[pos:start].isspace():
            return words, pos + len(text[pos:start]) - len(text[pos:start].lstrip())
        words.append(_unquote(m.group()))
        pos = m.end()
    rest = text[pos:]
    if rest and not rest.isspace():
        return words, pos + len(rest) - len(rest.lstrip())
    return words, None


def _simple_words(text: str) -> list[str] | None:
    """Words of a line without escapes whose quotes all enclose whole words (the common case,
    read without a regular expression), or None."""
    parts = text.split('"')
    last = len(parts) - 1
    if last % 2:
        return None  # a quote left open
    words: list[str] = []
    for k in range(0, last + 1, 2):
        seg = parts[k]
        if seg:
            if (k and not seg[0].isspace()) or (k < last and not seg[-1].isspace()):
                return None  # a quoted part glued to a bare one
            words.extend(seg.split())
        elif 0 < k < last:
            return None  # two quoted parts glued
        if k < last:
            words.append(parts[k + 1])
    return words


def _lenient(text: str) -> tuple[str, ...]:
    """Words of a line whose quoting is broken: split on blanks, quotes dropped."""
    return tuple(w for w in (part.replace('"', "") for part in text.split()) if w)


def tokenize(text: str) -> list[Statement]:
    """The statements of a FortiOS configuration text, comments (`#…`) and blank lines skipped.

    A quoted value may span lines; it must open at the start of a word and close before the end
    of the file, and (outside script-like keys) it may not run over a line reading `next` or
    `end`, else the opening line is read leniently and flagged (`Statement.problem`).
    """
    lines = text.split("\n")
    out: list[Statement] = []
    i, n = 0, len(lines)
    while i < n:
        s = lines[i].strip()
        i += 1
        if not s or s[0] == "#":
            continue
        if "\\" not in s:
            simple = _simple_words(s) if '"' in s else s.split()
            if simple is not None:
                out.append(_new_statement(Statement, (i, tuple(simple), None)))
                continue
        st, i = _quoted_statement(lines, i, s)
        out.append(st)
    return out


def _quoted_statement(lines: list[str], i: int, s: str) -> tuple[Statement, int]:
    """The statement starting on line `i` (1-based; `s` is that line, stripped) whose quoting
    needs the full reader, and the index of the line after it."""
    start = i
    words, open_at = _split(s)
    if open_at is None:
        return Statement(i, tuple(words)), i
    problem = _multiline_problem(s, words, open_at)
    joined = s
    j, n = i, len(lines)  # j: index of the next line to join
    while problem is None and open_at is not None:
        while True:
            if j >= n or j - start > _MAX_VALUE_LINES:
                problem = "a quoted value is not closed before the end of the file"
                break
            nxt = lines[j].rstrip("\r")
            j += 1
            joined += "\n" + nxt
            if _CLOSES_QUOTE.match(nxt):
                break
            if nxt.strip() in ("next", "end") and words[1:2] and words[1] not in _SCRIPT_KEYS:
                problem = f"a quoted value runs over the line {j} ({nxt.strip()!r})"
                break
        if problem is None:
            words, open_at = _split(joined)
            if open_at is not None:
                problem = _multiline_problem(joined, words, open_at)
    if problem is None:
        return Statement(start, tuple(words)), j
    return Statement(start, _lenient(s), problem), i


def _multiline_problem(text: str, words: list[str], open_at: int) -> str | None:
    """Why an unclosed quote at `open_at` cannot be the start of a multi-line value, if so."""
    if text[open_at] != '"':
        return "a backslash ends the line"
    if open_at > 0 and not text[open_at - 1].isspace():
        return "a quote opens inside a word"
    if len(words) < 2 or words[0] not in ("set", "append", "edit"):
        return "a quoted value is not closed on its line"
    return None


# --- configuration tree ------------------------------------------------------------------------


class _Setting:
    """One key's values as the last `set`/`append` left them (a plain class: the hot path)."""

    __slots__ = ("key", "values", "line", "uncertain", "replaced")

    def __init__(self, key: str, values: list[str], line: int, uncertain: bool = False) -> None:
        self.key = key
        self.values = values
        self.line = line
        self.uncertain = uncertain  # read leniently from a malformed line
        self.replaced: tuple[tuple[tuple[str, ...], int], ...] = ()  # earlier values, lines


@dataclass(slots=True, eq=False)
class _Edit:
    name: str
    line: int
    settings: dict[str, _Setting] = field(default_factory=dict)
    blocks: dict[tuple[str, ...], _Block] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Block:
    path: tuple[str, ...]
    line: int
    settings: dict[str, _Setting] = field(default_factory=dict)
    edits: dict[str, _Edit] = field(default_factory=dict)
    blocks: dict[tuple[str, ...], _Block] = field(default_factory=dict)


_SETTERS = frozenset({"set", "unset", "append", "select", "unselect"})
_VDOM_BLOCK = ("vdom",)
_SERVICE_CUSTOM = ("firewall", "service", "custom")
# what `set protocol` clears on a custom service when the protocol changes (as the CLI does)
_PROTOCOL_FIELDS = (
    "protocol-number",
    "icmptype",
    "icmpcode",
    "tcp-portrange",
    "udp-portrange",
    "sctp-portrange",
)
_ADDR_REFS = ((("firewall", "policy"), ("srcaddr", "dstaddr")),)
_ADDR6_REFS = (
    (("firewall", "policy"), ("srcaddr6", "dstaddr6")),
    (("firewall", "policy6"), ("srcaddr", "dstaddr")),
)
_SVC_REFS = (
    (("firewall", "policy"), ("service",)),
    (("firewall", "policy6"), ("service",)),
    (("firewall", "service", "group"), ("member",)),
)
_INTF_REFS = (
    (("firewall", "policy"), ("srcintf", "dstintf")),
    (("firewall", "policy6"), ("srcintf", "dstintf")),
    (("firewall", "address"), ("associated-interface",)),
)
# where a renamed object is referenced: `rename` updates those references, as the device does
_RENAME_REFS: Mapping[tuple[str, ...], tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    ("firewall", "address"): (*_ADDR_REFS, (("firewall", "addrgrp"), ("member", "exclude-member"))),
    ("firewall", "addrgrp"): (*_ADDR_REFS, (("firewall", "addrgrp"), ("member", "exclude-member"))),
    ("firewall", "address6"): (*_ADDR6_REFS, (("firewall", "addrgrp6"), ("member",))),
    ("firewall", "addrgrp6"): (*_ADDR6_REFS, (("firewall", "addrgrp6"), ("member",))),
    ("firewall", "vip"): (*_ADDR_REFS, (("firewall", "vipgrp"), ("member",))),
    _SERVICE_CUSTOM: _SVC_REFS,
    ("firewall", "service", "group"): _SVC_REFS,
    ("system", "zone"): _INTF_REFS,
}


_POLICY_TABLES = (("firewall", "policy"), ("firewall", "policy6"))
# name lengths the device accepts, checked where a name is made by `rename` or `clone`
_MAX_NAME = {**dict.fromkeys(_RENAME_REFS, 79), ("system", "zone"): 35}


def _is_policy_id(text: str) -> bool:
    return text.isdigit() and int(text) <= MAX_POLICY_ID


class _TreeBuilder:
    """Replays statements into a `_Block` tree, recording what it cannot take as issues."""

    def __init__(self, issue: _IssueSink) -> None:
        self.root = _Block((), 0)
        self.stack: list[_Block | _Edit] = [self.root]
        self.paths: list[tuple[str, ...]] = [()]  # block path of each frame (an edit: its table)
        self.visits: list[int] = [0]  # line where the current visit of each frame began
        self.issue = issue

    def build(self, text: str) -> None:
        """Read the whole text: `tokenize` and `feed` in one pass, the common statements (a
        first `set` of a key, lines without escapes or broken quotes) taken inline."""
        lines = text.split("\n")
        stack, root, feed = self.stack, self.root, self.feed
        settings, inside = root.settings, False  # the open frame's settings; not at top level
        numbered = enumerate(lines, 1)
        for i, raw in numbered:
            s = raw.strip()
            if not s or s[0] == "#":
                continue
            if "\\" not in s:
                words = _simple_words(s) if '"' in s else s.split()
                if words is not None:
                    if inside and words[0] == "set" and len(words) > 1 and words[1] not in settings:
                        settings[words[1]] = _Setting(words[1], words[2:], i)
                        continue
                    feed(_new_statement(Statement, (i, tuple(words), None)))
                    settings, inside = stack[-1].settings, len(stack) > 1
                    continue
            st, after = _quoted_statement(lines, i, s)
            for _ in range(after - i):  # the lines of a multi-line value
                next(numbered)
            feed(st)
            settings, inside = stack[-1].settings, len(stack) > 1

    def feed(self, st: Statement) -> None:
        words = st.words
        if st.problem is not None:
            self.issue("unrecognised", f"{st.problem}; read as: {' '.join(words)}", st.line)
        if not words:
            return
        cmd = words[0]
        top = self.stack[-1]
        if cmd in _SETTERS:
            self._setting(top, cmd, st)
        elif cmd == "config":
            self._config(top, st)
        elif cmd == "edit":
            self._edit(top, st)
        elif cmd == "next":
            if isinstance(top, _Edit):
                self._pop()
            else:
                self.issue("unrecognised", "`next` outside an `edit` entry", st.line)
        elif cmd == "end":
            self._end(top, st)
        elif cmd in ("delete", "move", "clone", "rename", "purge") and isinstance(top, _Block):
            if top is self.root:
                self.issue("unrecognised", f"`{cmd}` outside a `config` block", st.line)
            else:
                self._table_command(top, cmd, st)
        elif not self.root.blocks and (cmd.endswith(("#", "$")) or words[1:2] in (("#",), ("$",))):
            self.issue("warning", f"CLI prompt line ignored: {' '.join(words)}", st.line)
        else:
            self.issue("unrecognised", f"unknown statement: {' '.join(words)}", st.line)

    def finish(self) -> _Block:
        if len(self.stack) > 1:
            open_block = next(f for f in reversed(self.stack) if isinstance(f, _Block))
            self.issue(
                "warning",
                f"the file ends inside `config {' '.join(open_block.path)}` (no closing `end`)",
                open_block.line,
            )
        return self.root

    def _push(self, frame: _Block | _Edit, path: tuple[str, ...], line: int) -> None:
        self.stack.append(frame)
        self.paths.append(path)
        self.visits.append(line)

    def _pop(self) -> None:
        self.stack.pop()
        self.paths.pop()
        self.visits.pop()

    def _config(self, top: _Block | _Edit, st: Statement) -> None:
        path = st.words[1:]
        if not path:
            self.issue("unrecognised", "`config` without a name", st.line)
            return
        block = top.blocks.get(path)
        if block is None:
            block = top.blocks[path] = _Block(path, st.line)
        self._push(block, path, st.line)

    def _edit(self, top: _Block | _Edit, st: Statement) -> None:
        if isinstance(top, _Edit):  # a missing `next`: the new entry belongs to the same table
            if self.paths[-1] != _VDOM_BLOCK:
                self.issue("warning", f"`edit {top.name}` is not closed by `next`", top.line)
            self._pop()
            top = self.stack[-1]
        if top is self.root or not isinstance(top, _Block):
            self.issue("unrecognised", "`edit` outside a `config` block", st.line)
            return
        if len(st.words) < 2:
            self.issue("unrecognised", "`edit` without a name", st.line)
            return
        if len(st.words) > 2:
            self.issue(
                "warning", f"`edit` takes one name; extra words ignored: {st.words}", st.line
            )
        name = st.words[1]
        entry = top.edits.get(name)
        if entry is None:
            entry = top.edits[name] = _Edit(name, st.line)
        self._push(entry, self.paths[-1], st.line)

    def _end(self, top: _Block | _Edit, st: Statement) -> None:
        if isinstance(top, _Edit):  # `end` also closes the entry (normal for VDOM entries)
            if self.paths[-1] != _VDOM_BLOCK:
                self.issue("warning", f"`edit {top.name}` is not closed by `next`", top.line)
            self._pop()
        if len(self.stack) == 1:
            self.issue("unrecognised", "`end` without an open `config` block", st.line)
            return
        self._pop()

    def _setting(self, top: _Block | _Edit, cmd: str, st: Statement) -> None:
        if top is self.root:
            self.issue("unrecognised", f"`{cmd}` outside a `config` block", st.line)
            return
        if len(st.words) < 2:
            self.issue("unrecognised", f"`{cmd}` without a key", st.line)
            return
        key, values = st.words[1], list(st.words[2:])
        settings = top.settings
        old = settings.get(key)
        uncertain = st.problem is not None
        if cmd in ("set", "select"):
            new = _Setting(key, values, st.line, uncertain)
            if old is not None:
                if old.line > self.visits[-1] and cmd == "set":
                    self.issue(
                        "warning",
                        f"`{key}` is set again: line {st.line} overrides line {old.line} "
                        f"({' '.join(old.values) or 'empty'})",
                        st.line,
                    )
                new.replaced = (*old.replaced, (tuple(old.values), old.line))
                if (
                    key == "protocol"
                    and self.paths[-1] == _SERVICE_CUSTOM
                    and old.values[:1] != values[:1]
                ):
                    for dependent in _PROTOCOL_FIELDS:
                        settings.pop(dependent, None)
            settings[key] = new
        elif cmd == "unset":
            settings.pop(key, None)
        elif cmd == "append":
            if old is None:
                settings[key] = _Setting(key, values, st.line, uncertain)
            else:
                old.values.extend(values)
                old.uncertain = old.uncertain or uncertain
        elif old is not None:  # unselect
            old.values = [v for v in old.values if v not in values]

    def _table_command(self, table: _Block, cmd: str, st: Statement) -> None:
        w, line = st.words, st.line
        edits = table.edits
        if cmd == "purge":
            edits.clear()
        elif cmd == "delete":
            if len(w) != 2 or w[1] not in edits:
                self.issue("warning", f"cannot {' '.join(w)}: no such entry", line)
            else:
                del edits[w[1]]
        elif cmd == "move":
            if len(w) != 4 or w[2] not in ("before", "after"):
                self.issue("unrecognised", f"malformed `move`: {' '.join(w)}", line)
            elif w[1] not in edits or w[3] not in edits or w[1] == w[3]:
                self.issue("warning", f"cannot {' '.join(w)}: no such entry", line)
            else:
                moved = edits.pop(w[1])
                order = list(edits.items())
                at = next(k for k, (name, _) in enumerate(order) if name == w[3])
                order.insert(at + (w[2] == "after"), (w[1], moved))
                table.edits = dict(order)
        elif cmd in ("clone", "rename"):
            if len(w) != 4 or w[2] != "to":
                self.issue("unrecognised", f"malformed `{cmd}`: {' '.join(w)}", line)
            elif w[1] not in edits:
                self.issue("warning", f"cannot {' '.join(w)}: no such entry", line)
            elif w[3] in edits or (cmd == "rename" and self._is_interface(table.path, w[3])):
                self.issue("warning", f"cannot {' '.join(w)}: {w[3]} already exists", line)
            elif table.path in _POLICY_TABLES and not _is_policy_id(w[3]):
                self.issue("warning", f"cannot {' '.join(w)}: {w[3]} is not a policy id", line)
            elif len(w[3]) > _MAX_NAME.get(table.path, len(w[3])):
                self.issue("warning", f"cannot {' '.join(w)}: the name is too long", line)
            elif cmd == "clone":
                try:
                    clone = copy.deepcopy(edits[w[1]])
                except RecursionError:
                    self.issue("warning", f"cannot {' '.join(w)}: nested too deep", line)
                    return
                clone.name = w[3]
                edits[w[3]] = clone
            else:
                table.edits = {(w[3] if k == w[1] else k): e for k, e in edits.items()}
                table.edits[w[3]].name = w[3]
                self._rename_references(table.path, w[1], w[3])

    def _is_interface(self, path: tuple[str, ...], name: str) -> bool:
        """A zone may not take an interface's name."""
        if path != ("system", "zone"):
            return False
        global_block = self.root.blocks.get(("global",))
        for blocks in (self.root.blocks, global_block.blocks if global_block else {}):
            table = blocks.get(("system", "interface"))
            if table is not None and name in table.edits:
                return True
        return False

    def _rename_references(self, path: tuple[str, ...], old: str, new: str) -> None:
        container = self.stack[-2] if len(self.stack) > 1 else self.root
        for ref_path, keys in _RENAME_REFS.get(path, ()):
            block = container.blocks.get(ref_path)
            if block is None:
                continue
            for entry in block.edits.values():
                for key in keys:
                    setting = entry.settings.get(key)
                    if setting is not None and old in setting.values:
                        setting.values = [new if v == old else v for v in setting.values]


# --- addresses and services --------------------------------------------------------------------

_EVERYTHING = AddressSet.everything()
_ALL_SERVICES = ServiceSet.everything()
_NO_ADDRESSES = AddressSet()
_NO_SERVICES = ServiceSet()
_MAX_WILDCARD_RANGES = 4096
_MAX_NESTING = 64  # group nesting followed (the device allows far less; a crafted file more)


def _ip4(text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        return None


def _prefix_len(mask: int) -> int | None:
    inverse = ~mask & 0xFFFFFFFF
    return None if inverse & (inverse + 1) else 32 - inverse.bit_length()


def _ipv4_net(values: Sequence[str]) -> tuple[int, int] | None:
    """(address, prefix length) of `a.b.c.d m.m.m.m`, `a.b.c.d/len` or `a.b.c.d/m.m.m.m`."""
    if len(values) == 1 and "/" in values[0]:
        addr_text, _, mask_text = values[0].partition("/")
    elif len(values) == 2:
        addr_text, mask_text = values
    else:
        return None
    addr = _ip4(addr_text)
    if addr is None:
        return None
    if mask_text.isdigit():
        plen = int(mask_text)
        return (addr, plen) if plen <= 32 else None
    mask = _ip4(mask_text)
    mask_len = None if mask is None else _prefix_len(mask)
    return None if mask_len is None else (addr, mask_len)


def _network(version: int, addr: int, plen: int) -> IPRange:
    bits = 32 if version == 4 else 128
    size = 1 << (bits - plen)
    first = addr & ~(size - 1)
    return IPRange(version, first, first + size - 1)


def _ipv6_iface(text: str) -> tuple[int, int] | None:
    try:
        iface = ipaddress.IPv6Interface(text)
    except ValueError:
        return None
    return int(iface.ip), iface.network.prefixlen


def _wildcard(values: Sequence[str]) -> list[IPRange] | None:
    """The ranges of an address/wildcard-mask pair (mask bits set = must match), or None."""
    if len(values) != 2:
        return None
    addr, mask = _ip4(values[0]), _ip4(values[1])
    if addr is None or mask is None:
        return None
    free = [b for b in range(32) if not mask >> b & 1]
    low_free = 0
    while low_free < len(free) and free[low_free] == low_free:
        low_free += 1  # trailing free bits make each piece one contiguous range
    scattered = free[low_free:]
    if 1 << len(scattered) > _MAX_WILDCARD_RANGES:
        return None
    base = addr & mask & 0xFFFFFFFF
    ranges = []
    for k in range(1 << len(scattered)):
        first = base
        for i, bit in enumerate(scattered):
            if k >> i & 1:
                first |= 1 << bit
        ranges.append(IPRange(4, first, first + (1 << low_free) - 1))
    return ranges


def _port_range(text: str) -> tuple[int, int] | None:
    lo_text, dash, hi_text = text.partition("-")
    if not lo_text.isdigit() or (dash and not hi_text.isdigit()):
        return None
    lo = int(lo_text)
    hi = int(hi_text) if dash else lo
    return (lo, hi) if 0 <= lo <= hi <= 65535 else None


_PROTO_NAMES = {TCP: "tcp", UDP: "udp", SCTP: "sctp", ICMP: "icmp", ICMPV6: "icmpv6"}


def describe_services(services: ServiceSet) -> str:
    """A short human form of a service set: `tcp/80,443 udp/53`, `any`, `ip/47`."""
    if services.is_everything:
        return "any"
    parts: dict[str, list[str]] = {}
    for proto, lo, hi in services.items:
        name = _PROTO_NAMES.get(proto, f"ip/{proto}")
        if proto in (TCP, UDP, SCTP):
            parts.setdefault(name, []).append(str(lo) if lo == hi else f"{lo}-{hi}")
        else:
            parts.setdefault(name, [])
    return " ".join(f"{n}/{','.join(p)}" if p else n for n, p in parts.items()) or "none"


@dataclass(frozen=True, slots=True)
class _Addr:
    """A resolved address object or list: the certain part and what is not known offline."""

    addresses: AddressSet = _NO_ADDRESSES
    unresolved: tuple[str, ...] = ()  # labels of what cannot be resolved (or is undefined)
    undefined: tuple[str, ...] = ()
    nat: tuple[str, ...] = ()  # VIP names (destination NAT)


@dataclass(frozen=True, slots=True)
class _Svc:
    """A resolved service: `full` what an allow rule matches, `sure` what a deny rule surely
    covers (they differ where a service is narrower than its ports: ICMP types, source ports,
    destination-restricted services), names not known, undefined, and restricted."""

    full: ServiceSet = _NO_SERVICES
    sure: ServiceSet = _NO_SERVICES
    unresolved: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()
    restricted: tuple[str, ...] = ()


_RANGE_KEY = attrgetter("version", "first", "last")


def _union(ranges: list[IPRange]) -> AddressSet:
    """`AddressSet.of` for the hot path: sorts on a C-level key instead of dataclass `<`."""
    if len(ranges) < 2:
        return AddressSet(tuple(ranges))
    ranges.sort(key=_RANGE_KEY)
    merged = [ranges[0]]
    for r in ranges:
        last = merged[-1]
        if last.version == r.version and r.first <= last.last + 1:
            if r.last > last.last:
                merged[-1] = IPRange(r.version, last.first, r.last)
        else:
            merged.append(r)
    return AddressSet(tuple(merged))


def _merge_addr(parts: Iterable[_Addr]) -> _Addr:
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    addresses = _union([r for p in parts for r in p.addresses.ranges])
    if not any(p.unresolved or p.undefined or p.nat for p in parts):
        return _Addr(addresses)
    return _Addr(
        addresses,
        _dedupe(u for p in parts for u in p.unresolved),
        _dedupe(u for p in parts for u in p.undefined),
        _dedupe(u for p in parts for u in p.nat),
    )


def _merge_svc(parts: Iterable[_Svc]) -> _Svc:
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    full = ServiceSet.of([i for p in parts for i in p.full.items])
    if not any(p.unresolved or p.undefined or p.restricted for p in parts):
        return _Svc(full, full)  # nothing narrower than its ports: what is allowed is sure
    return _Svc(
        full,
        ServiceSet.of([i for p in parts for i in p.sure.items]),
        _dedupe(u for p in parts for u in p.unresolved),
        _dedupe(u for p in parts for u in p.undefined),
        _dedupe(u for p in parts for u in p.restricted),
    )


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --- one VDOM ----------------------------------------------------------------------------------

# policy fields that restrict a rule beyond addresses and ports (users, applications, URL
# categories, devices): allowed for someone, so an allow rule stays allowed (tagged), and a deny
# rule is taken to deny nothing
_LAYER7_KEYS = (
    "users",
    "groups",
    "fsso-groups",
    "devices",
    "application",
    "app-category",
    "app-group",
    "url-category",
    "ztna-ec-id",
    "ztna-tags",
    "src-vendor-mac",
)
_LAYER7_SET = frozenset(_LAYER7_KEYS)
# per side: address keys (v4, v6), Internet Service key, negation keys (v4, v6)
_SIDE_KEYS = {
    side: (f"{side}addr", f"{side}addr6", isdb, f"{side}addr-negate", f"{side}addr6-negate")
    for side, isdb in (("src", "internet-service-src"), ("dst", "internet-service"))
}
_ISDB_KEYS = ("-name", "-id", "-group", "-custom", "-custom-group")
# tables of policies this parser does not model: whatever they allow is not checked
_UNMODELLED_POLICY_TABLES = {
    ("firewall", "proxy-policy"): "explicit or transparent proxy policy",
    ("firewall", "explicit-proxy-policy"): "explicit proxy policy",
    ("firewall", "security-policy"): "NGFW policy-mode security policy",
    ("firewall", "consolidated", "policy"): "consolidated policy",
    ("firewall", "policy46"): "IPv4-to-IPv6 (NAT46) policy",
    ("firewall", "policy64"): "IPv6-to-IPv4 (NAT64) policy",
}
_OBJECT_TABLES = (
    ("firewall", "address"),
    ("firewall", "address6"),
    ("firewall", "addrgrp"),
    ("firewall", "addrgrp6"),
    ("firewall", "vip"),
    ("firewall", "vipgrp"),
    _SERVICE_CUSTOM,
    ("firewall", "service", "group"),
)
_VALID_KEY = re.compile(r"[a-z0-9][A-Za-z0-9-]*\Z")
_CHECKED_TABLES = frozenset(
    {
        *_OBJECT_TABLES,
        ("firewall", "policy"),
        ("firewall", "policy6"),
        ("system", "interface"),
        ("system", "zone"),
        ("router", "static"),
        ("router", "static6"),
    }
)


def _first(settings: Mapping[str, _Setting], key: str) -> str | None:
    s = settings.get(key)
    return s.values[0] if s is not None and s.values else None


def _values(settings: Mapping[str, _Setting], key: str) -> list[str]:
    s = settings.get(key)
    return s.values if s is not None else []


def _enabled(settings: Mapping[str, _Setting], key: str) -> bool:
    return _first(settings, key) == "enable"


class _VdomReader:
    """Reads one VDOM's tables into a `Context`."""

    def __init__(
        self,
        name: str,
        blocks: Mapping[tuple[str, ...], _Block],
        interfaces: Mapping[str, tuple[_Edit, str]],
        file: str,
        issue: _IssueSink,
    ) -> None:
        self.name = name
        self.blocks = blocks
        self.all_interfaces = interfaces  # every interface of the device, with its VDOM
        self.file = file
        self.issue = issue
        t = self._table
        self.address = t("firewall", "address")
        self.address6 = t("firewall", "address6")
        self.addrgrp = t("firewall", "addrgrp")
        self.addrgrp6 = t("firewall", "addrgrp6")
        self.vip = t("firewall", "vip")
        self.vipgrp = t("firewall", "vipgrp")
        self.service = t("firewall", "service", "custom")
        self.service_group = t("firewall", "service", "group")
        self._addr_memo: dict[tuple[int, str], _Addr] = {}
        self._addr_list_memo: dict[tuple[int, tuple[str, ...]], _Addr] = {}
        self._svc_memo: dict[str, _Svc] = {}
        self._svc_list_memo: dict[tuple[str, ...], _Svc] = {}
        self._stack: list[str] = []
        self._cycles = 0
        self._reported: set[tuple[str, str]] = set()
        self.interfaces: dict[str, Interface] = {}
        self.zones: dict[str, list[str]] = {}
        # addresses bound to an interface (`associated-interface`), checked against policies
        self._bound = frozenset(
            name for name, e in self.address.items() if "associated-interface" in e.settings
        )
        self.interface_subnets: dict[str, tuple[IPRange, ...]] = {}

    def _table(self, *path: str) -> dict[str, _Edit]:
        block = self.blocks.get(path)
        return block.edits if block is not None else {}

    def _origin(self, line: int | None) -> Origin:
        return Origin(self.file, line)

    def _once(self, kind: str, key: str, message: str, line: int | None) -> None:
        if (kind, key) not in self._reported:
            self._reported.add((kind, key))
            self.issue(kind, message, line)

    # -- context ---------------------------------------------------------------------------

    def read(self) -> Context:
        self._check_keys()
        self._read_interfaces()
        routes = self._read_routes()
        self._check_objects()
        rules: list[Rule] = []
        for table in ("policy", "policy6"):
            for entry in self._table("firewall", table).values():
                rules.append(self._policy(entry, table))
        for path, what in _UNMODELLED_POLICY_TABLES.items():
            for entry in self._table(*path).values():
                self.issue(
                    "unrecognised",
                    f"{' '.join(path[1:])} {entry.name} (VDOM {self.name}) is not modelled "
                    f"({what}): the traffic it allows is not checked",
                    entry.line,
                )
        if self.blocks.get(("firewall", "central-snat-map")) is not None:
            block = self.blocks[("firewall", "central-snat-map")]
            if block.edits:
                self.issue("nat", f"central SNAT (VDOM {self.name}) is not modelled", block.line)
        self._report_unused()
        intrazone = tuple(
            name
            for name, entry in self._table("system", "zone").items()
            if _first(entry.settings, "intrazone") == "allow"
        )
        return Context(
            self.name,
            tuple(self.interfaces.values()),
            tuple(routes),
            tuple(rules),
            intrazone_allow=intrazone,
            default_action=Action.DENY,
        )

    def _check_objects(self) -> None:
        """Resolve every object once, used or not, so that bad definitions, undefined members
        and group cycles are reported wherever they are."""
        for table, version in (
            (self.address, 4),
            (self.addrgrp, 4),
            (self.vip, 4),
            (self.vipgrp, 4),
            (self.address6, 6),
            (self.addrgrp6, 6),
        ):
            for name in table:
                self._resolve(name, version)
        for name in [*self.service, *self.service_group]:
            self._service(name)

    def _check_keys(self) -> None:
        """Settings whose key cannot be a FortiOS key, in the tables this parser reads."""
        for path in _CHECKED_TABLES:
            block = self.blocks.get(path)
            if block is None:
                continue
            keys: set[str] = set()
            for entry in block.edits.values():
                keys.update(entry.settings)
            bad = {k for k in keys if not _VALID_KEY.match(k)}
            if not bad:
                continue
            for entry in block.edits.values():
                for key, setting in entry.settings.items():
                    if key in bad:
                        self.issue(
                            "unrecognised",
                            f"{' '.join(path)} {entry.name}: unknown setting `{key}`",
                            setting.line,
                        )

    # -- interfaces, zones, routes -----------------------------------------------------------

    def _read_interfaces(self) -> None:
        zone_of: dict[str, str] = {}
        for zname, entry in self._table("system", "zone").items():
            setting = entry.settings.get("interface")
            members = []
            for member in setting.values if setting else []:
                where = self.all_interfaces.get(member)
                if where is None or where[1] != self.name:
                    elsewhere = f" (it belongs to VDOM {where[1]})" if where else ""
                    self.issue(
                        "undefined",
                        f"zone {zname}: interface {member} is not an interface of VDOM "
                        f"{self.name}{elsewhere}",
                        setting.line if setting else entry.line,
                    )
                    continue
                if member in zone_of and zone_of[member] != zname:
                    self.issue(
                        "warning",
                        f"zone {zname}: interface {member} is already in zone {zone_of[member]}",
                        setting.line if setting else entry.line,
                    )
                    continue
                zone_of[member] = zname
                members.append(member)
            if zname in self.all_interfaces:
                self.issue("warning", f"zone {zname} has an interface's name", entry.line)
            if setting is None or not setting.values:
                self.issue("warning", f"zone {zname} has no interfaces", entry.line)
            self.zones[zname] = members
        for zname, members in self._sdwan_zones().items():
            for member in members:
                zone_of.setdefault(member, zname)
            self.zones.setdefault(zname, members)
        for iname, (entry, vdom) in self.all_interfaces.items():
            if vdom != self.name:
                continue
            subnets, addresses = self._interface_addresses(entry)
            self.interfaces[iname] = Interface(
                iname,
                self._origin(entry.line),
                zone=zone_of.get(iname),
                subnets=subnets,
                addresses=addresses,
                role=_first(entry.settings, "role"),
            )
            self.interface_subnets[iname] = subnets
        # IPsec tunnels are interfaces even when `system interface` does not list them
        for tname, entry in self._table("vpn", "ipsec", "phase1-interface").items():
            if tname not in self.interfaces:
                self.interfaces[tname] = Interface(
                    tname, self._origin(entry.line), zone_of.get(tname)
                )

    def _sdwan_zones(self) -> dict[str, list[str]]:
        """SD-WAN zones (7.x `system sdwan`) or the 6.x `virtual-wan-link`, with their members."""
        zones: dict[str, list[str]] = {}
        for path, implicit in (
            (("system", "sdwan"), None),
            (("system", "virtual-wan-link"), "virtual-wan-link"),
        ):
            block = self.blocks.get(path)
            if block is None or _first(block.settings, "status") == "disable":
                continue
            zone_block = block.blocks.get(("zone",))
            for zname in zone_block.edits if zone_block else ():
                zones.setdefault(zname, [])
            members = block.blocks.get(("members",))
            for entry in members.edits.values() if members else ():
                iface = _first(entry.settings, "interface")
                zname = _first(entry.settings, "zone") or implicit or "virtual-wan-link"
                if iface:
                    zones.setdefault(zname, []).append(iface)
        return zones

    def _interface_addresses(self, entry: _Edit) -> tuple[tuple[IPRange, ...], tuple[IPRange, ...]]:
        subnets: list[IPRange] = []
        addresses: list[IPRange] = []

        def add4(setting: _Setting | None, owner: str) -> None:
            if setting is None or not setting.values:
                return
            net = _ipv4_net(setting.values)
            if net is None:
                self.issue(
                    "unrecognised",
                    f"interface {entry.name}: address {' '.join(setting.values)} of {owner} "
                    "is not an IPv4 address and mask",
                    setting.line,
                )
            elif net[0] != 0:
                addresses.append(IPRange(4, net[0], net[0]))
                subnets.append(_network(4, *net))

        def add6(text: str, line: int) -> None:
            parsed = _ipv6_iface(text)
            if parsed is None:
                self.issue("unrecognised", f"interface {entry.name}: bad IPv6 {text}", line)
            elif parsed[0] != 0:
                addresses.append(IPRange(6, parsed[0], parsed[0]))
                subnets.append(_network(6, *parsed))

        add4(entry.settings.get("ip"), "the interface")
        secondary = entry.blocks.get(("secondaryip",))
        if _first(entry.settings, "secondary-IP") == "disable":
            secondary = None  # the secondary addresses are kept but not in use
        for sub in secondary.edits.values() if secondary else ():
            add4(sub.settings.get("ip"), f"secondary address {sub.name}")
        ipv6 = entry.blocks.get(("ipv6",))
        if ipv6 is not None:
            setting = ipv6.settings.get("ip6-address")
            if setting is not None and setting.values:
                add6(setting.values[0], setting.line)
            extra = ipv6.blocks.get(("ip6-extra-addr",))
            for sub in extra.edits.values() if extra else ():
                add6(sub.name, sub.line)
        return tuple(dict.fromkeys(subnets)), tuple(dict.fromkeys(addresses))

    def _read_routes(self) -> list[Route]:
        routes: list[Route] = []
        for table, version in (("static", 4), ("static6", 6)):
            for entry in self._table("router", table).values():
                s = entry.settings
                if _first(s, "status") == "disable" or _enabled(s, "blackhole"):
                    continue
                dst = self._route_destination(entry, version)
                if dst is None:
                    continue
                devices = self._route_devices(entry, table)
                for device in devices:
                    routes.extend(Route(d, device, self._origin(entry.line)) for d in dst)
        return routes

    def _route_destination(self, entry: _Edit, version: int) -> list[IPRange] | None:
        s = entry.settings
        if version == 4 and s.get("dstaddr") is not None:
            res = self._resolve_list(tuple(_values(s, "dstaddr")), 4)
            if res.unresolved:
                self.issue(
                    "warning",
                    f"static route {entry.name}: destination {', '.join(res.unresolved)} cannot "
                    "be resolved offline; route ignored",
                    s["dstaddr"].line,
                )
            return list(res.addresses.ranges)
        setting = s.get("dst")
        if setting is None:
            return [IPRange(version, 0, (1 << (32 if version == 4 else 128)) - 1)]
        if version == 4:
            net = _ipv4_net(setting.values)
            parsed = None if net is None else _network(4, *net)
        else:
            iface = _ipv6_iface(setting.values[0]) if setting.values else None
            parsed = None if iface is None else _network(6, *iface)
        if parsed is None:
            self.issue(
                "unrecognised",
                f"static route {entry.name}: bad destination {' '.join(setting.values)}",
                setting.line,
            )
            return None
        return [parsed]

    def _route_devices(self, entry: _Edit, table: str) -> list[str]:
        s = entry.settings
        zone = _first(s, "sdwan-zone")
        if zone is None and (_enabled(s, "sdwan") or _enabled(s, "virtual-wan-link")):
            zone = "virtual-wan-link"
        if zone is not None:
            members = self.zones.get(zone)
            if not members:
                self.issue(
                    "undefined",
                    f"static route {entry.name}: SD-WAN zone {zone} has no member interfaces",
                    entry.line,
                )
            return list(members or [])
        device = _first(s, "device")
        if device is None:
            self.issue("warning", f"{table} route {entry.name} has no device; ignored", entry.line)
            return []
        if device not in self.interfaces:
            self._undefined_interface(
                f"{table} route {entry.name}: device", device, s["device"].line
            )
        return [device]

    def _interface_known(self, name: str) -> bool:
        return (
            name in self.interfaces
            or name in self.zones
            or name == ANY
            or name == f"ssl.{self.name}"
        )

    def _undefined_interface(self, what: str, name: str, line: int, note: str = "") -> None:
        where = self.all_interfaces.get(name)
        elsewhere = f" (it belongs to VDOM {where[1]})" if where else ""
        self.issue(
            "undefined",
            f"{what} {name}{note} is not an interface or zone of VDOM {self.name}{elsewhere}",
            line,
        )

    # -- address objects ---------------------------------------------------------------------

    def _resolve(self, name: str, version: int) -> _Addr | None:
        """One named address object (or group, VIP), None when the name is not defined."""
        key = (version, name)
        hit = self._addr_memo.get(key)
        if hit is not None:
            return hit
        if name in self._stack:
            self._cycles += 1
            cycle = " → ".join([*self._stack[self._stack.index(name) :], name])
            entry = (self.addrgrp if version == 4 else self.addrgrp6).get(name) or self.vipgrp.get(
                name
            )
            line = entry.line if entry is not None else None
            members = ",".join(sorted(self._stack[self._stack.index(name) :]))
            self._once("warning", f"cycle:{members}", f"address group cycle: {cycle}", line)
            return _Addr()
        if len(self._stack) >= _MAX_NESTING:
            entry = (self.addrgrp if version == 4 else self.addrgrp6).get(name)
            message = f"address groups nested deeper than {_MAX_NESTING} (at {name})"
            self._once("warning", "deep-addrgrp", message, entry.line if entry else None)
            return _Addr(unresolved=(f"{name} (nested too deep)",))
        cycles = self._cycles
        self._stack.append(name)
        try:
            result = self._resolve_uncached(name, version)
        finally:
            self._stack.pop()
        if result is not None and cycles == self._cycles:
            self._addr_memo[key] = result
        return result

    def _resolve_uncached(self, name: str, version: int) -> _Addr | None:
        tables = (
            (self.address, self.addrgrp, self.vip, self.vipgrp)
            if version == 4
            else (self.address6, self.addrgrp6, {}, {})
        )
        address, group, vip, vipgrp = tables
        if name in address:
            return self._address(address[name], version)
        if name in group:
            return self._group(group[name], version, "address group")
        if name in vip:
            return self._vip(vip[name])
        if name in vipgrp:
            return self._group(vipgrp[name], version, "VIP group")
        factory = (FACTORY_ADDRESSES if version == 4 else FACTORY_ADDRESSES6).get(name)
        if factory is not None:
            net = ipaddress.ip_network(factory)
            return _Addr(AddressSet((IPRange(version, int(net[0]), int(net[-1])),)))
        other = 6 if version == 4 else 4  # a v4 name in a v6 field (or back): take it
        if name in (self.address6 if version == 4 else self.address) or name in (
            self.addrgrp6 if version == 4 else self.addrgrp
        ):
            return self._resolve(name, other)
        return None

    def _address(self, entry: _Edit, version: int) -> _Addr:
        s = entry.settings
        bound_to = _first(s, "associated-interface")
        if bound_to is not None and not self._interface_known(bound_to):
            self._undefined_interface(
                f"address {entry.name}: associated-interface",
                bound_to,
                s["associated-interface"].line,
            )
        kind = _first(s, "type") or ("ipmask" if version == 4 else "ipprefix")
        label = entry.name
        if kind in ("ipmask", "ipprefix"):
            setting = s.get("subnet" if version == 4 else "ip6")
            if setting is None or not setting.values:
                return _Addr(_full(version))
            if version == 4:
                net = _ipv4_net(setting.values)
                rng = None if net is None else _network(4, *net)
            else:
                iface = _ipv6_iface(setting.values[0])
                rng = None if iface is None else _network(6, *iface)
            if rng is None:
                return self._bad(entry, setting, "not an address and mask")
            return _Addr(AddressSet((rng,)))
        if kind == "iprange":
            zero = "0.0.0.0" if version == 4 else "::"  # the device's defaults
            lo_text, hi_text = _first(s, "start-ip") or zero, _first(s, "end-ip") or zero
            lo, hi = _ip_int(lo_text, version), _ip_int(hi_text, version)
            if lo is None or hi is None or lo > hi:
                setting = s.get("start-ip") or s.get("end-ip")
                return self._bad(entry, setting, f"not an address range ({lo_text}-{hi_text})")
            return _Addr(AddressSet((IPRange(version, lo, hi),)))
        if kind == "wildcard" and version == 4:
            setting = s.get("wildcard")
            pair = setting.values if setting is not None else ["0.0.0.0", "0.0.0.0"]  # default
            ranges = _wildcard(pair)
            if ranges is not None:
                return _Addr(_union(ranges))
            return _Addr(unresolved=(f"{label} (wildcard {' '.join(pair)})",))
        if kind == "interface-subnet":
            bound = _first(s, "interface")
            if bound is not None and self.interface_subnets.get(bound):
                return _Addr(AddressSet.of(self.interface_subnets[bound]))
            if bound is not None and not self._interface_known(bound):
                self._undefined_interface(f"address {label}: interface", bound, s["interface"].line)
            return _Addr(unresolved=(f"{label} (subnet of interface {bound})",))
        detail = {
            "fqdn": _first(s, "fqdn"),
            "geography": _first(s, "country"),
            "wildcard-fqdn": _first(s, "wildcard-fqdn"),
            "dynamic": _first(s, "sdn") or _first(s, "sub-type"),
        }.get(kind)
        return _Addr(unresolved=(f"{label} ({kind}{' ' + detail if detail else ''})",))

    def _bad(self, entry: _Edit, setting: _Setting | None, why: str) -> _Addr:
        self.issue(
            "unrecognised",
            f"address {entry.name}: {why}",
            setting.line if setting is not None else entry.line,
        )
        return _Addr(unresolved=(f"{entry.name} (unreadable)",))

    def _vip(self, entry: _Edit) -> _Addr:
        s = entry.settings
        ext = _first(s, "extip")
        ranges: list[IPRange] = []
        if ext is not None:
            lo_text, _, hi_text = ext.partition("-")
            lo, hi = _ip4(lo_text), _ip4(hi_text or lo_text)
            if lo is not None and hi is not None and lo <= hi and lo != 0:
                ranges.append(IPRange(4, lo, hi))
        if not ranges:
            return _Addr(
                unresolved=(f"{entry.name} (VIP without a usable external address)",),
                nat=(entry.name,),
            )
        return _Addr(AddressSet(tuple(ranges)), nat=(entry.name,))

    def _group(self, entry: _Edit, version: int, what: str) -> _Addr:
        s = entry.settings
        members = self._members(entry, version, "member", what)
        if not _values(s, "member"):
            self.issue("warning", f"{what} {entry.name} has no members", entry.line)
        if _enabled(s, "exclude") and _values(s, "exclude-member"):
            excluded = self._members(entry, version, "exclude-member", what)
            if excluded.unresolved:
                # the excluded part is unknown: nothing is certainly in the group
                return _Addr(
                    unresolved=(f"{entry.name} (excludes {', '.join(excluded.unresolved)})",),
                    undefined=members.undefined + excluded.undefined,
                    nat=members.nat,
                )
            return _Addr(
                members.addresses.difference(excluded.addresses),
                members.unresolved,
                members.undefined,
                members.nat,
            )
        return members

    def _members(self, entry: _Edit, version: int, key: str, what: str) -> _Addr:
        setting = entry.settings.get(key)
        if setting is None:
            return _Addr()
        parts = []
        for member in setting.values:
            res = self._resolve(member, version)
            if res is None:
                self._once(
                    "undefined",
                    f"{what}:{entry.name}:{member}",
                    f"{what} {entry.name}: {key} {member} is not defined",
                    setting.line,
                )
                res = _Addr(unresolved=(f"{member} (undefined)",), undefined=(member,))
            parts.append(res)
        if setting.uncertain:
            parts.append(_Addr(unresolved=(f"{entry.name} (line {setting.line} unreadable)",)))
        return _merge_addr(parts) if parts else _Addr()

    def _resolve_list(self, names: tuple[str, ...], version: int) -> _Addr:
        key = (version, names)
        hit = self._addr_list_memo.get(key)
        if hit is None:
            parts = []
            for name in names:
                res = self._resolve(name, version)
                parts.append(
                    res
                    if res is not None
                    else _Addr(unresolved=(f"{name} (undefined)",), undefined=(name,))
                )
            hit = self._addr_list_memo[key] = _merge_addr(parts) if parts else _Addr()
        return hit

    # -- services ----------------------------------------------------------------------------

    def _service(self, name: str) -> _Svc | None:
        hit = self._svc_memo.get(name)
        if hit is not None:
            return hit
        if name in self._stack:
            self._cycles += 1
            cycle = " → ".join([*self._stack[self._stack.index(name) :], name])
            entry = self.service_group.get(name)
            line = entry.line if entry is not None else None
            key = "svc-cycle:" + ",".join(sorted(self._stack[self._stack.index(name) :]))
            self._once("warning", key, f"service group cycle: {cycle}", line)
            return _Svc()
        if len(self._stack) >= _MAX_NESTING:
            entry = self.service_group.get(name)
            message = f"service groups nested deeper than {_MAX_NESTING} (at {name})"
            self._once("warning", "deep-svcgrp", message, entry.line if entry else None)
            return _Svc(unresolved=(f"{name} (nested too deep)",))
        cycles = self._cycles
        self._stack.append(name)
        try:
            result = self._service_uncached(name)
        finally:
            self._stack.pop()
        if result is not None and cycles == self._cycles:
            self._svc_memo[name] = result
        return result

    def _service_uncached(self, name: str) -> _Svc | None:
        if name in self.service:
            entry = self.service[name]
            return self._custom_service(
                name, {k: (v.values, v.line) for k, v in entry.settings.items()}, entry.line
            )
        if name in self.service_group:
            entry = self.service_group[name]
            setting = entry.settings.get("member")
            if setting is None or not setting.values:
                self.issue("warning", f"service group {name} has no members", entry.line)
                return _Svc()
            parts = []
            for member in setting.values:
                res = self._service(member)
                if res is None:
                    self._once(
                        "undefined",
                        f"svcgrp:{name}:{member}",
                        f"service group {name}: member {member} is not defined",
                        setting.line,
                    )
                    res = _Svc(unresolved=(f"{member} (undefined)",), undefined=(member,))
                parts.append(res)
            return _merge_svc(parts)
        factory = FACTORY_SERVICES.get(name)
        if factory is not None:
            res = self._custom_service(name, {k: ([*v.split()], None) for k, v in factory}, None)
            self._once(
                "warning",
                f"factory:{name}",
                f"service {name} is not defined in VDOM {self.name}: the FortiOS factory "
                f"default is assumed ({describe_services(res.full)})",
                None,
            )
            return res
        group = FACTORY_SERVICE_GROUPS.get(name)
        if group is not None:
            self._once(
                "warning",
                f"factory:{name}",
                f"service group {name} is not defined in VDOM {self.name}: the FortiOS factory "
                f"default is assumed ({', '.join(group)})",
                None,
            )
            return _merge_svc(self._service(m) or _Svc() for m in group)
        return None

    def _custom_service(
        self, name: str, s: Mapping[str, tuple[list[str], int | None]], line: int | None
    ) -> _Svc:
        protocol = (s.get("protocol", (["TCP/UDP/SCTP"], None))[0] or ["TCP/UDP/SCTP"])[0].upper()
        full: list[tuple[int, int, int]] = []
        sure: list[tuple[int, int, int]] = []
        if protocol in (
            "TCP/UDP/SCTP",
            "TCP",
            "UDP",
            "SCTP",
            "ALL",
            "HTTP",
            "CONNECT",
            "SOCKS-TCP",
            "SOCKS-UDP",
        ):
            fields = (
                (("udp-portrange", UDP),)
                if protocol == "SOCKS-UDP"
                else (("tcp-portrange", TCP), ("udp-portrange", UDP), ("sctp-portrange", SCTP))
            )
            for key, proto in fields:
                values, vline = s.get(key, ([], None))
                for item in values:
                    dst_text, colon, src_text = item.partition(":")
                    dst = _port_range(dst_text)
                    src = _port_range(src_text) if colon else (0, 65535)
                    if dst is None or src is None:
                        self.issue(
                            "unrecognised",
                            f"service {name}: port range {item} is not dst[-dst][:src[-src]]",
                            vline if vline is not None else line,
                        )
                        return _Svc(unresolved=(f"{name} (unreadable port range)",))
                    full.append((proto, *dst))
                    if src[0] <= 1 and src[1] == 65535:
                        sure.append((proto, *dst))
            if not full:
                self.issue("warning", f"service {name} has no port range: it matches nothing", line)
        elif protocol in ("ICMP", "ICMP6"):
            proto = ICMP if protocol == "ICMP" else ICMPV6
            full.append((proto, 0, 65535))
            if not s.get("icmptype", ([], None))[0]:
                sure.append((proto, 0, 65535))  # a single ICMP type is narrower than the model
        elif protocol == "IP":
            number_text = (s.get("protocol-number", (["0"], None))[0] or ["0"])[0]
            if not number_text.isdigit() or int(number_text) > 255:
                self.issue("unrecognised", f"service {name}: protocol-number {number_text}", line)
                return _Svc(unresolved=(f"{name} (protocol {number_text})",))
            number = int(number_text)
            items = _ALL_SERVICES.items if number == 0 else ((number, 0, 65535),)
            full.extend(items)
            sure.extend(items)
        else:
            self.issue("unrecognised", f"service {name}: protocol {protocol} is not modelled", line)
            return _Svc(unresolved=(f"{name} (protocol {protocol})",))
        if any(s.get(k, ([], None))[0] for k in ("iprange", "fqdn")):
            sure = []  # limited to some destinations: an allow takes all, a deny none of it
        full_set, sure_set = ServiceSet.of(full), ServiceSet.of(sure)
        return _Svc(full_set, sure_set, restricted=(name,) if full_set != sure_set else ())

    def _service_list(self, names: tuple[str, ...]) -> _Svc:
        hit = self._svc_list_memo.get(names)
        if hit is None:
            parts = []
            for name in names:
                res = self._service(name)
                parts.append(
                    res
                    if res is not None
                    else _Svc(unresolved=(f"{name} (undefined)",), undefined=(name,))
                )
            hit = self._svc_list_memo[names] = _merge_svc(parts) if parts else _Svc()
        return hit

    # -- policies ----------------------------------------------------------------------------

    def _policy(self, entry: _Edit, table: str) -> Rule:
        s = entry.settings
        pid = entry.name
        rid = f"{self.name}/{pid}" if table == "policy" else f"{self.name}/{table}/{pid}"
        what = f"policy {rid}"
        if not _is_policy_id(pid):
            self.issue(
                "warning",
                f"{what}: {pid} is not a FortiOS policy id (0-{MAX_POLICY_ID})",
                entry.line,
            )
        action_word = _first(s, "action") or "deny"  # the FortiOS default action is deny
        if action_word in ("accept", "ipsec"):
            action = Action.ACCEPT
        elif action_word == "deny":
            action = Action.DENY
        else:
            self.issue(
                "unrecognised",
                f"{what}: action {action_word} is not modelled; taken as accept",
                s["action"].line,
            )
            action = Action.ACCEPT
        accept = action is Action.ACCEPT
        enabled = _first(s, "status") != "disable"
        if not enabled:
            self.issue("disabled", f"{what} is disabled (status disable)", entry.line)
        assumptions: list[Assumption] = []
        from_zones, src_dead = self._policy_interfaces(entry, "srcintf", what, accept, assumptions)
        to_zones, dst_dead = self._policy_interfaces(entry, "dstintf", what, accept, assumptions)
        v4 = 4 if table == "policy" else 6  # `policy6` (FortiOS 6.x) names IPv6 objects in srcaddr
        source = self._policy_side(entry, "src", v4, what, accept, from_zones, assumptions)
        destination = self._policy_side(entry, "dst", v4, what, accept, to_zones, assumptions)
        services, service_unresolved = self._policy_services(entry, what, accept, assumptions)
        layer7 = (
            [k for k in _LAYER7_KEYS if k in s and s[k].values] if _LAYER7_SET & s.keys() else []
        )
        conditions = [f"{k}:{v}" for k in layer7 for v in s[k].values]
        narrowing = [f"{k} {' '.join(s[k].values)}" for k in layer7]
        schedule = _first(s, "schedule")
        if schedule is not None and schedule != "always":
            narrowing.append(f"schedule {schedule}")
            conditions.append(f"schedule:{schedule}")
        if src_dead or dst_dead:
            narrowing.append("no usable srcintf" if src_dead else "no usable dstintf")
        if narrowing:
            if accept:
                assumptions.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
            else:  # denies only some users / some of the time: taken to deny nothing
                source = Match(_NO_ADDRESSES, tuple(narrowing))
        if source.unresolved or destination.unresolved or service_unresolved:
            assumptions.append(
                Assumption.UNRESOLVED_ALLOW_WIDENED
                if accept
                else Assumption.UNRESOLVED_DENY_IGNORED
            )
        if enabled and accept and _enabled(s, "nat"):
            self.issue(
                "nat",
                f"{what} translates source addresses (nat enable): addresses beyond the "
                "firewall are not modelled",
                s["nat"].line,
            )
        return Rule(
            id=rid,
            action=action,
            source=source,
            destination=destination,
            services=services,
            origin=self._origin(entry.line),
            from_zones=from_zones,
            to_zones=to_zones,
            enabled=enabled,
            name=_first(s, "name") or _first(s, "comments"),
            assumptions=_dedupe_assumptions(assumptions),
            service_unresolved=service_unresolved,
            description=_first(s, "comments"),
            conditions=tuple(conditions),
        )

    def _policy_interfaces(
        self, entry: _Edit, key: str, what: str, accept: bool, assumptions: list[Assumption]
    ) -> tuple[tuple[str, ...], bool]:
        """The interface/zone names of srcintf or dstintf, and whether a deny rule is left
        with none it can certainly apply to (all undefined or missing)."""
        setting = entry.settings.get(key)
        if setting is None or not setting.values:
            self.issue("warning", f"{what} has no {key}", entry.line)
            return (), not accept
        for old_values, old_line in setting.replaced:
            for name in old_values:
                if not self._interface_known(name):
                    note = f" (replaced at line {setting.line})"
                    self._undefined_interface(f"{what}: {key}", name, old_line, note)
        names: list[str] = []
        for name in setting.values:
            if self._interface_known(name):
                names.append(name)
                continue
            self._undefined_interface(f"{what}: {key}", name, setting.line)
            assumptions.append(Assumption.UNDEFINED_OBJECT)
            if accept:  # the compiler takes an unknown name as reaching everything
                names.append(name)
        if ANY in names and len(names) > 1:
            self.issue("warning", f"{what}: {key} mixes `any` with other names", setting.line)
            names = [ANY] if accept else [n for n in names if n != ANY]
        if setting.uncertain and not accept:
            return tuple(names), True
        return tuple(dict.fromkeys(names)), not names

    def _policy_side(
        self,
        entry: _Edit,
        side: str,
        first_version: int,
        what: str,
        accept: bool,
        interfaces: tuple[str, ...],
        assumptions: list[Assumption],
    ) -> Match:
        s = entry.settings
        key4, key6, isdb_key, neg4_key, neg6_key = _SIDE_KEYS[side]
        negate4 = neg4_key in s and _enabled(s, neg4_key)
        if isdb_key in s and _enabled(s, isdb_key):
            labels = [
                f"{isdb_key}{k} {' '.join(_values(s, isdb_key + k))}"
                for k in _ISDB_KEYS
                if _values(s, isdb_key + k)
            ]
            negate = negate4 or _enabled(s, f"{isdb_key}-negate")
            return Match(_NO_ADDRESSES, tuple(labels) or (isdb_key,), negate=negate)
        set4, set6 = s.get(key4), s.get(key6)
        names4 = tuple(set4.values) if set4 is not None else ()
        names6 = tuple(set6.values) if set6 is not None else ()
        if not names4 and not names6:
            self.issue("warning", f"{what} has no {key4}", entry.line)
            return Match(_NO_ADDRESSES, (f"no {key4}",))
        parts = []
        for setting, names, version in ((set4, names4, first_version), (set6, names6, 6)):
            if setting is None or not names:
                continue
            res = self._resolve_list(names, version)
            for name in res.undefined:
                if name in names:
                    self.issue(
                        "undefined",
                        f"{what}: {setting.key} {name} is not defined in VDOM {self.name}",
                        setting.line,
                    )
            if res.undefined:
                assumptions.append(Assumption.UNDEFINED_OBJECT)
            if setting.uncertain:
                res = _merge_addr([res, _Addr(unresolved=(f"line {setting.line} unreadable",))])
            if res.nat:
                assumptions.append(Assumption.NAT_NOT_MODELLED)
                if _first(s, "status") != "disable":
                    self._report_nat(what, res.nat, setting.line)
            if version == 4:
                self._check_associated(what, setting, names, interfaces)
            parts.append(res)
        negate6 = neg6_key in s and _enabled(s, neg6_key)
        res = _merge_addr(parts)
        if names4 and names6 and negate4 != negate6:
            self.issue(
                "warning",
                f"{what}: {key4}-negate and {key6}-negate differ; the side is not modelled exactly",
                entry.line,
            )
            return Match(
                res.addresses if accept else _NO_ADDRESSES,
                (*res.unresolved, f"{side}addr negation"),
            )
        negate = negate4 if names4 else negate6
        return Match(
            res.addresses,
            res.unresolved,
            negate=negate,
            any=not res.unresolved and res.addresses == _EVERYTHING,
        )

    def _report_nat(self, what: str, vips: Iterable[str], line: int) -> None:
        for name in vips:
            entry = self.vip.get(name)
            s = entry.settings if entry is not None else {}
            ext, mapped = _first(s, "extip") or "?", " ".join(_values(s, "mappedip")) or "?"
            self.issue(
                "nat",
                f"{what}: destination {name} is a virtual IP ({ext} → {mapped}); matched on its "
                "external address, the translation is not modelled",
                line,
            )

    def _check_associated(
        self, what: str, setting: _Setting, names: Sequence[str], interfaces: tuple[str, ...]
    ) -> None:
        """An address bound to an interface used on a policy of other interfaces (the device
        refuses this; a configuration edited offline may still hold it)."""
        if not interfaces or ANY in interfaces or self._bound.isdisjoint(names):
            return
        allowed = set(interfaces)
        for name in interfaces:
            allowed.update(self.zones.get(name, ()))
        for name in names:
            entry = self.address.get(name)
            bound = _first(entry.settings, "associated-interface") if entry is not None else None
            if bound is None or bound == ANY or bound in allowed:
                continue
            if bound in self.zones and allowed & set(self.zones[bound]):
                continue
            self.issue(
                "warning",
                f"{what}: {setting.key} {name} is associated with interface {bound}, not with "
                f"{', '.join(interfaces)}",
                setting.line,
            )

    def _policy_services(
        self, entry: _Edit, what: str, accept: bool, assumptions: list[Assumption]
    ) -> tuple[ServiceSet, tuple[str, ...]]:
        s = entry.settings
        setting = s.get("service")
        if setting is None or not setting.values:
            self.issue("warning", f"{what} has no service", entry.line)
            return _NO_SERVICES, ("no service",)
        names = tuple(setting.values)
        res = self._service_list(names)
        for name in res.undefined:
            if name in names:
                self.issue(
                    "undefined",
                    f"{what}: service {name} is not defined in VDOM {self.name}",
                    setting.line,
                )
        if res.undefined:
            assumptions.append(Assumption.UNDEFINED_OBJECT)
        unresolved = res.unresolved
        if setting.uncertain:
            unresolved = (*unresolved, f"line {setting.line} unreadable")
        if not _enabled(s, "service-negate"):
            if accept:
                return res.full, unresolved
            return res.sure, (*unresolved, *res.restricted)
        # negation: the complement of an over-approximation is an under-approximation
        if accept:
            if unresolved or res.restricted:
                assumptions.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
            return _ALL_SERVICES.difference(res.sure), ()
        if unresolved:
            return _NO_SERVICES, unresolved
        return _ALL_SERVICES.difference(res.full), ()

    # -- unused objects ----------------------------------------------------------------------

    def _report_unused(self) -> None:
        values: list[str] = []
        stack = list(self.blocks.values())
        while stack:
            block = stack.pop()
            for setting in block.settings.values():
                values.extend(setting.values)
            for entry in block.edits.values():
                for setting in entry.settings.values():
                    values.extend(setting.values)
                stack.extend(entry.blocks.values())
            stack.extend(block.blocks.values())
        used = Counter(values)
        for path in _OBJECT_TABLES:
            table = self.blocks.get(path)
            if table is None:
                continue
            for name, entry in table.edits.items():
                if name in FACTORY_OBJECT_NAMES:
                    continue
                own = sum(s.values.count(name) for s in entry.settings.values())
                if used.get(name, 0) - own <= 0:
                    self.issue(
                        "unused",
                        f"{' '.join(path[1:])} {name} (VDOM {self.name}) is not used",
                        entry.line,
                    )


def _dedupe_assumptions(items: Iterable[Assumption]) -> tuple[Assumption, ...]:
    return tuple(dict.fromkeys(items))


def _full(version: int) -> AddressSet:
    return AddressSet((IPRange(version, 0, (1 << (32 if version == 4 else 128)) - 1),))


def _ip_int(text: str, version: int) -> int | None:
    if version == 4:
        return _ip4(text)
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


# --- entry point -------------------------------------------------------------------------------


def _decode(data: str | bytes, name: str, issues: list[Issue]) -> str:
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            issues.append(
                Issue(
                    "warning",
                    "not valid UTF-8 (FortiOS writes UTF-8): undecodable bytes replaced",
                    Origin(name, line),
                )
            )
            text = data.decode("utf-8-sig", errors="replace")
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError(
            name,
            "binary data, not a FortiOS configuration text (an encrypted backup? export it "
            "unencrypted, or use `show full-configuration`)",
            text.count("\n", 0, nul) + 1,
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_fortios(path: Path, data: str | bytes, *, display_name: str) -> ParsedConfig:
    """Parse a FortiOS configuration (`show full-configuration` or a backup `.conf`).

    `path` is the file the data came from (never read here); `display_name` is how findings
    name it. Raises `ConfigError` only when the text is not a FortiOS configuration at all;
    everything else degrades line by line into `ParsedConfig.issues`.
    """
    # millions of small acyclic objects: the cyclic collector's passes over them would cost a
    # third of the time and find nothing
    with paused():
        return _parse(path, data, display_name)


def _parse(path: Path, data: str | bytes, display_name: str) -> ParsedConfig:
    name = display_name or str(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    sha256 = hashlib.sha256(raw).hexdigest()
    issues: list[Issue] = []
    text = _decode(data, name, issues)

    def issue(kind: str, message: str, line: int | None) -> None:
        issues.append(Issue(kind, message, Origin(name, line)))

    builder = _TreeBuilder(issue)
    builder.build(text)
    root = builder.finish()
    if not root.blocks:
        raise ConfigError(
            name,
            "no FortiOS configuration found (expected `config …` / `edit` / `set` blocks as "
            "`show full-configuration` or a backup writes them)",
            next((k + 1 for k, line in enumerate(text.split("\n")) if line.strip()), None),
        )

    vdom_block = root.blocks.get(_VDOM_BLOCK)
    if vdom_block is not None and vdom_block.edits:
        global_block = root.blocks.get(("global",))
        global_blocks = [global_block.blocks if global_block else {}, root.blocks]
        vdoms = {vname: entry.blocks for vname, entry in vdom_block.edits.items()}
    else:
        global_blocks = [root.blocks]
        vdoms = {ROOT_VDOM: root.blocks}
    interfaces: dict[str, tuple[_Edit, str]] = {}
    for blocks in [*global_blocks, *vdoms.values()]:
        table = blocks.get(("system", "interface"))
        for iname, entry in table.edits.items() if table is not None else ():
            vdom = _first(entry.settings, "vdom") or ROOT_VDOM
            interfaces.setdefault(iname, (entry, vdom))
    for iname, (entry, vdom) in interfaces.items():
        if vdom not in vdoms:
            issue(
                "undefined",
                f"interface {iname} is assigned to VDOM {vdom}, which this configuration does "
                "not define",
                entry.settings["vdom"].line if "vdom" in entry.settings else entry.line,
            )
    contexts = tuple(
        _VdomReader(vname, blocks, interfaces, name, issue).read()
        for vname, blocks in vdoms.items()
    )
    issues.sort(key=lambda i: i.origin.line or 0)
    return ParsedConfig(name, FORMAT, sha256, contexts, tuple(issues))
