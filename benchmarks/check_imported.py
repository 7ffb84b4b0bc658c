"""Time `segcheck check` on a town whose three firewalls are read from FortiOS configurations.

The town: the three tiers (My Number 10.1/16, LGWAN 10.2/16, Internet 10.3/16, each with 64
server and terminal /24s), LGWAN and the security cloud outside; three FortiGates between them
(MN|LG, LG|Internet, Internet|cloud), each with one interface per tier leg and a few server
VLANs of its own tier. The policies, N in all, are what a municipal rulebase holds: mostly
host-to-host or subnet-to-host within a tier across the firewall's VLANs on specific ports, the
screen-transfer and sanitized-mail rules across the LGWAN/Internet boundary, about 1 in 500 a
deny, 1 in 200 disabled, and a handful of forbidden cross-tier rules, so findings exist.

    python benchmarks/check_imported.py [--policies 20000] [--runs 3] [--keep DIR]

Prints, per run, the whole-process wall time of `segcheck check` (import, compile, analysis,
text output) and the median, with the median CPU time of the child and the 1-minute load
average before the first run (on a shared machine wall time is mostly waiting for a core);
the target of issue 11 is under 10 s for 20,000 policies.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = {"mn": ("mynumber", 1), "lg": ("lgwan", 2), "inet": ("internet", 3)}
FIREWALLS = (("fw-mn-lg", "mn", "lg"), ("fw-lg-inet", "lg", "inet"), ("fw-inet-sc", "inet", None))
PORTS = [443, 80, 22, 3389, 445, 1433, 5432, 8080, 8443, *range(9000, 9300)]


def _host(rng: random.Random, tier: str) -> str:
    octet = TIERS[tier][1]
    return f"10.{octet}.{rng.randrange(10, 74)}.{rng.randrange(2, 250)}"


def _subnet(rng: random.Random, tier: str) -> str:
    return f"10.{TIERS[tier][1]}.{rng.randrange(10, 74)}.0"


def fortios(rng: random.Random, name: str, left: str, right: str | None, n: int) -> str:
    out = ["config system interface"]
    index = [f[0] for f in FIREWALLS].index(name)
    legs = [("port1", f"10.{TIERS[left][1]}.0.{index + 1} 255.255.0.0", left)]
    if right is not None:
        legs.append(("port2", f"10.{TIERS[right][1]}.0.{index + 11} 255.255.0.0", right))
    else:
        legs.append(("port2", "192.0.2.1 255.255.255.0", "cloud"))
    for iface, ip, _zone in legs:
        out += [
            f'    edit "{iface}"',
            '        set vdom "root"',
            f"        set ip {ip}",
            "    next",
        ]
    out += ["end", "config system zone"]
    for iface, _, zone in legs:
        out += [f'    edit "{zone}"', f'        set interface "{iface}"', "    next"]
    out += ["end", "config firewall address"]
    names: dict[str, list[str]] = {left: [], **({right: []} if right else {})}
    for tier in names:
        for a in range(max(20, n // 8)):
            key = f"{tier}-{a}"
            if a % 5 == 0:
                out += [
                    f'    edit "{key}"',
                    f"        set subnet {_subnet(rng, tier)} 255.255.255.0",
                    "    next",
                ]
            else:
                out += [
                    f'    edit "{key}"',
                    f"        set subnet {_host(rng, tier)} 255.255.255.255",
                    "    next",
                ]
            names[tier].append(key)
    if right == "inet":
        out += ['    edit "inet-sbc"', "        set subnet 10.3.10.0 255.255.255.0", "    next"]
    out += ["end", "config firewall service custom"]
    for port in PORTS:
        out += [f'    edit "tcp-{port}"', f"        set tcp-portrange {port}", "    next"]
    out += ["end", "config firewall policy"]
    for pid in range(1, n + 1):
        roll = rng.random()
        if right is not None and roll < 0.002:  # a forbidden cross-tier rule
            src, dst, szone, dzone = rng.choice(names[left]), rng.choice(names[right]), left, right
        elif right == "inet" and roll < 0.05:  # screen transfer to the pool
            src, dst, szone, dzone = rng.choice(names["lg"]), "all", "lg", "inet"
        else:  # within the left tier, across the firewall's VLANs
            src, dst, szone, dzone = rng.choice(names[left]), rng.choice(names[left]), left, left
        service = f"tcp-{rng.choice(PORTS)}" if dst != "all" else "tcp-3389"
        if dst == "all":  # keep the screen-transfer rules to the SBC hosts
            dst = "inet-sbc"
        out += [
            f"    edit {pid}",
            f'        set srcintf "{szone}"',
            f'        set dstintf "{dzone}"',
            f'        set srcaddr "{src}"',
            f'        set dstaddr "{dst}"',
            f"        set action {'deny' if pid % 500 == 0 else 'accept'}",
            f'        set service "{service}"',
        ]
        if pid % 200 == 0:
            out.append("        set status disable")
        out.append("    next")
    out.append("end")
    return "\n".join(out) + "\n"


def topology(files: dict[str, str]) -> str:
    out = ["segcheck: 1", "name: benchmark town", "zones:"]
    for zone, (tier, octet) in TIERS.items():
        out.append(f"  {zone}: {{tier: {tier}, subnets: [10.{octet}.0.0/16]}}")
    out += [
        "  lgwan: {tier: lgwan-network, subnets: [198.18.0.0/16]}",
        "  cloud: {tier: security-cloud, subnets: [192.0.2.0/24]}",
        "nodes:",
        "  lg-sbc: {role: screen-transfer, ip: 10.3.10.11, clipboard: false, drive_redirect: false, printer_redirect: false}",
        "  lgwan-rtr: {role: router, ip: [10.2.0.254, 198.18.0.1], permit: [{id: L-1, from: lg, to: lgwan, service: any}]}",
    ]
    for name, path in files.items():
        out += [
            f"  {name}:",
            "    role: firewall",
            f"    config: {{file: {path}, format: fortios}}",
        ]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="segcheck-imported-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, left, right in FIREWALLS:
        path = folder / f"{name}.conf"
        path.write_text(fortios(rng, name, left, right, args.policies // 3), encoding="utf-8")
        files[name] = path.name
    topo = folder / "town.yaml"
    topo.write_text(topology(files), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, cpus = [], []
    load = f"{os.getloadavg()[0]:.1f}"
    for _ in range(args.runs):
        before = os.times()  # the child is reaped by run(): its CPU is in children_*
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "segcheck", "check", str(topo), "--today", "2026-11-30"],
            capture_output=True,
            text=True,
            env=env,
        )
        times.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
            return 2
    findings = proc.stdout.count("[critical]") + proc.stdout.count("[high]")
    print(
        f"policies {args.policies}: runs {', '.join(f'{t:.2f}' for t in times)} s, "
        f"median {statistics.median(times):.2f} s (CPU median {statistics.median(cpus):.2f} s, "
        f"load {load}); exit {proc.returncode}, "
        f"critical/high findings {findings}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
