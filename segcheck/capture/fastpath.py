"""Vectorised decoding of the common case with numpy.

Ethernet, optionally one 802.1Q tag, then IPv4 (any IHL, not a fragment) or IPv6 (no extension
header), then TCP or UDP (not a tunnel port). Headers sit at a few fixed offsets, so the fields
of all such packets of a batch are gathered at once; every other packet goes to the pure-Python
decoder.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


def _be16(a: np.ndarray, i: int) -> np.ndarray:
    return (a[:, i].astype(np.int64) << 8) | a[:, i + 1]


def _be_u64(a: np.ndarray, i: int, width: int) -> np.ndarray:
    return np.ascontiguousarray(a[:, i : i + width]).view(f">u{width}").ravel().astype(np.uint64)


def _empty_rows() -> dict[str, np.ndarray]:
    return {name: np.empty(0, dtype=ROW_DTYPE[name]) for name in ROW_DTYPE.names or ()}


def fast_rows(batch: Batch) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Row columns (as in ``decode.ROW_DTYPE``) of the fast-path packets, and the indices of
    the packets left for the slow path."""
    b = np.frombuffer(batch.buf, dtype=np.uint8)
    off, cap = batch.data_off, batch.caplen
    if len(b) < _HEAD + _L4:
        return _empty_rows(), np.arange(len(batch))
    cand = (batch.linktype == 1) & (cap >= 34) & (off + _HEAD <= len(b))
    idx = np.flatnonzero(cand)
    head = sliding_window_view(b, _HEAD)[off[idx]]
    et = _be16(head, 12)
    tagged = et == 0x8100
    et = np.where(tagged, _be16(head, 16), et)
    anytag = bool(tagged.any())
    l3h = np.where(tagged[:, None], head[:, 18:58], head[:, 14:54]) if anytag else head[:, 14:54]
    ver = l3h[:, 0] >> 4
    v4 = (et == 0x0800) & (ver == 4)
    v6 = (et == 0x86DD) & (ver == 6)
    ihl = (l3h[:, 0] & 15).astype(np.int64) * 4
    nofrag = ((l3h[:, 6] & 0x3F) | l3h[:, 7]) == 0  # MF clear and offset 0
    proto = np.where(v4, l3h[:, 9], l3h[:, 6]).astype(np.int64)
    l4 = np.where(tagged, 18, 14) + np.where(v4, ihl, 40)
    tcp = proto == 6
    ok = ((v4 & (ihl >= 20) & nofrag) | v6) & (tcp | (proto == 17))
    ok &= cap[idx] >= l4 + np.where(tcp, _L4, 4)
    ok &= off[idx] + l4 + _L4 <= len(b)
    sel = np.flatnonzero(ok)
    idx, head, l3h, l4 = idx[sel], head[sel], l3h[sel], l4[sel]
    tagged, v4, proto, tcp = tagged[sel], v4[sel], proto[sel], tcp[sel]
    l4h = sliding_window_view(b, _L4)[off[idx] + l4]
    sport, dport = _be16(l4h, 0), _be16(l4h, 2)
    tun = ~tcp & (np.isin(dport, _TUNNEL_PORTS) | np.isin(sport, (TEREDO_PORT, L2TP_PORT)))
    if tun.any():
        keep = ~tun
        idx, l3h, l4h, tagged, v4, proto, tcp = (
            x[keep] for x in (idx, l3h, l4h, tagged, v4, proto, tcp)
        )
        sport, dport = sport[keep], dport[keep]
        head = head[keep]
    if anytag:
        vid = np.where(tagged, _be16(head, 14) & 0xFFF, 0)
        vo = np.where(vid == 0, -1, vid)
    else:
        vo = np.full(len(idx), -1, dtype=np.int64)
    slo = np.uint64(V4MAPPED) | _be_u64(l3h, 12, 4)
    dlo = np.uint64(V4MAPPED) | _be_u64(l3h, 16, 4)
    shi = np.zeros(len(idx), dtype=np.uint64)
    dhi = np.zeros(len(idx), dtype=np.uint64)
    if not v4.all():  # IPv6 addresses only when there are IPv6 packets
        w6 = np.flatnonzero(~v4)
        l3v6 = l3h[w6]
        shi[w6], slo[w6] = _be_u64(l3v6, 8, 8), _be_u64(l3v6, 16, 8)
        dhi[w6], dlo[w6] = _be_u64(l3v6, 24, 8), _be_u64(l3v6, 32, 8)
    cols = {
        "frame": idx + batch.frame0,
        "ts": batch.ts_ns[idx],
        "length": batch.origlen[idx],
        "vo": vo,
        "vi": np.full(len(idx), -1, dtype=np.int64),
        "proto": proto,
        "shi": shi,
        "slo": slo,
        "dhi": dhi,
        "dlo": dlo,
        "sport": sport,
        "dport": dport,
        "flags": np.where(tcp, l4h[:, 13], NO_TCP).astype(np.int64),
        "kind": np.zeros(len(idx), dtype=np.int64),
    }
    slow = np.ones(len(batch), dtype=bool)
    slow[idx] = False
    return cols, np.flatnonzero(slow)
