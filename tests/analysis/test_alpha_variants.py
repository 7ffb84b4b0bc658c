"""The α example and its deliberately broken variants (issue 3, "Done when").

Each variant is found with the right rule, path and permits, and its remediation is verified by
applying it and checking again: that finding's fingerprint must be gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from segcheck.findings import CauseKind, Finding
from segcheck.rules import Severity

from .helpers import ALPHA_CANDIDATES, apply_remediation, by_cause, find, run, zone_pairs


def _alpha_paths() -> list[Path]:
    return [p for p in ALPHA_CANDIDATES if p.exists()]


@pytest.fixture(params=_alpha_paths(), ids=lambda p: p.parent.name)
def alpha(request: pytest.FixtureRequest) -> dict[str, Any]:
    with open(request.param, encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def _assert_closed(data: dict[str, Any], finding: Finding, tmp_path: Path) -> None:
    fixed = apply_remediation(data, finding)
    report = run(fixed, tmp_path, "fixed.yaml")
    assert finding.fingerprint not in {f.fingerprint for f in report.findings}
    assert not [
        f for f in report.findings if f.rule == finding.rule and zone_pairs(f) & zone_pairs(finding)
    ], "the remediation left another route between the same zones"


def test_alpha_passes(alpha: dict[str, Any], tmp_path: Path) -> None:
    report = run(alpha, tmp_path)
    bad = [f for f in report.findings if f.severity.rank >= Severity.HIGH.rank]
    assert bad == []


def test_leftover_router_between_lgwan_and_internet(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["old-rtr"] = {"role": "router", "ip": ["10.2.0.99", "10.3.0.99"]}
    report = run(alpha, tmp_path)
    # one finding for the router, both directions and every zone pair it joins
    f = by_cause(report, "LG-INET-SPLIT", "old-rtr")
    assert f.cause is not None and f.cause.kind is CauseKind.FORWARDER
    assert {("lg", "inet"), ("inet", "lg")} <= zone_pairs(f)
    assert "old-rtr" in f.path and f.path[0] == f.src and f.path[-1] == f.dst
    assert f.permits == ()
    assert f.remediation is not None and f.remediation.remove_permits == ()
    items = [*f.remediation.remove_nodes, *f.remediation.remove_links]
    assert items and all(i == "old-rtr" or i.startswith("old-rtr--") for i in items)
    assert f.count >= 1
    _assert_closed(alpha, f, tmp_path)


def test_two_firewall_chain(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["zones"]["transit"] = {"tier": "lgwan", "subnets": ["172.16.0.0/24"]}
    alpha["nodes"]["fw-a"] = {
        "role": "firewall",
        "ip": ["10.1.0.5", "172.16.0.1"],
        "permit": [{"id": "FW-A1", "from": "mn-koseki", "to": "any", "service": "smtp"}],
    }
    alpha["nodes"]["fw-b"] = {
        "role": "firewall",
        "ip": ["172.16.0.2", "10.3.0.5"],
        "permit": [{"id": "FW-B1", "from": "any", "to": "inet-mail", "service": "smtp"}],
    }
    report = run(alpha, tmp_path)
    f = find(report, "MN-NO-INTERNET", "mn-koseki", "inet-mail")
    assert f.permits == ("FW-A1", "FW-B1")
    assert f.path[0] == "mn-koseki" and f.path[-1] == "inet-mail"
    assert f.path.index("fw-a") < f.path.index("fw-b")
    assert f.service == "smtp"
    assert f.remediation is not None
    # FW-A1 (mn-koseki to any) also carries mn-tier traffic: narrowed, not removed
    assert len((*f.remediation.remove_permits, *f.remediation.narrow_permits)) == 1
    assert f.remediation.remove_links == ()
    _assert_closed(alpha, f, tmp_path)


def test_dual_homed_terminal(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["lg-term-99"] = {"role": "terminal", "ip": ["10.2.10.99", "10.3.30.99"]}
    report = run(alpha, tmp_path)
    f = find(report, "GEN-NO-BRIDGING")
    assert f.node == "lg-term-99"
    # Judged per address: each address reaches only its own tier.
    assert not [x for x in report.findings if x.rule == "LG-INET-SPLIT"]


def test_expired_channel(alpha: dict[str, Any], tmp_path: Path) -> None:
    channel = next(c for c in alpha["channels"] if c["from"] == "mn-atena")
    channel["expires"] = "2020-03-31"
    report = run(alpha, tmp_path)
    assert find(report, "GEN-EXCEPTION-EXPIRED").channel == channel["id"]
    # topologies/ declare the 中間サーバー as node `chukan` (rules version 2)
    chukan = next(
        (n for n, v in alpha["nodes"].items() if v.get("role") == "chukan"), "198.18.200.10"
    )
    f = find(report, "MN-ISOLATION", "mn-atena", chukan)
    atena_permit = next(
        p["id"] for p in alpha["nodes"]["fw-mn-lg"]["permit"] if p["from"] == "mn-atena"
    )
    assert f.permits[0] == atena_permit
    assert f.path[0] == "mn-atena" and "fw-mn-lg" in f.path and f.path[-1] == chukan
    assert f.remediation is not None
    fix = (*f.remediation.remove_permits, *f.remediation.narrow_permits)
    assert len(fix) == 1 and set(fix) <= set(f.permits)
    assert channel["id"] not in {x.channel for x in report.excepted}
    _assert_closed(alpha, f, tmp_path)


def test_direct_isp_breakout(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "203.0.113.254"]}
    report = run(alpha, tmp_path)
    f = by_cause(report, "INET-EGRESS-VIA-CLOUD", "isp-rtr")
    assert any(src == "inet" and dst != "inet" for src, dst in zone_pairs(f))
    assert "isp-rtr" in f.path and f.permits == ()
    assert f.remediation is not None
    assert f.remediation.remove_links or f.remediation.remove_nodes == ("isp-rtr",)
    _assert_closed(alpha, f, tmp_path)


def test_too_wide_permit_out_of_mynumber(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["fw-mn-lg"]["permit"].append(
        {"id": "FW-MN-9", "from": "mn", "to": "any", "service": "any"}
    )
    report = run(alpha, tmp_path)
    f = by_cause(report, "MN-ISOLATION", "FW-MN-9")
    assert ("mn", "lg") in zone_pairs(f)
    assert f.permits == ("FW-MN-9",)
    assert f.service == "any" and f.count > 1
    # FW-MN-9 also lets mn reach mn-tier addresses behind the firewall: narrowed, not removed
    assert f.remediation is not None
    assert (*f.remediation.remove_permits, *f.remediation.narrow_permits) == ("FW-MN-9",)
    _assert_closed(alpha, f, tmp_path)
