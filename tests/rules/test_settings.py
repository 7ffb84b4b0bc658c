"""Profile settings (segcheck/settings.py): the readings domain.md §9 leaves open, each with the
default it recommends, changing what the rules it names judge, in plans and in captures."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.engine import check
from segcheck.errors import TopologyError
from segcheck.findings import Severity
from segcheck.flowjudge import FlowJudge
from segcheck.policy import Policy
from segcheck.settings import SETTINGS, SETTINGS_BY_KEY

from .test_rule_cases import BREAKOUT, TODAY, _Flow, fw, topo

ROOT = Path(__file__).resolve().parents[2]

# An LGWAN-tier mail server handing Internet mail to a relay in the Internet tier (Q2).
OUTBOUND = topo(
    {
        "lg-mail": {"role": "server", "ip": "10.2.0.25"},
        "relay": {"role": "mail-relay", "ip": "10.3.0.25"},
        "fw": fw(
            ["10.2.0.1", "10.3.0.1"],
            {"id": "P1", "from": "lg-mail", "to": "relay", "service": "smtp"},
        ),
    }
)


def _with(data: dict[str, Any], **settings: str) -> Any:
    doc = {**data, "settings": settings} if settings else data
    return parse_topology(yaml.safe_dump(doc, allow_unicode=True).encode(), "s.yaml")


def _plan(data: dict[str, Any], **settings: str) -> set[tuple[str, str, str]]:
    report = check(_with(data, **settings), today=TODAY)
    return {(f.rule, str(f.src), str(f.dst)) for f in report.findings}


def _flow(data: dict[str, Any], src: str, dst: str, port: int, **settings: str) -> tuple[str, str]:
    topology = _with(data, **settings)
    judge = FlowJudge(
        Policy(topology, TODAY), AddressMap(topology.zones.values(), topology.nodes.values())
    )
    [(row, _, _)] = list(judge.judge_flows([_Flow(src, dst, "tcp", port)]))
    return row.verdict, row.rule or "-"


def test_every_setting_answers_an_open_point_with_its_recommended_default() -> None:
    # domain.md §9: Q1 (the My Number tier's exceptions), Q2 (outbound mail), Q6 (the
    # government-cloud link); §4.2 (MAC where L2-restricted)
    assert {s.key: (s.question, s.default) for s in SETTINGS} == {
        "lgwan_gov_cloud_link": ("Q6", "filtered"),
        "channel_mac_pinning": ("§4.2 MN-SPECIFIED-COMM", "optional"),
        "mn_isolation": ("Q1", "channels"),
        "mn_separation": ("Q1", "logical"),
        "lg_outbound_mail": ("Q2", "warning"),
        "inet_breakout_controls": ("Q3", ()),
    }
    for s in SETTINGS:
        assert set(s.values_ja) == set(map(str, s.allowed)), s.key
        assert s.doc_en and s.doc_ja


@pytest.mark.parametrize(
    ("value", "plan", "flow"),
    [
        (None, {"LG-OUTBOUND-DATA"}, ("violation", "LG-OUTBOUND-DATA")),
        ("warning", {"LG-OUTBOUND-DATA"}, ("violation", "LG-OUTBOUND-DATA")),
        ("forbidden", {"LG-INET-SPLIT"}, ("violation", "LG-INET-SPLIT")),
        ("allowed", set(), ("permitted", "-")),
    ],
)
def test_lg_outbound_mail(value: str | None, plan: set[str], flow: tuple[str, str]) -> None:
    settings = {} if value is None else {"lg_outbound_mail": value}
    assert {rule for rule, _, _ in _plan(OUTBOUND, **settings)} == plan
    assert _flow(OUTBOUND, "10.2.0.25", "10.3.0.25", 25, **settings) == flow
    # only mail to a relay: the same server's web to the relay is LG-INET-SPLIT under each
    assert _flow(OUTBOUND, "10.2.0.25", "10.3.0.25", 443, **settings) == (
        "violation",
        "LG-INET-SPLIT",
    )


def test_mn_isolation_absolute_lets_no_channel_cover_the_my_number_tier() -> None:
    alpha = yaml.safe_load((ROOT / "topologies" / "alpha.yaml").read_text(encoding="utf-8"))
    assert _plan(alpha) == set()
    absolute = check(_with(alpha, mn_isolation="absolute"), today=date(2026, 11, 22))
    found = {(f.rule, f.src, f.dst) for f in absolute.findings}
    # each of the five channels' paths, now a finding; nothing is excepted any more
    assert {rule for rule, _, _ in found} == {"MN-ISOLATION"}
    assert {("MN-ISOLATION", "mn-atena", "chukan"), ("MN-ISOLATION", "mn-tax", "198.19.20.40")} <= {
        (r, str(s), str(d)) for r, s, d in found
    }
    assert not absolute.excepted
    # in captures: the 統合宛名 → 中間サーバー flow is excepted by default, a violation when absolute
    assert _flow(alpha, "10.1.20.20", "198.18.200.10", 443) == ("excepted", "MN-ISOLATION")
    assert _flow(alpha, "10.1.20.20", "198.18.200.10", 443, mn_isolation="absolute") == (
        "violation",
        "MN-ISOLATION",
    )


@pytest.mark.parametrize("key", sorted(SETTINGS_BY_KEY))
def test_a_value_not_listed_is_an_input_error(key: str) -> None:
    with pytest.raises(TopologyError) as err:
        _with(OUTBOUND, **{key: "sometimes"})
    assert key in str(err.value) and "s.yaml:" in str(err.value)


# A core L3 switch with ACLs carrying the My Number and LGWAN tiers' VLANs (Q1).
SHARED = topo(
    {
        "mn-t": {"role": "terminal", "ip": "10.1.0.10", "usb_block": True, "mfa": True},
        "lg-t": {"role": "terminal", "ip": "10.2.0.10"},
        "core": {
            "role": "l3-switch",
            "ip": ["10.1.0.254", "10.2.0.254"],
            "permit": [{"id": "ACL1", "from": "lg", "to": "lg", "service": "any"}],
        },
    }
)


@pytest.mark.parametrize(
    ("value", "severity"), [(None, "warning"), ("logical", "warning"), ("physical", "high")]
)
def test_mn_separation(value: str | None, severity: str) -> None:
    settings = {} if value is None else {"mn_separation": value}
    report = check(_with(SHARED, **settings), today=TODAY)
    [finding] = report.findings
    assert (finding.rule, finding.severity, finding.src) == (
        "MN-PHYSICAL-SEPARATION",
        severity,
        "core",
    )
    assert "shared by the My Number tier and lgwan" in finding.message
    assert ("mn_separation: physical" in finding.message) == (value == "physical")
    assert "論理分離" in finding.message_ja
    # the same tiers meeting at a firewall: physically separate as far as a plan can say
    split = {**SHARED, "nodes": {**SHARED["nodes"], "core": fw(["10.1.0.254", "10.2.0.254"])}}
    assert check(_with(split, **settings), today=TODAY).findings == ()


ALL_CONTROLS = ["tls_inspection", "tenant_restriction", "logging", "malware_scanning"]


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        (None, {("INET-EGRESS-VIA-CLOUD", "critical"), ("LG-NO-INTERNET", "critical")}),
        ([], {("INET-EGRESS-VIA-CLOUD", "critical"), ("LG-NO-INTERNET", "critical")}),
        (ALL_CONTROLS[:3], {("INET-EGRESS-VIA-CLOUD", "critical"), ("LG-NO-INTERNET", "critical")}),
        (ALL_CONTROLS, {("INET-LOCAL-BREAKOUT", "warning")}),
    ],
)
def test_inet_breakout_controls(controls: list[str] | None, expected: set[tuple[str, str]]) -> None:
    # Q3: an Internet-tier lbo-gateway (beta). Without every control the breakout is what it
    # always was: INET-EGRESS-VIA-CLOUD for its paths, and the gateway itself outside α′;
    # with all four, a warning for the paths and for the gateway, which names the controls.
    data = {k: v for k, v in BREAKOUT.items() if k != "settings"}
    if controls is not None:
        data["settings"] = {"inet_breakout_controls": controls}
    topology = parse_topology(yaml.safe_dump(data).encode(), "s.yaml")
    report = check(topology, today=TODAY)
    breakout = {"INET-EGRESS-VIA-CLOUD", "LG-NO-INTERNET", "INET-LOCAL-BREAKOUT"}
    found = {(f.rule, f.severity.value) for f in report.findings if f.rule in breakout}
    assert found == expected
    if controls == ALL_CONTROLS:
        [gateway] = [f for f in report.findings if f.node == "lbo"]
        assert gateway.message == (
            "lbo-gateway 'lbo' breaks out of the Internet tier past the security cloud to "
            "203.0.113.50, accepted with the compensating controls declared (tls_inspection, "
            "tenant_restriction, logging, malware_scanning)"
        )
        assert "TLS復号検査・テナント制限・ログ取得・マルウェア検査" in gateway.message_ja
        [path] = [f for f in report.findings if f.rule in breakout and f.node != "lbo"]
        assert path.path[-2:] == ("lbo", "203.0.113.50")
        assert all(f.severity is Severity.WARNING for f in report.findings if f.rule in breakout)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("logging", "setting 'inet_breakout_controls': 'logging' is not a list of tls_inspection"),
        ("[logging, firewall]", "setting 'inet_breakout_controls': 'firewall' is not one of"),
    ],
)
def test_inet_breakout_controls_input_errors(value: str, message: str) -> None:
    text = f"segcheck: 1\nzones: {{}}\nsettings:\n  inet_breakout_controls: {value}\n"
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "s.yaml")
    assert message in str(err.value) and "s.yaml:4" in str(err.value)
    # the items are kept in the setting's own order, once each
    ok = "segcheck: 1\nzones: {}\nsettings: {inet_breakout_controls: [logging, tls_inspection]}\n"
    assert parse_topology(ok.encode(), "s.yaml").settings == {
        "inet_breakout_controls": ("tls_inspection", "logging")
    }
