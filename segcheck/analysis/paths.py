"""Every forbidden path of a planned topology, grouped, with witness and minimum cut (spec §3).

How (path-analysis.md): `network.Network` contracts segments into islands and endpoints into
atoms; `search.Searcher` finds, per (source atom, service atom), every destination atom reachable
through the filtering forwarders; each reachable (source, destination, service) whose tier pair
is not plain `allow` is judged by `Policy.judge`, the same judgement capture scanning uses.

Grouping and fields of a path finding:
- one finding per (rule, source zone, destination zone, opening[, channel]); the **opening** of a
  fact is the chain of permit ids crossed on its first-found path (an lbo-gateway counts by its
  node name), or, for a path inside one island, the plain forwarders bridging it;
- `service`: the sorted service names of the group's facts, or `any` when every service atom is
  in it; `(other)` stands for every service that nothing in the topology names;
- `count`: distinct (source endpoint, destination endpoint) pairs in the group, where an endpoint
  is a node address or the remainder of an atom (addresses of it that belong to no node), each
  remainder counting as one endpoint;
- `src` / `dst` / `path`: an example pair and its witness, hop by hop, from src to dst;
- `remediation`: a minimum cut (graph.py) between every source and destination endpoint of the
  group (their segments, and the `links:` entries joining them to zones), over the permits the
  group's facts could use (all their routes, not only the first-found one), explicit links and
  forwarder attachments `node--zone`; removing it closes every path of every fact of the group;
- `location`: the lbo-gateway crossed, else the forwarder bridging two tiers, else the first
  permit of the opening.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..addressing import AddressMap
from ..findings import Finding, Location, PathEvidence, Remediation, RuleId, path_fingerprint
from ..model import IP, Profile, Role, Tier, Topology
from ..policy import MATRIX, CellKind, Judgement, Outcome, Policy
from ..rules import RULES_BY_ID, make_finding
from .graph import CutGraph, SegmentGraph, Terminal
from .network import Atom, Forwarder, Network
from .search import (
    OTHER_SERVICE,
    Mask,
    Scope,
    Searcher,
    SearchResult,
    iter_bits,
    service_atoms,
)


@dataclass(frozen=True, slots=True)
class PathResult:
    """Path findings and the paths that live channels cover."""

    findings: tuple[Finding, ...]
    excepted: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Fact:
    """One judged (source atom, destination atom, service atom) that is not permitted."""

    src: Atom
    dst: Atom
    service: str
    judgement: Judgement
    chain: tuple[tuple[int, Forwarder | None], ...]  # (island, forwarder crossed to get there)
    opening: tuple[str, ...]
    bridged: bool  # opening names plain forwarders inside one island, not permits


class PathAnalysis:
    """The ungrouped analysis: atoms, services and facts (tests compare these with an oracle)."""

    def __init__(self, topology: Topology, policy: Policy, addresses: AddressMap) -> None:
        self.topology = topology
        self.policy = policy
        self.addresses = addresses
        self.network = Network(topology, addresses)
        self.services = service_atoms(topology)
        self.service_index = {name: v for v, name in enumerate(self.services)}
        self.searcher = Searcher(self.network, self.services)
        has_lbo = any(f.node.role is Role.LBO_GATEWAY for f in self.network.forwarders)
        self.lbo_free: Searcher | None = None
        if has_lbo and topology.profile is Profile.ALPHA_PRIME:
            # Under alpha-prime an LG -> PI path through an lbo-gateway to an allow-listed
            # destination is allowed, so such facts need to know if an lbo-free route exists.
            self.lbo_free = Searcher(self.network, self.services, use_lbo=False)
        self._segments: SegmentGraph | None = None
        self._bridges: dict[tuple[int, int], tuple[str, ...]] = {}
        self.facts = self._facts()

    @property
    def segment_graph(self) -> SegmentGraph:
        """Built on first use: only findings need witnesses."""
        if self._segments is None:
            self._segments = SegmentGraph(self.network)
        return self._segments

    def _candidates(self) -> dict[Tier, int]:
        """Per source tier, the destination atoms whose cell is not plain allow."""
        out: dict[Tier, int] = {}
        tier_bits = self.network.tier_bits
        for src in tier_bits:
            bits = 0
            for dst, dbits in tier_bits.items():
                if src is not dst and MATRIX[(src, dst)].kind is not CellKind.ALLOW:
                    bits |= dbits
            out[src] = bits
        return out

    def _facts(self) -> list[Fact]:
        """Facts in (source atom, service, destination atom) order.

        Most services share an atom's default mask (none of its permits names them), so each
        distinct mask is searched once; a service is visited only when its mask reaches a
        candidate, or for every service when the default one does.
        """
        network = self.network
        atoms = network.atoms
        lookup = self.addresses.lookup
        infos = [lookup(a.rep) for a in atoms]
        candidates = self._candidates()
        # Searches only carry candidate destinations (see Searcher.search_mask).
        scopes = {tier: self.searcher.scope(bits) for tier, bits in candidates.items()}
        free_scopes = {}
        if self.lbo_free is not None:
            free_scopes = {tier: self.lbo_free.scope(bits) for tier, bits in candidates.items()}
        pi_bits = network.tier_bits.get(Tier.PUBLIC_INTERNET, 0)
        facts: list[Fact] = []
        for src in atoms:
            cand = candidates.get(src.tier, 0)
            if not cand:
                continue
            scope = scopes[src.tier]
            default, special = self.searcher.service_masks(src, scope)
            found: dict[Mask, tuple[SearchResult, int]] = {}
            services: Iterable[int] = sorted(special)
            if self._reach(src, default, scope, found)[1]:
                services = range(len(self.services))
            for v in services:
                mask = special.get(v, default)
                result, reached = self._reach(src, mask, scope, found)
                if not reached:
                    continue
                service = self.services[v]
                free: SearchResult | None = None
                free_reached = 0
                if self.lbo_free is not None and src.tier is Tier.LGWAN and reached & pi_bits:
                    free = self.lbo_free.search_mask(src, mask, free_scopes[src.tier])
                    free_reached = free.reached(network)
                for d in iter_bits(reached):
                    dst = atoms[d]
                    use, searcher = result, self.searcher
                    via_lbo = None
                    if free is not None and dst.tier is Tier.PUBLIC_INTERNET:
                        if free_reached >> d & 1:
                            use = free
                            assert self.lbo_free is not None
                            searcher = self.lbo_free
                        else:
                            chain = result.chain(dst)
                            via_lbo = next(
                                f.node
                                for _, f in chain
                                if f is not None and f.node.role is Role.LBO_GATEWAY
                            )
                    judgement = self.policy.judge(
                        infos[src.index], infos[d], service, via_lbo=via_lbo, path=True
                    )
                    if judgement.outcome in (Outcome.PERMITTED, Outcome.SANITIZED):
                        continue
                    chain = use.chain(dst)
                    opening = tuple(
                        searcher.opening_permit(f, mask, dst) for _, f in chain if f is not None
                    )
                    bridged = not opening
                    if bridged:
                        opening = self._bridge(src, dst, chain[0][0])
                    facts.append(Fact(src, dst, service, judgement, tuple(chain), opening, bridged))
        return facts

    def _reach(
        self, src: Atom, mask: Mask, scope: Scope, found: dict[Mask, tuple[SearchResult, int]]
    ) -> tuple[SearchResult, int]:
        """The search of one mask from an atom and the candidates it reaches (memo: found)."""
        hit = found.get(mask)
        if hit is None:
            result = self.searcher.search_mask(src, mask, scope)
            hit = found[mask] = (result, result.reached(self.network))
        return hit

    def _bridge(self, src: Atom, dst: Atom, island: int) -> tuple[str, ...]:
        key = (src.index, dst.index)
        hops = self._bridges.get(key)
        if hops is None:
            hops = tuple(
                self.segment_graph.forwarders_between(
                    self._segs_in(src, src.example_ip(), island),
                    self._segs_in(dst, dst.example_ip(), island),
                )
            )
            self._bridges[key] = hops
        return hops

    def _segs_in(self, atom: Atom, ip: IP, island: int) -> list[int]:
        """Segments of one member address of an atom that lie in an island."""
        network = self.network
        segs = set(network.interval_of(ip).segments)
        node = network.addresses.node_of(ip)
        if node is not None:
            segs.update(network.node_links.get(node.name, ()))
        return sorted(s for s in segs if s is not None and network.island_of[s] == island)

    def witness(self, fact: Fact) -> list[str]:
        """Hop by hop, from the source example to the destination example."""
        network = self.network
        src_ip, dst_ip = fact.src.example_ip(), fact.dst.example_ip()
        hops = [fact.src.example]
        chain = fact.chain
        here = self._segs_in(fact.src, src_ip, chain[0][0])
        for island, fwd in chain[1:]:
            assert fwd is not None
            prev_island = network.island_of[here[0]] if here else None
            exits = [s for s in fwd.segments if network.island_of[s] == prev_island]
            hops.extend(self.segment_graph.forwarders_between(here, exits))
            hops.append(fwd.node.name)
            here = [s for s in fwd.segments if network.island_of[s] == island]
        hops.extend(
            self.segment_graph.forwarders_between(
                here, self._segs_in(fact.dst, dst_ip, chain[-1][0])
            )
        )
        hops.append(fact.dst.example)
        return hops


def _service_label(services: set[str], all_services: tuple[str, ...]) -> str:
    if len(services) == len(all_services):
        return "any"
    return ",".join(sorted(services, key=lambda s: (s == OTHER_SERVICE, s)))


def _endpoint_rank(example: str, topology: Topology) -> int:
    """Terminals and servers make the clearest example, then zone remainders, then gateways."""
    node = topology.nodes.get(example)
    if node is None:
        return 1
    return 2 if node.role.gateway else 0


def _example_rank(fact: Fact, topology: Topology) -> tuple[object, ...]:
    """Order of preference for the fact a group shows as its example (deterministic)."""
    src, dst = fact.src.example, fact.dst.example
    return (
        src == dst,  # a two-legged gateway "reaching itself" is correct but says little
        _endpoint_rank(src, topology) + _endpoint_rank(dst, topology),
        src,
        dst,
        fact.src.index,
        fact.dst.index,
    )


def _group_key(fact: Fact) -> tuple[RuleId, str, str, tuple[str, ...], bool, str]:
    j = fact.judgement
    excepted = j.outcome is Outcome.EXCEPTED
    assert j.rule is not None  # a violation or an excepted fact always names its rule
    return (
        j.rule,
        fact.src.zone.name,
        fact.dst.zone.name,
        fact.opening,
        excepted,
        j.channel or "",
    )


def _messages(
    rule: RuleId,
    src: str,
    dst: str,
    src_zone: str,
    dst_zone: str,
    service: str,
    opening: tuple[str, ...],
    bridged: bool,
    count: int,
    channel: str | None,
    excepted: bool,
) -> tuple[str, str]:
    name = RULES_BY_ID[rule]
    what = "bridged by" if bridged else "opened by"
    through = ", ".join(opening) if opening else "a shared segment"
    via_ja = "ブリッジ" if bridged else "許可"
    en = (
        f"{name.name_en}: {src} ({src_zone}) reaches {dst} ({dst_zone}) on {service}, "
        f"{what} {through}; {count} endpoint pair(s)"
    )
    ja = (
        f"{name.name_ja}: {src}({src_zone})から {dst}({dst_zone})へ {service} で到達できる"
        f"({via_ja}: {through}、端点の組 {count} 件)"
    )
    if excepted and channel:
        en += f"; covered by channel {channel}"
        ja += f"。例外 {channel} により許可"
    elif channel:
        en += f"; channel {channel} pins these endpoints to another service or direction"
        ja += f"。例外 {channel} はこの端点間の別のサービス・方向しか許可していない"
    return en, ja


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, then restore it as it was.

    The analysis allocates hundreds of thousands of small objects (intervals, atoms, masks,
    bitsets) and makes no reference cycles of its own; each full collection meanwhile walks
    every live object, the loaded topology included, so with the collector on, building the
    analysis of a 32k-permit town took about twice as long, and the share grew with size.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse_paths(topology: Topology, policy: Policy, addresses: AddressMap) -> PathResult:
    """Every path that breaks a rule of spec §3, grouped, with witness and remediation."""
    with _collector_paused():
        return _analyse_paths(topology, policy, addresses)


def _analyse_paths(topology: Topology, policy: Policy, addresses: AddressMap) -> PathResult:
    analysis = PathAnalysis(topology, policy, addresses)
    groups: dict[tuple[RuleId, str, str, tuple[str, ...], bool, str], list[Fact]] = {}
    for fact in analysis.facts:
        groups.setdefault(_group_key(fact), []).append(fact)
    if not groups:
        return PathResult((), ())
    cut_graph = CutGraph(analysis.network)
    # where each permit is written: the topology, or an imported configuration's file
    permit_lines: dict[str, tuple[str, int | None]] = {}
    for p in analysis.network.permits:
        permit_lines.setdefault(p.id, (p.file or topology.source.path, p.line))
    findings: list[Finding] = []
    excepted: list[Finding] = []
    for key in sorted(groups):
        rule, src_zone, dst_zone, opening, is_excepted, channel = key
        facts = sorted(groups[key], key=lambda f: _example_rank(f, topology))
        first = facts[0]
        services = {f.service for f in facts}
        service = _service_label(services, analysis.services)
        pairs = {(f.src.index, f.dst.index): f for f in facts}
        count = sum(f.src.size * f.dst.size for f in pairs.values())
        path = analysis.witness(first)
        remediation = None
        if not is_excepted:
            remediation = _remediation(analysis, cut_graph, facts)
        location = _location(analysis, first, permit_lines, topology.source.path)
        en, ja = _messages(
            rule,
            first.src.example,
            first.dst.example,
            src_zone,
            dst_zone,
            service,
            opening,
            first.bridged,
            count,
            channel or None,
            is_excepted,
        )
        finding = make_finding(
            rule,
            en,
            ja,
            location,
            src_zone=src_zone,
            dst_zone=dst_zone,
            src_tier=first.src.tier.value,
            dst_tier=first.dst.tier.value,
            src=first.src.example,
            dst=first.dst.example,
            service=service,
            evidence=PathEvidence(
                tuple(path), () if first.bridged else opening, remediation, count
            ),
            channel=channel or None,
            fingerprint=path_fingerprint(rule, src_zone, dst_zone, opening, service),
        )
        (excepted if is_excepted else findings).append(finding)
    return PathResult(tuple(findings), tuple(excepted))


def _location(
    analysis: PathAnalysis,
    fact: Fact,
    permit_lines: dict[str, tuple[str, int | None]],
    topology_path: str,
) -> Location:
    """Where a finding points: the forwarder or permit that opens it.

    - through an lbo-gateway: the gateway's line;
    - bridged inside one island: the first bridging forwarder joining segments of two tiers
      (the leftover router, not the access switch in front of it), else the first one;
    - else the first permit of the opening.
    """
    network = analysis.network
    for _, fwd in fact.chain:
        if fwd is not None and fwd.node.role is Role.LBO_GATEWAY:
            return Location(topology_path, fwd.node.line)
    if fact.bridged:
        bridges = [network.forwarder_by_name[n] for n in fact.opening]
        for fwd in bridges:
            tiers = {
                seg.zone.tier
                for seg in (network.segments[s] for s in fwd.segments)
                if seg.zone is not None
            }
            if len(tiers) > 1:
                return Location(topology_path, fwd.node.line)
        return Location(topology_path, bridges[0].node.line if bridges else None)
    for item in fact.opening:
        if item in permit_lines:
            return Location(*permit_lines[item])
    return Location(topology_path)


def _remediation(analysis: PathAnalysis, cut_graph: CutGraph, facts: list[Fact]) -> Remediation:
    """A minimum cut closing every route of the group's facts (not only the first-found one)."""
    result = cut_graph.cut(*cut_inputs(analysis, facts))
    if result is None:
        return Remediation()
    return Remediation(tuple(result[0]), tuple(result[1]))


def cut_inputs(
    analysis: PathAnalysis, facts: list[Fact]
) -> tuple[list[Terminal], list[Terminal], list[tuple[str, str]], list[str]]:
    """Sources, targets, usable (forwarder, permit id) pairs and lbo-gateways of a group."""
    network = analysis.network
    searcher = analysis.searcher
    sources: set[Terminal] = set()
    targets: set[Terminal] = set()
    usable: set[tuple[str, str]] = set()
    lbos: set[str] = set()
    for fact in facts:
        sources.update(fact.src.terminals)
        targets.update(fact.dst.terminals)
        v = analysis.service_index[fact.service]
        dbit = 1 << fact.dst.index
        for p in searcher.mask(fact.src, v):  # the permits matching the flow: a few
            if searcher.sends_to(p, fact.dst.index):
                permit = network.permits[p]
                usable.add((permit.owner, permit.id))
        lbo_permitted = (
            analysis.lbo_free is not None
            and fact.src.tier is Tier.LGWAN
            and fact.dst.tier is Tier.PUBLIC_INTERNET
        )
        for name, bits in searcher.lbo_bits.items():
            if bits & dbit and not lbo_permitted:  # alpha-prime: routes via an lbo are allowed
                lbos.add(name)
    return sorted(sources), sorted(targets), sorted(usable), sorted(lbos)
