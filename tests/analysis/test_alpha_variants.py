"""The α example and its deliberately broken variants (issue 3, "Done when").

Each variant is found with the right rule, path and permits, and its remediation is verified by
applying it and checking again: that finding's fingerprint must be gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from segcheck.findings import Finding
from segcheck.rules import Severity

from .helpers import ALPHA_CANDIDATES, apply_remediation, find, run


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
        f
        for f in report.findings
        if f.rule == finding.rule
        and f.src_zone == finding.src_zone
        and f.dst_zone == finding.dst_zone
    ], "the remediation left another route between the same zones"


def test_alpha_passes(alpha: dict[str, Any], tmp_path: Path) -> None:
    report = run(alpha, tmp_path)
    bad = [f for f in report.findings if f.severity.rank >= Severity.HIGH.rank]
    assert bad == []


def test_leftover_router_between_lgwan_and_internet(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["old-rtr"] = {"role": "router", "ip": ["10.2.0.99", "10.3.0.99"]}
    report = run(alpha, tmp_path)
    split = [x for x in report.findings if x.rule == "LG-INET-SPLIT" and x.src_zone == "lg"]
    assert split, report.findings
    f = split[0]
    assert f.dst_zone == "inet"
    assert "old-rtr" in f.path and f.path[0] == f.src and f.path[-1] == f.dst
    assert f.permits == ()
    assert f.remediation is not None
    assert len(f.remediation.remove_links) == 1 and f.remediation.remove_permits == ()
    assert f.remediation.remove_links[0].startswith("old-rtr--")
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
    assert f.remediation is not None and len(f.remediation.remove_permits) == 1
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
    f = find(report, "MN-ISOLATION", "mn-atena", "198.18.200.10")
    atena_permit = next(
        p["id"] for p in alpha["nodes"]["fw-mn-lg"]["permit"] if p["from"] == "mn-atena"
    )
    assert f.permits[0] == atena_permit
    assert f.path[0] == "mn-atena" and "fw-mn-lg" in f.path and f.path[-1] == "198.18.200.10"
    assert f.remediation is not None and len(f.remediation.remove_permits) == 1
    assert set(f.remediation.remove_permits) <= set(f.permits)
    assert channel["id"] not in {x.channel for x in report.excepted}
    _assert_closed(alpha, f, tmp_path)


def test_direct_isp_breakout(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["isp-rtr"] = {"role": "router", "ip": ["10.3.0.254", "203.0.113.254"]}
    report = run(alpha, tmp_path)
    hits = [
        x for x in report.findings if x.rule == "INET-EGRESS-VIA-CLOUD" and x.src_zone == "inet"
    ]
    assert hits
    f = hits[0]
    assert "isp-rtr" in f.path and f.permits == ()
    assert f.remediation is not None and f.remediation.remove_links
    _assert_closed(alpha, f, tmp_path)


def test_too_wide_permit_out_of_mynumber(alpha: dict[str, Any], tmp_path: Path) -> None:
    alpha["nodes"]["fw-mn-lg"]["permit"].append(
        {"id": "FW-MN-9", "from": "mn", "to": "any", "service": "any"}
    )
    report = run(alpha, tmp_path)
    hits = [
        x
        for x in report.findings
        if x.rule == "MN-ISOLATION" and x.src_zone == "mn" and x.dst_zone == "lg"
    ]
    assert hits
    f = hits[0]
    assert f.permits == ("FW-MN-9",)
    assert f.service == "any" and f.count > 1
    assert f.remediation is not None and f.remediation.remove_permits == ("FW-MN-9",)
    _assert_closed(alpha, f, tmp_path)
