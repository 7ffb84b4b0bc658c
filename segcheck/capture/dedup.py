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
from numpy.lib.stride_tricks import sliding_window_view

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


def _mix(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    x: np.ndarray = np.bitwise_xor(h, v.astype(np.uint64, copy=False))
    x = np.multiply(x, _M1)
    x = np.bitwise_xor(x, np.right_shift(x, np.uint64(31)))
    return np.multiply(x, _M2)


def fast_ledger(batch: Batch, cols: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """Ledger entries of the fast-path rows ``cols`` (record indices ``idx`` in ``batch``).

    Reads only what the fast path checked is inside the record: the L3 header and the first
    bytes of the transport segment, within the captured length.
    """
    n = len(idx)
    out = mapped_empty(n, LEDGER_DTYPE)  # kept to the end of the scan: not in the heap
    if n == 0:
        return out
    raw = np.frombuffer(batch.buf, dtype=np.uint8)
    pos = batch.data_off[idx]
    cap = batch.caplen[idx]
    # Only the stretch of the buffer these records start in (a sub-batch's share, not the
    # whole 32 MB chunk), padded so that reads never leave the array: every read lies within
    # _PAD bytes of its record's start, and a segment cut by the stretch's end is still
    # HASHED bytes long (or cut where the buffer ends, as before).
    lo = int(pos.min())
    raw = raw[lo : min(len(raw), int(pos.max()) + _PAD)]
    pos = pos - lo
    b = np.concatenate((raw, np.zeros(_PAD, dtype=np.uint8)))
    tagged = (b[pos + 12].astype(np.int64) << 8 | b[pos + 13]) == 0x8100
    l3 = pos + np.where(tagged, 18, 14)
    v4 = (b[l3] >> 4) == 4
    ihl = np.where(v4, (b[l3] & 15).astype(np.int64) * 4, 40)
    l4 = l3 + ihl
    ident = np.where(v4, (b[l3 + 4].astype(np.int64) << 8) | b[l3 + 5], 0)
    length = np.where(
        v4,
        (b[l3 + 2].astype(np.int64) << 8) | b[l3 + 3],
        (b[l3 + 4].astype(np.int64) << 8) | b[l3 + 5],
    )
    # The segment's first HASHED bytes, zero past the captured length (or the buffer's end).
    avail = np.clip(np.minimum(pos + cap, len(raw)) - l4, 0, HASHED)
    win = sliding_window_view(b, HASHED)[np.clip(l4, 0, len(raw))]
    seg = np.where(np.arange(HASHED) < avail[:, None], win, 0).astype(np.uint8)
    words = np.ascontiguousarray(seg).view(np.uint64)  # HASHED // 8 words per packet
    h = np.zeros(n, dtype=np.uint64)
    # Direction-free: a copy is the same packet, so the key needs no canonical order.
    for v in (cols["shi"], cols["slo"], cols["dhi"], cols["dlo"], cols["proto"]):
        h = _mix(h, v)
    for v in (cols["sport"], cols["dport"], ident, length, avail):
        h = _mix(h, v)
    for k in range(words.shape[1]):
        h = _mix(h, words[:, k])
    out["sig"] = h
    out["ts"] = cols["ts"]
    out["frame"] = cols["frame"]
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
    raw = np.frombuffer(batch.buf, dtype=np.uint8)
    b = np.concatenate((raw, np.zeros(_PAD, dtype=np.uint8)))
    pos = batch.data_off[i]
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
