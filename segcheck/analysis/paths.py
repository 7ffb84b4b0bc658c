"""Every forbidden path of a planned topology, grouped by cause, with witness and minimum cut.

How (path-analysis.md): `network.Network` contracts segments into islands and endpoints into
atoms; `search.Searcher` finds, per (source atom, service atom), every destination atom reachable
through the filtering forwarders; each reachable (source, destination, service) whose tier pair
is not plain `allow` is judged by `Policy.judge`, the same judgement capture scanning uses.
Pairs of addresses of one node, and pairs across address families (no translator is modelled),
are not paths.

Findings are grouped by **cause** (issue 12): one finding per (rule, cause[, channel]), where the
cause of a fact is found on its witness route by `routes.RouteMap.cause`: the forwarder that
filters nothing, or the `links:` entry, where the route leaves the tiers its source may reach
freely, or else the chain of permits that opens it. A finding lists every zone pair and
direction it spans (`routes`), each with a count and an example route.

A channel covers only the route the plan intends: one whose tier crossings are all made by
filtering forwarders. Between a channel's endpoints, a route through a tier-joining element is a
finding of its cell's rule; the excepted entry keeps its approved route.

Fields of a path finding:
- `service`: the sorted service names of its facts, or `any` when every service atom is in it;
  `(other)` stands for every service that nothing in the topology names;
- `count`: distinct (source endpoint, destination endpoint) pairs, where an endpoint is a node
  address or the remainder of an atom (addresses of it that belong to no node, shown as the
  unassigned addresses of their subnet), each remainder counting as one endpoint;
- `src` / `dst` / `path`: the example pair and its witness, hop by hop, of its first route;
- `remediation`: a minimum-cost cut (graph.py) per direction of the finding, between every
  source and destination endpoint, over the permits its facts could use (all their routes),
  explicit links and forwarder attachments; removing it closes every route of every fact;
- `location`: the cause: the forwarder's or link's line, or the first permit of the chain (an
  lbo-gateway's line when the chain crosses one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..addressing import AddressInfo, AddressMap
from ..findings import (
    Cause,
    CauseKind,
    Finding,
    Location,
    PathEvidence,
    Remediation,
    RouteGroup,
    RuleId,
    endpoint_text,
    path_fingerprint,
)
from ..gcpause import paused
from ..model import IP, IPRange, Permit, Profile, Role, Selector, Tier, Topology
from ..policy import MATRIX, TIER_ORDER, CellKind, Judgement, Outcome, Policy, watched
from ..rules import RULES_BY_ID, make_finding
from ..rules.ids import MN_SPECIFIED_COMM
from .graph import EXPENSIVE_COST, CutGraph, SegmentGraph, Terminal
from .network import Atom, Forwarder, Network
from .routes import Item, Passes, RouteMap, home
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
class Endpoint:
    """One end of an example: a node address, or the unassigned addresses of an atom."""

    name: str  # node name, or the address / range the unassigned addresses lie in
    ip: IP
    node: str | None
    unassigned: bool = False


@dataclass(frozen=True, slots=True)
class Fact:
    """One judged (source atom, destination atom, service atom) that is not permitted."""

    src: Atom
    dst: Atom
    service: str
    judgement: Judgement
    chain: tuple[tuple[int, Forwarder | None], ...]  # (island, forwarder crossed to get there)
    opening: tuple[str, ...]  # the permits (lbo: its name) crossed, in chain order
    bridged: bool  # the cause is a tier-joining forwarder or link, not permits
    cause: Cause
    pairs: int  # endpoint pairs it stands for (pairs of one node's addresses left out)
    route: tuple[Item, ...] | None = None  # a route found at the segment level (channels)
    # A channel's approved route also exists: only the routes through tier-joining elements
    # are this fact's (its remediation must keep the approved one).
    approved: bool = False


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
        # Tiers whose routes to the public Internet through an lbo-gateway are judged by the
        # gateway: the LGWAN tier under alpha-prime (allowed to the allow-list), the Internet
        # tier under declared compensating controls (INET-LOCAL-BREAKOUT, a warning).
        self.breakout_tiers: frozenset[Tier] = frozenset(
            {Tier.LGWAN} if topology.profile is Profile.ALPHA_PRIME else ()
        ) | frozenset({Tier.INTERNET} if policy.inet_breakout else ())
        if has_lbo and self.breakout_tiers:
            # such facts need to know if an lbo-free route exists.
            self.lbo_free = Searcher(self.network, self.services, use_lbo=False)
        self._segments: SegmentGraph | None = None
        self.routes = RouteMap(self.network)
        self._labels: dict[int, tuple[str, bool]] = {}
        self._multi = self._multi_homed()
        self.facts = self._facts()

    @property
    def segment_graph(self) -> SegmentGraph:
        """Built on first use: only findings need witnesses."""
        if self._segments is None:
            self._segments = SegmentGraph(self.network)
        return self._segments

    def _multi_homed(self) -> dict[str, int]:
        """Endpoint nodes whose addresses fall in several atoms, by name."""
        seen: Counter[str] = Counter()
        for atom in self.network.atoms:
            for name in dict.fromkeys(n for n, _ in atom.nodes):
                seen[name] += 1
        return {name: count for name, count in seen.items() if count > 1}

    def pairs(self, src: Atom, dst: Atom) -> int:
        """Endpoint pairs between two atoms, pairs of one node's own addresses left out."""
        total = src.size * dst.size
        if self._multi:
            names = Counter(n for n, _ in src.nodes if n in self._multi)
            if names:
                total -= sum(names[n] for n, _ in dst.nodes if n in names)
        return total

    def _candidates(self) -> dict[Tier, int]:
        """Per source tier, the destination atoms whose facts can be findings (`watched`: the
        cell is not plain allow, or a named exception judges it)."""
        out: dict[Tier, int] = {}
        tier_bits = self.network.tier_bits
        for src in tier_bits:
            bits = 0
            for dst, dbits in tier_bits.items():
                if src is not dst and watched(src, dst, self.topology):
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
        infos: dict[int, AddressInfo] = {}  # per atom, looked up when first judged

        def info(atom: int) -> AddressInfo:
            found = infos.get(atom)
            if found is None:
                found = infos[atom] = lookup(atoms[atom].rep)
            return found

        candidates = self._candidates()
        # Searches only carry candidate destinations (see Searcher.search_mask).
        scopes = {tier: self.searcher.scope(bits) for tier, bits in candidates.items()}
        free_scopes = {}
        if self.lbo_free is not None:
            free_scopes = {tier: self.lbo_free.scope(bits) for tier, bits in candidates.items()}
        family = {4: 0, 6: 0}  # IPv4 never reaches IPv6: no translator is modelled
        for atom in atoms:
            family[atom.rep.version] |= 1 << atom.index
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
            same_family = family[src.rep.version]
            if self._reach(src, default, scope, found)[1] & same_family:
                services = range(len(self.services))
            for v in services:
                mask = special.get(v, default)
                result, reached = self._reach(src, mask, scope, found)
                reached &= same_family
                if not reached:
                    continue
                service = self.services[v]
                free: SearchResult | None = None
                free_reached = 0
                if (
                    self.lbo_free is not None
                    and src.tier in self.breakout_tiers
                    and reached & pi_bits
                ):
                    free = self.lbo_free.search_mask(src, mask, free_scopes[src.tier])
                    free_reached = free.reached(network)
                for d in iter_bits(reached):
                    dst = atoms[d]
                    pairs = self.pairs(src, dst)
                    if not pairs:
                        continue  # only one node's own addresses: that node is GEN-NO-BRIDGING
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
                        info(src.index), info(d), service, via_lbo=via_lbo, path=True
                    )
                    if judgement.outcome in (Outcome.PERMITTED, Outcome.SANITIZED):
                        continue
                    chain = use.chain(dst)
                    opening = tuple(
                        searcher.opening_permit(f, mask, dst) for _, f in chain if f is not None
                    )
                    if judgement.channel is not None:
                        facts.extend(
                            self._channel_facts(src, dst, v, judgement, chain, opening, pairs)
                        )
                        continue
                    cause, bridged = self._cause(src, dst, chain, opening)
                    facts.append(
                        Fact(
                            src,
                            dst,
                            service,
                            judgement,
                            tuple(chain),
                            opening,
                            bridged,
                            cause,
                            pairs,
                        )
                    )
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

    # -- causes --------------------------------------------------------------------------------

    def _cause(
        self,
        src: Atom,
        dst: Atom,
        chain: list[tuple[int, Forwarder | None]],
        opening: tuple[str, ...],
    ) -> tuple[Cause, bool]:
        """The cause of a fact's witness route (fast when its islands hold one tier each)."""
        tier = src.tier
        island_tiers = self.routes.island_tiers
        for k, (island, fwd) in enumerate(chain):
            tiers = island_tiers[island]
            if all(isinstance(t, Tier) and home(tier, t) for t in tiers):
                continue  # the route stays where the source may go freely
            if fwd is not None and k > 0 and len(tiers) == 1:
                # entered, by a permit, an island of one tier the source may not reach
                return Cause(CauseKind.PERMITS, opening), False
            break
        src_end, dst_end = self.examples(src, dst)
        return self.routes.cause(self.route(src_end, dst_end, chain, opening), tier)

    def route(
        self,
        src: Endpoint,
        dst: Endpoint,
        chain: Iterable[tuple[int, Forwarder | None]],
        opening: tuple[str, ...],
    ) -> list[Item]:
        """The segment-level route of a chain from one example endpoint to another."""
        return segment_route(
            self.network, self.routes, self.segment_graph, src, dst, chain, opening
        )

    def _channel_facts(
        self,
        src: Atom,
        dst: Atom,
        v: int,
        judgement: Judgement,
        chain: list[tuple[int, Forwarder | None]],
        opening: tuple[str, ...],
        pairs: int,
    ) -> list[Fact]:
        """Facts between a channel's endpoints: the approved route, and any other.

        A channel covers (and a pinned channel limits) only routes whose every tier crossing is
        made by a filtering forwarder; a route through a tier-joining element is judged by the
        cell's rule, whatever the channel says.
        """
        service = self.services[v]
        passes = self.passes(src, v, dst)
        ends = self.ends(src, dst)
        out: list[Fact] = []
        approved = self.routes.approved_route(*ends, passes)
        if approved is not None:
            cause, _ = self.routes.cause(approved, src.tier)
            chain_permits = tuple(
                i[2]
                for i in approved
                if i[0] == "f" and self.network.forwarder_by_name[i[1]].filtering
            )
            out.append(
                Fact(
                    src,
                    dst,
                    service,
                    judgement,
                    tuple(chain),
                    chain_permits,
                    False,
                    Cause(CauseKind.PERMITS, chain_permits),
                    pairs,
                    tuple(approved),
                )
            )
            del cause
        joined = self.routes.joined_route(*ends, passes)
        if joined is not None:
            route, cause = joined
            rule = MATRIX[(src.tier, dst.tier)].rule or judgement.rule
            assert rule is not None
            permits = tuple(
                i[2]
                for i in route
                if i[0] == "f" and self.network.forwarder_by_name[i[1]].filtering
            )
            out.append(
                Fact(
                    src,
                    dst,
                    service,
                    Judgement(Outcome.VIOLATION, rule),
                    tuple(chain),
                    permits,
                    True,
                    cause,
                    pairs,
                    tuple(route),
                    approved is not None,
                )
            )
        return out

    def passes(self, src: Atom, v: int, dst: Atom) -> Passes:
        """Per forwarder, the permit letting (src, service v, dst) through, else None."""
        searcher = self.searcher
        mask = searcher.mask(src, v)

        def passes(fwd: Forwarder) -> str | None:
            if not fwd.filtering:
                return ""
            if searcher.passes(fwd, mask) >> dst.index & 1:
                return searcher.opening_permit(fwd, mask, dst)
            return None

        return passes

    def ends(
        self, src: Atom, dst: Atom
    ) -> tuple[tuple[str | None, IP, Tier], tuple[str | None, IP, Tier]]:
        """The example ends of an atom pair as `RouteMap` takes them."""
        src_end, dst_end = self.examples(src, dst)
        return (src_end.node, src_end.ip, src.tier), (dst_end.node, dst_end.ip, dst.tier)

    # -- examples and witnesses ----------------------------------------------------------------

    def label(self, atom: Atom) -> tuple[str, bool]:
        """How the unassigned addresses of an atom are named: (text, unassigned?).

        The subnet they lie in when they fill it (`10.30.30.0/24`), the range when they are a
        part of one, the zone's name when they span several; a single address is just itself.
        """
        hit = self._labels.get(atom.index)
        if hit is not None:
            return hit
        ranges: list[IPRange] = []
        for iv in self.network.intervals[atom.rep.version]:
            if iv.atom != atom.index:
                continue
            if ranges and ranges[-1].last + 1 == iv.first:
                ranges[-1] = IPRange(iv.version, ranges[-1].first, iv.last)
            else:
                ranges.append(IPRange(iv.version, iv.first, iv.last))
        if len(ranges) == 1 and ranges[0].size == 1:
            hit = (str(ranges[0]), False)
        elif len(ranges) == 1:
            hit = (str(ranges[0]), True)
        else:
            hit = (atom.zone.name, True)
        self._labels[atom.index] = hit
        return hit

    def examples(self, src: Atom, dst: Atom) -> tuple[Endpoint, Endpoint]:
        """An example pair of two different endpoints (node addresses first)."""

        def candidates(atom: Atom) -> list[Endpoint]:
            out = [Endpoint(name, ip, name) for name, ip in atom.nodes[:2]]
            if atom.rest:
                text, unassigned = self.label(atom)
                out.append(Endpoint(text, atom.rep, None, unassigned))
            return out

        for a in candidates(src):
            for b in candidates(dst):
                if a.node is None or a.node != b.node:
                    return a, b
        raise AssertionError("a fact always has a pair of two endpoints")

    def fact_route(self, fact: Fact) -> tuple[Endpoint, Endpoint, list[Item]]:
        """A fact's example ends and its route."""
        src, dst = self.examples(fact.src, fact.dst)
        if fact.route is not None:
            return src, dst, list(fact.route)
        return src, dst, self.route(src, dst, fact.chain, fact.opening)

    def witness(self, fact: Fact) -> list[str]:
        """Hop by hop, from the source example to the destination example."""
        src, dst, route = self.fact_route(fact)
        return [src.name, *(i[1] for i in route if i[0] == "f"), dst.name]


def segment_route(
    network: Network,
    routes: RouteMap,
    graph: SegmentGraph,
    src: Endpoint,
    dst: Endpoint,
    chain: Iterable[tuple[int, Forwarder | None]],
    opening: tuple[str, ...],
) -> list[Item]:
    """The segment-level route of a search's chain (`SearchResult.chain`) from one endpoint to
    another: the segments inside each island, the forwarders between them with the permit
    that opened each (an lbo-gateway by its name), and the `links:` at either end."""
    island_of = network.island_of
    steps = list(chain)
    src_ends = dict(routes.ends(src.node, src.ip))
    dst_ends = dict(routes.ends(dst.node, dst.ip))
    here = [s for s in src_ends if island_of[s] == steps[0][0]]
    items: list[Item] = []
    permits = iter(opening)
    for island, fwd in steps[1:]:
        assert fwd is not None
        prev = island_of[here[0]] if here else None
        exits = [s for s in fwd.segments if island_of[s] == prev]
        items.extend(routes.inside(graph, here, exits) or [("s", here[0])])
        items.append(("f", fwd.node.name, next(permits)))
        here = [s for s in fwd.segments if island_of[s] == island]
    targets = [s for s in dst_ends if island_of[s] == steps[-1][0]]
    items.extend(routes.inside(graph, here, targets))
    if items and items[0][0] == "s":
        link = src_ends.get(items[0][1])
        if link is not None and routes.link_name(items[0][1]) != link:
            items.insert(0, ("l", link))
    if items and items[-1][0] == "s":
        link = dst_ends.get(items[-1][1])
        if link is not None and routes.link_name(items[-1][1]) != link:
            items.append(("l", link))
    return items


def _service_label(services: set[str], all_services: tuple[str, ...]) -> str:
    if len(services) == len(all_services):
        return "any"
    return ",".join(sorted(services, key=lambda s: (s == OTHER_SERVICE, s)))


def _endpoint_rank(atom: Atom, topology: Topology) -> int:
    """Terminals and servers make the clearest example, then zone remainders, then gateways."""
    if not atom.nodes:
        return 1
    node = topology.nodes.get(atom.nodes[0][0])
    return 2 if node is not None and node.role.gateway else 0


def _example_rank(fact: Fact, topology: Topology) -> tuple[object, ...]:
    """Order of preference for the fact a group shows as its example (deterministic)."""
    return (
        _endpoint_rank(fact.src, topology) + _endpoint_rank(fact.dst, topology),
        fact.src.example,
        fact.dst.example,
        fact.src.index,
        fact.dst.index,
        fact.service,
    )


GroupKey = tuple[RuleId, tuple[str, ...], bool, str]


def _group_key(fact: Fact) -> GroupKey:
    """A finding's identity: rule and cause (and, for channel findings, the channel)."""
    j = fact.judgement
    assert j.rule is not None  # a violation or an excepted fact always names its rule
    return (j.rule, fact.cause.key(), j.outcome is Outcome.EXCEPTED, j.channel or "")


def _tier_rank(tier: Tier) -> int:
    return TIER_ORDER.index(tier)


def _messages(
    rule: RuleId,
    cause: Cause,
    first: RouteGroup,
    routes: int,
    count: int,
    channel: str | None,
    excepted: bool,
) -> tuple[str, str]:
    name = RULES_BY_ID[rule]
    src_en = endpoint_text(first.src, first.src_unassigned, "en")
    dst_en = endpoint_text(first.dst, first.dst_unassigned, "en")
    src_ja = endpoint_text(first.src, first.src_unassigned, "ja")
    dst_ja = endpoint_text(first.dst, first.dst_unassigned, "ja")
    spread_en = f"{count} endpoint pair(s)" + (f" in {routes} zone pairs" if routes > 1 else "")
    spread_ja = f"端点の組 {count} 件" + (f"、ゾーンの組 {routes} 件" if routes > 1 else "")
    en = (
        f"{name.name_en}: {cause.text('en')}; {spread_en}, e.g. {src_en} "
        f"({first.src_zone}) reaches {dst_en} ({first.dst_zone}) on {first.service}"
    )
    ja = (
        f"{name.name_ja}: {cause.text('ja')}。{spread_ja}"
        f"(例: {src_ja}({first.src_zone})から {dst_ja}({first.dst_zone})へ "
        f"{first.service} で到達できる)"
    )
    if excepted and channel:
        en += f"; covered by channel {channel}"
        ja += f"。例外 {channel} により許可"
    elif channel:
        en += f"; channel {channel} pins these endpoints to another service or direction"
        ja += f"。例外 {channel} はこの端点間の別のサービス・方向しか許可していない"
    return en, ja


def analyse_paths(topology: Topology, policy: Policy, addresses: AddressMap) -> PathResult:
    """Every path that breaks a rule of spec §3, grouped by cause, with witness and fix."""
    # Hundreds of thousands of small objects (intervals, atoms, masks, bitsets) and no
    # reference cycle: each collection would walk the whole loaded topology again (about twice
    # the time for a 32k-permit town).
    with paused():
        return _analyse_paths(topology, policy, addresses)


def _analyse_paths(topology: Topology, policy: Policy, addresses: AddressMap) -> PathResult:
    analysis = PathAnalysis(topology, policy, addresses)
    groups: dict[GroupKey, list[Fact]] = {}
    for fact in analysis.facts:
        groups.setdefault(_group_key(fact), []).append(fact)
    if not groups:
        return PathResult((), ())
    cut_graph = CutGraph(analysis.network, analysis.routes.seg_tier)
    # where each permit is written: the topology, or an imported configuration's file
    permit_lines: dict[str, tuple[str, int | None]] = {}
    for p in analysis.network.permits:
        permit_lines.setdefault(p.id, (p.file or topology.source.path, p.line))
    carries = _AllowedUse(analysis)
    findings: list[Finding] = []
    excepted: list[Finding] = []
    for key in sorted(groups):
        rule, _, is_excepted, channel = key
        facts = sorted(groups[key], key=lambda f: _example_rank(f, topology))
        first = facts[0]
        cause = first.cause
        routes = _route_groups(analysis, facts)
        lead = routes[0]
        count = sum(
            pairs for pairs in {(f.src.index, f.dst.index): f.pairs for f in facts}.values()
        )
        service = _service_label({f.service for f in facts}, analysis.services)
        remediation = None
        if not is_excepted:
            remediation = _remediation(analysis, cut_graph, facts, carries)
        location = _location(analysis, cause, lead, permit_lines, topology)
        en, ja = _messages(rule, cause, lead, len(routes), count, channel or None, is_excepted)
        finding = make_finding(
            rule,
            en,
            ja,
            location,
            src_zone=lead.src_zone,
            dst_zone=lead.dst_zone,
            src_tier=lead.src_tier,
            dst_tier=lead.dst_tier,
            src=lead.src,
            dst=lead.dst,
            service=service,
            evidence=PathEvidence(
                lead.path,
                _route_permits(analysis, first),
                remediation,
                count,
                cause,
                routes,
                lead.src_unassigned,
                lead.dst_unassigned,
            ),
            channel=channel or None,
            fingerprint=path_fingerprint(
                rule, cause, channel if rule == MN_SPECIFIED_COMM else None
            ),
        )
        (excepted if is_excepted else findings).append(finding)
    return PathResult(tuple(findings), tuple(excepted))


def _route_permits(analysis: PathAnalysis, fact: Fact) -> tuple[str, ...]:
    """The permits (lbo-gateways by name) crossed on a fact's example route."""
    _, _, route = analysis.fact_route(fact)
    fwds = analysis.network.forwarder_by_name
    return tuple(i[2] for i in route if i[0] == "f" and fwds[i[1]].filtering)


def _route_groups(analysis: PathAnalysis, facts: list[Fact]) -> tuple[RouteGroup, ...]:
    """One entry per zone pair and direction, the example fact's zone pair first."""
    by_pair: dict[tuple[str, str], list[Fact]] = {}
    for fact in facts:  # facts come in example order: the first pair is the example's
        by_pair.setdefault((fact.src.zone.name, fact.dst.zone.name), []).append(fact)
    out: list[RouteGroup] = []
    for (src_zone, dst_zone), group in by_pair.items():
        best = group[0]
        src, dst = analysis.examples(best.src, best.dst)
        pairs = {(f.src.index, f.dst.index): f.pairs for f in group}
        out.append(
            RouteGroup(
                src_zone,
                dst_zone,
                best.src.tier.value,
                best.dst.tier.value,
                src.name,
                dst.name,
                _service_label({f.service for f in group}, analysis.services),
                sum(pairs.values()),
                tuple(analysis.witness(best)),
                src.unassigned,
                dst.unassigned,
            )
        )
    lead, rest = out[0], out[1:]
    rest.sort(
        key=lambda r: (
            _tier_rank(Tier(r.src_tier)),
            _tier_rank(Tier(r.dst_tier)),
            r.src_zone,
            r.dst_zone,
        )
    )
    return (lead, *rest)


def _location(
    analysis: PathAnalysis,
    cause: Cause,
    lead: RouteGroup,
    permit_lines: dict[str, tuple[str, int | None]],
    topology: Topology,
) -> Location:
    """Where a finding points: its cause.

    - a forwarder: its line; a link: the `links:` entry's line;
    - a chain of permits: an lbo-gateway it crosses, else its first permit's line (in the
      configuration file for an imported one).
    """
    path = topology.source.path
    if cause.kind is CauseKind.FORWARDER:
        return Location(path, topology.nodes[cause.elements[0]].line)
    if cause.kind is CauseKind.LINK:
        line = next((link.line for link in topology.links if link.name == cause.elements[0]), None)
        return Location(path, line)
    for item in cause.elements:
        node = topology.nodes.get(item)
        if node is not None and node.role is Role.LBO_GATEWAY:
            return Location(path, node.line)
    for item in cause.elements:
        if item in permit_lines:
            return Location(*permit_lines[item])
    del analysis, lead
    return Location(path)


class _AllowedUse:
    """Whether a permit also carries traffic the policy allows (then: narrow, not remove).

    By tiers first: a permit whose `from` and `to` hold atoms of tiers that may talk freely
    carries allowed traffic. Otherwise only gateways and channel ends can make a cross-tier
    fact allowed, so only the atoms holding one are judged.
    """

    def __init__(self, analysis: PathAnalysis) -> None:
        self.analysis = analysis
        self._cache: dict[tuple[str, str], bool] = {}
        network = analysis.network
        channel_ranges = [
            r
            for c in analysis.policy.live_channels
            for r in (*c.source.ranges, *c.destination.ranges)
        ]
        self.special = [
            atom
            for atom in network.atoms
            if any(analysis.topology.nodes[n].role.gateway for n, _ in atom.nodes)
            or any(r.contains(atom.rep) for r in channel_ranges)
        ]
        self._special_index = {atom.index for atom in self.special}
        # A town has tens of thousands of permits and thousands of atoms, and a remediation
        # asks about hundreds of permits: index the permits once, match each selector once.
        self._permits: dict[tuple[str, str], list[Permit]] = {}
        for permit in network.permits:
            self._permits.setdefault((permit.owner, permit.id), []).append(permit)
        self._selected: dict[Selector, list[Atom]] = {}

    def _atoms(self, selector: Selector) -> list[Atom]:
        """The atoms a permit's `from` or `to` selects (their representative address)."""
        hit = self._selected.get(selector)
        if hit is None:
            atoms = self.analysis.network.atoms
            hit = self._selected[selector] = [a for a in atoms if selector.matches(a.rep)]
        return hit

    def __call__(self, owner: str, pid: str) -> bool:
        key = (owner, pid)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._compute(owner, pid)
        return hit

    def _compute(self, owner: str, pid: str) -> bool:
        analysis = self.analysis
        lookup = analysis.addresses.lookup
        special = self._special_index
        for permit in self._permits.get((owner, pid), ()):
            srcs = self._atoms(permit.source)
            dsts = self._atoms(permit.destination)
            src_tiers = {a.tier for a in srcs}
            dst_tiers = {a.tier for a in dsts}
            if any(
                MATRIX[(s, d)].kind is CellKind.ALLOW or s is d
                for s in src_tiers
                for d in dst_tiers
            ):
                return True
            services = analysis.services if permit.any_service else tuple(permit.services)
            for s in srcs:
                for d in dsts:
                    if s.index not in special and d.index not in special:
                        continue
                    if s.rep.version != d.rep.version:
                        continue
                    for service in services:
                        j = analysis.policy.judge(lookup(s.rep), lookup(d.rep), service, path=True)
                        if j.outcome is not Outcome.VIOLATION:
                            return True
        return False


def _remediation(
    analysis: PathAnalysis,
    cut_graph: CutGraph,
    facts: list[Fact],
    carries: _AllowedUse | None = None,
) -> Remediation:
    """A minimum-cost cut closing every route of the group's facts, one per direction.

    Sources and destinations of one direction (source tier, destination tier) never overlap, so
    each direction is one s-t cut; the finding's remediation is their union.
    """
    directions: dict[tuple[Tier, Tier], list[Fact]] = {}
    permits: set[tuple[str, str]] = set()
    others: set[str] = set()
    for fact in facts:
        if fact.approved:
            others.update(_joining_items(analysis, cut_graph, fact))
        else:
            directions.setdefault((fact.src.tier, fact.dst.tier), []).append(fact)
    for key in sorted(directions, key=lambda k: (_tier_rank(k[0]), _tier_rank(k[1]))):
        inputs = cut_inputs(analysis, directions[key])
        if (permits or others) and cut_graph.closes(*inputs, (permits, others)):
            continue  # the other direction's cut closes this one too (a forwarder's legs)
        result = cut_graph.cut(*inputs)
        if result is None:
            return Remediation()  # no finite cut (the ends share a segment)
        permits.update(result[0])
        others.update(result[1])
    cut_graph._learn(sorted(others))
    return _classify(analysis, cut_graph, permits, others, carries)


def _joining_items(analysis: PathAnalysis, cut_graph: CutGraph, fact: Fact) -> list[str]:
    """Items closing every route of a fact through a tier-joining element, and only those.

    Used where a channel's approved route joins the same ends: a cut between the ends would
    close it too. Each element some route passes through is cut: a link as such; a forwarder
    at its attachments outside its largest group of one tier, so its own tier keeps working.
    """
    v = analysis.service_index[fact.service]
    elements = analysis.routes.joining_elements(
        *analysis.ends(fact.src, fact.dst), analysis.passes(fact.src, v, fact.dst)
    )
    names: list[str] = []
    network = analysis.network
    for cause in elements:
        if cause.kind is CauseKind.LINK:
            names.extend(cause.elements)
            continue
        fwd = network.forwarder_by_name[cause.elements[0]]
        for seg in analysis.routes.joining_side(fwd):
            names.append(cut_graph.attachment_name(fwd.node.name, seg))
    return names


def _classify(
    analysis: PathAnalysis,
    cut_graph: CutGraph,
    permits: set[tuple[str, str]],
    others: set[str],
    carries: _AllowedUse | None,
) -> Remediation:
    """Sort cut items into remove / narrow permits, nodes, links and disruptive items."""
    remove: list[str] = []
    narrow: list[str] = []
    for owner, pid in sorted(permits):
        (narrow if carries is not None and carries(owner, pid) else remove).append(pid)
    nodes: list[str] = []
    links = set(others)
    by_node: dict[str, set[str]] = {}
    for key, name in cut_graph._items.items():
        if key[0] == "att":
            by_node.setdefault(str(key[1]), set()).add(name)
    keys = {name: key for key, name in cut_graph._items.items()}
    for node, names in sorted(by_node.items()):
        if len(names) < 2 or not names & links or names & cut_graph.expensive:
            continue
        if not names <= links:
            # Part of a forwarder that filters nothing (a leftover router: one leg per tier
            # it joins, cutting one leg closes both directions): removed whole when no leg
            # carries allowed traffic, as an engineer would; removing more closes no less.
            fwd = analysis.network.forwarder_by_name[node]
            if fwd.filtering or any(cut_graph._carries_allowed(keys[n]) for n in names):
                continue
        nodes.append(node)
        links -= names
    disruptive = tuple(sorted(n for n in others if n in cut_graph.expensive))
    return Remediation(
        tuple(dict.fromkeys(remove)),
        tuple(sorted(links)),
        tuple(dict.fromkeys(narrow)),
        tuple(nodes),
        disruptive,
        tuple(sorted(permits)),
    )


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
            and fact.src.tier in analysis.breakout_tiers
            and fact.dst.tier is Tier.PUBLIC_INTERNET
        )
        for name, bits in searcher.lbo_bits.items():
            if bits & dbit and not lbo_permitted:  # alpha-prime: routes via an lbo are allowed
                lbos.add(name)
    return sorted(sources), sorted(targets), sorted(usable), sorted(lbos)


__all__ = [
    "EXPENSIVE_COST",
    "Endpoint",
    "Fact",
    "PathAnalysis",
    "PathResult",
    "analyse_paths",
    "cut_inputs",
    "segment_route",
]
