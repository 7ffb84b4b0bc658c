"""Container readers: pcap and pcapng records as numpy batches over chunks of the file.

A reader walks the record (block) headers of one chunk of the byte stream in Python, then
gathers the per-record fields with numpy. Records are delivered in :class:`Batch` objects
that point into the chunk buffer; a record cut by a chunk boundary is carried into the next
chunk, so memory stays bounded by the chunk size whatever the capture size.
"""

from __future__ import annotations

import importlib
import os
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import CaptureError
from .model import StoppedAt
from .source import ByteSource


def _load_accel() -> Any:
    """The optional C record walker (setup.py builds it when a compiler is available)."""
    if os.environ.get("SEGCHECK_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(".capture._accel", "segcheck")
    except ImportError:
        return None


_accel: Any = _load_accel()

# Bytes read at a time. 16 MiB reads as fast as 32 (measured) and is 30-60 MB smaller at the
# peak of reading (the arena, its batch arrays); 8 MiB left more batch arrays in the heap.
CHUNK = 16 << 20
# A record longer than this is taken as corruption (tshark's own limit for most link types is
# 256 KiB); a header snaplen between this and 16 MiB raises the limit.
DEFAULT_CAPLEN_LIMIT = 262144
MAX_CAPLEN_LIMIT = 16 << 20
MAX_BLOCK = 64 << 20

PCAP_MAGICS: dict[bytes, tuple[str, bool]] = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

SHB, IDB, PB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6


@dataclass
class Batch:
    """Consecutive records of one chunk; arrays are parallel, one entry per record."""

    buf: bytes | memoryview  # valid only until the reader produces the next batch
    data_off: np.ndarray  # int64, start of packet bytes in buf
    caplen: np.ndarray  # int64
    origlen: np.ndarray  # int64
    ts_ns: np.ndarray  # int64, epoch nanoseconds
    linktype: np.ndarray  # int64, -1 where the record names no valid interface
    frame0: int  # 1-based frame number of the first record

    def __len__(self) -> int:
        return len(self.data_off)


@dataclass
class PcapHeader:
    endian: str
    nanos: bool
    snaplen: int
    linktype: int


def parse_pcap_header(head: bytes) -> PcapHeader | None:
    if len(head) < 24 or head[:4] not in PCAP_MAGICS:
        return None
    endian, nanos = PCAP_MAGICS[head[:4]]
    snaplen, linktype = struct.unpack_from(endian + "II", head, 16)
    # The upper 16 bits carry FCS length and reserved flags (libpcap LT_LINKTYPE).
    return PcapHeader(endian, nanos, snaplen, linktype & 0xFFFF)


def _caplen_limit(snaplen: int) -> int:
    return max(DEFAULT_CAPLEN_LIMIT, min(snaplen, MAX_CAPLEN_LIMIT))


def _gather_u32(b: np.ndarray, offs: np.ndarray, width: int, endian: str) -> np.ndarray:
    """(n, width//4) array of the u32 words at each offset (offsets need not be aligned)."""
    # ``width`` opaque bytes starting at every byte of ``b``: one gather copies each record
    # header whole (a strided window view copies it byte by byte).
    every = np.ndarray((max(0, len(b) - width + 1),), np.dtype((np.void, width)), b, 0, (1,))
    words = every[offs].view(np.dtype(endian + "u4")).reshape(len(offs), width // 4)
    return words.astype(np.int64)


@dataclass
class ReaderState:
    """Outcome of a reader, filled in as it goes."""

    records: int = 0
    stopped_at: StoppedAt | None = None
    link_types: set[int] = field(default_factory=set)
    end_offset: int = 0  # stream offset just after the last record taken
    aligned: bool = True  # for a range reader: the last record ended exactly at the range end


def walk_pcap(
    buf: bytes | memoryview, o: int, endian: str, limit: int, stop_at: int
) -> tuple[np.ndarray, int, int | None]:
    """Record start offsets in ``buf`` from ``o``.

    Returns (starts, next offset, bad caplen or None). Stops before a record that does not fit
    in ``buf`` (the caller carries it over), at ``stop_at``, or at an impossible caplen.
    Uses the C accelerator when it was built, else :func:`walk_pcap_py` (same result).
    """
    if _accel is None:
        return walk_pcap_py(buf, o, endian, limit, stop_at)
    out = np.empty(max(0, len(buf) - o) // 16 + 1, dtype=np.int64)
    n, o, bad = _accel.walk_pcap(buf, out, o, endian == ">", limit, min(stop_at, 1 << 62))
    return out[:n].copy() if n < len(out) // 2 else out[:n], o, None if bad < 0 else bad


def walk_pcap_py(
    buf: bytes | memoryview, o: int, endian: str, limit: int, stop_at: int
) -> tuple[np.ndarray, int, int | None]:
    """Pure-Python :func:`walk_pcap` (the reference; used when the accelerator is missing)."""
    unpack = struct.Struct(endian + "I").unpack_from
    size = len(buf)
    parts: list[np.ndarray] = []
    # Probe a few records carefully to learn the typical record size.
    probe: list[int] = []
    while len(probe) < 32 and o + 16 <= size and o < stop_at:
        c = unpack(buf, o + 8)[0]
        if c > limit or o + 16 + c > size:
            break
        probe.append(o)
        o += 16 + c
    parts.append(np.array(probe, dtype=np.int64))
    guess = (o - probe[0]) // len(probe) if probe else 64
    # Fast phase: a list comprehension follows the chain without bounds checks (about twice as
    # fast as a checked loop), aiming at half the remaining bytes so it rarely overshoots; the
    # result is validated afterwards and a failed attempt is retried shorter.
    k = (min(size, stop_at) - o) // (2 * guess)
    while k >= 64 and len(probe) == 32:
        o0 = o
        try:
            ends = np.array([o := o + 16 + unpack(buf, o + 8)[0] for _ in range(k)], dtype=np.int64)
        except struct.error:
            ends = np.array([size + 1], dtype=np.int64)
        steps = np.diff(ends, prepend=o0)
        if ends[-1] > size or int(steps.max()) > 16 + limit:
            o = o0
            k //= 4
            continue
        parts.append(np.concatenate((np.array([o0], dtype=np.int64), ends[:-1])))
        guess = max(16, (int(ends[-1]) - o0) // k)
        k = (min(size, stop_at) - o) // (2 * guess)
    bad: int | None = None
    tail: list[int] = []
    while o + 16 <= size and o < stop_at:
        c = unpack(buf, o + 8)[0]
        if c > limit:
            bad = c
            break
        if o + 16 + c > size:
            break
        tail.append(o)
        o += 16 + c
    parts.append(np.array(tail, dtype=np.int64))
    starts = np.concatenate(parts)
    if len(starts) and starts[-1] >= stop_at:  # the fast phase may overshoot the range end
        cut = int(np.searchsorted(starts, stop_at))
        o = int(starts[cut])
        starts = starts[:cut]
        bad = None
    return starts, o, bad


class PcapReader:
    """Classic libpcap files, either byte order, micro- or nanosecond times."""

    kind: ClassVar[str] = "pcap"
    title: ClassVar[str] = "pcap"

    def __init__(
        self,
        src: ByteSource,
        header: PcapHeader,
        start: int = 24,
        end: int | None = None,
        frame0: int = 1,
    ) -> None:
        self.src = src
        self.h = header
        self.start = start
        self.end = end
        self.frame0 = frame0
        self.state = ReaderState(end_offset=start)
        self.state.link_types.add(header.linktype)

    @staticmethod
    def sniff(head: bytes) -> bool:
        """One of the four pcap magics."""
        return head[:4] in PCAP_MAGICS

    @classmethod
    def open(cls, src: ByteSource, path: str) -> PcapReader:
        """A reader after the file header; CaptureError when the header is cut short."""
        head = src.peek(24)
        h = parse_pcap_header(head)
        if h is None:
            raise CaptureError(
                path, f"pcap file header cut short at byte offset {len(head)} (24 bytes needed)"
            )
        return cls(src, h)

    def batches(self, chunk: int | None = None) -> Iterator[Batch]:
        chunk = chunk or CHUNK
        if not self.src.compressed:  # a small file (a rotated piece) needs no full-size arena
            chunk = max(1 << 16, min(chunk, self.src.size + 1))
        h, st = self.h, self.state
        limit = _caplen_limit(h.snaplen)
        self.src.skip(self.start)
        pos, pending, frame = self.start, b"", self.frame0
        stop_at = self.end if self.end is not None else 1 << 62
        arena = bytearray(0)
        while True:
            # Reuse one buffer: a batch is consumed before the next one is read.
            if len(arena) < len(pending) + chunk:
                arena = bytearray(len(pending) + chunk)
            arena[: len(pending)] = pending
            got = self.src.readinto(memoryview(arena)[len(pending) : len(pending) + chunk])
            eof = got < chunk
            buf = memoryview(arena)[: len(pending) + got]
            starts, o, bad = walk_pcap(buf, 0, h.endian, limit, stop_at - pos)
            n = len(starts)
            if n:
                b = np.frombuffer(buf, dtype=np.uint8)
                w = _gather_u32(b, starts, 16, h.endian)
                frac = w[:, 1] if h.nanos else w[:, 1] * 1000
                yield Batch(
                    buf,
                    starts + 16,
                    w[:, 2],
                    w[:, 3],
                    w[:, 0] * 1_000_000_000 + frac,
                    np.full(n, h.linktype, dtype=np.int64),
                    frame,
                )
            frame += n
            st.records += n
            pending = bytes(buf[o:])
            pos += o
            st.end_offset = pos
            if bad is not None:
                st.stopped_at = StoppedAt(pos, frame, f"record length {bad} exceeds limit {limit}")
                return
            if pos >= stop_at:
                st.aligned = pos == stop_at
                return
            if eof:
                if pending:
                    reason = self.src.damage or "file ends inside a record"
                    st.stopped_at = StoppedAt(pos, frame, reason)
                elif self.src.damage:
                    st.stopped_at = StoppedAt(pos, frame, self.src.damage)
                return


@dataclass
class _Iface:
    linktype: int
    snaplen: int
    tsresol: int  # byte as in if_tsresol
    tsoffset: int  # seconds


def _ticks_to_ns(ticks: np.ndarray, tsresol: int) -> np.ndarray:
    if tsresol & 0x80:
        k = tsresol & 0x7F
        secs = ticks >> k
        frac = (ticks & ((1 << k) - 1)).astype(np.float64) / float(1 << k)
        return secs * 1_000_000_000 + np.round(frac * 1e9).astype(np.int64)
    if tsresol <= 9:
        return ticks * 10 ** (9 - tsresol)
    return ticks // 10 ** (tsresol - 9)


_NS_MIN, _NS_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def _shift_ns(ts: np.ndarray, seconds: int) -> np.ndarray:
    """``ts`` plus an if_tsoffset, pinned to the int64 nanosecond range (years 1677-2262).

    The option is a signed 64-bit count of seconds, so it can lie far beyond what a
    nanosecond timestamp holds; such a time is shown at the limit rather than wrapped.
    """
    off = seconds * 1_000_000_000
    if off == 0:
        return ts
    if not _NS_MIN <= off <= _NS_MAX:
        return np.full_like(ts, _NS_MAX if off > 0 else _NS_MIN)
    if off > 0:
        return np.where(ts > _NS_MAX - off, _NS_MAX, ts + off)
    return np.where(ts < _NS_MIN - off, _NS_MIN, ts + off)


def _valid_tsresol(tsresol: int) -> bool:
    """A resolution whose tick arithmetic fits int64; a damaged one keeps the default (µs)."""
    return tsresol & 0x7F <= 62 if tsresol & 0x80 else tsresol <= 27


def _idb(buf: bytes, o: int, blen: int, e: str) -> _Iface:
    lt, _, snap = struct.unpack_from(e + "HHI", buf, o + 8)
    tsresol, tsoffset = 6, 0
    p, end = o + 16, o + blen - 4
    while p + 4 <= end:
        code, olen = struct.unpack_from(e + "HH", buf, p)
        if code == 0 or p + 4 + olen > end:  # end of options, or an option overrunning the block
            break
        if code == 9 and olen >= 1 and _valid_tsresol(buf[p + 4]):
            tsresol = buf[p + 4]
        elif code == 14 and olen == 8:
            tsoffset = struct.unpack_from(e + "q", buf, p + 4)[0]
        p += 4 + ((olen + 3) & ~3)
    return _Iface(lt, snap, tsresol, tsoffset)


def _merge_offsets(epbs: list[int], runs: list[np.ndarray]) -> list[int] | np.ndarray:
    """EPB offsets taken one by one and by the C walk, in file order."""
    if not runs:
        return epbs
    return np.sort(np.concatenate([*runs, np.array(epbs, dtype=np.int64)]))


def _section_endian(buf: bytes, o: int) -> str | None:
    """The byte order a section header's magic declares, or None when it is damaged."""
    bom = buf[o + 8 : o + 12]
    if bom == b"\x4d\x3c\x2b\x1a":
        return "<"
    if bom == b"\x1a\x2b\x3c\x4d":
        return ">"
    return None


class PcapngReader:
    """pcapng, sections of either byte order, any number of interfaces."""

    kind: ClassVar[str] = "pcapng"
    title: ClassVar[str] = "pcapng"

    def __init__(self, src: ByteSource) -> None:
        self.src = src
        self.state = ReaderState()
        self.ifaces: list[_Iface] = []
        # Carried from chunk to chunk: the section's byte order, the index in `ifaces` of its
        # interface 0, whether a section header was seen, the number of the next frame.
        self._endian, self._base, self._seen, self._frame = "<", 0, False, 1

    @staticmethod
    def sniff(head: bytes) -> bool:
        """A section header block first."""
        return head[:4] == PCAPNG_MAGIC

    @classmethod
    def open(cls, src: ByteSource, path: str) -> PcapngReader:
        """A reader at the first section header (checked as blocks are read)."""
        return cls(src)

    def batches(self, chunk: int | None = None) -> Iterator[Batch]:
        """Read the file a chunk at a time; a block cut by the chunk's end waits for the next."""
        chunk = chunk or CHUNK
        st = self.state
        pos, pending = 0, b""
        self._endian, self._base, self._seen, self._frame = "<", 0, False, 1
        while True:
            data = self.src.read(chunk)
            eof = len(data) < chunk
            buf = pending + data if pending else data
            o, corrupt = yield from self._walk(buf)
            st.records = self._frame - 1
            pending = buf[o:]
            pos += o
            st.end_offset = pos
            if corrupt is not None:
                st.stopped_at = StoppedAt(pos, self._frame, corrupt)
                return
            if eof:
                if pending or self.src.damage:
                    reason = self.src.damage or "file ends inside a block"
                    st.stopped_at = StoppedAt(pos, self._frame, reason)
                return

    def _walk(self, buf: bytes) -> Generator[Batch, None, tuple[int, str | None]]:
        """The blocks of one chunk: its batches, then (offset of the first block not taken,
        why reading must stop there or None).

        EPBs, nearly every block of a capture, are taken in runs by the C walker when it was
        built (it stops at any other block, or one it doubts); everything else is checked
        here and handed to `_header_block`. A section header first yields the packets of the
        section before it, in that section's byte order.
        """
        size = len(buf)
        o = 0
        recs: list[tuple[int, int, int, int, int, int, int]] = []  # off, if, hi, lo, cap, len, data
        epbs: list[int] = []
        runs: list[np.ndarray] = []  # EPB offsets found by the C walk
        endian, seen = self._endian, self._seen
        head = struct.Struct(endian + "II").unpack_from
        tail = struct.Struct(endian + "I").unpack_from
        walk = _accel.walk_epb if _accel is not None and hasattr(_accel, "walk_epb") else None
        walked = np.empty(size // 32 + 1 if walk is not None else 0, dtype=np.int64)
        filled = 0  # walked[:filled]: this chunk's offsets from the C walk
        corrupt: str | None = None
        while o + 12 <= size:
            if walk is not None and seen:
                n, o = walk(buf, walked[filled:], o, endian == ">", MAX_BLOCK)
                if n:
                    runs.append(walked[filled : filled + n])
                    filled += n
                if o + 12 > size:
                    break
            btype, blen = head(buf, o)
            new_endian = None
            if btype == SHB:
                new_endian = _section_endian(buf, o)
                if new_endian is None:
                    corrupt = "bad section header byte-order magic"
                    break
                blen = struct.unpack_from(new_endian + "I", buf, o + 4)[0]
            if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                corrupt = f"bad block length {blen}"
                break
            if o + blen > size:
                break
            if new_endian is not None:
                batch = self._make_batch(
                    buf, _merge_offsets(epbs, runs), recs, endian, self._base, self._frame
                )
                if batch is not None:  # the previous section's packets, in its byte order
                    yield batch
                    self._frame += len(batch)
                epbs, recs, runs = [], [], []
                endian = new_endian
                head = struct.Struct(endian + "II").unpack_from
                tail = struct.Struct(endian + "I").unpack_from
            elif not seen:
                corrupt = "first block is not a section header"
                break
            if tail(buf, o + blen - 4)[0] != blen:
                corrupt = "block length mismatch (leading and trailing lengths differ)"
                break
            if btype == EPB:
                if blen < 32:
                    corrupt = "enhanced packet block too short"
                    break
                epbs.append(o)
            else:
                if btype == IDB and (epbs or recs or runs):
                    # A packet names an interface declared before it: read the packets so far
                    # against the interfaces so far, whatever the chunk size.
                    batch = self._make_batch(
                        buf, _merge_offsets(epbs, runs), recs, endian, self._base, self._frame
                    )
                    if batch is not None:
                        yield batch
                        self._frame += len(batch)
                    epbs, recs, runs = [], [], []
                self._header_block(buf, o, btype, blen, endian, recs)
                seen = self._seen
            o += blen
        self._endian = endian
        batch = self._make_batch(
            buf, _merge_offsets(epbs, runs), recs, endian, self._base, self._frame
        )
        if batch is not None:
            yield batch
            self._frame += len(batch)
        return o, corrupt

    def _header_block(
        self,
        buf: bytes,
        o: int,
        btype: int,
        blen: int,
        endian: str,
        recs: list[tuple[int, int, int, int, int, int, int]],
    ) -> None:
        """Every block but an EPB, already checked for length: section and interface headers
        set the state that later packets are read with; simple and obsolete packet blocks
        join `recs`; any other block (statistics, name resolution, custom) is skipped."""
        if btype == SHB:
            self._base = len(self.ifaces)  # interface ids restart in every section
            self._seen = True
        elif btype == IDB:
            if blen >= 20:
                iface = _idb(buf, o, blen, endian)
                self.ifaces.append(iface)
                self.state.link_types.add(iface.linktype)
        elif btype == SPB and blen >= 16:
            olen = struct.unpack_from(endian + "I", buf, o + 8)[0]
            recs.append((o, 0, 0, 0, min(olen, blen - 16), olen, o + 12))
        elif btype == PB and blen >= 32:
            ifc, _, hi, lo, cap, olen = struct.unpack_from(endian + "HHIIII", buf, o + 8)
            recs.append((o, ifc, hi, lo, min(cap, blen - 32), olen, o + 28))

    def _make_batch(
        self,
        buf: bytes,
        epbs: list[int] | np.ndarray,
        recs: list[tuple[int, int, int, int, int, int, int]],
        endian: str,
        base: int,
        frame: int,
    ) -> Batch | None:
        if not len(epbs) and not recs:
            return None
        b = np.frombuffer(buf, dtype=np.uint8)
        if len(epbs):
            offs = np.asarray(epbs, dtype=np.int64)
            w = _gather_u32(b, offs, 28, endian)
            blen = w[:, 1]
            cols = [offs, w[:, 2], w[:, 3], w[:, 4], np.minimum(w[:, 5], blen - 32), w[:, 6]]
            cols.append(offs + 28)
        else:
            cols = [np.empty(0, dtype=np.int64) for _ in range(7)]
        if recs:
            extra = np.array(recs, dtype=np.int64).reshape(-1, 7)
            cols = [np.concatenate((c, extra[:, i])) for i, c in enumerate(cols)]
            order = np.argsort(cols[0], kind="stable")
            cols = [c[order] for c in cols]
        _, ifc, hi, lo, cap, olen, data = cols
        cap = np.minimum(cap, len(buf) - data)
        n = len(ifc)
        nif = len(self.ifaces) - base
        linktype = np.full(n, -1, dtype=np.int64)
        ts = np.zeros(n, dtype=np.int64)
        ticks = (hi << 32) | lo
        for i in np.unique(ifc).tolist():
            if not 0 <= i < nif:
                continue  # a record naming an undeclared interface cannot be decoded
            iface = self.ifaces[base + i]
            sel = ifc == i
            linktype[sel] = iface.linktype
            ts[sel] = _shift_ns(_ticks_to_ns(ticks[sel], iface.tsresol), iface.tsoffset)
        return Batch(buf, data, cap, olen, ts, linktype, frame)
