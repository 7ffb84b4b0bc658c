"""Spec §1: a node is attached to every segment holding one of its addresses, nested subnets too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_ip
from segcheck.analysis.paths import PathAnalysis
from segcheck.policy import Policy

from .helpers import TODAY, apply_remediation, find, run


def _nested(inner_zone: bool) -> dict[str, Any]:
    zones: dict[str, Any] = {
        "lg": {"tier": "lgwan", "subnets": ["10.1.0.0/16"]},
        "inet": {"tier": "internet", "subnets": ["10.3.0.0/16"]},
    }
    if inner_zone:
        zones["lg-office"] = {"tier": "lgwan", "subnets": ["10.1.10.0/24"]}
    else:
        zones["lg"]["subnets"].append("10.1.10.0/24")
    return {
        "segcheck": 1,
        "zones": zones,
        "nodes": {
            "lg-term": {"role": "terminal", "ip": "10.1.10.5"},
            "inet-srv": {"role": "server", "ip": "10.3.0.20"},
            "old-rtr": {"role": "router", "ip": ["10.1.0.1", "10.3.0.1"]},
        },
    }


def test_router_on_outer_subnet_reaches_host_in_nested_zone(tmp_path: Path) -> None:
    data = _nested(inner_zone=True)
    report = run(data, tmp_path)
    f = find(report, "LG-INET-SPLIT", "lg-term", "inet-srv")
    route = next(r for r in f.routes if r.src == "lg-term" and r.dst == "inet-srv")
    assert route.src_zone == "lg-office"
    assert route.path == ("lg-term", "old-rtr", "inet-srv")
    assert f.remediation is not None
    assert {*f.remediation.remove_links, *f.remediation.remove_nodes} <= {
        "old-rtr--lg",
        "old-rtr--inet",
        "old-rtr",
    }
    fixed = run(apply_remediation(data, f), tmp_path, "fixed.yaml")
    assert not [x for x in fixed.findings if x.rule == "LG-INET-SPLIT"]


def test_nested_subnets_of_one_zone() -> None:
    topo = parse_topology(json.dumps(_nested(inner_zone=False)).encode(), "nested.json")
    policy = Policy(topo, TODAY)
    analysis = PathAnalysis(topo, policy, AddressMap(topo.zones.values(), topo.nodes.values()))
    hits = [
        f
        for f in analysis.facts
        if f.judgement.rule == "LG-INET-SPLIT" and ("lg-term", parse_ip("10.1.10.5")) in f.src.nodes
    ]
    assert hits
    assert analysis.witness(hits[0]) == [hits[0].src.example, "old-rtr", hits[0].dst.example]
