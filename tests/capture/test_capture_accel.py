"""The optional C accelerator and the pure-Python reader give the same results."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
from cap_builders import pcap

from segcheck.capture import read_capture, records

ACCEL = records._accel


def _frames(n: int, seed: int) -> list[tuple[float, bytes]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        eth = b"\x02" * 12 + b"\x08\x00"
        ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, rnd.randrange(1, 9)])
        ip += bytes([10, 1, 0, rnd.randrange(1, 9)])
        tcp = struct.pack(">HHIIBBHHH", 1024 + i % 7, 80, 0, 0, 0x50, 0x02, 0, 0, 0)
        out.append((1.7e9 + i, eth + ip + tcp + b"x" * rnd.randrange(0, 300)))
    return out


def _cases() -> list[tuple[bytes, int, str, int, int]]:
    cases = []
    for endian in "<>":
        body = pcap(_frames(300, 1), endian=endian)
        cases.append((body, 24, endian, 262144, 1 << 62))
        cases.append((body[:-7], 24, endian, 262144, 1 << 62))  # last record cut
        cases.append((body, 24, endian, 262144, len(body) // 2))  # range end
        cases.append((body, 24, endian, 200, 1 << 62))  # impossible caplen
        cases.append((body[:30], 24, endian, 262144, 1 << 62))  # header cut
        cases.append((body, len(body), endian, 262144, 1 << 62))  # nothing left
    garbage = bytes(random.Random(3).randrange(256) for _ in range(5000))
    cases.append((garbage, 0, "<", 262144, 1 << 62))
    return cases


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("case", range(len(_cases())))
def test_accel_walk_equals_python(case: int) -> None:
    buf, o, endian, limit, stop = _cases()[case]
    c_starts, c_next, c_bad = records.walk_pcap(buf, o, endian, limit, stop)
    p_starts, p_next, p_bad = records.walk_pcap_py(buf, o, endian, limit, stop)
    assert np.array_equal(c_starts, p_starts)
    assert (c_next, c_bad) == (p_next, p_bad)


def test_pure_python_reader_equals_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.pcap"
    body = pcap(_frames(2000, 2))
    path.write_bytes(body[:-5])  # damaged tail too
    default = read_capture(path)
    monkeypatch.setattr(records, "_accel", None)
    pure = read_capture(path)
    assert pure == default
    assert pure.info.stopped_at is not None and len(pure.flows) > 0


def _header_soup(seed: int, n: int) -> records.Batch:
    """Records built from the fast path's decision points, then randomly mangled."""
    rnd = random.Random(seed)
    parts, offs, caps = [], [], []
    o = 0
    for _ in range(n):
        eth = b"\x02" * 12
        tag = rnd.random() < 0.3
        if tag:
            eth += b"\x81\x00" + struct.pack(">H", rnd.choice([0, 5, 0x1005, 4095]))
        v6 = rnd.random() < 0.3
        eth += b"\x86\xdd" if v6 else rnd.choice([b"\x08\x00", b"\x08\x00", b"\x08\x06"])
        proto = rnd.choice([6, 6, 17, 17, 1, 47, 0])
        if v6:
            l3 = bytes([0x60, 0, 0, 0, 0, 20, proto, 64]) + rnd.randbytes(32)
        else:
            ihl = rnd.choice([5, 5, 5, 6, 4])
            frag = rnd.choice([b"\x00\x00", b"\x00\x00", b"\x20\x00", b"\x00\x05", b"\x40\x00"])
            l3 = bytes([0x40 | ihl, 0, 0, 60, 0, 1]) + frag + bytes([64, proto, 0, 0])
            l3 += rnd.randbytes(8) + rnd.randbytes(max(0, ihl * 4 - 20))
        ports = [rnd.choice([53, 80, 4789, 6081, 6635, 3544, 1701, 40000]) for _ in range(2)]
        l4 = struct.pack(">HH", *ports) + rnd.randbytes(10)
        pkt = bytearray(eth + l3 + l4 + rnd.randbytes(rnd.randrange(0, 20)))
        for _ in range(rnd.choice([0, 0, 1, 3])):
            pkt[rnd.randrange(len(pkt))] = rnd.randrange(256)
        cap = len(pkt) - rnd.choice([0, 0, 0, 1, 10, 30])
        parts.append(bytes(pkt))
        offs.append(o)
        caps.append(max(cap, 0))
        o += len(pkt)
    buf = b"".join(parts)
    i64 = np.int64
    m = len(offs)
    lt = np.array([rnd.choice([1, 1, 1, 113, 101]) for _ in range(m)], dtype=i64)
    return records.Batch(
        buf,
        np.array(offs, dtype=i64),
        np.array(caps, dtype=i64),
        np.array(caps, dtype=i64) + 4,
        np.arange(m, dtype=i64) * 1000,
        lt,
        7,
    )


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("seed", range(8))
def test_accel_fast_rows_equal_numpy(seed: int) -> None:
    from segcheck.capture import fastpath

    batch = _header_soup(seed, 3000)
    c_cols, c_slow = fastpath.fast_rows(batch)
    n_cols, n_slow = fastpath.fast_rows_numpy(batch)
    assert np.array_equal(c_slow, n_slow)
    assert 0 < len(c_slow) < len(batch)
    assert c_cols.keys() == n_cols.keys()
    for key, col in c_cols.items():
        assert col.dtype == n_cols[key].dtype, key
        assert np.array_equal(col, n_cols[key]), key


def _canonical(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from segcheck.capture import flowtable

    order = np.lexsort([c[k] for k in reversed(flowtable.KEY)])
    return {k: v[order] for k, v in c.items()}


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("seed", range(6))
def test_accel_aggregate_equals_numpy_group(seed: int) -> None:
    from segcheck.capture import flowtable
    from segcheck.capture.decode import KIND_REFUSAL, KIND_TUNNEL, NO_TCP

    rnd = np.random.default_rng(seed)
    n = 5000
    few = [0, 1, 5, 2**63 + 7, 0xFFFF0A000001]
    rows = {
        "frame": rnd.permutation(n).astype(np.int64) + 1,
        "ts": rnd.integers(0, 10**12, n),
        "length": rnd.integers(0, 1500, n),
        "vo": rnd.choice([-1, -1, 5, 4095], n),
        "vi": rnd.choice([-1, -1, -1, 7], n),
        "proto": rnd.choice([6, 17, 1, 58, 47], n),
        "sport": rnd.choice([0, 53, 80, 40000], n),
        "dport": rnd.choice([0, 53, 80, 40000], n),
        "flags": rnd.choice([NO_TCP, 0x02, 0x12, 0x10, 0x04, 0x14, NO_TCP | 0x02], n),
        "kind": rnd.choice([0, 0, 0, KIND_REFUSAL, KIND_TUNNEL], n),
    }
    for k in ("shi", "slo", "dhi", "dlo"):
        rows[k] = np.array(few, dtype=np.uint64)[rnd.integers(0, len(few), n)]
    got = flowtable.group_rows(rows)
    want = flowtable.group(flowtable.aggregate_rows(rows))
    assert 1 < len(got["proto"]) < n
    got, want = _canonical(got), _canonical(want)
    assert got.keys() == want.keys()
    for key, col in got.items():
        assert col.dtype == want[key].dtype, key
        assert np.array_equal(col, want[key]), key
    empty = {k: v[:0] for k, v in rows.items()}
    assert all(len(v) == 0 for v in flowtable.group_rows(empty).values())


def _pcapng_mix(seed: int) -> bytes:
    """Sections in both byte orders mixing EPBs with SPBs, PBs, IDBs and unknown blocks."""
    from cap_builders import epb, idb, other_block, pb, shb, spb

    rnd = random.Random(seed)
    frames = _frames(400, seed)
    out: list[bytes] = []
    for e in ("<", ">", "<"):
        out += [shb(e), idb(1, e), idb(1, e, tsresol=9)]
        for ts, data in frames[: rnd.randrange(50, 400)]:
            r = rnd.random()
            if r < 0.05:
                out.append(spb(data, e))
            elif r < 0.1:
                out.append(pb(1, round(ts * 1e9), data, e))
            elif r < 0.13:
                out.append(other_block(rnd.choice([5, 0x80000001, 4]), b"\x01" * 8, e))
            elif r < 0.15:
                out.append(idb(1, e))
            else:
                out.append(epb(rnd.randrange(2), round(ts * 1e6), data, e))
    return b"".join(out)


@pytest.mark.parametrize("seed", range(4))
def test_pure_python_pcapng_equals_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    body = _pcapng_mix(seed)
    cuts = [len(body), len(body) - 5]  # whole, then a cut last block
    rnd = random.Random(seed)
    damaged = bytearray(body)
    at = rnd.randrange(len(body) // 2, len(body) - 8)
    damaged[at : at + 4] = b"\xff\xff\xff\x7f"  # a corrupt length somewhere
    for name, data in (("a", body[: cuts[0]]), ("b", body[: cuts[1]]), ("c", bytes(damaged))):
        path = tmp_path / f"{name}.pcapng"
        path.write_bytes(data)
        default = read_capture(path)
        with monkeypatch.context() as m:
            m.setattr(records, "_accel", None)
            pure = read_capture(path)
        assert pure == default, name
        assert len(pure.flows) > 0


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("seed", range(4))
def test_accel_regroup_equals_numpy_group(seed: int) -> None:
    from segcheck.capture import flowtable

    rnd = np.random.default_rng(seed)
    n = 4000
    c: dict[str, np.ndarray] = {}
    for k in flowtable.KEY:
        dtype = flowtable.DTYPES[k]
        info = np.iinfo(dtype)
        values = [info.min, 0, 1, 6, 17, info.max] if info.min < 0 else [0, 1, 17, info.max]
        c[k] = np.array(values, dtype=dtype)[rnd.integers(0, len(values), n)]
    for k in flowtable.SUM + flowtable.MIN + flowtable.MAX:
        c[k] = rnd.integers(-(2**40), 2**40, n)
    c["bits"] = rnd.integers(0, 128, n).astype(np.uint8)
    c["ts_min"][::7] = flowtable.BIG
    c["ts_max"][::5] = -flowtable.BIG
    got = _canonical(flowtable.regroup(c))
    want = _canonical(flowtable.group(c))
    assert 1 < len(got["proto"]) < n
    for key, col in got.items():
        assert col.dtype == want[key].dtype == flowtable.DTYPES[key], key
        assert np.array_equal(col, want[key]), key


def test_table_columns_are_narrow_and_rows_that_do_not_fit_are_refused() -> None:
    from segcheck.capture import flowtable

    assert sum(d.itemsize for d in flowtable.DTYPES.values()) == 98  # bytes a flow
    rows = {k: np.zeros(2, dtype=np.int64) for k in flowtable._ROW_INPUTS}
    rows["vo"][:] = [-1, 4095]
    rows["proto"][:] = [255, 6]
    rows["sport"][:] = [65535, 0]
    table = flowtable.FlowTable()
    table.add_rows(rows)
    cols = table.columns()
    assert {k: v.dtype for k, v in cols.items()} == flowtable.DTYPES
    assert sorted(cols["pa"].tolist() + cols["pb"].tolist()) == [0, 0, 0, 65535]
    for name, bad in (("sport", 65536), ("dport", -1), ("proto", 256), ("vi", 1 << 15)):
        wrong = {k: v.copy() for k, v in rows.items()}
        wrong[name][1] = bad
        with pytest.raises(ValueError, match=name):
            flowtable.FlowTable().add_rows(wrong)


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
def test_the_accelerator_refuses_columns_of_another_width() -> None:
    from segcheck.capture import flowtable

    table = {k: np.zeros(8, dtype=d) for k, d in flowtable.DTYPES.items()}
    wide = tuple(np.zeros(8, dtype=np.int64) for _ in flowtable.COLUMNS)
    index = np.full(16, 0xFFFFFFFF, dtype=np.uint32)
    with pytest.raises(ValueError, match="buffer 0 has items of 8 bytes, not 2"):
        ACCEL.absorb_columns(wide, 0, tuple(table.values()), 0, index)


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
def test_a_build_of_another_table_layout_is_left_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from segcheck.capture import flowtable, records

    assert flowtable._flow_accel() is ACCEL  # this build is used (the tests above compare it)
    stale = SimpleNamespace(
        absorb_rows=ACCEL.absorb_rows,
        absorb_columns=ACCEL.absorb_columns,
        reindex=ACCEL.reindex,
        FLOW_COLUMNS=17,
        FLOW_LAYOUT=" ".join(["i8"] * 17),
    )
    monkeypatch.setattr(records, "_accel", stale)
    assert flowtable._flow_accel() is None
    rows = {k: np.zeros(3, dtype=np.int64) for k in flowtable._ROW_INPUTS}
    assert len(flowtable.group_rows(rows)["proto"]) == 1  # numpy, not the stale C


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("seed", range(6))
def test_accel_tap_signatures_equal_numpy(seed: int) -> None:
    """Ledgers from workers with and without the build must merge: the same signature for the
    same packet. Fast-path rows, then every record of the batch (cut ones, ones ending the
    buffer, non-IP) with random address and port columns."""
    from segcheck.capture import dedup, fastpath

    batch = _header_soup(seed, 3000)
    cols, _ = fastpath.fast_rows(batch)
    idx = cols["frame"] - batch.frame0
    fast = dedup.signatures(batch, cols, idx)
    assert len(fast) > 100 and len(np.unique(fast)) > len(fast) // 2
    assert np.array_equal(fast, dedup.signatures_numpy(batch, cols, idx))
    rnd = np.random.default_rng(seed)
    m = len(batch)
    every = np.arange(m, dtype=np.int64)
    made = {k: rnd.integers(0, 2**63, m).astype(np.uint64) for k in ("shi", "slo", "dhi", "dlo")}
    made |= {k: rnd.integers(0, 65536, m) for k in ("proto", "sport", "dport")}
    assert np.array_equal(
        dedup.signatures(batch, made, every), dedup.signatures_numpy(batch, made, every)
    )
    tail = every[-5:]  # the last records: reads past the end of the buffer are zeros
    short = records.Batch(
        batch.buf[: int(batch.data_off[-1]) + 20],
        batch.data_off,
        batch.caplen,
        batch.origlen,
        batch.ts_ns,
        batch.linktype,
        batch.frame0,
    )
    picked = {k: v[tail] for k, v in made.items()}
    assert np.array_equal(
        dedup.signatures(short, picked, tail), dedup.signatures_numpy(short, picked, tail)
    )
