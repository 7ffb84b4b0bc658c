"""INET-MONITORING (issue 17): every Internet-tier egress path passes a monitoring node.

Egress from the Internet tier ends at a security-cloud gateway (a proxy, mail relay or DNS
resolver; spec §3 INET-EGRESS-VIA-CLOUD), which re-originates it to the public Internet. Such a
path is monitored when it crosses a node declared `monitoring: true` (IDS/IPS, sandbox, SIEM
feed) on either leg, or ends at a gateway so declared. The analysis removes the monitoring
nodes and searches again with the same exact search as path analysis: a gateway that the
Internet tier still reaches, and that still reaches the public Internet, is egress that no
monitoring sees. Direct Internet-tier routes to the public Internet are INET-EGRESS-VIA-CLOUD
findings whatever they cross, and are left to that rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ..addressing import AddressMap
from ..findings import Finding, Location, RuleId, SubjectEvidence, subject_fingerprint
from ..model import SECURITY_CLOUD_ROLES, Node, Tier, Topology
from ..rules import make_finding
from ..rules.ids import INET_MONITORING
from .network import Atom, Network
from .search import Searcher, iter_bits, service_atoms

PLAN_RULES: frozenset[RuleId] = frozenset({INET_MONITORING})
"""Rules this module fires (tests/rules/test_registry.py counts them as reached)."""


def monitored(node: Node) -> bool:
    """True for a node declared `monitoring: true`."""
    return node.settings.get("monitoring") is True


def _without_monitoring(topology: Topology) -> Topology:
    """The topology with every monitoring node (and every link to one) taken away."""
    kept = {name: n for name, n in topology.nodes.items() if not monitored(n)}
    links = tuple(
        link
        for link in topology.links
        if all(end in kept or end in topology.zones for end in (link.a, link.b))
    )
    return replace(topology, nodes=kept, links=links)


def _reached(searcher: Searcher, network: Network, atom: Atom) -> int:
    """Every atom the source atom reaches on any service."""
    default, special = searcher.service_masks(atom)
    bits = 0
    for mask in {default, *special.values()}:
        bits |= searcher.search_mask(atom, mask).reached(network)
    return bits


def _unmonitored(topology: Topology) -> Iterator[tuple[str, str, str]]:
    """(gateway, Internet-tier example, public Internet example) per unmonitored egress."""
    reduced = _without_monitoring(topology)
    gateways = [n for n in reduced.nodes.values() if n.role in SECURITY_CLOUD_ROLES]
    if not gateways:
        return
    network = Network(reduced, AddressMap(reduced.zones.values(), reduced.nodes.values()))
    inet = network.tier_bits.get(Tier.INTERNET, 0)
    public = network.tier_bits.get(Tier.PUBLIC_INTERNET, 0)
    if not inet or not public:
        return
    searcher = Searcher(network, service_atoms(reduced))
    atoms = network.atoms
    of_node: dict[str, list[int]] = {}
    for atom in atoms:
        for name, _ in atom.nodes:
            of_node.setdefault(name, []).append(atom.index)
    from_inet: dict[int, int] = {a: _reached(searcher, network, atoms[a]) for a in iter_bits(inet)}
    for gateway in sorted(gateways, key=lambda n: n.name):
        for g in of_node.get(gateway.name, ()):
            sources = [a for a, bits in from_inet.items() if bits >> g & 1]
            if not sources:
                continue
            out = _reached(searcher, network, atoms[g]) & public
            if out:
                dst = atoms[next(iter_bits(out))]
                yield gateway.name, atoms[sources[0]].example, dst.example
                break


def monitoring_findings(topology: Topology) -> list[Finding]:
    """One INET-MONITORING finding per security-cloud gateway whose egress nothing monitors."""
    findings = []
    for name, src, dst in _unmonitored(topology):
        node = topology.nodes[name]
        role = node.role.value
        findings.append(
            make_finding(
                INET_MONITORING,
                f"Internet tier egress through {role} '{name}' passes no node with "
                f"monitoring: true (e.g. {src} -> {name} -> {dst})",
                f"{role} '{name}' を経由するインターネット接続系からの通信が、監視機能"
                f"(monitoring: true)を持つ機器を通らない(例: {src} → {name} → {dst})",
                Location(topology.source.path, node.line),
                src=name,
                evidence=SubjectEvidence(name),
                fingerprint=subject_fingerprint(INET_MONITORING, name),
            )
        )
    return findings
