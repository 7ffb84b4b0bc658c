"""Developer entry point: ``python -m segcheck.capture FILE... [--jobs N]`` prints flow stats."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from ..errors import CaptureError
from . import read_captures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m segcheck.capture")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--flows", action="store_true", help="print every flow")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        results = read_captures(args.files, jobs=args.jobs)
    except CaptureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    for r in results:
        i = r.info
        protos = Counter(f.proto for f in r.flows if not f.tunnel)
        states = Counter(f.state for f in r.flows)
        print(
            f"{i.path}: {i.kind}{' (gzip)' if i.compressed else ''} packets={i.packets_read} "
            f"skipped={i.packets_skipped} flows={len(r.flows)} tcp={protos['tcp']} "
            f"udp={protos['udp']} states={dict(states)} link_types={list(i.link_types)} "
            f"stopped_at={i.stopped_at}"
        )
        if args.flows:
            for f in r.flows:
                print("  ", f)
    packets = sum(r.info.packets_read for r in results)
    print(f"total: {packets} packets in {elapsed:.3f} s ({packets / max(elapsed, 1e-9):,.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
