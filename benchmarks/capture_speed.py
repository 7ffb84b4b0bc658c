"""Capture scanning speed: the whole `segcheck scan` process against tshark on the same file.

Generates (deterministically, with numpy) a 1M-packet, 50k-flow Ethernet/IPv4 TCP+UDP pcap, its
.gz and a pcapng copy, writes a small topology whose zones cover every generated address (so
every flow is judged: lgwan clients, lgwan-network and internet servers), then times
``segcheck scan TOPO F --format csv -o /dev/null [--jobs 2]`` and, right after each case,
``tshark -r F -q -z conv,tcp -z conv,udp`` and nfdump's ``nfpcapd -r F -w DIR`` (a C NetFlow
builder) on the same file, when installed: wall time (median of --runs) and peak RSS of the
largest process, with the load average before each case, and the ratios tool/segcheck. ``--reader`` times the
in-process reader only (``python -m segcheck.capture``), the old dev entry point.

    python benchmarks/capture_speed.py [--packets 1000000] [--flows 50000] [--runs 3]
        [--format csv|json] [--cases pcap,jobs2,gz,pcapng] [--reader] [--no-record]

Prints a markdown table; the "Capture" section of RESULTS.md is written by hand from it (the
section also carries before/after figures and notes that a script should not overwrite).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "segcheck-bench"


def make_pcap(
    path: Path,
    packets: int,
    flows: int,
    seed: int = 4,
    hosts: tuple[int, int] | None = None,
) -> None:
    """Ethernet/IPv4 capture: 70 % TCP (SYN, SYN-ACK, data both ways), 30 % UDP request/reply.

    Clients and servers are drawn from 65k and 4k addresses; `hosts` (clients, servers) draws
    them from that many instead, servers spread over both server subnets (a few busy hosts, as
    in an office: many flows, few conversations)."""
    rng = np.random.default_rng(seed)
    flow = rng.integers(0, flows, packets)
    # Every flow opens with a packet from its client, then directions alternate randomly.
    first = np.zeros(packets, dtype=bool)
    _, first_idx = np.unique(flow, return_index=True)
    first[first_idx] = True
    is_tcp = (np.arange(flows) % 10) < 7
    cli = (0x0A000000 + rng.integers(1, 1 << 16, flows)).astype(np.uint32)
    srv = (0xC0A80000 + rng.integers(1, 1 << 12, flows)).astype(np.uint32)
    if hosts is not None:
        cli = (0x0A000001 + rng.integers(0, hosts[0], flows)).astype(np.uint32)
        spread = np.linspace(1, (1 << 12) - 2, hosts[1]).astype(np.uint32)
        srv = (0xC0A80000 + rng.choice(spread, flows)).astype(np.uint32)
    cport = (1024 + np.arange(flows) % 60000).astype(np.uint16)
    sport = rng.choice(np.array([80, 443, 53, 8080, 3389, 25, 22, 9000], dtype=np.uint16), flows)
    back = ~first & (rng.random(packets) < 0.5)
    tcp = is_tcp[flow]
    # Half the packets bare (ACK-like), the rest 0-1000 bytes: about 330 bytes a packet,
    # close to the usual Internet mix average.
    payload = np.where(rng.random(packets) < 0.5, 0, rng.integers(0, 1000, packets))
    payload[first] = 0
    l4len = np.where(tcp, 20, 8)
    iplen = 20 + l4len + payload
    caplen = 14 + iplen
    rec = 16 + caplen
    offs = np.concatenate(([0], np.cumsum(rec)[:-1])) + 24
    total = int(offs[-1] + rec[-1])
    buf = np.zeros(total, dtype=np.uint8)
    buf[:24] = np.frombuffer(
        bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"), dtype=np.uint8
    )

    def put(at: np.ndarray, values: np.ndarray, width: int, big: bool) -> None:
        v = values.astype(np.uint64)
        for i in range(width):
            shift = 8 * (width - 1 - i) if big else 8 * i
            buf[at + i] = ((v >> np.uint64(shift)) & np.uint64(0xFF)).astype(np.uint8)

    ts = 1_700_000_000 * 1_000_000 + np.arange(packets, dtype=np.int64) * 7
    put(offs, ts // 1_000_000, 4, False)
    put(offs + 4, ts % 1_000_000, 4, False)
    put(offs + 8, caplen, 4, False)
    put(offs + 12, caplen, 4, False)
    e = offs + 16
    put(e + 12, np.full(packets, 0x0800), 2, True)
    ip = e + 14
    buf[ip] = 0x45
    put(ip + 2, iplen, 2, True)
    # Distinct IP ids and TCP sequence numbers, as real senders write: packets alike in every
    # byte would be taken for one packet seen on two taps (segcheck.capture.dedup).
    put(ip + 4, np.arange(packets) & 0xFFFF, 2, True)
    buf[ip + 8] = 64
    buf[ip + 9] = np.where(tcp, 6, 17).astype(np.uint8)
    src = np.where(back, srv[flow], cli[flow])
    dst = np.where(back, cli[flow], srv[flow])
    put(ip + 12, src, 4, True)
    put(ip + 16, dst, 4, True)
    l4 = ip + 20
    put(l4, np.where(back, sport[flow], cport[flow]), 2, True)
    put(l4 + 2, np.where(back, cport[flow], sport[flow]), 2, True)
    flags = np.where(first, 0x02, 0x18)
    flags = np.where(back & ~first & (rng.random(packets) < 0.05), 0x12, flags)
    t = np.flatnonzero(tcp)
    put(l4[t] + 4, rng.integers(0, 1 << 32, len(t)), 4, True)
    buf[l4[t] + 12] = 0x50
    buf[l4[t] + 13] = flags[t].astype(np.uint8)
    u = np.flatnonzero(~tcp)
    put(l4[u] + 4, (8 + payload[u]), 2, True)
    path.write_bytes(buf.tobytes())


TOPOLOGY = """segcheck: 1
name: capture benchmark
profile: alpha
zones:
  lg:   {tier: lgwan, subnets: [10.0.0.0/16]}
  lgn:  {tier: lgwan-network, subnets: [192.168.0.0/21]}
  inet: {tier: internet, subnets: [192.168.8.0/21]}
nodes:
  lg-term: {role: terminal, ip: 10.0.0.1}
"""


def make_pcapng(pcap: Path, out: Path) -> None:
    """The same packets as a pcapng (one section, one Ethernet interface, EPBs)."""
    data = np.frombuffer(pcap.read_bytes(), dtype=np.uint8)
    shb = bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000")
    idb = bytes.fromhex("01000000140000000100000000000400" + "14000000")
    parts = [shb, idb]
    o = 24
    n = len(data)
    raw = data.tobytes()
    while o + 16 <= n:
        sec, usec, cap, orig = np.frombuffer(raw, dtype="<u4", count=4, offset=o).tolist()
        body = raw[o + 16 : o + 16 + cap]
        pad = b"\0" * ((-cap) % 4)
        blen = 32 + cap + len(pad)
        ticks = sec * 1_000_000 + usec
        head = np.array([6, blen, 0, ticks >> 32, ticks & 0xFFFFFFFF, cap, orig], dtype="<u4")
        parts.append(head.tobytes() + body + pad + np.array([blen], dtype="<u4").tobytes())
        o += 16 + cap
    out.write_bytes(b"".join(parts))


@dataclass
class Run:
    seconds: float
    rss_mb: float


def measure(cmd: list[str]) -> Run:
    """Wall time and peak RSS of one child process.

    RSS comes from GNU time's %M (the child's own high-water mark): rusage from wait4 would
    start from this script's RSS, which Linux copies into a forked child's ru_maxrss. Worker
    processes of --jobs are smaller than their parent, so the figure is the largest process.
    """
    timer = shutil.which("time") or "/usr/bin/time"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [timer, "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # 1: scan found violations (expected here)
        raise RuntimeError(f"{cmd} failed with {proc.returncode}: {proc.stderr[-500:]!r}")
    return Run(elapsed, int(proc.stderr.split()[-1]) / 1024)


def median_run(cmd: list[str], runs: int) -> Run:
    rs = [measure(cmd) for _ in range(runs)]
    return Run(statistics.median(r.seconds for r in rs), max(r.rss_mb for r in rs))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--format", default="csv", choices=("csv", "json"))
    ap.add_argument("--cases", default="pcap,jobs2,gz,pcapng")
    ap.add_argument("--reader", action="store_true", help="time python -m segcheck.capture")
    ap.add_argument("--tshark-runs", type=int, default=1)
    args = ap.parse_args()
    CACHE.mkdir(exist_ok=True)
    pcap = CACHE / f"bench-{args.packets}-{args.flows}.pcap"
    gz = pcap.with_suffix(".pcap.gz")
    if not pcap.exists():
        t = time.perf_counter()
        make_pcap(pcap, args.packets, args.flows)
        print(
            f"generated {pcap} ({pcap.stat().st_size >> 20} MB) in {time.perf_counter() - t:.1f} s"
        )
    if not gz.exists():
        with open(pcap, "rb") as f, gzip.open(gz, "wb", compresslevel=6) as g:
            shutil.copyfileobj(f, g, 16 << 20)
    ng = pcap.with_suffix(".pcapng")
    if not ng.exists():
        make_pcapng(pcap, ng)
    topo = CACHE / "topology.yaml"
    topo.write_text(TOPOLOGY)
    if args.reader:
        seg = [sys.executable, "-m", "segcheck.capture"]
    else:
        seg = [sys.executable, "-m", "segcheck", "scan", str(topo)]
        seg_tail = ["--format", args.format, "-o", "/dev/null"]
    all_cases = {
        "pcap": ("pcap, 1 process", pcap, []),
        "jobs2": ("pcap, --jobs 2", pcap, ["--jobs", "2"]),
        "gz": ("pcap.gz, 1 process", gz, []),
        "pcapng": ("pcapng, 1 process", ng, []),
    }
    tshark = shutil.which("tshark")
    nfpcapd = shutil.which("nfpcapd")
    print(
        "| case | load avg | segcheck s | segcheck pkt/s | segcheck RSS MB | tshark s "
        "| tshark pkt/s | tshark RSS MB | speed-up | nfpcapd s | segcheck/nfpcapd |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in args.cases.split(","):
        name, path, extra = all_cases[key]
        before = load()
        cmd = [*seg, str(path), *extra] + ([] if args.reader else seg_tail)
        r = median_run(cmd, args.runs)
        row = f"| {name} | {before} | {r.seconds:.2f} | {args.packets / r.seconds / 1e3:.0f}k | "
        row += f"{r.rss_mb:.0f} |"
        if tshark:
            tcmd = [tshark, "-r", str(path), "-q", "-z", "conv,tcp", "-z", "conv,udp"]
            ts = median_run(tcmd, args.tshark_runs)
            row += f" {ts.seconds:.2f} | {args.packets / ts.seconds / 1e3:.0f}k | {ts.rss_mb:.0f} |"
            row += f" {ts.seconds / r.seconds:.1f}x |"
        else:
            row += " - | - | - | - |"
        if nfpcapd and key != "gz":  # nfpcapd reads no gzip
            with tempfile.TemporaryDirectory() as out:
                nf = median_run([nfpcapd, "-r", str(path), "-w", out], args.tshark_runs)
            row += f" {nf.seconds:.2f} | {r.seconds / nf.seconds:.1f}x slower |"
        else:
            row += " - | - |"
        print(row, flush=True)
    print(
        f"\nload average after: {load()}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
