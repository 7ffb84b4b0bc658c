"""Path analysis as it was before issue 11 ("Scale"), kept as the reference for equivalence.

The searcher matches every permit against every atom with bitsets over all permits and loops
over a forwarder's permits on every crossing; facts search every (source atom, service) pair;
a remediation looks at every permit; intervals are rebuilt at every boundary. Quadratic, but
obviously right: `test_search_equivalence.py` checks that the fast code gives exactly this.
The code is the old code, turned from methods into functions where it was a method.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from segcheck.addressing import Scope, classify_unzoned
from segcheck.analysis.network import Atom, Forwarder, Network
from segcheck.analysis.paths import Fact, PathAnalysis
from segcheck.analysis.search import Batch, SearchResult, iter_bits
from segcheck.findings import Cause, CauseKind
from segcheck.model import IP, PUBLIC_INTERNET_ZONE, IPRange, Role, Tier, Zone
from segcheck.policy import Outcome


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


def reference_facts(
    analysis: PathAnalysis, searcher: ReferenceSearcher, lbo_free: ReferenceSearcher | None
) -> list[Fact]:
    """`PathAnalysis._facts` as it was: every (source atom, service atom) searched.

    Issue 12 changed what a fact is, not how it is searched: pairs of one node's own
    addresses, pairs across address families and facts between a channel's endpoints (now
    split by route) are left out here, and the opening is the permits crossed only.
    """
    network = analysis.network
    atoms = network.atoms
    lookup = analysis.addresses.lookup
    infos = [lookup(a.rep) for a in atoms]
    candidates = analysis._candidates()
    pi_bits = network.tier_bits.get(Tier.PUBLIC_INTERNET, 0)
    facts: list[Fact] = []
    for src in atoms:
        cand = candidates.get(src.tier, 0)
        if not cand:
            continue
        for v, service in enumerate(analysis.services):
            result = searcher.search(src, v)
            reached = result.reached(network) & cand
            if not reached:
                continue
            free: SearchResult | None = None
            free_reached = 0
            if lbo_free is not None and src.tier is Tier.LGWAN and reached & pi_bits:
                free = lbo_free.search(src, v)
                free_reached = free.reached(network)
            for d in iter_bits(reached):
                dst = atoms[d]
                if dst.rep.version != src.rep.version or not analysis.pairs(src, dst):
                    continue
                use, used = result, searcher
                via_lbo = None
                if free is not None and dst.tier is Tier.PUBLIC_INTERNET:
                    if free_reached >> d & 1:
                        use = free
                        assert lbo_free is not None
                        used = lbo_free
                    else:
                        chain = result.chain(dst)
                        via_lbo = next(
                            f.node
                            for _, f in chain
                            if f is not None and f.node.role is Role.LBO_GATEWAY
                        )
                judgement = analysis.policy.judge(
                    infos[src.index], infos[d], service, via_lbo=via_lbo, path=True
                )
                if judgement.outcome in (Outcome.PERMITTED, Outcome.SANITIZED):
                    continue
                if judgement.channel is not None:
                    continue
                chain = use.chain(dst)
                mask = used.mask(src, v)
                opening = tuple(
                    used.opening_permit(f, mask, dst) for _, f in chain if f is not None
                )
                cause = Cause(CauseKind.PERMITS, opening)  # not compared: found per route
                pairs = analysis.pairs(src, dst)
                facts.append(
                    Fact(src, dst, service, judgement, tuple(chain), opening, False, cause, pairs)
                )
    return facts


def reference_usable(
    analysis: PathAnalysis, searcher: ReferenceSearcher, facts: list[Fact]
) -> list[tuple[str, str]]:
    """The usable permits of a group as `_remediation` found them: a test of every permit."""
    network = analysis.network
    usable: set[tuple[str, str]] = set()
    for fact in facts:
        v = analysis.services.index(fact.service)
        mask = searcher.mask(fact.src, v)
        dbit = 1 << fact.dst.index
        for p in range(len(network.permits)):
            if mask >> p & 1 and searcher.to_bits[p] & dbit:
                permit = network.permits[p]
                usable.add((permit.owner, permit.id))
    return sorted(usable)


def _features(network: Network) -> list[tuple[IPRange, int]]:
    ids: dict[tuple[IPRange, ...], int] = {}
    topo = network.topology

    def add(ranges: Any) -> None:
        key = tuple(sorted(set(ranges)))
        if key and key not in ids:
            ids[key] = len(ids)

    for node in topo.nodes.values():
        for permit in node.permits or ():
            add(permit.source.ranges)
            add(permit.destination.ranges)
        add(node.allow_destinations)
        if node.role.gateway or node.name in network.node_links:
            for ip in node.addresses:
                add((IPRange.single(ip),))
    for channel in topo.channels:
        add(channel.source.ranges)
        add(channel.destination.ranges)
    return sorted({(rng, fid) for key, fid in ids.items() for rng in key})


def reference_intervals(
    network: Network,
) -> list[tuple[int, int, int, tuple[int, ...], Zone | None, int, frozenset[int]]]:
    """`Network._build_intervals` as it was, each interval as (version, first, last,
    segments, zone, signature id, signature)."""
    from segcheck.analysis.network import _V4_END, _V6_END, PUBLIC_SEGMENT, _nonglobal_ranges

    features = _features(network)
    nonglobal = _nonglobal_ranges()
    signatures: dict[frozenset[int], int] = {}
    out: list[tuple[int, int, int, tuple[int, ...], Zone | None, int, frozenset[int]]] = []
    for version, end in ((4, _V4_END), (6, _V6_END)):
        bounds = {0, end}
        sub_events: dict[int, list[tuple[int, int]]] = {}
        for rng, seg in network._subnet_ranges[version]:
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
        for rng in nonglobal:
            if rng.version == version:
                bounds.add(rng.first)
                bounds.add(rng.last + 1)
        ordered = sorted(bounds)
        active: dict[int, int] = {}
        on: dict[int, int] = {}
        for first, nxt in zip(ordered, ordered[1:], strict=False):
            for delta, fid in events.get(first, ()):
                active[fid] = active.get(fid, 0) + delta
            for _delta, fid in events.get(first, ()):
                if not active.get(fid, 1):
                    del active[fid]
            for delta, seg in sub_events.get(first, ()):
                count = on.get(seg, 0) + delta
                if count:
                    on[seg] = count
                else:
                    del on[seg]
            segs: tuple[int, ...] = ()
            zone: Zone | None = None
            if on:
                segs = tuple(sorted(on))
                zone = network.addresses.zone_of(IP(version, first))
            elif classify_unzoned(IP(version, first)) is Scope.PUBLIC:
                segs, zone = (PUBLIC_SEGMENT,), PUBLIC_INTERNET_ZONE
            sig = frozenset(active)
            sig_id = signatures.get(sig)
            if sig_id is None:
                sig_id = signatures[sig] = len(signatures)
            out.append((version, first, nxt - 1, segs, zone, sig_id, sig))
    return out
