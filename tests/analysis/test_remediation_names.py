"""Remediation item names and finding locations (issue 3, spec §6).

- a forwarder's attachment is named after the zone its address lies in (`public-internet` only
  for a global address in no declared zone);
- a `links:` entry joining an endpoint to a zone is offered when cutting it closes the path;
- a finding opened through an lbo-gateway, or bridged by a forwarder, points at that node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_ip
from segcheck.analysis.graph import CutGraph
from segcheck.analysis.network import Network

from .helpers import apply_remediation, by_cause, find, run, zone_pairs


def _base() -> dict[str, Any]:
    return {
        "segcheck": 1,
        "zones": {
            "lg": {"tier": "lgwan", "subnets": ["10.2.0.0/16"]},
            "inet": {"tier": "internet", "subnets": ["10.3.0.0/16"]},
            "internet-samples": {"tier": "public-internet", "subnets": ["203.0.113.0/24"]},
        },
        "nodes": {
            "lg-term": {"role": "terminal", "ip": "10.2.0.10"},
            "inet-srv": {"role": "server", "ip": "10.3.0.20"},
        },
    }


def _closed(data: dict[str, Any], finding: Any, tmp_path: Path) -> None:
    fixed = run(apply_remediation(data, finding), tmp_path, "fixed.yaml")
    assert not [
        f for f in fixed.findings if f.rule == finding.rule and zone_pairs(f) & zone_pairs(finding)
    ]


def _attachment(data: dict[str, Any], node: str, ip: str) -> str:
    """The cut item through which a forwarder touches the segment of one of its addresses."""
    topo = parse_topology(json.dumps(data).encode(), "t.json")
    network = Network(topo, AddressMap(topo.zones.values(), topo.nodes.values()))
    graph = CutGraph(network)
    return graph.attachment_name(node, network.interval_of(parse_ip(ip)).segments[0])


def test_attachment_named_after_the_declared_public_zone(tmp_path: Path) -> None:
    data = _base()
    data["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "203.0.113.254"]}
    report = run(data, tmp_path)
    f = by_cause(report, "INET-EGRESS-VIA-CLOUD", "isp-rtr")
    assert ("internet-samples", "inet") in zone_pairs(f)
    assert _attachment(data, "isp-rtr", "203.0.113.254") == "isp-rtr--internet-samples"
    assert f.remediation is not None
    items = (*f.remediation.remove_links, *f.remediation.remove_nodes)
    assert items and set(items) <= {"isp-rtr--internet-samples", "isp-rtr--inet", "isp-rtr"}
    _closed(data, f, tmp_path)


def test_attachment_of_a_global_address_in_no_zone(tmp_path: Path) -> None:
    data = _base()
    data["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "8.8.4.1"]}
    report = run(data, tmp_path)
    f = by_cause(report, "INET-EGRESS-VIA-CLOUD", "isp-rtr")
    assert ("public-internet", "inet") in zone_pairs(f)
    assert _attachment(data, "isp-rtr", "8.8.4.1") == "isp-rtr--public-internet"
    assert f.remediation is not None
    items = (*f.remediation.remove_links, *f.remediation.remove_nodes)
    assert items and set(items) <= {"isp-rtr--public-internet", "isp-rtr--inet", "isp-rtr"}
    _closed(data, f, tmp_path)


def test_lbo_gateway_attachment_and_location(tmp_path: Path) -> None:
    data = _base()
    data["nodes"]["lg-lbo"] = {
        "role": "lbo-gateway",
        "ip": ["10.2.0.1", "203.0.113.1"],
        "allow_destinations": ["203.0.113.0/24"],
    }
    report = run(data, tmp_path)
    f = find(report, "LG-NO-INTERNET", "lg-term")
    assert "lg-lbo" in f.path
    assert f.location.line is not None
    text = (tmp_path / "t.yaml").read_text(encoding="utf-8").splitlines()
    assert text[f.location.line - 1].strip().startswith("lg-lbo:")
    assert f.remediation is not None
    items = f.remediation.remove_links
    assert set(items) <= {"lg-lbo--lg", "lg-lbo--internet-samples"}
    assert "lg-lbo--public-internet" not in items
    _closed(data, f, tmp_path)


def test_bridged_finding_points_at_the_router_joining_two_tiers(tmp_path: Path) -> None:
    data = _base()
    data["zones"]["lg-core"] = {"tier": "lgwan", "subnets": ["172.17.0.0/16"]}
    data["nodes"]["lg-sw"] = {"role": "l3-switch", "ip": ["10.2.0.1", "172.17.0.2"]}
    data["nodes"]["old-rtr"] = {"role": "router", "ip": ["172.17.0.254", "10.3.0.254"]}
    report = run(data, tmp_path)
    f = by_cause(report, "LG-INET-SPLIT", "old-rtr")
    route = next(r for r in f.routes if r.src == "lg-term" and r.dst == "inet-srv")
    assert route.path == ("lg-term", "lg-sw", "old-rtr", "inet-srv")
    # "bridged by" names the router joining the tiers, not the access switch before it
    assert "lg-sw" not in f.message and "old-rtr" in f.message
    text = (tmp_path / "t.yaml").read_text(encoding="utf-8").splitlines()
    assert f.location.line is not None
    assert text[f.location.line - 1].strip().startswith("old-rtr:")


def test_link_joining_an_endpoint_to_a_zone_is_a_remediation_item(tmp_path: Path) -> None:
    data = _base()
    data["links"] = [["lg-term", "inet"]]
    report = run(data, tmp_path)
    f = find(report, "LG-INET-SPLIT", "lg-term", "inet-srv")
    assert f.remediation is not None
    assert f.remediation.remove_links == ("lg-term--inet",)
    _closed(data, f, tmp_path)


def test_link_joining_a_forwarder_to_a_zone_is_its_own_item(tmp_path: Path) -> None:
    data = _base()
    data["zones"]["lg-core"] = {"tier": "lgwan", "subnets": ["172.17.0.0/16"]}
    data["nodes"]["rtr"] = {"role": "router", "ip": ["10.2.0.1", "10.3.0.1", "172.17.0.1"]}
    data["nodes"]["rtr2"] = {"role": "router", "ip": ["172.17.0.2"]}
    data["links"] = [["rtr2", "inet"]]
    report = run(data, tmp_path)
    f = find(report, "LG-INET-SPLIT", "lg-term", "inet-srv")
    assert f.remediation is not None
    # two routes: rtr directly, and rtr -> lg-core -> rtr2 -> (link) -> inet
    items = {*f.remediation.remove_links, *f.remediation.remove_nodes}
    assert items and all(i.startswith(("rtr--", "rtr2")) for i in items)
    assert items & {"rtr--lg", "rtr--inet"}
    _closed(data, f, tmp_path)


def test_a_core_switch_every_leg_of_which_carries_allowed_traffic(tmp_path: Path) -> None:
    """Issue 12: a cut of infrastructure that carries allowed traffic only when nothing
    cheaper exists, then flagged; and one side's legs close both directions (not all four)."""
    data: dict[str, Any] = {
        "segcheck": 1,
        "zones": {
            "mn1": {"tier": "mynumber", "subnets": ["10.1.1.0/24"]},
            "mn2": {"tier": "mynumber", "subnets": ["10.1.2.0/24"]},
            "lg1": {"tier": "lgwan", "subnets": ["10.2.1.0/24"]},
            "lg2": {"tier": "lgwan", "subnets": ["10.2.2.0/24"]},
        },
        "nodes": {
            "mn-a": {"role": "server", "ip": "10.1.1.10"},
            "mn-b": {"role": "server", "ip": "10.1.2.10"},
            "lg-a": {"role": "server", "ip": "10.2.1.10"},
            "lg-b": {"role": "server", "ip": "10.2.2.10"},
            "core": {"role": "l3-switch", "ip": ["10.1.1.1", "10.1.2.1", "10.2.1.1", "10.2.2.1"]},
        },
    }
    report = run(data, tmp_path)
    finding = by_cause(report, "MN-ISOLATION", "core")
    assert len(zone_pairs(finding)) == 8  # both directions, four zone pairs each
    rem = finding.remediation
    assert rem is not None and not rem.remove_nodes and not rem.remove_permits
    # the legs of one tier's side: mn1 and mn2 reach each other only through the switch
    assert rem.remove_links in (("core--mn1", "core--mn2"), ("core--lg1", "core--lg2"))
    assert rem.disruptive == rem.remove_links
    assert "CAUTION" in "; ".join(rem.parts("en"))
    assert report.plan is not None and all(s.disruptive for s in report.plan.steps)
    _closed(data, finding, tmp_path)
