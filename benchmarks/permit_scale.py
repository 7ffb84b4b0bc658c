"""Scale benchmark for `segcheck check` in the number of firewall permits (issue 11, "Scale").

The generated town is an α-model municipality of fixed size (about 700 nodes) whose three
firewalls carry N permits in all, shaped the way an imported rulebase is:

- a **core firewall** `fw-core` between the three tiers' core segments and their server farms
  (client segments sit behind l3-switches on each tier's core segment);
- an **LGWAN boundary firewall** `fw-lgwan` between the LGWAN-connected tier and the LGWAN;
- an **Internet boundary firewall** `fw-inet` between the Internet tier, the security cloud and
  the public Internet.

Most permits join one specific host or subnet to another on one to three specific services
(built-in ones and a catalogue of custom services that grows with N), so the permits name many
distinct endpoints: as a FortiOS or PAN-OS rulebase does, a bigger rulebase names more hosts.
A few are broad (a whole tier to the DNS or update servers, `any` to the proxy). Channels cover
the My Number ↔ LGWAN 特定通信, and a handful of planted mistakes make findings on every size:
a DNS permit from `any` across the tiers, an LGWAN host reaching Internet-tier servers, an
Internet-tier host going straight out, a publication from the Internet to an Internet-tier
server, a My Number server reaching an LGWAN server without a channel.

For each N: the whole `python -m segcheck check FILE --format json` as a subprocess (wall
seconds, median of --runs, peak RSS from `wait4` in a small launcher) with a timeout, the number
of findings, and the growth ratio per doubling of N.

    python benchmarks/permit_scale.py [--sizes 1000,2000,...] [--runs 3] [--timeout 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TODAY = date(2026, 6, 1)
SIZES = (1000, 2000, 4000, 8000, 16000, 20000, 32000)

# (prefix, tier, second octet, permits per client segment): every tier has a /14 from 10.B.0.0,
# with a core /22 (10.B.0.0), a /22 server farm on fw-core (10.B.4.0) and client /24s from
# 10.B.8.0 on, each behind an l3-switch on the core. The number of client segments grows with
# N (one per so many permits, at least four): a bigger rulebase protects a bigger network, so
# the rules per segment stay about the same (with a fixed address plan, every new subnet rule
# would cover the atoms of all the earlier ones: --fixed-town shows that case).
TIERS = (("mn", "mynumber", 16, 600), ("lg", "lgwan", 64, 125), ("inet", "internet", 128, 250))
FIXED_TOWN = 20_000  # --fixed-town: the address plan of the 20k town, whatever N
BUILTIN = ("https", "http", "smb", "ldap", "kerberos", "dns", "ntp", "ssh", "wsus", "icmp")
HOSTS_PER_SEGMENT = 4  # named terminals per client segment (the rest of it stays unnamed)
SERVERS_PER_TIER = 24  # named servers in each farm


def _client_net(second: int, seg: int) -> str:
    return f"10.{second + (seg + 8) // 256}.{(seg + 8) % 256}"


def generate(n: int, seed: int = 11, town: int | None = None) -> dict[str, Any]:
    """A town whose three firewalls carry n permits in all (see the module docstring).

    `town`: size the address plan for this many permits instead of n.
    """
    rng = random.Random(seed)
    plan = town or n
    segments_of = {p: max(4, plan // per) for p, _, _, per in TIERS}
    second_of = {p: second for p, _, second, _ in TIERS}
    customs = [f"app-{i:04d}" for i in range(max(20, n // 40))]
    services: dict[str, Any] = {}
    for i, name in enumerate(customs):
        proto = "udp" if i % 7 == 3 else "tcp"
        services[name] = {proto: [10000 + i]}
    zones: dict[str, Any] = {
        "lgwan": {"tier": "lgwan-network", "subnets": ["198.18.0.0/16"]},
        "sec-cloud": {"tier": "security-cloud", "subnets": ["192.0.2.0/24"]},
        "net": {"tier": "public-internet", "subnets": ["203.0.113.0/24"]},
    }
    nodes: dict[str, Any] = {}
    servers: dict[str, list[str]] = {}
    for prefix, tier, second, _ in TIERS:
        segments = segments_of[prefix]
        zones[f"{prefix}-core"] = {"tier": tier, "subnets": [f"10.{second}.0.0/22"]}
        zones[f"{prefix}-client"] = {
            "tier": tier,
            "subnets": [f"{_client_net(second, s)}.0/24" for s in range(segments)],
        }
        zones[f"{prefix}-srv"] = {"tier": tier, "subnets": [f"10.{second}.4.0/22"]}
        for s in range(segments):
            net = _client_net(second, s)
            nodes[f"{prefix}-sw-{s:02d}"] = {
                "role": "l3-switch",
                "ip": [f"{net}.1", f"10.{second}.{(s + 10) // 256}.{(s + 10) % 256}"],
            }
            for h in range(HOSTS_PER_SEGMENT):
                spec: dict[str, Any] = {"role": "terminal", "ip": f"{net}.{h + 11}"}
                if prefix == "mn":
                    spec.update(usb_block=True, mfa=True)
                nodes[f"{prefix}-t-{s:02d}-{h}"] = spec
        servers[prefix] = []
        for i in range(SERVERS_PER_TIER):
            name = f"{prefix}-srv-{i:02d}"
            nodes[name] = {"role": "server", "ip": f"10.{second}.{4 + i // 8}.{10 + i % 8}"}
            servers[prefix].append(name)
    nodes.update(
        {
            "inet-sbc-01": {
                "role": "screen-transfer",
                "ip": "10.128.7.11",
                "clipboard": False,
                "drive_redirect": False,
                "printer_redirect": False,
            },
            "inet-mailsan": {
                "role": "mail-sanitizer",
                "ip": "10.128.7.26",
                "html_to_text": True,
                "attachments": "delete",
            },
            "lg-mail": {"role": "server", "ip": "10.64.7.25"},
            "lg-dns": {"role": "server", "ip": "10.64.7.53"},
            "sc-proxy": {"role": "cloud-proxy", "ip": "192.0.2.10"},
            "sc-relay": {"role": "mail-relay", "ip": "192.0.2.25"},
        }
    )
    permits: dict[str, list[dict[str, Any]]] = {"fw-core": [], "fw-lgwan": [], "fw-inet": []}

    def host(prefix: str, farm: bool = False) -> str:
        second = second_of[prefix]
        if farm:
            return f"10.{second}.{4 + rng.randrange(4)}.{rng.randrange(1, 255)}"
        net = _client_net(second, rng.randrange(segments_of[prefix]))
        return f"{net}.{rng.randrange(20, 255)}"

    def subnet(prefix: str) -> str:
        net = _client_net(second_of[prefix], rng.randrange(segments_of[prefix]))
        bits = rng.choice((24, 25, 26, 27, 28, 29))
        size = 1 << (32 - bits)
        return f"{net}.{rng.randrange(256 // size) * size}/{bits}"

    def endpoint(prefix: str, farm: bool = False) -> str:
        """A specific host (mostly), a subnet, or a named server."""
        roll = rng.random()
        if farm:
            return rng.choice(servers[prefix]) if roll < 0.3 else host(prefix, farm=True)
        if roll < 0.7:
            return host(prefix)
        return subnet(prefix)

    def lgwan_host() -> str:
        return f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def cloud_host() -> str:
        return f"192.0.2.{rng.randrange(2, 255)}"

    def internet_host() -> str:
        return f"{rng.choice((8, 23, 52, 104, 151))}.{rng.randrange(256)}.{rng.randrange(256)}.0/24"

    def service() -> str | list[str]:
        def one() -> str:
            return rng.choice(BUILTIN) if rng.random() < 0.4 else rng.choice(customs)

        roll = rng.random()
        if roll < 0.03:
            return "any"
        if roll < 0.78:
            return one()
        return sorted({one() for _ in range(rng.randint(2, 3))})

    # Planted mistakes (findings on every size) and the few broad permits.
    permits["fw-core"] += [
        {"id": "CORE-DNS", "from": "any", "to": "lg-dns", "service": "dns"},  # planted
        {"id": "CORE-WSUS", "from": "10.64.0.0/14", "to": "lg-srv-00", "service": "wsus"},
        {"id": "CORE-SBC", "from": "lg-client", "to": "inet-sbc-01", "service": ["rdp", "ica"]},
        {"id": "CORE-MAIL", "from": "inet-mailsan", "to": "lg-mail", "service": "smtp"},
        {"id": "CORE-WEB", "from": "lg-t-03-1", "to": "inet-srv", "service": "https"},  # planted
        {"id": "CORE-MN", "from": "mn-srv-01", "to": "lg-srv-02", "service": "ssh"},  # planted
    ]
    permits["fw-lgwan"] += [
        {"id": "LGW-ASP", "from": "lg-client", "to": "198.18.100.0/24", "service": "https"},
        {"id": "LGW-MAIL", "from": "lgwan", "to": "lg-mail", "service": "smtp"},
        {"id": "LGW-MID", "from": "mn-srv-00", "to": "198.18.200.10", "service": "https"},
    ]
    permits["fw-inet"] += [
        {"id": "INET-PROXY", "from": "inet-client", "to": "sc-proxy", "service": "http-proxy"},
        {"id": "INET-RELAY", "from": "sc-relay", "to": "inet-mailsan", "service": "smtp"},
        {"id": "INET-OUT", "from": "inet-t-01-2", "to": "any", "service": "https"},  # planted
        {"id": "INET-PUB", "from": "any", "to": "inet-srv-03", "service": "https"},  # planted
    ]
    channels = [
        {
            "id": "CH-MID",
            "from": "mn-srv-00",
            "to": "198.18.200.10",
            "service": "https",
            "reason": "中間サーバーへの副本登録",
            "expires": "2030-03-31",
        }
    ]
    # The ordinary rulebase: (firewall, weight, rule maker).
    kinds: list[tuple[str, float, Any]] = [
        ("fw-core", 0.22, lambda: (endpoint("lg"), endpoint("lg", farm=True))),
        ("fw-core", 0.12, lambda: (endpoint("mn"), endpoint("mn", farm=True))),
        ("fw-core", 0.10, lambda: (endpoint("inet"), endpoint("inet", farm=True))),
        ("fw-core", 0.04, lambda: (endpoint("lg", farm=True), endpoint("lg", farm=True))),
        ("fw-lgwan", 0.20, lambda: (endpoint("lg"), lgwan_host())),
        ("fw-lgwan", 0.06, lambda: (lgwan_host(), endpoint("lg", farm=True))),
        ("fw-inet", 0.14, lambda: (endpoint("inet"), cloud_host())),
        ("fw-inet", 0.06, lambda: (cloud_host(), endpoint("inet", farm=True))),
        ("fw-inet", 0.06, lambda: (cloud_host(), internet_host())),
    ]
    weights = [w for _, w, _ in kinds]
    counters = {fw: 0 for fw in permits}
    planted = sum(len(p) for p in permits.values())
    for _ in range(max(0, n - planted)):
        fw, _, make = rng.choices(kinds, weights)[0]
        src, dst = make()
        counters[fw] += 10
        tag = {"fw-core": "CORE", "fw-lgwan": "LGW", "fw-inet": "INET"}[fw]
        permits[fw].append(
            {"id": f"{tag}-{counters[fw]:06d}", "from": src, "to": dst, "service": service()}
        )
    # 特定通信: My Number servers to LGWAN-tier servers, each with its channel (a few).
    for i in range(4):
        src, dst = servers["mn"][2 + i], servers["lg"][4 + i]
        permits["fw-core"].append(
            {"id": f"CORE-TOKUTEI-{i}", "from": src, "to": dst, "service": "https"}
        )
        channels.append(
            {
                "id": f"CH-{i}",
                "from": src,
                "to": dst,
                "service": "https",
                "reason": "特定通信",
                "expires": "2030-03-31",
            }
        )
    nodes["fw-core"] = {
        "role": "firewall",
        "ip": [f"10.{s}.{a}" for _, _, s, _ in TIERS for a in ("0.1", "4.1")],
        "permit": permits["fw-core"],
    }
    nodes["fw-lgwan"] = {"role": "firewall", "ip": ["10.64.0.2", "198.18.0.1"]}
    nodes["fw-lgwan"]["permit"] = permits["fw-lgwan"]
    nodes["fw-inet"] = {"role": "firewall", "ip": ["10.128.0.2", "192.0.2.1", "203.0.113.1"]}
    nodes["fw-inet"]["permit"] = permits["fw-inet"]
    return {
        "segcheck": 1,
        "name": f"permit-scale-{n}",
        "profile": "alpha",
        "zones": zones,
        "services": services,
        "nodes": nodes,
        "channels": channels,
    }


def write(data: dict[str, Any], path: Path) -> None:
    """YAML as a person (or `segcheck import`) writes it, or JSON."""
    if path.suffix == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        with open(path, "w", encoding="utf-8") as f:
            yaml.dump(data, f, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


# Run the CLI from a small launcher so that peak RSS is the child's own (see topology_scale.py);
# it also reports the child's CPU seconds (user + system), which another developer's job on
# the same cores inflates much less than the wall time.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
cpu = usage.ru_utime + usage.ru_stime
os.write(2, b"\\nSEGCHECK-BENCH-MAXRSS-KB %d CPU-S %.3f\\n" % (usage.ru_maxrss, cpu))
sys.exit(os.waitstatus_to_exitcode(status))
"""

# In-process phases of one check, in a fresh interpreter that imports the working directory's
# segcheck: reading the topology, then the analysis (node and channel checks, paths), each in
# CPU seconds and wall seconds; the cyclic collector paused, as `segcheck check` pauses it.
_PHASES = """
import gc, json, sys, time
gc.disable()
from datetime import date
from segcheck.engine import _prepare, topology_findings
from segcheck import load_topology
out = {}
c, w = time.process_time(), time.perf_counter()
topo = load_topology(sys.argv[1])
out["load_cpu_s"], out["load_s"] = time.process_time() - c, time.perf_counter() - w
c, w = time.process_time(), time.perf_counter()
policy, addresses = _prepare(topo, date.fromisoformat(sys.argv[2]))
findings, _ = topology_findings(topo, policy, addresses)
out["analysis_cpu_s"], out["analysis_s"] = time.process_time() - c, time.perf_counter() - w
print(json.dumps(out))
"""


def run_check(path: Path, timeout: float) -> dict[str, Any]:
    """One whole CLI run: wall and CPU seconds, peak RSS MiB, exit status, findings.

    On a timeout: {"wall_s": None, "timeout": seconds}.
    """
    args = [sys.executable, "-m", "segcheck", "check", str(path), "--format", "json"]
    args += ["--today", TODAY.isoformat()]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: a timeout ends the check too
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"wall_s": None, "timeout": timeout}
    wall = time.perf_counter() - start
    rss = cpu = 0.0
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("SEGCHECK-BENCH-MAXRSS-KB "):
            fields = line.split()
            rss, cpu = int(fields[1]) / 1024, float(fields[3])
    findings = -1
    try:
        findings = len(json.loads(stdout)["findings"])
    except (ValueError, KeyError):
        pass
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_mb": rss,
        "rc": proc.returncode,
        "findings": findings,
    }


def run_phases(path: Path) -> dict[str, float]:
    """Load and analysis times of one check, in process (see _PHASES)."""
    proc = subprocess.run(
        [sys.executable, "-c", _PHASES, str(path), TODAY.isoformat()],
        capture_output=True,
        check=True,
    )
    phases: dict[str, float] = json.loads(proc.stdout)
    return phases


def calibrate() -> tuple[float, float]:
    """Wall and CPU seconds of a plain 10M-iteration Python loop (about 0.45 s on an idle
    core here): how much other jobs on the shared cores slow this run down."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - wall, time.process_time() - cpu


def _path(workdir: Path, n: int, town: int | None) -> Path:
    return workdir / (f"permits-{n}-town-{town}.yaml" if town else f"permits-{n}.yaml")


def measure(
    n: int, workdir: Path, runs: int, timeout: float, town: int | None, phases: bool
) -> dict[str, Any]:
    """Medians of `runs` whole-process checks of the n-permit town (stops at a timeout)."""
    path = _path(workdir, n, town)
    data = generate(n, town=town)
    write(data, path)
    row: dict[str, Any] = {
        "permits": sum(len(v.get("permit", ())) for v in data["nodes"].values()),
        "nodes": len(data["nodes"]),
        "services": len(data["services"]),
        "load": os.getloadavg()[0],
    }
    row["calib_s"], row["calib_cpu_s"] = calibrate()
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        one = run_check(path, timeout)
        if one["wall_s"] is None:
            row["timeout"] = timeout
            break
        walls.append(one["wall_s"])
        cpus.append(one["cpu_s"])
        row.update(rss_mb=max(row.get("rss_mb", 0.0), one["rss_mb"]), rc=one["rc"])
        row["findings"] = one["findings"]
    if walls:
        row.update(wall_s=statistics.median(walls), cpu_s=statistics.median(cpus))
        row.update(walls=walls, cpus=cpus)
    if phases and "timeout" not in row:
        samples = [run_phases(path) for _ in range(runs)]
        for key in samples[0]:
            row[key] = statistics.median(s[key] for s in samples)
    return row


def _growth(rows: list[dict[str, Any]], r: dict[str, Any], key: str) -> str:
    """The ratio per doubling of N against the previous row."""
    i = rows.index(r)
    if i == 0 or key not in r or key not in rows[i - 1]:
        return "–"
    prev = rows[i - 1]
    doublings = math.log2(r["permits"] / prev["permits"])
    return f"{(r[key] / prev[key]) ** (1 / doublings):.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown rows. Each "×" is the growth per doubling of N against the previous row:
    n log n is about 2.1 per doubling at these sizes, n² is 4."""
    out = [
        "| permits | nodes | custom services | load avg | calibration wall / CPU s "
        "| check wall s | × | check CPU s | × "
        "| peak RSS MiB | findings | load CPU s | analysis CPU s | × |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:

        def g(key: str, fmt: str = "{:.2f}", r: dict[str, Any] = r) -> str:
            return fmt.format(r[key]) if key in r else "–"

        wall = f"> {r['timeout']:.0f}" if "timeout" in r else g("wall_s")
        cells = [
            f"{r['permits']:,}",
            f"{r['nodes']:,}",
            str(r["services"]),
            f"{r['load']:.2f}",
            f"{g('calib_s')} / {g('calib_cpu_s')}",
            wall,
            _growth(rows, r, "wall_s"),
            g("cpu_s"),
            _growth(rows, r, "cpu_s"),
            g("rss_mb", "{:.0f}"),
            g("findings", "{}"),
            g("load_cpu_s"),
            g("analysis_cpu_s"),
            _growth(rows, r, "analysis_cpu_s"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--workdir", default="/tmp/segcheck-permit-scale")
    parser.add_argument("--generate-only", action="store_true", help="write the files and stop")
    parser.add_argument(
        "--phases", action="store_true", help="also time loading and analysis in process"
    )
    parser.add_argument(
        "--fixed-town",
        action="store_true",
        help=f"one address plan (sized for {FIXED_TOWN:,} permits) for every N",
    )
    args = parser.parse_args()
    town = FIXED_TOWN if args.fixed_town else None
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.generate_only:
        for n in sizes:
            write(generate(n, town=town), _path(workdir, n, town))
        return
    rows = []
    for n in sizes:
        row = measure(n, workdir, args.runs, args.timeout, town, args.phases)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if "timeout" in row:
            break  # larger sizes only take longer
    print(table(rows))


if __name__ == "__main__":
    main()
