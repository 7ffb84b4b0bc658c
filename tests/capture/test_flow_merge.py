"""Mergeable flow tables: any split of the inputs, merged in any order, gives the same flows.

Real captures (the bundled examples and the third-party corpus) are cut into pieces at random
record boundaries; the pieces read as separate inputs give exactly the flows of the whole file
(a SYN in one piece and its answer in the next make one established flow), and the per-input
tables merged in random groupings and orders give identical columns. Both the C accelerator
and the pure-Python path are exercised.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest

from segcheck.capture import api, records
from segcheck.capture.flowtable import COLUMNS, FlowTable
from segcheck.capture.model import Flow

ROOT = Path(__file__).resolve().parents[2]
# Plain pcaps whose records can be cut anywhere (no fragment train: fragments join their flow
# by IP id within one input, so a train cut across two files is two flows by design).
REAL = [
    ROOT / "captures/alpha/alpha.pcap",
    ROOT / "tests/data/pcaps/dpkt__dns_icmp.pcap",
    ROOT / "tests/data/pcaps/zeek__vlan-collisions.pcap",
    ROOT / "tests/data/pcaps/zeek__vxlan.pcap",
    ROOT / "tests/data/pcaps/zeek__gre-erspan3-dot1q.pcap",
    ROOT / "tests/data/pcaps/zeek__icmp-destunreach-udp.pcap",
    ROOT / "tests/data/pcaps/tcpdump__ipoib.pcap",
]


def _records(path: Path) -> tuple[bytes, list[bytes]]:
    data = path.read_bytes()
    head, o, out = data[:24], 24, []
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while o + 16 <= len(data):
        cap = struct.unpack_from(endian + "I", data, o + 8)[0]
        out.append(data[o : o + 16 + cap])
        o += 16 + cap
    return head, out


def _split(path: Path, tmp: Path, rng: random.Random) -> tuple[list[str], list[int]]:
    """Pieces of a pcap (contiguous records) and the global frame offset of each."""
    head, recs = _records(path)
    k = rng.randint(2, min(6, max(2, len(recs))))
    cuts = sorted(rng.sample(range(1, len(recs)), min(k - 1, len(recs) - 1))) if recs else []
    bounds = [0, *cuts, len(recs)]
    names, offsets = [], []
    for i in range(len(bounds) - 1):
        p = tmp / f"{path.stem}.{i}.pcap"
        p.write_bytes(head + b"".join(recs[bounds[i] : bounds[i + 1]]))
        names.append(str(p))
        offsets.append(bounds[i])
    return names, offsets


def _key(f: Flow) -> tuple[object, ...]:
    return (f.src_ip, f.dst_ip, f.proto, f.src_port, f.dst_port, f.vlan, f.inner_vlan)


@pytest.fixture(params=["accel", "pure"])
def path_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(records, "_accel", None)
    elif records._accel is None:
        pytest.skip("C accelerator not built (no compiler)")
    return str(request.param)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
@pytest.mark.parametrize("seed", range(3))
def test_split_inputs_give_the_flows_of_the_whole(
    path: Path, seed: int, tmp_path: Path, path_kind: str
) -> None:
    whole = api.read_scan([path]).flows()
    names, offsets = _split(path, tmp_path, random.Random(f"{path.name}{seed}"))
    pieces = api.read_scan(names).flows()
    assert len(pieces) == len(whole)
    want = {_key(f): f for f in whole}
    index = {n: i for i, n in enumerate(names)}
    for f in pieces:
        w = want[_key(f)]
        assert (f.packets, f.bytes, f.state, f.tunnel) == (w.packets, w.bytes, w.state, w.tunnel)
        assert (f.first_seen, f.last_seen) == (w.first_seen, w.last_seen)
        # first by (input index, frame): the piece holding the first packet, its own numbering
        assert offsets[index[f.input]] + f.first_frame == w.first_frame


def _parts(names: list[str]) -> list[FlowTable]:
    tables = []
    for i, n in enumerate(names):
        t = api.scan_part(n).table
        t.tag_input(i)
        tables.append(t)
    return tables


def _merge_randomly(tables: list[FlowTable], rng: random.Random) -> FlowTable:
    """Merge in a random binary tree over a random order of the tables."""
    pool = tables[:]
    rng.shuffle(pool)
    while len(pool) > 1:
        i = rng.randrange(len(pool) - 1)
        a, b = pool[i], pool.pop(i + 1)
        a.merge(b)
    return pool[0]


def _canonical(t: FlowTable) -> dict[str, np.ndarray]:
    c = t.columns()
    order = np.lexsort([c[k] for k in reversed(COLUMNS)])
    return {k: c[k][order] for k in COLUMNS}


@pytest.mark.parametrize("seed", range(4))
def test_any_merge_order_gives_the_same_table(seed: int, tmp_path: Path, path_kind: str) -> None:
    rng = random.Random(seed)
    names: list[str] = []
    for path in REAL:
        (tmp_path / path.stem).mkdir()
        names += _split(path, tmp_path / path.stem, rng)[0]
    reference = _canonical(_merge_randomly(_parts(names), random.Random(0)))
    for trial in range(3):
        merged = _merge_randomly(_parts(names), random.Random(seed * 10 + trial + 1))
        got = _canonical(merged)
        for k in COLUMNS:
            assert np.array_equal(got[k], reference[k]), k
        assert merged.flows(names) == _merge_randomly(_parts(names), rng).flows(names)


def test_rotation_joins_a_syn_and_its_answer(tmp_path: Path) -> None:
    """A SYN in one rotated file and the SYN-ACK in the next: one established flow."""
    head, recs = _records(ROOT / "captures/alpha/alpha.pcap")
    whole = {_key(f): f for f in api.read_scan([ROOT / "captures/alpha/alpha.pcap"]).flows()}
    established = [f for f in whole.values() if f.state == "established" and f.packets >= 2]
    assert established, "the example capture has established flows"
    names = []
    for i in range(len(recs)):  # one file per packet: every flow spans files
        p = tmp_path / f"r{i:04d}.pcap"
        p.write_bytes(head + recs[i])
        names.append(str(p))
    got = {_key(f): f for f in api.read_scan(names).flows()}
    assert {k: f.state for k, f in got.items()} == {k: f.state for k, f in whole.items()}
    assert {k: f.packets for k, f in got.items()} == {k: f.packets for k, f in whole.items()}


def test_input_index_limit() -> None:
    t = FlowTable()
    with pytest.raises(ValueError, match="out of range"):
        t.tag_input(1 << 20)


def test_extract_follows_a_flow_into_later_inputs(tmp_path: Path) -> None:
    """--extract of rotated pieces writes the packets of the whole file's extract."""
    from segcheck.capture import extract_packets

    whole = ROOT / "captures/alpha/alpha.pcap"
    flows = api.read_scan([whole]).flows()
    one = extract_packets([whole], flows, tmp_path / "one.pcap")
    names, _ = _split(whole, tmp_path, random.Random(7))
    pieces = extract_packets(names, api.read_scan(names).flows(), tmp_path / "pieces.pcap")
    assert (pieces.packets, pieces.flows) == (one.packets, one.flows)
    assert (tmp_path / "pieces.pcap").read_bytes() == (tmp_path / "one.pcap").read_bytes()


def test_a_flow_costs_at_most_150_bytes_in_the_table() -> None:
    """Issue 14's memory bound for the table (reading peaks at about twice it, merging)."""
    scanned = api.read_scan([str(p) for p in REAL])
    cols = scanned.table.columns()
    flows = len(cols["proto"])
    assert flows > 20
    assert sum(v.nbytes for v in cols.values()) / flows <= 150


def _random_rows(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Decoded rows over a few thousand flows (enough to grow a table and its index)."""
    from segcheck.capture.decode import KIND_REFUSAL, KIND_TUNNEL, NO_TCP

    hosts = np.array([0, 1, 2**63 + 5, 0xFFFF0A000001, 0xFFFF0A000002], dtype=np.uint64)
    rows = {
        "frame": rng.permutation(n).astype(np.int64) + 1,
        "ts": rng.integers(0, 10**12, n),
        "length": rng.integers(0, 1500, n),
        "vo": rng.choice([-1, -1, 5], n),
        "vi": rng.choice([-1, -1, 7], n),
        "proto": rng.choice([6, 17, 1], n),
        "sport": rng.integers(0, 3000, n),
        "dport": rng.choice([53, 80, 443], n),
        "flags": rng.choice([NO_TCP, 0x02, 0x12, 0x10, 0x04], n),
        "kind": rng.choice([0, 0, 0, 0, KIND_REFUSAL, KIND_TUNNEL], n),
    }
    for k in ("shi", "slo", "dhi", "dlo"):
        rows[k] = hosts[rng.integers(0, len(hosts), n)]
    return rows


def _canonical_columns(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.lexsort([c[k] for k in reversed(COLUMNS)])
    return {k: c[k][order] for k in COLUMNS}


@pytest.mark.parametrize("seed", range(3))
def test_a_table_grown_in_many_small_batches_equals_one_batch(seed: int, path_kind: str) -> None:
    """The table grows in place (capacity and index, many times over); batches of any size,
    tables merged in any order, and a table that crossed a process boundary (pickled) and
    kept growing give the columns of one batch grouped at once (the numpy reference)."""
    import pickle

    from segcheck.capture.flowtable import aggregate_rows, group

    rng = np.random.default_rng(seed)
    rows = _random_rows(rng, 30_000)
    want = _canonical_columns(group(aggregate_rows(rows)))
    assert 3000 < len(want["proto"]) < 30_000  # past the first capacity and index sizes

    one = FlowTable()
    one.add_rows(rows)
    many = FlowTable()
    cuts = np.sort(rng.choice(np.arange(1, 30_000), 400, replace=False))
    for part in np.split(np.arange(30_000), cuts):
        many.add_rows({k: v[part] for k, v in rows.items()})
    # Per-table pieces (a row goes to a random table), pickled half way, merged at random.
    which = rng.integers(0, 5, 30_000)
    tables = []
    for t in range(5):
        table = FlowTable()
        mine = np.flatnonzero(which == t)
        half = len(mine) // 2
        table.add_rows({k: v[mine[:half]] for k, v in rows.items()})
        table = pickle.loads(pickle.dumps(table))
        table.add_rows({k: v[mine[half:]] for k, v in rows.items()})
        tables.append(table)
    merged = _merge_randomly(tables, random.Random(seed))
    for table in (one, many, merged):
        got = _canonical_columns(table.columns())
        for k in COLUMNS:
            assert got[k].dtype == want[k].dtype, k
            assert np.array_equal(got[k], want[k]), k
