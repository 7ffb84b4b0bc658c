"""The bulk shortcuts of a scan give exactly what the one-by-one code gives.

Judging per class of equivalent addresses, ISO times in bulk, the column-wise CSV renderer.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import itertools
import random
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from segcheck import load_topology
from segcheck.addressing import AddressMap
from segcheck.engine import scan
from segcheck.flowjudge import FlowJudge, iso_time, iso_times
from segcheck.policy import Policy
from segcheck.report import csv as csv_format

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = [
    ROOT / "tests" / "data" / "topologies" / "judge-fixture.yaml",
    *sorted((ROOT / "topologies").glob("*.yaml")),
]


@dataclass(frozen=True)
class _Flow:
    src_ip: str
    dst_ip: str
    proto: str
    src_port: int
    dst_port: int
    vlan: int | None = None
    packets: int = 4
    bytes: int = 400
    first_seen: float = 1_700_000_000.0
    first_frame: int = 1
    state: str = "established"
    input: str = "cap.pcap"
    inner_vlan: int | None = None


def _addresses(path: Path) -> list[str]:
    """Node addresses, the edges of every zone and channel range, and a few outsiders."""
    topo = load_topology(path)
    found: set[str] = {"8.8.8.8", "127.0.0.1", "172.31.9.9", "100.64.0.1", "2001:db8::1"}
    found.update(str(n.ip) for n in topo.nodes.values() if getattr(n, "ip", None))
    nets = [s for z in topo.zones.values() for s in z.subnets]
    nets += [r for c in topo.channels for sel in (c.source, c.destination) for r in sel.ranges]
    for net in nets:
        text = str(net)
        try:
            n = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        found.update(str(a) for a in (n[0], n[-1], n[min(1, n.num_addresses - 1)]))
    return sorted(found)


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_class_keys_judge_like_per_address(path: Path) -> None:
    topo = load_topology(path)
    policy = Policy(topo, date(2026, 11, 22))
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    ips = _addresses(path)
    ports = [("tcp", p) for p in (25, 443, 3389, 9000)] + [("udp", 53)]
    flows = [
        _Flow(a, b, proto, 40000, port, state=random.Random(i).choice(["established", "attempted"]))
        for i, (a, b, (proto, port)) in enumerate(itertools.product(ips, ips, ports))
        if a != b
    ]
    bulk = FlowJudge(policy, addresses)
    single = FlowJudge(policy, addresses)
    single._by_class = False  # the verdict cache keyed by address text, as before
    assert list(bulk.judge_flows(flows)) == list(single.judge_flows(flows))
    assert len(bulk._verdicts) <= len(single._verdicts)


def test_iso_times_match_iso_time() -> None:
    rng = random.Random(7)
    values = [1_700_000_000 + i * 7e-6 for i in range(2000)]
    values += [rng.uniform(0, 2**35) for _ in range(5000)]
    values += [k + j / 1e6 + 5e-7 for k in (0, 1, 1_700_000_000) for j in range(0, 10**6, 997)]
    values += [0.0, -0.0, 0.9999995, 5e-7, 1.5e-6, 2.5e-6, 2**35 - 1e-3, 2**35, 1e10, 3, True]
    assert iso_times(values) == [iso_time(v) for v in values]
    assert iso_times(values[:10]) == [iso_time(v) for v in values[:10]]


def _csv_reference(report: object) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_format.COLUMNS)
    found = {f.flow: f for f in report.findings if f.flow is not None}  # type: ignore[attr-defined]
    for row in report.flows:  # type: ignore[attr-defined]
        cells = csv_format._row(row, found.get(row.flow))
        writer.writerow([csv_format.safe_cell(v) for v in cells])
    return out.getvalue()


def test_csv_columns_match_csv_writer() -> None:
    report = scan(ROOT / "topologies" / "alpha.yaml", [ROOT / "captures" / "alpha" / "alpha.pcap"])
    assert report.flows
    assert csv_format.render(report) == _csv_reference(report)
    rng = random.Random(3)
    chars = ["a", ",", '"', "\r", "\n", "\t", " ", "=", "-", "+", "@", "\x00", "é", "'", "\u2028"]
    r0 = report.flows[0]
    for _ in range(500):
        cells = ["".join(rng.choice(chars) for _ in range(rng.randint(0, 4))) for _ in range(3)]
        flow = replace(r0.flow, vlan=rng.choice([None, 0, 7, -1]), src_ip=cells[2])
        rows = (
            replace(r0, src=cells[0], service=cells[1], rule=cells[2] or None, flow=flow),
            r0,
            replace(r0, src=rng.choice([3.5, True, -2, "x"])),  # type: ignore[arg-type]
        )
        odd = replace(report, flows=rows)
        assert csv_format.render(odd) == _csv_reference(odd)
    empty = replace(report, flows=())
    assert csv_format.render(empty) == _csv_reference(empty)


def test_json_writer_matches_json_dumps() -> None:
    import enum
    import json

    from segcheck.report import json as json_format

    class Small(enum.IntEnum):
        A = 1

    class Text(str):
        pass

    rng = random.Random(5)
    leaves = [None, True, False, 0, -5, 10**20, 1.5, float("nan"), -0.0, "", "x", Small.A]
    leaves += ['a"\\\n\u2028é日\x00\x7f', Text("s")]
    keys = ["k", 'a"b', "é", "", 1, None, True, 2.5, "z", Text("k")]

    def value(depth: int) -> object:
        r = rng.random()
        if depth > 6 or r < 0.4:
            return rng.choice(leaves)
        if r < 0.7:
            items = [value(depth + 1) for _ in range(rng.randint(0, 3))]
            return items if rng.random() < 0.7 else tuple(items)
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}

    for _ in range(3000):
        v = value(0)
        out: list[str] = []
        json_format._write(v, 0, out, {})
        assert "".join(out) == json.dumps(v, ensure_ascii=False, indent=2)
    report = scan(ROOT / "topologies" / "alpha.yaml", [ROOT / "captures" / "alpha" / "alpha.pcap"])
    plain = json.dumps(json_format.report_dict(report, "ja"), ensure_ascii=False, indent=2)
    assert json_format.render(report, "ja") == plain + "\n"
