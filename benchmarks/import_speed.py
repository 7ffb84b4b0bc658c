"""Whole-process `segcheck import` of a large generated configuration in each format (issue 11).

For each format it writes the benchmark file with that format's generator (gen_fortios.py,
gen_panos.py, gen_nftables.py, gen_table.py; the same seeds, so the same files every time),
then runs `python -m segcheck import FORMAT FILE` with stdout and stderr to /dev/null, RUNS
times, and prints per format the median wall time and the median CPU time (user + system of the
child, from wait4) with the 1-minute load average before each run. The machine is shared: on a
loaded machine wall time is mostly waiting for a core, so compare CPU times, and the time of a
fixed 10M-iteration loop printed first.

    python benchmarks/import_speed.py [--rules 20000] [--runs 3] [--formats fortios,csv]
        [--timeout 600] [--keep DIR]

The target of issue 11: every format's 20,000-rule import under 5 s wall on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
FORMATS = ("fortios", "panos", "nftables", "csv")


def generate(fmt: str, rules: int, folder: Path) -> Path:
    """The benchmark file of one format, written by its generator."""
    if fmt == "fortios":
        out = folder / f"fortios-{rules}.conf"
        cmd = ["gen_fortios.py", "--policies", str(rules), "--out", str(out), "--runs", "1"]
    elif fmt == "panos":
        out = folder / f"panos-{rules}.xml"
        cmd = ["gen_panos.py", "--rules", str(rules), "--out", str(out), "--runs", "1"]
    elif fmt == "nftables":
        out = folder / f"nftables-{rules}.json"
        cmd = ["gen_nftables.py", str(out), "--rules", str(rules)]
    else:
        out = folder / f"table-{rules}.csv"
        cmd = ["gen_table.py", str(out), "--rows", str(rules)]
    if not out.exists():
        cmd[0] = str(BENCH / cmd[0])
        subprocess.run([sys.executable, *cmd], check=True, stdout=subprocess.DEVNULL)
    return out


def run_once(fmt: str, path: Path, timeout: float) -> tuple[float, int | None]:
    """Wall seconds of one whole `segcheck import`, and its exit status (None: killed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "segcheck", "import", fmt, str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        proc.wait(timeout)
        status: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    return time.perf_counter() - start, status


def calibrate() -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - start, time.process_time() - start_cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--timeout", type=float, default=600.0, help="kill a run after this many s")
    ap.add_argument("--keep", type=Path, help="write (and reuse) the generated files here")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="segcheck-import-speed-"))
    folder.mkdir(parents=True, exist_ok=True)
    wall_loop, cpu_loop = calibrate()
    print(f"calibration: a 10M-iteration loop took {wall_loop:.2f} s wall, {cpu_loop:.2f} s CPU")
    print("| format | rules | file MB | load avg | wall median s | CPU median s | runs (wall) |")
    print("|---|---:|---:|---|---:|---:|---|")
    for fmt in args.formats.split(","):
        path = generate(fmt, args.rules, folder)
        walls: list[float] = []
        cpus: list[float] = []
        loads: list[str] = []
        killed = False
        for _ in range(args.runs):
            loads.append(f"{os.getloadavg()[0]:.1f}")
            before = os.times()  # the child is reaped by then: its CPU is in children_*
            wall, status = run_once(fmt, path, args.timeout)
            after = os.times()
            cpu = (after.children_user - before.children_user) + (
                after.children_system - before.children_system
            )
            if status is None:
                killed = True
                walls.append(wall)
                cpus.append(cpu)
                break
            if status not in (0, 1):
                print(f"{fmt}: segcheck import exited {status}", file=sys.stderr)
                return 2
            walls.append(wall)
            cpus.append(cpu)
        size = path.stat().st_size / 1e6
        shown = ", ".join(f"{w:.2f}" for w in walls) + (" (killed)" if killed else "")
        wall_text = f"> {args.timeout:.0f}" if killed else f"{statistics.median(walls):.2f}"
        cpu_text = f"> {cpus[-1]:.0f}" if killed else f"{statistics.median(cpus):.2f}"
        print(
            f"| {fmt} | {args.rules:,} | {size:.1f} | {' '.join(loads)} | {wall_text} | "
            f"{cpu_text} | {shown} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
