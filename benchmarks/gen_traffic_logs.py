"""Generate traffic logs of N records per format and time segcheck's reader on each.

Formats: a FortiGate traffic log (FortiOS 7 key=value, eventtime and tz), a PAN-OS 10 traffic
CSV (115 columns, High Resolution Timestamp), Suricata EVE (`flow` events with TCP flags, and
one `dns` event in ten, as a real eve.json mixes them), and nfdump 1.7.1 CSV (one-way NetFlow
records, two per connection, joined by the reader). Addresses are drawn from a few hundred
hosts of four tiers, so the flow count is realistic (most records are distinct connections).

    python benchmarks/gen_traffic_logs.py [--records 1000000] [--runs 1] [--keep DIR]

Prints, per format: file size, records read, flows, and records per second of
`segcheck.capture.read_capture` (the whole reader: lines, parsing, accumulation into flows).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = 1775001600  # 2026-04-01T00:00:00Z


def _hosts(rng: random.Random) -> list[str]:
    return [f"10.{tier}.{rng.randrange(10, 40)}.{rng.randrange(2, 250)}" for tier in (1, 2, 3)
            for _ in range(120)] + [f"203.0.113.{i}" for i in range(1, 60)]  # fmt: skip


PORTS = (443, 80, 25, 53, 445, 3389, 8080, 22, 123, 1494)


def fortigate(n: int, rng: random.Random) -> Iterator[str]:
    hosts = _hosts(rng)
    for i in range(n):
        src, dst = rng.choice(hosts), rng.choice(hosts)
        port = rng.choice(PORTS)
        proto = 17 if port in (53, 123) else 6
        deny = rng.random() < 0.2
        t = T0 + i // 20
        when = datetime.fromtimestamp(t, UTC)
        yield (
            f'date={when:%Y-%m-%d} time={when:%H:%M:%S} devname="fgt-core" '
            f'devid="FG100F0000000001" logid="0000000013" type="traffic" subtype="forward" '
            f'level="notice" vd="root" eventtime={t}123456789 tz="+0000" srcip={src} '
            f'srcport={1024 + i % 60000} srcintf="port1" srcintfrole="lan" dstip={dst} '
            f'dstport={port} dstintf="port2" dstintfrole="wan" srccountry="Reserved" '
            f'dstcountry="Reserved" sessionid={i + 1000} proto={proto} '
            f'action="{"deny" if deny else "close"}" policyid={0 if deny else 1 + i % 40} '
            f'policytype="policy" poluuid="3888b41a-5c88-51e9-cb32-1c32c66b4edf" '
            f'service="tcp/{port}" trandisp="noop" duration={i % 30} sentbyte={i % 5000} '
            f"rcvdbyte={0 if deny else i % 9000} sentpkt={1 + i % 9} rcvdpkt={0 if deny else i % 7} "
            f'appcat="unscanned"'
        )


def panos(n: int, rng: random.Random) -> Iterator[str]:
    hosts = _hosts(rng)
    for i in range(n):
        src, dst = rng.choice(hosts), rng.choice(hosts)
        port = rng.choice(PORTS)
        deny = rng.random() < 0.2
        t = datetime.fromtimestamp(T0 + i // 20, UTC)
        gen = f"{t:%Y/%m/%d %H:%M:%S}"
        c = [""] * 115
        c[0:7] = ["1", gen, "012501002341", "TRAFFIC", "deny" if deny else "end", "2561", gen]
        c[7], c[8], c[11], c[14], c[15] = src, dst, "R-" + str(i % 40), "ssl", "vsys1"
        c[16], c[17], c[18], c[19], c[20] = "trust", "untrust", "ethernet1/1", "ethernet1/2", "fwd"
        c[21], c[22], c[23], c[24], c[25] = gen, str(i + 1), "1", str(1024 + i % 60000), str(port)
        c[26], c[27], c[28] = "0", "0", "0x400000"
        c[29], c[30] = "udp" if port in (53, 123) else "tcp", "deny" if deny else "allow"
        c[31], c[32], c[33], c[34] = str(i % 9000), str(i % 5000), str(0 if deny else i % 4000), "9"
        c[35], c[36], c[37], c[39] = gen, str(i % 30), "any", str(7253419119627122716 + i)
        c[40], c[41], c[42] = "0x8000000000000000", "10.0.0.0-10.255.255.255", "Japan"
        c[44], c[45], c[46] = "5", str(0 if deny else 4), "policy-deny" if deny else "tcp-fin"
        c[52], c[53], c[65] = "pa-core", "from-policy", "90431d13-81da-4129-8bc5-ce968fa06b76"
        c[102] = f"{t:%Y-%m-%dT%H:%M:%S}.443+00:00"
        yield ",".join(c)


def eve(n: int, rng: random.Random) -> Iterator[str]:
    hosts = _hosts(rng)
    for i in range(n):
        src, dst = rng.choice(hosts), rng.choice(hosts)
        t = datetime.fromtimestamp(T0 + i // 20, UTC)
        ts = f"{t:%Y-%m-%dT%H:%M:%S}.000000+0000"
        if i % 10 == 9:
            yield (
                f'{{"timestamp":"{ts}","flow_id":{i},"event_type":"dns","src_ip":"{src}",'
                f'"src_port":5353,"dest_ip":"{dst}","dest_port":53,"proto":"UDP",'
                f'"dns":{{"type":"query","id":1,"rrname":"example.jp","rrtype":"A","tx_id":0}}}}'
            )
            continue
        port = rng.choice(PORTS)
        answered = rng.random() < 0.8
        yield (
            f'{{"timestamp":"{ts}","flow_id":{i},"event_type":"flow","src_ip":"{src}",'
            f'"src_port":{1024 + i % 60000},"dest_ip":"{dst}","dest_port":{port},"proto":"TCP",'
            f'"app_proto":"tls","flow":{{"pkts_toserver":5,"pkts_toclient":{4 if answered else 0},'
            f'"bytes_toserver":600,"bytes_toclient":{4000 if answered else 0},"start":"{ts}",'
            f'"end":"{ts}","age":0,"state":"closed","reason":"timeout","alerted":false}},'
            f'"tcp":{{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"{"1b" if answered else "00"}",'
            f'"syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}}}'
        )


def nfdump_csv(n: int, rng: random.Random) -> Iterator[str]:
    hosts = _hosts(rng)
    yield (
        "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,"
        "dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,"
        "mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
    )
    tail = (
        ",0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,"
        "00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,"
        "0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-04-01 00:00:00.000"
    )
    for i in range(n // 2):
        src, dst = rng.choice(hosts), rng.choice(hosts)
        port, sport = rng.choice(PORTS), 1024 + i % 60000
        t = datetime.fromtimestamp(T0 + i // 10, UTC)
        ts = f"{t:%Y-%m-%d %H:%M:%S}"
        yield f"{ts},{ts},0.004,{src},{dst},{sport},{port},TCP,...AP.SF,0,0,5,600,0,0{tail}"
        yield f"{ts},{ts},0.004,{dst},{src},{port},{sport},TCP,...AP.SF,0,0,4,4000,0,0{tail}"


FORMATS: dict[str, Callable[[int, random.Random], Iterator[str]]] = {
    "fortigate": fortigate,
    "panos": panos,
    "suricata-eve": eve,
    "nfdump-csv": nfdump_csv,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    parser.add_argument("--only", choices=sorted(FORMATS), action="append")
    args = parser.parse_args()
    from segcheck.capture import read_capture

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, gen in FORMATS.items():
            if args.only and name not in args.only:
                continue
            path = folder / f"{name}.log"
            with path.open("w", encoding="utf-8") as f:
                for line in gen(args.records, random.Random(16)):
                    f.write(line + "\n")
            times, cpus = [], []
            result = None
            for _ in range(args.runs):
                t, c = time.perf_counter(), time.process_time()
                result = read_capture(path)
                times.append(time.perf_counter() - t)
                cpus.append(time.process_time() - c)
            assert result is not None
            wall, cpu = statistics.median(times), statistics.median(cpus)
            info = result.info
            print(
                f"{name:13} {path.stat().st_size / 1e6:7.1f} MB  {info.packets_read:>9} records"
                f"  {info.packets_skipped} unreadable  {len(result.flows):>8} flows  "
                f"wall {wall:6.1f} s ({info.packets_read / wall:>7,.0f} records/s)  "
                f"CPU {cpu:6.1f} s ({info.packets_read / cpu:>7,.0f} records/s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
