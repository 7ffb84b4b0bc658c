"""Flow verdicts (spec §7): the same policy as `check`, applied to observed flows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.flowjudge import FlowJudge
from segcheck.policy import Policy
from segcheck.rules import Severity

FIXTURE = Path(__file__).parent / "data" / "topologies" / "judge-fixture.yaml"


@dataclass(frozen=True)
class FakeFlow:
    src_ip: str
    dst_ip: str
    proto: str
    src_port: int
    dst_port: int
    vlan: int | None = None
    packets: int = 4
    bytes: int = 400
    first_seen: float = 1_700_000_000.0
    first_frame: int = 1
    state: str = "established"
    input: str = "cap.pcap"
    inner_vlan: int | None = None


@pytest.fixture()
def judge() -> FlowJudge:
    topo = parse_topology(FIXTURE.read_bytes(), "t.yaml")
    policy = Policy(topo, date(2026, 11, 22))
    return FlowJudge(policy, AddressMap(topo.zones.values(), topo.nodes.values()))


def one(judge: FlowJudge, flow: FakeFlow) -> tuple[str, str | None, Severity | None, bool]:
    [(row, finding, excepted)] = list(judge.judge_flows([flow]))
    return row.verdict, row.rule, finding.severity if finding else None, excepted


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (FakeFlow("10.2.10.11", "10.3.10.11", "tcp", 50000, 3389), ("sanitized", None, None)),
        (
            FakeFlow("10.2.10.11", "10.3.30.10", "tcp", 50000, 3389),
            ("suspect", "LG-INET-SPLIT", Severity.CRITICAL),
        ),
        (
            FakeFlow("10.2.10.11", "10.3.30.10", "tcp", 50000, 445),
            ("violation", "LG-INET-SPLIT", Severity.CRITICAL),
        ),
        (
            FakeFlow("10.1.20.20", "10.3.30.10", "tcp", 50000, 443, state="attempted"),
            ("violation", "MN-NO-INTERNET", Severity.WARNING),
        ),
        (
            FakeFlow("10.2.10.11", "172.16.0.9", "udp", 5353, 53),
            ("unknown", "GEN-ZONE-ASSIGNED", Severity.HIGH),
        ),
        (FakeFlow("10.2.10.11", "224.0.0.251", "udp", 5353, 5353), ("local", None, None)),
        (FakeFlow("10.2.10.11", "10.2.20.25", "tcp", 50000, 445), ("permitted", None, None)),
        (
            FakeFlow("10.3.30.10", "203.0.113.80", "icmp", 0, 8),
            ("violation", "INET-EGRESS-VIA-CLOUD", Severity.CRITICAL),
        ),
    ],
)
def test_flow_verdicts(
    judge: FlowJudge, flow: FakeFlow, expected: tuple[str, str | None, Severity | None]
) -> None:
    verdict, rule, severity, excepted = one(judge, flow)
    assert (verdict, rule, severity) == expected
    assert excepted is False


def test_channel_flow_is_excepted(judge: FlowJudge) -> None:
    flow = FakeFlow("10.1.20.20", "198.18.200.10", "tcp", 50000, 443)
    verdict, rule, severity, excepted = one(judge, flow)
    assert (verdict, rule, excepted) == ("excepted", "MN-ISOLATION", True)
    assert severity is Severity.CRITICAL


def test_fingerprint_ignores_client_port(judge: FlowJudge) -> None:
    a = FakeFlow("10.2.10.11", "10.3.30.10", "tcp", 50000, 445)
    b = FakeFlow("10.2.10.11", "10.3.30.10", "tcp", 61000, 445, first_frame=99)
    fa = next(judge.judge_flows([a]))[1]
    fb = next(judge.judge_flows([b]))[1]
    assert fa is not None and fb is not None
    assert fa.fingerprint == fb.fingerprint
    c = FakeFlow("10.2.10.11", "10.3.30.10", "tcp", 50000, 139)
    fc = next(judge.judge_flows([c]))[1]
    assert fc is not None and fc.fingerprint != fa.fingerprint
