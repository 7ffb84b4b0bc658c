"""Scan findings as conversations (issue 12, item 5): text, SARIF and HTML list one finding per
rule, initiator host, responder host, service (or port), state and channel, with counts and
times; JSON and CSV keep every flow; `--group-by flow` lists each flow; per channel, the flows
it covered are counted (a channel nobody used is listed with zero)."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.engine import scan
from segcheck.findings import conversation_fingerprint
from segcheck.report import render
from segcheck.report.conversations import channel_use, conversations, presented

STAMP = "2026-06-01T00:00:00Z"
T0 = 1_780_000_000.0
TOPOLOGY = """\
segcheck: 1
name: conversations
profile: alpha
zones:
  mn: {tier: mynumber, subnets: [10.1.0.0/24]}
  lg: {tier: lgwan, subnets: [10.2.0.0/24]}
  inet: {tier: internet, subnets: [10.3.0.0/24]}
  lw: {tier: lgwan-network, subnets: [198.18.0.0/24]}
nodes:
  lg-t: {role: terminal, ip: [10.2.0.10, 10.2.0.11]}
  web: {role: server, ip: 10.3.0.80}
  mn-s: {role: server, ip: 10.1.0.5}
  lw-h: {role: server, ip: 198.18.0.5}
channels:
  - {id: CH-A, from: mn-s, to: lw-h, service: https, reason: r, expires: 2030-01-01}
  - {id: CH-B, from: mn-s, to: lw-h, service: smtp, reason: r, expires: 2030-01-01}
"""

SYN, SYN_ACK, ACK = 0x02, 0x12, 0x10


def _frame(src: str, dst: str, sport: int, dport: int, flags: int) -> bytes:
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))  # fmt: skip
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 0, 0, 0x50, flags, 0, 0, 0)
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + tcp


def _session(src: str, dst: str, sport: int, dport: int, answered: bool = True) -> list[bytes]:
    if not answered:
        return [_frame(src, dst, sport, dport, SYN)] * 2  # retried, never answered
    return [
        _frame(src, dst, sport, dport, SYN),
        _frame(dst, src, dport, sport, SYN_ACK),
        _frame(src, dst, sport, dport, ACK),
    ]


def _pcap(sessions: list[list[bytes]]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    t = T0
    for frames in sessions:
        for data in frames:
            t += 0.5
            sec = int(t)
            out.append(struct.pack("<IIII", sec, int(round((t - sec) * 1e6)), len(data),
                                   len(data)) + data)  # fmt: skip
    return b"".join(out)


# lg-t reaches web on https from both its addresses (3 flows, one conversation), on smtp
# (another service), and tries https once more without an answer (another state); mn-s uses
# channel CH-A twice. CH-B is never used.
SESSIONS = [
    _session("10.2.0.10", "10.3.0.80", 40001, 443),
    _session("10.2.0.10", "10.3.0.80", 40002, 443),
    _session("10.1.0.5", "198.18.0.5", 40006, 443),
    _session("10.2.0.11", "10.3.0.80", 40003, 443),
    _session("10.2.0.10", "10.3.0.80", 40004, 25),
    _session("10.2.0.10", "10.3.0.80", 40005, 443, answered=False),
    _session("10.1.0.5", "198.18.0.5", 40007, 443),
]


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    topo = tmp_path / "t.yaml"
    topo.write_text(TOPOLOGY, encoding="utf-8")
    cap = tmp_path / "c.pcap"
    cap.write_bytes(_pcap(SESSIONS))
    return topo, cap


def test_flows_sharing_hosts_service_and_state_are_one_conversation(files) -> None:
    topo, cap = files
    report = scan(topo, [cap], generated_at=STAMP)
    assert len(report.findings) == 5 and len(report.excepted) == 2  # flows
    view = presented(report)
    convs = {(f.src, f.dst, f.service, f.conversation.state): f for f in view.findings}  # type: ignore[union-attr]
    assert set(convs) == {
        ("lg-t", "web", "https", "established"),
        ("lg-t", "web", "smtp", "established"),
        ("lg-t", "web", "https", "attempted"),
    }
    https = convs[("lg-t", "web", "https", "established")]
    ev = https.conversation
    assert ev is not None
    assert (ev.flows, ev.packets) == (3, 9)
    assert ev.src_ips == ("10.2.0.10", "10.2.0.11") and ev.dst_ips == ("10.3.0.80",)
    assert ev.ports == ("tcp/443",)
    flows = [f.flow for f in report.findings if f.service == "https" and f.flow is not None]
    established = [fl for fl in flows if fl.state == "established"]
    assert ev.bytes == sum(fl.bytes for fl in established)
    assert ev.first_frame == 1 and https.location.frame == 1  # the first flow's first frame
    assert ev.first_seen == min(fl.first_seen for fl in established)
    assert ev.last_seen == max(fl.last_seen for fl in established) > ev.first_seen
    assert "3 flows" in https.text("en") and "3 フロー" in https.text("ja")
    (covered,) = view.excepted
    assert covered.channel == "CH-A" and covered.conversation is not None
    assert covered.conversation.flows == 2
    # the severity and rule of a conversation are its flows'; the fingerprints are distinct
    # and hash what the spec says (rule, hosts with zones, service or port, state, channel)
    assert len({f.fingerprint for f in view.findings}) == 3
    for f in (*view.findings, *view.excepted):
        assert f.conversation is not None and f.service is not None
        assert f.fingerprint == conversation_fingerprint(
            f.rule, f.src_zone, f.src, f.dst_zone, f.dst, f.service, f.conversation.state,
            f.channel,
        )  # fmt: skip
    assert {f.rule for f in view.findings} == {f.rule for f in report.findings}


def test_grouping_keeps_every_count(files) -> None:
    """However flows group, no flow, packet or byte is lost or counted twice."""
    topo, cap = files
    report = scan(topo, [cap], generated_at=STAMP)
    for found, excepted in ((report.findings, False), (report.excepted, True)):
        grouped = conversations(found, excepted)
        assert sum(f.conversation.flows for f in grouped) == len(found)  # type: ignore[union-attr]
        assert sum(f.conversation.packets for f in grouped) == sum(  # type: ignore[union-attr]
            f.flow.packets  # type: ignore[union-attr]
            for f in found
        )


def test_channel_use_counts_the_flows_each_channel_covered(files) -> None:
    topo, cap = files
    report = scan(topo, [cap], generated_at=STAMP)
    uses = {u.channel: u for u in channel_use(report)}
    assert set(uses) == {"CH-A", "CH-B"}
    assert (uses["CH-A"].flows, uses["CH-A"].conversations, uses["CH-A"].packets) == (2, 1, 6)
    assert uses["CH-B"].flows == 0 and uses["CH-B"].first_seen is None
    text = render(report, "text", "en")
    assert "CH-A: flows 2 (conversations 1), pkts 6" in text
    assert "CH-B: no flow used it" in text
    data = json.loads(render(report, "json"))
    assert [(u["channel"], u["flows"]) for u in data["channel_use"]] == [("CH-A", 2), ("CH-B", 0)]


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def test_group_by_picks_conversations_or_flows(files) -> None:
    topo, cap = files
    common = ["scan", str(topo), str(cap), "--timestamp", STAMP, "--lang", "en"]
    code, text = _cli(*common)
    assert code == 1
    heads = [line for line in text.splitlines() if line.startswith(f"  {cap}#") and "] " in line]
    assert len(heads) == 3 and all("conversation" in h for h in heads)
    assert "3 conversation(s) stand for 5 flow finding(s)" in text
    code, flat = _cli(*common, "--group-by", "flow")
    assert code == 1
    heads = [line for line in flat.splitlines() if line.startswith(f"  {cap}#") and "] " in line]
    assert len(heads) == 5 and not any("conversation" in h for h in heads)
    # JSON and CSV keep every flow whatever the grouping
    for fmt in ("json", "csv"):
        by_conv = _cli(*common, "--format", fmt)[1]
        assert by_conv == _cli(*common, "--format", fmt, "--group-by", "flow")[1]
    data = json.loads(_cli(*common, "--format", "json")[1])
    assert len(data["findings"]) == 5 and all(f["flow"]["last_seen"] for f in data["findings"])
    sarif = json.loads(_cli(*common, "--format", "sarif")[1])["runs"][0]
    assert len([r for r in sarif["results"] if "suppressions" not in r]) == 3
    assert sarif["properties"]["group_by"] == "conversation"
    assert sarif["properties"]["flow_findings"] == 5
    assert sarif["properties"]["summary"]["critical"] == 4  # findings, as JSON counts them
    sarif_flows = json.loads(_cli(*common, "--format", "sarif", "--group-by", "flow")[1])
    assert len(sarif_flows["runs"][0]["results"]) == 7
    html = _cli(*common, "--format", "html")[1]
    assert html.count('<div class="finding ') == 3
    assert "flows 3, pkts 9" in html


def test_bad_group_by_is_a_usage_error(files) -> None:
    topo, cap = files
    code, _ = _cli("scan", str(topo), str(cap), "--group-by", "host")
    assert code == 2


def test_states_against_a_baseline_are_per_conversation(files, tmp_path: Path) -> None:
    """A conversation is new when one of its flows is (here lg-t's second address), the same
    when all its flows are, and fixed only when none of its flows is left."""
    topo, _ = files
    before = tmp_path / "before.pcap"
    before.write_bytes(
        _pcap(
            [
                _session("10.2.0.10", "10.3.0.80", 40001, 443),
                _session("10.2.0.10", "10.3.0.80", 40004, 25),
                _session("10.2.0.10", "10.3.0.80", 40008, 22),  # gone in the second run
            ]
        )
    )
    after = tmp_path / "after.pcap"
    after.write_bytes(
        _pcap(
            [
                _session("10.2.0.10", "10.3.0.80", 40011, 443),
                _session("10.2.0.11", "10.3.0.80", 40012, 443),  # a new flow, same conversation
                _session("10.2.0.10", "10.3.0.80", 40013, 25),
            ]
        )
    )
    result = tmp_path / "before.json"
    code, _ = _cli("scan", str(topo), str(before), "--format", "json", "-o", str(result))
    assert code == 1
    code, text = _cli("scan", str(topo), str(after), "--baseline", str(result), "--lang", "en")
    lines = [line for line in text.splitlines() if "conversation lg-t" in line]
    https = next(line for line in lines if "(https)" in line)
    smtp = next(line for line in lines if "(smtp)" in line)
    ssh = next(line for line in lines if "(ssh)" in line)
    assert "[new]" in https and "[unchanged]" in smtp and "[fixed]" in ssh
    assert code == 1  # the new flow gates
    sarif = json.loads(
        _cli("scan", str(topo), str(after), "--baseline", str(result), "--format", "sarif")[1]
    )
    states = sorted(r["baselineState"] for r in sarif["runs"][0]["results"])
    assert states == ["absent", "new", "unchanged"]


def test_a_check_report_is_never_regrouped(files) -> None:
    from segcheck.engine import check

    topo, _ = files
    report = check(topo, generated_at=STAMP)
    assert presented(report) is report
    flat = replace(report, group_by="flow")
    assert render(flat, "text") == render(report, "text")


@pytest.mark.parametrize("group_by", ["conversation", "flow"])
def test_sarif_text_is_the_standard_librarys(files, group_by: str) -> None:
    """SARIF is written by the JSON format's fast writer: the bytes json.dumps would write."""
    from segcheck.report.sarif import sarif_dict

    topo, cap = files
    report = replace(scan(topo, [cap], generated_at=STAMP), group_by=group_by)
    for lang in ("en", "ja"):
        expected = json.dumps(sarif_dict(report, lang), ensure_ascii=False, indent=2) + "\n"
        assert render(report, "sarif", lang) == expected
