"""Writing the packets of chosen flows to a new capture (``segcheck scan --extract``).

Per input, a first pass decodes every packet exactly as flow building does and notes the
frames that belong to a chosen flow (a packet belongs to a flow if any of its layers does:
tunnel outer or inner); a second notes their link types and time span, so that nothing is
written when the output cannot hold them; the last copies those records unchanged.

The name chooses the format: `.pcapng` gives one interface per link type with nanosecond
timestamps and, for times before 1970, an if_tsoffset; anything else a classic pcap
(microsecond, or nanosecond when a timestamp needs it), which holds one link type and times
from 1970 to 2106 only, so other packets are refused with a hint to name the file .pcapng.
Flow logs (Zeek, Suricata EVE, firewall traffic logs, NetFlow) hold flows but no packets: their
flows are counted and left out.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..errors import SegcheckError, UsageError
from ..flowtypes import FlowIdentity
from ..outputs import OutputFile, check_output, open_output
from .api import _open_reader, batch_rows, iter_batches
from .decode import V4MAPPED, Decoder
from .dedup import copies, empty_ledger
from .flowtable import FRAME_BITS, FRAME_MASK, KEY, _hash, aggregate_rows, rows_to_columns
from .model import proto_number
from .records import Batch
from .source import ByteSource
from .sources import PacketSource

PCAP_SECONDS = 1 << 32  # a pcap record's seconds field is unsigned 32-bit: up to 2106-02-07

FlowKey = tuple[int, ...]
T = TypeVar("T")


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
    cols: dict[str, np.ndarray], keys: set[FlowKey], hashes: np.ndarray, found: set[FlowKey]
) -> list[int]:
    """Frames of `cols` that belong to one of `keys`; the keys seen are added to `found`."""
    agg = aggregate_rows(cols)
    cand = np.flatnonzero(np.isin(_hash(agg), hashes) & (cols["kind"] != 1))
    if not len(cand):
        return []
    key_cols = [agg[k][cand].tolist() for k in KEY]
    frames = cols["frame"][cand].tolist()
    out = []
    for fr, *key in zip(frames, *key_cols, strict=True):
        k = tuple(key)
        if k in keys:
            out.append(fr)
            found.add(k)
    return out


def _selected_frames(
    path: str, keys: set[FlowKey], hashes: np.ndarray
) -> tuple[set[int], set[FlowKey], np.ndarray]:
    """The frames of ``keys``' flows, the keys found, and the tap ledger of those frames."""
    frames: set[int] = set()
    found: set[FlowKey] = set()
    dec = Decoder()
    ledgers: list[np.ndarray] = []
    for batch, _reader in iter_batches(path):
        frames.update(_matching_frames(batch_rows(batch, dec, ledgers), keys, hashes, found))
    # Later fragments: resolve against their first fragment, as the flow table does.
    rows = []
    for fkey, row in dec.orphans:
        first = dec.frag_first.get(fkey)
        rows.append(row if first is None else row[:10] + (first[1], first[2]) + row[12:])
    if rows:
        frames.update(_matching_frames(rows_to_columns(rows), keys, hashes, found))
    ledger = np.concatenate(ledgers) if ledgers else empty_ledger()
    if len(ledger):  # only the chosen packets can be copies of chosen packets
        ledger = ledger[np.isin(ledger["frame"], np.fromiter(frames, dtype=np.int64))]
    return frames, found, ledger


def is_packet_capture(path: str | Path) -> bool:
    """False for a flow log (flows, no packets); True otherwise, unreadable files included:
    reading them is the scan's business, and it reports what is wrong."""
    try:
        with ByteSource(path) as src:
            return isinstance(_open_reader(src, str(path)), PacketSource)
    except (OSError, SegcheckError):
        return True


def wants_pcapng(out: str | Path) -> bool:
    return str(out).lower().endswith(".pcapng")


def check_extract_target(
    out: str | Path,
    paths: Sequence[str | Path],
    *,
    inputs: Iterable[str | Path] = (),
    force: bool = False,
) -> None:
    """Refuse, before any work, an extraction that could not be written or holds nothing.

    `inputs` are other files of the run (the topology) that must not be overwritten either.
    """
    check_output(out, inputs=[*paths, *inputs], replace=force)
    if paths and not any(is_packet_capture(p) for p in paths):
        raise UsageError(
            f"{out}: nothing to extract: every input is a flow log (Zeek, Suricata, firewall or "
            "NetFlow), which holds flows but no packets (extract from the pcap or pcapng the log "
            "was made from)"
        )


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """What an extraction wrote, and which chosen flows had no packets to give."""

    path: str
    format: str  # "pcap" | "pcapng"
    packets: int
    flows: int
    logs: tuple[tuple[str, int], ...] = ()  # flow logs holding chosen flows, and how many

    def describe(self) -> list[str]:
        """One line on what was written, one per flow log whose flows could not be."""
        s = "" if self.flows == 1 else "s"
        lines = [
            f"extracted {self.packets} packets of {self.flows} flow{s} to {self.path} "
            f"({self.format})"
        ]
        for log, count in self.logs:
            s = "" if count == 1 else "s"
            lines.append(f"{log}: a flow log has no packets to extract ({count} flow{s} left out)")
        return lines


@dataclass
class _Plan:
    frames: list[tuple[str, set[int]]] = field(default_factory=list)
    link_types: set[int] = field(default_factory=set)
    nanos: bool = False
    snaplen: int = 0
    min_ts: int | None = None
    max_ts: int | None = None
    first_out_of_pcap: tuple[str, int, int] | None = None  # input, frame, ts_ns
    first_bad_link: tuple[str, int] | None = None


def _when(ts_ns: int) -> str:
    seconds = ts_ns // 1_000_000_000
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} s from 1970"


def _note_batch(plan: _Plan, name: str, batch: Batch, idx: np.ndarray) -> None:
    if not len(idx):
        return
    frames = batch.frame0 + idx
    lts, ts = batch.linktype[idx], batch.ts_ns[idx]
    plan.link_types.update(lts.tolist())
    plan.nanos |= bool((ts % 1000 != 0).any())
    plan.snaplen = max(plan.snaplen, int(batch.caplen[idx].max(initial=0)))
    lo, hi = int(ts.min()), int(ts.max())
    plan.min_ts = lo if plan.min_ts is None else min(plan.min_ts, lo)
    plan.max_ts = hi if plan.max_ts is None else max(plan.max_ts, hi)
    outside = np.flatnonzero((ts < 0) | (ts >= PCAP_SECONDS * 1_000_000_000))
    if len(outside) and plan.first_out_of_pcap is None:
        plan.first_out_of_pcap = (name, int(frames[outside[0]]), int(ts[outside[0]]))
    bad = np.flatnonzero((lts < 0) | (lts > 0xFFFF))
    if len(bad) and plan.first_bad_link is None:
        plan.first_bad_link = (name, int(frames[bad[0]]))


def _check_plan(plan: _Plan, out: str | Path, ng: bool) -> int:
    """Refuse what the chosen format cannot hold; the pcapng if_tsoffset (seconds) to use."""
    if plan.first_bad_link is not None:
        name, frame = plan.first_bad_link
        raise UsageError(f"{name}: frame {frame} names no valid interface; cannot extract it")
    if not ng:
        if len(plan.link_types) > 1:
            kinds = ", ".join(str(lt) for lt in sorted(plan.link_types))
            raise UsageError(
                f"{out}: the packets have several link types ({kinds}) and a pcap file holds "
                "one; name the output .pcapng"
            )
        if plan.first_out_of_pcap is not None:
            name, frame, ts = plan.first_out_of_pcap
            raise UsageError(
                f"{out}: {name} frame {frame} has a timestamp ({_when(ts)}) that a pcap file "
                "cannot hold (before 1970 or after 2106); name the output .pcapng"
            )
        return 0
    # pcapng ticks are unsigned: an earlier origin (if_tsoffset) keeps times before 1970.
    offset = 0 if plan.min_ts is None or plan.min_ts >= 0 else plan.min_ts // 1_000_000_000
    if plan.max_ts is not None and plan.max_ts - offset * 1_000_000_000 >= 1 << 64:
        raise UsageError(f"{out}: the packets span more than 584 years; cannot extract them")
    return offset


class _Writer:
    def __init__(
        self, f: OutputFile, link_types: list[int], ng: bool, nanos: bool, snaplen: int, offset: int
    ) -> None:
        self.f = f
        self.nanos = nanos
        self.ng = ng
        self.offset_ns = offset * 1_000_000_000
        self.iface = {lt: i for i, lt in enumerate(link_types)}
        if self.ng:
            shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1)
            f.write(shb + struct.pack("<I", 28))
            for lt in link_types:
                # if_tsresol = 9 (nanoseconds), if_tsoffset when needed, then end of options
                body = struct.pack("<HHI", lt, 0, snaplen) + struct.pack("<HHB3x", 9, 1, 9)
                if offset:
                    body += struct.pack("<HHq", 14, 8, offset)
                body += struct.pack("<HH", 0, 0)
                blen = 12 + len(body)
                f.write(struct.pack("<II", 1, blen) + body + struct.pack("<I", blen))
        else:
            magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
            lt = link_types[0] if link_types else 1
            f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, lt))

    def write(self, ts_ns: int, data: bytes, origlen: int, lt: int) -> None:
        if self.ng:
            ticks = ts_ns - self.offset_ns
            pad = (-len(data)) % 4
            blen = 32 + len(data) + pad
            hdr = struct.pack(
                "<IIIIIII",
                6,
                blen,
                self.iface[lt],
                ticks >> 32,
                ticks & 0xFFFFFFFF,
                len(data),
                origlen,
            )
            self.f.write(hdr + data + b"\0" * pad + struct.pack("<I", blen))
        else:
            sec, frac = divmod(ts_ns, 1_000_000_000)
            if not self.nanos:
                frac //= 1000
            self.f.write(struct.pack("<IIII", sec, frac, len(data), origlen) + data)


def _done(value: T) -> Future[T]:
    """A value computed here, as a finished future (no executor)."""
    future: Future[T] = Future()
    future.set_result(value)
    return future


def _chosen(batch: Batch, frames: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isin(batch.frame0 + np.arange(len(batch)), frames))


def extract_packets(
    paths: Sequence[str | Path],
    flows: Iterable[FlowIdentity],
    out: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    force: bool = False,
    executor: Executor | None = None,
) -> ExtractResult:
    """Write every packet of ``flows`` found in ``paths`` to ``out``.

    A flow is looked up in the input named by its ``input`` field. Original timestamps, bytes
    and link types are kept; packets are written in input order, then frame order. ``out`` is
    pcapng when its name ends in ``.pcapng`` (one interface per link type, nanosecond
    timestamps), else pcap. Nothing is written, and UsageError says why, when ``out`` is an
    input (of ``paths`` or ``inputs``), a link or folder, exists without ``force``, or cannot
    hold the packets; a pcap is written whole or not at all (see :mod:`segcheck.outputs`).

    ``executor``: where the first pass runs, one task per input (``scan --cluster``: on the
    workers, which return the chosen frame numbers and their tap signatures, never packets);
    the records are then copied here, so the inputs must be readable here too.
    """
    names = [str(p) for p in paths]
    extra = [str(p) for p in inputs]
    check_extract_target(out, names, inputs=extra, force=force)
    wanted: dict[str, set[FlowKey]] = {n: set() for n in names}
    packet_keys: set[FlowKey] = set()  # a capture's flow may go on in later captures
    for fl in flows:
        if fl.input in wanted:
            wanted[fl.input].add(flow_key(fl))
    captures = {n: is_packet_capture(n) for n in names}
    for name in names:
        if captures[name]:
            packet_keys |= wanted[name]
    plan = _Plan()
    logs: list[tuple[str, int]] = []
    seen: set[FlowKey] = set()
    chosen: list[tuple[int, str, set[int]]] = []
    ledgers: list[np.ndarray] = []
    # The first pass (decoding every packet) is one task per input, on ``executor`` if given.
    hashes = _key_hashes(sorted(packet_keys))
    selected: dict[int, Future[tuple[set[int], set[FlowKey], np.ndarray]]] = {}
    for index, name in enumerate(names):
        if captures[name] and packet_keys:
            selected[index] = (
                executor.submit(_selected_frames, name, packet_keys, hashes)
                if executor is not None
                else _done(_selected_frames(name, packet_keys, hashes))
            )
    for index, name in enumerate(names):
        keys = packet_keys if captures[name] else wanted[name]
        if not keys:
            continue
        if not captures[name]:
            logs.append((name, len(keys)))
            continue
        frames, found, ledger = selected[index].result()
        seen |= found
        if frames:
            chosen.append((index, name, frames))
            ledger["frame"] += index << FRAME_BITS
            ledgers.append(ledger)
    # A packet seen on two capture points is written once, where the scan counted it.
    dups = copies(np.concatenate(ledgers)) if ledgers else np.empty(0, dtype=np.int64)
    for index, name, frames in chosen:
        mine = dups[(dups >> FRAME_BITS) == index] & FRAME_MASK
        if len(mine):
            frames -= set(mine.tolist())
        if not frames:
            continue
        plan.frames.append((name, frames))
        sel = np.array(sorted(frames), dtype=np.int64)
        for batch, _reader in iter_batches(name):
            _note_batch(plan, name, batch, _chosen(batch, sel))
    ng = wants_pcapng(out)
    offset = _check_plan(plan, out, ng)
    written = 0
    with open_output(out, inputs=[*names, *extra], replace=force) as f:
        snaplen = max(plan.snaplen, 65535)
        w = _Writer(f, sorted(plan.link_types), ng, plan.nanos, snaplen, offset)
        for name, frames in plan.frames:
            sel = np.array(sorted(frames), dtype=np.int64)
            for batch, _reader in iter_batches(name):
                for i in _chosen(batch, sel).tolist():
                    o, c = int(batch.data_off[i]), int(batch.caplen[i])
                    w.write(
                        int(batch.ts_ns[i]),
                        bytes(batch.buf[o : o + c]),
                        int(batch.origlen[i]),
                        int(batch.linktype[i]),
                    )
                    written += 1
    n_flows = len(seen)
    return ExtractResult(str(out), "pcapng" if ng else "pcap", written, n_flows, tuple(logs))
