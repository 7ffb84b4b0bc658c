"""Property test: every suggested remediation closes every route of its finding (issue 12).

For random small topologies (the oracle's strategy: nested subnets, IPv6 zones, global
addresses, lbo-gateways, gateways with legs in two tiers, links, channels), each finding (a
group of facts sharing rule and cause) gets its minimum-cost cut; the cut is applied to the
topology (permits deleted, narrowed ones too, nodes and links deleted, a forwarder's addresses
in the named zone removed) and the brute-force oracle must find no route left that breaks the
same rule for any source endpoint, destination endpoint and service of the finding: every
node address and every remainder of the atoms, not only the example. The cut of the contracted
core problem must also cost the same as the one over the whole pruned graph.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.analysis.graph import PERMIT_COST, CutGraph
from segcheck.analysis.network import Atom
from segcheck.analysis.paths import PathAnalysis, _AllowedUse, _group_key, _remediation
from segcheck.analysis.search import OTHER_SERVICE
from segcheck.model import IP
from segcheck.policy import Outcome, Policy

from .helpers import apply_remediation
from .test_oracle import EXAMPLES, TODAY, Oracle, features, topologies


def _analyse(data: dict[str, Any]) -> tuple[Any, PathAnalysis]:
    topo = parse_topology(json.dumps(data).encode(), "random.json")
    policy = Policy(topo, TODAY)
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    return (topo, policy, addresses), PathAnalysis(topo, policy, addresses)


def _cost(graph: CutGraph, result: tuple[list[tuple[str, str]], list[str]] | None) -> float:
    if result is None:
        return float("inf")
    by_name = {name: key for key, name in graph._items.items()}
    return PERMIT_COST * len(result[0]) + sum(graph._cost[by_name[n]] for n in result[1])


def _endpoints(atom: Atom) -> list[tuple[str | None, IP]]:
    out: list[tuple[str | None, IP]] = [(name, ip) for name, ip in atom.nodes]
    if atom.rest:
        out.append((None, atom.rep))
    return out


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_remediation_closes_every_route_of_its_finding(data: dict[str, Any]) -> None:
    for feature in sorted(features(data)):
        event(feature)
    _, analysis = _analyse(data)
    groups: dict[Any, list[Any]] = {}
    for fact in analysis.facts:
        if fact.judgement.outcome is Outcome.VIOLATION:
            groups.setdefault(_group_key(fact), []).append(fact)
    cut_graph = CutGraph(analysis.network, analysis.routes.seg_tier)
    carries = _AllowedUse(analysis)
    for facts in groups.values():
        remediation = _remediation(analysis, cut_graph, facts, carries)
        # The contracted cut and the cut over the whole pruned graph cost the same.
        for key in list(cut_graph._cuts):
            full = cut_graph._cut_full(*key)
            assert _cost(cut_graph, cut_graph._cuts[key]) == _cost(cut_graph, full)
        if remediation.empty:
            continue  # no finite cut (the ends share a segment): nothing to verify
        fixed = apply_remediation(data, remediation)
        (topo, policy, addresses), _ = _analyse(fixed)
        oracle = Oracle(topo, policy, addresses)
        for fact in facts:
            service = "ssh" if fact.service == OTHER_SERVICE else fact.service
            for src_node, s in _endpoints(fact.src):
                for dst_node, d in _endpoints(fact.dst):
                    if src_node is not None and src_node == dst_node:
                        continue
                    left = oracle.facts(s, d, service)
                    assert (fact.judgement.rule, "violation") not in left, (
                        str(s),
                        str(d),
                        service,
                        remediation,
                    )
