"""Scan speed by output format, before and after a change, on capture_speed.py's 1M-packet file.

Times the whole ``segcheck scan TOPO F --format FMT [EXTRA] -o /dev/null`` process of one or
more segcheck trees (``--tree NAME=PATH``, default: this checkout) on the same capture,
interleaving the trees run by run so that a change in the machine's load hits them alike, and
prints the median wall time per tree and case, with the line count of the text output (how
many lines a reader gets: one per flow finding, or one per conversation). Made for issue 12
(conversations: text, SARIF and HTML group flow findings; every flow gets a `last_seen`).
tshark's conversation tables (``tshark -r F -q -z conv,tcp -z conv,udp``) run in the same
rounds as the reference: a tree's speed is quoted as tshark's median wall time over its own,
so that trees measured on different days compare (unless ``--no-tshark``).

    python benchmarks/scan_grouping.py [--runs 5] [--cases csv,text,text-flow,sarif]
        [--tree before=/tmp/segcheck-before] [--tree after=.] [--hosts 20,4] [--no-tshark]

A tree without `--group-by` (before issue 12) runs the `text-flow` case as plain `text`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from capture_speed import CACHE, TOPOLOGY, make_pcap

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "csv": ["--format", "csv"],
    "json": ["--format", "json"],
    "text": ["--format", "text"],
    "text-flow": ["--format", "text", "--group-by", "flow"],
    "sarif": ["--format", "sarif"],
}


def _has_group_by(tree: Path) -> bool:
    return "--group-by" in (tree / "segcheck" / "cli.py").read_text(encoding="utf-8")


def _cmd(tree: Path, topo: Path, pcap: Path, case: str, out: str) -> list[str]:
    extra = CASES[case]
    if not _has_group_by(tree):
        extra = [a for a in extra if a not in ("--group-by", "flow")]
    return [sys.executable, "-m", "segcheck", "scan", str(topo), str(pcap), *extra, "-o", out]


def _run(tree: Path | None, cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the child's own: less swayed by other load)."""
    env = dict(os.environ, PYTHONPATH=str(tree)) if tree is not None else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(
            f"{cmd} in {tree or '.'} failed ({proc.returncode}): {proc.stderr[-400:]!r}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="csv,text,text-flow,sarif")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument(
        "--hosts",
        metavar="CLIENTS,SERVERS",
        help="draw the flows' ends from this many hosts (default: 65k clients, 4k servers)",
    )
    ap.add_argument("--no-tshark", action="store_true", help="no tshark reference runs")
    args = ap.parse_args()
    trees = [(n, Path(p).resolve()) for n, p in (t.split("=", 1) for t in args.tree)]
    trees = trees or [("this", ROOT)]
    CACHE.mkdir(exist_ok=True)
    hosts = tuple(int(x) for x in args.hosts.split(",")) if args.hosts else None
    tag = f"-h{hosts[0]}x{hosts[1]}" if hosts else ""
    pcap = CACHE / f"bench-{args.packets}-{args.flows}{tag}.pcap"
    if not pcap.exists():
        make_pcap(pcap, args.packets, args.flows, hosts=hosts)  # type: ignore[arg-type]
    topo = CACHE / "topology.yaml"
    topo.write_text(TOPOLOGY)
    cases = args.cases.split(",")
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    tshark = None if args.no_tshark else shutil.which("tshark")
    tshark_times: list[tuple[float, float]] = []
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for _ in range(args.runs):
        if tshark:
            tcmd = [tshark, "-r", str(pcap), "-q", "-z", "conv,tcp", "-z", "conv,udp"]
            tshark_times.append(_run(None, tcmd))
        for case in cases:
            for name, tree in trees:
                cmd = _cmd(tree, topo, pcap, case, "/dev/null")
                times.setdefault((name, case), []).append(_run(tree, cmd))
    lines: dict[tuple[str, str], int] = {}
    for case in cases:
        if not case.startswith("text"):
            continue
        for name, tree in trees:
            out = CACHE / f"grouping-{name}-{case}.txt"
            _run(tree, _cmd(tree, topo, pcap, case, str(out)))
            lines[(name, case)] = len(out.read_text(encoding="utf-8").splitlines())
            out.unlink()
    print(f"\n{pcap.name}: {args.packets:,} packets, {args.flows:,} flows; median of {args.runs}\n")
    ts_wall = statistics.median(w for w, _ in tshark_times) if tshark_times else None
    if ts_wall is not None:
        ts_cpu = statistics.median(c for _, c in tshark_times)
        print(f"tshark -z conv,tcp -z conv,udp: {ts_wall:.2f} s wall, {ts_cpu:.2f} s CPU\n")
    per_tree = " | ".join(
        f"{n} wall s | {n} CPU s" + (f" | {n} vs tshark" if ts_wall is not None else "")
        for n, _ in trees
    )
    width = 3 if ts_wall is not None else 2
    print(f"| case | {per_tree} | text lines |")
    print("|---|" + "---|" * (width * len(trees)) + "---|")
    for case in cases:
        cells = []
        for n, _ in trees:
            wall = statistics.median(w for w, _ in times[(n, case)])
            cell = f"{wall:.2f} | {statistics.median(c for _, c in times[(n, case)]):.2f}"
            if ts_wall is not None:
                cell += f" | {ts_wall / wall:.2f}x"  # > 1: faster than tshark
            cells.append(cell)
        counts = " / ".join(str(lines[(n, case)]) for n, _ in trees if (n, case) in lines)
        print(f"| {case} | " + " | ".join(cells) + f" | {counts or '-'} |")
    print(
        f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
