"""MN-CHUKAN-VIA-LGWAN's route (issue 17): the 団体内統合宛名 reaches the 中間サーバー through the
boundary firewall and the LGWAN router, and by no route that bypasses either.

The endpoints are the policy's (`policy.chukan_beside_atena`); this module judges the way
between them (domain.md §4.2: `atena` → `boundary_fw` → `lgwan_router` → `CHUKAN`). The devices
are told by what they are attached to (their addresses, and `links:` to zones):

- a **boundary firewall** is a filtering forwarder (a firewall, or a router or L3 switch with
  permits) attached to the My Number tier and to another tier;
- an **LGWAN router** is a forwarder attached to LGWAN (`lgwan-network`) and to the LGWAN tier,
  and not to the My Number tier (a firewall joining the My Number tier straight to LGWAN is the
  My Number tier's edge, not the LGWAN tier's router).

As INET-MONITORING does, the analysis takes one kind of device away and searches again with the
same exact search as path analysis: a 中間サーバー that an 統合宛名 still reaches, on any
service, is reached by a route that bypasses that kind of device. The finding names the route,
hop by hop, as path analysis rebuilds it (plain forwarders inside an island included).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ..addressing import AddressMap
from ..findings import Finding, Location, RuleId, SubjectEvidence, subject_fingerprint
from ..model import Node, Role, Tier, Topology
from ..rules import make_finding
from ..rules.ids import MN_CHUKAN_VIA_LGWAN
from .graph import SegmentGraph
from .network import Atom, Network
from .paths import Endpoint, segment_route
from .routes import RouteMap
from .search import Searcher, service_atoms

PLAN_RULES: frozenset[RuleId] = frozenset({MN_CHUKAN_VIA_LGWAN})
"""Rules this module fires (besides the policy's own MN-CHUKAN-VIA-LGWAN judgement)."""

BOUNDARY = "boundary"
ROUTER = "router"
_DEVICE = {
    BOUNDARY: ("the boundary firewall", "境界FW"),
    ROUTER: ("the LGWAN router", "LGWAN接続ルータ"),
}


def _attached(node: Node, addresses: AddressMap, topology: Topology) -> set[Tier]:
    """Tiers of the node's addresses and of the zones its `links:` entries join it to."""
    out = {t for ip in node.addresses if (t := addresses.lookup(ip).tier) is not None}
    for link in topology.links:
        if node.name in (link.a, link.b):
            other = link.b if link.a == node.name else link.a
            if other in topology.zones:
                out.add(topology.zones[other].tier)
    return out


def devices(topology: Topology, addresses: AddressMap) -> dict[str, set[str]]:
    """The boundary firewalls and LGWAN routers of a plan, by kind (see the module docstring)."""
    out: dict[str, set[str]] = {BOUNDARY: set(), ROUTER: set()}
    for node in topology.nodes.values():
        if not node.role.forwards or node.role is Role.LBO_GATEWAY:
            continue
        tiers = _attached(node, addresses, topology)
        if node.filtering and Tier.MYNUMBER in tiers and len(tiers) > 1:
            out[BOUNDARY].add(node.name)
        if {Tier.LGWAN, Tier.LGWAN_NETWORK} <= tiers and Tier.MYNUMBER not in tiers:
            out[ROUTER].add(node.name)
    return out


def _without(topology: Topology, names: set[str]) -> Topology:
    """The topology with these nodes (and every link to one) taken away."""
    kept = {name: n for name, n in topology.nodes.items() if name not in names}
    links = tuple(link for link in topology.links if link.a not in names and link.b not in names)
    return replace(topology, nodes=kept, links=links)


def _atoms_of(network: Network, name: str) -> list[Atom]:
    return [atom for atom in network.atoms if any(n == name for n, _ in atom.nodes)]


def _bypass(topology: Topology, removed: set[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(atena, chukan, route hop by hop) per pair still joined without the removed devices."""
    reduced = _without(topology, removed)
    atenas = sorted(n.name for n in reduced.nodes.values() if n.role is Role.ATENA)
    chukans = sorted(n.name for n in reduced.nodes.values() if n.role is Role.CHUKAN)
    if not atenas or not chukans:
        return
    addresses = AddressMap(reduced.zones.values(), reduced.nodes.values())
    network = Network(reduced, addresses)
    searcher = Searcher(network, service_atoms(reduced))
    routes = RouteMap(network)
    graph: SegmentGraph | None = None
    targets = {name: _atoms_of(network, name) for name in chukans}
    for atena in atenas:
        found: dict[str, list[str]] = {}
        for src in _atoms_of(network, atena):
            default, special = searcher.service_masks(src)
            for mask in dict.fromkeys([default, *special.values()]):
                result = searcher.search_mask(src, mask)
                reached = result.reached(network)
                for chukan, atoms in targets.items():
                    if chukan in found:
                        continue
                    dst = next((a for a in atoms if reached >> a.index & 1), None)
                    if dst is None or src.rep.version != dst.rep.version:
                        continue
                    chain = result.chain(dst)
                    opening = tuple(
                        searcher.opening_permit(f, mask, dst) for _, f in chain if f is not None
                    )
                    src_ip = next(ip for n, ip in src.nodes if n == atena)
                    dst_ip = next(ip for n, ip in dst.nodes if n == chukan)
                    graph = graph or SegmentGraph(network)
                    items = segment_route(
                        network,
                        routes,
                        graph,
                        Endpoint(atena, src_ip, atena),
                        Endpoint(chukan, dst_ip, chukan),
                        chain,
                        opening,
                    )
                    found[chukan] = [atena, *(i[1] for i in items if i[0] == "f"), chukan]
        for chukan in chukans:
            if chukan in found:
                yield atena, chukan, found[chukan]


def chukan_route_findings(topology: Topology) -> list[Finding]:
    """One MN-CHUKAN-VIA-LGWAN finding per (統合宛名, 中間サーバー, device bypassed)."""
    roles = {n.role for n in topology.nodes.values()}
    if Role.ATENA not in roles or Role.CHUKAN not in roles:
        return []
    addresses = AddressMap(topology.zones.values(), topology.nodes.values())
    kinds = devices(topology, addresses)
    findings = []
    for kind in (BOUNDARY, ROUTER):
        device_en, device_ja = _DEVICE[kind]
        for atena, chukan, hops in _bypass(topology, kinds[kind]):
            node = topology.nodes[atena]
            route = " -> ".join(hops)
            findings.append(
                make_finding(
                    MN_CHUKAN_VIA_LGWAN,
                    f"the 団体内統合宛名 '{atena}' reaches the 中間サーバー '{chukan}' by a route "
                    f"that bypasses {device_en}: {route}",
                    f"団体内統合宛名 '{atena}' から中間サーバー '{chukan}' へ、{device_ja}を"
                    f"通らない経路がある: {' → '.join(hops)}",
                    Location(topology.source.path, node.line),
                    src=atena,
                    dst=chukan,
                    evidence=SubjectEvidence(atena),
                    fingerprint=subject_fingerprint(
                        MN_CHUKAN_VIA_LGWAN, f"{atena}->{chukan} {kind}"
                    ),
                )
            )
    return findings
