"""The policy matrix against spec §3, and Policy.judge on gateways, channels and profiles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_ip
from segcheck.model import Tier
from segcheck.policy import MATRIX, CellKind, Outcome, Policy

# spec §3 as printed: "a" allow, "s:RULE" sanitized, "c:RULE" channel, "j:RULE" through a
# juki-cs gateway only, a bare RULE forbidden. Written out again here so a typo in policy.py cannot hide.
SPEC_TABLE = """
MN  a c:MN-ISOLATION MN-NO-INTERNET c:MN-ISOLATION j:MN-JUKI-CS c:MN-ISOLATION MN-NO-INTERNET MN-NO-INTERNET
LG  c:MN-ISOLATION a s:LG-INET-SPLIT a GEN-DEFAULT-DENY c:GEN-DEFAULT-DENY LG-NO-INTERNET LG-NO-INTERNET
IN  MN-NO-INTERNET s:LG-INET-SPLIT a LG-INET-SPLIT GEN-DEFAULT-DENY GEN-DEFAULT-DENY a INET-EGRESS-VIA-CLOUD
LW  c:MN-ISOLATION a LG-INET-SPLIT a GEN-DEFAULT-DENY GEN-DEFAULT-DENY LG-NO-INTERNET LG-NO-INTERNET
JK  j:MN-JUKI-CS GEN-DEFAULT-DENY GEN-DEFAULT-DENY GEN-DEFAULT-DENY a GEN-DEFAULT-DENY GEN-DEFAULT-DENY GEN-DEFAULT-DENY
GC  c:MN-ISOLATION c:GEN-DEFAULT-DENY GEN-DEFAULT-DENY GEN-DEFAULT-DENY GEN-DEFAULT-DENY a GEN-DEFAULT-DENY GEN-DEFAULT-DENY
SC  MN-NO-INTERNET LG-NO-INTERNET a LG-NO-INTERNET GEN-DEFAULT-DENY GEN-DEFAULT-DENY a a
PI  MN-NO-INTERNET LG-NO-INTERNET INET-EGRESS-VIA-CLOUD LG-NO-INTERNET GEN-DEFAULT-DENY GEN-DEFAULT-DENY a a
"""
SHORT = {t.short: t for t in Tier}
COLUMNS = ["MN", "LG", "IN", "LW", "JK", "GC", "SC", "PI"]
KINDS = {"s": CellKind.SANITIZED, "c": CellKind.CHANNEL, "j": CellKind.JUKI_CS}


def spec_cells() -> list[tuple[Tier, Tier, CellKind, str | None]]:
    cells = []
    for row in SPEC_TABLE.strip().splitlines():
        src, *entries = row.split()
        for dst, entry in zip(COLUMNS, entries, strict=True):
            if entry == "a":
                cells.append((SHORT[src], SHORT[dst], CellKind.ALLOW, None))
            elif ":" in entry:
                kind, rule = entry.split(":")
                cells.append((SHORT[src], SHORT[dst], KINDS[kind], rule))
            else:
                cells.append((SHORT[src], SHORT[dst], CellKind.FORBIDDEN, entry))
    return cells


@pytest.mark.parametrize(("src", "dst", "kind", "rule"), spec_cells())
def test_matrix_matches_spec(src: Tier, dst: Tier, kind: CellKind, rule: str | None) -> None:
    cell = MATRIX[(src, dst)]
    assert (cell.kind, cell.rule) == (kind, rule)


def test_matrix_is_complete() -> None:
    assert len(MATRIX) == 64


FIXTURE = Path(__file__).parent / "data" / "topologies" / "judge-fixture.yaml"


def fixture_bytes(profile: str = "alpha") -> bytes:
    """The fixture topology with its profile replaced."""
    text = FIXTURE.read_text(encoding="utf-8")
    return text.replace("profile: alpha", f"profile: {profile}").encode()


def make_policy(profile: str = "alpha") -> tuple[Policy, AddressMap]:
    topo = parse_topology(fixture_bytes(profile), "t.yaml")
    return Policy(topo, date(2026, 11, 22)), AddressMap(topo.zones.values(), topo.nodes.values())


def judge(src: str, dst: str, service: str, profile: str = "alpha") -> tuple[str, str | None]:
    policy, amap = make_policy(profile)
    j = policy.judge(amap.lookup(parse_ip(src)), amap.lookup(parse_ip(dst)), service)
    return j.outcome.value, j.rule


@pytest.mark.parametrize(
    ("src", "dst", "service", "expected"),
    [
        # screen transfer: ends at a sanitizing gateway accepting the service
        ("10.2.10.11", "10.3.10.11", "rdp", ("sanitized", None)),
        ("10.2.10.11", "10.3.10.11", "smb", ("violation", "LG-INET-SPLIT")),
        # a port alone proves nothing: rdp to a plain server
        ("10.2.10.11", "10.3.30.10", "rdp", ("violation", "LG-INET-SPLIT")),
        # mail sanitizer delivering smtp into LG
        ("10.3.20.26", "10.2.20.25", "smtp", ("sanitized", None)),
        ("10.3.20.26", "10.2.20.25", "https", ("violation", "LG-INET-SPLIT")),
        # outbound mail to a relay is a warning rule of its own
        ("10.2.20.25", "10.3.20.30", "smtp", ("violation", "LG-OUTBOUND-DATA")),
        # channels cover, expired ones do not, and other services are MN-SPECIFIED-COMM
        ("10.1.20.20", "198.18.200.10", "https", ("excepted", "MN-ISOLATION")),
        ("10.1.20.20", "198.18.200.11", "https", ("violation", "MN-ISOLATION")),
        ("10.1.20.20", "198.18.200.10", "ssh", ("violation", "MN-SPECIFIED-COMM")),
        ("198.18.200.10", "10.1.20.20", "https", ("violation", "MN-SPECIFIED-COMM")),
        # juki-cs is the gateway between MN and 住基ネット
        ("10.1.30.10", "198.19.10.1", "https", ("sanitized", None)),
        ("10.1.20.20", "198.19.10.1", "https", ("violation", "MN-JUKI-CS")),
        ("198.19.10.1", "10.1.20.20", "https", ("violation", "MN-JUKI-CS")),
        ("198.19.10.1", "10.1.30.10", "https", ("sanitized", None)),
        # never: MN to the Internet tier
        ("10.1.20.20", "10.3.30.10", "https", ("violation", "MN-NO-INTERNET")),
        ("10.3.30.10", "203.0.113.80", "https", ("violation", "INET-EGRESS-VIA-CLOUD")),
        ("10.3.30.10", "192.0.2.10", "http-proxy", ("permitted", None)),
        ("10.2.10.11", "198.18.100.5", "https", ("permitted", None)),
        ("10.2.10.11", "198.19.10.1", "https", ("violation", "GEN-DEFAULT-DENY")),
    ],
)
def test_judge(src: str, dst: str, service: str, expected: tuple[str, str | None]) -> None:
    assert judge(src, dst, service) == expected


def test_alpha_prime_lbo_allow_list() -> None:
    assert judge("10.2.10.11", "203.0.113.60", "https", "alpha-prime") == ("permitted", None)
    assert judge("10.2.10.11", "203.0.113.61", "https", "alpha-prime") == (
        "violation",
        "LG-NO-INTERNET",
    )
    assert judge("10.2.10.11", "203.0.113.60", "https", "alpha") == (
        "violation",
        "LG-NO-INTERNET",
    )


def test_same_tier_is_permitted() -> None:
    assert judge("10.2.10.11", "10.2.20.25", "smb") == ("permitted", None)


def test_expired_channel_is_split_out() -> None:
    policy, _ = make_policy()
    assert [c.id for c in policy.expired_channels] == ["CH-OLD"]
    assert [c.id for c in policy.live_channels] == ["CH-1"]
    assert Outcome.EXCEPTED.value == "excepted"


def test_security_cloud_gateway_at_a_global_address_ends_egress() -> None:
    topo = parse_topology(
        b"segcheck: 1\nzones:\n  inet: {tier: internet, subnets: [10.3.0.0/16]}\n"
        b"nodes:\n  pc: {role: terminal, ip: 10.3.1.1}\n"
        b"  proxy: {role: cloud-proxy, ip: 8.8.4.10}\n",
        "e.yaml",
    )
    policy = Policy(topo, date(2026, 11, 22))
    amap = AddressMap(topo.zones.values(), topo.nodes.values())
    pc = amap.lookup(parse_ip("10.3.1.1"))
    assert policy.judge(pc, amap.lookup(parse_ip("8.8.4.10")), "https").outcome is Outcome.PERMITTED
    other = policy.judge(pc, amap.lookup(parse_ip("8.8.4.11")), "https")
    assert (other.outcome, other.rule) == (Outcome.VIOLATION, "INET-EGRESS-VIA-CLOUD")
