"""Exact reachability over the island graph, per (source atom, service atom).

A search starts from the islands of a source atom carrying the set of destination atoms still
possible (a Python int used as a bitset). Crossing a filtering forwarder intersects that set with
what the forwarder lets through for this source and service (the union of the `to` sets of its
matching permits; an lbo-gateway's allow-list). Each island keeps the union of bits that already
arrived and only new bits travel on, so each island is revisited at most once per new bit: a
fixpoint. Permits test addresses only (never the interface), so a walk through the island graph
is as good as a simple path in the topology: every forwarder on a walk sees the same flow.

Searches are shared: the reachable set depends only on the start islands and on which permits
match (source, service), so sources and services with the same key share one search.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..model import ANY_SERVICE, Role, Topology
from ..policy import accepts, delivers
from .network import Atom, Forwarder, Network

OTHER_SERVICE = "(other)"  # stands for every service that nothing in the topology names


def service_atoms(topology: Topology) -> tuple[str, ...]:
    """Services that can change an answer, plus OTHER_SERVICE for all the rest.

    A service matters when a permit, a channel or a gateway (accepts / delivers, defaults
    included) names it; `smtp` always matters (LG-OUTBOUND-DATA to a mail-relay).
    """
    names: set[str] = {"smtp"}
    for node in topology.nodes.values():
        for permit in node.permits or ():
            names.update(permit.services)
        if node.role.gateway:
            names.update(accepts(node))
            names.update(delivers(node))
    for channel in topology.channels:
        names.update(channel.services)
    names.discard(ANY_SERVICE)
    return (*sorted(names), OTHER_SERVICE)


def iter_bits(bits: int) -> Iterator[int]:
    """Indices of the set bits, lowest first."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


@dataclass(slots=True)
class Batch:
    """Bits that first arrived at an island, and from where."""

    bits: int
    depth: int
    prev: int | None  # previous island, None at a start island
    forwarder: Forwarder | None


@dataclass(slots=True)
class SearchResult:
    """Where the destination bits of one search arrived."""

    arrived: dict[int, int]
    batches: dict[int, list[Batch]] = field(default_factory=dict)

    def reached(self, network: Network) -> int:
        """Every destination atom reached (in any of its islands)."""
        bits = 0
        atoms_in = network.atoms_in
        for island, arrived in self.arrived.items():
            bits |= arrived & atoms_in[island]
        return bits

    def chain(self, atom: Atom) -> list[tuple[int, Forwarder | None]]:
        """(island, forwarder crossed to get there) from a start island to the atom."""
        bit = 1 << atom.index
        best: tuple[int, int] | None = None
        for island in sorted(atom.islands):
            for batch in self.batches.get(island, ()):
                if batch.bits & bit and (best is None or batch.depth < best[0]):
                    best = (batch.depth, island)
        if best is None:
            raise KeyError(atom.index)
        island = best[1]
        steps: list[tuple[int, Forwarder | None]] = []
        while True:
            batch = next(b for b in self.batches[island] if b.bits & bit)
            steps.append((island, batch.forwarder))
            if batch.prev is None:
                break
            island = batch.prev
        steps.reverse()
        return steps


class Searcher:
    """Runs and caches searches over one network for one set of service atoms."""

    def __init__(self, network: Network, services: tuple[str, ...], *, use_lbo: bool = True):
        self.network = network
        self.services = services
        self.use_lbo = use_lbo
        atoms = network.atoms
        permits = network.permits
        self.all_bits = (1 << len(atoms)) - 1
        self.to_bits: list[int] = []
        self.from_mask: list[int] = [0] * len(atoms)  # per atom: permits whose `from` holds it
        for p, permit in enumerate(permits):
            to_bits = 0
            for atom in atoms:
                if permit.destination.matches(atom.rep):
                    to_bits |= 1 << atom.index
                if permit.source.matches(atom.rep):
                    self.from_mask[atom.index] |= 1 << p
            self.to_bits.append(to_bits)
        self.service_mask: list[int] = []
        for name in services:
            mask = 0
            for p, permit in enumerate(permits):
                if permit.any_service or name in permit.services:
                    mask |= 1 << p
            self.service_mask.append(mask)
        self.lbo_bits: dict[str, int] = {}
        for fwd in network.forwarders:
            if fwd.node.role is Role.LBO_GATEWAY:
                bits = 0
                for atom in atoms:
                    if any(r.contains(atom.rep) for r in fwd.node.allow_destinations):
                        bits |= 1 << atom.index
                self.lbo_bits[fwd.node.name] = bits
        self._pass_cache: dict[tuple[str, int], int] = {}
        self._cache: dict[tuple[frozenset[int], int], SearchResult] = {}

    def mask(self, atom: Atom, service: int) -> int:
        """Permits that match this source atom and service atom."""
        return self.from_mask[atom.index] & self.service_mask[service]

    def passes(self, fwd: Forwarder, mask: int) -> int:
        """Destination atoms a filtering forwarder lets through for this permit mask."""
        if fwd.node.role is Role.LBO_GATEWAY:
            return self.lbo_bits[fwd.node.name] if self.use_lbo else 0
        own = 0
        for p in fwd.permit_indices:
            if mask >> p & 1:
                own |= 1 << p
        key = (fwd.node.name, own)
        cached = self._pass_cache.get(key)
        if cached is None:
            cached = 0
            for p in fwd.permit_indices:
                if own >> p & 1:
                    cached |= self.to_bits[p]
            self._pass_cache[key] = cached
        return cached

    def search(self, atom: Atom, service: int) -> SearchResult:
        """Reachability from one source atom on one service atom (cached by key)."""
        mask = self.mask(atom, service)
        key = (atom.islands, mask)
        result = self._cache.get(key)
        if result is None:
            result = self._run(sorted(atom.islands), mask)
            self._cache[key] = result
        return result

    def _run(self, starts: list[int], mask: int) -> SearchResult:
        network = self.network
        arrived: dict[int, int] = {}
        batches: dict[int, list[Batch]] = {}
        queue: deque[tuple[int, int, int]] = deque()
        for island in starts:
            arrived[island] = self.all_bits
            batches[island] = [Batch(self.all_bits, 0, None, None)]
            queue.append((island, self.all_bits, 0))
        while queue:
            island, bits, depth = queue.popleft()
            for fwd in network.island_forwarders[island]:
                through = bits & self.passes(fwd, mask)
                if not through:
                    continue
                for nxt in fwd.islands:
                    if nxt == island:
                        continue
                    new = through & ~arrived.get(nxt, 0)
                    if new:
                        arrived[nxt] = arrived.get(nxt, 0) | new
                        batches.setdefault(nxt, []).append(Batch(new, depth + 1, island, fwd))
                        queue.append((nxt, new, depth + 1))
        return SearchResult(arrived, batches)

    def opening_permit(self, fwd: Forwarder, mask: int, atom: Atom) -> str:
        """The first permit (declared order) of a forwarder that lets this flow through."""
        if fwd.node.role is Role.LBO_GATEWAY:
            return fwd.node.name
        bit = 1 << atom.index
        for p in fwd.permit_indices:
            if mask >> p & 1 and self.to_bits[p] & bit:
                return self.network.permits[p].id
        raise KeyError(fwd.node.name)
