"""Build the example captures for `topologies/alpha.yaml`, reproducibly.

Each planned flow below carries the verdict `segcheck scan` must give it, so the plan is the one
source of truth: this script writes the same packets as pcap, pcapng and gzip-compressed pcapng
(fixed timestamps, gzip mtime 0, so the bytes never change) and `expected.tsv` beside them.

    python captures/make_examples.py            # rewrites captures/alpha/
"""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap, wrpcapng

OUT = Path(__file__).resolve().parent / "alpha"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"


@dataclass(frozen=True)
class PlannedFlow:
    """One flow of the example and the verdict it must get."""

    src: str
    dst: str
    proto: str  # tcp | udp | icmp
    sport: int
    dport: int
    answer: str  # "yes" (established), "none" (attempted), "rst" (refused)
    verdict: str  # permitted | sanitized | excepted | violation | suspect | unknown | local
    rule: str  # rule id or "-"
    why: str
    vlan: int | None = None


PLAN: tuple[PlannedFlow, ...] = (
    PlannedFlow(
        "10.2.10.11",
        "10.2.20.11",
        "tcp",
        51001,
        443,
        "yes",
        "permitted",
        "-",
        "LGWAN terminal to the finance system, same tier",
    ),
    PlannedFlow(
        "10.2.10.11",
        "10.3.10.11",
        "tcp",
        51002,
        3389,
        "yes",
        "sanitized",
        "-",
        "screen transfer to inet-sbc-01",
    ),
    PlannedFlow(
        "10.3.20.26",
        "10.2.20.25",
        "tcp",
        51003,
        25,
        "yes",
        "sanitized",
        "-",
        "mail sanitizer delivers into LGWAN mail",
    ),
    PlannedFlow(
        "10.1.20.20",
        "198.18.200.10",
        "tcp",
        51004,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-MN-01: atena to 中間サーバー",
    ),
    PlannedFlow(
        "10.3.30.11",
        "192.0.2.10",
        "tcp",
        51005,
        8080,
        "yes",
        "permitted",
        "-",
        "Internet terminal through the security cloud proxy",
    ),
    PlannedFlow(
        "10.2.10.12",
        "10.3.20.25",
        "tcp",
        51006,
        445,
        "yes",
        "violation",
        "LG-INET-SPLIT",
        "SMB from LGWAN straight to the Internet mail server",
    ),
    PlannedFlow(
        "10.2.10.13",
        "10.3.30.11",
        "tcp",
        51007,
        3389,
        "yes",
        "suspect",
        "LG-INET-SPLIT",
        "an RDP port, but the responder is a plain terminal",
    ),
    PlannedFlow(
        "10.3.30.12",
        "203.0.113.80",
        "tcp",
        51008,
        443,
        "yes",
        "violation",
        "INET-EGRESS-VIA-CLOUD",
        "direct HTTPS to the Internet, bypassing the cloud",
    ),
    PlannedFlow(
        "10.1.10.11",
        "192.0.2.53",
        "udp",
        51009,
        53,
        "none",
        "violation",
        "MN-NO-INTERNET",
        "My Number terminal asks the cloud DNS: no answer",
    ),
    PlannedFlow(
        "10.1.10.12",
        "203.0.113.81",
        "tcp",
        51010,
        443,
        "rst",
        "violation",
        "MN-NO-INTERNET",
        "My Number terminal tries the Internet: refused",
    ),
    PlannedFlow(
        "10.1.20.20",
        "198.18.200.10",
        "tcp",
        51011,
        22,
        "yes",
        "violation",
        "MN-SPECIFIED-COMM",
        "between CH-MN-01's ends, but on ssh",
    ),
    PlannedFlow(
        "10.2.10.14",
        "203.0.113.9",
        "icmp",
        0,
        0,
        "yes",
        "violation",
        "LG-NO-INTERNET",
        "ping from LGWAN to the Internet, answered",
    ),
    PlannedFlow(
        "10.2.10.15",
        "172.16.5.5",
        "tcp",
        51013,
        443,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    PlannedFlow(
        "10.2.10.11",
        "224.0.0.251",
        "udp",
        5353,
        5353,
        "none",
        "local",
        "-",
        "mDNS: local-segment traffic, never judged",
    ),
    PlannedFlow(
        "10.2.11.16",
        "10.2.20.13",
        "tcp",
        51015,
        445,
        "yes",
        "permitted",
        "-",
        "file share inside the LGWAN tier, on VLAN 20",
        vlan=20,
    ),
)


def _frame(payload: Packet, vlan: int | None, forward: bool) -> Packet:
    src, dst = (CLIENT_MAC, SERVER_MAC) if forward else (SERVER_MAC, CLIENT_MAC)
    ether = Ether(src=src, dst=dst)
    return ether / Dot1Q(vlan=vlan) / payload if vlan is not None else ether / payload


def packets_for(flow: PlannedFlow, start: float) -> list[Packet]:
    """The packets of one flow: handshake, a request and an answer, as the plan says."""
    fwd = IP(src=flow.src, dst=flow.dst, ttl=64)
    rev = IP(src=flow.dst, dst=flow.src, ttl=64)
    out: list[Packet] = []
    if flow.proto == "tcp":
        c, s = flow.sport, flow.dport
        out.append(_frame(fwd / TCP(sport=c, dport=s, flags="S", seq=1000), flow.vlan, True))
        if flow.answer == "rst":
            out.append(
                _frame(rev / TCP(sport=s, dport=c, flags="RA", seq=0, ack=1001), flow.vlan, False)
            )
        elif flow.answer == "yes":
            out += [
                _frame(
                    rev / TCP(sport=s, dport=c, flags="SA", seq=5000, ack=1001), flow.vlan, False
                ),
                _frame(fwd / TCP(sport=c, dport=s, flags="A", seq=1001, ack=5001), flow.vlan, True),
                _frame(
                    fwd / TCP(sport=c, dport=s, flags="PA", seq=1001, ack=5001) / Raw(b"request"),
                    flow.vlan,
                    True,
                ),
                _frame(
                    rev / TCP(sport=s, dport=c, flags="PA", seq=5001, ack=1008) / Raw(b"response"),
                    flow.vlan,
                    False,
                ),
                _frame(
                    fwd / TCP(sport=c, dport=s, flags="FA", seq=1008, ack=5009), flow.vlan, True
                ),
                _frame(
                    rev / TCP(sport=s, dport=c, flags="FA", seq=5009, ack=1009), flow.vlan, False
                ),
            ]
    elif flow.proto == "udp":
        out.append(
            _frame(fwd / UDP(sport=flow.sport, dport=flow.dport) / Raw(b"query"), flow.vlan, True)
        )
        if flow.answer == "yes":
            out.append(
                _frame(
                    rev / UDP(sport=flow.dport, dport=flow.sport) / Raw(b"answer"), flow.vlan, False
                )
            )
    else:
        out.append(_frame(fwd / ICMP(type=8, id=7, seq=1) / Raw(b"ping"), flow.vlan, True))
        if flow.answer == "yes":
            out.append(_frame(rev / ICMP(type=0, id=7, seq=1) / Raw(b"ping"), flow.vlan, False))
    for i, pkt in enumerate(out):
        pkt.time = start + i * 0.001
    return out


def build() -> list[Packet]:
    """Every planned flow's packets, in time order (one flow after another)."""
    packets: list[Packet] = []
    for n, flow in enumerate(PLAN):
        packets += packets_for(flow, T0 + n)
    return packets


def write(out: Path = OUT) -> None:
    """Write alpha.pcap, alpha.pcapng, alpha.pcapng.gz and expected.tsv into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    packets = build()
    wrpcap(str(out / "alpha.pcap"), packets)
    wrpcapng(str(out / "alpha.pcapng"), packets)
    raw = (out / "alpha.pcapng").read_bytes()
    with open(out / "alpha.pcapng.gz", "wb") as handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
            gz.write(raw)
    rows = ["src\tdst\tproto\tdst_port\tstate\tverdict\trule\twhy"]
    for flow in PLAN:
        state = "established" if flow.answer == "yes" else "attempted"
        port = flow.dport if flow.proto != "icmp" else 0
        rows.append(
            f"{flow.src}\t{flow.dst}\t{flow.proto}\t{port}\t{state}\t{flow.verdict}\t"
            f"{flow.rule}\t{flow.why}"
        )
    (out / "expected.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
