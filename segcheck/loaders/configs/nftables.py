"""nftables: `nft -j list ruleset` (libnftables-json(5)) → one `ParsedConfig` context.

What is imported, and why:

- Transit traffic is what segcheck judges, and on Linux only the `forward` hook sees it: base
  chains hooked at `input`/`output` filter traffic to and from the firewall itself, so they are
  listed as warnings and not imported; `prerouting`/`postrouting` filter chains and `bridge`,
  `netdev`, `arp` tables are not imported either (a drop there only narrows transit traffic, so
  leaving it out never hides a path); NAT chains are reported as `nat` issues (not modelled).
- The forward base chains of `ip`, `ip6` and `inet` tables (dormant tables skipped) make one
  context, `ruleset`, in priority order; a policy accept is also written out as a last accept
  rule (`… <chain>/policy accept`). When there are several, nftables runs each of them and a
  packet must be accepted by all; the import reads them as one list, which can only widen what
  passes (an accept in an earlier chain is taken as final), and says so. The context's default
  action is `drop` when any of them has policy drop (a packet that falls through every chain met
  every policy). With no forward chain at all nothing is filtered: default accept (and one
  accept-all rule, `ruleset/no forward chain`), with a warning.
- Jumps and gotos to regular chains are inlined in evaluation order (depth capped at 16, the
  kernel's jump stack): a jumped-to chain's rules carry the jump's condition; `return` and the
  fall-through after `goto` make the rest of that chain skip the returned packets, folded exactly
  into the later rules where one dimension differs, otherwise later accepts are kept (widened)
  and later drops are left out (never hide a path). In the base chain, `return` and a goto's
  fall-through mean the chain policy.
- Stateful rules: a rule whose `ct state` excludes `new` never sees the first packet of a flow
  (`ct state established,related accept` is the return path, `ct state invalid drop` drops junk)
  and is not a rule here; `ct state new` is no condition at all.
- A rule without a verdict (a trailing `counter comment "default-drop"`) is not a rule.
- `iifname`/`oifname` become the rule's from/to zones. A ruleset does not say which addresses
  are behind an interface, so a drop limited to interfaces is ignored (a warning): read as a drop
  of everything it would hide every later path.
- Anything in a rule that is not understood (marks, raw payloads, concatenations, negated
  interface names, dynamic or undefined sets, …) makes the rule an `unrecognised` issue: an
  accept is kept with that condition dropped (widened, with an assumption), a drop is ignored.
  Conditions the model only approximates by widening (ICMP type, TCP flags, rate limits) are
  fine in an accept and make a drop be ignored (a `warning`).

Rule ids are `<family> <table> <chain>/<comment>` or `…/handle N`; several kernel rules may share
one id (lab/nftgen.py writes one rule per address family and protocol of a permit, all with the
permit id as comment). Every rule is located by `nftables[i].rule` and, when the JSON is
pretty-printed, by the line of its `"rule"` key.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...gcpause import paused
from ...model import IPRange
from .model import (
    _MAX,
    PORTED,
    WHOLE,
    Action,
    AddressSet,
    Assumption,
    Context,
    Issue,
    Match,
    Origin,
    ParsedConfig,
    Rule,
    ServiceSet,
)

FORMAT = "nftables"
CONTEXT = "ruleset"
MAX_DEPTH = 16  # the kernel's jump stack (NFT_JUMP_STACK_SIZE)
TRANSIT_FAMILIES = frozenset({"ip", "ip6", "inet"})
NAT_STATEMENTS = frozenset({"snat", "dnat", "masquerade", "redirect", "tproxy"})
# Statements that change no verdict: they count, log, mark or record, and let the rule go on.
HARMLESS = frozenset(
    {"counter", "log", "mangle", "set", "map", "notrack", "flow", "dup", "ct helper", "ct timeout",
     "ct expectation", "xt_comment", "secmark", "synproxy", "meter", "last", "objref"}
)  # fmt: skip
# Conditions the model can only widen (it does not judge ICMP types, TCP flags or rates).
APPROXIMATE = frozenset({"limit", "quota", "ct count"})
VERDICTS = frozenset({"accept", "drop", "reject", "jump", "goto", "return", "continue", "queue"})
PRIORITIES = {
    "raw": -300,
    "mangle": -150,
    "dstnat": -100,
    "filter": 0,
    "security": 50,
    "srcnat": 100,
}
PROTOCOLS = {
    "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "pup": 12, "udp": 17, "idp": 22, "tp": 29,
    "dccp": 33, "ipv6": 41, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58,
    "icmpv6": 58, "mtp": 92, "beetph": 94, "encap": 98, "pim": 103, "comp": 108, "vrrp": 112,
    "l2tp": 115, "sctp": 132, "mh": 135, "udplite": 136, "mpls-in-ip": 137, "ethernet": 143,
}  # fmt: skip
PORT_PROTOCOLS = {"tcp": (6,), "udp": (17,), "sctp": (132,), "udplite": (136,), "dccp": (33,),
                  "th": tuple(sorted(PORTED))}  # fmt: skip
CT_STATES = frozenset({"new", "established", "related", "invalid", "untracked"})
V4 = IPRange(4, 0, _MAX[4])
V6 = IPRange(6, 0, _MAX[6])
ALL_SERVICES = ServiceSet.everything()  # built once: it has 256 protocols
ANY_MATCH = Match(AddressSet.everything(), any=True)
BOTH = frozenset({4, 6})


# --- conditions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Side:
    """One address side: what it must be in (`pos`, None for unconstrained), minus `neg`."""

    pos: AddressSet | None = None
    neg: AddressSet = AddressSet()

    def both(self, other: _Side) -> _Side:
        if other.pos is None and not other.neg:
            return self
        if self.pos is None:
            pos = other.pos
        elif other.pos is None:
            pos = self.pos
        else:
            pos = self.pos.intersection(other.pos)
        return _Side(pos, self.neg.union(other.neg) if other.neg else self.neg)

    def explicit(self, family: frozenset[int]) -> AddressSet:
        if self.pos is None:
            base = _universe(family)
        elif family == BOTH or all(r.version in family for r in self.pos.ranges):
            base = self.pos
        else:
            base = self.pos.intersection(_universe(family))
        return base.difference(self.neg) if self.neg else base

    @property
    def free(self) -> bool:
        return self.pos is None and not self.neg


@dataclass(frozen=True, slots=True)
class _Unknown:
    """A condition the import cannot evaluate: what it is, and which issue kind it makes."""

    text: str
    kind: str = "unrecognised"  # or "undefined" (a set or chain the ruleset does not define)
    side: str | None = None  # "source"/"destination" when it constrains addresses


@dataclass(frozen=True, slots=True)
class _Cond:
    """A conjunction of conditions, one per dimension (None: unconstrained)."""

    family: frozenset[int] = BOTH
    src: _Side = _Side()
    dst: _Side = _Side()
    svc: ServiceSet | None = None
    iif: frozenset[str] | None = None
    oif: frozenset[str] | None = None
    unknown: tuple[_Unknown, ...] = ()
    approx: tuple[str, ...] = ()
    never: bool = False  # never matches the first packet of a flow (ct state without `new`)

    def both(self, other: _Cond) -> _Cond:
        if other is TRUE:
            return self
        if self is TRUE:
            return other
        return _Cond(
            self.family & other.family,
            self.src.both(other.src),
            self.dst.both(other.dst),
            _svc_and(self.svc, other.svc),
            _names_and(self.iif, other.iif),
            _names_and(self.oif, other.oif),
            self.unknown + other.unknown,
            self.approx + other.approx,
            self.never or other.never,
        )

    def empty(self) -> bool:
        """True when no packet can match (the rule is dead)."""
        return (
            self.never
            or not self.family
            or (self.svc is not None and not self.svc)
            or (self.iif is not None and not self.iif)
            or (self.oif is not None and not self.oif)
            or (not self.src.free and not self.src.explicit(self.family))
            or (not self.dst.free and not self.dst.explicit(self.family))
        )


TRUE = _Cond()
NEVER = _Cond(never=True)


_FAMILIES = {"ip": frozenset({4}), "ip6": frozenset({6})}


def _table_family(family: str) -> frozenset[int]:
    return _FAMILIES.get(family, BOTH)


_UNIVERSES = {
    fam: AddressSet(tuple(r for r in (V4, V6) if r.version in fam))
    for fam in (BOTH, frozenset({4}), frozenset({6}), frozenset())
}


def _universe(family: frozenset[int]) -> AddressSet:
    return _UNIVERSES[family]


def _svc_and(a: ServiceSet | None, b: ServiceSet | None) -> ServiceSet | None:
    if a is None:
        return b
    if b is None:
        return a
    return a.intersection(b)


def _names_and(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


# --- values ------------------------------------------------------------------------------------


class _Unsupported(Exception):
    """A value or expression the import does not understand (becomes an `_Unknown`)."""


class _Undefined(_Unsupported):
    """A reference to a named set or map the ruleset does not define."""


class _Dynamic(_Unsupported):
    """A named set whose content changes at run time (dynamic/timeout): unknowable offline."""


def _ip(text: Any) -> tuple[int, int]:
    if not isinstance(text, str):
        raise _Unsupported(f"address {text!r}")
    found = _IP_CACHE.get(text)
    if found is not None:
        return found
    for fam, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            found = version, int.from_bytes(socket.inet_pton(fam, text), "big")
        except (OSError, ValueError):  # ValueError: an embedded NUL
            continue
        if len(_IP_CACHE) < 1 << 16:  # rulesets repeat their subnets and hosts
            _IP_CACHE[text] = found
        return found
    raise _Unsupported(f"address {text!r}")


_IP_CACHE: dict[str, tuple[int, int]] = {}


def _address_ranges(value: Any) -> list[IPRange]:
    """The ranges of one address element: "a", {"prefix": …}, {"range": [a, b]}."""
    if isinstance(value, str):
        version, n = _ip(value)
        return [IPRange(version, n, n)]
    if not isinstance(value, dict):
        raise _Unsupported(f"address {_short(value)}")
    if "elem" in value and isinstance(value["elem"], dict):
        return _address_ranges(value["elem"].get("val"))  # an element with a comment/timeout
    body = value.get("prefix")
    if isinstance(body, dict):
        version, n = _ip(body.get("addr"))
        length = body.get("len")
        bits = 32 if version == 4 else 128
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= bits:
            raise _Unsupported(f"prefix length {length!r}")
        size = 1 << (bits - length)
        first = n - n % size
        return [IPRange(version, first, first + size - 1)]
    body = value.get("range")
    if isinstance(body, list) and len(body) == 2:
        (v1, a), (v2, b) = _ip(body[0]), _ip(body[1])
        if v1 != v2 or a > b:
            raise _Unsupported(f"address range {body[0]!r}-{body[1]!r}")
        return [IPRange(v1, a, b)]
    raise _Unsupported(f"address {_short(value)}")


def _port(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return value
    raise _Unsupported(f"port {_short(value)}")


def _port_ranges(value: Any) -> Iterator[tuple[int, int]]:
    if isinstance(value, dict) and "elem" in value and isinstance(value["elem"], dict):
        value = value["elem"].get("val")
    if (
        isinstance(value, dict)
        and isinstance(value.get("range"), list)
        and len(value["range"]) == 2
    ):
        lo, hi = _port(value["range"][0]), _port(value["range"][1])
        if lo > hi:
            raise _Unsupported(f"port range {lo}-{hi}")
        yield lo, hi
    else:
        p = _port(value)
        yield p, p


def _protocol(value: Any) -> Iterator[tuple[int, int]]:
    """Protocol numbers of one element, as (first, last) ranges."""
    if (
        isinstance(value, dict)
        and isinstance(value.get("range"), list)
        and len(value["range"]) == 2
    ):
        lo, hi = (next(_protocol(v))[0] for v in value["range"])
        yield lo, hi
        return
    if isinstance(value, str):
        value = PROTOCOLS.get(value, int(value) if value.isdigit() else value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
        yield value, value
        return
    raise _Unsupported(f"protocol {_short(value)}")


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _left_text(left: Any) -> str:
    """nft-like words for a match's left side, for messages ("meta mark", "tcp sport")."""
    if isinstance(left, dict) and len(left) == 1:
        ((kind, body),) = left.items()
        if kind == "payload" and isinstance(body, dict):
            if "protocol" in body:
                return f"{body.get('protocol')} {body.get('field')}"
            return f"@{body.get('base')},{body.get('offset')},{body.get('len')}"
        if kind in ("meta", "ct", "rt", "fib", "socket", "osf") and isinstance(body, dict):
            return f"{kind} {body.get('key', '').strip()}".strip()
        if kind == "concat" and isinstance(body, list):
            return " . ".join(_left_text(x) for x in body)
        return kind
    return _short(left, 40)


# --- the ruleset as read -----------------------------------------------------------------------


@dataclass(slots=True)
class _RuleSrc:
    index: int
    family: str
    table: str
    chain: str
    handle: Any
    comment: str | None
    expr: Any
    origin: Origin

    @property
    def id(self) -> str:
        where = self.comment if self.comment else f"handle {self.handle}"
        return f"{self.family} {self.table} {self.chain}/{where}"


@dataclass(slots=True)
class _Chain:
    family: str
    table: str
    name: str
    origin: Origin
    hook: str | None = None
    type: str | None = None
    prio: int = 0
    policy: str = "accept"
    rules: list[_RuleSrc] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.family} {self.table} {self.name}"


@dataclass(frozen=True, slots=True)
class _Named:
    """A named set or map: its elements, or why they cannot be known."""

    elements: tuple[Any, ...]
    dynamic: bool


@dataclass(frozen=True, slots=True)
class _Flat:
    """One rule of the flattened evaluation order: condition → accept/drop."""

    cond: _Cond
    accept: bool
    src: _RuleSrc
    excluded: tuple[_Cond, ...] = ()  # packets a `return` earlier in a jumped chain sent back


# --- reading the document -----------------------------------------------------------------------


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _elements(text: str, path: str) -> tuple[list[Any], list[int] | None]:
    """The `nftables` array, and each element's offset in `text` when that is cheap to know."""
    head = re.match(r'\s*\{\s*"nftables"\s*:\s*\[', text)
    if head is not None:
        decoder = json.JSONDecoder()
        items: list[Any] = []
        offsets: list[int] = []
        try:
            pos = _skip_ws(text, head.end())
            if text.startswith("]", pos):
                pos += 1
            else:
                while True:
                    offsets.append(pos)
                    item, pos = decoder.raw_decode(text, pos)
                    items.append(item)
                    pos = _skip_ws(text, pos)
                    if text.startswith(",", pos):
                        pos = _skip_ws(text, pos + 1)
                        continue
                    if text.startswith("]", pos):
                        pos += 1
                        break
                    raise ValueError
            pos = _skip_ws(text, pos)
            if text.startswith("}", pos) and _skip_ws(text, pos + 1) == len(text):
                return items, offsets
        except ValueError:
            pass
    # Anything unusual (other keys, a syntax error): let the full parser say what and where.
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if re.match(r"\s*(#[^\n]*\n\s*)*(table|flush|add|define|include)\b", text):
            raise ConfigError(
                path, "nft's text format, not JSON: export with `nft -j list ruleset`", 1
            ) from None
        raise ConfigError(path, f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nftables"), list):
        raise ConfigError(
            path, 'not `nft -j list ruleset` output: no top-level {"nftables": [...]}', 1
        )
    return doc["nftables"], None


def _decode(path: str, text_or_bytes: str | bytes) -> tuple[str, bytes]:
    if isinstance(text_or_bytes, str):
        return text_or_bytes, text_or_bytes.encode("utf-8")
    data = text_or_bytes
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(path, f"not UTF-8 (byte offset {exc.start})", line) from None
    return text, data


def parse_nftables(path: Path, text_or_bytes: str | bytes, *, display_name: str) -> ParsedConfig:
    """Import `nft -j list ruleset` output: the forward chains as one ordered rule list."""
    del path  # the display name is how the file is named everywhere
    text, data = _decode(display_name, text_or_bytes)
    # many small acyclic objects: the cyclic collector's passes would cost about 40 % and
    # find nothing
    try:
        with paused():
            items, offsets = _elements(text, display_name)
            return _Importer(
                display_name, text, items, offsets, hashlib.sha256(data).hexdigest()
            ).run()
    except RecursionError:
        raise ConfigError(display_name, "JSON nested too deeply") from None


class _Importer:
    def __init__(
        self, file: str, text: str, items: list[Any], offsets: list[int] | None, sha256: str
    ) -> None:
        self.file = file
        self.items = items
        self.sha256 = sha256
        self.issues: list[Issue] = []
        self.chains: dict[tuple[str, str, str], _Chain] = {}
        self.named: dict[tuple[str, str, str], _Named] = {}
        self.dormant: set[tuple[str, str]] = set()
        self.reported: set[tuple[int, str]] = set()  # (rule, what) already reported
        self.lines: list[int] | None = None
        self.offsets = offsets
        self.text = text
        if offsets is not None and "\n" in text.strip():
            self.lines = [m.start() for m in re.finditer("\n", text)]

    # -- locating ----------------------------------------------------------------------------

    def origin(self, index: int, kind: str) -> Origin:
        line = None
        if self.lines is not None and self.offsets is not None:
            # the line of the element's key ("rule": {…}), not of its opening brace
            pos = self.text.find('"', self.offsets[index])
            line = bisect_right(self.lines, pos if pos >= 0 else self.offsets[index]) + 1
        return Origin(self.file, line, f"nftables[{index}].{kind}")

    def issue(self, kind: str, message: str, origin: Origin) -> None:
        self.issues.append(Issue(kind, message, origin))

    # -- pass 1: objects -----------------------------------------------------------------------

    def collect(self) -> None:
        rules: list[_RuleSrc] = []
        for index, item in enumerate(self.items):
            if not isinstance(item, dict) or len(item) != 1:
                self.issue(
                    "unrecognised",
                    f"not an nftables object: {_short(item)}",
                    Origin(self.file, None, f"nftables[{index}]"),
                )
                continue
            ((kind, body),) = item.items()
            if not isinstance(body, dict):
                self.issue(
                    "unrecognised",
                    f"{kind}: not an object: {_short(body)}",
                    self.origin(index, kind),
                )
                continue
            family, table = str(body.get("family", "")), str(body.get("table", ""))
            if kind == "table":
                flags = body.get("flags") or []
                if "dormant" in (flags if isinstance(flags, list) else [flags]):
                    self.dormant.add((family, str(body.get("name", ""))))
                    self.issue(
                        "warning",
                        f"table {family} {body.get('name')} is dormant: not imported",
                        self.origin(index, kind),
                    )
            elif kind == "chain":
                self.chain(index, body)
            elif kind in ("set", "map"):
                self.named[(family, table, str(body.get("name", "")))] = self.named_set(body)
            elif kind == "rule":
                rules.append(
                    _RuleSrc(
                        index,
                        family,
                        table,
                        str(body.get("chain", "")),
                        body.get("handle"),
                        str(body["comment"]).strip() if body.get("comment") else None,
                        body.get("expr"),
                        self.origin(index, kind),
                    )
                )
        for rule in rules:
            chain = self.chains.get((rule.family, rule.table, rule.chain))
            if chain is None:
                self.issue(
                    "undefined",
                    f"{rule.id}: rule of a chain the ruleset does not define",
                    rule.origin,
                )
                continue
            chain.rules.append(rule)

    def chain(self, index: int, body: Mapping[str, Any]) -> None:
        family, table, name = (str(body.get(k, "")) for k in ("family", "table", "name"))
        prio = body.get("prio", 0)
        if isinstance(prio, str):
            prio = PRIORITIES.get(prio, 0)
        elif not isinstance(prio, int) or isinstance(prio, bool):
            prio = 0
        self.chains[(family, table, name)] = _Chain(
            family,
            table,
            name,
            self.origin(index, "chain"),
            str(body["hook"]) if body.get("hook") else None,
            str(body["type"]) if body.get("type") else None,
            prio,
            str(body.get("policy", "accept")),
        )

    @staticmethod
    def named_set(body: Mapping[str, Any]) -> _Named:
        flags = body.get("flags") or []
        flags = flags if isinstance(flags, list) else [flags]
        dynamic = "dynamic" in flags or "timeout" in flags or "timeout" in body
        elem = body.get("elem") or []
        return _Named(tuple(elem) if isinstance(elem, list) else (elem,), dynamic)

    # -- pass 2: which chains carry transit traffic ---------------------------------------------

    def base_chains(self) -> list[_Chain]:
        forward: list[_Chain] = []
        for chain in self.chains.values():
            if chain.hook is None or (chain.family, chain.table) in self.dormant:
                continue
            where = f"chain {chain.label} (hook {chain.hook})"
            if chain.type == "nat":
                self.issue("nat", f"{where}: NAT is not modelled", chain.origin)
            elif chain.family not in TRANSIT_FAMILIES:
                self.issue("warning", f"{where}: {chain.family} family not imported", chain.origin)
            elif chain.hook == "forward":
                forward.append(chain)
            elif chain.hook in ("input", "output"):
                self.issue(
                    "warning",
                    f"{where}: filters traffic to or from the firewall itself, not transit "
                    "traffic; not imported",
                    chain.origin,
                )
            else:
                self.issue(
                    "warning",
                    f"{where}: not imported (a drop there only narrows transit traffic)",
                    chain.origin,
                )
        forward.sort(key=lambda c: c.prio)  # stable: equal priorities keep document order
        return forward

    # -- pass 3: rules --------------------------------------------------------------------------

    def run(self) -> ParsedConfig:
        self.collect()
        forward = self.base_chains()
        flats: list[_Flat] = []
        for chain in forward:
            flats.extend(self.flatten(chain, chain, 0, ()))
        if not forward:
            self.issue(
                "warning",
                "no forward base chain: this ruleset does not filter transit traffic",
                Origin(self.file, None, "nftables"),
            )
        elif len(forward) > 1:
            names = ", ".join(c.label for c in forward)
            self.issue(
                "warning",
                f"{len(forward)} forward base chains ({names}): read as one list in priority "
                "order, an accept in an earlier chain taken as final (can only widen)",
                forward[1].origin,
            )
        families = {c.family for c in forward}
        if forward and "inet" not in families and families != {"ip", "ip6"}:
            missing = "IPv6" if "ip" in families else "IPv4"
            self.issue(
                "warning",
                f"no forward chain sees {missing}: {missing} transit traffic is not filtered by "
                "this ruleset (the import judges only what its chains see)",
                forward[0].origin,
            )
        rules = [r for f in flats if (r := self.rule(f)) is not None]
        default = Action.DENY if any(c.policy == "drop" for c in forward) else Action.ACCEPT
        if default is Action.ACCEPT:
            # Written out as a last rule, so that a reader of the rule list alone (the
            # compiler) cannot take the usual implicit deny for this ruleset's accept policy.
            last = forward[-1] if forward else None
            rules.append(
                Rule(
                    id=f"{last.label}/policy accept" if last else f"{CONTEXT}/no forward chain",
                    action=Action.ACCEPT,
                    source=ANY_MATCH,
                    destination=ANY_MATCH,
                    services=ALL_SERVICES,
                    origin=last.origin if last else Origin(self.file, None, "nftables"),
                    name="chain policy accept" if last else "no forward chain",
                )
            )
        context = Context(CONTEXT, (), (), tuple(rules), default_action=default)
        # issues in document order (they are found in several passes)
        self.issues.sort(key=lambda i: _position(i.origin))
        return ParsedConfig(self.file, FORMAT, self.sha256, (context,), tuple(self.issues))

    def flatten(
        self, base: _Chain, chain: _Chain, depth: int, stack: tuple[str, ...]
    ) -> list[_Flat]:
        """The chain's rules as flat condition → accept/drop rules, jumps inlined."""
        out: list[_Flat] = []
        returned: list[_Cond] = []  # conditions of `return`s met so far in this chain
        in_base = chain is base
        for src in chain.rules:
            parsed = self.parse_rule(src, chain)
            if parsed is None:
                continue
            for cond, verdict, target in parsed:
                if cond.empty():
                    continue
                excl = tuple(returned)
                if verdict in ("accept", "drop"):
                    out.append(_Flat(cond, verdict == "accept", src, excl))
                    continue
                if verdict == "jump":
                    out.extend(self.inline(base, src, cond, target, depth, stack, excl))
                    continue
                if verdict == "goto":
                    out.extend(self.inline(base, src, cond, target, depth, stack, excl))
                # return, and a goto's fall-through: the rest of this chain is skipped
                if in_base:
                    out.append(_Flat(cond, base.policy == "accept", src))
                else:
                    returned.append(cond)
                if cond == _Cond(family=_table_family(chain.family)):
                    return out  # nothing after an unconditional return/goto is reached
        return out

    def inline(
        self,
        base: _Chain,
        src: _RuleSrc,
        cond: _Cond,
        target: str | None,
        depth: int,
        stack: tuple[str, ...],
        excl: tuple[_Cond, ...],
    ) -> list[_Flat]:
        sub = self.chains.get((src.family, src.table, target or ""))
        problem = None
        kind = "unrecognised"
        if sub is None:
            problem, kind = f"jump to chain {target!r} that the table does not define", "undefined"
        elif sub.hook is not None:
            problem = f"jump to base chain {target!r}"
        elif depth + 1 >= MAX_DEPTH or sub.label in stack:
            problem = f"jumps nested deeper than {MAX_DEPTH} (or a loop) at chain {target!r}"
        if problem is not None or sub is None:
            # What the unread chain does is unknown: an accept of what the jump selects keeps
            # every path; a drop would not (and is not assumed).
            unknown = _Unknown(problem or "", kind)
            self.report(src, (unknown,), True)
            return [_Flat(cond.both(_Cond(unknown=(unknown,))), True, src, excl)]
        inner = self.flatten(base, sub, depth + 1, (*stack, sub.label))
        return [
            _Flat(cond.both(f.cond), f.accept, f.src, excl + f.excluded)
            for f in inner
            if not cond.both(f.cond).empty()
        ]

    # -- one rule ----------------------------------------------------------------------------

    def parse_rule(
        self, src: _RuleSrc, chain: _Chain
    ) -> list[tuple[_Cond, str, str | None]] | None:
        """The rule's branches (condition, verdict, jump target); None when it is not a rule."""
        if not isinstance(src.expr, list):
            self.issue("unrecognised", f"{src.id}: rule without an expression list", src.origin)
            return None
        cond = _Cond(family=_table_family(chain.family))
        branches: list[tuple[_Cond, str, str | None]] | None = None
        nat = False
        for stmt in src.expr:
            if not isinstance(stmt, dict) or len(stmt) != 1:
                cond = cond.both(_Cond(unknown=(_Unknown(f"statement {_short(stmt)}"),)))
                continue
            ((key, body),) = stmt.items()
            if key == "match":
                cond = cond.both(self.match(src, body))
            elif key in VERDICTS:
                branches = [(TRUE, *self.verdict(key, body))]
                break  # a verdict ends the rule
            elif key == "vmap":
                branches = self.vmap(src, body)
                break
            elif key in HARMLESS or key == "comment":
                continue
            elif key in NAT_STATEMENTS:
                nat = True
            elif key in APPROXIMATE:
                cond = cond.both(_Cond(approx=(key,)))
            else:
                cond = cond.both(_Cond(unknown=(_Unknown(f"statement {key} {_short(body)}"),)))
        if nat:
            self.issue("nat", f"{src.id}: NAT statement, not modelled", src.origin)
        if branches is None:
            return None  # no verdict: it counts or logs, and the packet goes on
        out = []
        for extra, verdict, target in branches:
            if verdict == "continue":
                continue
            full = cond.both(extra)
            if verdict in ("reject", "drop"):
                verdict = "drop"
            elif verdict == "queue":
                # user space decides: it may accept, so the rule is kept as an accept
                full = full.both(_Cond(unknown=(_Unknown("verdict queue (user space decides)"),)))
                verdict = "accept"
            out.append((full, verdict, target))
            if full.unknown and not full.never:
                self.report(src, full.unknown, verdict in ("accept", "jump", "goto"))
        return out

    def report(self, src: _RuleSrc, unknowns: Iterable[_Unknown], allows: bool) -> None:
        what = "; ".join(dict.fromkeys(u.text for u in unknowns))
        if (src.index, what) in self.reported:
            return
        self.reported.add((src.index, what))
        kind = "undefined" if any(u.kind == "undefined" for u in unknowns) else "unrecognised"
        effect = (
            "its accepts are kept with this condition ignored (widened)"
            if allows
            else "its drop is ignored (never hides a path)"
        )
        self.issue(kind, f"{src.id}: not understood: {what}; {effect}", src.origin)

    @staticmethod
    def verdict(key: str, body: Any) -> tuple[str, str | None]:
        if key in ("jump", "goto"):
            target = body.get("target") if isinstance(body, dict) else None
            return key, str(target) if target is not None else None
        return key, None

    def vmap(self, src: _RuleSrc, body: Any) -> list[tuple[_Cond, str, str | None]]:
        """A verdict map: one branch per element (elements are disjoint, order is moot)."""
        if not isinstance(body, dict):
            return [(_Cond(unknown=(_Unknown(f"vmap {_short(body)}"),)), "accept", None)]
        key, data = body.get("key"), body.get("data")
        pairs: Iterable[Any]
        try:
            if isinstance(data, str) and data.startswith("@"):
                pairs = self.lookup(src, data[1:]).elements
            elif isinstance(data, dict) and isinstance(data.get("set"), list):
                pairs = data["set"]
            else:
                raise _Unsupported(f"vmap data {_short(data)}")
        except _Unsupported as exc:
            # an unknown map may send anything anywhere: kept as an accept of everything
            u = _Unknown(str(exc), "undefined" if isinstance(exc, _Undefined) else "unrecognised")
            return [(_Cond(unknown=(u,)), "accept", None)]
        out: list[tuple[_Cond, str, str | None]] = []
        for pair in pairs:
            if isinstance(pair, dict) and isinstance(pair.get("elem"), dict):
                pair = [pair["elem"].get("val"), pair["elem"].get("data")]
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not isinstance(pair[1], dict)
                or len(pair[1]) != 1
            ):
                u = _Unknown(f"vmap element {_short(pair)}")
                out.append((_Cond(unknown=(u,)), "accept", None))
                continue
            ((verdict, vbody),) = pair[1].items()
            if verdict not in VERDICTS:
                u = _Unknown(f"vmap verdict {_short(pair[1])}")
                out.append((_Cond(unknown=(u,)), "accept", None))
                continue
            cond = self.match(src, {"op": "==", "left": key, "right": pair[0]})
            out.append((cond, *self.verdict(verdict, vbody)))
        return out

    def lookup(self, src: _RuleSrc, name: str) -> _Named:
        named = self.named.get((src.family, src.table, name))
        if named is None:
            raise _Undefined(f"set @{name} that the table does not define")
        if named.dynamic:
            raise _Dynamic(f"set @{name} (its content changes at run time)")
        return named

    def values(self, src: _RuleSrc, right: Any) -> tuple[Any, ...]:
        """The elements a match's right side names: a scalar, an anonymous or a named set."""
        if isinstance(right, str) and right.startswith("@"):
            return self.lookup(src, right[1:]).elements
        if isinstance(right, dict) and "set" in right:
            items = right["set"]
            return tuple(items) if isinstance(items, list) else (items,)
        if isinstance(right, list):  # flags as a JSON array: `ct state established,related`
            return tuple(right)
        return (right,)

    def match(self, src: _RuleSrc, body: Any) -> _Cond:
        """One `match` expression as a condition (unknown ones recorded, not dropped)."""
        if not isinstance(body, dict):
            return _Cond(unknown=(_Unknown(f"match {_short(body)}"),))
        op, left, right = body.get("op", "=="), body.get("left"), body.get("right")
        side = None
        try:
            if not isinstance(left, dict) or len(left) != 1:
                raise _Unsupported("")
            ((kind, lbody),) = left.items()
            lbody = lbody if isinstance(lbody, dict) else {}
            proto, fld, key = lbody.get("protocol"), lbody.get("field"), lbody.get("key")
            if kind == "payload" and proto in ("ip", "ip6") and fld in ("saddr", "daddr"):
                side = "source" if fld == "saddr" else "destination"
                return self.address_match(src, proto, fld, op, right)
            if kind == "ct" and key == "state":
                return self.ct_state(src, op, right)
            if op not in ("==", "!=", "in", "<", ">", "<=", ">="):
                raise _Unsupported("")
            if kind == "payload" and fld == "dport" and proto in PORT_PROTOCOLS:
                return self.port_match(src, PORT_PROTOCOLS[str(proto)], op, right)
            if op in ("<", ">", "<=", ">="):
                raise _Unsupported("")
            negate = op == "!="
            if (kind == "meta" and key == "l4proto") or (
                kind == "payload" and (proto, fld) in (("ip", "protocol"), ("ip6", "nexthdr"))
            ):
                family = {"ip": frozenset({4}), "ip6": frozenset({6})}.get(str(proto), BOTH)
                return _Cond(family=family, svc=self.proto_match(src, right, negate))
            if kind == "meta" and key in ("nfproto", "protocol"):
                names = {"ipv4": 4, "ip": 4, "ipv6": 6, "ip6": 6}
                versions = set()
                for v in self.values(src, right):
                    if v not in names:
                        raise _Unsupported("")
                    versions.add(names[v])
                return _Cond(family=BOTH - versions if negate else frozenset(versions))
            if kind == "meta" and key in ("iifname", "oifname", "iif", "oif") and not negate:
                found = self.values(src, right)
                if not all(isinstance(v, str) for v in found):
                    raise _Unsupported("")
                names_ = frozenset(found)
                if key.startswith("i"):
                    return _Cond(iif=names_)
                return _Cond(oif=names_)
            if kind == "payload" and proto in ("icmp", "icmpv6") and fld in ("type", "code"):
                number = 1 if proto == "icmp" else 58
                return _Cond(
                    family=frozenset({4 if number == 1 else 6}),
                    svc=ServiceSet.of([(number, *WHOLE)]),
                    approx=(f"{proto} {fld} {_short(right, 40)}",),
                )
            if kind == "payload" and proto == "tcp" and fld == "flags":
                return _Cond(svc=ServiceSet.ports(6, WHOLE), approx=("tcp flags",))
        except _Unsupported as exc:
            what = _left_text(left)
            hint = _hint(left)
            detail = str(exc)
            if isinstance(exc, (_Undefined, _Dynamic)):
                kind_ = "undefined" if isinstance(exc, _Undefined) else "unrecognised"
                return _Cond(hint, unknown=(_Unknown(f"{what} {op} {detail}", kind_, side),))
            text = f"{what} {op} {_short(right, 60)}" + (f" ({detail})" if detail else "")
            return _Cond(hint, unknown=(_Unknown(text, "unrecognised", side),))
        text = f"{_left_text(left)} {op} {_short(right, 60)}"
        return _Cond(_hint(left), unknown=(_Unknown(text, "unrecognised"),))

    def address_match(self, src: _RuleSrc, proto: str, fld: str, op: str, right: Any) -> _Cond:
        if op not in ("==", "!=", "in"):
            raise _Unsupported("")
        version = 4 if proto == "ip" else 6
        ranges: list[IPRange] = []
        for value in self.values(src, right):
            for r in _address_ranges(value):
                if r.version != version:
                    raise _Unsupported(f"IPv{r.version} address in a {proto} match")
                ranges.append(r)
        addresses = AddressSet((ranges[0],)) if len(ranges) == 1 else AddressSet.of(ranges)
        side = _Side(neg=addresses) if op == "!=" else _Side(pos=addresses)
        family = frozenset({version})
        return _Cond(family=family, src=side) if fld == "saddr" else _Cond(family=family, dst=side)

    def port_match(self, src: _RuleSrc, protocols: tuple[int, ...], op: str, right: Any) -> _Cond:
        if op in ("<", ">", "<=", ">="):
            n = _port(right)
            lo, hi = {"<": (0, n - 1), "<=": (0, n), ">": (n + 1, 65535), ">=": (n, 65535)}[op]
            ranges = [(lo, hi)] if lo <= hi else []
        else:
            ranges = [r for v in self.values(src, right) for r in _port_ranges(v)]
        if len(protocols) == 1 and len(ranges) == 1 and protocols[0] in PORTED:
            # the common case, already canonical
            wanted = ServiceSet(((protocols[0], *ranges[0]),))
        else:
            wanted = ServiceSet.of((p, lo, hi) for p in protocols for lo, hi in ranges)
        if op == "!=":
            wanted = ServiceSet.of((p, *WHOLE) for p in protocols).difference(wanted)
        return _Cond(svc=wanted)

    def proto_match(self, src: _RuleSrc, right: Any, negate: bool) -> ServiceSet:
        numbers = ServiceSet.of(
            (p, *WHOLE)
            for v in self.values(src, right)
            for lo, hi in _protocol(v)
            for p in range(lo, hi + 1)
        )
        return ALL_SERVICES.difference(numbers) if negate else numbers

    def ct_state(self, src: _RuleSrc, op: str, right: Any) -> _Cond:
        states = set()
        for value in self.values(src, right):
            if value not in CT_STATES:
                raise _Unsupported(f"ct state {value!r}")
            states.add(value)
        if op == "!=":
            states = set(CT_STATES) - states
        elif op not in ("==", "in"):
            raise _Unsupported("")
        # the first packet of a flow is `new`: the only state a permit is about
        return TRUE if "new" in states else NEVER

    # -- flat rule → model Rule ---------------------------------------------------------------

    def rule(self, flat: _Flat) -> Rule | None:
        cond = flat.cond
        src = flat.src
        widened = False
        for excl in flat.excluded:
            folded = _exclude(cond, excl)
            if folded is None:
                return None  # every packet of this rule was returned earlier
            if folded is not _UNFOLDABLE:
                cond = folded
                continue
            if not flat.accept:
                self.issue(
                    "warning",
                    f"{src.id}: drop after a conditional return whose condition cannot be "
                    "subtracted exactly; ignored (never hides a path)",
                    src.origin,
                )
                return None
            widened = True
        if cond.empty():
            return None
        if cond.unknown and not flat.accept:
            return None  # reported as unrecognised when read
        if cond.approx and not flat.accept:
            self.issue(
                "warning",
                f"{src.id}: drop on {', '.join(dict.fromkeys(cond.approx))}, which the model "
                "does not distinguish; ignored (never hides a path)",
                src.origin,
            )
            return None
        if not flat.accept and (cond.iif is not None or cond.oif is not None):
            # A ruleset names interfaces but not the addresses behind them, so a drop limited
            # to some interfaces cannot be placed; taking it as a drop of everything would
            # hide every later path.
            names = sorted((cond.iif or frozenset()) | (cond.oif or frozenset()))
            self.issue(
                "warning",
                f"{src.id}: drop limited to interfaces ({', '.join(names)}) whose addresses the "
                "ruleset does not give; ignored (never hides a path)",
                src.origin,
            )
            return None
        assumptions: list[Assumption] = []
        if cond.unknown or widened:
            assumptions.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
        if any(u.kind == "undefined" for u in cond.unknown):
            assumptions.append(Assumption.UNDEFINED_OBJECT)
        return Rule(
            id=src.id,
            action=Action.ACCEPT if flat.accept else Action.DENY,
            source=_match(cond.src, cond, "source"),
            destination=_match(cond.dst, cond, "destination"),
            services=cond.svc if cond.svc is not None else ALL_SERVICES,
            origin=src.origin,
            from_zones=tuple(sorted(cond.iif)) if cond.iif is not None else (),
            to_zones=tuple(sorted(cond.oif)) if cond.oif is not None else (),
            name=src.comment,
            assumptions=tuple(assumptions),
        )


def _match(side: _Side, cond: _Cond, which: str) -> Match:
    unresolved = tuple(dict.fromkeys(u.text for u in cond.unknown if u.side == which))
    if side.free and cond.family == BOTH:
        return Match(AddressSet.everything(), unresolved=unresolved, any=True)
    if side.pos is None and side.neg:
        # `!= X`: X negated within the interface/zone space; the other family is excluded too
        other = _universe(BOTH - cond.family)
        return Match(side.neg.union(other), unresolved=unresolved, negate=True)
    return Match(side.explicit(cond.family), unresolved=unresolved)


def _hint(left: Any) -> frozenset[int]:
    """The family an `ip`/`ip6` header field implies, even when its value is not understood."""
    if isinstance(left, dict) and isinstance(left.get("payload"), dict):
        return _table_family(str(left["payload"].get("protocol")))
    return BOTH


def _position(origin: Origin) -> int:
    m = re.match(r"nftables\[(\d+)\]", origin.xpath or "")
    return int(m.group(1)) if m else -1


_UNFOLDABLE = _Cond(approx=("unfoldable",))


def _exclude(cond: _Cond, excl: _Cond) -> _Cond | None:
    """`cond` and not `excl`, when one dimension carries the difference; None when empty.

    Returns `_UNFOLDABLE` when the difference spans several dimensions (or unknown ones).
    """
    if cond.both(excl).empty():
        return cond  # disjoint: nothing of this rule was returned
    if excl.unknown or excl.approx:
        return _UNFOLDABLE
    differ: list[str] = []
    # An address side of `excl` carries its family with it (an IPv4 set holds only IPv4
    # packets); the family is a dimension of its own only when neither side is constrained.
    if not cond.family <= excl.family and excl.src.free and excl.dst.free:
        differ.append("family")
    for name in ("src", "dst"):
        mine, theirs = getattr(cond, name), getattr(excl, name)
        if not theirs.free and mine.explicit(cond.family).difference(theirs.explicit(excl.family)):
            differ.append(name)
    if excl.svc is not None and (
        (cond.svc if cond.svc is not None else ALL_SERVICES).difference(excl.svc)
    ):
        differ.append("svc")
    for name in ("iif", "oif"):
        mine_n, theirs_n = getattr(cond, name), getattr(excl, name)
        if theirs_n is not None and (mine_n is None or not mine_n <= theirs_n):
            differ.append(name)
    if not differ:
        return None
    if len(differ) > 1:
        return _UNFOLDABLE
    (dim,) = differ
    if dim == "family":
        return replace(cond, family=cond.family - excl.family)
    if dim in ("src", "dst"):
        mine, theirs = getattr(cond, dim), getattr(excl, dim)
        rest = _Side(pos=mine.explicit(cond.family).difference(theirs.explicit(excl.family)))
        return replace(cond, src=rest) if dim == "src" else replace(cond, dst=rest)
    if dim == "svc":
        assert excl.svc is not None
        base = cond.svc if cond.svc is not None else ALL_SERVICES
        return replace(cond, svc=base.difference(excl.svc))
    mine_n, theirs_n = getattr(cond, dim), getattr(excl, dim)
    if mine_n is None:
        return _UNFOLDABLE  # "any interface but these" has no name list
    left = mine_n - theirs_n
    return replace(cond, iif=left) if dim == "iif" else replace(cond, oif=left)
