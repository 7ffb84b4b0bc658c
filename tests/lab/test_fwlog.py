"""lab/fwlog.py without root: `nft monitor trace` lines into sessions and FortiGate records.

The trace lines are nft 1.0.6's output format (as the lab run prints it): a `packet:` line,
then the rules that saw the packet, in the trace table and then in the generated ruleset.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import fwlog  # noqa: E402
from segcheck.capture import read_capture  # noqa: E402

T = "inet segcheck_lab forward"
TR = "inet segcheck_lab_trace forward"


def pkt(tid: str, src: str, dst: str, sport: int, dport: int, flags: str, length: int) -> str:
    return (
        f'trace id {tid} {TR} packet: iif "lg0" oif "inet1" ip saddr {src} ip daddr {dst} '
        f"ip dscp cs0 ip ecn not-ect ip ttl 63 ip id 1 ip protocol tcp ip length {length} "
        f"tcp sport {sport} tcp dport {dport} tcp flags == {flags} tcp window 64240"
    )


LINES = [
    # the leak: SYN accepted by FW-90's rule, then the answer by the stateful rule
    pkt("a1", "10.2.10.11", "10.3.20.25", 44322, 445, "syn", 60),
    f"trace id a1 {TR} rule meta nftrace set 1 (verdict continue)",
    f"trace id a1 {TR} verdict continue",
    f'trace id a1 {T} rule ip saddr {{ 10.2.0.0/16 }} ip daddr {{ 10.3.0.0/16 }} tcp dport {{ 445 }} ct state new counter packets 0 bytes 0 accept comment "FW-90-TEMP-SMB" (verdict accept)',
    pkt("a2", "10.3.20.25", "10.2.10.11", 445, 44322, "syn | ack", 60),
    f"trace id a2 {T} rule ct state established,related counter packets 0 bytes 0 accept (verdict accept)",
    # a blocked attempt: two SYNs dropped by the chain's policy
    pkt("b1", "10.1.10.11", "10.3.30.11", 33548, 443, "syn", 60),
    f'trace id b1 {T} rule counter packets 0 bytes 0 comment "default-drop" (verdict continue)',
    f"trace id b1 {T} policy drop",
    pkt("b2", "10.1.10.11", "10.3.30.11", 33548, 443, "syn", 60),
    f"trace id b2 {T} policy drop",
]


def test_trace_lines_become_sessions() -> None:
    found = fwlog.sessions([(1775001600.0 + i, line) for i, line in enumerate(LINES)])
    assert [(s.src, s.dport, s.permit, s.accepted, s.sent, s.rcvd) for s in found] == [
        ("10.2.10.11", 445, "FW-90-TEMP-SMB", True, [1, 60], [1, 60]),
        ("10.1.10.11", 443, None, False, [2, 120], [0, 0]),
    ]


def test_sessions_become_fortigate_records_segcheck_reads(tmp_path: Path) -> None:
    found = fwlog.sessions([(1775001600.0 + i, line) for i, line in enumerate(LINES)])
    lines = fwlog.fortigate_lines(found, ["FW-01", "FW-90-TEMP-SMB"])
    path = tmp_path / "fw.log"
    path.write_text("\n".join(lines) + "\n")
    flows = read_capture(path).flows
    assert [(f.src_ip, f.dst_port, f.state, f.action, f.rule_ref) for f in flows] == [  # type: ignore[attr-defined]
        ("10.2.10.11", 445, "established", "accept", "root/2"),
        ("10.1.10.11", 443, "attempted", "deny", None),
    ]
