"""The searcher as it was before issue 11 ("Scale"), kept verbatim as a reference.

It matches every permit against every atom and loops over a forwarder's permits on every
crossing: quadratic, but obviously right. `test_search_equivalence.py` checks that the fast
`segcheck.analysis.search.Searcher` and `PathAnalysis` give exactly what this one gives.
"""

from __future__ import annotations

from collections import deque

from segcheck.analysis.network import Atom, Forwarder, Network
from segcheck.analysis.search import Batch, SearchResult
from segcheck.model import Role


class ReferenceSearcher:
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
