"""Scale-out on one machine: 16 files, one process vs `--jobs 2` vs `--cluster local:2`.

Cuts the 1M-packet benchmark capture of ``capture_speed.py`` into 16 pcaps (record
boundaries), then times the whole ``segcheck scan TOPO F1..F16 --format json -o OUT``
process for each engine (median of --runs), checks that every engine wrote the same bytes
(``--timestamp`` fixed), and measures Dask's start/stop and no-op per-task overhead. Prints
a markdown table and the parameters of the model in RESULTS.md.

    python benchmarks/scaleout.py [--runs 3] [--parts 16] [--phases] [--before TREE]
        [--cases "1 process,--jobs 2,--cluster local:2"]

``--before TREE`` runs another checkout's segcheck (built in place) alternately with this
one, run by run, for a before/after in one run.

``--phases`` also times, in this process on the same files, the read tasks' work and what
stays serial on the client: unpickling the parts the tasks return, merging their tables,
judging in columns, rendering JSON (the per-flow parameters of the model).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from capture_speed import CACHE, ROOT, TOPOLOGY, make_pcap


def split(pcap: Path, parts: int) -> list[Path]:
    data = pcap.read_bytes()
    head, o, starts = data[:24], 24, []
    while o + 16 <= len(data):
        starts.append(o)
        o += 16 + int.from_bytes(data[o + 8 : o + 12], "little")
    starts.append(o)
    out = []
    n = len(starts) - 1
    for i in range(parts):
        p = CACHE / f"split{parts}-{i:02d}.pcap"
        if not p.exists():
            a, b = starts[i * n // parts], starts[(i + 1) * n // parts]
            p.write_bytes(head + data[a:b])
        out.append(p)
    return out


def adopt_orphans() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), so that the CPU of
    processes that outlive the command (a forkserver and the workers it forked, which exit
    just after it) is counted in :func:`timed`."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap(deadline: float) -> None:
    """Wait for the command's orphaned descendants (see :func:`adopt_orphans`)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            if time.perf_counter() > deadline:
                return
            time.sleep(0.01)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], out: Path, root: Path = ROOT) -> tuple[float, str, int, float]:
    """Wall seconds of ``cmd`` run with the segcheck of ``root``, its output's digest, the
    lines on stderr besides segcheck's own one, and the CPU seconds of all its processes
    (workers and forkserver included when :func:`adopt_orphans` succeeded)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    cpu = _children_cpu()
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    _reap(time.perf_counter() + 5)
    cpu = _children_cpu() - cpu
    if r.returncode not in (0, 1):
        raise RuntimeError(r.stderr[-1000:])
    noise = len(r.stderr.splitlines()) - 1
    return wall, hashlib.sha256(out.read_bytes()).hexdigest()[:16], noise, cpu


def dask_overheads() -> tuple[float, float, float, float]:
    """Seconds to start and stop the cluster `--cluster local:2` starts (segcheck's own
    `connect`: the version check included, Dask's log lines kept quiet), cold and again
    with its forkserver up, and ms per no-op task (2000 tasks)."""
    from segcheck.cluster import ClusterSpec, connect

    t = time.perf_counter()
    session = connect(ClusterSpec("local:2"))
    client = session.__enter__()
    start = time.perf_counter() - t
    t = time.perf_counter()
    client.gather(client.map(abs, range(2000), pure=False))
    per_task = (time.perf_counter() - t) / 2000 * 1000
    t = time.perf_counter()
    session.__exit__(None, None, None)
    stop = time.perf_counter() - t
    t = time.perf_counter()
    with connect(ClusterSpec("local:2")):
        again = time.perf_counter() - t
    return start, again, stop, per_task


def phases(files: list[str], topo: Path) -> None:
    """Client-side serial parts of a cluster scan against judging here, per flow (the
    collector paused, as the command line runs them)."""
    from segcheck import allow_gc_pauses
    from segcheck.gcpause import paused

    with allow_gc_pauses(), paused():
        _phases(files, topo)


def _phases(files: list[str], topo: Path) -> None:
    import pickle

    from segcheck import engine
    from segcheck.capture.api import _scan_task, assemble
    from segcheck.flowjudge import FlowJudge
    from segcheck.report import render

    t = time.perf_counter()
    parts = [_scan_task(f, None, None, None, None, True) for f in files]
    read = time.perf_counter() - t
    t = time.perf_counter()
    wire = [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in parts]
    dump = time.perf_counter() - t
    t = time.perf_counter()
    parts = [pickle.loads(b) for b in wire]
    load = time.perf_counter() - t
    t = time.perf_counter()
    scanned = assemble(files, [p.sha256 for p in parts], parts)
    merge = time.perf_counter() - t
    topology = engine._topology(topo)
    policy, addresses = engine._prepare(topology, None)
    t = time.perf_counter()
    found: list[object] = []
    engine._judge_scanned(FlowJudge(policy, addresses), scanned, found, [])  # type: ignore[arg-type]
    judge = time.perf_counter() - t
    t = time.perf_counter()
    report = engine.scan(topo, files, generated_at="2026-01-01T00:00:00Z")
    whole = time.perf_counter() - t
    t = time.perf_counter()
    render(report, "json", "en")
    json_s = time.perf_counter() - t
    n = scanned.table.flow_count()
    print(
        f"\nin-process, {len(files)} files, {n} flows, {len(found)} findings "
        f"(load {os.getloadavg()[0]:.2f}):"
    )
    for what, secs in [
        ("read the 16 files (the tasks' work)", read),
        ("pickle the 16 parts (worker)", dump),
        ("unpickle the 16 parts (client)", load),
        ("merge the 16 tables (client)", merge),
        ("judge in columns (client)", judge),
        ("engine.scan, whole", whole),
        ("render JSON (client)", json_s),
    ]:
        print(f"| {what} | {secs:.2f} s | {secs / max(n, 1) * 1e6:.1f} µs a flow |")
    size = sum(map(len, wire))
    print(f"parts returned: {size / 1e6:.1f} MB, {size / max(n, 1):.0f} bytes a merged flow")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parts", type=int, default=16)
    ap.add_argument("--phases", action="store_true")
    ap.add_argument("--only-phases", action="store_true")
    ap.add_argument("--cases", type=lambda v: v.split(","), help="engines, comma-separated")
    ap.add_argument("--before", type=Path, help="another tree, run alternately with this one")
    args = ap.parse_args()
    CACHE.mkdir(exist_ok=True)
    pcap = CACHE / "bench-1000000-50000.pcap"
    if not pcap.exists():
        make_pcap(pcap, 1_000_000, 50_000)
    files = [str(p) for p in split(pcap, args.parts)]
    topo = CACHE / "topology.yaml"
    topo.write_text(TOPOLOGY)
    if args.phases or args.only_phases:
        phases(files, topo)
    if args.only_phases:
        return 0
    out = CACHE / f"scaleout-{os.getpid()}.json"
    base = [sys.executable, "-m", "segcheck", "scan", str(topo), *files, "--format", "json"]
    base += ["-o", str(out), "--timestamp", "2026-01-01T00:00:00Z"]
    every = {
        "1 process": [],
        "--jobs 2": ["--jobs", "2"],
        "--cluster local:1": ["--cluster", "local:1"],
        "--cluster local:2": ["--cluster", "local:2"],
    }
    cases = {k: v for k, v in every.items() if args.cases is None or k in args.cases}
    trees = [("before", args.before), ("after", ROOT)] if args.before else [("", ROOT)]
    adopted = adopt_orphans()
    print(
        f"| engine ({args.parts} files, 1M packets) | tree | load | wall s (median) | runs "
        "| vs 1 process | vs --jobs 2 | CPU s, all processes (median) | digest "
        "| other stderr lines |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    digests = set()
    medians: dict[tuple[str, str], float] = {}
    for name, extra in cases.items():
        got: dict[str, list[tuple[float, str, int, float]]] = {t: [] for t, _ in trees}
        loads: dict[str, list[float]] = {t: [] for t, _ in trees}
        for _ in range(args.runs):  # the trees alternate, run by run
            for tree, root in trees:
                loads[tree].append(os.getloadavg()[0])
                got[tree].append(timed([*base, *extra], out, root))
        for tree, _ in trees:
            runs = got[tree]
            digests |= {d for _, d, _, _ in runs}
            walls = sorted(w for w, _, _, _ in runs)
            noise = sum(n for _, _, n, _ in runs)
            cpu = statistics.median(c for _, _, _, c in runs)
            med = medians[tree, name] = statistics.median(walls)
            spread = " / ".join(f"{w:.2f}" for w in walls)
            one = medians.get((tree, "1 process"))
            jobs = medians.get((tree, "--jobs 2"))
            vs_one = f"{one / med:.2f}×" if one else "–"
            vs_jobs = (
                f"{med / jobs:.2f}× the time" if jobs and name.startswith("--cluster") else "–"
            )
            load = "–".join(f"{x:.1f}" for x in (min(loads[tree]), max(loads[tree])))
            print(
                f"| {name} | {tree} | {load} | {med:.2f} | {spread} | {vs_one} | {vs_jobs} "
                f"| {cpu:.2f} | {runs[0][1]} | {noise} |",
                flush=True,
            )
    out.unlink(missing_ok=True)
    print(f"\nsame bytes from every engine: {len(digests) == 1}")
    if not adopted:
        print("CPU: this process could not adopt orphans; processes that outlive a run are missed")
    start, again, stop, per_task = dask_overheads()
    print(
        f"Dask LocalCluster(2): start {start:.2f} s ({again:.2f} s again, its forkserver up), "
        f"stop {stop:.2f} s, {per_task:.2f} ms/no-op task"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
