"""Generate a realistic FortiOS configuration of N firewall policies and time its import.

The file is what a municipal FortiGate backup looks like: a multi-VDOM `.conf` (`config
global` with the interfaces, then `config vdom` / `edit root` and `edit lgwan`), each VDOM with
zones for the tiers and the DMZ, thousands of address objects (hosts, subnets, ranges, some
FQDNs), nested address groups, custom services and service groups, a few VIPs, static routes,
and the policies: mostly accepts between zones and interfaces, a few deny rules, some disabled
rules, Japanese comments, NAT on the Internet egress. Policy ids are shuffled against their
position, as on a device where policies were moved.

    python benchmarks/gen_fortios.py [--policies 20000] [--out FILE] [--runs 3]

Without `--out` the file goes to a temporary directory; the parse time (median of `--runs`, in
this process, `parse_fortios` on the bytes; wall and CPU time) is printed with the file size
and what was read.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VDOMS = (("root", 0.8), ("lgwan", 0.2))  # share of the policies per VDOM
ZONES = ("mynumber", "lgwan", "internet", "dmz", "server", "mgmt")


def _q(*names: str) -> str:
    return " ".join(f'"{n}"' for n in names)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(policies: int, seed: int = 1) -> str:
    """The configuration text, deterministic for a seed."""
    rng = random.Random(seed)
    out: list[str] = [
        "#config-version=FGT600F-7.2.8-FW-build1639-240313:opmode=0:vdom=1:user=admin",
        "#conf_file_ver=1234567890",
        "#buildno=1639",
        "#global_vdom=1",
        "config vdom",
        *(f"edit {name}\nnext" for name, _ in VDOMS),
        "end",
        "config global",
        "config system global",
        '    set hostname "FGT-HONCHO-01"',
        '    set timezone "Asia/Tokyo"',
        "end",
        "config system interface",
    ]
    port = 0
    interfaces: dict[str, list[tuple[str, str]]] = {}  # vdom -> (interface, zone)
    for v, (vdom, _) in enumerate(VDOMS):
        for z, zone in enumerate(ZONES):
            for k in range(4):
                port += 1
                name = f"port{port}" if k == 0 else f"vl{v}{z}{k}"
                net = f"10.{v * 64 + z * 8 + k}.0"
                out += [
                    f'    edit "{name}"',
                    f'        set vdom "{vdom}"',
                    f"        set ip {net}.1 255.255.255.0",
                    "        set allowaccess ping https ssh",
                    f"        set type {'physical' if k == 0 else 'vlan'}",
                    f'        set alias "{zone}-{k}"',
                    f"        set role {'wan' if zone == 'internet' else 'dmz' if zone == 'dmz' else 'lan'}",
                ]
                if k:
                    out += [
                        f'        set interface "port{port - k}"',
                        f"        set vlanid {100 + port}",
                    ]
                if k == 1:
                    out += [
                        "        set secondary-IP enable",
                        "        config secondaryip",
                        "            edit 1",
                        f"                set ip 172.{16 + v}.{z * 4 + k}.1 255.255.255.0",
                        "            next",
                        "        end",
                    ]
                out.append("    next")
                interfaces.setdefault(vdom, []).append((name, zone))
    out += ["end", "end"]

    for vdom, share in VDOMS:
        out += ["config vdom", f"edit {vdom}"]
        out += _vdom(rng, vdom, interfaces[vdom], round(policies * share))
        out += ["end"]
    return "\n".join(out) + "\n"


def _vdom(rng: random.Random, vdom: str, interfaces: list[tuple[str, str]], n: int) -> list[str]:
    out = ["config system zone"]
    for zone in ZONES:
        members = [i for i, z in interfaces if z == zone][:3]
        out += [f'    edit "{zone}"', f"        set interface {_q(*members)}"]
        if zone == "server":
            out.append("        set intrazone allow")
        out.append("    next")
    out.append("end")

    n_addr = max(50, n // 4)
    addresses = []
    out.append("config firewall address")
    out += ['    edit "all"', f"        set uuid {_uuid(rng)}", "    next"]
    for a in range(n_addr):
        name = f"{vdom}-h{a:05d}"
        octet2 = rng.randrange(0, 48)
        out += [f'    edit "{name}"', f"        set uuid {_uuid(rng)}"]
        kind = rng.random()
        if kind < 0.7:
            out.append(
                f"        set subnet 10.{octet2}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)} 255.255.255.255"
            )
        elif kind < 0.9:
            out.append(
                f"        set subnet 10.{octet2}.{rng.randrange(0, 256)}.0 255.255.255.{rng.choice((0, 128, 192, 224))}"
            )
        elif kind < 0.98:
            base, octet3 = rng.randrange(1, 200), rng.randrange(0, 256)
            out += [
                "        set type iprange",
                f"        set start-ip 10.{octet2}.{octet3}.{base}",
                f"        set end-ip 10.{octet2}.{octet3}.{base + rng.randrange(1, 50)}",
            ]
        else:
            out += ["        set type fqdn", f'        set fqdn "update{a}.example.jp"']
        out += [f'        set comment "端末 {a}"', "    next"]
        addresses.append(name)
    out.append("end")

    groups = []
    out.append("config firewall addrgrp")
    for g in range(max(10, n_addr // 10)):
        name = f"{vdom}-grp{g:04d}"
        members = rng.sample(addresses, rng.randrange(2, 12))
        if groups and rng.random() < 0.2:
            members.append(rng.choice(groups))  # nested groups
        out += [
            f'    edit "{name}"',
            f"        set uuid {_uuid(rng)}",
            f"        set member {_q(*members)}",
            "    next",
        ]
        groups.append(name)
    out.append("end")

    services = []
    out.append("config firewall service custom")
    for s in range(150):
        name = f"APP-{s:03d}"
        port = 1024 + s * 37
        line = rng.choice(
            (
                f"        set tcp-portrange {port}",
                f"        set tcp-portrange {port}-{port + 9}",
                f"        set udp-portrange {port}",
                f"        set tcp-portrange {port} {port + 1000}\n        set udp-portrange {port}",
            )
        )
        out += [f'    edit "{name}"', '        set category "General"', line, "    next"]
        services.append(name)
    out += [
        '    edit "ALL"',
        '        set category "General"',
        "        set protocol IP",
        "    next",
    ]
    for name, ports in (
        ("HTTP", "80"),
        ("HTTPS", "443"),
        ("SSH", "22"),
        ("DNS", "53"),
        ("SMTP", "25"),
    ):
        out += [f'    edit "{name}"', f"        set tcp-portrange {ports}", "    next"]
    out.append("end")
    out.append("config firewall service group")
    svc_groups = []
    for g in range(30):
        name = f"SVC-GRP-{g:02d}"
        out += [
            f'    edit "{name}"',
            f"        set member {_q(*rng.sample(services, 5))}",
            "    next",
        ]
        svc_groups.append(name)
    out.append("end")

    vips = []
    out.append("config firewall vip")
    for v in range(10):
        name = f"{vdom}-vip{v}"
        out += [
            f'    edit "{name}"',
            f"        set extip 203.0.113.{v + 10}",
            f'        set mappedip "10.3.0.{v + 10}"',
            '        set extintf "any"',
            "    next",
        ]
        vips.append(name)
    out.append("end")

    ids = list(range(1, n + 1))
    rng.shuffle(ids)  # moved policies: ids do not follow positions
    zone_names = list(ZONES) + [i for i, _ in interfaces]
    out.append("config firewall policy")
    for position, pid in enumerate(ids):
        src, dst = rng.sample(zone_names, 2)
        deny = position % 997 == 0  # a few explicit denies
        out += [
            f"    edit {pid}",
            f'        set name "pol-{pid}"',
            f"        set uuid {_uuid(rng)}",
            f'        set srcintf "{src}"',
            f'        set dstintf "{dst}"',
            f"        set action {'deny' if deny else 'accept'}",
            f"        set srcaddr {_q(*rng.sample(addresses + groups, rng.randrange(1, 5)))}",
        ]
        if position % 500 == 1:
            out.append(f"        set dstaddr {_q(rng.choice(vips))}")
        else:
            out.append(
                f"        set dstaddr {_q(*rng.sample(addresses + groups, rng.randrange(1, 5)))}"
            )
        out += [
            '        set schedule "always"',
            f"        set service {_q(*rng.sample(services + svc_groups + ['HTTPS', 'DNS', 'SSH'], rng.randrange(1, 4)))}",
            "        set logtraffic all",
        ]
        if dst == "internet" and not deny:
            out.append("        set nat enable")
        if position % 211 == 0:
            out.append("        set status disable")
        if position % 7 == 0:
            out.append(f'        set comments "申請番号 {pid:06d} 庁内システム"')
        out.append("    next")
    out.append("end")

    out += ["config router static"]
    for r in range(20):
        iface = interfaces[r % len(interfaces)][0]
        out += [
            f"    edit {r + 1}",
            f"        set dst 192.168.{r}.0 255.255.255.0",
            f"        set gateway 10.0.{r}.254",
            f'        set device "{iface}"',
            "    next",
        ]
    out.append("end")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", type=int, default=20000)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from segcheck.gcpause import allow_gc_pauses
    from segcheck.loaders.configs.fortios import parse_fortios

    text = generate(args.policies, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / f"fortios-{args.policies}.conf"
        path.write_text(text, encoding="utf-8")
        data = path.read_bytes()
        times, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            with allow_gc_pauses():  # the collector paused, as the CLI pauses it
                parsed = parse_fortios(path, data, display_name=path.name)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    rules = sum(len(c.rules) for c in parsed.contexts)
    kinds: dict[str, int] = {}
    for issue in parsed.issues:
        kinds[issue.kind] = kinds.get(issue.kind, 0) + 1
    print(
        f"{args.policies} policies, {len(data) / 1e6:.1f} MB, {text.count(chr(10))} lines: "
        f"parse median {statistics.median(times):.2f} s wall of {args.runs} "
        f"({', '.join(f'{t:.2f}' for t in times)}), CPU median {statistics.median(cpu):.2f} s "
        f"(a busy machine inflates wall time); {len(parsed.contexts)} VDOMs, {rules} rules, "
        f"status {parsed.status}, issues {dict(sorted(kinds.items()))}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
