"""The same packet seen on two capture points (two taps, a SPAN of both sides) counts once.

Each common-case packet (the fast path: Ethernet, optional 802.1Q tag, IPv4/IPv6, TCP/UDP)
gets a signature: its addresses, protocol and ports (not its VLAN or MAC addresses, which
differ between capture points), the IPv4 identification, the IP length and the first
``HASHED`` bytes of its transport segment. A tap ledger of (signature, time, frame) goes with
each flow table and merges by concatenation like the table. Packets with equal signatures
within ``WINDOW_NS`` of each other (chained) are one packet, kept where it was seen first by
(input index, frame); the others are dropped from the flow counts and from ``--extract``.

Covered: TCP, UDP and ICMP over IPv4 or IPv6 in Ethernet, untagged or under one 802.1Q tag
(one row per frame). Not covered: tunnels, stacked tags, other link types and fragments after
the first are never taken for copies. An IPv6 packet has no identification, so an identical
segment sent twice within the window (closer than any TCP retransmission timer) would count
once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import records
from .mapped import mapped_empty
from .records import Batch

WINDOW_NS = 100_000_000  # copies of one packet arrive within microseconds to milliseconds
HASHED = 32  # bytes of the transport segment in the signature (header and payload start)
_PAD = 128  # more than the deepest fixed offset read (18 + 40 + HASHED)
LEDGER_DTYPE = np.dtype([("sig", "u8"), ("ts", "i8"), ("frame", "i8")])

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def empty_ledger() -> np.ndarray:
    return np.empty(0, dtype=LEDGER_DTYPE)


def _mix(h: np.ndarray, v: np.ndarray) -> None:
    """Fold ``v`` into the running hashes ``h`` (in place)."""
    np.bitwise_xor(h, v.astype(np.uint64, copy=False), out=h)
    np.multiply(h, _M1, out=h)
    np.bitwise_xor(h, np.right_shift(h, _S31), out=h)
    np.multiply(h, _M2, out=h)


def fast_ledger(batch: Batch, cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """Ledger entries of the fast-path rows ``cols`` (record indices ``idx`` in ``batch``).

    Reads only what the fast path checked is inside the record: the L3 header and the first
    bytes of the transport segment, within the captured length.
    """
    n = len(idx)
    out = mapped_empty(n, LEDGER_DTYPE)  # kept to the end of the scan: not in the heap
    if n == 0:
        return out
    out["sig"] = signatures(batch, cols, idx)
    out["ts"] = cols["ts"]
    out["frame"] = cols["frame"]
    return out


def signatures(batch: Batch, cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """The rows' signatures: the C accelerator's one pass when it was built (about 10x
    faster), else :func:`signatures_numpy`; both give exactly the same values, so ledgers
    made by either merge (a cluster may mix workers with and without the build)."""
    accel = records._accel
    if accel is None or not hasattr(accel, "tap_signatures"):
        return signatures_numpy(batch, cols, idx)
    sig = np.empty(len(idx), dtype=np.uint64)
    i64, u64 = np.int64, np.uint64
    accel.tap_signatures(
        batch.buf,
        np.ascontiguousarray(batch.data_off[idx], dtype=i64),
        np.ascontiguousarray(batch.caplen[idx], dtype=i64),
        *(np.ascontiguousarray(cols[k], dtype=u64) for k in ("shi", "slo", "dhi", "dlo")),
        *(np.ascontiguousarray(cols[k], dtype=i64) for k in ("proto", "sport", "dport")),
        sig,
    )
    return sig


def signatures_numpy(batch: Batch, cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """:func:`signatures` with numpy: the reference."""
    n = len(idx)
    raw = np.frombuffer(batch.buf, dtype=np.uint8)
    pos = batch.data_off[idx]
    cap = batch.caplen[idx]
    # Only the stretch of the buffer these records start in (a sub-batch's share, not the
    # whole chunk): every read lies within _PAD bytes of its record's start, and a
    # segment cut by the stretch's end is still HASHED bytes long (or cut where the buffer
    # ends, as before). Bytes past the stretch read as zero.
    lo = int(pos.min())
    raw = raw[lo : min(len(raw), int(pos.max()) + _PAD)]
    pos = pos - lo
    size = len(raw)
    # Each record's first bytes and each segment's first HASHED in one gather apiece (fields
    # read from the gathered copies, not the buffer again).
    head = _gather(raw, size, pos, _HEAD.itemsize).view(_HEAD)
    tagged = head["ethertype"] == 0x8100
    first = np.where(tagged, head["first_tagged"], head["first"])
    v4 = (first >> 4) == 4
    ihl = np.where(v4, (first & 15).astype(np.int64) * 4, 40)
    l4 = pos + np.where(tagged, 18, 14) + ihl
    at4 = np.where(tagged, head["at4_tagged"], head["at4"])
    ident = np.where(v4, at4, 0)
    length = np.where(v4, np.where(tagged, head["at2_tagged"], head["at2"]), at4)
    avail = np.clip(np.minimum(pos + cap, size) - l4, 0, HASHED)
    words = _gather(raw, size, np.minimum(l4, size), HASHED).view(_WORD)
    words = words.reshape(n, HASHED // 8) & _MASKS[avail]
    h = np.zeros(n, dtype=np.uint64)
    # Direction-free: a copy is the same packet, so the key needs no canonical order.
    for v in (cols["shi"], cols["slo"], cols["dhi"], cols["dlo"], cols["proto"]):
        _mix(h, v)
    for v in (cols["sport"], cols["dport"], ident, length, avail):
        _mix(h, v)
    for k in range(HASHED // 8):
        _mix(h, words[:, k])
    return h


_S31 = np.uint64(31)
_WORD = np.dtype(np.uint64)  # 8 bytes of the segment as this machine reads them
# A record's first 24 bytes: the Ethernet type, then the IP header's first byte, the bytes at
# 2 and at 4 (big-endian; IPv4 length and identification, IPv6 payload length) untagged or
# under one 802.1Q tag.
_HEAD = np.dtype(
    {
        "names": ["ethertype", "first", "at2", "at4", "first_tagged", "at2_tagged", "at4_tagged"],
        "formats": [">u2", "u1", ">u2", ">u2", "u1", ">u2", ">u2"],
        "offsets": [12, 14, 16, 18, 18, 20, 22],
        "itemsize": 24,
    }
)


def _masks() -> np.ndarray:
    """Row ``a``: the HASHED // 8 word masks keeping a segment's first ``a`` bytes."""
    one = [b"\xff" * m + b"\0" * (8 - m) for m in range(9)]
    rows = [
        b"".join(one[min(max(a - k, 0), 8)] for k in range(0, HASHED, 8)) for a in range(HASHED + 1)
    ]
    return np.frombuffer(b"".join(rows), dtype=_WORD).reshape(HASHED + 1, HASHED // 8)


_MASKS = _masks()


def _gather(raw: np.ndarray, size: int, starts: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes of ``raw[:size]`` from each of ``starts`` (each <= size), as opaque
    records, bytes past ``size`` read as zero."""
    item = np.dtype((np.void, width))
    every = np.ndarray((max(0, size - width + 1),), item, raw, 0, (1,))  # one from each byte
    near = np.flatnonzero(starts > size - width)
    if not len(near):
        return every[starts]
    base = max(0, size - width)  # the records reaching past the end, from a padded tail
    padded = np.concatenate((raw[base:size], np.zeros(width, dtype=np.uint8)))
    tail = np.ndarray((size - base + 1,), item, padded, 0, (1,))
    if len(near) == len(starts):
        return tail[starts - base]
    out = every[np.where(starts > size - width, 0, starts)]
    out[near] = tail[starts[near] - base]
    return out


def slow_candidates(batch: Batch, rows: dict[str, np.ndarray]) -> np.ndarray:
    """Indices into ``rows`` (slow-path rows) of packets the ledger can sign too: one plain
    IP row per frame (TCP, UDP, ICMP; no tunnel, no refusal mark) of an Ethernet record
    carrying IPv4 or IPv6 directly or under one 802.1Q tag (a record too short for the fast
    path's fixed reads, ICMP)."""
    n = len(rows["frame"])
    if n == 0:
        return np.empty(0, dtype=np.int64)
    frames = rows["frame"]
    uniq, counts = np.unique(frames, return_counts=True)
    single = np.isin(frames, uniq[counts == 1])
    ok = single & (rows["kind"] == 0) & np.isin(rows["proto"], (1, 6, 17, 58))
    ok &= rows["vi"] < 0
    cand = np.flatnonzero(ok)
    i = frames[cand] - batch.frame0
    b = np.frombuffer(batch.buf, dtype=np.uint8)
    pos = batch.data_off[i]
    if len(pos) and int(pos.max()) + 18 > len(b):  # reads past the buffer read zero
        b = np.concatenate((b, np.zeros(18, dtype=np.uint8)))
    et = b[pos + 12].astype(np.int64) << 8 | b[pos + 13]
    inner = b[pos + 16].astype(np.int64) << 8 | b[pos + 17]
    et = np.where(et == 0x8100, inner, et)
    good = (batch.linktype[i] == 1) & (batch.caplen[i] >= 34) & np.isin(et, (0x0800, 0x86DD))
    return cand[good]


def copies(ledger: np.ndarray | Sequence[np.ndarray], window_ns: int = WINDOW_NS) -> np.ndarray:
    """Frames (as the ledger numbers them) that repeat an earlier-kept packet: sorted.

    Entries with one signature form runs where each is within ``window_ns`` of the one before;
    a run is one packet, kept at its smallest frame number (input index, then frame).
    """
    parts = [ledger] if isinstance(ledger, np.ndarray) else list(ledger)
    if sum(len(p) for p in parts) < 2:
        return np.empty(0, dtype=np.int64)
    # Only a signature seen more than once can make a copy: find those on one sorted copy of
    # the signatures (8 bytes a packet) instead of sorting whole entries (a 5M-packet flood
    # has none: the full sort took ~300 MB at the end of reading).
    sigs = np.concatenate([p["sig"] for p in parts])
    sigs.sort()
    repeated = np.unique(sigs[1:][sigs[1:] == sigs[:-1]])
    del sigs
    if not len(repeated):
        return np.empty(0, dtype=np.int64)
    ledger = np.concatenate([p[np.isin(p["sig"], repeated)] for p in parts])
    order = np.lexsort((ledger["frame"], ledger["ts"], ledger["sig"]))
    sig, ts, frame = ledger["sig"][order], ledger["ts"][order], ledger["frame"][order]
    starts = np.concatenate(([True], (sig[1:] != sig[:-1]) | (ts[1:] - ts[:-1] > window_ns)))
    if starts.all():
        return np.empty(0, dtype=np.int64)
    run = np.cumsum(starts) - 1
    keep = np.minimum.reduceat(frame, np.flatnonzero(starts))
    return np.sort(frame[frame != keep[run]])
