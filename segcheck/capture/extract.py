"""Writing the packets of chosen flows to a new capture (``segcheck scan --extract``).

Two passes per input: the first decodes every packet exactly as flow building does and notes
the frames that belong to a chosen flow (a packet belongs to a flow if any of its layers does:
tunnel outer or inner); the second copies those records unchanged. One link type gives a
classic pcap (microsecond, or nanosecond when a timestamp needs it); several give a pcapng
with one interface per link type, since pcap has a single link type per file.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..flowtypes import FlowIdentity
from .api import batch_rows, iter_batches
from .decode import V4MAPPED, Decoder
from .flowtable import KEY, _hash, aggregate_rows, rows_to_columns
from .model import proto_number

FlowKey = tuple[int, ...]


def _addr(text: str) -> tuple[int, int]:
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return 0, V4MAPPED | int(a)
    return int(a) >> 64, int(a) & ((1 << 64) - 1)


def flow_key(f: FlowIdentity) -> FlowKey:
    """The canonical (bidirectional) key of a flow, as the flow table builds it."""
    proto = proto_number(f.proto)
    sp, dp = (f.dst_port, f.dst_port) if proto in (1, 58) else (f.src_port, f.dst_port)
    s, d = (*_addr(f.src_ip), sp), (*_addr(f.dst_ip), dp)
    a, b = (s, d) if s <= d else (d, s)
    vo = -1 if f.vlan is None else f.vlan
    vi = -1 if f.inner_vlan is None else f.inner_vlan
    return (vo, vi, proto, a[0], a[1], b[0], b[1], a[2], b[2])


def _key_hashes(keys: list[FlowKey]) -> np.ndarray:
    cols = {
        k: np.array(
            [key[i] for key in keys], dtype=np.uint64 if k[1:] in ("hi", "lo") else np.int64
        )
        for i, k in enumerate(KEY)
    }
    return _hash(cols)


def _matching_frames(
    cols: dict[str, np.ndarray], keys: set[FlowKey], hashes: np.ndarray
) -> list[int]:
    agg = aggregate_rows(cols)
    cand = np.flatnonzero(np.isin(_hash(agg), hashes) & (cols["kind"] != 1))
    if not len(cand):
        return []
    key_cols = [agg[k][cand].tolist() for k in KEY]
    frames = cols["frame"][cand].tolist()
    return [fr for fr, *key in zip(frames, *key_cols, strict=True) if tuple(key) in keys]


def _selected_frames(path: str, keys: set[FlowKey], hashes: np.ndarray) -> set[int]:
    frames: set[int] = set()
    dec = Decoder()
    for batch, _reader in iter_batches(path):
        frames.update(_matching_frames(batch_rows(batch, dec), keys, hashes))
    # Later fragments: resolve against their first fragment, as the flow table does.
    rows = []
    for fkey, row in dec.orphans:
        first = dec.frag_first.get(fkey)
        rows.append(row if first is None else row[:10] + (first[1], first[2]) + row[12:])
    if rows:
        frames.update(_matching_frames(rows_to_columns(rows), keys, hashes))
    return frames


class _Writer:
    def __init__(self, f: BinaryIO, link_types: list[int], nanos: bool, snaplen: int) -> None:
        self.f = f
        self.nanos = nanos
        self.ng = len(link_types) > 1
        self.iface = {lt: i for i, lt in enumerate(link_types)}
        if self.ng:
            shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1)
            f.write(shb + struct.pack("<I", 28))
            for lt in link_types:
                # if_tsresol = 9 (nanoseconds), then end of options
                body = struct.pack("<HHI", lt, 0, snaplen) + struct.pack("<HHB3x", 9, 1, 9)
                body += struct.pack("<HH", 0, 0)
                blen = 12 + len(body)
                f.write(struct.pack("<II", 1, blen) + body + struct.pack("<I", blen))
        else:
            magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
            lt = link_types[0] if link_types else 1
            f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, lt))

    def write(self, ts_ns: int, data: bytes, origlen: int, lt: int) -> None:
        if self.ng:
            pad = (-len(data)) % 4
            blen = 32 + len(data) + pad
            hdr = struct.pack(
                "<IIIIIII",
                6,
                blen,
                self.iface[lt],
                ts_ns >> 32,
                ts_ns & 0xFFFFFFFF,
                len(data),
                origlen,
            )
            self.f.write(hdr + data + b"\0" * pad + struct.pack("<I", blen))
        else:
            sec, frac = divmod(ts_ns, 1_000_000_000)
            if not self.nanos:
                frac //= 1000
            self.f.write(struct.pack("<IIII", sec, frac, len(data), origlen) + data)


def extract_packets(
    paths: Sequence[str | Path], flows: Iterable[FlowIdentity], out: str | Path
) -> int:
    """Write every packet of ``flows`` found in ``paths`` to ``out``; return how many.

    A flow is looked up in the input named by its ``input`` field. Original timestamps, bytes
    and link types are kept; packets are written in input order, then frame order.
    """
    names = [str(p) for p in paths]
    wanted: dict[str, set[FlowKey]] = {n: set() for n in names}
    for fl in flows:
        if fl.input in wanted:
            wanted[fl.input].add(flow_key(fl))
    plan: list[tuple[str, set[int]]] = []
    link_types: set[int] = set()
    nanos, snaplen = False, 0
    for name in names:
        keys = wanted[name]
        if not keys:
            continue
        frames = _selected_frames(name, keys, _key_hashes(sorted(keys)))
        if not frames:
            continue
        plan.append((name, frames))
        sel = np.array(sorted(frames), dtype=np.int64)
        for batch, _reader in iter_batches(name):
            idx = np.flatnonzero(np.isin(batch.frame0 + np.arange(len(batch)), sel))
            link_types.update(batch.linktype[idx].tolist())
            nanos |= bool((batch.ts_ns[idx] % 1000 != 0).any())
            snaplen = max(snaplen, int(batch.caplen[idx].max(initial=0)))
    written = 0
    with open(out, "wb") as f:
        w = _Writer(f, sorted(link_types), nanos, max(snaplen, 65535))
        for name, frames in plan:
            sel = np.array(sorted(frames), dtype=np.int64)
            for batch, _reader in iter_batches(name):
                idx = np.flatnonzero(np.isin(batch.frame0 + np.arange(len(batch)), sel))
                for i in idx.tolist():
                    o, c = int(batch.data_off[i]), int(batch.caplen[i])
                    w.write(
                        int(batch.ts_ns[i]),
                        bytes(batch.buf[o : o + c]),
                        int(batch.origlen[i]),
                        int(batch.linktype[i]),
                    )
                    written += 1
    return written
