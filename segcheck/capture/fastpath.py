"""Vectorised decoding of the common case with numpy.

Ethernet, optionally one 802.1Q tag, then IPv4 (any IHL, not a fragment) or IPv6 (no extension
header), then TCP or UDP (not a tunnel port). Headers sit at a few fixed offsets, so the fields
of all such packets of a batch are gathered at once; every other packet goes to the pure-Python
decoder.
"""

from __future__ import annotations

import numpy as np

from . import records
from .decode import (
    GENEVE_PORT,
    L2TP_PORT,
    MPLS_UDP_PORT,
    NO_TCP,
    ROW_DTYPE,
    TEREDO_PORT,
    V4MAPPED,
    VXLAN_PORT,
)
from .records import Batch

_HEAD = 58  # Ethernet (14) + 802.1Q (4) + IPv6 header (40)
_L4 = 14  # through the TCP flags byte
_TUNNEL_PORTS = np.array([VXLAN_PORT, GENEVE_PORT, MPLS_UDP_PORT, TEREDO_PORT, L2TP_PORT])
_BOTH_WAY_PORTS = (TEREDO_PORT, L2TP_PORT)  # tunnels recognised by their source port too
_TUNNEL_PORTS_I64 = _TUNNEL_PORTS.astype(np.int64)
_BOTH_WAY_PORTS_I64 = np.array(_BOTH_WAY_PORTS, dtype=np.int64)


def _u8(b: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return b[pos].astype(np.int64)


def _be16(b: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (_u8(b, pos) << 8) | _u8(b, pos + 1)


def _be_u64(b: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    v = b[pos].astype(np.uint64)
    for k in range(1, width):
        v = (v << np.uint64(8)) | b[pos + k]
    return v


def _empty_rows() -> dict[str, np.ndarray]:
    return {name: np.empty(0, dtype=ROW_DTYPE[name]) for name in ROW_DTYPE.names or ()}


def fast_rows(batch: Batch) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Row columns (as in ``decode.ROW_DTYPE``) of the fast-path packets, and the indices of
    the packets left for the slow path.

    The C accelerator's loop when it was built (one pass, no temporaries: about 10x faster),
    else :func:`fast_rows_numpy`; both give exactly the same columns.
    """
    accel = records._accel
    if accel is None or not hasattr(accel, "fast_rows"):
        return fast_rows_numpy(batch)
    m = len(batch)
    i64 = np.int64
    idx, vo, proto, sport, dport, flags = (np.empty(m, dtype=i64) for _ in range(6))
    shi, slo, dhi, dlo = (np.empty(m, dtype=np.uint64) for _ in range(4))
    n = accel.fast_rows(
        batch.buf,
        np.ascontiguousarray(batch.data_off, dtype=i64),
        np.ascontiguousarray(batch.caplen, dtype=i64),
        np.ascontiguousarray(batch.linktype, dtype=i64),
        idx,
        vo,
        proto,
        shi,
        slo,
        dhi,
        dlo,
        sport,
        dport,
        flags,
        V4MAPPED,
        NO_TCP,
        _TUNNEL_PORTS_I64,
        _BOTH_WAY_PORTS_I64,
    )
    idx = idx[:n]
    cols = {
        "frame": idx + batch.frame0,
        "ts": batch.ts_ns[idx],
        "length": batch.origlen[idx],
        "vo": vo[:n],
        "vi": np.full(n, -1, dtype=i64),
        "proto": proto[:n],
        "shi": shi[:n],
        "slo": slo[:n],
        "dhi": dhi[:n],
        "dlo": dlo[:n],
        "sport": sport[:n],
        "dport": dport[:n],
        "flags": flags[:n],
        "kind": np.zeros(n, dtype=i64),
    }
    slow = np.ones(m, dtype=bool)
    slow[idx] = False
    return cols, np.flatnonzero(slow)


def fast_rows_numpy(batch: Batch) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`fast_rows` with numpy (the reference, and the path without the accelerator).

    Every field is a 1-D gather at a computed offset (cheaper than gathering whole headers).
    """
    b = np.frombuffer(batch.buf, dtype=np.uint8)
    off, cap = batch.data_off, batch.caplen
    if len(b) < _HEAD + _L4:
        return _empty_rows(), np.arange(len(batch))
    cand = (batch.linktype == 1) & (cap >= 34) & (off + _HEAD <= len(b))
    idx = np.flatnonzero(cand)
    pos = off[idx]
    et = _be16(b, pos + 12)
    tagged = et == 0x8100
    anytag = bool(tagged.any())
    if anytag:
        et = np.where(tagged, _be16(b, pos + 16), et)
        l3 = pos + np.where(tagged, 18, 14)
    else:
        l3 = pos + 14
    vihl = _u8(b, l3)
    ver = vihl >> 4
    v4 = (et == 0x0800) & (ver == 4)
    v6 = (et == 0x86DD) & (ver == 6)
    ihl = (vihl & 15) * 4
    nofrag = ((_u8(b, l3 + 6) & 0x3F) | _u8(b, l3 + 7)) == 0  # MF clear and offset 0
    proto = np.where(v4, _u8(b, l3 + 9), _u8(b, l3 + 6))
    l4 = l3 + np.where(v4, ihl, 40)  # absolute offset of the transport header
    tcp = proto == 6
    ok = ((v4 & (ihl >= 20) & nofrag) | v6) & (tcp | (proto == 17))
    ok &= cap[idx] >= (l4 - pos) + np.where(tcp, _L4, 4)
    ok &= l4 + _L4 <= len(b)
    sel = np.flatnonzero(ok)
    idx, pos, l3, l4, tagged, v4, proto, tcp = (
        x[sel] for x in (idx, pos, l3, l4, tagged, v4, proto, tcp)
    )
    sport, dport = _be16(b, l4), _be16(b, l4 + 2)
    tun = ~tcp & (np.isin(dport, _TUNNEL_PORTS) | np.isin(sport, _BOTH_WAY_PORTS))
    if tun.any():
        keep = np.flatnonzero(~tun)
        idx, pos, l3, l4, tagged, v4, proto, tcp, sport, dport = (
            x[keep] for x in (idx, pos, l3, l4, tagged, v4, proto, tcp, sport, dport)
        )
    if anytag:
        vid = np.where(tagged, _be16(b, pos + 14) & 0xFFF, 0)
        vo = np.where(vid == 0, -1, vid)
    else:
        vo = np.full(len(idx), -1, dtype=np.int64)
    n = len(idx)
    if v4.all():
        slo = np.uint64(V4MAPPED) | _be_u64(b, l3 + 12, 4)
        dlo = np.uint64(V4MAPPED) | _be_u64(b, l3 + 16, 4)
        shi = np.zeros(n, dtype=np.uint64)
        dhi = np.zeros(n, dtype=np.uint64)
    else:  # IPv6 addresses only when there are IPv6 packets
        w4, w6 = np.flatnonzero(v4), np.flatnonzero(~v4)
        slo, dlo = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
        shi, dhi = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint64)
        slo[w4] = np.uint64(V4MAPPED) | _be_u64(b, l3[w4] + 12, 4)
        dlo[w4] = np.uint64(V4MAPPED) | _be_u64(b, l3[w4] + 16, 4)
        a6 = l3[w6]
        shi[w6], slo[w6] = _be_u64(b, a6 + 8, 8), _be_u64(b, a6 + 16, 8)
        dhi[w6], dlo[w6] = _be_u64(b, a6 + 24, 8), _be_u64(b, a6 + 32, 8)
    cols = {
        "frame": idx + batch.frame0,
        "ts": batch.ts_ns[idx],
        "length": batch.origlen[idx],
        "vo": vo,
        "vi": np.full(n, -1, dtype=np.int64),
        "proto": proto,
        "shi": shi,
        "slo": slo,
        "dhi": dhi,
        "dlo": dlo,
        "sport": sport,
        "dport": dport,
        "flags": np.where(tcp, _u8(b, l4 + 13), NO_TCP),
        "kind": np.zeros(n, dtype=np.int64),
    }
    slow = np.ones(len(batch), dtype=bool)
    slow[idx] = False
    return cols, np.flatnonzero(slow)
