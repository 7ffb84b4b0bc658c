"""A spoofed-source SYN flood: N packets, N distinct flows (issue 14's memory case).

Writes (deterministically, with numpy) a pcap of N Ethernet/IPv4 TCP SYNs, each from a random
source address and port to one web server, and a topology whose zones cover every address
(sources in the Internet tier, the server in the LGWAN tier: every flow is a forbidden attempt
and is judged), then runs ``segcheck scan TOPO F --format json -o /dev/null`` under GNU time
and prints wall time, peak RSS and bytes per flow.

    python benchmarks/syn_flood.py [--packets 5000000] [--max-flows N] [--jobs N] [--root DIR]
    python benchmarks/syn_flood.py --packets N --read-only [--root DIR]

``--read-only`` reads the capture into the merged flow table only (no judging, no report) in
a fresh process and prints its peak RSS and the table's bytes per flow; ``--root`` runs the
segcheck found in DIR (another checkout, for a before/after comparison).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "segcheck-bench"

TOPOLOGY = """segcheck: 1
name: syn flood benchmark
profile: alpha
zones:
  lg:   {tier: lgwan, subnets: [192.168.0.0/24]}
  inet: {tier: internet, subnets: [0.0.0.0/1, 128.0.0.0/2, 193.0.0.0/8]}
nodes:
  lg-web: {role: server, ip: 192.168.0.10}
"""


def make_flood(path: Path, packets: int, seed: int = 14) -> None:
    """SYNs from random sources in 0.0.0.0/1 (unique per packet) to 192.168.0.10:80."""
    rng = np.random.default_rng(seed)
    src = rng.choice(1 << 31, size=packets, replace=False).astype(np.uint32)
    sport = rng.integers(1024, 65536, packets).astype(np.uint16)
    frame = 14 + 20 + 20
    rec = 16 + frame
    buf = np.zeros((packets, rec), dtype=np.uint8)
    ts = 1_700_000_000 * 1_000_000 + np.arange(packets, dtype=np.int64)

    def put(col: int, values: np.ndarray, width: int, big: bool) -> None:
        v = values.astype(np.uint64)
        for i in range(width):
            shift = 8 * (width - 1 - i) if big else 8 * i
            buf[:, col + i] = ((v >> np.uint64(shift)) & np.uint64(0xFF)).astype(np.uint8)

    put(0, ts // 1_000_000, 4, False)
    put(4, ts % 1_000_000, 4, False)
    put(8, np.full(packets, frame), 4, False)
    put(12, np.full(packets, frame), 4, False)
    e = 16
    put(e + 12, np.full(packets, 0x0800), 2, True)
    ip = e + 14
    buf[:, ip] = 0x45
    put(ip + 2, np.full(packets, 40), 2, True)
    put(ip + 4, np.arange(packets) & 0xFFFF, 2, True)
    buf[:, ip + 8] = 64
    buf[:, ip + 9] = 6
    put(ip + 12, src, 4, True)
    put(ip + 16, np.full(packets, 0xC0A8000A), 4, True)
    tcp = ip + 20
    put(tcp, sport, 2, True)
    put(tcp + 2, np.full(packets, 80), 2, True)
    put(tcp + 4, rng.integers(0, 1 << 32, packets), 4, True)
    buf[:, tcp + 12] = 0x50
    buf[:, tcp + 13] = 0x02
    head = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
    with open(path, "wb") as f:
        f.write(head)
        f.write(buf.tobytes())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=5_000_000)
    ap.add_argument("--max-flows", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--read-only", action="store_true")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args()
    CACHE.mkdir(exist_ok=True)
    pcap = CACHE / f"synflood-{args.packets}.pcap"
    if not pcap.exists():
        t = time.perf_counter()
        make_flood(pcap, args.packets)
        print(
            f"generated {pcap} ({pcap.stat().st_size >> 20} MB) in {time.perf_counter() - t:.1f} s"
        )
    if args.read_only:
        return read_only(args.root, pcap, args.packets)
    topo = CACHE / "synflood.yaml"
    topo.write_text(TOPOLOGY)
    cmd = [sys.executable, "-m", "segcheck", "scan", str(topo), str(pcap), "--format", "json"]
    cmd += ["-o", "/dev/null"]
    if args.max_flows is not None:
        cmd += ["--max-flows", str(args.max_flows)]
    if args.jobs > 1:
        cmd += ["--jobs", str(args.jobs)]
    timer = shutil.which("time") or "/usr/bin/time"
    t0 = time.perf_counter()
    proc = subprocess.run([timer, "-f", "%M", *cmd], capture_output=True, text=True, cwd=args.root)
    wall = time.perf_counter() - t0
    # Exit 2 with a report written: an evidence gap (flows joined past --max-flows), not a
    # failure; GNU time's last line is the peak RSS either way.
    if proc.returncode not in (0, 1, 2) or "wrote " not in proc.stderr:
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    rss = int(proc.stderr.split()[-1]) * 1024
    print(
        f"| {args.packets:,} flows | {wall:.1f} s | peak RSS {rss / 2**20:.0f} MB | "
        f"{rss / args.packets:.0f} B/flow (whole process) | exit {proc.returncode} |"
    )
    return 0


READ_ONLY = """
import resource, sys, time
from segcheck.capture.api import read_scan
t = time.perf_counter()
scanned = read_scan([sys.argv[1]])
cols = scanned.table.columns()
wall = time.perf_counter() - t
flows = scanned.table.flow_count()
table = sum(v.nbytes for v in cols.values())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(flows, table, rss, wall)
"""


def read_only(root: Path, pcap: Path, packets: int) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", READ_ONLY, str(pcap)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    if proc.returncode:
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    flows, table, rss, wall = proc.stdout.split()
    print(
        f"| {packets:,} | read into the table only ({root.name}) | {float(wall):.1f} s | "
        f"peak RSS {int(rss) / 2**20:.0f} MB | table {int(table) / int(flows):.0f} B/flow | "
        f"{int(rss) / int(flows):.0f} B/flow whole process |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
