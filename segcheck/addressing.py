"""Address plan: parse addresses with netaddr once, look them up through sorted integer tables.

netaddr costs microseconds to milliseconds per membership test; a capture holds many distinct
addresses, so every lookup here is a bisect over flat, disjoint integer intervals (longest prefix
already resolved when the table is built) plus a dict for node addresses.
"""

from __future__ import annotations

import socket
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import netaddr

from .model import IP, PUBLIC_INTERNET_ZONE, IPRange, Node, Tier, Zone

T = TypeVar("T")


class AddressError(ValueError):
    """An address or CIDR that does not parse."""


def parse_ip(text: str) -> IP:
    """Parse one address (no prefix); raise AddressError when malformed."""
    # Plain dotted quads, the bulk of any plan, go through inet_pton (as strict as netaddr:
    # four decimal octets, no leading zeros); everything else through netaddr.
    if isinstance(text, str) and text.count(".") == 3 and ":" not in text:
        try:
            return IP(4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"))
        except OSError:
            pass
    try:
        addr = netaddr.IPAddress(text)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError(f"malformed address {text!r}") from exc
    return IP(addr.version, int(addr))


def parse_cidr(text: str, *, strict: bool = True) -> IPRange:
    """Parse a CIDR or a single address into a range; host bits set are an error when strict."""
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError(f"malformed address or CIDR {text!r}") from exc
    if strict and net.ip != net.network:
        raise AddressError(f"CIDR {text!r} has host bits set (did you mean {net.cidr}?)")
    return IPRange(net.version, net.first, net.last)


def parse_ip_text(text: str) -> IP | None:
    """Parse an address as it appears in captures or logs; None when it is not one."""
    try:
        return parse_ip(text)
    except AddressError:
        return None


class Scope(StrEnum):
    """How an address relates to the plan."""

    ZONE = "zone"  # in a declared zone
    PUBLIC = "public"  # global and in no zone: the built-in public-internet zone
    LOCAL = "local"  # multicast, broadcast, link-local, loopback, unspecified: never judged
    UNMAPPED = "unmapped"  # private/CGNAT/documentation and in no zone (GEN-ZONE-ASSIGNED)


@dataclass(frozen=True, slots=True)
class AddressInfo:
    """What the plan says about one address."""

    ip: IP
    scope: Scope
    zone: Zone | None
    node: Node | None

    @property
    def tier(self) -> Tier | None:
        """The tier of the address, or None when it is local or unmapped."""
        return self.zone.tier if self.zone is not None else None

    @property
    def display(self) -> str:
        """The node name where the address belongs to a node, else the address (spec §6)."""
        return self.node.name if self.node is not None else str(self.ip)


def innermost_pieces(ranges: Iterable[tuple[IPRange, T]]) -> list[tuple[int, int, T]]:
    """Cut nested ranges of one IP version into disjoint (first, last, owner) pieces, sorted.

    Each piece belongs to the innermost (longest prefix) range covering it.
    """
    # Outer before inner at the same start; a sweep with a stack of open ranges then hands
    # every stretch of addresses to the innermost range still open there.
    items = sorted(ranges, key=lambda ro: (ro[0].first, -ro[0].last))
    pieces: list[tuple[int, int, T]] = []

    def emit(first: int, last: int, owner: T) -> None:
        if first <= last:
            pieces.append((first, last, owner))

    stack: list[tuple[int, T]] = []  # (last, owner) of open ranges
    cursor = 0
    for rng, owner in items:
        while stack and stack[-1][0] < rng.first:
            last, closed = stack.pop()
            emit(cursor, last, closed)
            cursor = last + 1
        if stack:
            emit(cursor, rng.first - 1, stack[-1][1])
        cursor = rng.first
        stack.append((rng.last, owner))
    while stack:
        last, closed = stack.pop()
        emit(cursor, last, closed)
        cursor = last + 1
    return pieces


class _IntervalTable:
    """Flat, disjoint intervals over one IP version, each tagged with the innermost zone."""

    def __init__(self, ranges: Iterable[tuple[IPRange, Zone]]) -> None:
        pieces = innermost_pieces(ranges)
        self._starts = [first for first, _, _ in pieces]
        self._ends = [last for _, last, _ in pieces]
        self._owners = [zone for _, _, zone in pieces]

    def find(self, value: int) -> Zone | None:
        i = bisect_right(self._starts, value) - 1
        if i >= 0 and value <= self._ends[i]:
            return self._owners[i]
        return None


def as_ipv4(ip: IP) -> IP:
    """An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``, how a dual-stack socket, and so some
    logs, write an IPv4 peer) as that IPv4 address; any other address unchanged. The flow
    table holds IPv4 in this form, so a flow judged from a capture and the same flow judged
    from such a log are judged alike."""
    if ip.version == 6 and ip.value >> 32 == 0xFFFF:
        return IP(4, ip.value & 0xFFFFFFFF)
    return ip


def classify_unzoned(ip: IP) -> Scope:
    """Scope of an address in no declared zone: public, local-segment or unmapped."""
    addr = netaddr.IPAddress(ip.value, ip.version)
    if (
        addr.is_multicast()
        or addr.is_link_local()
        or addr.is_loopback()
        or ip.value == 0
        or (ip.version == 4 and ip.value == 0xFFFFFFFF)
    ):
        return Scope.LOCAL
    if addr.is_global():
        return Scope.PUBLIC
    return Scope.UNMAPPED


_SCOPE_BREAKS: dict[int, list[int]] = {}


def unzoned_breaks(version: int) -> list[int]:
    """Addresses of one version where :func:`classify_unzoned`'s answer may change: the bounds
    of every network its netaddr tests read (computed once)."""
    found = _SCOPE_BREAKS.get(version)
    if found is None:
        from netaddr import ip as nip

        if version == 4:
            nets = [
                *nip.IPV4_NOT_GLOBALLY_REACHABLE,
                *nip.IPV4_NOT_GLOBALLY_REACHABLE_EXCEPTIONS,
                nip.IPV4_LINK_LOCAL,
                nip.IPV4_LOOPBACK,
                nip.IPV4_MULTICAST,
            ]
            ends = [0, 1, 0xFFFFFFFF, 1 << 32]  # the unspecified and broadcast addresses
        else:
            nets = [
                *nip.IPV6_NOT_GLOBALLY_REACHABLE,
                *nip.IPV6_NOT_GLOBALLY_REACHABLE_EXCEPTIONS,
                nip.IPV6_LINK_LOCAL,
                nip.IPV6_LOOPBACK,
                nip.IPV6_MULTICAST,
            ]
            ends = [0, 1]
        bounds = {x for n in map(netaddr.IPNetwork, nets) for x in (n.first, n.last + 1)}
        found = _SCOPE_BREAKS[version] = sorted(bounds.union(ends))
    return found


_LOCAL_NETS = (
    "224.0.0.0/4",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "0.0.0.0/32",
    "255.255.255.255/32",
    "ff00::/8",
    "fe80::/10",
    "::1/128",
    "::/128",
)


def public_ranges(declared: Iterable[IPRange]) -> tuple[IPRange, ...]:
    """The built-in zone `public-internet` as ranges: every address `classify_unzoned` calls
    public (global, not local-segment), minus the declared subnets."""
    from netaddr import IPNetwork, IPSet
    from netaddr import IPRange as NetRange
    from netaddr import ip as nip

    space = IPSet(["0.0.0.0/0", "::/0"])
    space -= IPSet([*nip.IPV4_NOT_GLOBALLY_REACHABLE, *nip.IPV6_NOT_GLOBALLY_REACHABLE])
    space |= IPSet(
        [*nip.IPV4_NOT_GLOBALLY_REACHABLE_EXCEPTIONS, *nip.IPV6_NOT_GLOBALLY_REACHABLE_EXCEPTIONS]
    )
    space -= IPSet(IPNetwork(n) for n in _LOCAL_NETS)
    for rng in declared:
        first = netaddr.IPAddress(rng.first, rng.version)
        last = netaddr.IPAddress(rng.last, rng.version)
        space -= IPSet(NetRange(first, last))
    return tuple(IPRange(r.version, r.first, r.last) for r in space.iter_ipranges())


class AddressMap:
    """Address to zone and node: longest-prefix match over declared subnets."""

    def __init__(self, zones: Iterable[Zone], nodes: Iterable[Node] = ()) -> None:
        by_version: dict[int, list[tuple[IPRange, Zone]]] = {4: [], 6: []}
        for zone in zones:
            for subnet in zone.subnets:
                by_version[subnet.version].append((subnet, zone))
        self._tables = {v: _IntervalTable(r) for v, r in by_version.items()}
        self._nodes: dict[IP, Node] = {}
        for node in nodes:
            for ip in node.addresses:
                self._nodes[ip] = node
        self._cache: dict[IP, AddressInfo] = {}

    def zone_of(self, ip: IP) -> Zone | None:
        """The declared zone holding the address (longest prefix), or None."""
        return self._tables[ip.version].find(ip.value)

    def node_of(self, ip: IP) -> Node | None:
        """The node owning the address, or None."""
        return self._nodes.get(ip)

    def breaks(self, version: int) -> list[int]:
        """Addresses of one version where the zone or node may change (each zone piece's
        first and last + 1, each node address and the next): between two consecutive breaks
        every address has the same zone and no node."""
        table = self._tables[version]
        out = [*table._starts, *(end + 1 for end in table._ends)]
        for ip in self._nodes:
            if ip.version == version:
                out += (ip.value, ip.value + 1)
        return sorted(set(out))

    def lookup(self, ip: IP) -> AddressInfo:
        """Zone, node and scope of an address; cached per distinct address."""
        info = self._cache.get(ip)
        if info is None:
            zone = self.zone_of(ip)
            node = self._nodes.get(ip)
            if zone is not None:
                info = AddressInfo(ip, Scope.ZONE, zone, node)
            else:
                scope = classify_unzoned(ip)
                public = PUBLIC_INTERNET_ZONE if scope is Scope.PUBLIC else None
                info = AddressInfo(ip, scope, public, node)
            self._cache[ip] = info
        return info

    @property
    def nodes_by_address(self) -> Mapping[IP, Node]:
        """Every node address and its node."""
        return self._nodes
