"""Scale benchmark for `segcheck check`: generated α-model topologies of 1k to 1M nodes.

Each topology is realistic in shape: per tier, segments of 50-240 hosts, each behind an
l3-switch joined to the tier's core segment; firewalls between the tiers with a handful of
permits; gateways (screen transfer, mail sanitizer, security cloud); channels for the My Number
tier; and planted violations (a leftover router between an LGWAN and an Internet segment, a
too-wide permit out of the My Number tier, an expired channel, an ISP breakout).

For each size: load time and analysis time (library, in this process), and the whole
`python -m segcheck check FILE --format json` as a subprocess (wall time, peak RSS); for YAML
sizes, the plain `yaml.load(f, Loader=yaml.CSafeLoader)` of the same file for comparison.

    python benchmarks/topology_scale.py [--sizes 1000,10000,100000,1000000] [--no-append]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## Topology scale"
TODAY = date(2026, 6, 1)

TIERS = (("mn", "mynumber", 0, 0.15), ("lg", "lgwan", 64, 0.5), ("inet", "internet", 128, 0.35))


SHAPES = {
    # A real municipality: a handful of zones per tier (本庁, 支所, 出先機関, ...), each holding
    # many segments. The number of findings stays small whatever the size.
    "few-zones": 4,
    # A stress shape: one zone per 50 segments, so zones grow with n and the planted leftover
    # router gives one finding per (LGWAN zone, Internet zone) pair: findings grow with n².
    "many-zones": 0,
}
SEGMENTS_PER_ZONE = 50


def generate(n: int, seed: int = 1, shape: str = "few-zones") -> dict[str, Any]:
    """A topology of about n nodes (hosts, switches, firewalls, gateways), see SHAPES."""
    zones_per_tier = SHAPES[shape]
    rng = random.Random(seed)
    zones: dict[str, Any] = {
        "lgwan": {"tier": "lgwan-network", "subnets": ["198.18.0.0/16"]},
        "sec-cloud": {"tier": "security-cloud", "subnets": ["192.0.2.0/24"]},
        "net": {"tier": "public-internet", "subnets": ["203.0.113.0/24"]},
    }
    nodes: dict[str, Any] = {}
    core_ip = {}
    for prefix, tier, base, share in TIERS:
        core = f"172.{16 + base // 64}.0.0/16"
        zones[f"{prefix}-core"] = {"tier": tier, "subnets": [core]}
        core_ip[prefix] = 16 + base // 64
        budget = int(n * share)
        seg = 0
        zone_subnets: list[str] = []
        while budget > 0:
            hosts = min(budget, rng.randint(50, 240))
            budget -= hosts + 1
            second, third = base + seg // 256, seg % 256
            net = f"10.{second}.{third}"
            zone_subnets.append(f"{net}.0/24")
            sw_core = f"172.{core_ip[prefix]}.{(seg + 1) // 256}.{(seg + 1) % 256}"
            nodes[f"{prefix}-sw-{seg:05d}"] = {"role": "l3-switch", "ip": [f"{net}.1", sw_core]}
            for h in range(hosts):
                name = f"{prefix}-h-{seg:05d}-{h:03d}"
                spec: dict[str, Any] = {"role": "terminal", "ip": f"{net}.{h + 10}"}
                if prefix == "mn":
                    spec.update(usb_block=True, mfa=True)
                nodes[name] = spec
            seg += 1
        per_zone = SEGMENTS_PER_ZONE
        if zones_per_tier:
            per_zone = max(1, -(-len(zone_subnets) // zones_per_tier))
        for zone_index, start in enumerate(range(0, len(zone_subnets), per_zone)):
            chunk = zone_subnets[start : start + per_zone]
            zones[f"{prefix}-{zone_index:03d}"] = {"tier": tier, "subnets": chunk}
    # Servers and gateways on the core segments.
    nodes.update(
        {
            "mn-atena": {"role": "server", "ip": "172.16.200.20"},
            "mn-appmgmt": {"role": "server", "ip": "172.16.200.30"},
            "lg-mail": {"role": "server", "ip": "172.17.200.25"},
            "lg-link": {"role": "server", "ip": "172.17.200.50"},
            "inet-sbc-01": {
                "role": "screen-transfer",
                "ip": "172.18.200.11",
                "clipboard": False,
                "drive_redirect": False,
                "printer_redirect": False,
            },
            "inet-mailsan": {
                "role": "mail-sanitizer",
                "ip": "172.18.200.26",
                "html_to_text": True,
                "attachments": "delete",
            },
            "inet-mail": {"role": "server", "ip": "172.18.200.25"},
            "sc-proxy": {"role": "cloud-proxy", "ip": "192.0.2.10"},
            "sc-relay": {"role": "mail-relay", "ip": "192.0.2.25"},
            "fw-mn-lg": {
                "role": "firewall",
                "ip": ["172.16.255.1", "172.17.255.1"],
                "permit": [
                    {
                        "id": "MNLG-10",
                        "from": "mn-atena",
                        "to": "198.18.200.10",
                        "service": "https",
                    },
                    {"id": "MNLG-20", "from": "mn-appmgmt", "to": "lg-link", "service": "https"},
                    # planted: too wide, out of one My Number zone
                    {"id": "MNLG-99", "from": "mn-000", "to": "lg-000", "service": "any"},
                ],
            },
            "lgwan-rtr": {"role": "router", "ip": ["172.17.255.2", "198.18.0.1"]},
            "fw-lg-inet": {
                "role": "firewall",
                "ip": ["172.17.255.3", "172.18.255.3"],
                "permit": [
                    {"id": "LI-10", "from": "any", "to": "inet-sbc-01", "service": ["rdp", "ica"]},
                    {"id": "LI-20", "from": "inet-mailsan", "to": "lg-mail", "service": "smtp"},
                    {"id": "LI-30", "from": "lg-mail", "to": "sc-relay", "service": "smtp"},
                ],
            },
            "sc-rtr": {"role": "router", "ip": ["172.18.255.4", "192.0.2.1"]},
            "fw-sc-out": {
                "role": "firewall",
                "ip": ["192.0.2.254", "203.0.113.1"],
                "permit": [
                    {"id": "SC-10", "from": "sc-proxy", "to": "any", "service": ["http", "https"]},
                    {"id": "SC-20", "from": "sc-relay", "to": "any", "service": "smtp"},
                    {"id": "SC-30", "from": "any", "to": "sc-relay", "service": "smtp"},
                ],
            },
            # planted: a leftover router between an LGWAN and an Internet segment
            "old-rtr": {"role": "router", "ip": ["10.64.0.254", "10.128.0.254"]},
            # planted: an ISP breakout on an Internet-tier segment
            "isp-rtr": {"role": "router", "ip": ["10.128.1.253", "203.0.113.254"]},
        }
    )
    channels = [
        {
            "id": "CH-1",
            "from": "mn-atena",
            "to": "198.18.200.10",
            "service": "https",
            "reason": "中間サーバー",
            "expires": "2030-03-31",
        },
        # planted: expired
        {
            "id": "CH-2",
            "from": "mn-appmgmt",
            "to": "lg-link",
            "service": "https",
            "reason": "申請管理",
            "expires": "2020-03-31",
        },
    ]
    return {
        "segcheck": 1,
        "name": f"scale-{n}-{shape}",
        "profile": "alpha",
        "zones": zones,
        "nodes": nodes,
        "channels": channels,
    }


def _write(data: dict[str, Any], path: Path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        with open(path, "w", encoding="utf-8") as f:
            yaml.dump(data, f, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


# Peak RSS of a child as Linux reports it includes the parent's high-water mark when the child
# is forked from a big process (the maxrss of the image before exec is kept), so after the 1M
# in-process run every later CLI row read ~1.8 GB. The CLI therefore runs under this small
# launcher, which forks it from a ~10 MB interpreter and reports its child's own peak.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
os.write(2, b"\\nSEGCHECK-BENCH-MAXRSS-KB %d\\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _subprocess_check(path: Path) -> tuple[float, float, int, int]:
    """Wall seconds, peak RSS (MiB), exit status and number of findings of the CLI run."""
    start = time.perf_counter()
    args = [sys.executable, "-m", "segcheck", "check", str(path), "--format", "json"]
    args += ["--today", TODAY.isoformat()]
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *args], capture_output=True, check=False
    )
    wall = time.perf_counter() - start
    rss = 0.0
    for line in proc.stderr.decode(errors="replace").splitlines():
        if line.startswith("SEGCHECK-BENCH-MAXRSS-KB "):
            rss = int(line.split()[1]) / 1024
    findings = -1
    try:
        findings = len(json.loads(proc.stdout)["findings"])
    except (ValueError, KeyError):
        pass
    return wall, rss, proc.returncode, findings


def measure(n: int, workdir: Path, *, shape: str, yaml_too: bool) -> dict[str, Any]:
    from segcheck import load_topology
    from segcheck.engine import _prepare, topology_findings
    from segcheck.gcpause import allow_gc_pauses

    data = generate(n, shape=shape)
    row: dict[str, Any] = {"size": n, "shape": shape, "nodes": len(data["nodes"])}
    row["zones"] = len(data["zones"])
    row["load"] = os.getloadavg()[0]
    json_path = workdir / f"scale-{n}-{shape}.json"
    _write(data, json_path)
    if yaml_too:
        yaml_path = workdir / f"scale-{n}-{shape}.yaml"
        _write(data, yaml_path)
    del data
    gc.collect()
    start = time.perf_counter()
    topo = load_topology(json_path)
    row["load_json_s"] = time.perf_counter() - start
    start = time.perf_counter()
    with allow_gc_pauses():  # the collector paused, as the CLI pauses it (analyse_paths)
        policy, addresses = _prepare(topo, TODAY)
        findings, excepted = topology_findings(topo, policy, addresses)
    row["analysis_s"] = time.perf_counter() - start
    row["findings"] = len(findings)
    del topo, policy, addresses, findings, excepted
    gc.collect()
    row["cli_json_s"], row["cli_json_rss_mb"], row["rc"], _ = _subprocess_check(json_path)
    if yaml_too:
        start = time.perf_counter()
        with open(yaml_path, encoding="utf-8") as f:
            yaml.load(f, Loader=yaml.CSafeLoader)
        row["libyaml_parse_s"] = time.perf_counter() - start
        gc.collect()
        row["cli_yaml_s"], row["cli_yaml_rss_mb"], _, _ = _subprocess_check(yaml_path)
        row["yaml_ratio"] = row["cli_yaml_s"] / row["libyaml_parse_s"]
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| shape | nodes | zones | load avg | load JSON s | analysis s | findings | CLI JSON s "
        "| CLI JSON peak MiB | libyaml parse s | CLI YAML s | CLI YAML / parse |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in rows:

        def g(key: str, fmt: str = "{:.2f}", r: dict[str, Any] = r) -> str:
            return fmt.format(r[key]) if key in r else "–"

        lines.append(
            f"| {r['shape']} | {r['nodes']:,} | {r['zones']} | {g('load', '{:.2f}')} "
            f"| {g('load_json_s')} | {g('analysis_s')} | {r['findings']} "
            f"| {g('cli_json_s')} | {g('cli_json_rss_mb', '{:.0f}')} | {g('libyaml_parse_s')} "
            f"| {g('cli_yaml_s')} | {g('yaml_ratio', '{:.2f}×')} |"
        )
    return head + "\n".join(lines) + "\n" + _growth(rows)


def _growth(rows: list[dict[str, Any]]) -> str:
    """Analysis time ratio between the smallest and largest size >= 10k, against n log n."""
    out = []
    for shape in SHAPES:
        sized = sorted(
            (r["nodes"], r["analysis_s"])
            for r in rows
            if r["shape"] == shape and r["nodes"] >= 10_000
        )
        if len(sized) < 2:
            continue
        (n0, t0), (n1, t1) = sized[0], sized[-1]
        nlogn = (n1 * math.log(n1)) / (n0 * math.log(n0))
        out.append(
            f"- {shape}: analysis {n0:,} → {n1:,} nodes grew {t1 / t0:.0f}× "
            f"(n log n: {nlogn:.0f}×, n: {n1 / n0:.0f}×)"
        )
    return "\n" + "\n".join(out) + "\n" if out else ""


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}){mem}, Python {platform.python_version()}, "
        f"PyYAML {yaml.__version__} with libyaml {'yes' if hasattr(yaml, 'CSafeLoader') else 'no'}"
    )


def _append(rows: list[dict[str, Any]], notes: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    body = (
        f"{SECTION}\n\n`python benchmarks/topology_scale.py` on {date.today().isoformat()}, "
        f"{_machine()}.\n\n{_table(rows)}\n{notes}\n"
    )
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + ("" if nxt < 0 else text[nxt + 1 :])
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text, encoding="utf-8")


NOTES = """\
Columns: *load JSON* and *analysis* are library timings in one process (`load_topology`, then
node/channel checks plus `analyse_paths`); *CLI* is the whole `python -m segcheck check FILE
--format json` as a subprocess (interpreter start, load, analysis, JSON output), peak RSS from
`wait4` in a small launcher process (a child forked from the big benchmark process inherits its
high-water mark); *libyaml parse* is a bare `yaml.load(f, Loader=yaml.CSafeLoader)` of the same YAML file.
Generated with `--today 2026-06-01`; each topology has ~150-host segments behind l3-switches,
three firewalls, gateways and four planted violations. Shapes: *few-zones* puts each tier's
segments into 4 zones (a real municipality: a handful of zones per tier); *many-zones* makes
one zone per 50 segments, so zones grow with n and the planted leftover router gives a finding
per (LGWAN zone, Internet zone) pair: findings grow with n². *load avg* is the 1-minute load average when the row started.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--workdir", default="/tmp/segcheck-scale")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for shape in args.shapes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            row = measure(size, workdir, shape=shape, yaml_too=size <= 100_000)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(_table(rows))
    if not args.no_append:
        _append(rows, NOTES)


if __name__ == "__main__":
    main()
