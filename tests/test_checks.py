"""Channel-register rules see every tier a wide channel endpoint reaches into."""

from __future__ import annotations

from datetime import date

from segcheck import parse_topology
from segcheck.engine import check

WIDE = b"""segcheck: 1
zones:
  mn: {tier: mynumber, subnets: [10.1.0.0/16]}
  lg: {tier: lgwan, subnets: [10.2.0.0/16]}
nodes:
  mn-atena: {role: server, ip: 10.1.20.20}
  lg-srv: {role: server, ip: 10.2.0.9}
channels:
  - {id: CH-WIDE, from: mn-atena, to: 10.0.0.0/8, service: https, reason: too wide}
  - {id: CH-ALL, from: mn-atena, to: 0.0.0.0/0, service: https, reason: everything}
  - {id: CH-PINNED, from: mn-atena, to: lg-srv, service: https, reason: pinned}
"""


def channel_rules(text: bytes) -> set[tuple[str, str]]:
    report = check(parse_topology(text, "wide.yaml"), today=date(2026, 11, 22))
    return {(f.rule, f.channel) for f in report.findings if f.channel and f.path == ()}


def test_wide_channel_endpoints_are_judged_by_the_zones_they_cover() -> None:
    rules = channel_rules(WIDE)
    # 10.0.0.0/8: its ends lie in no zone, but it covers lg: not pinned.
    assert ("MN-SPECIFIED-COMM", "CH-WIDE") in rules
    # 0.0.0.0/0 holds global addresses: the public Internet, which no channel may open.
    assert ("MN-NO-INTERNET", "CH-ALL") in rules
    assert not any(channel == "CH-PINNED" for _, channel in rules)
