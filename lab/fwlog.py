"""The lab firewall's own traffic log, in FortiGate's format, written from the kernel's verdicts.

A municipality's evidence is usually its firewall's traffic log, not a capture. So the lab's
firewall writes one too: while the plan runs, a second nftables table in the firewall namespace
(`segcheck_lab_trace`, hooked before the generated ruleset) marks every forwarded packet for
tracing, and `nft monitor trace` reports, packet by packet, which rule of the generated ruleset
decided it: a permit's accept rule (its comment is the permit id), the stateful
`established,related` rule, or the chain's drop policy. Those are the kernel's verdicts, not the
plan's. Each connection (by its 5-tuple, oriented by its first packet) becomes one FortiGate
traffic record, as FortiOS logs a session when it ends: `action="deny"` with `policyid=0` when
the first packet was dropped by the policy, else `action="close"` (TCP) or `"accept"`, the
permit's 1-based position in the firewall's permit list as `policyid` and its id as
`policyname`, packets and bytes each way (`sentpkt`, `rcvdpkt`, `sentbyte`, `rcvdbyte`, the IP
lengths), the session's end as `eventtime` (nanoseconds) and its `duration`.

`segcheck scan` must judge this log as it judges the capture of the same exchanges
(tests/lab/test_lab.py): the same violations, and the same attempts, where the log is the more
certain witness of a dropped UDP datagram (a capture cannot tell that it did not arrive; the
firewall says it dropped it).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lab import netlab

TRACE_TABLE = "segcheck_lab_trace"
LAB_TABLE = "segcheck_lab"  # nftgen.TABLE
LOG_NAME = "fw-fortigate.log"
DEVICE = "fw-core"
_TRACE_RULESET = f"""table inet {TRACE_TABLE} {{
  chain forward {{
    type filter hook forward priority filter - 10; policy accept;
    meta nftrace set 1
  }}
}}
"""
_ID = re.compile(r"^trace id (\w+) inet (\S+) (\S+) (.*)$")
_FIELD = re.compile(
    r"\b(iif|oif) \"([^\"]+)\"|\bip (saddr|daddr|length|protocol) (\S+)|"
    r"\b(tcp|udp) (sport|dport|flags) (\S+)|\bicmp (type|id) (\S+)"
)
_COMMENT = re.compile(r'comment "([^"]+)" \(verdict (\w+)\)')
_ICMP_TYPES = {"echo-reply": 0, "destination-unreachable": 3, "echo-request": 8}
_PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}


@dataclass
class _Packet:
    when: float
    fields: dict[str, str] = field(default_factory=dict)
    verdict: str | None = None  # accept | drop
    permit: str | None = None  # the permit whose rule accepted it (a new connection)


@dataclass
class Session:
    """One connection through the firewall, as the trace showed it."""

    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    iif: str
    oif: str
    start: float
    end: float
    permit: str | None  # None: dropped by the policy
    accepted: bool
    icmp_type: int | None = None
    sent: list[int] = field(default_factory=lambda: [0, 0])  # packets, bytes
    rcvd: list[int] = field(default_factory=lambda: [0, 0])


class TraceLog:
    """`nft monitor trace` in the firewall namespace, for the time of a traffic run."""

    def __init__(self, lab: netlab.Lab) -> None:
        self.lab = lab
        self.lines: list[tuple[float, str]] = []
        self.proc: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        fw = self.lab.layout.fw_ns
        netlab.run(["ip", "netns", "exec", fw, "nft", "-f", "-"], input_text=_TRACE_RULESET)
        cmd = ["ip", "netns", "exec", fw, "stdbuf", "-oL", "nft", "monitor", "trace"]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        time.sleep(0.3)  # nft monitor prints nothing when it starts listening

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.time(), line.rstrip("\n")))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)
        try:
            self.lab.ns_exec(self.lab.layout.fw_ns, ["nft", "delete", "table", "inet", TRACE_TABLE])
        except netlab.LabError:
            pass  # the namespace is gone already


def sessions(lines: list[tuple[float, str]]) -> list[Session]:
    """The connections the traced packets make, in the order they began."""
    packets: dict[str, _Packet] = {}
    order: list[str] = []
    for when, line in lines:
        m = _ID.match(line)
        if m is None:
            continue
        tid, table, _chain, rest = m.groups()
        pkt = packets.get(tid)
        if pkt is None:
            pkt = packets[tid] = _Packet(when)
            order.append(tid)
        if rest.startswith("packet: "):
            for f in _FIELD.finditer(rest):
                if f.group(1):
                    pkt.fields[f.group(1)] = f.group(2)
                elif f.group(3):
                    pkt.fields[f.group(3)] = f.group(4)
                elif f.group(5):
                    pkt.fields[f"{f.group(5)} {f.group(6)}"] = f.group(7)
                else:
                    pkt.fields[f"icmp {f.group(8)}"] = f.group(9)
            continue
        if table != LAB_TABLE or pkt.verdict is not None:
            continue
        c = _COMMENT.search(rest)
        if c is not None and c.group(2) in ("accept", "drop"):
            pkt.verdict = c.group(2)
            pkt.permit = c.group(1) if c.group(1) != "default-drop" else None
        elif rest.startswith("policy "):
            pkt.verdict = rest.split()[1]
        elif "(verdict accept)" in rest:
            pkt.verdict = "accept"  # ct state established,related: part of a connection
        elif "(verdict drop)" in rest:
            pkt.verdict = "drop"
    out: dict[tuple[object, ...], Session] = {}
    for tid in order:
        pkt = packets[tid]
        f = pkt.fields
        proto = _PROTOS.get(f.get("protocol", ""))
        if proto is None or "saddr" not in f or "daddr" not in f or pkt.verdict is None:
            continue
        name = f["protocol"]
        if proto == 1:
            sport = dport = int(f.get("icmp id", "0"))
        else:
            sport, dport = int(f.get(f"{name} sport", "0")), int(f.get(f"{name} dport", "0"))
        a, b = (f["saddr"], sport), (f["daddr"], dport)
        key = (proto, *sorted((a, b)))
        size = int(f.get("length", "0"))
        s = out.get(key)
        if s is None:
            s = out[key] = Session(
                f["saddr"], f["daddr"], proto, sport, dport, f.get("iif", ""),
                f.get("oif", ""), pkt.when, pkt.when, pkt.permit,
                pkt.verdict == "accept",
                _ICMP_TYPES.get(f.get("icmp type", ""), None) if proto == 1 else None,
            )  # fmt: skip
        side = s.sent if f["saddr"] == s.src else s.rcvd
        side[0] += 1
        side[1] += size
        s.end = max(s.end, pkt.when)
    return list(out.values())


def fortigate_lines(found: list[Session], permits: list[str]) -> list[str]:
    """FortiGate traffic records, one per session (FortiOS 7 key order)."""
    lines = []
    for n, s in enumerate(found, 1):
        when = datetime.fromtimestamp(s.end, UTC)  # FortiOS logs a session when it ends
        if s.accepted:
            action = "close" if s.proto == 6 else "accept"
            pid = permits.index(s.permit) + 1 if s.permit in permits else 0
        else:
            action, pid = "deny", 0
        ports = (
            f"icmptype=0x{s.icmp_type or 0:02x} icmpcode=0x00"
            if s.proto == 1
            else f"srcport={s.sport} dstport={s.dport}"
        )
        name = f' policyname="{s.permit}"' if s.accepted and s.permit else ""
        lines.append(
            f"date={when:%Y-%m-%d} time={when:%H:%M:%S} "
            f'devname="{DEVICE}" devid="FGVMLAB000000001" logid="0000000013" '
            f'type="traffic" subtype="forward" level="notice" vd="root" '
            f'eventtime={int(s.end * 1e9)} tz="+0000" srcip={s.src} '
            f'srcintf="{s.iif}" dstip={s.dst} dstintf="{s.oif}" {ports} '
            f'sessionid={n} proto={s.proto} action="{action}" policyid={pid} '
            f'policytype="policy"{name} duration={int(s.end - s.start)} '
            f"sentbyte={s.sent[1]} rcvdbyte={s.rcvd[1]} sentpkt={s.sent[0]} rcvdpkt={s.rcvd[0]}"
        )
    return lines


def write(trace: TraceLog, permits: list[str], dest: Path) -> Path:
    """The firewall's log of the traced run, as `dest/fw-fortigate.log`."""
    path = dest / LOG_NAME
    body = fortigate_lines(sessions(trace.lines), permits)
    path.write_text("".join(line + "\n" for line in body), encoding="utf-8")
    return path
