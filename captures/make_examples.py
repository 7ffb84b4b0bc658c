"""Build the example captures for the example topologies, reproducibly.

For each of `topologies/{alpha,alpha-prime,beta,beta-prime,beta-prime-breakout,four-tier}.yaml`,
each planned flow below carries the verdict `segcheck scan` must give it, so the plan is the one
source of truth: this script writes the same packets as pcap, pcapng and gzip-compressed pcapng
(fixed timestamps, gzip mtime 0, so the bytes never change) and `expected.tsv` beside them.

    python captures/make_examples.py            # rewrites captures/<example>/
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

HERE = Path(__file__).resolve().parent
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
    answer: str  # "yes" (established), "none" (attempted; unknown for UDP), "rst" (refused)
    verdict: str  # permitted | sanitized | excepted | violation | suspect | unknown | local
    rule: str  # rule id or "-"
    why: str
    vlan: int | None = None


ALPHA: tuple[PlannedFlow, ...] = (
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


P = PlannedFlow

ALPHA_PRIME: tuple[PlannedFlow, ...] = (
    P(
        "10.2.10.11",
        "203.0.113.60",
        "tcp",
        52001,
        443,
        "yes",
        "permitted",
        "-",
        "LGWAN terminal to an allow-listed cloud service through lg-lbo (α′)",
    ),
    P(
        "10.2.10.12",
        "203.0.113.61",
        "tcp",
        52002,
        443,
        "yes",
        "violation",
        "LG-NO-INTERNET",
        "LGWAN terminal to a destination not on lg-lbo's allow list",
    ),
    P(
        "10.2.10.11",
        "10.3.10.11",
        "tcp",
        52003,
        3389,
        "yes",
        "sanitized",
        "-",
        "screen transfer to inet-sbc-01",
    ),
    P(
        "10.1.20.20",
        "198.18.200.10",
        "tcp",
        52004,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-MN-01: atena to 中間サーバー",
    ),
    P(
        "10.2.10.13",
        "10.3.30.11",
        "tcp",
        52005,
        3389,
        "yes",
        "suspect",
        "LG-INET-SPLIT",
        "an RDP port, but the responder is a plain terminal",
    ),
    P(
        "10.1.10.11",
        "192.0.2.53",
        "udp",
        52006,
        53,
        "none",
        "violation",
        "MN-NO-INTERNET",
        "My Number terminal asks the cloud DNS: no answer",
    ),
    P(
        "10.2.10.15",
        "172.16.5.5",
        "tcp",
        52007,
        443,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    P(
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
)

BETA: tuple[PlannedFlow, ...] = (
    P(
        "10.13.10.11",
        "10.12.70.11",
        "tcp",
        53001,
        8443,
        "yes",
        "sanitized",
        "-",
        "β: Internet-tier terminal into the LGWAN VDI (Blast)",
    ),
    P(
        "10.13.20.26",
        "10.12.20.25",
        "tcp",
        53002,
        25,
        "yes",
        "sanitized",
        "-",
        "mail sanitizer delivers into LGWAN mail",
    ),
    P(
        "10.13.10.11",
        "10.12.20.11",
        "tcp",
        53003,
        443,
        "yes",
        "violation",
        "LG-INET-SPLIT",
        "direct application access across tiers (domain.md B2)",
    ),
    P(
        "10.12.70.11",
        "10.13.10.11",
        "tcp",
        53004,
        445,
        "yes",
        "violation",
        "LG-INET-SPLIT",
        "reverse file path from the VDI (domain.md B3)",
    ),
    P(
        "10.13.10.11",
        "192.0.2.10",
        "tcp",
        53005,
        8080,
        "yes",
        "permitted",
        "-",
        "through the security cloud proxy (domain.md B4)",
    ),
    P(
        "10.13.10.12",
        "10.11.20.10",
        "tcp",
        53006,
        445,
        "none",
        "violation",
        "MN-NO-INTERNET",
        "Internet tier tries the My Number tier: blocked (domain.md B6)",
    ),
    P(
        "10.13.10.13",
        "203.0.113.99",
        "tcp",
        53007,
        443,
        "yes",
        "violation",
        "INET-EGRESS-VIA-CLOUD",
        "local breakout past the cloud (domain.md B7)",
    ),
    P(
        "10.11.20.20",
        "198.18.200.10",
        "tcp",
        53008,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-MN-01: atena to 中間サーバー",
    ),
    P(
        "10.13.10.14",
        "10.12.20.12",
        "tcp",
        53009,
        1494,
        "yes",
        "suspect",
        "LG-INET-SPLIT",
        "an ICA port, but the responder is the HR system",
    ),
    P(
        "10.13.10.15",
        "172.16.9.9",
        "udp",
        53010,
        53,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    P(
        "10.13.10.11",
        "224.0.0.251",
        "udp",
        5353,
        5353,
        "none",
        "local",
        "-",
        "mDNS: local-segment traffic, never judged",
    ),
)

BETA_PRIME: tuple[PlannedFlow, ...] = (
    P(
        "10.23.8.11",
        "10.22.70.11",
        "tcp",
        54001,
        1494,
        "yes",
        "sanitized",
        "-",
        "Internet-tier terminal into the LGWAN VDI (domain.md C1)",
    ),
    P(
        "10.23.8.11",
        "10.23.20.11",
        "tcp",
        54002,
        443,
        "yes",
        "permitted",
        "-",
        "finance system in the same tier (domain.md C2)",
    ),
    P(
        "10.22.70.11",
        "198.18.100.5",
        "tcp",
        54003,
        443,
        "yes",
        "permitted",
        "-",
        "LGWAN VDI to an LGWAN-ASP service (domain.md C3)",
    ),
    P(
        "10.23.8.12",
        "198.18.100.5",
        "tcp",
        54004,
        443,
        "yes",
        "violation",
        "LG-INET-SPLIT",
        "Internet tier straight into LGWAN (domain.md C4)",
    ),
    P(
        "10.21.20.11",
        "198.19.20.40",
        "tcp",
        54005,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-GC-01: tax system to the government cloud (domain.md C6)",
    ),
    P(
        "10.23.8.13",
        "10.22.20.25",
        "tcp",
        54006,
        3389,
        "yes",
        "suspect",
        "LG-INET-SPLIT",
        "an RDP port, but the responder is the LGWAN mail server",
    ),
    P(
        "10.21.10.11",
        "192.0.2.53",
        "udp",
        54007,
        53,
        "none",
        "violation",
        "MN-NO-INTERNET",
        "My Number terminal asks the cloud DNS: no answer",
    ),
    P(
        "10.23.8.14",
        "203.0.113.50",
        "tcp",
        54008,
        443,
        "yes",
        "violation",
        "INET-EGRESS-VIA-CLOUD",
        "SaaS breakout past the cloud (domain.md C5, undeclared)",
    ),
    P(
        "10.23.9.15",
        "172.16.5.5",
        "tcp",
        54009,
        443,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    P(
        "10.23.8.11",
        "224.0.0.251",
        "udp",
        5353,
        5353,
        "none",
        "local",
        "-",
        "mDNS: local-segment traffic, never judged",
    ),
)

# topologies/beta-prime-breakout.yaml (domain.md §9 Q3): beta-prime.yaml's town with an
# Internet-tier local breakout under the four declared compensating controls. The flow to the
# gateway's allow-listed SaaS is INET-LOCAL-BREAKOUT (a warning); the same flow in
# BETA_PRIME, whose plan has no breakout, is INET-EGRESS-VIA-CLOUD (critical), as it is here
# without the setting (tests/test_breakout_example.py scans this capture both ways).
BETA_PRIME_BREAKOUT: tuple[PlannedFlow, ...] = (
    P(
        "10.23.8.11",
        "10.22.70.11",
        "tcp",
        55001,
        1494,
        "yes",
        "sanitized",
        "-",
        "Internet-tier terminal into the LGWAN VDI (domain.md C1)",
    ),
    P(
        "10.23.8.11",
        "192.0.2.10",
        "tcp",
        55002,
        8080,
        "yes",
        "permitted",
        "-",
        "web through the security cloud's proxy, not the breakout",
    ),
    P(
        "10.23.8.14",
        "203.0.113.50",
        "tcp",
        55003,
        443,
        "yes",
        "violation",
        "INET-LOCAL-BREAKOUT",
        "SaaS breakout to inet-lbo's allow-listed destination, controls declared (C5): warning",
    ),
    P(
        "10.23.8.14",
        "203.0.113.50",
        "udp",
        55004,
        3478,
        "yes",
        "violation",
        "INET-LOCAL-BREAKOUT",
        "SaaS media over UDP past the proxy, to the allow-listed destination: warning",
    ),
    P(
        "10.23.8.12",
        "203.0.113.51",
        "tcp",
        55005,
        443,
        "yes",
        "violation",
        "INET-EGRESS-VIA-CLOUD",
        "past the cloud to a destination not on inet-lbo's allow list: critical",
    ),
    P(
        "10.22.70.11",
        "203.0.113.50",
        "tcp",
        55006,
        443,
        "none",
        "violation",
        "LG-NO-INTERNET",
        "the LGWAN VDI tries the allow-listed SaaS: the breakout is the Internet tier's only",
    ),
    P(
        "10.21.20.11",
        "198.19.20.40",
        "tcp",
        55007,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-GC-01: tax system to the government cloud (domain.md C6)",
    ),
    P(
        "10.23.8.13",
        "10.22.20.25",
        "tcp",
        55008,
        3389,
        "yes",
        "suspect",
        "LG-INET-SPLIT",
        "an RDP port, but the responder is the LGWAN mail server",
    ),
    P(
        "10.23.9.15",
        "172.16.5.5",
        "tcp",
        55009,
        443,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    P(
        "10.23.8.11",
        "224.0.0.251",
        "udp",
        5353,
        5353,
        "none",
        "local",
        "-",
        "mDNS: local-segment traffic, never judged",
    ),
)

# topologies/four-tier.yaml (rules version 2): a clean plan, and traffic that breaks the new
# rules one flow each. The frames carry CLIENT_MAC / SERVER_MAC, the MACs its channels pin.
FOUR_TIER: tuple[PlannedFlow, ...] = (
    P(
        "10.2.10.11",
        "10.2.20.10",
        "tcp",
        54001,
        443,
        "yes",
        "permitted",
        "-",
        "LGWAN terminal to groupware, same tier",
    ),
    P(
        "10.2.10.11",
        "10.4.10.11",
        "tcp",
        54002,
        3389,
        "yes",
        "sanitized",
        "-",
        "LGWAN terminal to the 内部情報系 VDI (the extra tier's column: sanitized)",
    ),
    P(
        "10.1.20.20",
        "198.18.200.10",
        "tcp",
        54003,
        443,
        "yes",
        "excepted",
        "MN-ISOLATION",
        "CH-MN-01: atena to 中間サーバー, from the pinned MACs",
    ),
    P(
        "10.2.10.12",
        "8.8.8.8",
        "udp",
        54004,
        53,
        "yes",
        "violation",
        "LG-DNS",
        "LGWAN terminal resolving names on a public resolver",
    ),
    P(
        "10.2.10.13",
        "1.1.1.1",
        "tcp",
        54005,
        443,
        "yes",
        "violation",
        "LG-DNS",
        "DNS over HTTPS from the LGWAN tier to a public resolver",
    ),
    P(
        "10.1.20.11",
        "198.19.10.130",
        "tcp",
        54006,
        50443,
        "none",
        "violation",
        "MN-JUKI-CS",
        "the tax server tries 住基ネット beside the 住基CS: refused",
    ),
    P(
        "10.2.10.14",
        "198.18.200.10",
        "tcp",
        54007,
        443,
        "yes",
        "violation",
        "MN-CHUKAN-VIA-LGWAN",
        "LGWAN terminal reaches the 中間サーバー",
    ),
    P(
        "10.1.10.11",
        "10.1.20.11",
        "tcp",
        54008,
        8530,
        "yes",
        "violation",
        "MN-UPDATE-DIST",
        "My Number terminal takes updates from a server that is no update server",
    ),
    P(
        "10.2.20.40",
        "198.18.100.77",
        "tcp",
        54009,
        8531,
        "yes",
        "violation",
        "LG-UPDATE-DIST",
        "LGWAN WSUS takes updates from LGWAN beside its declared upstream",
    ),
    P(
        "10.3.20.25",
        "192.0.2.99",
        "tcp",
        54010,
        25,
        "yes",
        "suspect",
        "INET-MAIL-VIA-CLOUD",
        "Internet mail handed to a cloud address that is not the relay",
    ),
    P(
        "198.18.100.77",
        "10.2.10.15",
        "tcp",
        54011,
        3389,
        "yes",
        "violation",
        "LG-TELEWORK",
        "RDP into the LGWAN tier from LGWAN, not from the telework gateway",
    ),
    P(
        "198.18.100.50",
        "10.2.10.15",
        "tcp",
        54012,
        3389,
        "yes",
        "permitted",
        "-",
        "the telework gateway's screen transfer",
    ),
    P(
        "10.4.20.11",
        "198.18.0.80",
        "tcp",
        54013,
        443,
        "none",
        "violation",
        "LG-NO-INTERNET",
        "内部情報系 tries LGWAN: its row says LG-NO-INTERNET",
    ),
    P(
        "10.2.11.16",
        "10.4.20.11",
        "tcp",
        54014,
        445,
        "yes",
        "violation",
        "GEN-DEFAULT-DENY",
        "file share from the LGWAN tier into 内部情報系, not screen transfer",
    ),
    P(
        "10.2.10.15",
        "172.16.5.5",
        "tcp",
        54015,
        443,
        "yes",
        "unknown",
        "GEN-ZONE-ASSIGNED",
        "an address in no zone",
    ),
    P(
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
)

PLANS: dict[str, tuple[PlannedFlow, ...]] = {
    "alpha": ALPHA,
    "alpha-prime": ALPHA_PRIME,
    "beta": BETA,
    "beta-prime": BETA_PRIME,
    "beta-prime-breakout": BETA_PRIME_BREAKOUT,
    "four-tier": FOUR_TIER,
}


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


def build(plan: tuple[PlannedFlow, ...]) -> list[Packet]:
    """Every planned flow's packets, in time order (one flow after another)."""
    packets: list[Packet] = []
    for n, flow in enumerate(plan):
        packets += packets_for(flow, T0 + n)
    return packets


def write(name: str, plan: tuple[PlannedFlow, ...], out: Path) -> None:
    """Write NAME.pcap, NAME.pcapng, NAME.pcapng.gz and expected.tsv into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    packets = build(plan)
    wrpcap(str(out / f"{name}.pcap"), packets)
    wrpcapng(str(out / f"{name}.pcapng"), packets)
    raw = (out / f"{name}.pcapng").read_bytes()
    with open(out / f"{name}.pcapng.gz", "wb") as handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
            gz.write(raw)
    rows = ["src\tdst\tproto\tdst_port\tstate\tverdict\trule\twhy"]
    for flow in plan:
        state = "established" if flow.answer == "yes" else "attempted"
        if flow.proto == "udp" and flow.answer == "none":
            state = "unknown"  # a datagram needs no answer: the capture cannot tell
        port = flow.dport if flow.proto != "icmp" else 0
        rows.append(
            f"{flow.src}\t{flow.dst}\t{flow.proto}\t{port}\t{state}\t{flow.verdict}\t"
            f"{flow.rule}\t{flow.why}"
        )
    (out / "expected.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for example, example_plan in PLANS.items():
        write(example, example_plan, root / example)
