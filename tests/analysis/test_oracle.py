"""Property test: the island/atom search agrees with a brute-force oracle on small topologies.

The oracle knows nothing of islands or atoms: it enumerates every simple path (segments and
forwarders) between the segments of every sampled source and destination address, applies the
permits literally to each forwarder on the path, and judges each (source address, destination
address, service) with `Policy.judge`. The engine's facts are per atom; each sampled address is
mapped to its atom, and for every sampled pair and service the two must agree exactly.

Issue 12, judged from the spec alone: two addresses of one node never make a path, nor do an
IPv4 and an IPv6 address; between a channel's endpoints, a route that uses a tier-joining
element (a forwarder that filters nothing carrying it between tiers that may not talk freely, a
link whose ends hold addresses of such tiers, a link joining an address to a zone of another
tier) is judged by the cell's rule, and the channel covers (or pins) only routes made of
segments joined by permits or by plain forwarders between tiers that may talk freely.
"""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings
from hypothesis import strategies as st

from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_cidr, parse_ip
from segcheck.analysis.paths import PathAnalysis
from segcheck.analysis.search import OTHER_SERVICE
from segcheck.model import ANY_SERVICE, IP, IPRange, Node, Role, Tier, Topology
from segcheck.policy import MATRIX, CellKind, Outcome, Policy

TODAY = date(2026, 6, 1)
ZONES = {
    "mn": ("mynumber", "10.1.0.0/24"),
    "lg": ("lgwan", "10.2.0.0/24"),
    "inet": ("internet", "10.3.0.0/24"),
    "lw": ("lgwan-network", "198.18.0.0/24"),
    "sc": ("security-cloud", "192.0.2.0/24"),
    "net": ("public-internet", "203.0.113.0/24"),
    "lg6": ("lgwan", "fd00:2::/120"),
    "mn6": ("mynumber", "fd00:1::/120"),
}
GLOBAL = "(global)"  # addresses in no zone: the built-in public-internet zone
ENDPOINT_ROLES = (
    "terminal",
    "server",
    "screen-transfer",
    "mail-sanitizer",
    "mail-relay",
    "cloud-proxy",
    "file-sanitizer",
)
FORWARDER_ROLES = ("router", "l3-switch", "firewall", "firewall", "lbo-gateway")
SERVICES = (ANY_SERVICE, "https", "smtp", "rdp", "dns")
# Nested subnets (spec §1: an address lies on every subnet holding it): a zone inside `lg`'s
# subnet, and a second, nested subnet of `mn` itself.
NESTED_ZONE = ("lg-in", "lgwan", "10.2.0.16/28", "lg")
NESTED_SUBNET = ("mn", "10.1.0.8/29")


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, Any]:
    counters = {z: 10 for z in ZONES}
    zone_table = {z: (t, [c]) for z, (t, c) in ZONES.items()}
    if draw(st.booleans()):
        name, tier, cidr, _ = NESTED_ZONE
        zone_table[name] = (tier, [cidr])
    if draw(st.booleans()):
        zone_table[NESTED_SUBNET[0]][1].append(NESTED_SUBNET[1])

    counters[GLOBAL] = 10

    def address(zone: str) -> str:
        zone = NESTED_ZONE[3] if zone == NESTED_ZONE[0] else zone  # one counter per /24
        counters[zone] += 1 + draw(st.integers(0, 3))
        if zone == GLOBAL:
            return f"8.8.4.{counters[zone]}"
        if ":" in ZONES[zone][1]:
            return f"{ZONES[zone][1].split('/')[0]}{counters[zone]:x}"
        base = ZONES[zone][1].split("/")[0].rsplit(".", 1)[0]
        return f"{base}.{counters[zone]}"

    zone_names = sorted(zone_table)
    place = [*zone_names, GLOBAL]
    nodes: dict[str, Any] = {}
    for i in range(draw(st.integers(2, 6))):
        zones = draw(st.lists(st.sampled_from(place), min_size=1, max_size=2, unique=True))
        role = draw(st.sampled_from(ENDPOINT_ROLES))
        nodes[f"e{i}"] = {"role": role, "ip": [address(z) for z in zones]}
    endpoint_names = sorted(nodes)

    def selector() -> str:
        kind = draw(st.sampled_from(("any", "zone", "node", "cidr", "host")))
        if kind == "zone":
            return draw(st.sampled_from(zone_names))
        if kind == "node":
            return draw(st.sampled_from(endpoint_names))
        zone = draw(st.sampled_from(zone_names))
        if ":" in zone_table[zone][1][0]:
            base6 = zone_table[zone][1][0].split("/")[0]
            if kind == "cidr":
                return f"{base6}{draw(st.sampled_from((0, 8, 16))):x}/125"
            if kind == "host":
                return f"{base6}{draw(st.integers(9, 14)):x}"
            return "any"
        base = zone_table[zone][1][0].split("/")[0].rsplit(".", 1)[0]
        if kind == "cidr":
            return f"{base}.{draw(st.sampled_from((0, 8, 16)))}/29"
        if kind == "host":
            return f"{base}.{draw(st.integers(9, 14))}"
        return "any"

    pid = 0
    for i in range(draw(st.integers(1, 4))):
        role = draw(st.sampled_from(FORWARDER_ROLES))
        zones = draw(st.lists(st.sampled_from(place), min_size=1, max_size=3, unique=True))
        spec: dict[str, Any] = {"role": role, "ip": [address(z) for z in zones]}
        if role == "lbo-gateway":
            spec["allow_destinations"] = [
                draw(st.sampled_from(("203.0.113.0/28", "8.8.8.0/24", "8.8.4.0/24")))
            ]
        elif role == "firewall" or draw(st.booleans()):
            permits = []
            for _ in range(draw(st.integers(0, 3))):
                pid += 1
                permits.append(
                    {
                        "id": f"P{pid}",
                        "from": selector(),
                        "to": selector(),
                        "service": draw(st.sampled_from(SERVICES)),
                    }
                )
            spec["permit"] = permits
        nodes[f"f{i}"] = spec
    links = []
    for _ in range(draw(st.integers(0, 2))):
        a = draw(st.sampled_from(sorted(nodes)))
        b = draw(st.sampled_from([*sorted(nodes), *zone_names]))
        if a != b and {a, b} not in [set(pair) for pair in links]:
            links.append([a, b])
    channels = []
    for i in range(draw(st.integers(0, 2))):
        channels.append(
            {
                "id": f"CH{i}",
                "from": draw(st.sampled_from(endpoint_names)),
                "to": draw(st.sampled_from(endpoint_names)),
                "service": draw(st.sampled_from(SERVICES[1:])),
                "reason": "test",
                "expires": draw(st.sampled_from(("2020-01-01", "2030-01-01"))),
            }
        )
    return {
        "segcheck": 1,
        "profile": draw(st.sampled_from(("alpha", "alpha-prime"))),
        "zones": {z: {"tier": t, "subnets": c} for z, (t, c) in zone_table.items()},
        "nodes": nodes,
        "links": links,
        "channels": channels,
    }


SANITIZERS = ("mail-sanitizer", "file-sanitizer", "screen-transfer")
EXAMPLES = int(os.environ.get("SEGCHECK_EXAMPLES", "150"))  # raise it for a long run


def features(data: dict[str, Any]) -> set[str]:
    """The roles and shapes issue 12 asks the property tests to cover, present in `data`
    (each is recorded with hypothesis.event: --hypothesis-show-statistics counts them)."""
    tiers = {z: spec["tier"] for z, spec in data["zones"].items()}
    nets = {z: parse_cidr(c) for z, (_, c) in ZONES.items()}

    def tier_of(ip: str) -> str:
        return next((tiers[z] for z, net in nets.items() if net.contains(parse_ip(ip))), GLOBAL)

    out = set()
    for node in data["nodes"].values():
        ips = node["ip"]
        legs = {tier_of(ip) for ip in ips}
        if GLOBAL in legs:
            out.add("global address")
        if node["role"] == "lbo-gateway":
            out.add("lbo-gateway")
            if GLOBAL in legs:
                out.add("lbo-gateway with a global address")
        if node["role"] in SANITIZERS and len(legs) > 1:
            out.add("sanitizer with legs in two tiers")
    if data["channels"]:
        out.add("channel")
    if data["links"]:
        out.add("link")
    return out


def _compatible(a: object, b: object) -> bool:
    """Two tiers that may talk freely both ways (None: a link between firewalls only)."""
    if a is None or b is None:
        return True
    if not isinstance(a, Tier) or not isinstance(b, Tier):
        return False
    allow = CellKind.ALLOW
    return a is b or (MATRIX[(a, b)].kind is allow and MATRIX[(b, a)].kind is allow)


class Oracle:
    """Literal path enumeration over segments and forwarders."""

    def __init__(self, topo: Topology, policy: Policy, addresses: AddressMap) -> None:
        self.topo, self.policy, self.addresses = topo, policy, addresses
        self.subnets = {
            z.name: [parse_cidr(str(s)) for s in z.subnets] for z in topo.zones.values()
        }
        self.seg_tier: dict[str, object] = {"PI": Tier.PUBLIC_INTERNET}
        for zone, subs in self.subnets.items():
            for sub in subs:
                self.seg_tier[f"{zone}:{sub}"] = topo.zones[zone].tier

        def zone_segs(zone: str) -> set[str]:
            if topo.zones[zone].tier.value == "public-internet":
                return {"PI"}
            return {f"{zone}:{s}" for s in self.subnets[zone]}

        def segs_of(ip: IP) -> set[str]:
            """Every subnet holding the address (nested ones too); else the public Internet."""
            out = set()
            for zone, subs in self.subnets.items():
                for s in subs:
                    if s.contains(ip):
                        out |= (
                            {"PI"}
                            if topo.zones[zone].tier.value == "public-internet"
                            else {f"{zone}:{s}"}
                        )
            return out or {"PI"}

        def tiers(name: str) -> set[Tier]:
            node = topo.nodes[name]
            if node.filtering:
                return set()
            return {t for ip in node.addresses if (t := addresses.lookup(ip).tier) is not None}

        self.segs_of = segs_of
        extra: dict[str, set[str]] = {}
        for link in topo.links:
            if link.a in topo.nodes and link.b in topo.nodes:
                seg = f"L:{link.name}"
                extra.setdefault(link.a, set()).add(seg)
                extra.setdefault(link.b, set()).add(seg)
                ends = tiers(link.a) | tiers(link.b)
                if not ends:
                    self.seg_tier[seg] = None
                elif all(_compatible(a, b) for a in ends for b in ends):
                    self.seg_tier[seg] = sorted(ends, key=list(Tier).index)[0]
                else:
                    self.seg_tier[seg] = "join"
            else:
                node, zone = (link.a, link.b) if link.a in topo.nodes else (link.b, link.a)
                extra.setdefault(node, set()).update(zone_segs(zone))
        self.extra = extra
        self.fwd_segs = {
            n.name: {s for ip in n.addresses for s in segs_of(ip)} | extra.get(n.name, set())
            for n in topo.nodes.values()
            if n.role.forwards
        }

    def endpoint_segs(self, ip: IP) -> set[str]:
        node = self.addresses.node_of(ip)
        return self.segs_of(ip) | (self.extra.get(node.name, set()) if node else set())

    def matching(self, ip: IP) -> set[str]:
        """An end's segments that keep its address's tier (no link to another tier)."""
        own = self.segs_of(ip)
        tier = self.addresses.lookup(ip).tier
        return own | {s for s in self.endpoint_segs(ip) - own if self.seg_tier[s] is tier}

    def passes(self, node: Node, s: IP, d: IP, service: str) -> bool:
        if node.role is Role.LBO_GATEWAY:
            return any(r.contains(d) for r in node.allow_destinations)
        if not node.filtering:
            return True
        return any(
            p.source.matches(s)
            and p.destination.matches(d)
            and (ANY_SERVICE in p.services or service in p.services)
            for p in node.permits or ()
        )

    def paths(self, start: set[str], goal: set[str]) -> list[list[str]]:
        """Every simple path seg, fwd, seg, ..., seg from start to goal (segments and
        forwarders each at most once)."""
        out: list[list[str]] = []

        def walk(seg: str, path: list[str], seen_segs: set[str], fwds: set[str]) -> None:
            if seg in goal:
                out.append(list(path))
            for name, segs in self.fwd_segs.items():
                if seg in segs and name not in fwds:
                    for nxt in segs:
                        if nxt not in seen_segs:
                            walk(nxt, [*path, name, nxt], seen_segs | {nxt}, fwds | {name})

        for seg in start:
            walk(seg, [seg], {seg}, set())
        return out

    def joined(self, path: list[str], s: IP, d: IP) -> bool:
        """True when a path uses a tier-joining element."""
        if path[0] not in self.matching(s) or path[-1] not in self.matching(d):
            return True
        segs = path[0::2]
        if any(self.seg_tier[x] == "join" for x in segs):
            return True
        for i in range(1, len(path), 2):
            node = self.topo.nodes[path[i]]
            if not node.filtering and not _compatible(
                self.seg_tier[path[i - 1]], self.seg_tier[path[i + 1]]
            ):
                return True
        return False

    def approved(self, s: IP, d: IP, service: str, nodes: list[Node]) -> bool:
        """A route over segments (forwarders may repeat) whose every crossing is a permit or
        a plain forwarder between compatible tiers, with no tier-joining link."""
        goal = self.matching(d)
        start = {x for x in self.matching(s) if self.seg_tier[x] != "join"}
        seen = set(start)
        todo = list(start)
        while todo:
            seg = todo.pop()
            if seg in goal:
                return True
            for node in nodes:
                segs = self.fwd_segs[node.name]
                if seg not in segs or not self.passes(node, s, d, service):
                    continue
                for nxt in segs:
                    if nxt in seen or self.seg_tier[nxt] == "join":
                        continue
                    if node.filtering or _compatible(self.seg_tier[seg], self.seg_tier[nxt]):
                        seen.add(nxt)
                        todo.append(nxt)
        return False

    def facts(self, s: IP, d: IP, service: str) -> set[tuple[str | None, str]]:
        verdicts: set[tuple[str | None, str]] = set()
        src_info, dst_info = self.addresses.lookup(s), self.addresses.lookup(d)
        if s.version != d.version:
            return verdicts  # no translator between address families
        if src_info.node is not None and src_info.node is dst_info.node:
            return verdicts  # one node's own addresses: the node is GEN-NO-BRIDGING
        fwd_nodes = [self.topo.nodes[f] for f in self.fwd_segs]
        cell_rule = None
        if src_info.tier is not None and dst_info.tier is not None:
            cell_rule = MATRIX[(src_info.tier, dst_info.tier)].rule
        for path in self.paths(self.endpoint_segs(s), self.endpoint_segs(d)):
            nodes = [self.topo.nodes[f] for f in path[1::2]]
            if not all(self.passes(n, s, d, service) for n in nodes):
                continue
            lbo = next((n for n in nodes if n.role is Role.LBO_GATEWAY), None)
            j = self.policy.judge(src_info, dst_info, service, via_lbo=lbo, path=True)
            if j.outcome not in (Outcome.VIOLATION, Outcome.EXCEPTED):
                continue
            if j.channel is None:
                verdicts.add((j.rule, j.outcome.value))
            elif self.joined(path, s, d):
                verdicts.add((cell_rule, "violation"))
            elif self.approved(s, d, service, fwd_nodes):
                verdicts.add((j.rule, j.outcome.value))
        return verdicts


def _samples(topo: Topology, analysis: PathAnalysis) -> list[IP]:
    """Node addresses of endpoints, plus boundary addresses of every range that matters."""
    forwarder_ips = {ip for n in topo.nodes.values() if n.role.forwards for ip in n.addresses}
    values: set[IP] = set()
    ranges: list[IPRange] = []
    for zone in topo.zones.values():
        ranges.extend(parse_cidr(str(s)) for s in zone.subnets)
    for node in topo.nodes.values():
        values.update(node.addresses)
        ranges.extend(node.allow_destinations)
        for p in node.permits or ():
            ranges.extend(p.source.ranges + p.destination.ranges)
    for ch in topo.channels:
        ranges.extend(ch.source.ranges + ch.destination.ranges)
    for r in ranges:
        for v in (r.first - 1, r.first, r.last, r.last + 1):
            values.add(IP(r.version, v))
    values.update(a.rep for a in analysis.network.atoms)
    values.add(parse_ip("8.8.8.8"))
    out = []
    for ip in sorted(values):
        if ip in forwarder_ips:
            continue
        info = analysis.addresses.lookup(ip)
        if info.tier is not None:
            out.append(ip)
    return out


def _atom_of(analysis: PathAnalysis, ip: IP) -> int:
    node = analysis.addresses.node_of(ip)
    if node is not None:
        return next(a.index for a in analysis.network.atoms if (node.name, ip) in a.nodes)
    atom = analysis.network.interval_of(ip).atom
    assert atom is not None, ip
    return atom


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_engine_agrees_with_brute_force(data: dict[str, Any]) -> None:
    for feature in sorted(features(data)):
        event(feature)
    topo = parse_topology(json.dumps(data).encode(), "random.json")
    policy = Policy(topo, TODAY)
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    analysis = PathAnalysis(topo, policy, addresses)
    oracle = Oracle(topo, policy, addresses)
    engine: dict[tuple[int, int, str], set[tuple[str | None, str]]] = {}
    same_node: set[tuple[int, int]] = set()
    for f in analysis.facts:
        engine.setdefault((f.src.index, f.dst.index, f.service), set()).add(
            (f.judgement.rule, f.judgement.outcome.value)
        )
        assert f.pairs >= 1
        assert f.src.rep.version == f.dst.rep.version
    samples = _samples(topo, analysis)
    services = [n for n in topo.services if n != ANY_SERVICE]
    atom_of = {ip: _atom_of(analysis, ip) for ip in samples}
    for s in samples:
        for d in samples:
            if addresses.lookup(s).tier is addresses.lookup(d).tier:
                continue
            for service in services:
                atom_service = service if service in analysis.services else OTHER_SERVICE
                expected = oracle.facts(s, d, service)
                got = engine.get((atom_of[s], atom_of[d], atom_service), set())
                src_node = addresses.node_of(s)
                if src_node is not None and src_node is addresses.node_of(d):
                    same_node.add((atom_of[s], atom_of[d]))
                    continue  # the engine's fact stands for other pairs of the two atoms
                assert got == expected, (str(s), str(d), service, got, expected)
    del same_node


@pytest.mark.parametrize(
    "feature",
    [
        "lbo-gateway",
        "lbo-gateway with a global address",
        "sanitizer with legs in two tiers",
        "channel",
        "global address",
        "link",
    ],
)
def test_the_strategy_draws_each_role(feature: str) -> None:
    """The random topologies hold every role issue 12 names (else the property tests prove
    nothing about it)."""
    found = find(
        topologies(),
        lambda data: feature in features(data),
        settings=settings(
            max_examples=500, database=None, derandomize=True, phases=[Phase.generate]
        ),
    )
    assert feature in features(found)
