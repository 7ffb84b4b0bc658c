"""MAC pinning of channels (issue 17, MN-SPECIFIED-COMM): a channel may pin its ends' MAC
addresses; a capture's packets between its ends from another MAC are findings, and pins that an
input cannot show (a flow log, a link type without MACs) are said to be unchecked."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from segcheck import parse_topology
from segcheck.engine import check, scan
from segcheck.errors import TopologyError

TODAY = date(2026, 6, 1)
MN_MAC, LG_MAC, ROGUE = "02:00:00:00:01:10", "02:00:00:00:02:10", "02:00:00:00:09:99"


def topology(tmp_path: Path, **channel: Any) -> Path:
    settings = channel.pop("settings", None)
    data = {
        "segcheck": 1,
        "zones": {
            "mn": {"tier": "mynumber", "subnets": ["10.1.0.0/24"]},
            "lg": {"tier": "lgwan", "subnets": ["10.2.0.0/24"]},
        },
        "nodes": {
            "mn-app": {"role": "server", "ip": "10.1.0.30"},
            "lg-link": {"role": "server", "ip": "10.2.0.50"},
            "fw": {
                "role": "firewall",
                "ip": ["10.1.0.1", "10.2.0.1"],
                "permit": [{"id": "P1", "from": "mn-app", "to": "lg-link", "service": "https"}],
            },
        },
        "channels": [
            {
                "id": "CH-1",
                "from": "mn-app",
                "to": "lg-link",
                "service": "https",
                "reason": "申請データ取込",
                **channel,
            }
        ],
        **({"settings": settings} if settings else {}),
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def handshake(tmp_path: Path, client_mac: str, server_mac: str, raw: bool = False) -> Path:
    """A TCP handshake 10.1.0.30 -> 10.2.0.50:443 with these source MACs (or raw IP)."""
    packets = [
        (client_mac, IP(src="10.1.0.30", dst="10.2.0.50") / TCP(sport=50001, dport=443, flags="S")),
        (
            server_mac,
            IP(src="10.2.0.50", dst="10.1.0.30") / TCP(sport=443, dport=50001, flags="SA"),
        ),
        (client_mac, IP(src="10.1.0.30", dst="10.2.0.50") / TCP(sport=50001, dport=443, flags="A")),
    ]
    path = tmp_path / ("raw.pcap" if raw else "cap.pcap")
    if raw:
        wrpcap(str(path), [p for _, p in packets], linktype=101)
    else:
        wrpcap(str(path), [Ether(src=m, dst="02:00:00:00:00:fe") / p for m, p in packets])
    return path


def pin_findings(report: Any) -> list[tuple[str, str, int | None]]:
    return [
        (f.severity.value, f.message, f.location.frame)
        for f in report.findings
        if f.rule == "MN-SPECIFIED-COMM"
    ]


def test_packets_from_the_pinned_macs_pass(tmp_path: Path) -> None:
    topo = topology(tmp_path, from_mac=MN_MAC, to_mac=LG_MAC)
    report = scan(topo, [handshake(tmp_path, MN_MAC, LG_MAC)], today=TODAY, generated_at="x")
    assert pin_findings(report) == []
    assert [f.channel for f in report.excepted] == ["CH-1"]


def test_a_packet_from_another_mac_is_a_finding(tmp_path: Path) -> None:
    topo = topology(tmp_path, from_mac=MN_MAC, to_mac=LG_MAC)
    report = scan(topo, [handshake(tmp_path, ROGUE, LG_MAC)], today=TODAY, generated_at="x")
    [(severity, message, frame)] = pin_findings(report)
    assert severity == "high" and frame == 1
    assert ROGUE in message and MN_MAC in message and "10.1.0.30 -> 10.2.0.50" in message


def test_the_reply_is_checked_against_the_other_end(tmp_path: Path) -> None:
    topo = topology(tmp_path, from_mac=MN_MAC, to_mac=LG_MAC)
    report = scan(topo, [handshake(tmp_path, MN_MAC, ROGUE)], today=TODAY, generated_at="x")
    [(severity, message, frame)] = pin_findings(report)
    assert severity == "high" and frame == 2 and "10.2.0.50 -> 10.1.0.30" in message


def test_one_end_pinned_checks_that_end_only(tmp_path: Path) -> None:
    topo = topology(tmp_path, from_mac=MN_MAC)
    report = scan(topo, [handshake(tmp_path, MN_MAC, ROGUE)], today=TODAY, generated_at="x")
    assert pin_findings(report) == []


def test_pins_a_capture_cannot_show_are_unchecked_not_clean(tmp_path: Path) -> None:
    topo = topology(tmp_path, from_mac=MN_MAC, to_mac=LG_MAC)
    report = scan(
        topo, [handshake(tmp_path, ROGUE, ROGUE, raw=True)], today=TODAY, generated_at="x"
    )
    [(severity, message, _)] = pin_findings(report)
    assert severity == "info" and "not checked" in message and "3 of its packets" in message


def test_no_pin_no_second_pass(tmp_path: Path) -> None:
    report = scan(
        topology(tmp_path), [handshake(tmp_path, ROGUE, ROGUE)], today=TODAY, generated_at="x"
    )
    assert pin_findings(report) == []


def test_required_pinning_in_the_plan(tmp_path: Path) -> None:
    loose = check(topology(tmp_path, settings={"channel_mac_pinning": "required"}), today=TODAY)
    assert any(
        f.rule == "MN-SPECIFIED-COMM" and "no MAC address pinned" in f.message
        for f in loose.findings
    )
    pinned = check(
        topology(
            tmp_path,
            from_mac=MN_MAC,
            to_mac=LG_MAC,
            settings={"channel_mac_pinning": "required"},
        ),
        today=TODAY,
    )
    assert not [f for f in pinned.findings if f.rule == "MN-SPECIFIED-COMM"]
    optional = check(topology(tmp_path), today=TODAY)
    assert not [f for f in optional.findings if f.rule == "MN-SPECIFIED-COMM"]


@pytest.mark.parametrize("bad", ["02:00:00:00:01", "zz:00:00:00:01:10", "0200.0000.0110", "[]"])
def test_a_malformed_mac_is_an_input_error(bad: str) -> None:
    text = (
        "segcheck: 1\nzones: {mn: {tier: mynumber, subnets: [10.1.0.0/24]}}\n"
        "nodes: {a: {role: server, ip: 10.1.0.1}, b: {role: server, ip: 10.1.0.2}}\n"
        f"channels: [{{id: C, from: a, to: b, service: https, reason: r, from_mac: {bad}}}]\n"
    )
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "m.yaml")
    assert str(err.value).startswith("m.yaml:4: ") and "from_mac" in str(err.value)


def test_the_four_tier_examples_pins_hold_and_break() -> None:
    """topologies/four-tier.yaml pins every channel to the MACs its example capture carries;
    pinning another MAC makes each packet of the channel's flow a finding at its frame."""
    root = Path(__file__).resolve().parents[2]
    capture = root / "captures" / "four-tier" / "four-tier.pcapng"
    topo = root / "topologies" / "four-tier.yaml"
    held = scan(topo, [capture], today=date(2026, 11, 22), generated_at="x")
    assert [f for f in held.findings if f.flow is None] == []
    text = topo.read_text(encoding="utf-8").replace(
        "from_mac: 02:00:00:00:00:01", f"from_mac: {ROGUE}", 1
    )
    report = scan(parse_topology(text.encode(), str(topo)), [capture], today=date(2026, 11, 22))
    pins = [f for f in report.findings if f.flow is None]
    assert [(f.rule, f.channel, f.src, f.dst) for f in pins] == [
        ("MN-SPECIFIED-COMM", "CH-MN-01", "10.1.20.20", "198.18.200.10")
    ]
