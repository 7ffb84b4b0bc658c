"""Capture reading speed: segcheck's reader against tshark, whole processes.

Generates (deterministically, with numpy) a 1M-packet, 50k-flow Ethernet/IPv4 TCP+UDP pcap and
its .gz, then times ``tshark -r F -q -z conv,tcp -z conv,udp`` and
``python -m segcheck.capture F [--jobs N]`` (median of N runs, wall time and peak RSS of the
child process) and appends a "Capture" section to benchmarks/RESULTS.md.

    python benchmarks/capture_speed.py [--packets 1000000] [--flows 50000] [--runs 3]
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


def make_pcap(path: Path, packets: int, flows: int, seed: int = 4) -> None:
    """Ethernet/IPv4 capture: 70 % TCP (SYN, SYN-ACK, data both ways), 30 % UDP request/reply."""
    rng = np.random.default_rng(seed)
    flow = rng.integers(0, flows, packets)
    # Every flow opens with a packet from its client, then directions alternate randomly.
    first = np.zeros(packets, dtype=bool)
    _, first_idx = np.unique(flow, return_index=True)
    first[first_idx] = True
    is_tcp = (np.arange(flows) % 10) < 7
    cli = (0x0A000000 + rng.integers(1, 1 << 16, flows)).astype(np.uint32)
    srv = (0xC0A80000 + rng.integers(1, 1 << 12, flows)).astype(np.uint32)
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
    buf[l4[t] + 12] = 0x50
    buf[l4[t] + 13] = flags[t].astype(np.uint8)
    u = np.flatnonzero(~tcp)
    put(l4[u] + 4, (8 + payload[u]), 2, True)
    path.write_bytes(buf.tobytes())


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
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed with {proc.returncode}: {proc.stderr[-500:]!r}")
    return Run(elapsed, int(proc.stderr.split()[-1]) / 1024)


def median_run(cmd: list[str], runs: int) -> Run:
    rs = [measure(cmd) for _ in range(runs)]
    return Run(statistics.median(r.seconds for r in rs), max(r.rss_mb for r in rs))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
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
    py = [sys.executable, "-m", "segcheck.capture"]
    cases = [
        ("pcap, 1 process", [str(pcap)], [str(pcap)]),
        ("pcap, --jobs 2", [str(pcap)], [str(pcap), "--jobs", "2"]),
        ("pcap.gz, 1 process", [str(gz)], [str(gz)]),
    ]
    tshark = shutil.which("tshark")
    lines = []
    for name, tfile, sargs in cases:
        seg = median_run(py + sargs, args.runs)
        row = f"| {name} | {seg.seconds:.2f} | {args.packets / seg.seconds / 1e3:.0f}k | "
        row += f"{seg.rss_mb:.0f} |"
        if tshark:
            ts = median_run([tshark, "-r", tfile[0], "-q", "-z", "conv,tcp", "-z", "conv,udp"], 1)
            row += f" {ts.seconds:.2f} | {args.packets / ts.seconds / 1e3:.0f}k | {ts.rss_mb:.0f} |"
            row += f" {ts.seconds / seg.seconds:.1f}x |"
        else:
            row += " - | - | - | - |"
        print(row, flush=True)
        lines.append(row)
    if not args.no_record:
        cpu = os.cpu_count()
        head = [
            "",
            "## Capture",
            "",
            f"`python benchmarks/capture_speed.py` on {time.strftime('%Y-%m-%d')}, {cpu} cores, "
            f"{args.packets:,} packets / {args.flows:,} flows Ethernet/IPv4 TCP+UDP "
            f"({pcap.stat().st_size >> 20} MB pcap). Whole-process wall time, median of "
            f"{args.runs} (tshark: 1 run); peak RSS of the largest process.",
            "",
            "| case | segcheck s | segcheck pkt/s | segcheck RSS MB | tshark s | tshark pkt/s "
            "| tshark RSS MB | speed-up |",
            "|---|---|---|---|---|---|---|---|",
        ]
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as f:
            f.write("\n".join(head + lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
