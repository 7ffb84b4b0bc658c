"""Property test: every suggested remediation closes every path of its finding.

For random small topologies (the oracle's strategy, nested subnets included), each group of
facts gets its minimum cut; the cut is applied to the topology (permits deleted, links deleted,
a forwarder's addresses in the named zone removed) and the brute-force oracle must find no route
left that breaks the same rule for any (source, destination, service) of the group. The cut of
the contracted core problem must also cost the same as the one over the whole pruned graph.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from segcheck.addressing import AddressMap
from segcheck.analysis.graph import ATTACHMENT_COST, PERMIT_COST, CutGraph
from segcheck.analysis.paths import PathAnalysis, _group_key, _remediation
from segcheck.analysis.search import OTHER_SERVICE
from segcheck.findings import Finding, PathEvidence
from segcheck.loader import parse_topology
from segcheck.policy import Outcome, Policy

from .helpers import apply_remediation
from .test_oracle import TODAY, Oracle, topologies


def _analyse(data: dict[str, Any]) -> tuple[Any, PathAnalysis]:
    topo = parse_topology(json.dumps(data).encode(), "random.json")
    policy = Policy(topo, TODAY)
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    return (topo, policy, addresses), PathAnalysis(topo, policy, addresses)


def _cost(result: tuple[list[str], list[str]] | None) -> float:
    if result is None:
        return float("inf")
    return PERMIT_COST * len(result[0]) + ATTACHMENT_COST * len(result[1])


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_remediation_closes_every_path_of_its_group(data: dict[str, Any]) -> None:
    _, analysis = _analyse(data)
    groups: dict[Any, list[Any]] = {}
    for fact in analysis.facts:
        if fact.judgement.outcome is Outcome.VIOLATION:
            groups.setdefault(_group_key(fact), []).append(fact)
    cut_graph = CutGraph(analysis.network)
    for facts in groups.values():
        remediation = _remediation(analysis, cut_graph, facts)
        # The contracted cut and the cut over the whole pruned graph cost the same.
        for key in list(cut_graph._cuts):
            assert _cost(cut_graph._cuts[key]) == _cost(cut_graph._cut_full(*key))
        if not remediation.remove_permits and not remediation.remove_links:
            continue  # no finite cut (the ends share a segment): nothing to verify
        finding = Finding.__new__(Finding)
        object.__setattr__(finding, "evidence", PathEvidence(remediation=remediation))
        try:
            fixed = apply_remediation(data, finding)
        except AssertionError:
            assume(False)  # the cut would leave a forwarder without an address
            return
        (topo, policy, addresses), _ = _analyse(fixed)
        oracle = Oracle(topo, policy, addresses)
        for fact in facts:
            service = "ssh" if fact.service == OTHER_SERVICE else fact.service
            s, d = fact.src.example_ip(), fact.dst.example_ip()
            left = oracle.facts(s, d, service)
            assert (fact.judgement.rule, "violation") not in left, (
                str(s),
                str(d),
                service,
                remediation,
            )
