"""PAN-OS import benchmark: a generated running-config XML with 20,000 security rules.

The configuration is shaped like a large municipal firewall: 24 zones on layer-3
subinterfaces, static routes, 4,000 address objects (subnets, hosts, ranges, a few FQDNs),
400 address groups (some nested), 300 services and 60 service groups, and 20,000 rules that
mix zones, objects, literal addresses, groups, application-default, App-ID, negation,
disabled rules and deny rules. The file is written once and parsed (bytes → `ParsedConfig`)
three times in this process; the median is reported.

    python benchmarks/gen_panos.py [--rules 20000] [--out FILE] [--set]

`--set` writes (and times) the `set`-command form of the same configuration instead.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from segcheck.gcpause import allow_gc_pauses  # noqa: E402
from segcheck.loaders.configs.panos import parse_panos  # noqa: E402

ZONES = 24
ADDRESSES = 4000
GROUPS = 400
SERVICES = 300
SERVICE_GROUPS = 60
APPS = ("ssl", "web-browsing", "dns", "smtp", "ms-rdp", "ldap")


def _members(values: list[str]) -> str:
    return "".join(f"<member>{v}</member>" for v in values)


def _set_list(values: list[str]) -> str:
    quoted = [f'"{v}"' if " " in v else v for v in values]
    return quoted[0] if len(quoted) == 1 else "[ " + " ".join(quoted) + " ]"


class Config:
    """One random configuration, writable as XML or as set commands."""

    def __init__(self, rules: int, seed: int = 20) -> None:
        rnd = random.Random(seed)
        self.zones = [f"zone-{z:02d}" for z in range(ZONES)]
        self.interfaces = [(f"ethernet1/{1 + z // 8}.{100 + z}", z) for z in range(ZONES)]
        self.addresses: list[tuple[str, str, str]] = []
        for i in range(ADDRESSES):
            z = i % ZONES
            kind = rnd.random()
            if kind < 0.6:
                self.addresses.append((f"h-{i}", "ip-netmask", f"10.{z}.{i % 250}.{1 + i % 200}"))
            elif kind < 0.85:
                self.addresses.append((f"n-{i}", "ip-netmask", f"10.{z}.{i % 250}.0/24"))
            elif kind < 0.98:
                self.addresses.append(
                    (f"r-{i}", "ip-range", f"10.{z}.{i % 250}.10-10.{z}.{i % 250}.{20 + i % 200}")
                )
            else:
                self.addresses.append((f"f-{i}", "fqdn", f"host{i}.example.jp"))
        names = [a[0] for a in self.addresses]
        self.groups: list[tuple[str, list[str]]] = []
        for g in range(GROUPS):
            members = rnd.sample(names, rnd.randint(2, 12))
            if g >= 20 and rnd.random() < 0.2:
                members.append(self.groups[rnd.randrange(g)][0])
            self.groups.append((f"grp-{g}", members))
        self.services = [
            (f"svc-{s}", rnd.choice(("tcp", "tcp", "udp")), f"{1000 + s},{2000 + s}-{2010 + s}")
            for s in range(SERVICES)
        ]
        self.service_groups = [
            (f"sg-{g}", rnd.sample([s[0] for s in self.services], rnd.randint(2, 8)))
            for g in range(SERVICE_GROUPS)
        ]
        objects = names + [g[0] for g in self.groups]
        svcs = [s[0] for s in self.services] + [g[0] for g in self.service_groups]
        self.rules: list[dict[str, object]] = []
        for r in range(rules):
            a, b = rnd.sample(self.zones, 2)
            rule: dict[str, object] = {
                "name": f"rule-{r:05d}",
                "from": [a],
                "to": [b] if rnd.random() < 0.9 else [b, rnd.choice(self.zones)],
                "source": (
                    rnd.sample(objects, rnd.randint(1, 4))
                    if rnd.random() < 0.8
                    else [f"172.16.{r % 256}.0/24"]
                ),
                "destination": rnd.sample(objects, rnd.randint(1, 3)),
                "service": (
                    rnd.sample(svcs, rnd.randint(1, 3))
                    if rnd.random() < 0.7
                    else ["application-default"]
                ),
                "application": ["any"] if rnd.random() < 0.7 else [rnd.choice(APPS)],
                "action": "deny" if rnd.random() < 0.15 else "allow",
            }
            if rnd.random() < 0.03:
                rule["disabled"] = "yes"
            if rnd.random() < 0.02:
                rule["negate-destination"] = "yes"
            self.rules.append(rule)

    def xml(self) -> str:
        out = ['<?xml version="1.0"?>\n<config version="10.1.0" urldb="paloaltonetworks">\n']
        out.append('  <devices>\n    <entry name="localhost.localdomain">\n      <network>\n')
        out.append("        <interface>\n          <ethernet>\n")
        for port in range(1, 4):
            out.append(f'            <entry name="ethernet1/{port}">\n              <layer3>\n')
            out.append("                <units>\n")
            for name, z in self.interfaces:
                if name.startswith(f"ethernet1/{port}."):
                    out.append(
                        f'                  <entry name="{name}"><tag>{100 + z}</tag>'
                        f'<ip><entry name="10.{z}.255.1/24"/></ip></entry>\n'
                    )
            out.append("                </units>\n              </layer3>\n            </entry>\n")
        out.append("          </ethernet>\n        </interface>\n")
        out.append('        <virtual-router>\n          <entry name="default">\n')
        out.append("            <routing-table><ip><static-route>\n")
        for name, z in self.interfaces:
            out.append(
                f'              <entry name="r-{z}"><destination>10.{z}.0.0/16</destination>'
                f"<interface>{name}</interface>"
                f"<nexthop><ip-address>10.{z}.255.254</ip-address></nexthop></entry>\n"
            )
        out.append("            </static-route></ip></routing-table>\n")
        out.append("          </entry>\n        </virtual-router>\n      </network>\n")
        out.append('      <vsys>\n        <entry name="vsys1">\n          <zone>\n')
        for name, z in self.interfaces:
            out.append(
                f'            <entry name="{self.zones[z]}"><network><layer3>'
                f"<member>{name}</member></layer3></network></entry>\n"
            )
        out.append("          </zone>\n          <address>\n")
        for name, kind, value in self.addresses:
            out.append(f'            <entry name="{name}"><{kind}>{value}</{kind}></entry>\n')
        out.append("          </address>\n          <address-group>\n")
        for name, members in self.groups:
            out.append(
                f'            <entry name="{name}"><static>{_members(members)}</static></entry>\n'
            )
        out.append("          </address-group>\n          <service>\n")
        for name, proto, ports in self.services:
            out.append(
                f'            <entry name="{name}"><protocol><{proto}><port>{ports}</port>'
                f"</{proto}></protocol></entry>\n"
            )
        out.append("          </service>\n          <service-group>\n")
        for name, members in self.service_groups:
            out.append(
                f'            <entry name="{name}"><members>{_members(members)}</members></entry>\n'
            )
        out.append("          </service-group>\n          <rulebase>\n            <security>\n")
        out.append("              <rules>\n")
        for rule in self.rules:
            out.append(f"                <entry name={quoteattr(str(rule['name']))}>\n")
            for key in ("from", "to", "source", "destination", "service", "application"):
                values = rule[key]
                assert isinstance(values, list)
                out.append(f"                  <{key}>{_members(values)}</{key}>\n")
            for key in ("action", "disabled", "negate-destination"):
                if key in rule:
                    out.append(f"                  <{key}>{rule[key]}</{key}>\n")
            out.append("                </entry>\n")
        out.append("              </rules>\n            </security>\n          </rulebase>\n")
        out.append("        </entry>\n      </vsys>\n    </entry>\n  </devices>\n</config>\n")
        return "".join(out)

    def set_commands(self) -> str:
        out = []
        for name, z in self.interfaces:
            base = f"set network interface ethernet {name.split('.')[0]} layer3 units {name}"
            out.append(f"{base} tag {100 + z}\n{base} ip 10.{z}.255.1/24\n")
        for name, z in self.interfaces:
            base = f"set network virtual-router default routing-table ip static-route r-{z}"
            out.append(
                f"{base} destination 10.{z}.0.0/16\n{base} interface {name}\n"
                f"{base} nexthop ip-address 10.{z}.255.254\n"
            )
        for name, z in self.interfaces:
            out.append(f"set zone {self.zones[z]} network layer3 {name}\n")
        for name, kind, value in self.addresses:
            out.append(f"set address {name} {kind} {value}\n")
        for name, members in self.groups:
            out.append(f"set address-group {name} static {_set_list(members)}\n")
        for name, proto, ports in self.services:
            out.append(f"set service {name} protocol {proto} port {ports}\n")
        for name, members in self.service_groups:
            out.append(f"set service-group {name} members {_set_list(members)}\n")
        for rule in self.rules:
            base = f"set rulebase security rules {rule['name']}"
            for key in ("from", "to", "source", "destination", "service", "application"):
                values = rule[key]
                assert isinstance(values, list)
                out.append(f"{base} {key} {_set_list(values)}\n")
            for key in ("action", "disabled", "negate-destination"):
                if key in rule:
                    out.append(f"{base} {key} {rule[key]}\n")
        return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=20000)
    parser.add_argument("--out", type=Path, help="keep the generated file here")
    parser.add_argument("--set", action="store_true", help="the set-command form")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    config = Config(args.rules)
    text = config.set_commands() if args.set else config.xml()
    data = text.encode()
    path = args.out or Path(tempfile.gettempdir()) / (
        "panos-bench" + (".conf" if args.set else ".xml")
    )
    path.write_bytes(data)
    times, cpu = [], []
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        with allow_gc_pauses():  # the collector paused, as the CLI pauses it
            parsed = parse_panos(path, path.read_bytes(), display_name=str(path))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    rules = sum(len(c.rules) for c in parsed.contexts)
    # calibration, as in gen_fortios.py: a plain loop's CPU time against an idle core's 0.45 s
    start, start_cpu = time.perf_counter(), time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    loop_wall, loop_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(
        f"{'set' if args.set else 'XML'}: {len(data) / 1e6:.1f} MB, {rules} rules, "
        f"{len(parsed.issues)} issues; parse wall {', '.join(f'{t:.2f}' for t in times)} s "
        f"(median {statistics.median(times):.2f} s), CPU median "
        f"{statistics.median(cpu):.2f} s; load average {os.getloadavg()[0]:.1f}; "
        f"10M-iteration loop {loop_wall:.2f} s wall / {loop_cpu:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
