"""A large `nft -j list ruleset` export for the nftables importer's speed (issue 11: 20,000 rules).

One inet table, a forward chain with policy drop and the stateful return path, then N rules the
way engineers write them: address sets or prefixes on both sides, TCP/UDP port sets and ranges,
interface names, a comment per rule, one rule in ten a drop, one in fifty a jump to a small
regular chain. The output is one line, as `nft -j` writes it.

    python benchmarks/gen_nftables.py OUT.json [--rules 20000] [--time]

`--time` parses the file three times with segcheck's importer and prints the median wall and
CPU times, and the time of a fixed 10M-iteration loop (the machine is shared: compare with it).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _addr(rnd: random.Random) -> Any:
    a, b, c = rnd.randrange(1, 4), rnd.randrange(256), rnd.randrange(256)
    kind = rnd.random()
    if kind < 0.4:
        return f"10.{a}.{b}.{c}"
    if kind < 0.8:
        return {"prefix": {"addr": f"10.{a}.{b}.0", "len": 24}}
    return {"range": [f"10.{a}.{b}.10", f"10.{a}.{b}.{rnd.randrange(11, 250)}"]}


def _side(rnd: random.Random, field: str) -> dict[str, Any]:
    n = rnd.choice((1, 1, 2, 3, 5))
    items = [_addr(rnd) for _ in range(n)]
    right = items[0] if n == 1 else {"set": items}
    left = {"payload": {"protocol": "ip", "field": field}}
    return {"match": {"op": "==", "left": left, "right": right}}


def _ports(rnd: random.Random) -> dict[str, Any]:
    proto = rnd.choice(("tcp", "tcp", "udp"))
    ports: list[Any] = sorted(rnd.sample(range(1, 65000), rnd.choice((1, 1, 2, 4))))
    if rnd.random() < 0.2:
        ports.append({"range": [50000, 50100]})
    right = ports[0] if len(ports) == 1 else {"set": ports}
    left = {"payload": {"protocol": proto, "field": "dport"}}
    return {"match": {"op": "==", "left": left, "right": right}}


def ruleset(rules: int, seed: int = 11) -> dict[str, Any]:
    rnd = random.Random(seed)
    items: list[dict[str, Any]] = [
        {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "fw", "handle": 1}},
        {"chain": {"family": "inet", "table": "fw", "name": "forward", "handle": 1,
                   "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
        {"chain": {"family": "inet", "table": "fw", "name": "mgmt", "handle": 2}},
    ]  # fmt: skip
    body = []
    ct = {"ct": {"key": "state"}}
    state = {"match": {"op": "in", "left": ct, "right": ["established", "related"]}}
    body.append(("forward", [state, {"accept": None}], None))
    for i in range(rules):
        expr: list[Any] = []
        if rnd.random() < 0.3:
            expr.append({"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
                                   "right": f"lan{rnd.randrange(8)}"}})  # fmt: skip
        expr += [_side(rnd, "saddr"), _side(rnd, "daddr"), _ports(rnd)]
        expr.append({"counter": {"packets": 0, "bytes": 0}})
        if i % 50 == 49:
            expr.append({"jump": {"target": "mgmt"}})
        else:
            expr.append({"drop": None} if rnd.random() < 0.1 else {"accept": None})
        body.append(("forward", expr, f"R-{i + 1:05d}"))
    for port in (22, 161, 443):
        body.append(("mgmt", [_ports(rnd), {"accept": None}], f"mgmt-{port}"))
    for handle, (chain, expr, comment) in enumerate(body, start=10):
        rule = {"family": "inet", "table": "fw", "chain": chain, "handle": handle, "expr": expr}
        if comment:
            rule["comment"] = comment
        items.append({"rule": rule})
    return {"nftables": items}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rules", type=int, default=20000)
    ap.add_argument("--time", action="store_true", help="parse three times, print the median")
    args = ap.parse_args()
    args.out.write_text(json.dumps(ruleset(args.rules), separators=(", ", ": ")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size >> 10} KiB, {args.rules} rules)")
    if args.time:
        from segcheck.gcpause import allow_gc_pauses
        from segcheck.loaders.configs.nftables import parse_nftables

        data = args.out.read_bytes()
        times, cpu = [], []
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            with allow_gc_pauses():  # the collector paused, as the CLI pauses it
                parsed = parse_nftables(args.out, data, display_name=args.out.name)
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
            f"{statistics.median(cpu):.2f} s CPU of 3 ({rules} rules imported)"
        )
        print(f"calibration: a 10M-iteration loop took {loop[0]:.2f} s wall, {loop[1]:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
