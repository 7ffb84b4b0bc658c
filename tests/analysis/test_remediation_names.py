"""Remediation item names and finding locations (issue 3, spec §6).

- a forwarder's attachment is named after the zone its address lies in (`public-internet` only
  for a global address in no declared zone);
- a `links:` entry joining an endpoint to a zone is offered when cutting it closes the path;
- a finding opened through an lbo-gateway, or bridged by a forwarder, points at that node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .helpers import apply_remediation, find, run


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
        f
        for f in fixed.findings
        if f.rule == finding.rule
        and f.src_zone == finding.src_zone
        and f.dst_zone == finding.dst_zone
    ]


def test_attachment_named_after_the_declared_public_zone(tmp_path: Path) -> None:
    data = _base()
    data["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "203.0.113.254"]}
    report = run(data, tmp_path)
    f = find(report, "INET-EGRESS-VIA-CLOUD", dst="inet-srv")
    assert f.src_zone == "internet-samples"
    assert f.remediation is not None
    assert f.remediation.remove_links == ("isp-rtr--internet-samples",)
    _closed(data, f, tmp_path)


def test_attachment_of_a_global_address_in_no_zone(tmp_path: Path) -> None:
    data = _base()
    data["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "8.8.4.1"]}
    report = run(data, tmp_path)
    hits = [
        f
        for f in report.findings
        if f.rule == "INET-EGRESS-VIA-CLOUD" and f.src_zone == "public-internet"
    ]
    assert hits
    for f in hits:
        assert f.remediation is not None
        assert f.remediation.remove_links == ("isp-rtr--public-internet",)
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
    f = find(report, "LG-INET-SPLIT", "lg-term", "inet-srv")
    assert f.path == ("lg-term", "lg-sw", "old-rtr", "inet-srv")
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
    assert f.remediation.remove_links in (("rtr--inet", "rtr2--inet"), ("rtr--lg",))
    _closed(data, f, tmp_path)
