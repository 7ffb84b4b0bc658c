"""The network as path analysis sees it: segments, islands and address atoms.

- A **segment** is one declared subnet (spec §1: an address lies on every subnet that holds it,
  nested ones included), one per explicit node--node link, and one for the whole public Internet (the global address space in no zone,
  plus every subnet of a zone of tier `public-internet`).
- An **island** is a maximal set of segments joined by forwarders that filter nothing (routers
  and l3-switches without `permit:`): inside it every endpoint reaches every other one for every
  service. Islands are found by union-find, in linear time.
- An **atom** is a class of endpoint addresses that every permit, channel, allow-list and gateway
  treats alike, in the same zone and attached to the same islands. Endpoints are handled per atom
  (an example and a count), never one by one; this is what keeps the search small.

Pure Python: networkx is used only in `graph.py`, for witnesses and cuts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

import netaddr

from ..addressing import AddressMap, Scope, classify_unzoned
from ..model import (
    IP,
    PUBLIC_INTERNET_ZONE,
    IPRange,
    Link,
    Node,
    Permit,
    Tier,
    Topology,
    Zone,
)

PUBLIC_SEGMENT = 0
_V4_END = 1 << 32
_V6_END = 1 << 128


@dataclass(slots=True)
class Segment:
    """One segment: a subnet, a node--node link, or the public Internet."""

    index: int
    name: str  # zone name, "zone[cidr]" for a zone with several subnets, or the link name
    zone: Zone | None  # None for a link segment
    link: Link | None = None


@dataclass(slots=True)
class Forwarder:
    """A node that carries traffic between its segments."""

    node: Node
    segments: tuple[int, ...]
    filtering: bool
    islands: tuple[int, ...] = ()
    permit_indices: range = range(0)  # into Network.permits, in declared order (consecutive)


@dataclass(slots=True)
class Atom:
    """A class of endpoint addresses that behave alike (see module docstring)."""

    index: int
    zone: Zone
    rep: IP  # any member address: every member is judged the same
    islands: frozenset[int]
    segments: set[int] = field(default_factory=set)
    # Where members attach, for cuts: ("seg", index) for an address's segments and node--node
    # link segments, ("link", name) for a `links:` entry joining a member node to a zone.
    terminals: set[tuple[str, int | str]] = field(default_factory=set)
    nodes: list[tuple[str, IP]] = field(default_factory=list)  # member node addresses
    rest: bool = False  # also holds addresses that belong to no node

    @property
    def size(self) -> int:
        """Endpoints in the class: node addresses, plus one for the zone remainder if any."""
        return len(self.nodes) + (1 if self.rest else 0)

    @property
    def tier(self) -> Tier:
        """The tier of every member."""
        return self.zone.tier

    @property
    def example(self) -> str:
        """A node name where the class holds a node address, else an address (spec §6)."""
        if self.nodes:
            return self.nodes[0][0]  # kept sorted by (name, address)
        return str(self.rep)

    def example_ip(self) -> IP:
        """The address of `example`."""
        if self.nodes:
            return self.nodes[0][1]
        return self.rep


@dataclass(slots=True)
class Interval:
    """An elementary address interval: one segment, one zone, one set of cut features."""

    version: int
    first: int
    last: int
    segments: tuple[int, ...]  # every segment holding it (nested subnets: several); () if none
    zone: Zone | None
    signature: int  # interned feature set
    node_count: int = 0
    atom: int | None = None  # the atom of its non-node addresses


def _nonglobal_ranges() -> list[IPRange]:
    """Boundaries of special-purpose space, so an interval in no zone is wholly public or not."""
    from netaddr import ip as nip

    nets = [
        *nip.IPV4_NOT_GLOBALLY_REACHABLE,
        *nip.IPV4_NOT_GLOBALLY_REACHABLE_EXCEPTIONS,
        *nip.IPV6_NOT_GLOBALLY_REACHABLE,
        *nip.IPV6_NOT_GLOBALLY_REACHABLE_EXCEPTIONS,
        *(
            netaddr.IPNetwork(n)
            for n in (
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
        ),
    ]
    return [IPRange(n.version, n.first, n.last) for n in nets]


class UnionFind:
    """Union-find over integers with path halving."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb


class Network:
    """Segments, forwarders, islands and atoms of one topology (built once per analysis)."""

    def __init__(self, topology: Topology, addresses: AddressMap) -> None:
        self.topology = topology
        self.addresses = addresses
        self.segments: list[Segment] = [
            Segment(PUBLIC_SEGMENT, PUBLIC_INTERNET_ZONE.name, PUBLIC_INTERNET_ZONE)
        ]
        self.zone_segments: dict[str, list[int]] = {PUBLIC_INTERNET_ZONE.name: [PUBLIC_SEGMENT]}
        self.permits: list[Permit] = []
        self.forwarders: list[Forwarder] = []
        self.forwarder_by_name: dict[str, Forwarder] = {}
        self.node_links: dict[str, list[int]] = {}  # node -> extra segments from links
        self.link_segments: dict[str, list[int]] = {}  # node -> its node--node link segments
        # node -> (link name, zone, segments) of each `links:` entry joining it to a zone
        self.zone_links: dict[str, list[tuple[str, str, tuple[int, ...]]]] = {}
        self.atoms: list[Atom] = []
        self.intervals: dict[int, list[Interval]] = {4: [], 6: []}
        self._starts: dict[int, list[int]] = {4: [], 6: []}
        self._build_segments()
        self._build_links()
        self._build_intervals()
        self._attach_nodes()
        self._build_islands()
        self._build_atoms()

    # -- segments ------------------------------------------------------------------------------

    def _build_segments(self) -> None:
        subnet_table: dict[int, list[tuple[IPRange, int]]] = {4: [], 6: []}
        for zone in sorted(self.topology.zones.values(), key=lambda z: z.name):
            segs = self.zone_segments.setdefault(zone.name, [])
            for subnet in sorted(zone.subnets):
                if zone.tier is Tier.PUBLIC_INTERNET:
                    # The public Internet is one segment, whatever parts of it are named.
                    seg = PUBLIC_SEGMENT
                    if seg not in segs:
                        segs.append(seg)
                else:
                    seg = len(self.segments)
                    name = zone.name if len(zone.subnets) == 1 else f"{zone.name}[{subnet}]"
                    self.segments.append(Segment(seg, name, zone))
                    segs.append(seg)
                subnet_table[subnet.version].append((subnet, seg))
        self._subnet_ranges = subnet_table

    def _build_links(self) -> None:
        nodes = self.topology.nodes
        for link in self.topology.links:
            if link.a in nodes and link.b in nodes:
                seg = len(self.segments)
                self.segments.append(Segment(seg, link.name, None, link))
                for end in (link.a, link.b):
                    self.node_links.setdefault(end, []).append(seg)
                    self.link_segments.setdefault(end, []).append(seg)
            else:
                node, zone = (link.a, link.b) if link.a in nodes else (link.b, link.a)
                segs = tuple(self.zone_segments.get(zone, []))
                self.node_links.setdefault(node, []).extend(segs)
                self.zone_links.setdefault(node, []).append((link.name, zone, segs))

    # -- elementary intervals ------------------------------------------------------------------

    def _features(self) -> list[tuple[IPRange, int]]:
        """Every selector that can tell two addresses apart (the cuts of path-analysis.md).

        Returns (range, feature) pairs: a feature is one selector (a permit's or channel's
        `from` / `to`, an allow-list, one gateway or linked node address), whatever number
        of ranges it spans. Two addresses in different subnets of a zone that a permit names
        match that permit alike, so they share a signature: a zone of 600 subnets is one
        feature, not 600 (else every subnet would become its own atom and its own finding).
        """
        ids: dict[tuple[IPRange, ...], int] = {}
        topo = self.topology

        def add(ranges: Iterable[IPRange]) -> None:
            key = tuple(ranges)
            if len(key) > 1:
                key = tuple(sorted(set(key)))
            if key and key not in ids:
                ids[key] = len(ids)

        for node in topo.nodes.values():
            for permit in node.permits or ():
                add(permit.source.ranges)
                add(permit.destination.ranges)
            add(node.allow_destinations)
            for upstream in node.upstream:  # an update server's sources (MN/LG-UPDATE-DIST)
                add(upstream.ranges)
            if node.role.judged_alone or node.name in self.node_links:
                for ip in node.addresses:
                    add((IPRange.single(ip),))
        for channel in topo.channels:
            add(channel.source.ranges)
            add(channel.destination.ranges)
        pairs = {(rng, fid) for key, fid in ids.items() for rng in key}
        # The order of (range, feature) tuples, without the slow dataclass comparisons.
        return sorted(pairs, key=lambda pair: (*astuple_range(pair[0]), pair[1]))

    def _build_intervals(self) -> None:
        features = self._features()
        nonglobal = _nonglobal_ranges()
        signatures: dict[frozenset[int], int] = {}
        self.signatures: list[frozenset[int]] = []
        for version, end in ((4, _V4_END), (6, _V6_END)):
            bounds = {0, end}
            sub_events: dict[int, list[tuple[int, int]]] = {}
            for rng, seg in self._subnet_ranges[version]:
                bounds.add(rng.first)
                bounds.add(rng.last + 1)
                sub_events.setdefault(rng.first, []).append((1, seg))
                sub_events.setdefault(rng.last + 1, []).append((-1, seg))
            events: dict[int, list[tuple[int, int]]] = {}
            for rng, fid in features:
                if rng.version != version:
                    continue
                bounds.add(rng.first)
                bounds.add(rng.last + 1)
                events.setdefault(rng.first, []).append((1, fid))
                events.setdefault(rng.last + 1, []).append((-1, fid))
            scope_bounds = {0}  # where the segments, zone or scope of an address may change
            scope_bounds.update(sub_events)
            for rng in nonglobal:
                if rng.version == version:
                    bounds.add(rng.first)
                    bounds.add(rng.last + 1)
                    scope_bounds.add(rng.first)
                    scope_bounds.add(rng.last + 1)
            ordered = sorted(bounds)
            active: dict[int, int] = {}  # feature -> its ranges holding the interval
            on: dict[int, int] = {}  # segment -> subnets of it holding the interval
            out = self.intervals[version]
            segs: tuple[int, ...] = ()
            zone: Zone | None = None
            sig_id = -1
            for first, nxt in zip(ordered, ordered[1:], strict=False):
                changes = events.get(first)
                if changes:
                    for delta, fid in changes:
                        active[fid] = active.get(fid, 0) + delta
                    for _delta, fid in changes:
                        if not active.get(fid, 1):
                            del active[fid]
                for delta, seg in sub_events.get(first, ()):
                    count = on.get(seg, 0) + delta
                    if count:
                        on[seg] = count
                    else:
                        del on[seg]
                # Segments, zone and scope only change at a subnet or special-range boundary,
                # the signature only where a feature starts or ends (netaddr is slow).
                if first in scope_bounds:
                    segs, zone = (), None
                    if on:
                        segs = tuple(sorted(on))
                        zone = self.addresses.zone_of(IP(version, first))
                    elif classify_unzoned(IP(version, first)) is Scope.PUBLIC:
                        segs, zone = (PUBLIC_SEGMENT,), PUBLIC_INTERNET_ZONE
                if changes or sig_id < 0:
                    sig = frozenset(active)
                    sig_id = signatures.get(sig, -1)
                    if sig_id < 0:
                        sig_id = signatures[sig] = len(self.signatures)
                        self.signatures.append(sig)
                out.append(Interval(version, first, nxt - 1, segs, zone, sig_id))
            self._starts[version] = [iv.first for iv in out]

    def interval_of(self, ip: IP) -> Interval:
        """The elementary interval holding an address."""
        table = self.intervals[ip.version]
        return table[bisect_right(self._starts[ip.version], ip.value) - 1]

    # -- nodes ---------------------------------------------------------------------------------

    def _attach_nodes(self) -> None:
        """Count node addresses per interval; collect forwarders and their segments."""
        interval_of = self.interval_of
        self.endpoint_nodes: list[Node] = []
        for node in self.topology.nodes.values():
            segs: list[int] = []
            for ip in node.addresses:
                iv = interval_of(ip)
                iv.node_count += 1
                for seg in iv.segments:
                    if seg not in segs:
                        segs.append(seg)
            for seg in self.node_links.get(node.name, ()):
                if seg not in segs:
                    segs.append(seg)
            if node.role.forwards:
                fwd = Forwarder(node, tuple(segs), node.filtering)
                if node.permits:
                    start = len(self.permits)
                    self.permits.extend(node.permits)
                    fwd.permit_indices = range(start, len(self.permits))
                self.forwarders.append(fwd)
                self.forwarder_by_name[node.name] = fwd
            else:
                self.endpoint_nodes.append(node)
        self.forwarders.sort(key=lambda f: f.node.name)

    def _build_islands(self) -> None:
        uf = UnionFind(len(self.segments))
        for fwd in self.forwarders:
            if not fwd.filtering:
                for seg in fwd.segments[1:]:
                    uf.union(fwd.segments[0], seg)
        roots: dict[int, int] = {}
        self.island_of: list[int] = []
        for seg in range(len(self.segments)):
            root = uf.find(seg)
            if root not in roots:
                roots[root] = len(roots)
            self.island_of.append(roots[root])
        self.island_count = len(roots)
        self.island_forwarders: list[list[Forwarder]] = [[] for _ in range(self.island_count)]
        for fwd in self.forwarders:
            islands = sorted({self.island_of[s] for s in fwd.segments})
            fwd.islands = tuple(islands)
            if fwd.filtering and len(islands) > 1:
                for isl in islands:
                    self.island_forwarders[isl].append(fwd)

    # -- atoms ---------------------------------------------------------------------------------

    def _atom(self, key: tuple[frozenset[int], str, int], zone: Zone, ip: IP) -> Atom:
        atom_index = self._atom_keys.get(key)
        if atom_index is None:
            atom_index = self._atom_keys[key] = len(self.atoms)
            self.atoms.append(Atom(atom_index, zone, ip, key[0]))
        return self.atoms[atom_index]

    def _build_atoms(self) -> None:
        self._atom_keys: dict[tuple[frozenset[int], str, int], int] = {}
        island_of = self.island_of
        node_ips: set[IP] = set(self.addresses.nodes_by_address)
        islands_of: dict[tuple[int, ...], frozenset[int]] = {}  # per interval segments
        # Zone remainders first, in address order, so atom numbering is stable.
        for version in (4, 6):
            for iv in self.intervals[version]:
                if not iv.segments or iv.zone is None:
                    continue
                if iv.last - iv.first + 1 <= iv.node_count:
                    continue
                islands = islands_of.get(iv.segments)
                if islands is None:
                    islands = islands_of[iv.segments] = frozenset(island_of[s] for s in iv.segments)
                key = (islands, iv.zone.name, iv.signature)
                rep = _first_free(iv, node_ips)
                atom = self._atom(key, iv.zone, rep)
                atom.segments.update(iv.segments)
                atom.terminals.update(("seg", s) for s in iv.segments)
                iv.atom = atom.index
                if not atom.rest:
                    atom.rest = True
                    atom.rep = rep
        plain: dict[int, Atom] = {}  # id(interval) -> atom of a node address with no links
        interval_of = self.interval_of
        for node in self.endpoint_nodes:
            name = node.name
            links = self.node_links.get(name)
            for ip in node.addresses:
                iv = interval_of(ip)
                if not iv.segments or iv.zone is None:
                    continue  # local-scope address: never an endpoint of a judged path
                if not links:  # the common case: one lookup per address
                    atom = plain.get(id(iv))  # type: ignore[assignment]
                    if atom is None:
                        islands = islands_of.get(iv.segments)
                        if islands is None:
                            islands = frozenset(island_of[s] for s in iv.segments)
                            islands_of[iv.segments] = islands
                        atom = self._atom((islands, iv.zone.name, iv.signature), iv.zone, ip)
                        atom.segments.update(iv.segments)
                        atom.terminals.update(("seg", s) for s in iv.segments)
                        plain[id(iv)] = atom
                    atom.nodes.append((name, ip))
                    continue
                segs = {*iv.segments, *links}
                key = (frozenset(island_of[s] for s in segs), iv.zone.name, iv.signature)
                atom = self._atom(key, iv.zone, ip)
                atom.segments.update(segs)
                atom.terminals.update(("seg", s) for s in iv.segments)
                atom.terminals.update(("seg", s) for s in self.link_segments.get(name, ()))
                atom.terminals.update(("link", n) for n, _, _ in self.zone_links.get(name, ()))
                atom.nodes.append((name, ip))
        for atom in self.atoms:
            atom.nodes.sort()
            if not atom.rest:
                atom.rep = atom.nodes[0][1]
        # Bitsets over atoms, each built in one pass (`|= 1 << i` would copy it per atom).
        in_island: list[list[int]] = [[] for _ in range(self.island_count)]
        in_tier: dict[Tier, list[int]] = {}
        for atom in self.atoms:
            for isl in atom.islands:
                in_island[isl].append(atom.index)
            in_tier.setdefault(atom.tier, []).append(atom.index)
        self.atoms_in: list[int] = [bitset(members) for members in in_island]
        self.tier_bits: dict[Tier, int] = {tier: bitset(m) for tier, m in in_tier.items()}


def bitset(indices: Iterable[int]) -> int:
    """A Python int with these bits set, built through a byte buffer in one pass (setting
    bits one at a time copies the whole int each time: quadratic in its width)."""
    indices = list(indices)
    if not indices:
        return 0
    buf = bytearray(max(indices) // 8 + 1)
    for i in indices:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


def astuple_range(rng: IPRange) -> tuple[int, int, int]:
    """An IPRange's sort key (the order of its fields)."""
    return (rng.version, rng.first, rng.last)


def _first_free(iv: Interval, taken: set[IP]) -> IP:
    """An address of the interval owned by no node (skip a subnet's network address if free)."""
    value = iv.first
    if iv.last - iv.first >= 2:
        value += 1  # nicer example than the network address; any member is judged alike
    while IP(iv.version, value) in taken:
        value += 1
        if value > iv.last:
            value = iv.first
    return IP(iv.version, value)
