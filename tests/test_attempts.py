"""Attempted flows: what counts as one, and how severe a forbidden attempt is.

A forbidden flow that was only attempted (no answer, or refused) is a `warning` by default, and
keeps its rule's severity with `--attempted-severity rule`. A UDP datagram needs no answer
(syslog, SNMP traps, NetFlow/IPFIX/sFlow export are one-way), so an unanswered, unrefused UDP
flow is `unknown`, never `attempted`: its data may have arrived. The C accelerator and the
pure-Python reader decide alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw, raw
from scapy.utils import wrpcap

from segcheck.capture import read_capture, records
from segcheck.cli import main
from segcheck.engine import scan

MN, INET = "10.1.10.11", "10.3.10.5"
ONE_WAY_UDP = (514, 162, 2055, 4739, 9995, 6343)  # syslog, SNMP trap, NetFlow, IPFIX, sFlow

TOPOLOGY = """\
segcheck: 1
name: attempts
zones:
  mn:   {tier: mynumber, subnets: [10.1.0.0/16]}
  inet: {tier: internet, subnets: [10.3.0.0/16]}
nodes:
  mn-term-01: {role: terminal, ip: 10.1.10.11, usb_block: true, mfa: true}
  collector:  {role: server, ip: 10.3.10.5}
"""


def _frames() -> list[Ether]:
    frames = []
    for n, port in enumerate(ONE_WAY_UDP):  # export or log datagrams, never answered
        for _ in range(3):
            frames.append(IP(src=MN, dst=INET) / UDP(sport=40000 + n, dport=port) / Raw(b"log"))
    refused = IP(src=MN, dst=INET) / UDP(sport=41000, dport=123) / Raw(b"ntp")
    frames += [refused, IP(src=INET, dst=MN) / ICMP(type=3, code=3) / raw(refused)[:28]]
    frames.append(IP(src=MN, dst=INET) / TCP(sport=42000, dport=443, flags="S"))  # no SYN-ACK
    out = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / f for f in frames]
    for i, frame in enumerate(out):
        frame.time = 1_760_000_000 + i
    return out


@pytest.fixture()
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "attempts.pcap"
    wrpcap(str(path), _frames())
    return path


@pytest.fixture()
def topology(tmp_path: Path) -> Path:
    path = tmp_path / "attempts.yaml"
    path.write_text(TOPOLOGY, encoding="utf-8")
    return path


def _states(path: Path) -> dict[tuple[str, int], str]:
    return {(f.proto, f.dst_port): f.state for f in read_capture(path).flows}


def test_one_way_udp_is_unknown_and_refusals_attempts_in_both_readers(
    capture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = _states(capture)
    for port in ONE_WAY_UDP:
        assert default[("udp", port)] == "unknown", port
    assert default[("udp", 123)] == "attempted"  # ICMP port unreachable: refused
    assert default[("tcp", 443)] == "attempted"  # SYN without answer
    monkeypatch.setattr(records, "_accel", None)
    assert _states(capture) == default


def test_zeek_one_way_udp_is_unknown(tmp_path: Path) -> None:
    rows = [
        {"proto": "udp", "id.resp_p": 514, "conn_state": "S0", "resp_pkts": 0},
        {"proto": "udp", "id.resp_p": 2055, "conn_state": "OTH", "resp_pkts": 0},
        {"proto": "tcp", "id.resp_p": 443, "conn_state": "S0", "resp_pkts": 0},
        {"proto": "tcp", "id.resp_p": 22, "conn_state": "REJ", "resp_pkts": 1},
    ]
    lines = [
        json.dumps(
            {"ts": 1_760_000_000 + i, "id.orig_h": MN, "id.orig_p": 40000 + i, "id.resp_h": INET}
            | row
            | {"orig_pkts": 2, "orig_ip_bytes": 120, "resp_ip_bytes": 0}
        )
        for i, row in enumerate(rows)
    ]
    path = tmp_path / "conn.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _states(path) == {
        ("udp", 514): "unknown",
        ("udp", 2055): "unknown",
        ("tcp", 443): "attempted",
        ("tcp", 22): "attempted",
    }


def _severities(report_findings: list[dict]) -> dict[tuple[str, int], tuple[str, str]]:
    return {
        (f["flow"]["proto"], f["flow"]["dst_port"]): (f["flow"]["state"], f["severity"])
        for f in report_findings
    }


def test_attempts_are_warnings_unless_asked_to_keep_the_rule_severity(
    capture: Path, topology: Path
) -> None:
    default = scan(str(topology), [str(capture)])
    kept = scan(str(topology), [str(capture)], attempts_keep_severity=True)
    for report, attempt_severity in ((default, "warning"), (kept, "critical")):
        by_flow = {
            (f.flow.proto, f.flow.dst_port): (f.flow.state, f.severity.value)
            for f in report.findings
            if f.flow is not None
        }
        assert {f.rule for f in report.findings} == {"MN-NO-INTERNET"}
        assert by_flow[("tcp", 443)] == ("attempted", attempt_severity)
        assert by_flow[("udp", 123)] == ("attempted", attempt_severity)
        for port in ONE_WAY_UDP:  # data that may have arrived is never downgraded
            assert by_flow[("udp", port)] == ("unknown", "critical")


@pytest.mark.parametrize("command", ["scan", "report"])
def test_cli_attempted_severity_switch(
    command: str, capture: Path, topology: Path, tmp_path: Path
) -> None:
    def findings(*extra: str) -> tuple[int, dict[tuple[str, int], tuple[str, str]]]:
        out = tmp_path / f"out{len(extra)}"
        if command == "scan":
            args = ["scan", str(topology), str(capture), "--format", "json", "-o", str(out)]
        else:
            args = ["report", str(topology), str(capture), "-o", str(out)]
            out = out / "findings.json"
        result = CliRunner().invoke(main, [*args, "--fail-on", "critical", *extra])
        return result.exit_code, _severities(json.loads(out.read_text("utf-8"))["findings"])

    code, default = findings()
    assert code == 1 and default[("tcp", 443)] == ("attempted", "warning")
    code, kept = findings("--attempted-severity", "rule")
    assert code == 1 and kept[("tcp", 443)] == ("attempted", "critical")
    assert default[("udp", 514)] == kept[("udp", 514)] == ("unknown", "critical")
    bad = CliRunner().invoke(main, [command, str(topology), "--attempted-severity", "x"])
    assert bad.exit_code == 2
