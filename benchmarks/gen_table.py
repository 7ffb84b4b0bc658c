"""A large policy table (「FWポリシー表」) for the table importer's speed (issue 11: 20,000 rows).

Written as Japanese Excel saves "CSV": CP932, CRLF, a title and a date row above the header,
quoted cells holding several addresses or services on separate lines, ranges and names,
Japanese remarks, one row in ten a deny and one in twenty disabled, a section row every 500.

    python benchmarks/gen_table.py OUT.csv [--rows 20000] [--encoding cp932] [--time]
    python benchmarks/gen_table.py OUT.xlsx [--rows 20000] [--time]    # needs openpyxl

`--time` parses the file three times with segcheck's importer and prints the median wall and
CPU times, and the time of a fixed 10M-iteration loop (the machine is shared: compare with it).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVICES = ("tcp/443", "https", "http", "tcp/8080-8081", "443/tcp", "udp/53", "dns", "smtp",
            "TCP 1494", "rdp", "ssh", "icmp", "ntp", "tcp/445", "any")  # fmt: skip
NAMES = ("LGWAN端末群", "業務サーバ群", "メール無害化", "プロキシ")


def _address(rnd: random.Random) -> str:
    a, b, c = rnd.randrange(1, 4), rnd.randrange(256), rnd.randrange(256)
    kind = rnd.random()
    if kind < 0.45:
        return f"10.{a}.{b}.{c}"
    if kind < 0.85:
        return f"10.{a}.{b}.0/24"
    if kind < 0.95:
        return f"10.{a}.{b}.10-{rnd.randrange(11, 250)}"
    return rnd.choice(NAMES)


def _cell(rnd: random.Random, make: object, most: int) -> str:
    n = rnd.choice((1, 1, 1, 2, most))
    return "\n".join(make(rnd) for _ in range(n))  # type: ignore[operator]


def table(rows: int, seed: int = 11) -> str:
    rnd = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["FWポリシー表（境界FW）", "", "", "", "", "", ""])
    w.writerow(["作成日", "2026/11/30", "", "", "", "", ""])
    w.writerow(["No", "送信元", "宛先", "サービス", "動作", "有効", "備考"])
    for i in range(1, rows + 1):
        if i % 500 == 1:
            w.writerow([f"【区画 {i // 500 + 1}】", "", "", "", "", "", ""])
        w.writerow(
            [
                i,
                _cell(rnd, _address, 4),
                _cell(rnd, _address, 3),
                _cell(rnd, lambda r: r.choice(SERVICES), 3),
                "拒否" if rnd.random() < 0.1 else "許可",
                "×" if rnd.random() < 0.05 else "○",
                rnd.choice(("", "業務系", "保守用（㈱ベンダ）", "一時許可 ①")),
            ]
        )
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--encoding", default="cp932", help="cp932 (default), utf-8-sig, utf-16")
    ap.add_argument("--time", action="store_true", help="parse three times, print the median")
    args = ap.parse_args()
    text = table(args.rows)
    if args.out.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "FWポリシー表"
        for row in csv.reader(io.StringIO(text, newline="")):
            ws.append([int(c) if c.isdigit() else c for c in row])
        wb.save(args.out)
    else:
        args.out.write_bytes(text.encode(args.encoding))
    print(f"wrote {args.out} ({args.out.stat().st_size >> 10} KiB, {args.rows} rows)")
    if args.time:
        from segcheck.gcpause import allow_gc_pauses
        from segcheck.loaders.configs.table import parse_table

        data = args.out.read_bytes()
        times, cpu = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            with allow_gc_pauses():  # the collector paused, as the CLI pauses it
                parsed = parse_table(args.out, data, display_name=args.out.name)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        # a fixed amount of pure-Python work, to compare runs on a shared, loaded machine
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(10_000_000):
            pass
        loop = time.perf_counter() - start, time.process_time() - start_cpu
        rules = len(parsed.contexts[0].rules)
        print(
            f"parse: median {statistics.median(times):.2f} s wall, "
            f"{statistics.median(cpu):.2f} s CPU of 3 ({rules} rules)"
        )
        print(f"calibration: a 10M-iteration loop took {loop[0]:.2f} s wall, {loop[1]:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
