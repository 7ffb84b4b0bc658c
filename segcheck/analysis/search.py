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

Scale (issue 11): an imported rulebase names thousands of distinct hosts, so there are about as
many atoms as permits, and anything done per (permit, atom) or per (atom, service) pair is
quadratic. Hence: a permit's `from` / `to` atoms are found by bisect over the atoms sorted by
representative address (each range costs a log plus its matches); a mask is a short sorted tuple
of permit indices (an atom matches few permits), not a bitset over every permit; a forwarder's
share of a mask is a slice (its permits are consecutive); and `service_masks` gives an atom's
mask for every service at once (one default plus the services its permits name), so a caller
searches once per distinct mask instead of once per service. A search can be limited to a
`Scope` of destinations (the path analysis only wants atoms of other tiers whose cell is not a
plain allow): it then carries far fewer bits, and the permits that send nowhere in the scope
drop out of the masks, so most atoms share one search. Caches are bounded: most masks belong to
one atom and are never asked for again.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from ..model import ANY_SERVICE, IPRange, Role, SelectorKind, Topology
from ..policy import accepts, delivers
from .network import Atom, Forwarder, Network, bitset

_K = TypeVar("_K")
_V = TypeVar("_V")

OTHER_SERVICE = "(other)"  # stands for every service that nothing in the topology names

Mask = tuple[int, ...]  # the permits (indices into Network.permits) matching a flow, ascending
_DENSE = 64  # a permit whose `to` holds more atoms than this keeps them as a bitset too
_CACHE_LIMIT = 4096  # entries per cache before it is emptied (memory stays bounded)


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
    _reached: int | None = None

    def reached(self, network: Network) -> int:
        """Every destination atom reached (in any of its islands)."""
        if self._reached is None:
            bits = 0
            atoms_in = network.atoms_in
            for island, arrived in self.arrived.items():
                bits |= arrived & atoms_in[island]
            self._reached = bits
        return self._reached

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


class _AtomIndex:
    """Atoms sorted by representative address, per IP version, to find a range's atoms by bisect.

    Every member of an atom is judged alike by every selector (network.py), so a selector holds
    an atom exactly when it holds the atom's representative.
    """

    def __init__(self, atoms: list[Atom]) -> None:
        pairs: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for atom in atoms:
            pairs[atom.rep.version].append((atom.rep.value, atom.index))
        self.values: dict[int, list[int]] = {}
        self.order: dict[int, list[int]] = {}
        for version, items in pairs.items():
            items.sort()
            self.values[version] = [value for value, _ in items]
            self.order[version] = [index for _, index in items]

    def within(self, ranges: Iterable[IPRange]) -> list[int]:
        """Indices of the atoms in any of the ranges, ascending, each once."""
        out: list[int] = []
        count = 0
        for rng in ranges:
            values = self.values.get(rng.version)
            if not values:
                continue
            lo = bisect_left(values, rng.first)
            hi = bisect_right(values, rng.last, lo)
            out.extend(self.order[rng.version][lo:hi])
            count += 1
        return sorted(set(out)) if count > 1 else sorted(out)  # ranges may overlap


def _put(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Store in a memo, emptying it first when full: bounded memory, same answers."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


class Scope:
    """The destination atoms a search is limited to (`Searcher.scope`); hashed by identity."""

    __slots__ = ("bits", "_bytes", "relevant", "any_source")

    def __init__(self, bits: int, nbytes: int) -> None:
        self.bits = bits
        self._bytes = bits.to_bytes(nbytes, "little")
        self.relevant: dict[int, bool] = {}  # per permit: does its `to` meet the scope?
        self.any_source: Mask | None = None  # the permits from `any` that meet it

    def holds(self, atom: int) -> bool:
        """True when the atom is in the scope (a byte lookup: no shift of a long int)."""
        return bool(self._bytes[atom >> 3] >> (atom & 7) & 1)


class Searcher:
    """Runs searches over one network for one set of service atoms (see the module docstring)."""

    def __init__(self, network: Network, services: tuple[str, ...], *, use_lbo: bool = True):
        self.network = network
        self.services = services
        self.use_lbo = use_lbo
        atoms = network.atoms
        permits = network.permits
        self.all_bits = (1 << len(atoms)) - 1
        self._nbytes = (len(atoms) + 7) // 8
        self.everything = Scope(self.all_bits, self._nbytes)
        index = _AtomIndex(atoms)
        service_index = {name: v for v, name in enumerate(services)}
        # Per permit: the atoms its `to` holds (None: every atom), and the services it names.
        self._to: list[tuple[int, ...] | None] = []
        self._dense: dict[int, int] = {}
        self._any_service: list[bool] = []
        self._service_ids: list[tuple[int, ...]] = []
        from_lists: list[list[int]] = [[] for _ in atoms]
        any_source: list[int] = []
        for p, permit in enumerate(permits):
            if permit.destination.kind is SelectorKind.ANY:
                self._to.append(None)
            else:
                self._to.append(tuple(index.within(permit.destination.ranges)))
            if permit.source.kind is SelectorKind.ANY:
                any_source.append(p)
            else:
                for a in index.within(permit.source.ranges):
                    from_lists[a].append(p)  # permits in order: each list stays ascending
            self._any_service.append(permit.any_service)
            ids = {service_index[n] for n in permit.services if n in service_index}
            self._service_ids.append(tuple(sorted(ids)))
        self._from: list[Mask] = [tuple(ps) for ps in from_lists]
        self._any_source: Mask = tuple(any_source)
        self.lbo_bits: dict[str, int] = {}
        for fwd in network.forwarders:
            if fwd.node.role is Role.LBO_GATEWAY:
                allowed = index.within(fwd.node.allow_destinations)
                self.lbo_bits[fwd.node.name] = bitset(allowed)
        self._masks: dict[tuple[Mask, Scope | None], tuple[Mask, dict[int, Mask]]] = {}
        self._pass_cache: dict[tuple[Mask, Scope], int] = {}
        self._cache: dict[tuple[frozenset[int], Mask, Scope], SearchResult] = {}

    def scope(self, bits: int) -> Scope:
        """A scope for `search_mask`: keep it and pass the same object to share searches."""
        return Scope(bits & self.all_bits, self._nbytes)

    def service_masks(self, atom: Atom, scope: Scope | None = None) -> tuple[Mask, dict[int, Mask]]:
        """The atom's mask for every service: (default, {service: mask}).

        A service that none of the atom's permits names gets the default: the permits of the
        atom that match every service. With a scope, the masks keep only the permits whose
        `to` meets it: the others add nothing to a search limited to the scope, nor open a
        path to an atom in it. Most permits join endpoints that may talk to each other, so
        most atoms then have one empty mask for every service, and share one search.
        """
        own = self._from[atom.index]
        any_source = self._any_source
        if scope is not None:
            own = tuple(p for p in own if self._meets(p, scope))
            if scope.any_source is None:
                scope.any_source = tuple(p for p in any_source if self._meets(p, scope))
            any_source = scope.any_source
        key = (own, scope)
        found = self._masks.get(key)
        if found is None:
            permits = tuple(sorted(own + any_source)) if any_source else own
            any_service = self._any_service
            service_ids = self._service_ids
            default = tuple(p for p in permits if any_service[p])
            named: dict[int, list[int]] = {}
            for p in permits:
                if not any_service[p]:
                    for v in service_ids[p]:
                        named.setdefault(v, []).append(p)
            if default:
                special = {v: tuple(sorted(default + tuple(ps))) for v, ps in named.items()}
            else:
                special = {v: tuple(ps) for v, ps in named.items()}  # ascending already
            found = (default, special)
            _put(self._masks, key, found)
        return found

    def _meets(self, permit: int, scope: Scope) -> bool:
        """True when the permit's `to` holds an atom of the scope (memo on the scope)."""
        hit = scope.relevant.get(permit)
        if hit is None:
            to = self._to[permit]
            if to is None:
                hit = bool(scope.bits)
            elif len(to) > _DENSE:
                hit = bool(self._dense_bits(permit) & scope.bits)
            else:
                hit = any(scope.holds(a) for a in to)
            scope.relevant[permit] = hit
        return hit

    def _dense_bits(self, permit: int) -> int:
        """The atoms of a permit with a large `to`, as a bitset (memo)."""
        dense = self._dense.get(permit)
        if dense is None:
            to = self._to[permit]
            assert to is not None
            dense = self._dense[permit] = bitset(to)
        return dense

    def mask(self, atom: Atom, service: int) -> Mask:
        """Permits that match this source atom and service atom."""
        own = self._from[atom.index]
        permits = tuple(sorted(own + self._any_source)) if self._any_source else own
        any_service, service_ids = self._any_service, self._service_ids
        return tuple(p for p in permits if any_service[p] or service in service_ids[p])

    def sends_to(self, permit: int, atom: int) -> bool:
        """True when the permit's `to` holds the atom."""
        to = self._to[permit]
        if to is None:
            return True
        i = bisect_left(to, atom)
        return i < len(to) and to[i] == atom

    def _own(self, fwd: Forwarder, mask: Mask) -> Mask:
        """The forwarder's permits in a mask (its permits have consecutive indices)."""
        span = fwd.permit_indices
        if not span or not mask:
            return ()
        lo = bisect_left(mask, span.start)
        return mask[lo : bisect_left(mask, span.stop, lo)]

    def passes(self, fwd: Forwarder, mask: Mask, scope: Scope | None = None) -> int:
        """Destination atoms (of the scope) a filtering forwarder lets through for a mask."""
        if fwd.node.role is Role.LBO_GATEWAY:
            return self.lbo_bits[fwd.node.name] if self.use_lbo else 0
        own = self._own(fwd, mask)
        if not own:
            return 0
        scope = scope or self.everything
        key = (own, scope)  # permit indices are unique: no forwarder in the key
        cached = self._pass_cache.get(key)
        if cached is None:
            cached = self._union(own, scope)
            _put(self._pass_cache, key, cached)
        return cached

    def _union(self, own: Mask, scope: Scope) -> int:
        """The atoms of the scope that any of these permits sends to, as a bitset."""
        bits = 0
        hits: list[int] = []
        everything = scope is self.everything
        for p in own:
            to = self._to[p]
            if to is None:
                return scope.bits
            if len(to) > _DENSE:
                dense = self._dense_bits(p)
                bits |= dense if everything else dense & scope.bits
            elif everything:
                hits.extend(to)
            else:
                hits.extend(a for a in to if scope.holds(a))
        if len(hits) > 4:
            bits |= bitset(hits)
        else:
            for a in hits:
                bits |= 1 << a
        return bits

    def search(self, atom: Atom, service: int) -> SearchResult:
        """Reachability from one source atom on one service atom."""
        return self.search_mask(atom, self.mask(atom, service))

    def search_mask(self, atom: Atom, mask: Mask, scope: Scope | None = None) -> SearchResult:
        """Reachability from one source atom for the flows a mask stands for (cached by key).

        A scope limits the search to some destination atoms (default: all). The result is the
        full search's restricted to them, batches included: a bit travels the same way whatever
        other bits travel with it, and batches holding none of them are simply never made. A
        caller that only wants candidates of other tiers thus moves far fewer bits.
        """
        scope = scope or self.everything
        key = (atom.islands, mask, scope)
        result = self._cache.get(key)
        if result is None:
            result = self._run(sorted(atom.islands), mask, scope)
            _put(self._cache, key, result)
        return result

    def _run(self, starts: list[int], mask: Mask, scope: Scope) -> SearchResult:
        network = self.network
        arrived: dict[int, int] = {}
        batches: dict[int, list[Batch]] = {}
        queue: deque[tuple[int, int, int]] = deque()
        passes: dict[str, int] = {}  # per forwarder, for this mask
        start = scope.bits
        for island in starts:
            arrived[island] = start
            batches[island] = [Batch(start, 0, None, None)]
            queue.append((island, start, 0))
        while queue:
            island, bits, depth = queue.popleft()
            for fwd in network.island_forwarders[island]:
                allowed = passes.get(fwd.node.name)
                if allowed is None:
                    allowed = passes[fwd.node.name] = self.passes(fwd, mask, scope)
                through = bits & allowed
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

    def opening_permit(self, fwd: Forwarder, mask: Mask, atom: Atom) -> str:
        """The first permit (declared order) of a forwarder that lets this flow through."""
        if fwd.node.role is Role.LBO_GATEWAY:
            return fwd.node.name
        for p in self._own(fwd, mask):
            if self.sends_to(p, atom.index):
                return self.network.permits[p].id
        raise KeyError(fwd.node.name)
