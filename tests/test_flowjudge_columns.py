"""The columnar judge (issue 14): one decision per address-class pair and service applied to
flow columns, Python records only for what a report renders; the same findings and rows as
judging flow by flow."""

from __future__ import annotations

import dataclasses
import ipaddress
import pickle
import random
from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.capture.api import read_scan
from segcheck.capture.flowcols import address_classes, from_flows, oriented
from segcheck.engine import scan
from segcheck.findings import FlowEvidence, fingerprint, flow_fingerprint
from segcheck.flowjudge import (
    FlowJudge,
    JudgedColumns,
    JudgedFlows,
    _Shown,
    iso_times,
    record_maker,
    records_maker,
)
from segcheck.policy import Policy
from segcheck.report import render

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "topologies" / "judge-fixture.yaml"
STAMP = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class PacketFlow:
    src_ip: str
    dst_ip: str
    proto: str
    src_port: int
    dst_port: int
    vlan: int | None
    packets: int
    bytes: int
    first_seen: float
    last_seen: float
    first_frame: int
    state: str
    input: str
    tunnel: bool = False
    inner_vlan: int | None = None


def _judge(path: Path = FIXTURE) -> FlowJudge:
    topo = parse_topology(path.read_bytes(), path.name)
    policy = Policy(topo, date(2026, 11, 22))
    return FlowJudge(policy, AddressMap(topo.zones.values(), topo.nodes.values()))


# Every kind of address of the fixture: nodes, plain zone hosts, a channel end, the LBO
# allow-list, an unmapped private address, a multicast (local) address, the public Internet.
ADDRESSES = (
    "10.1.20.20", "10.1.30.10", "10.1.99.9", "10.2.10.11", "10.2.20.25", "10.2.0.5",
    "10.2.77.7", "10.3.10.11", "10.3.20.26", "10.3.20.30", "10.3.30.10", "198.18.200.10",
    "198.18.200.11", "198.18.200.20", "198.19.10.10", "203.0.113.60", "203.0.113.9",
    "172.16.0.9", "224.0.0.251", "8.8.8.8", "2001:db8::5",
)  # fmt: skip
SERVICES = (("tcp", 3389), ("tcp", 445), ("tcp", 443), ("udp", 53), ("tcp", 25), ("icmp", 8))


def _grid() -> list[PacketFlow]:
    flows = []
    states = ("established", "attempted", "unknown")
    for n, (src, dst, (proto, port)) in enumerate(product(ADDRESSES, ADDRESSES, SERVICES)):
        if src == dst:
            continue
        flows.append(
            PacketFlow(
                src,
                dst,
                proto,
                0 if proto == "icmp" else 40000 + n % 7,
                port,
                None if n % 5 else 100,
                n % 9 + 1,
                n * 61 % 5000,
                1_700_000_000.0 + n * 0.001,
                1_700_000_001.0 + n * 0.002,
                n + 1,
                states[n % 3],
                f"cap{n % 2}.pcap",
                inner_vlan=20 if n % 10 == 0 else None,
            )
        )
    return flows


def _by_flow(judge: FlowJudge, flows: list[PacketFlow]) -> tuple[list, list]:
    rows, found = [], []
    for i, (row, finding, excepted) in enumerate(judge.judge_flows(flows)):
        rows.append(row)
        if finding is not None:
            found.append((i, finding, excepted))
    return rows, found


def test_columns_equal_flow_by_flow_on_every_kind_of_address() -> None:
    flows = _grid()
    rows, found = _by_flow(_judge(), flows)
    judged = _judge().judge_columns(from_flows(flows))
    assert judged.findings == found
    assert judged.rows() == rows
    assert judged.rows(100, 250) == rows[100:250]
    # the grid covers each outcome, so equality above is not vacuous
    verdicts = {r.verdict for r in rows}
    assert {"violation", "suspect", "excepted", "local", "unknown", "permitted"} <= verdicts
    assert any(e for _, _, e in found) and any(not e for _, _, e in found)


def test_one_decision_per_class_pair_and_service() -> None:
    judge = _judge()
    base = [f for f in _grid() if f.src_ip == "10.2.77.7" and f.dst_ip == "10.3.30.10"]
    # a thousand hosts of one zone, no node, no channel end: one class
    many = [
        PacketFlow(f"10.2.{1 + i // 250}.{1 + i % 250}", *_fields(f))
        for i in range(1000)
        for f in base
    ]
    calls = []
    decide = judge.decide

    def counting(*args: object) -> object:
        calls.append(args)
        return decide(*args)  # type: ignore[arg-type]

    judge.decide = counting  # type: ignore[method-assign]
    judged = judge.judge_columns(from_flows(many))
    assert len(calls) == len(SERVICES)
    assert len(judged.findings) == len(_by_flow(_judge(), many)[1]) > 0


def _fields(f: PacketFlow) -> tuple[object, ...]:
    return (
        f.dst_ip, f.proto, f.src_port, f.dst_port, f.vlan, f.packets, f.bytes, f.first_seen,
        f.last_seen, f.first_frame, f.state, f.input,
    )  # fmt: skip


def test_a_partition_is_judged_as_in_the_whole() -> None:
    """A worker judging part of the flows finds exactly those flows' findings."""
    flows = _grid()
    whole = _judge().judge_columns(from_flows(flows)).findings
    cut = len(flows) // 3
    judge = _judge()
    first = judge.judge_columns(from_flows(flows[:cut])).findings
    rest = _judge().judge_columns(from_flows(flows[cut:])).findings
    assert [f for _, f, _ in first] + [f for _, f, _ in rest] == [f for _, f, _ in whole]


CAPTURES = [
    ("alpha", ["captures/alpha/alpha.pcap", "captures/alpha/alpha.pcapng.gz"]),
    ("four-tier", ["captures/four-tier/four-tier.pcap"]),
    (
        "alpha",
        sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/data/pcaps").glob("*.pcap*")),
    ),
]


@pytest.mark.parametrize(("topology", "captures"), CAPTURES)
def test_scan_equals_flow_by_flow_on_real_captures(topology: str, captures: list[str]) -> None:
    paths = [str(ROOT / c) for c in captures]
    judge = _judge(ROOT / "topologies" / f"{topology}.yaml")
    scanned = read_scan(paths)
    rows, found = _by_flow(judge, scanned.flows())
    report = scan(ROOT / "topologies" / f"{topology}.yaml", paths, generated_at=STAMP)
    assert tuple(report.flows) == tuple(rows) and len(report.flows) == len(rows) > 0
    columns = oriented(scanned.table.columns(), paths)
    assert _judge(ROOT / "topologies" / f"{topology}.yaml").judge_columns(columns).findings == found


def test_rows_are_built_only_when_a_report_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[int, int | None]] = []
    rows = JudgedColumns.rows

    def counting(self: JudgedColumns, start: int = 0, end: int | None = None) -> list:
        built.append((start, end))
        return rows(self, start, end)

    monkeypatch.setattr(JudgedColumns, "rows", counting)
    report = scan(
        ROOT / "topologies/alpha.yaml", [ROOT / "captures/alpha/alpha.pcap"], generated_at=STAMP
    )
    assert isinstance(report.flows, JudgedFlows)
    render(report, "json")
    render(report, "sarif")
    assert len(report.flows) == 15 and not built
    render(report, "csv")
    assert built == [(0, 15)]
    render(report, "html")
    assert built == [(0, 15)]  # built once


def test_lazy_rows_compare_and_pickle_as_their_tuple() -> None:
    report = scan(
        ROOT / "topologies/alpha.yaml", [ROOT / "captures/alpha/alpha.pcap"], generated_at=STAMP
    )
    flows = report.flows
    assert isinstance(flows, JudgedFlows)
    as_tuple = tuple(flows)
    assert flows == as_tuple and hash(flows) == hash(as_tuple)
    assert flows[1:3] == as_tuple[1:3] and flows[-1] == as_tuple[-1]
    assert pickle.loads(pickle.dumps(flows)) == as_tuple


@pytest.mark.parametrize(
    "topology",
    [
        FIXTURE,
        ROOT / "topologies/alpha-prime.yaml",
        ROOT / "topologies/four-tier.yaml",
        ROOT / "topologies/beta.yaml",
    ],
)
def test_addresses_between_two_breaks_share_their_class(topology: Path) -> None:
    """The bulk classes (one question per run of addresses between two breaks) equal asking
    every address: around every break, and at random."""
    judge = _judge(topology)
    breaks = judge.class_breaks()
    assert breaks is not None and len(breaks) > 10
    rng = random.Random(14)
    values = {v for b in breaks for v in (b - 1, b, b + 1) if 0 <= v < 1 << 32}
    values |= {rng.randrange(1 << 32) for _ in range(3000)}
    values |= {(10 << 24) + rng.randrange(1 << 24) for _ in range(1000)}
    ordered = sorted(values)
    texts = [str(ipaddress.IPv4Address(v)) for v in ordered]
    lo = np.array([v | 0xFFFF << 32 for v in ordered], dtype=np.uint64)
    bulk = address_classes(np.zeros(len(lo), dtype=np.uint64), lo, breaks, judge.address_class)
    one_by_one = [judge.address_class(t) for t in texts]
    assert bulk.tolist() == one_by_one
    assert len(set(one_by_one)) > 5  # several classes, so equality is not vacuous


def test_flow_fingerprint_is_the_generic_one() -> None:
    """Baselines match findings by fingerprint: the spelt-out flow fingerprint must not move."""
    for vlan, inner in ((None, None), (0, None), (100, None), (100, 20)):
        parts = ("flow", "LG-INET-SPLIT", "10.2.10.11", "2001:db8::5", "tcp", 445, vlan)
        expected = fingerprint(*parts, *(() if inner is None else (inner,)))
        got = flow_fingerprint(
            "LG-INET-SPLIT", "10.2.10.11", "2001:db8::5", "tcp", 445, vlan, inner
        )  # type: ignore[arg-type]
        assert got == expected


def test_an_internet_breakout_allow_list_splits_a_class() -> None:
    """INET-LOCAL-BREAKOUT reads the destination's address against an Internet-tier
    lbo-gateway's allow-list (any profile): hosts of one zone on and off the list differ."""
    topology = ROOT / "topologies/beta-prime-breakout.yaml"
    flows = [
        PacketFlow(
            "10.23.1.5",
            dst,
            "tcp",
            40000,
            443,
            None,
            3,
            300,
            1.7e9 + i,
            1.7e9 + i,
            i + 1,
            "established",
            "cap.pcap",
        )  # fmt: skip
        for i, dst in enumerate(["203.0.113.49", "203.0.113.50", "203.0.113.51", "203.0.113.50"])
    ]
    one_by_one = [
        next(iter(_judge(topology).judge_flows([f])))[0].rule for f in flows
    ]  # a fresh judge each: no cache shared between the addresses
    assert "INET-LOCAL-BREAKOUT" in one_by_one and len(set(one_by_one)) == 2
    assert [r.rule for r, _, _ in _judge(topology).judge_flows(flows)] == one_by_one
    assert [r.rule for r in _judge(topology).judge_columns(from_flows(flows)).rows()] == one_by_one


def test_an_update_servers_upstream_splits_a_class() -> None:
    """LG-UPDATE-DIST reads the destination's address against the update server's upstream
    selectors: the upstream and its zone's other hosts differ."""
    flows = [
        PacketFlow(
            "10.2.20.40",
            dst,
            "tcp",
            40000,
            8530,
            None,
            3,
            300,
            1.7e9 + i,
            1.7e9 + i,
            i + 1,
            "established",
            "cap.pcap",
        )  # fmt: skip
        for i, dst in enumerate(["198.18.100.41", "198.18.100.40", "198.18.100.41"])
    ]
    one_by_one = [next(iter(_judge().judge_flows([f])))[0].verdict for f in flows]
    assert len(set(one_by_one)) == 2
    assert [r.verdict for r, _, _ in _judge().judge_flows(flows)] == one_by_one
    assert [r.verdict for r in _judge().judge_columns(from_flows(flows)).rows()] == one_by_one


def _bulk_path_taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the findings whose ends were worked out one address at a time."""
    per_address: list[int] = []
    fields = _Shown.fields

    def counting(self: _Shown, addresses: list[int]) -> tuple:
        per_address.append(len(addresses))
        return fields(self, addresses)

    monkeypatch.setattr(_Shown, "fields", counting)
    return per_address


def test_ends_shown_by_class_equal_flow_by_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """IPv4 flows only: every end shows its class's zone and tier (a node's record, or the
    address's own text), in bulk, and the findings are those of judging flow by flow."""
    flows = [f for f in _grid() if ":" not in f.src_ip + f.dst_ip]
    rows, found = _by_flow(_judge(), flows)
    per_address = _bulk_path_taken(monkeypatch)
    judged = _judge().judge_columns(from_flows(flows))
    assert judged.findings == found and not per_address
    assert judged.rows() == rows and judged.rows(7, 300) == rows[7:300]
    assert judged.rows(5, 5) == [] and {r.verdict for r in rows} >= {"local", "unknown"}
    assert {f.src for _, f, _ in found} & {"mn-term", "lg-term"}  # nodes and plain hosts
    assert {f.severity for _, f, _ in found} >= {"critical", "warning"}  # attempts too


def test_an_end_not_shown_as_a_dotted_quad_is_shown_per_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An IPv6 end in an IPv4 address's class (the public Internet) shows its own record:
    that batch of findings takes the per-address path and still equals flow by flow."""
    flows = [f for f in _grid() if ":" not in f.src_ip + f.dst_ip]
    flows += [
        dataclasses.replace(f, dst_ip="2a00:1450:4001::200e", first_frame=f.first_frame + 100_000)
        for f in flows
        if f.dst_ip == "203.0.113.9"
    ]
    rows, found = _by_flow(_judge(), flows)
    per_address = _bulk_path_taken(monkeypatch)
    judged = _judge().judge_columns(from_flows(flows))
    assert judged.findings == found and judged.rows() == rows
    assert per_address and any(f.dst == "2a00:1450:4001::200e" for _, f, _ in found)


def test_records_maker_equals_one_by_one() -> None:
    flows = _grid()[:50]
    columns = from_flows(flows).evidence_columns(range(50), iso_times)
    assert records_maker(FlowEvidence)(columns) == [
        record_maker(FlowEvidence)(*c) for c in zip(*columns, strict=True)
    ]
    with pytest.raises(ValueError, match="columns of one length"):
        records_maker(FlowEvidence)([c[:-1] if i == 3 else c for i, c in enumerate(columns)])
    with pytest.raises(ValueError, match="columns of one length"):
        records_maker(FlowEvidence)(columns[:-1])


def test_with_many_channels_every_address_is_its_own_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past CLASS_KEY_MAX_CHANNELS the class is the address itself and no class decides what
    an end shows: findings and rows from each address's record, still as flow by flow."""
    flows = _grid()
    rows, found = _by_flow(_judge(), flows)
    monkeypatch.setattr(FlowJudge, "CLASS_KEY_MAX_CHANNELS", 0)
    judge = _judge()
    assert judge.class_breaks() is None
    per_address = _bulk_path_taken(monkeypatch)
    judged = judge.judge_columns(from_flows(flows))
    assert judged.findings == found and judged.rows() == rows and per_address


def test_an_ipv4_mapped_address_is_judged_as_its_ipv4_address() -> None:
    """A log may write an IPv4 peer as ::ffff:a.b.c.d (a dual-stack socket's view); the flow
    table stores IPv4 that way. Judged flow by flow, such a flow gets the verdict of the same
    flow written in IPv4, as the columns give it."""
    plain = [f for f in _grid() if "2001:db8::5" not in (f.src_ip, f.dst_ip)]
    mapped = [
        dataclasses.replace(f, src_ip=f"::ffff:{f.src_ip}", dst_ip=f"::ffff:{f.dst_ip}")
        for f in plain
    ]
    rows, found = _by_flow(_judge(), plain)
    mapped_rows, mapped_found = _by_flow(_judge(), mapped)

    def outcome(judged: list) -> list:
        return [(i, f.rule, f.severity, excepted) for i, f, excepted in judged]

    assert outcome(mapped_found) == outcome(found)
    assert [r.verdict for r in mapped_rows] == [r.verdict for r in rows]
    assert {"violation", "permitted"} <= {r.verdict for r in rows}
    assert outcome(_judge().judge_columns(from_flows(mapped)).findings) == outcome(found)
    # shown by zone and name as the IPv4 flow is; the evidence keeps the address as logged
    assert [(r.src, r.dst, r.src_zone, r.dst_zone) for r in mapped_rows] == [
        (r.src, r.dst, r.src_zone, r.dst_zone) for r in rows
    ]
    assert all(r.flow.src_ip.startswith("::ffff:") for r in mapped_rows)
