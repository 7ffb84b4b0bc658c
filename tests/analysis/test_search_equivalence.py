"""Equivalence: the fast analysis of issue 11 ("Scale") gives exactly what the old one gave.

`reference_search.py` keeps the old code (a bitset over every permit per atom, a permit-by-atom
match, a search per source atom and service, a remediation that tests every permit, intervals
rebuilt at every boundary). On random topologies (the oracle's small ones, and larger towns
with many permits, host and subnet endpoints, nested subnets, IPv6, custom services, links,
lbo-gateways and channels) the new code must agree with it on every mask, every forwarder's
pass set, every search (arrived bits and batches, in order), every search limited to a scope,
every opening permit, the facts in order, the cut inputs of every group and the intervals.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.analysis.paths import Fact, PathAnalysis, _group_key, cut_inputs
from segcheck.analysis.search import Searcher, SearchResult, iter_bits
from segcheck.model import Role, Topology
from segcheck.policy import Policy

from .reference_search import (
    ReferenceSearcher,
    reference_facts,
    reference_intervals,
    reference_usable,
)
from .test_oracle import TODAY, topologies

TOWN_ZONES = {
    "mn": ("mynumber", ["10.1.0.0/24", "10.1.0.8/29"]),  # a nested subnet of its own
    "mn-b": ("mynumber", ["10.1.1.0/24"]),
    "lg": ("lgwan", ["10.2.0.0/23"]),
    "lg-in": ("lgwan", ["10.2.0.16/28"]),  # a zone nested in lg's subnet
    "inet": ("internet", ["10.3.0.0/24", "fd00:3::/64"]),
    "lw": ("lgwan-network", ["198.18.0.0/24"]),
    "gc": ("gov-cloud", ["198.19.20.0/24"]),
    "sc": ("security-cloud", ["192.0.2.0/24"]),
    "net": ("public-internet", ["203.0.113.0/24"]),
}
ENDPOINT_ROLES = ("terminal", "server", "server", "screen-transfer", "mail-sanitizer")
ENDPOINT_ROLES += ("mail-relay", "cloud-proxy", "file-sanitizer")
BUILTIN = ("any", "https", "smtp", "rdp", "dns", "ssh", "http")
CUSTOM = ("app-1", "app-2", "app-3")


def _address(rng: random.Random, zone: str) -> str:
    subnets = TOWN_ZONES[zone][1]
    subnet = subnets[-1] if ":" in subnets[-1] and rng.random() < 0.2 else subnets[0]
    base, bits = subnet.split("/")
    if ":" in base:
        return f"{base}{rng.randrange(1, 0x60):x}"
    a, b, c, _ = (int(x) for x in base.split("."))
    host = rng.randrange(1, min(1 << (32 - int(bits)), 512) - 1)
    return f"{a}.{b}.{c + host // 256}.{host % 256}"


def _selector(rng: random.Random, nodes: list[str]) -> str:
    kind = rng.choices(("any", "zone", "node", "cidr", "host"), (1, 2, 3, 4, 6))[0]
    if kind == "any":
        return "any"
    if kind == "zone":
        return rng.choice(sorted(TOWN_ZONES))
    if kind == "node":
        return rng.choice(nodes)
    zone = rng.choice(sorted(TOWN_ZONES))
    host = _address(rng, zone)
    if kind == "host":
        return host
    if ":" in host:
        return rng.choice(("fd00:3::/120", "fd00:3::40/122"))
    prefix = rng.choice((26, 28, 29, 30))
    a, b, c, d = (int(x) for x in host.split("."))
    return f"{a}.{b}.{c}.{d - d % (1 << (32 - prefix))}/{prefix}"


def _service(rng: random.Random) -> str | list[str]:
    pool = BUILTIN + CUSTOM
    if rng.random() < 0.3:
        return sorted(set(rng.sample(pool[1:], rng.randint(2, 3))))
    return rng.choice(pool)


def make_town(seed: int) -> dict[str, Any]:
    """A town of 5 to 25 endpoints and 2 to 5 forwarders with up to 30 permits each."""
    rng = random.Random(seed)
    zones = sorted(TOWN_ZONES)
    nodes: dict[str, Any] = {}
    taken: set[str] = set()

    def fresh(zone: str) -> str:
        while True:
            ip = _address(rng, zone)
            if ip not in taken:
                taken.add(ip)
                return ip

    for i in range(rng.randint(5, 25)):
        where = rng.sample(zones, rng.choice((1, 1, 1, 2)))
        role = rng.choice(ENDPOINT_ROLES)
        spec: dict[str, Any] = {"role": role, "ip": [fresh(z) for z in where]}
        if role == "terminal" and any(TOWN_ZONES[z][0] == "mynumber" for z in where):
            spec.update(usb_block=True, mfa=True)
        nodes[f"e{i}"] = spec
    endpoints = sorted(nodes)
    pid = 0
    for i in range(rng.randint(2, 5)):
        role = rng.choice(("firewall", "firewall", "firewall", "router", "lbo-gateway"))
        where = rng.sample(zones, rng.randint(2, 4))
        spec = {"role": role, "ip": [fresh(z) for z in where]}
        if role == "lbo-gateway":
            spec["allow_destinations"] = [rng.choice(("203.0.113.0/28", "8.8.8.0/24"))]
        elif role == "firewall" or rng.random() < 0.3:
            permits = []
            for _ in range(rng.randint(0, 30)):
                pid += 1
                permits.append(
                    {
                        "id": f"P{pid}",
                        "from": _selector(rng, endpoints),
                        "to": _selector(rng, endpoints),
                        "service": _service(rng),
                    }
                )
            spec["permit"] = permits
        nodes[f"f{i}"] = spec
    links: list[list[str]] = []
    for _ in range(rng.randint(0, 2)):
        a = rng.choice(sorted(nodes))
        b = rng.choice([*sorted(nodes), *zones])
        if a != b and {a, b} not in [set(pair) for pair in links]:
            links.append([a, b])
    channels = [
        {
            "id": f"CH{i}",
            "from": rng.choice(endpoints),
            "to": rng.choice(endpoints),
            "service": rng.choice(BUILTIN[1:] + CUSTOM),
            "reason": "test",
            "expires": rng.choice(("2020-01-01", "2030-01-01")),
        }
        for i in range(rng.randint(0, 3))
    ]
    return {
        "segcheck": 1,
        "profile": rng.choice(("alpha", "alpha-prime")),
        "zones": {z: {"tier": t, "subnets": s} for z, (t, s) in TOWN_ZONES.items()},
        "services": {name: {"tcp": [9000 + i]} for i, name in enumerate(CUSTOM)},
        "nodes": nodes,
        "links": links,
        "channels": channels,
    }


towns = st.integers(0, 2**32 - 1).map(make_town)


def _as_int(mask: tuple[int, ...]) -> int:
    return sum(1 << p for p in mask)


def _batches(result: SearchResult, scope: int) -> dict[int, list[tuple[Any, ...]]]:
    """Batches limited to the scope's bits, in order (those left empty dropped)."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    for island, batches in result.batches.items():
        kept = [
            (b.bits & scope, b.depth, b.prev, b.forwarder.node.name if b.forwarder else None)
            for b in batches
            if b.bits & scope
        ]
        if kept:
            out[island] = kept
    return out


def _arrived(result: SearchResult, scope: int) -> dict[int, int]:
    return {i: bits & scope for i, bits in result.arrived.items() if bits & scope}


def _fact(fact: Fact) -> tuple[Any, ...]:
    chain = tuple((island, f.node.name if f else None) for island, f in fact.chain)
    return (fact.src.index, fact.dst.index, fact.service, fact.judgement, chain, fact.opening)


def _compare_searchers(analysis: PathAnalysis, new: Searcher, old: ReferenceSearcher) -> None:
    network = analysis.network
    scopes = [(new.scope(bits), bits) for bits in analysis._candidates().values()]
    for atom in network.atoms:
        seen: set[tuple[int, ...]] = set()
        for v in range(len(analysis.services)):
            mask, old_mask = new.mask(atom, v), old.mask(atom, v)
            assert _as_int(mask) == old_mask, (atom.index, analysis.services[v])
            if mask in seen:
                continue  # the same search again
            seen.add(mask)
            for fwd in network.forwarders:
                if fwd.filtering:
                    assert new.passes(fwd, mask) == old.passes(fwd, old_mask), fwd.node.name
            reference = old.search(atom, v)
            got = new.search(atom, v)
            assert got.arrived == reference.arrived
            assert _batches(got, new.all_bits) == _batches(reference, new.all_bits)
            reached = got.reached(network)
            assert reached == reference.reached(network)
            for d in iter_bits(reached):
                dst = network.atoms[d]
                chain = got.chain(dst)
                assert chain == reference.chain(dst)
                for _, fwd in chain:
                    if fwd is not None:
                        expected = old.opening_permit(fwd, old_mask, dst)
                        assert new.opening_permit(fwd, mask, dst) == expected
        # A scoped search (with the scoped masks, which drop the permits sending nowhere in
        # the scope) is the full search limited to the scope, batches included; so the chain
        # of every atom in the scope is the same too, and so is its opening permit.
        for scope, bits in scopes:
            default, special = new.service_masks(atom, scope)
            pairs: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
            for v in range(len(analysis.services)):
                reduced = special.get(v, default)
                full = new.mask(atom, v)
                assert set(reduced) <= set(full)
                if (reduced, full) in pairs:
                    continue  # the same comparison again
                pairs.add((reduced, full))
                reference = old.search(atom, v)
                limited = new.search_mask(atom, reduced, scope)
                assert _arrived(limited, bits) == _arrived(reference, bits)
                assert _batches(limited, bits) == _batches(reference, bits)
                reached = limited.reached(network)
                assert reached == reference.reached(network) & bits
                for d in iter_bits(reached):
                    dst = network.atoms[d]
                    for _, fwd in limited.chain(dst):
                        if fwd is not None:
                            expected = new.opening_permit(fwd, full, dst)
                            assert new.opening_permit(fwd, reduced, dst) == expected
    for name, bits in old.lbo_bits.items():
        assert new.lbo_bits[name] == bits


def _check(data: dict[str, Any]) -> None:
    topo: Topology = parse_topology(json.dumps(data).encode(), "random.json")
    policy = Policy(topo, TODAY)
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    analysis = PathAnalysis(topo, policy, addresses)
    network = analysis.network
    got = [
        (v, iv.first, iv.last, iv.segments, iv.zone, iv.signature, network.signatures[iv.signature])
        for v in (4, 6)
        for iv in network.intervals[v]
    ]
    assert got == reference_intervals(network)
    old = ReferenceSearcher(network, analysis.services)
    _compare_searchers(analysis, analysis.searcher, old)
    old_free = None
    if analysis.lbo_free is not None:
        old_free = ReferenceSearcher(network, analysis.services, use_lbo=False)
        _compare_searchers(analysis, analysis.lbo_free, old_free)
    expected = reference_facts(analysis, old, old_free)
    plain = [f for f in analysis.facts if f.judgement.channel is None and f.route is None]
    assert [_fact(f) for f in plain] == [_fact(f) for f in expected]
    groups: dict[Any, list[Fact]] = {}
    for fact in analysis.facts:
        groups.setdefault(_group_key(fact), []).append(fact)
    for facts in groups.values():
        assert cut_inputs(analysis, facts)[2] == reference_usable(analysis, old, facts)


@pytest.mark.slow  # a property test: a minute or two here; CI runs it
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_small_topologies_match_the_reference(data: dict[str, Any]) -> None:
    _check(data)


@pytest.mark.slow  # a property test: a minute or two here; CI runs it
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(towns)
def test_towns_match_the_reference(data: dict[str, Any]) -> None:
    _check(data)


def test_towns_have_what_the_equivalence_needs() -> None:
    """The town strategy makes facts, lbo-gateways and rulebases of dozens of permits (and a
    few fixed towns are checked against the reference in the fast run too)."""
    facts = permits = lbo = 0
    for seed in range(6):
        data = make_town(seed)
        topo = parse_topology(json.dumps(data).encode(), "random.json")
        analysis = PathAnalysis(
            topo, Policy(topo, TODAY), AddressMap(topo.zones.values(), topo.nodes.values())
        )
        facts += len(analysis.facts)
        permits = max(permits, len(analysis.network.permits))
        lbo += any(f.node.role is Role.LBO_GATEWAY for f in analysis.network.forwarders)
        _check(data)
    assert facts > 0 and permits >= 30 and lbo > 0
