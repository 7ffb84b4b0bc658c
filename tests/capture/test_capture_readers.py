"""Readers, decoders and flow rules of segcheck.capture, on tiny captures built here."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest
from cap_builders import epb, idb, other_block, pb, pcap, pcapng_section, shb, spb
from scapy.contrib.mpls import MPLS  # type: ignore[import-untyped]
from scapy.layers.inet import ICMP, IP, TCP, UDP  # type: ignore[import-untyped]
from scapy.layers.inet6 import (  # type: ignore[import-untyped]
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import GRE, Dot1AD, Dot1Q, Ether  # type: ignore[import-untyped]
from scapy.layers.ppp import PPP, PPPoE  # type: ignore[import-untyped]
from scapy.layers.vxlan import VXLAN  # type: ignore[import-untyped]
from scapy.packet import Raw, raw  # type: ignore[import-untyped]

from segcheck.capture import CaptureResult, Flow, read_capture
from segcheck.errors import CaptureError

A, B, C = "192.0.2.10", "198.51.100.20", "203.0.113.30"
T0 = 1_700_000_000.0


def eth(payload: object) -> bytes:
    return raw(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / payload)


def handshake(src: str = A, dst: str = B, sport: int = 40000, dport: int = 443) -> list[bytes]:
    return [
        eth(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S")),
        eth(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="SA")),
        eth(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A") / Raw(b"x" * 10)),
    ]


def write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def frames(pkts: list[bytes]) -> list[tuple[float, bytes]]:
    return [(T0 + i * 0.25, d) for i, d in enumerate(pkts)]


def read(tmp: Path, pkts: list[bytes], linktype: int = 1, **kw: object) -> CaptureResult:
    return read_capture(write(tmp, "t.pcap", pcap(frames(pkts), linktype, **kw)))  # type: ignore[arg-type]


def only(r: CaptureResult, proto: str | None = None, tunnel: bool | None = None) -> Flow:
    fl = [f for f in r.flows if (proto is None or f.proto == proto)]
    fl = [f for f in fl if tunnel is None or f.tunnel == tunnel]
    assert len(fl) == 1, fl
    return fl[0]


# --- containers -----------------------------------------------------------------------------


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, endian: str, nanos: bool) -> None:
    r = read(tmp_path, handshake(), endian=endian, nanos=nanos)
    f = only(r)
    assert (f.src_ip, f.dst_ip, f.proto, f.src_port, f.dst_port) == (A, B, "tcp", 40000, 443)
    assert (f.packets, f.first_frame, f.state, f.vlan) == (3, 1, "established", None)
    assert f.first_seen == pytest.approx(T0, abs=1e-6)
    assert f.last_seen == pytest.approx(T0 + 0.5, abs=1e-6)
    assert f.bytes == sum(len(p) for p in handshake())
    assert r.info.kind == "pcap" and r.info.packets_read == 3 and r.info.link_types == (1,)
    assert r.info.stopped_at is None and not r.info.compressed


def test_pcap_fcs_bits_in_linktype_are_masked(tmp_path: Path) -> None:
    r = read(tmp_path, handshake(), linktype=0x30000001)
    assert r.info.link_types == (1,) and only(r).packets == 3


def test_pcapng_sections_mixed_byte_order_interfaces_and_blocks(tmp_path: Path) -> None:
    hs = handshake()
    ip_only = raw(IP(src=C, dst=A) / UDP(sport=5000, dport=53))
    data = b"".join(
        [
            pcapng_section([1], [(0, (T0, hs[0]))], "<"),
            other_block(4, b"\0\0\0\0", "<"),  # name resolution
            other_block(0x40000BAD, b"\x00\x00\x7e\x53custom", "<"),
            other_block(0x12345678, b"unknown", "<"),
            shb(">"),
            idb(101, ">"),
            idb(1, ">", tsresol=9),
            epb(1, round(T0 * 1e9) + 250_000_000, hs[1], ">"),
            epb(0, round(T0 * 1e6) + 300_000, ip_only, ">"),
            other_block(5, struct.pack(">IIIHH", 0, 0, 0, 0, 0), ">"),  # statistics
            pb(1, round(T0 * 1e9) + 500_000_000, hs[2], ">"),
            shb("<"),
            idb(1, "<"),
            spb(hs[2], "<"),
        ]
    )
    r = read_capture(write(tmp_path, "t.pcapng", data))
    assert r.info.kind == "pcapng" and r.info.packets_read == 5
    assert r.info.link_types == (1, 101) and r.info.stopped_at is None
    tcp = only(r, "tcp")
    assert (tcp.packets, tcp.first_frame, tcp.state) == (4, 1, "established")
    assert tcp.last_seen == pytest.approx(T0 + 0.5, abs=1e-6)  # SPB has no timestamp: 0
    udp = only(r, "udp")
    assert (udp.src_ip, udp.dst_port, udp.first_frame) == (C, 53, 3)
    assert udp.first_seen == pytest.approx(T0 + 0.3, abs=1e-6)


def test_gzip_is_transparent_and_sniffed_by_content(tmp_path: Path) -> None:
    plain = pcap(frames(handshake()))
    r1 = read_capture(write(tmp_path, "a.bin", gzip.compress(plain)))
    r2 = read_capture(write(tmp_path, "b.pcap", plain))
    assert r1.info.compressed and r1.info.kind == "pcap"
    assert [f.packets for f in r1.flows] == [f.packets for f in r2.flows] == [3]


def test_gzip_cut_short_keeps_decoded_packets(tmp_path: Path) -> None:
    pkts = [
        eth(IP(src=A, dst=B) / UDP(sport=1000 + i, dport=53) / Raw(bytes(range(256)) * 4))
        for i in range(200)
    ]
    z = gzip.compress(pcap(frames(pkts)), compresslevel=1)
    r = read_capture(write(tmp_path, "cut.pcap.gz", z[: len(z) // 2]))
    assert 0 < r.info.packets_read < 200
    assert r.info.stopped_at is not None and "compressed" in r.info.stopped_at.reason
    assert len(r.flows) == r.info.packets_read


ZEEK_TSV = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
1700000000.000000\tC1\t192.0.2.10\t40000\t198.51.100.20\t443\ttcp\tssl\t1.5\t100\t200\tSF\t-\t-\t0\tShADadFf\t5\t300\t4\t400\t-
1700000001.000000\tC2\t192.0.2.10\t40001\t198.51.100.20\t25\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t60\t0\t0\t-
1700000002.000000\tC3\t2001:db8:0:0::1\t128\t2001:db8::2\t0\ticmp\t-\t0.1\t8\t8\tOTH\t-\t-\t0\t-\t1\t48\t1\t48\t-
not a valid line
"""


def test_zeek_tsv(tmp_path: Path) -> None:
    r = read_capture(write(tmp_path, "conn.log", ZEEK_TSV.encode()))
    # The unreadable line counts as read and skipped, as a damaged packet does.
    assert r.info.kind == "zeek-conn" and r.info.packets_read == 4 and r.info.packets_skipped == 1
    assert r.info.first_skipped == (11, "1 field where #fields names 21")
    f1, f2, f3 = r.flows
    assert (f1.src_ip, f1.dst_port, f1.packets, f1.bytes, f1.state) == (
        A,
        443,
        9,
        700,
        "established",
    )
    assert f1.last_seen == pytest.approx(T0 + 1.5)
    assert (f2.dst_port, f2.state, f2.first_frame) == (25, "attempted", 9)  # its line
    assert (f3.proto, f3.src_ip, f3.dst_port, f3.state) == (
        "icmpv6",
        "2001:db8::1",
        128,
        "established",
    )


def test_zeek_json_gzipped(tmp_path: Path) -> None:
    recs = [
        {
            "ts": T0,
            "id.orig_h": A,
            "id.orig_p": 5353,
            "id.resp_h": B,
            "id.resp_p": 53,
            "proto": "udp",
            "conn_state": "S0",
            "orig_pkts": 2,
            "resp_pkts": 0,
            "orig_ip_bytes": 120,
            "resp_ip_bytes": 0,
            "vlan": 30,
        },
        {
            "ts": T0 + 1,
            "id.orig_h": A,
            "id.orig_p": 40000,
            "id.resp_h": B,
            "id.resp_p": 22,
            "proto": "tcp",
            "conn_state": "REJ",
            "orig_pkts": 1,
            "resp_pkts": 1,
        },
    ]
    text = "\n".join(json.dumps(x) for x in recs).encode()
    r = read_capture(write(tmp_path, "conn.json.gz", gzip.compress(text)))
    assert r.info.kind == "zeek-conn" and r.info.compressed
    u, t = r.flows
    # UDP S0 (no reply): the datagrams may have arrived, so the state is unknown, not attempted.
    assert (u.proto, u.vlan, u.state, u.bytes) == ("udp", 30, "unknown", 120)
    assert (t.dst_port, t.state) == (22, "attempted")


# --- link layers and encapsulations ---------------------------------------------------------


def test_vlan_qinq_and_8021ad(tmp_path: Path) -> None:
    base = IP(src=A, dst=B) / UDP(sport=1234, dport=53)
    pkts = [
        eth(Dot1Q(vlan=10) / base),
        eth(Dot1AD(vlan=100) / Dot1Q(vlan=10) / base),
        raw(Ether(type=0x9100) / Dot1Q(vlan=200) / base),
        eth(Dot1Q(vlan=0) / base),  # priority tag only
    ]
    r = read(tmp_path, pkts)
    got = sorted((f.vlan or 0, f.inner_vlan or 0) for f in r.flows)
    assert got == [(0, 0), (10, 0), (100, 10), (200, 0)]


def test_mpls_and_pppoe(tmp_path: Path) -> None:
    inner = IP(src=A, dst=B) / TCP(sport=40000, dport=80, flags="S")
    pkts = [
        eth(MPLS(label=16, s=0) / MPLS(label=17, s=1) / inner),
        raw(Ether(type=0x8864) / PPPoE(sessionid=1) / PPP(proto=0x21) / inner),
    ]
    r = read(tmp_path, pkts)
    f = only(r)
    assert (f.packets, f.dst_port, f.state) == (2, 80, "attempted")


@pytest.mark.parametrize(
    "outer,proto",
    [
        (lambda p: IP(src=C, dst=B) / GRE() / p, "gre"),
        (lambda p: IP(src=C, dst=B) / GRE(proto=0x6558) / Ether() / p, "gre"),
        (
            lambda p: IP(src=C, dst=B) / UDP(sport=50000, dport=4789) / VXLAN(vni=5) / Ether() / p,
            "udp",
        ),
        (lambda p: IP(src=C, dst=B) / p, "4"),
        (lambda p: IPv6(src="2001:db8::1", dst="2001:db8::2") / p, "4"),
    ],
    ids=["gre-ip", "gre-teb", "vxlan", "ipip", "4in6"],
)
def test_tunnels_give_inner_and_outer_flows(tmp_path: Path, outer: object, proto: str) -> None:
    inner = IP(src=A, dst="10.9.9.9") / TCP(sport=41000, dport=3389, flags="S")
    r = read(tmp_path, [eth(outer(inner))])  # type: ignore[operator]
    tun = only(r, tunnel=True)
    assert tun.proto == proto
    tcp = only(r, "tcp")
    assert (tcp.src_ip, tcp.dst_ip, tcp.dst_port, tcp.tunnel) == (A, "10.9.9.9", 3389, False)


def test_6in4(tmp_path: Path) -> None:
    inner = IPv6(src="2001:db8::a", dst="2001:db8::b") / UDP(sport=5000, dport=53)
    r = read(tmp_path, [eth(IP(src=C, dst=B) / inner)])
    assert only(r, tunnel=True).proto == "41" and only(r, "udp").src_ip == "2001:db8::a"


def test_geneve_inner(tmp_path: Path) -> None:
    inner = raw(Ether() / IP(src=A, dst=B) / TCP(sport=40000, dport=22, flags="S"))
    geneve = struct.pack("!BBHI", 0, 0, 0x6558, 7 << 8)
    r = read(tmp_path, [eth(IP(src=C, dst=B) / UDP(sport=1, dport=6081) / Raw(geneve + inner))])
    assert only(r, "tcp").dst_port == 22 and only(r, tunnel=True).dst_port == 6081


@pytest.mark.parametrize(
    "lt,prefix",
    [
        (113, b"\0\0\0\1\0\6" + b"\0" * 8 + b"\x08\x00"),
        (276, b"\x08\x00" + b"\0" * 18),
        (101, b""),
        (228, b""),
        (0, b"\2\0\0\0"),
        (108, b"\0\0\0\2"),
    ],
)
def test_link_types(tmp_path: Path, lt: int, prefix: bytes) -> None:
    r = read(tmp_path, [prefix + raw(IP(src=A, dst=B) / UDP(sport=999, dport=123))], linktype=lt)
    assert only(r).dst_port == 123 and r.info.packets_skipped == 0


def test_unknown_link_type_is_skipped(tmp_path: Path) -> None:
    r = read(tmp_path, [b"\x00" * 40, b"\x01" * 40], linktype=147)
    assert (r.info.packets_read, r.info.packets_skipped, r.flows) == (2, 2, ())


def test_ipv6_extension_headers_and_icmpv6(tmp_path: Path) -> None:
    v6 = IPv6(src="2001:db8::1", dst="2001:db8::2")
    pkts = [
        eth(
            v6
            / IPv6ExtHdrHopByHop()
            / IPv6ExtHdrRouting()
            / IPv6ExtHdrDestOpt()
            / UDP(sport=7, dport=53)
        ),
        eth(v6 / ICMPv6EchoRequest(id=1)),
        eth(IPv6(src="2001:db8::2", dst="2001:db8::1") / ICMPv6EchoReply(id=1)),
    ]
    r = read(tmp_path, pkts)
    assert only(r, "udp").dst_port == 53
    icmp = only(r, "icmpv6")
    assert (icmp.src_ip, icmp.dst_port, icmp.packets, icmp.state) == (
        "2001:db8::1",
        128,
        2,
        "established",
    )


def test_ipv4_fragments_join_by_ip_id(tmp_path: Path) -> None:
    big = IP(src=A, dst=B, id=777) / UDP(sport=5000, dport=53) / Raw(b"q" * 3000)
    from scapy.layers.inet import fragment  # type: ignore[import-untyped]

    parts = fragment(big, fragsize=1000)
    later = [eth(p) for p in parts[1:]]
    r = read(tmp_path, later + [eth(parts[0])])  # the first fragment arrives last
    f = only(r)
    assert (f.packets, f.dst_port, f.first_frame) == (len(parts), 53, 1)


def test_ipv6_fragments(tmp_path: Path) -> None:
    v6 = IPv6(src="2001:db8::1", dst="2001:db8::2")
    first = (
        v6
        / IPv6ExtHdrFragment(id=9, offset=0, m=1, nh=17)
        / raw(UDP(sport=6000, dport=53, len=2000) / Raw(b"a" * 100))
    )
    second = v6 / IPv6ExtHdrFragment(id=9, offset=14, m=0, nh=17) / Raw(b"b" * 100)
    atomic = v6 / IPv6ExtHdrFragment(id=10, offset=0, m=0) / UDP(sport=6001, dport=123)
    r = read(tmp_path, [eth(first), eth(second), eth(atomic)])
    ports = sorted((f.dst_port, f.packets) for f in r.flows)
    assert ports == [(53, 2), (123, 1)]


# --- initiator and state --------------------------------------------------------------------


def test_initiator_is_syn_sender_even_if_seen_second(tmp_path: Path) -> None:
    hs = handshake(sport=443, dport=50000)  # SYN from A's port 443 to B's 50000
    r = read(tmp_path, [hs[1], hs[0], hs[2]])
    f = only(r)
    assert (f.src_ip, f.src_port, f.dst_port, f.state) == (A, 443, 50000, "established")


def test_initiator_by_service_port_then_first_sender(tmp_path: Path) -> None:
    r = read(
        tmp_path,
        [
            eth(IP(src=B, dst=A) / UDP(sport=53, dport=33333)),  # reply seen first
            eth(IP(src=A, dst=B) / UDP(sport=33333, dport=53)),
            eth(IP(src=C, dst=A) / UDP(sport=7000, dport=7001)),
        ],
    )
    dns = [f for f in r.flows if f.dst_port == 53][0]
    assert (dns.src_ip, dns.state) == (A, "established")
    other = [f for f in r.flows if f.dst_port == 7001][0]
    assert (other.src_ip, other.state) == (C, "unknown")  # UDP without answer


def test_states(tmp_path: Path) -> None:
    syn = IP(src=A, dst=B) / TCP(sport=40000, dport=445, flags="S")
    rst = IP(src=B, dst=A) / TCP(sport=445, dport=40000, flags="RA")
    mid = IP(src=A, dst=C) / TCP(sport=40001, dport=8080, flags="PA")
    udp = IP(src=A, dst=C) / UDP(sport=40002, dport=123)
    unreach = IP(src=C, dst=A) / ICMP(type=3, code=3) / raw(udp)[:28]
    lone_syn = IP(src=A, dst=C) / TCP(sport=40003, dport=22, flags="S")
    ping = IP(src=A, dst=B) / ICMP(type=8, id=1)
    r = read(tmp_path, [eth(p) for p in (syn, rst, mid, udp, unreach, lone_syn, ping)])
    by_port = {(f.proto, f.dst_port): f.state for f in r.flows}
    assert by_port[("tcp", 445)] == "attempted"  # refused by RST
    assert by_port[("tcp", 8080)] == "unknown"  # mid-stream, one direction
    assert by_port[("udp", 123)] == "attempted"  # ICMP port unreachable
    assert by_port[("tcp", 22)] == "attempted"  # SYN without answer
    assert by_port[("icmp", 8)] == "attempted"  # echo request without reply
    assert by_port[("icmp", 3)] == "unknown"  # the unreachable message itself


# --- damaged input --------------------------------------------------------------------------


def test_truncated_last_record(tmp_path: Path) -> None:
    data = pcap(frames(handshake()))
    r = read_capture(write(tmp_path, "t.pcap", data[:-5]))
    assert r.info.packets_read == 2
    s = r.info.stopped_at
    assert s is not None and s.frame == 3 and s.byte_offset == len(data) - 16 - len(handshake()[2])


def test_caplen_beyond_snaplen_is_read(tmp_path: Path) -> None:
    r = read(tmp_path, handshake(), snaplen=20)
    assert r.info.packets_read == 3 and r.info.stopped_at is None


def test_huge_caplen_stops_keeping_earlier_packets(tmp_path: Path) -> None:
    data = bytearray(pcap(frames(handshake())))
    second = 24 + 16 + len(handshake()[0])
    struct.pack_into("<I", data, second + 8, 0x7FFFFFF0)
    r = read_capture(write(tmp_path, "t.pcap", bytes(data)))
    assert r.info.packets_read == 1
    assert r.info.stopped_at is not None and r.info.stopped_at.byte_offset == second


def test_corrupt_pcapng_block_stops_there(tmp_path: Path) -> None:
    hs = handshake()
    good = pcapng_section([1], [(0, (T0, hs[0])), (0, (T0, hs[1]))])
    bad = bytearray(epb(0, 0, hs[2]))
    bad[-4:] = b"\x99\x00\x00\x00"
    r = read_capture(write(tmp_path, "t.pcapng", good + bytes(bad)))
    assert r.info.packets_read == 2 and r.info.stopped_at is not None
    assert r.info.stopped_at.byte_offset == len(good) and r.info.stopped_at.frame == 3


@pytest.mark.parametrize("content", [b"hello, this is text\n", b"\xde\xad\xbe\xef" + b"\0" * 40])
def test_not_a_capture(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(CaptureError, match="not a pcap, pcapng, Zeek conn.log"):
        read_capture(write(tmp_path, "x.pcap", content))


def test_empty_file_is_an_empty_capture(tmp_path: Path) -> None:
    r = read_capture(write(tmp_path, "e.pcap", b""))
    assert (r.info.packets_read, r.flows, r.info.stopped_at) == (0, (), None)


def test_cut_global_header_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError):
        read_capture(write(tmp_path, "h.pcap", pcap([])[:12]))
