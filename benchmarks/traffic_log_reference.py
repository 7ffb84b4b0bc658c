"""Traffic-log readers against a reference tool reading the same file, in the same run.

For each format, segcheck's reader (`segcheck.capture.read_capture` in a fresh process: lines,
parsing, accumulation into flows) and, right after it, a reference that only tokenises the
same records and prints the fields segcheck reads (no validation, no flows):

- FortiGate key=value and PAN-OS CSV: `mawk` splitting each line into its pairs / columns;
- Suricata EVE: `jq -c 'select(.event_type=="flow") | [fields]'`;
- nfdump 1.7.1 CSV: `mawk -F,` printing the columns read;
- an nfcapd file (made by `nfpcapd -r` from a generated pcap): `TZ=UTC nfdump -r F -o csv`
  against segcheck reading the nfcapd file itself (which runs `nfdump -o json` and parses it).

Times are the CPU seconds (user + system, the child's children included) and the wall time of
each process, median of --runs, the load average before each pair. Quote the ratios: the
machine is shared.

    python benchmarks/traffic_log_reference.py [--records 1000000] [--runs 3] [--only fmt]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_traffic_logs import FORMATS  # noqa: E402

FORTIGATE_AWK = (
    '{for(i=1;i<=NF;i++){p=index($i,"=");if(p){k=substr($i,1,p-1);v=substr($i,p+1);'
    'gsub(/"/,"",v);f[k]=v}} print f["srcip"],f["dstip"],f["proto"],f["srcport"],'
    'f["dstport"],f["action"],f["policyid"],f["vd"],f["sessionid"],f["sentbyte"],'
    'f["rcvdbyte"],f["sentpkt"],f["rcvdpkt"],f["duration"],f["eventtime"]; delete f}'
)
PANOS_AWK = '$4=="TRAFFIC"{print $8,$9,$12,$16,$23,$25,$26,$30,$31,$32,$34,$35,$37,$46,$103}'
NFDUMP_AWK = "NR>1{print $1,$2,$4,$5,$6,$7,$8,$9,$12,$13,$14,$15}"
EVE_JQ = (
    'select(.event_type=="flow") | [.src_ip,.dest_ip,.proto,.src_port,.dest_port,.flow_id,'
    ".flow.pkts_toserver,.flow.pkts_toclient,.flow.bytes_toserver,.flow.bytes_toclient,"
    ".flow.start,.flow.end,.tcp.tcp_flags_ts,.tcp.tcp_flags_tc]"
)


def reference(name: str, path: Path) -> list[str]:
    if name == "fortigate":
        return ["mawk", FORTIGATE_AWK, str(path)]
    if name == "panos":
        return ["mawk", "-F,", PANOS_AWK, str(path)]
    if name == "suricata-eve":
        return ["jq", "-c", EVE_JQ, str(path)]
    if name == "nfdump-csv":
        return ["mawk", "-F,", NFDUMP_AWK, str(path)]
    return ["nfdump", "-r", str(path), "-o", "csv"]  # nfcapd


def segcheck_cmd(path: Path) -> list[str]:
    code = (
        "import sys; from segcheck.capture import read_capture; r = read_capture(sys.argv[1]); "
        "print(r.info.packets_read, r.info.packets_skipped, len(r.flows))"
    )
    return [sys.executable, "-c", code, str(path)]


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and its children, stdout's last line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(
        cmd, capture_output=True, env={**os.environ, "TZ": "UTC"},
        cwd=ROOT, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.rstrip(b"\n").rsplit(b"\n", 1)
    return wall, cpu, lines[-1].decode("utf-8", "replace")[:60]


def make_nfcapd(folder: Path, records: int) -> Path | None:
    """An nfcapd file of about `records` one-way records, built by nfpcapd from a pcap."""
    nfpcapd = shutil.which("nfpcapd")
    if nfpcapd is None or shutil.which("nfdump") is None:
        return None
    from capture_speed import make_pcap

    pcap = folder / "flows.pcap"
    make_pcap(pcap, records * 2, records // 2)
    out = folder / "nfcapd"
    out.mkdir(exist_ok=True)
    subprocess.run([nfpcapd, "-r", str(pcap), "-w", str(out)], check=True, capture_output=True)
    pcap.unlink()
    files = sorted(p for p in out.iterdir() if p.name.startswith("nfcapd."))
    return max(files, key=lambda p: p.stat().st_size) if files else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", action="append", choices=[*sorted(FORMATS), "nfcapd"])
    args = ap.parse_args()
    print(
        "| format | MB | records | segcheck CPU s | ref CPU s | CPU ratio | segcheck wall s "
        "| ref wall s | load | reference |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in [*FORMATS, "nfcapd"]:
            if args.only and name not in args.only:
                continue
            if name == "nfcapd":
                made = make_nfcapd(folder, args.records)
                if made is None:
                    print("| nfcapd | nfpcapd/nfdump not installed |")
                    continue
                path = made
            else:
                path = folder / f"{name}.log"
                with path.open("w", encoding="utf-8") as f:
                    for line in FORMATS[name](args.records, random.Random(16)):
                        f.write(line + "\n")
            ours, refs, loads = [], [], []
            said = ""
            for _ in range(args.runs):
                loads.append(os.getloadavg()[0])
                wall, cpu, said = timed(segcheck_cmd(path))
                ours.append((wall, cpu))
                refs.append(timed(reference(name, path))[:2])
            s_wall = statistics.median(w for w, _ in ours)
            s_cpu = statistics.median(c for _, c in ours)
            r_wall = statistics.median(w for w, _ in refs)
            r_cpu = statistics.median(c for _, c in refs)
            read = said.split()[0] if said else "?"
            tool = reference(name, path)[0]
            print(
                f"| {name} | {path.stat().st_size / 1e6:.0f} | {read} | {s_cpu:.2f} | "
                f"{r_cpu:.2f} | {s_cpu / r_cpu:.2f}x | {s_wall:.2f} | {r_wall:.2f} | "
                f"{statistics.median(loads):.1f} | {tool} |",
                flush=True,
            )
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
