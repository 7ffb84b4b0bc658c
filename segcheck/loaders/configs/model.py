"""What a firewall configuration says, vendor-neutral: the contract between parsers and compiler.

Each vendor parser (FortiOS, PAN-OS, nftables, policy tables) turns one configuration into a
`ParsedConfig`: the contexts it holds (FortiOS VDOM, PAN-OS vsys, nftables ruleset, one table),
each with interfaces, zones, static routes and the rule base in evaluation order, every element
located in the file. The compiler (`compile.py`) then turns one context's ordered rules into an
unordered allow-list (segcheck permits are unordered: spec §2), exactly on address sets and port
ranges. Nothing here knows a vendor's syntax.

Address and service sets are canonical (sorted, disjoint, merged), so equal sets compare equal
and set algebra is linear in their sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

from ...model import IPRange

# --- address sets ----------------------------------------------------------------------------

_MAX = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
_RANGE_ORDER = attrgetter("version", "first", "last")  # IPRange's own order


@dataclass(frozen=True, slots=True)
class AddressSet:
    """A set of IPv4/IPv6 addresses as sorted, disjoint, non-adjacent inclusive ranges."""

    ranges: tuple[IPRange, ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[IPRange]) -> AddressSet:
        """Canonical set of the given (possibly overlapping) ranges."""
        merged: list[IPRange] = []
        for r in sorted(ranges, key=_RANGE_ORDER):  # a C key: IPRange.__lt__ is slow
            if merged and merged[-1].version == r.version and r.first <= merged[-1].last + 1:
                last = merged[-1]
                if r.last > last.last:
                    merged[-1] = IPRange(r.version, last.first, r.last)
            else:
                merged.append(r)
        return cls(tuple(merged))

    @classmethod
    def everything(cls) -> AddressSet:
        """Every IPv4 and IPv6 address."""
        return _ALL_ADDRESSES

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def union(self, other: AddressSet) -> AddressSet:
        return AddressSet.of((*self.ranges, *other.ranges))

    def intersection(self, other: AddressSet) -> AddressSet:
        out: list[IPRange] = []
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) and j < len(b):
            x, y = a[i], b[j]
            if (x.version, x.last) < (y.version, y.first):
                i += 1
                continue
            if (y.version, y.last) < (x.version, x.first):
                j += 1
                continue
            # same version, overlapping
            out.append(IPRange(x.version, max(x.first, y.first), min(x.last, y.last)))
            if (x.version, x.last) < (y.version, y.last):
                i += 1
            else:
                j += 1
        return AddressSet(tuple(out))

    def intersects(self, other: AddressSet) -> bool:
        """True when the sets share an address (`bool(intersection)` without building it)."""
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) and j < len(b):
            x, y = a[i], b[j]
            if (x.version, x.last) < (y.version, y.first):
                i += 1
            elif (y.version, y.last) < (x.version, x.first):
                j += 1
            else:
                return True
        return False

    def difference(self, other: AddressSet) -> AddressSet:
        out: list[IPRange] = []
        b = other.ranges
        j = 0
        for x in self.ranges:
            first = x.first
            while j < len(b) and (b[j].version, b[j].last) < (x.version, x.first):
                j += 1
            k = j
            while k < len(b) and b[k].version == x.version and b[k].first <= x.last:
                y = b[k]
                if y.first > first:
                    out.append(IPRange(x.version, first, y.first - 1))
                first = max(first, y.last + 1)
                if y.last >= x.last:
                    break
                k += 1
            if first <= x.last:
                out.append(IPRange(x.version, first, x.last))
        return AddressSet(tuple(out))

    def complement(self, within: AddressSet) -> AddressSet:
        """The addresses of `within` that are not in this set (negation inside a zone's space)."""
        return within.difference(self)

    def __str__(self) -> str:
        return ", ".join(str(r) for r in self.ranges) if self.ranges else "(none)"


_ALL_ADDRESSES = AddressSet((IPRange(4, 0, _MAX[4]), IPRange(6, 0, _MAX[6])))


# --- service sets ----------------------------------------------------------------------------

TCP, UDP, SCTP, ICMP, ICMPV6 = 6, 17, 132, 1, 58
PORTED = frozenset({TCP, UDP, SCTP})  # protocols whose services are destination-port ranges
WHOLE = (0, 65535)  # a non-ported protocol's only range: the whole protocol


@dataclass(frozen=True, slots=True)
class ServiceSet:
    """(IP protocol number, first port, last port) triples, sorted, disjoint and merged.

    For TCP, UDP and SCTP the range is of destination ports; every other protocol (ICMP
    included: segcheck does not judge ICMP types) is whole, written as (proto, 0, 65535).
    """

    items: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def of(cls, items: Iterable[tuple[int, int, int]]) -> ServiceSet:
        merged: list[tuple[int, int, int]] = []
        for proto, lo, hi in sorted(
            (p, lo, hi) if p in PORTED else (p, *WHOLE) for p, lo, hi in items
        ):
            if merged and merged[-1][0] == proto and lo <= merged[-1][2] + 1:
                if hi > merged[-1][2]:
                    merged[-1] = (proto, merged[-1][1], hi)
            else:
                merged.append((proto, lo, hi))
        return cls(tuple(merged))

    @classmethod
    def everything(cls) -> ServiceSet:
        return _ALL_SERVICES

    @classmethod
    def ports(cls, proto: int, *ranges: tuple[int, int]) -> ServiceSet:
        return cls.of((proto, lo, hi) for lo, hi in ranges)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def is_everything(self) -> bool:
        return self.items == _ALL_SERVICES.items

    def union(self, other: ServiceSet) -> ServiceSet:
        return ServiceSet.of((*self.items, *other.items))

    def intersection(self, other: ServiceSet) -> ServiceSet:
        # a merge of two sorted, disjoint lists: the result is canonical as it comes (two
        # adjacent pieces would lie in one item of each side, so they would be one piece)
        out: list[tuple[int, int, int]] = []
        a, b = self.items, other.items
        i = j = 0
        while i < len(a) and j < len(b):
            p, lo, hi = a[i]
            q, lo2, hi2 = b[j]
            if p != q:
                if p < q:
                    i += 1
                else:
                    j += 1
                continue
            if hi < lo2:
                i += 1
                continue
            if hi2 < lo:
                j += 1
                continue
            out.append((p, max(lo, lo2), min(hi, hi2)))
            if hi < hi2:
                i += 1
            else:
                j += 1
        return ServiceSet(tuple(out))

    def intersects(self, other: ServiceSet) -> bool:
        """True when the sets share a service (`bool(intersection)` without building it)."""
        a, b = self.items, other.items
        i = j = 0
        while i < len(a) and j < len(b):
            p, lo, hi = a[i]
            q, lo2, hi2 = b[j]
            if p != q:
                if p < q:
                    i += 1
                else:
                    j += 1
            elif hi < lo2:
                i += 1
            elif hi2 < lo:
                j += 1
            else:
                return True
        return False

    def difference(self, other: ServiceSet) -> ServiceSet:
        # one pass over both sorted lists, as AddressSet.difference; canonical as it comes
        out: list[tuple[int, int, int]] = []
        b = other.items
        j = 0
        for p, lo, hi in self.items:
            while j < len(b) and (b[j][0], b[j][2]) < (p, lo):
                j += 1
            first = lo
            k = j
            while k < len(b) and b[k][0] == p and b[k][1] <= hi:
                _, lo2, hi2 = b[k]
                if lo2 > first:
                    out.append((p, first, lo2 - 1))
                first = max(first, hi2 + 1)
                if hi2 >= hi:
                    break
                k += 1
            if first <= hi:
                out.append((p, first, hi))
        return ServiceSet(tuple(out))


_ALL_SERVICES = ServiceSet(tuple((p, *WHOLE) for p in range(256)))


# --- configuration elements ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an element was read: the file as given, its line (1-based) and/or an XPath."""

    file: str
    line: int | None = None
    xpath: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.xpath is not None:
            return f"{self.file}:{self.xpath}"
        return self.file


class Action(StrEnum):
    ACCEPT = "accept"
    DENY = "deny"  # deny, drop, reject, reset: all stop the flow


class Assumption(StrEnum):
    """Why a rule's match was widened or narrowed; carried into every output."""

    # an allow rule names what cannot be resolved offline (FQDN, geography, dynamic address,
    # user, URL category): it is taken to match everything behind its interface/zone
    UNRESOLVED_ALLOW_WIDENED = "unresolved-allow-widened"
    # a deny rule names such an object: it is taken to match nothing (never hides a path)
    UNRESOLVED_DENY_IGNORED = "unresolved-deny-ignored"
    # App-ID / application-default: ports taken as any
    APPLICATION_AS_ANY_SERVICE = "application-as-any-service"
    # a VIP / NAT object is used: matched on its pre-NAT address only, NAT is not modelled
    NAT_NOT_MODELLED = "nat-not-modelled"
    # earlier deny rules cut this accept rule into too many pieces: the whole rule is kept
    DENY_SHADOW_APPROXIMATED = "deny-shadow-approximated"
    # an interface or zone with no known subnet or route: taken to reach every address
    INTERFACE_SPACE_UNKNOWN = "interface-space-unknown"
    # a reference to an object the configuration does not define
    UNDEFINED_OBJECT = "undefined-object"


@dataclass(frozen=True, slots=True)
class Match:
    """One side of a rule: the addresses it resolves to, and whether part of it is unknowable.

    `unresolved` names what could not be resolved offline (an FQDN object, a geography, …); the
    compiler widens or narrows by the rule's action. `negate` complements the whole side within
    the interface/zone space.
    """

    addresses: AddressSet
    unresolved: tuple[str, ...] = ()
    negate: bool = False
    any: bool = False  # the rule says `all` / `any`: everything behind the interface/zone


@dataclass(frozen=True, slots=True)
class Interface:
    """A firewall interface: its name, zone (if any) and connected subnets (address/prefix)."""

    name: str
    origin: Origin
    zone: str | None = None
    subnets: tuple[IPRange, ...] = ()  # connected networks
    addresses: tuple[IPRange, ...] = ()  # the firewall's own addresses (single-address ranges)
    role: str | None = None  # the device's own classification (FortiOS `role`: lan, wan, dmz)


@dataclass(frozen=True, slots=True)
class Route:
    """A static route: destination network out of an interface (no routing protocol simulation)."""

    destination: IPRange
    interface: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Rule:
    """One policy in evaluation order.

    `from_zones` / `to_zones` are interface or zone names as the device writes them (FortiOS
    srcintf/dstintf, PAN from/to); an empty tuple or "any" means any interface.
    """

    id: str  # `<vdom>/<policyid>`, `<vsys>/<rule name>`, `<family> <table> <chain>/<comment|handle>`, table row No
    action: Action
    source: Match
    destination: Match
    services: ServiceSet
    origin: Origin
    from_zones: tuple[str, ...] = ()
    to_zones: tuple[str, ...] = ()
    enabled: bool = True
    name: str | None = None  # the device's name / comment, for provenance
    assumptions: tuple[Assumption, ...] = ()  # assumptions the parser already took (e.g. App-ID)
    service_unresolved: tuple[str, ...] = ()  # service names that could not be resolved
    description: str | None = None  # the device's description of the rule (PAN `description`)
    tags: tuple[str, ...] = ()  # the device's tags on the rule (PAN `tag`)
    # what else the rule matches on that an L3/L4 model cannot see (App-ID, users, URL
    # categories, HIP profiles, schedules), as `field:value`; the parser has already widened
    # (allow) or emptied (deny) the match for it and recorded the assumption
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    """A line the parser did not recognise, an undefined or unused object, a warning."""

    kind: str  # "unrecognised", "undefined", "unused", "disabled", "warning", "nat"
    message: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Context:
    """One firewall context (FortiOS VDOM, PAN-OS vsys, nftables ruleset, one policy table).

    `intrazone_allow` names the zones whose intra-zone traffic is allowed by default (FortiOS
    `intrazone allow`; every PAN-OS zone unless overridden); `default_action` is what happens
    after the last rule (implicit deny for all vendors here; nftables chain policy).
    """

    name: str
    interfaces: tuple[Interface, ...]
    routes: tuple[Route, ...]
    rules: tuple[Rule, ...]
    intrazone_allow: tuple[str, ...] = ()
    default_action: Action = Action.DENY


class ImportStatus(StrEnum):
    PASSED = "passed"
    PARTLY_RECOGNISED = "partly-recognised"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    """Everything one configuration file holds, plus what the parser could not take."""

    file: str
    format: str  # fortios, panos, nftables, csv
    sha256: str
    contexts: tuple[Context, ...]
    issues: tuple[Issue, ...] = field(default=())

    @property
    def status(self) -> ImportStatus:
        if not self.contexts:
            return ImportStatus.FAILED
        if any(i.kind == "unrecognised" for i in self.issues):
            return ImportStatus.PARTLY_RECOGNISED
        return ImportStatus.PASSED

    def context(self, name: str | None) -> Context | None:
        """The named context, or the only one when `name` is None."""
        if name is None:
            return self.contexts[0] if len(self.contexts) == 1 else None
        return next((c for c in self.contexts if c.name == name), None)
