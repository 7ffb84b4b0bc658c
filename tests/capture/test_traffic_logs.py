"""Traffic-log readers (FortiGate, PAN-OS, Suricata EVE, nfdump): public sample lines, the
flows each yields (the same flow records as packets), damage counted and located, never fatal.

Expectations are written from the formats' documentation and the sample lines themselves
(tests/data/logs/LICENSES.md), never from segcheck's own output; the nfdump fixtures are the
NetFlow export of captures/alpha/alpha.pcap, so their flows must equal the capture's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from segcheck.capture import read_capture
from segcheck.capture.logflow import LogFlow, ReadOptions
from segcheck.capture.nfdump import NfcapdFile
from segcheck.capture.source import ByteSource
from segcheck.capture.sources import FLOW_SOURCES, SNIFF_BYTES, SOURCES
from segcheck.cli import main
from segcheck.errors import CaptureError
from segcheck.flowtypes import LOG_KINDS

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
ALPHA = ROOT / "topologies" / "alpha.yaml"
TOKYO = ReadOptions(ZoneInfo("Asia/Tokyo"))


def flows_of(path: Path, options: ReadOptions | None = None) -> list[tuple[object, ...]]:
    """(src, sport, dst, dport, proto, state, line, pivot, action, rule) of each flow."""
    result = read_capture(path, options)
    out = []
    for f in result.flows:
        assert isinstance(f, LogFlow)
        out.append(
            (
                f.src_ip,
                f.src_port,
                f.dst_ip,
                f.dst_port,
                f.proto,
                f.state,
                f.line,
                f.pivot,
                f.action,
                f.rule_ref,
            )
        )
    return out


def write(tmp_path: Path, name: str, lines: list[str] | str) -> Path:
    path = tmp_path / name
    text = lines if isinstance(lines, str) else "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """segcheck's command line in this process (a new one costs ~0.4 s of CPU); an internal
    error fails the test with its traceback instead of hiding in an exit status."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m segcheck` itself: its exit status and stderr as a shell sees them."""
    return subprocess.run(
        [sys.executable, "-m", "segcheck", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


# -- the registry ---------------------------------------------------------------------------


def test_every_flow_source_has_a_log_kind() -> None:
    assert {s.kind for s in FLOW_SOURCES} == LOG_KINDS


FIXTURES = {
    "fortigate/wazuh__fortigate.log": "fortigate-traffic",
    "panos/wazuh__paloalto.log": "panos-traffic",
    "suricata/tenzir__eve.json": "suricata-eve",
    "nfdump/alpha.nfdump-1.7.1.csv": "nfdump",
    "nfdump/alpha.nfdump-1.7.1.json": "nfdump",
    "nfdump/alpha.nfcapd": "nfcapd",
    "nfdump/wikipedia.nfdump-1.7.1.csv": "nfdump",
    "nfdump/wikipedia.nfdump-1.7.8.csv": "nfdump",
    "nfdump/wikipedia.nfdump-1.7.8-flags.csv": "nfdump",
    "nfdump/wikipedia.nfcapd": "nfcapd",
}


@pytest.mark.parametrize(("name", "kind"), sorted(FIXTURES.items()))
def test_each_log_is_claimed_by_exactly_one_source(name: str, kind: str) -> None:
    with ByteSource(LOGS / name) as src:
        head = src.peek(SNIFF_BYTES)
    assert [s.kind for s in SOURCES if s.sniff(head)] == [kind]


def test_other_inputs_are_not_taken_for_logs() -> None:
    for path in (ROOT / "captures" / "alpha" / "alpha.pcap", ALPHA):
        with ByteSource(path) as src:
            head = src.peek(SNIFF_BYTES)
        assert not [s.kind for s in FLOW_SOURCES if s.sniff(head)], path


# -- FortiGate ------------------------------------------------------------------------------

WAZUH_FGT = LOGS / "fortigate" / "wazuh__fortigate.log"


def test_fortigate_public_samples() -> None:
    # 46 lines: 10 traffic records, of which 5 are FortiOS 3/4 (src=/dst=, not read) and 5
    # FortiOS 5/6; the rest are utm and event records, which are no traffic.
    result = read_capture(WAZUH_FGT, TOKYO)
    assert (result.info.kind, result.info.packets_read, result.info.packets_skipped) == (
        "fortigate-traffic",
        46,
        5,
    )
    assert result.info.first_skipped == (
        11,
        "a FortiOS 4 or older record (src=/dst=/status=) is not read",
    )
    assert flows_of(WAZUH_FGT, TOKYO) == [
        ("7.3.8.5", 57727, "7.8.9.81", 80, "tcp", "attempted", 16, "181876", "deny", "root/8"),
        ("4.3.5.161", 51082, "54.192.197.185", 80, "tcp", "attempted", 17, "199618", "deny", "root/8"),
        ("10.1.100.11", 60446, "172.16.200.55", 80, "tcp", "established", 18, "359260", "accept", "vdom1/4"),
        ("10.1.100.22", 50002, "172.16.100.100", 53, "udp", "established", 19, "6887", "accept", "vdom1/1"),
        ("10.1.100.22", 50798, "195.8.215.136", 443, "tcp", "established", 20, "4414", "accept", "root/1"),
    ]  # fmt: skip
    by_line = {f.first_frame: f for f in result.flows}
    # date=2016-06-16 time=10:19:23 in Tokyo, duration=30 before it
    assert by_line[16].last_seen == datetime(2016, 6, 16, 1, 19, 23, tzinfo=UTC).timestamp()
    assert by_line[16].first_seen == by_line[16].last_seen - 30
    # eventtime=1557773104815101919 is nanoseconds; 1557968619 seconds
    assert by_line[18].last_seen == pytest.approx(1557773104.815102)
    assert by_line[20].last_seen == 1557968619.0
    assert (by_line[18].packets, by_line[18].bytes) == (12, 412 + 2286)


def test_fortigate_local_time_without_zone_is_a_usage_error() -> None:
    with pytest.raises(CaptureError, match=r"line 16: date/time are the device's local time.*--tz"):
        read_capture(WAZUH_FGT)
    done = run_process("scan", str(ALPHA), str(WAZUH_FGT))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 16" in done.stderr and "--tz" in done.stderr


FGT = (
    'date=2026-04-01 time=09:00:{s:02d} devname="fgt-core" devid="FGT60F0000000001" '
    'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="{vd}" '
    'eventtime={et} tz="+0900" srcip={src} srcport={sport} srcintf="lan" dstip={dst} '
    'dstport={dport} dstintf="wan1" sessionid={sid} proto={proto} action="{action}" '
    'policyid={pid} policytype="{ptype}" service="X" duration={dur} sentbyte={sb} '
    "rcvdbyte={rb} sentpkt={sp} rcvdpkt={rp}"
)


def fgt(**kw: object) -> str:
    d: dict[str, object] = dict(
        s=0, vd="root", et=1775001600, src="10.2.10.12", sport=50000, dst="10.3.20.25",
        dport=445, sid=1, proto=6, action="close", pid=12, ptype="policy", dur=3, sb=500,
        rb=700, sp=5, rp=4,
    )  # fmt: skip
    d.update(kw)
    return FGT.format(**d)


def test_fortigate_states_and_policies(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "fgt.log",
        [
            "<189>" + fgt(sid=1),  # a syslog priority before the first pair
            fgt(sid=2, sport=50001, action="deny", pid=0, sb=0, rb=0, sp=1, rp=0),
            fgt(sid=3, sport=50002, action="server-rst", sb=60, rb=40, sp=1, rp=1),
            fgt(sid=4, sport=50003, action="start", sb=0, rb=0, sp=0, rp=0),
            fgt(sid=5, proto=17, sport=50004, dport=53, action="accept", rb=0, rp=0),
            fgt(sid=6, sport=50005, action="timeout", rb=0, rp=0, ptype="local-in-policy"),
            fgt(sid=7, sport=50006, vd="vdom-a", pid=7, ptype="policy6"),
        ],
    )
    assert flows_of(path) == [
        ("10.2.10.12", 50000, "10.3.20.25", 445, "tcp", "established", 1, "1", "accept", "root/12"),
        ("10.2.10.12", 50001, "10.3.20.25", 445, "tcp", "attempted", 2, "2", "deny", None),
        ("10.2.10.12", 50002, "10.3.20.25", 445, "tcp", "attempted", 3, "3", "accept", "root/12"),
        ("10.2.10.12", 50003, "10.3.20.25", 445, "tcp", "unknown", 4, "4", "accept", "root/12"),
        ("10.2.10.12", 50004, "10.3.20.25", 53, "udp", "unknown", 5, "5", "accept", "root/12"),
        ("10.2.10.12", 50005, "10.3.20.25", 445, "tcp", "attempted", 6, "6", "accept", None),
        ("10.2.10.12", 50006, "10.3.20.25", 445, "tcp", "established", 7, "7", "accept", "vdom-a/policy6/7"),
    ]  # fmt: skip


def test_fortigate_records_of_one_flow_merge(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "fgt.log",
        [
            fgt(sid=9, action="start", dur=0, sb=0, rb=0, sp=0, rp=0),
            fgt(sid=9, s=5, et=1775001605, action="close", dur=5),
            'date=2026-04-01 time=09:00:06 type="traffic" srcip=10.2.10.12 icmptype=0x08 '
            'dstip=203.0.113.9 proto=1 action="accept" policyid=3 sessionid=10 rcvdpkt=1 '
            'tz="+0900" logid="0000000013"',
        ],
    )
    result = read_capture(path)
    tcp, icmp = result.flows
    assert isinstance(tcp, LogFlow) and isinstance(icmp, LogFlow)
    assert (tcp.state, tcp.records, tcp.pivot, tcp.packets, tcp.bytes) == (
        "established",
        2,
        "9",
        9,
        1200,
    )
    assert (tcp.first_seen, tcp.last_seen) == (1775001600.0, 1775001605.0)
    assert (icmp.proto, icmp.src_port, icmp.dst_port, icmp.state) == ("icmp", 0, 8, "established")
    assert icmp.last_seen == datetime(2026, 4, 1, 0, 0, 6, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (fgt(src="10.2.10.300"), "srcip '10.2.10.300' is not an address"),
        (fgt(dport=70000), "dstport '70000' is out of range (0-65535)"),
        (fgt(et="12345"), "eventtime '12345' is not an epoch"),
        (fgt(action="maybe"), "action 'maybe' is not a traffic-log action"),
        (fgt(proto="tcpx"), "proto 'tcpx' is not a protocol name or number (0-255)"),
        (fgt(sb="-1"), "sentbyte '-1' is not a whole number"),
        (fgt().replace("dstip=10.3.20.25 ", ""), "no dstip"),
        ("\x00\x01\x02garbage without pairs", "no key=value pair"),
        (
            'srcip=10.2.10.12 dstip=10.3.20.25 action="accept',
            "no type= (not a FortiGate log record)",
        ),
        (fgt()[:120], "no srcip"),  # cut mid-record
    ],
)
def test_fortigate_damage_is_counted_and_located(tmp_path: Path, line: str, why: str) -> None:
    path = write(tmp_path, "fgt.log", [fgt(), line, fgt(sport=50009)])
    result = read_capture(path)
    assert (result.info.packets_read, result.info.packets_skipped) == (3, 1)
    assert result.info.first_skipped == (2, why)
    assert [f.first_frame for f in result.flows] == [1, 3]


def test_fortigate_overlong_line_is_damage(tmp_path: Path) -> None:
    path = tmp_path / "fgt.log"
    path.write_bytes((fgt() + "\n" + "x" * (2 << 20) + "\n" + fgt(sport=50009) + "\n").encode())
    result = read_capture(path)
    assert result.info.first_skipped == (2, "line longer than 1 MiB")
    assert [f.first_frame for f in result.flows] == [1, 3]


def test_a_log_with_no_readable_record_is_an_evidence_gap(tmp_path: Path) -> None:
    path = write(tmp_path, "fgt.log", [fgt(src="999.1.1.1"), fgt(dst="x")])
    result = read_capture(path)  # never fatal: read, nothing usable
    assert (result.info.packets_read, result.info.packets_skipped, result.flows) == (2, 2, ())
    done = run("scan", str(ALPHA), str(path), "--format", "json")
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert report["evidence"]["status"] == "unusable"
    assert report["evidence"]["separation_proven"] is False
    (gap,) = report["evidence"]["gaps"]
    assert gap["kind"] == "no-packets" and gap["input"] == str(path)
    assert "no readable connection record (2 records read, 2 unreadable" in gap["message"]
    assert "line 1: srcip '999.1.1.1' is not an address" in gap["message"]


# -- PAN-OS ---------------------------------------------------------------------------------

WAZUH_PAN = LOGS / "panos" / "wazuh__paloalto.log"


def test_panos_public_samples() -> None:
    # 16 lines: 7 TRAFFIC records, of which one is a real (anonymised) PAN-OS 10 record with its
    # High Resolution Timestamp; one is cut after 5 columns and five are anonymised into
    # garbage ("00.00.000.00"); the rest are SYSTEM, CONFIG and THREAT records.
    result = read_capture(WAZUH_PAN)
    assert (result.info.kind, result.info.packets_read, result.info.packets_skipped) == (
        "panos-traffic",
        16,
        6,
    )
    assert result.info.first_skipped == (2, "5 columns where a TRAFFIC record has at least 37")
    assert flows_of(WAZUH_PAN) == [
        ("10.210.0.84", 500, "51.11.168.232", 500, "udp", "attempted", 12, "0", "deny", "vsys1/DENY-ALL")
    ]  # fmt: skip
    (flow,) = result.flows
    assert isinstance(flow, LogFlow) and flow.observer == "P1A-GWLB-CORE-FW01"
    # 2021-07-15T11:59:03.547+01:00
    assert flow.last_seen == datetime(2021, 7, 15, 10, 59, 3, 547000, tzinfo=UTC).timestamp()


def pan(
    src: str = "10.2.10.12",
    dst: str = "10.3.20.25",
    sport: str = "50000",
    dport: str = "445",
    proto: str = "tcp",
    action: str = "allow",
    subtype: str = "end",
    rule: str = "LG-to-INET",
    received: tuple[str, str] = ("700", "4"),
    columns: int = 53,
    session: str = "4242",
) -> str:
    """A TRAFFIC line of `columns` columns (53: PAN-OS 8.0's length, no High Res Timestamp)."""
    c = [""] * max(columns, 47)
    c[0:7] = [
        "1",
        "2026/04/01 09:00:05",
        "012345678901",
        "TRAFFIC",
        subtype,
        "1",
        "2026/04/01 09:00:04",
    ]
    c[7], c[8], c[11], c[14], c[15] = src, dst, rule, "ssl", "vsys1"
    c[16], c[17], c[22], c[23] = "lg", "inet", session, "1"
    c[24], c[25], c[29], c[30] = sport, dport, proto, action
    c[31], c[32], c[33], c[34] = "1200", "500", received[0], "9"
    c[35], c[36], c[44], c[45], c[46] = "2026/04/01 09:00:01", "3", "5", received[1], "tcp-fin"
    if columns > 52:
        c[52] = "pa-core"
    return ",".join(c[:columns])  # fmt: skip


def test_panos_versions_and_states(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pan.csv",
        [
            "<14>Apr  1 09:00:05 pa-core " + pan(),  # a syslog header in column 0
            pan(sport="50001", action="reset-both", received=("0", "0"), session="2"),
            pan(sport="50002", received=("0", "0"), session="3"),
            pan(sport="50003", proto="udp", dport="53", received=("0", "0"), session="4"),
            pan(sport="50004", subtype="start", received=("0", "0"), columns=47, session="5"),
        ],
    )
    with pytest.raises(CaptureError, match="line 1: Generated Time is the firewall's local time"):
        read_capture(path)
    assert flows_of(path, TOKYO) == [
        ("10.2.10.12", 50000, "10.3.20.25", 445, "tcp", "established", 1, "4242", "accept", "vsys1/LG-to-INET"),
        ("10.2.10.12", 50001, "10.3.20.25", 445, "tcp", "attempted", 2, "2", "deny", "vsys1/LG-to-INET"),
        ("10.2.10.12", 50002, "10.3.20.25", 445, "tcp", "attempted", 3, "3", "accept", "vsys1/LG-to-INET"),
        ("10.2.10.12", 50003, "10.3.20.25", 53, "udp", "unknown", 4, "4", "accept", "vsys1/LG-to-INET"),
        ("10.2.10.12", 50004, "10.3.20.25", 445, "tcp", "unknown", 5, "5", "accept", "vsys1/LG-to-INET"),
    ]  # fmt: skip
    first = read_capture(path, TOKYO).flows[0]
    assert first.last_seen == datetime(2026, 4, 1, 0, 0, 4, tzinfo=UTC).timestamp()
    assert first.first_seen == first.last_seen - 3


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (pan(columns=30), "30 columns where a TRAFFIC record has at least 37"),
        (pan(src="10.2.10"), "Source Address '10.2.10' is not an address"),
        (pan(dport="http"), "Destination Port 'http' is not a whole number"),
        (pan(action="maybe"), "Action 'maybe' is not a traffic-log action"),
        (pan().replace("TRAFFIC", "TRAFIC"), "column 4 'TRAFIC' is not a log type"),
        (pan().replace("2026/04/01 09:00:04", "yesterday"), "Generated Time 'yesterday' is not YYYY/MM/DD HH:MM:SS"),
        ('1,2026/04/01 09:00:05,0123,TRAFFIC,"end', "5 columns where a TRAFFIC record has at least 37"),
    ],
)  # fmt: skip
def test_panos_damage_is_counted_and_located(tmp_path: Path, line: str, why: str) -> None:
    path = write(tmp_path, "pan.csv", [pan(), line, pan(sport="50009")])
    result = read_capture(path, TOKYO)
    assert (result.info.packets_read, result.info.packets_skipped) == (3, 1)
    assert result.info.first_skipped == (2, why)
    assert [f.first_frame for f in result.flows] == [1, 3]


# -- Suricata EVE ---------------------------------------------------------------------------

TENZIR_EVE = LOGS / "suricata" / "tenzir__eve.json"


def test_suricata_public_samples() -> None:
    # 7 events: alert, dns, fileinfo, flow, http, netflow (of the same flow_id as the flow
    # event: not counted twice) and quic.
    result = read_capture(TENZIR_EVE)
    assert (result.info.packets_read, result.info.packets_skipped) == (7, 0)
    assert flows_of(TENZIR_EVE) == [
        ("147.32.84.165", 138, "147.32.84.255", 138, "udp", "unknown", 4, "929669869939483", None, None)
    ]  # fmt: skip
    (flow,) = result.flows
    assert (flow.packets, flow.bytes) == (2, 486)
    assert flow.first_seen == datetime(2011, 8, 12, 12, 53, 47, 928539, tzinfo=UTC).timestamp()


def eve(kind: str = "flow", **kw: object) -> str:
    ev: dict[str, object] = {
        "timestamp": "2026-04-01T09:00:05.000000+0900",
        "flow_id": kw.pop("flow_id", 1),
        "event_type": kind,
        "src_ip": kw.pop("src", "10.2.10.12"),
        "src_port": kw.pop("sport", 50000),
        "dest_ip": kw.pop("dst", "10.3.20.25"),
        "dest_port": kw.pop("dport", 445),
        "proto": kw.pop("proto", "TCP"),
    }
    times = {"start": "2026-04-01T09:00:01.000000+0900", "end": "2026-04-01T09:00:04.500000+0900"}
    if kind == "flow":
        ev["flow"] = {
            "pkts_toserver": kw.pop("ts", 5),
            "pkts_toclient": kw.pop("tc", 4),
            "bytes_toserver": 500,
            "bytes_toclient": 700,
            **times,
            **kw.pop("flow", {}),
        }
    else:
        ev["netflow"] = {"pkts": kw.pop("pkts", 5), "bytes": 500, **times}
    if "tcp" in kw:
        ev["tcp"] = kw.pop("tcp")
    ev.update(kw)
    return json.dumps(ev)


def test_suricata_states_midstream_and_netflow_join(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "eve.json",
        [
            eve(flow_id=1, tcp={"tcp_flags_ts": "1b", "tcp_flags_tc": "1b"}),
            eve(flow_id=2, sport=50001, tc=0, tcp={"tcp_flags_ts": "02"}),
            eve(flow_id=3, sport=50002, tc=1, tcp={"tcp_flags_ts": "02", "tcp_flags_tc": "14"}),
            # picked up midstream, the server's packet first: 445 is the service
            eve(flow_id=4, src="10.3.20.25", sport=445, dst="10.2.10.12", dport=50003,
                tcp={"tcp_flags_ts": "18", "tcp_flags_tc": "18"}),
            eve(flow_id=5, sport=50004, tc=0, flow={"action": "drop"}, tcp={"tcp_flags_ts": "02"}),
            eve("netflow", flow_id=6, sport=50005, tcp={"tcp_flags": "1b"}),
            eve("netflow", flow_id=6, src="10.3.20.25", sport=445, dst="10.2.10.12", dport=50005,
                pkts=4, tcp={"tcp_flags": "1b"}),
            eve("netflow", flow_id=7, proto="UDP", sport=50006, dport=53),
        ],
    )  # fmt: skip
    assert flows_of(path) == [
        ("10.2.10.12", 50000, "10.3.20.25", 445, "tcp", "established", 1, "1", None, None),
        ("10.2.10.12", 50001, "10.3.20.25", 445, "tcp", "attempted", 2, "2", None, None),
        ("10.2.10.12", 50002, "10.3.20.25", 445, "tcp", "attempted", 3, "3", None, None),
        ("10.2.10.12", 50003, "10.3.20.25", 445, "tcp", "established", 4, "4", None, None),
        ("10.2.10.12", 50004, "10.3.20.25", 445, "tcp", "attempted", 5, "5", "deny", None),
        ("10.2.10.12", 50005, "10.3.20.25", 445, "tcp", "established", 6, "6", None, None),
        ("10.2.10.12", 50006, "10.3.20.25", 53, "udp", "unknown", 8, "7", None, None),
    ]
    joined = read_capture(path).flows[5]
    assert (joined.packets, joined.bytes) == (9, 1000)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"event_type": "flow", "src_ip": "10.2.10.12"', "not JSON (Expecting ',' delimiter)"),
        ("[1, 2]", "JSON line is not an object"),
        ('{"src_ip": "10.2.10.12"}', "no event_type"),
        (eve(src="10.2.10.256"), "src_ip '10.2.10.256' is not an address"),
        (eve(dport=-1), "dest_port -1 is out of range (0-65535)"),
        (eve(flow={"start": "yesterday"}), "flow.start 'yesterday' is not a time"),
        (eve(flow={"start": "2026-04-01T09:00:01"}), "flow.start '2026-04-01T09:00:01' has no offset"),
        (eve(ts="5"), "flow.pkts_toserver '5' is not a whole number"),
        # the edges of the inline checks (a JSON integer in range, two hex digits) and beyond
        (eve(dport=65536), "dest_port 65536 is out of range (0-65535)"),
        (eve(sport=True), "src_port True is not a whole number"),
        (eve(tc=-1), "flow.pkts_toclient -1 is out of range (0-9223372036854775807)"),
        (eve(flow={"bytes_toclient": 1 << 63}),
         "flow.bytes_toclient 9223372036854775808 is out of range (0-9223372036854775807)"),
        (eve(tcp={"tcp_flags_ts": "1g"}), "tcp.tcp_flags_ts '1g' is not hex TCP flags"),
        (eve(tcp={"tcp_flags_tc": 27}), "tcp.tcp_flags_tc 27 is not hex TCP flags"),
        (eve(proto="Tcpx"), "proto 'Tcpx' is not a protocol name or number (0-255)"),
        (eve(flow_id=[1]), "flow_id [1] is not a flow id"),
        (eve("netflow", flow_id={"id": 1}), "flow_id {'id': 1} is not a flow id"),
        ("[" * 100000, "JSON nested too deep"),
    ],
)  # fmt: skip
def test_suricata_damage_is_counted_and_located(tmp_path: Path, line: str, why: str) -> None:
    path = write(tmp_path, "eve.json", [eve(), line, eve(flow_id=9, sport=50009)])
    result = read_capture(path)
    assert (result.info.packets_read, result.info.packets_skipped) == (3, 1)
    assert result.info.first_skipped == (2, why)
    assert [f.first_frame for f in result.flows] == [1, 3]


def test_suricata_values_beside_the_common_spelling(tmp_path: Path) -> None:
    """What the inline checks pass on to the general ones is read as before."""
    path = write(
        tmp_path,
        "eve.json",
        [
            eve(flow_id=1, proto="tcp", tcp={"tcp_flags_ts": "1B", "tcp_flags_tc": "0x12"}),
            eve(flow_id=2, sport=50001, proto=6, tc=0, tcp={"tcp_flags_ts": "2"}),
            eve(flow_id=3, sport=50002, proto="Udp", dport=65535, ts=(1 << 63) - 1, tc=0),
            "  " + eve(flow_id=4, sport=50003, tcp="none") + " \t",
        ],
    )
    assert flows_of(path) == [
        ("10.2.10.12", 50000, "10.3.20.25", 445, "tcp", "established", 1, "1", None, None),
        ("10.2.10.12", 50001, "10.3.20.25", 445, "tcp", "attempted", 2, "2", None, None),
        ("10.2.10.12", 50002, "10.3.20.25", 65535, "udp", "unknown", 3, "3", None, None),
        ("10.2.10.12", 50003, "10.3.20.25", 445, "tcp", "established", 4, "4", None, None),
    ]
    assert read_capture(path).flows[2].packets == (1 << 63) - 1


def test_eve_with_alerts_only_is_an_evidence_gap(tmp_path: Path) -> None:
    path = write(tmp_path, "eve.json", (TENZIR_EVE.read_text().splitlines()[0],))
    result = read_capture(path)
    assert (result.info.packets_read, result.info.packets_skipped, result.flows) == (1, 0, ())
    done = run("scan", str(ALPHA), str(path))
    assert done.returncode == 2 and "no readable connection record" in done.stderr


# -- nfdump ---------------------------------------------------------------------------------

PCAP = ROOT / "captures" / "alpha" / "alpha.pcap"


def _key(f: object) -> tuple[object, ...]:
    return tuple(
        getattr(f, k) for k in ("src_ip", "src_port", "dst_ip", "dst_port", "proto", "state")
    )


def _packet_flows() -> list[tuple[object, ...]]:
    return sorted(_key(f) for f in read_capture(PCAP).flows)


@pytest.mark.parametrize("name", ["alpha.nfdump-1.7.1.csv", "alpha.nfdump-1.7.1.json"])
def test_nfdump_output_gives_the_captures_flows(name: str) -> None:
    # softflowd exported captures/alpha/alpha.pcap as NetFlow v5 (28 one-way records); joined,
    # they are the capture's 15 flows, with the same initiators and states.
    result = read_capture(LOGS / "nfdump" / name)
    assert (result.info.kind, result.info.packets_read, result.info.packets_skipped) == (
        "nfdump",
        28,
        0,
    )
    assert sorted(_key(f) for f in result.flows) == _packet_flows()
    refused = [f for f in result.flows if f.dst_ip == "203.0.113.81"]
    assert [(f.state, f.packets) for f in refused] == [("attempted", 2)]  # SYN, then RST


def test_nfdump_175_csv_dialect_and_one_way_records(tmp_path: Path) -> None:
    # nfdump 1.7.5+ names its CSV columns after the -o csv format's fields.
    path = write(
        tmp_path,
        "flows.csv",
        [
            "firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,flags,packets,bytes",
            "2026-04-01 00:00:01.250,2026-04-01 00:00:01.250,6,10.1.10.12,51010,203.0.113.81,443,......S.,1,60",
            "2026-04-01 00:00:02.000,2026-04-01 00:00:03.000,6,10.2.10.12,50000,10.3.20.25,445,...AP.S.,4,500",
            "2026-04-01 00:00:02.001,2026-04-01 00:00:03.000,6,10.3.20.25,445,10.2.10.12,50000,...AP.S.,3,700",
            "2026-04-01 00:00:04.000,2026-04-01 00:00:04.000,17,10.1.10.11,51009,192.0.2.53,53,........,1,70",
            "2026-04-01 00:00:05.000,2026-04-01 00:00:05.000,6,10.3.30.12,443,10.2.10.12,50100,...A....,2,104",
        ],
    )  # fmt: skip
    assert flows_of(path) == [
        ("10.1.10.12", 51010, "203.0.113.81", 443, "tcp", "attempted", 2, None, None, None),
        ("10.2.10.12", 50000, "10.3.20.25", 445, "tcp", "established", 3, None, None, None),
        ("10.1.10.11", 51009, "192.0.2.53", 53, "udp", "unknown", 5, None, None, None),
        # only the server's half, no SYN: 443 is the service, so its side is the responder,
        # and it sent something other than a reset: established, as a capture judges it
        ("10.2.10.12", 50100, "10.3.30.12", 443, "tcp", "established", 6, None, None, None),
    ]
    first = read_capture(path).flows[0]
    assert first.first_seen == datetime(2026, 4, 1, 0, 0, 1, 250000, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("2026-04-01 00:00:02,2026-04-01 00:00:02,0.000,10.2.10,10.3.20.25", "5 columns where the header names more"),
        ("2026-04-01 00:00:02,2026-04-01 00:00:02,0.000,10.2.10.12,10.3.20.25,1,2,TCPX,......S.,0,0,1,60,0,0", "proto 'TCPX' is not a protocol name or number (0-255)"),
        ("2026-13-01 00:00:02,2026-04-01 00:00:02,0.000,10.2.10.12,10.3.20.25,1,2,TCP,......S.,0,0,1,60,0,0", "first seen 2026-13-01 00:00:02: month must be in 1..12"),
        ("2026-04-01 00:00:02,2026-04-01 00:00:02,0.000,10.2.10.12,10.3.20.25,1,2,TCP,..ZZ..S.,0,0,1,60,0,0", "flags '..ZZ..S.' are not TCP flags"),
    ],
)  # fmt: skip
def test_nfdump_damage_is_counted_and_located(tmp_path: Path, line: str, why: str) -> None:
    good = (LOGS / "nfdump" / "alpha.nfdump-1.7.1.csv").read_text().splitlines()
    path = write(tmp_path, "flows.csv", [good[0], good[1], line, *good[2:]])
    result = read_capture(path)
    assert (result.info.packets_read, result.info.packets_skipped) == (29, 1)
    assert result.info.first_skipped == (3, why)
    assert len(result.flows) == 15


def test_nfdump_json_cut_off_is_located(tmp_path: Path) -> None:
    lines = (LOGS / "nfdump" / "alpha.nfdump-1.7.1.json").read_text().splitlines()
    path = write(tmp_path, "flows.json", lines[:60])  # cut inside the fourth record
    result = read_capture(path)
    assert result.info.first_skipped == (59, "the last JSON record is cut off")
    assert result.info.packets_skipped == 1 and len(result.flows) == 2  # records 1+2, 3


def test_nfdump_stdout_is_read_like_its_lines_and_damage_is_located_by_ordinal() -> None:
    """An nfcapd file's JSON (nfdump's stdout) is decoded record by record; from a record that
    does not decode on, the line reader takes over: the same flows, damage by ordinal."""
    from segcheck.capture.logflow import ReadOptions
    from segcheck.capture.nfdump import _Reader

    data = (LOGS / "nfdump" / "alpha.nfdump-1.7.1.json").read_bytes()

    def flows(stream: bool, body: bytes) -> tuple[list[tuple[object, ...]], int, int, object]:
        reader = _Reader("x", ReadOptions(UTC))
        if stream:
            reader.json_stream(body)
        else:
            reader.json_lines(enumerate(body.split(b"\n"), 1), ordinal=True)
        log = reader.result()
        return sorted(_key(f) for f in log.flows), log.read, log.skipped, log.first_skipped

    assert flows(True, data) == flows(False, data)
    assert flows(True, data)[1:] == (28, 0, None)
    third = data.replace(b'"proto" : 6', b'"proto" : 6x', 3).replace(
        b'"proto" : 6x', b'"proto" : 6', 2
    )
    damaged = flows(True, third)
    assert damaged == flows(False, third)
    assert damaged[1:3] == (28, 1) and damaged[3][0] == 3  # the third record, by ordinal
    assert flows(True, b"") == ([], 0, 0, None)


@pytest.mark.skipif(shutil.which("nfdump") is None, reason="nfdump is not installed")
def test_an_nfcapd_file_is_read_through_nfdump() -> None:
    result = read_capture(LOGS / "nfdump" / "alpha.nfcapd")
    assert (result.info.kind, result.info.packets_read, result.info.packets_skipped) == (
        "nfcapd",
        28,
        0,
    )
    assert sorted(_key(f) for f in result.flows) == _packet_flows()


# Real output of nfdump 1.7.1 (Debian 12) and of nfdump 1.7.8 built from its source (1.7.6
# printed the same bytes), all from one nfcapd file that Debian's nfpcapd made of zeek's
# wikipedia.pcap (tests/data/logs/LICENSES.md): 57 one-way records of its 34 flows.
WIKI_PCAP = LOGS / "nfdump" / "zeek__wikipedia.pcap"
WIKI_OUTPUTS = [
    "wikipedia.nfdump-1.7.1.csv",  # ts,te,td,sa,da,…,flg,…  (the fixed header, a Summary block)
    "wikipedia.nfdump-1.7.8.csv",  # firstSeen,duration,proto,…  (no lastSeen, no TCP flags)
    "wikipedia.nfdump-1.7.8-flags.csv",  # -o "csv:%ts,%te,%pr,%sa,%sp,%da,%dp,%flg,%pkt,%byt"
]


def _wiki(path: Path) -> dict[tuple[object, ...], tuple[object, ...]]:
    """5-tuple -> (state, packets, bytes, whole seconds of first and last seen) per flow."""
    return {
        (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.proto): (
            f.state,
            f.packets,
            f.bytes,
            int(f.first_seen),
            int(f.last_seen),
        )
        for f in read_capture(path).flows
    }


@pytest.mark.parametrize("name", WIKI_OUTPUTS)
def test_real_nfdump_csv_of_old_and_new_versions_gives_the_captures_flows(name: str) -> None:
    result = read_capture(LOGS / "nfdump" / name)
    assert (result.info.kind, result.info.packets_read, result.info.packets_skipped) == (
        "nfdump",
        57,
        0,
    )
    flows = _wiki(LOGS / "nfdump" / name)
    # The capture's own flows: the same initiators, states, packets and times (to the second:
    # 1.7.1 prints whole seconds); NetFlow counts IP bytes, a capture whole Ethernet frames.
    expected = {
        key: (state, packets, nbytes - 14 * packets, first, last)
        for key, (state, packets, nbytes, first, last) in _wiki(WIKI_PCAP).items()
    }
    assert len(flows) == 34 and flows == expected
    # A lone SYN+ACK (frame 113; its SYN is not in the capture) answers 141.142.220.235:6705:
    # that side initiated, and the server answered (spec §7), whatever the dialect says of flags.
    assert flows[("141.142.220.235", 6705, "173.192.163.128", 80, "tcp")][:2] == (
        "established",
        1,
    )


def test_nfdump_175_default_csv_ends_a_flow_at_first_seen_plus_duration() -> None:
    # 1.7.5+'s default CSV has no lastSeen: NetBIOS 141.142.220.226 -> .255 lasted 2.613 s
    # (19:06:10.862 to 19:06:13.475, as the capture and 1.7.8's lastSeen column say)
    key = ("141.142.220.226", 137, "141.142.220.255", 137, "udp")
    times = []
    for name in WIKI_OUTPUTS[1:]:
        (flow,) = [
            f
            for f in read_capture(LOGS / "nfdump" / name).flows
            if (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.proto) == key
        ]
        times.append((flow.first_seen, flow.last_seen))
    start = datetime(2011, 3, 18, 19, 6, 10, 862000, tzinfo=UTC).timestamp()
    assert times == [(start, start + 2.613)] * 2


def test_nfdump_bad_duration_is_damage(tmp_path: Path) -> None:
    lines = (LOGS / "nfdump" / "wikipedia.nfdump-1.7.8.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",0.000,", ",soon,", 1)
    result = read_capture(write(tmp_path, "flows.csv", lines))
    assert (result.info.packets_read, result.info.packets_skipped) == (57, 1)
    assert result.info.first_skipped == (4, "duration 'soon' is not seconds")


@pytest.mark.skipif(shutil.which("nfdump") is None, reason="nfdump is not installed")
def test_the_nfcapd_file_behind_the_csv_fixtures_gives_the_same_flows() -> None:
    assert _wiki(LOGS / "nfdump" / "wikipedia.nfcapd") == _wiki(LOGS / "nfdump" / WIKI_OUTPUTS[2])


def test_an_nfcapd_file_without_nfdump_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(CaptureError, match=r"alpha\.nfcapd: an nfcapd file: .*nfdump 1\.7"):
        read_capture(LOGS / "nfdump" / "alpha.nfcapd")
    assert NfcapdFile.sniff((LOGS / "nfdump" / "alpha.nfcapd").read_bytes()[:16])


# -- outputs --------------------------------------------------------------------------------


def test_log_findings_point_at_lines_and_keep_the_pivot(tmp_path: Path) -> None:
    # LGWAN terminal -> Internet mail server on smb: LG-INET-SPLIT, through FortiGate policy 12
    path = write(tmp_path, "fgt.log", [fgt(sid=777)])
    done = run("scan", str(ALPHA), str(path), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    (finding,) = report["findings"]
    assert finding["rule"] == "LG-INET-SPLIT"
    assert finding["location"] == {"path": str(path), "line": 1, "frame": None}
    flow = finding["flow"]
    assert (flow["line"], flow["pivot"], flow["device_action"], flow["device_rule"]) == (
        1,
        "777",
        "accept",
        "root/12",
    )
    assert report["inputs"][1]["kind"] == "fortigate-traffic"
    text = run("scan", str(ALPHA), str(path)).stdout
    assert "records read 1, skipped 0" in text
    assert f"{path}:1: [critical]" in text and "line 1, id 777, device accept root/12" in text
    assert "frame" not in text and "packets read" not in text
    csv_text = run("scan", str(ALPHA), str(path), "--format", "csv", "--no-bom").stdout
    header, row = csv_text.splitlines()[:2]
    assert header.endswith(",pivot,device_action,device_rule,message,note")
    assert ",777,accept,root/12," in row


def test_packet_findings_keep_their_shape() -> None:
    done = run("scan", str(ALPHA), str(PCAP), "--format", "json")
    flows = [f["flow"] for f in json.loads(done.stdout)["findings"]]
    assert flows and all(f["pivot"] is None and f["line"] is None for f in flows)
    assert all(f["location"]["frame"] for f in json.loads(done.stdout)["findings"])


def test_wall_clock_times_are_exactly_what_datetime_gives() -> None:
    """Fixed-offset zones are placed by integer arithmetic (a day number per date): the same
    float as ``datetime(...).timestamp()``, and the same damage for an impossible date."""
    import random
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from segcheck.capture.logflow import BadRecord, wall_epoch

    rng = random.Random(16)
    zones = [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-3, minutes=-30))]
    zones.append(ZoneInfo("America/New_York"))  # rules: through datetime
    for _ in range(3000):
        y, mo, d = rng.randrange(1971, 2100), rng.randrange(1, 13), rng.randrange(1, 29)
        h, mi, s, us = rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)
        zone = rng.choice(zones)
        expected = datetime(y, mo, d, h, mi, s, us, tzinfo=zone).timestamp()
        assert wall_epoch(y, mo, d, h, mi, s, us, zone, "t", "raw") == expected
    assert wall_epoch(2024, 2, 29, 0, 0, 0, 0, UTC, "t", "x") == 1709164800.0
    for bad in ((2026, 2, 29, 0, 0, 0), (2026, 13, 1, 0, 0, 0), (2026, 4, 1, 24, 0, 0)):
        with pytest.raises(BadRecord, match="t 2026-bad: "):
            wall_epoch(*bad, 0, UTC, "t", "2026-bad")
    with pytest.raises(BadRecord, match="out of range"):
        wall_epoch(1969, 12, 31, 23, 0, 0, 0, UTC, "t", "1969-12-31")
