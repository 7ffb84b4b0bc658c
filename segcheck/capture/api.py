"""Reading captures into flows: one file, many files, one file split across processes."""

from __future__ import annotations

import glob
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from ..errors import CaptureError
from .decode import Decoder
from .dedup import copies, fast_ledger, slow_candidates
from .fastpath import fast_rows
from .flowtable import FRAME_BITS, FRAME_MASK, MAX_INPUTS, FlowTable, rows_to_columns
from .logflow import LogFlow, ReadOptions
from .model import CaptureInfo, CaptureResult, Flow, StoppedAt
from .records import (
    Batch,
    PcapHeader,
    PcapngReader,
    PcapReader,
    ReaderState,
    _caplen_limit,
    parse_pcap_header,
)
from .source import ByteSource, file_sha256
from .sources import SNIFF_BYTES, SOURCES, FlowSource, PacketSource, open_source, titles
from .zeek import conn_key, merge_connections, same_connection

Progress = Callable[[int, int], None]

# A plain pcap at least this large is split across processes when jobs > 1.
SPLIT_MIN_BYTES = 16 << 20
_SPLIT_CHAIN = 64  # consecutive plausible record headers that make a split point


@dataclass
class Part:
    """What one reader (whole file or byte range) produced; picklable for worker processes."""

    kind: str
    compressed: bool
    table: FlowTable
    state: ReaderState
    skipped: int
    flows: list[Flow] | None = None  # a flow log: its flows directly
    error: str | None = None
    link_types: set[int] = field(default_factory=set)
    first_skipped: tuple[int, str] | None = None  # a flow log: (line, why)
    connections: Sequence[Flow] | None = None  # a Zeek log: one record per uid (see .zeek)
    sha256: str = ""  # the whole input's digest, from the task that read its first range


def _open_reader(
    src: ByteSource, path: str, options: ReadOptions | None = None
) -> PacketSource | FlowSource:
    """The reader of the first source in SOURCES that recognises the file's first bytes."""
    head = src.peek(SNIFF_BYTES)
    for source in SOURCES:
        if source.sniff(head):
            return open_source(source, src, path, options)
    if not head:
        if src.damage:
            where = StoppedAt(0, 1, src.damage).where(compressed=True)
            raise CaptureError(path, f"nothing could be read: stopped at {where}: {src.damage}")
        return PcapReader(src, PcapHeader("<", False, 0, 1))  # 0 bytes: an empty capture
    raise CaptureError(path, f"not a {titles()} (starts with {head[:4]!r})")


def batch_rows(
    batch: Batch,
    dec: Decoder,
    ledger: list[np.ndarray] | None = None,
    drop: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Decoded rows of a batch: fast path for the common case, Python decoder for the rest.

    ``ledger``: the fast-path packets' tap signatures are appended there; ``drop``: sorted
    frame numbers whose rows are left out (copies of packets seen elsewhere).
    """
    cols, slow = fast_rows(batch)
    if ledger is not None:
        ledger.append(fast_ledger(batch, cols, cols["frame"] - batch.frame0))
    if len(slow):
        dec.rows = []
        buf, off, cap = batch.buf, batch.data_off, batch.caplen
        lt, ts, ol = batch.linktype, batch.ts_ns, batch.origlen
        for i in slow.tolist():
            o = int(off[i])
            data = bytes(buf[o : o + int(cap[i])])
            dec.packet(data, int(lt[i]), batch.frame0 + i, int(ts[i]), int(ol[i]))
        if dec.rows:
            extra = rows_to_columns(dec.rows)
            if ledger is not None:
                sel = slow_candidates(batch, extra)
                if len(sel):
                    ledger.append(
                        fast_ledger(
                            batch,
                            {k: v[sel] for k, v in extra.items()},
                            extra["frame"][sel] - batch.frame0,
                        )
                    )
            cols = {k: np.concatenate((v, extra[k])) for k, v in cols.items()}
    if drop is not None and len(drop):
        keep = ~np.isin(cols["frame"], drop)
        cols = {k: v[keep] for k, v in cols.items()}
    return cols


# Records decoded at a time: a batch of small packets (a 16 MB chunk of 70-byte SYNs is 240k
# records) costs ~300 bytes a record in temporaries while it is decoded and folded in.
SUB_BATCH = 1 << 17


def decode_batch(
    batch: Batch, dec: Decoder, table: FlowTable, drop: np.ndarray | None = None
) -> None:
    for i in range(0, len(batch), SUB_BATCH):
        part = batch if len(batch) <= SUB_BATCH else _sub_batch(batch, i, i + SUB_BATCH)
        table.add_rows(batch_rows(part, dec, None if drop is not None else table.ledger, drop))


def _sub_batch(batch: Batch, i: int, j: int) -> Batch:
    """Records i..j-1 of a batch (the same buffer)."""
    return Batch(
        batch.buf,
        batch.data_off[i:j],
        batch.caplen[i:j],
        batch.origlen[i:j],
        batch.ts_ns[i:j],
        batch.linktype[i:j],
        batch.frame0 + i,
    )


def iter_batches(
    path: str, start: int | None = None, end: int | None = None, progress: Progress | None = None
) -> Iterator[tuple[Batch, PacketSource]]:
    """Batches of a pcap/pcapng file (or of a byte range of a plain pcap)."""
    with ByteSource(path) as src:
        reader = _open_reader(src, path)
        if not isinstance(reader, PacketSource):
            return
        if start is not None and isinstance(reader, PcapReader):
            reader.start, reader.end = start, end
        for batch in reader.batches():
            yield batch, reader
            if progress is not None:
                progress(src.raw_position(), src.size)


def scan_part(
    path: str,
    start: int | None = None,
    end: int | None = None,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    drop: np.ndarray | None = None,
) -> Part:
    """Read a whole file (or a byte range of a plain pcap) into a flow table.

    ``drop``: sorted frame numbers left out (copies of packets seen elsewhere, see
    :mod:`.dedup`); then no tap ledger is kept.
    """
    with ByteSource(path) as src:
        reader = _open_reader(src, path, options)
        if isinstance(reader, FlowSource):
            log = reader.read()  # CaptureError when no entry is readable
            st = ReaderState(records=log.read)
            return Part(
                reader.kind,
                src.compressed,
                FlowTable(),
                st,
                log.skipped,
                log.flows,
                first_skipped=log.first_skipped,
                connections=log.connections,
            )
        if start is not None and isinstance(reader, PcapReader):
            reader.start, reader.end = start, end
        table, dec = FlowTable(), Decoder()
        for batch in reader.batches():
            decode_batch(batch, dec, table, drop)
            if progress is not None:
                progress(src.raw_position(), src.size)
        table.frag_first, table.orphans = dec.frag_first, dec.orphans
        return Part(reader.kind, src.compressed, table, reader.state, dec.skipped)


def _scan_task(
    path: str,
    start: int | None,
    end: int | None,
    options: ReadOptions | None = None,
    drop: np.ndarray | None = None,
    hashed: bool = False,
) -> Part:
    """One task of an executor: a whole input or a byte range of it read into a Part.

    ``hashed``: also take the whole input's SHA-256, in a thread beside the parse (hashlib
    drops the GIL), so that an input is hashed where it lies, never shipped to be hashed.
    """
    # Exceptions with custom __init__ do not survive pickling; carry the message instead.
    with ThreadPoolExecutor(1) as pool:
        sha = pool.submit(file_sha256, path) if hashed else None
        try:
            part = scan_part(path, start, end, options=options, drop=drop)
            # Group what is pending here, in parallel: the parent then unpickles one flow-sized
            # table (about a quarter of the bytes) and has less to regroup when it merges.
            part.table.columns()
        except CaptureError as exc:
            part = Part("", False, FlowTable(), ReaderState(), 0, error=exc.detail)
        if sha is not None:
            try:
                part.sha256 = sha.result()
            except OSError as exc:  # gone between the parse and the hash
                if part.error is None:
                    part = Part("", False, FlowTable(), ReaderState(), 0, error=str(exc))
        return part


Ranges = list[tuple[int | None, int | None]]


def _input_task(
    path: str, chunks: int, options: ReadOptions | None = None, split_min: int = SPLIT_MIN_BYTES
) -> Part | Ranges:
    """The first task of an input: its byte ranges when it is a plain pcap worth cutting into
    ``chunks`` (at least ``split_min`` bytes; the caller then reads each range as a task),
    else the whole input read."""
    try:
        _input_size(path)
        points = _pcap_split_points(path, chunks, split_min) if chunks > 1 else None
    except CaptureError as exc:
        return Part("", False, FlowTable(), ReaderState(), 0, error=exc.detail)
    except OSError:
        points = None  # the read itself says what is wrong
    if points is None:
        return _scan_task(path, None, None, options, hashed=True)
    return [(points[i], points[i + 1]) for i in range(len(points) - 1)]


def _info(path: str, part: Part, sha: str) -> CaptureInfo:
    """What one input yielded; CaptureError when nothing at all could be read from it."""
    st = part.state
    if st.records == 0 and st.stopped_at is not None:
        stop = st.stopped_at
        raise CaptureError(
            path,
            f"no packet could be read: stopped at {stop.where(part.compressed)}: {stop.reason}",
        )
    return CaptureInfo(
        path=path,
        kind=part.kind,
        sha256=sha,
        compressed=part.compressed,
        packets_read=st.records,
        packets_skipped=part.skipped,
        stopped_at=st.stopped_at,
        link_types=tuple(sorted(st.link_types)),
        first_skipped=part.first_skipped,
    )


def _log_flows(part: Part | list[Flow]) -> list[Flow]:
    flows = part if isinstance(part, list) else part.flows
    assert flows is not None
    return sorted(flows, key=lambda f: (f.first_frame, f.src_ip, f.dst_ip, f.dst_port))


def _finish(path: str, part: Part, sha: str) -> CaptureResult:
    info = _info(path, part, sha)
    flows = _log_flows(part) if part.flows is not None else part.table.flows(path)
    return CaptureResult(info, tuple(flows))


@dataclass
class ScanResult:
    """Every input of a scan read into one flow table (packet captures) and flow-log records.

    A flow seen in several packet captures is one flow (rotated files: a SYN in one, its
    answer in the next); its input and first frame are those of its first packet by (input
    index, frame). Flow logs name their flows themselves and are kept as logged.
    """

    inputs: list[CaptureInfo]
    flow_counts: list[int]  # flows seen in each input (whatever input they started in)
    table: FlowTable
    logged: list[list[Flow] | None]  # per input: a flow log's flows, None for a capture
    copies: list[int] = field(default_factory=list)  # per input: packets dropped as copies
    # per input: Zeek entries dropped as a connection (uid) an earlier input logged already
    repeated: list[int] = field(default_factory=list)

    def flows(self) -> list[Flow]:
        """All flows, in input order, each input's by first frame."""
        paths = [i.path for i in self.inputs]
        merged = self.table.flows(paths)
        by_input: dict[str, list[Flow]] = {}
        for f in merged:
            by_input.setdefault(f.input, []).append(f)
        out: list[Flow] = []
        for path, logged in zip(paths, self.logged, strict=True):
            out.extend(logged if logged is not None else by_input.pop(path, []))
        return out


Reread = Callable[[int, np.ndarray], Part]

# Bytes of memory a flow kept whole costs from the table to its rendered finding, in the whole
# process, in the costliest format. Measured (benchmarks/RESULTS.md, 2026-12-01 12:45 session):
# peak RSS of a 1M-flow spoofed SYN flood at --max-flows 300k less 100k, per kept flow: SARIF
# 13.5 KB, HTML 7.7 KB, text 5.6 KB, CSV 2.1 KB, JSON 2.0 KB (those two are written in
# chunks; their cost is the judged findings). Sized for SARIF; the other half of memory is
# the room.
BYTES_PER_RENDERED_FLOW = 16 << 10


def default_max_flows() -> int:
    """`--max-flows` sized to this machine: flows kept whole within about half its memory."""
    try:
        phys = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        phys = 4 << 30
    return max(100_000, phys // 2 // BYTES_PER_RENDERED_FLOW)


def assemble(
    names: Sequence[str],
    shas: Sequence[str],
    parts: Sequence[Part],
    reread: Reread | None = None,
) -> ScanResult:
    """One ScanResult from each input's whole Part (in input order); the tables are merged
    here, in any grouping a caller likes. Raises the first CaptureError in input order.

    Packets seen on two capture points (:mod:`.dedup`) count once: an input holding copies is
    read again by ``reread(index, frames to leave out)`` (the caller's executor; by default
    in this process), which happens only when there are copies.
    """
    if len(names) > MAX_INPUTS:
        raise CaptureError(names[MAX_INPUTS], f"more than {MAX_INPUTS} inputs in one scan")
    infos: list[CaptureInfo] = []
    counts: list[int] = []
    logged: list[list[Flow] | None] = []
    tables: dict[int, FlowTable] = {}
    for index, (name, sha, part) in enumerate(zip(names, shas, parts, strict=True)):
        if part.error is not None:
            raise CaptureError(name, part.error)
        infos.append(_info(name, part, sha))
        if part.flows is not None:
            logged.append(_log_flows(part))
            counts.append(len(part.flows))
            continue
        logged.append(None)
        counts.append(part.table.flow_count())
        part.table.tag_input(index)
        tables[index] = part.table
    repeated = _dedup_connections(parts, logged)
    ledgers = [led for t in tables.values() for led in t.ledger]
    dups = copies(ledgers)  # a list: not concatenated (24 bytes a packet) unless needed
    n_copies = [0] * len(names)
    if len(dups):
        if reread is None:

            def reread(i: int, frames: np.ndarray) -> Part:
                return _scan_task(names[i], None, None, None, frames)

        owner = dups >> FRAME_BITS
        for index in np.unique(owner).tolist():
            frames = dups[owner == index] & FRAME_MASK
            part = reread(index, frames)
            if part.error is not None:  # the file changed between the two reads
                raise CaptureError(names[index], part.error)
            part.table.tag_input(index)
            tables[index] = part.table
            n_copies[index] = len(frames)
    table = FlowTable()
    for t in tables.values():
        t.ledger = []
        table.merge(t)
    table.seal()  # judging comes next: the index's 8-16 bytes a flow are not needed
    return ScanResult(infos, counts, table, logged, n_copies, repeated)


def _dedup_connections(parts: Sequence[Part], logged: list[list[Flow] | None]) -> list[int]:
    """Zeek connections (uid and key) logged in several inputs count once, in the first input
    that logged them (overlapping rotated shards, a log collected twice, a long connection
    logged again in the next file): ``logged`` is updated in place. Returns, per input, how
    many of its connections an earlier input logged (its flow count, like a capture's, is
    of what it holds, so a repeated log is still evidence seen)."""
    repeated = [0] * len(parts)
    if sum(p.connections is not None for p in parts) < 2:
        return repeated
    seen: dict[tuple[object, ...], tuple[int, int]] = {}
    kept: dict[int, list[LogFlow]] = {}
    changed: set[int] = set()
    for index, part in enumerate(parts):
        if part.connections is None:
            continue
        mine: list[LogFlow] = []
        kept[index] = mine
        for c in cast(Sequence[LogFlow], part.connections):
            if c.pivot is None:  # no uid: nothing says it is another input's connection
                mine.append(c)
                continue
            ident = (c.pivot, *conn_key(c))
            where = seen.get(ident)
            if where is None:
                seen[ident] = (index, len(mine))
                mine.append(c)
                continue
            first, pos = where
            kept[first][pos] = same_connection(kept[first][pos], c)
            changed.update((first, index))
            repeated[index] += 1
    for index in sorted(changed):
        logged[index] = _log_flows(merge_connections(kept[index]))
    return repeated


def read_capture(path: str | Path, options: ReadOptions | None = None) -> CaptureResult:
    """Flows of one capture: pcap, pcapng (either may be gzipped) or Zeek conn.log.

    The format is sniffed from the content, never the name. Damage stops reading where it is
    found and is reported in ``info.stopped_at``; :class:`CaptureError` is raised only when
    nothing could be read. A 0-byte file is an empty capture (as tshark treats it).
    """
    p = str(path)
    with ThreadPoolExecutor(1) as pool:  # hashing overlaps with parsing (hashlib drops the GIL)
        sha = pool.submit(file_sha256, p)
        part = scan_part(p, options=options)
        return _finish(p, part, sha.result())


def _pcap_split_points(path: str, parts: int, min_bytes: int | None = None) -> list[int] | None:
    """Record-aligned offsets splitting a plain pcap into ``parts`` ranges, or None.

    A split point is the first offset after the nominal cut where a chain of 64 consecutive
    record headers looks valid: plausible lengths and fractions, and timestamps within a year
    of the first record's (zero-filled payload, a chain of empty "records", fails that). This
    is still a guess: each range's reader checks that it ends exactly on the next range's
    start, and the caller falls back to one reader otherwise.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(24 + 16)
        h = parse_pcap_header(head)
        least = SPLIT_MIN_BYTES if min_bytes is None else min_bytes
        if h is None or size < least or len(head) < 40:
            return None
        limit = _caplen_limit(h.snaplen)
        rec = struct.Struct(h.endian + "IIII")
        first_sec = rec.unpack_from(head, 24)[0]
        frac_max = 1_000_000_000 if h.nanos else 1_000_000
        span = 366 * 86400
        points = [24]
        for i in range(1, parts):
            cut = size * i // parts
            f.seek(cut)
            win = f.read(4 << 20)
            found = None
            for o in range(0, len(win) - 64 * 1024):
                q, ok = o, True
                for _ in range(_SPLIT_CHAIN):
                    sec, frac, cap, orig = rec.unpack_from(win, q)
                    if cap > limit or orig < cap or frac >= frac_max or abs(sec - first_sec) > span:
                        ok = False
                        break
                    q += 16 + cap
                    if q + 16 > len(win):
                        ok = False
                        break
                if ok:
                    found = cut + o
                    break
            if found is None or found <= points[-1]:
                return None
            points.append(found)
        points.append(size)
        return points


_GLOB_CHARS = frozenset("*?[")


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """The files a scan reads, in order: a directory stands for the files directly in it and
    a pattern (``conn.*.log.gz``, ``**`` for any depth) for the files it matches, each sorted
    by name so that rotated files come in time order and a run anywhere gives the same bytes.
    Names starting with ``.`` are left out of both. A path that exists is never a pattern.
    CaptureError for a directory or pattern that names no file."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            with os.scandir(path) as entries:
                found = sorted(
                    e.path for e in entries if not e.name.startswith(".") and e.is_file()
                )
            if not found:
                raise CaptureError(path, "the directory holds no file to read")
            out.extend(found)
        elif not os.path.lexists(path) and _GLOB_CHARS.intersection(path):
            found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not found:
                raise CaptureError(path, "no file matches this pattern")
            out.extend(found)
        else:
            out.append(path)
    return out


def _input_size(path: str) -> int:
    """Size of an input; an input that cannot be opened is a CaptureError naming it."""
    try:
        if os.path.isdir(path):
            raise CaptureError(path, "is a directory, not a capture")
        with open(path, "rb"):
            return os.path.getsize(path)
    except FileNotFoundError:
        raise CaptureError(path, "no such file") from None
    except OSError as exc:
        raise CaptureError(path, f"cannot read: {exc.strerror}") from None


def local_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1


def _local_ranges(jobs: int) -> int:
    """Byte ranges worth cutting one input into in local processes: at most ``jobs``, and at
    most one fewer than the CPUs. One process already keeps nearly two cores busy on a plain
    capture (the parse, and its SHA-256 in a thread beside it: 0.3 s against 0.55 s for 1M
    packets), and a cut input's first range still hashes all of it; on two cores a second
    range only adds a fork and 17 MB a range pickled back (measured 2026-12-01: `--jobs 2` on
    one 289 MB pcap was up to 1.5× slower than one process)."""
    return max(1, min(jobs, local_cpus() - 1))


def _uncompressed_capture(path: str) -> bool:
    """A plain pcap or pcapng: hashing it costs about half of parsing it."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return PcapReader.sniff(head) or PcapngReader.sniff(head)


def _in_one_process(names: Sequence[str], jobs: int) -> bool:
    """Whether a local read of ``names`` with ``jobs`` processes is best done in this one.

    A single input that would not be cut gains nothing from a pool (it adds a fork and the
    table pickled back). Nor do uncompressed captures on two CPUs: one process keeps both
    busy (parse and hash), and a pool's workers do the same work plus pickling every table
    and the tap ledger (80 MB for the 16-file benchmark) for the parent to unpickle and merge
    (measured: `--jobs 2` 0.84–0.93× one process). Logs and gzip, whose parse or inflation
    dwarfs the hash, still go to the pool."""
    if jobs <= 1 or not names:
        return True
    if len(names) == 1:
        return _local_ranges(jobs) <= 1
    return local_cpus() <= 2 and all(_uncompressed_capture(n) for n in names)


def read_captures(
    paths: Sequence[str | Path],
    jobs: int = 1,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    executor: Executor | None = None,
) -> list[CaptureResult]:
    """Read several captures, in parallel processes when ``jobs`` > 1.

    A large plain pcap is split into byte ranges read by several processes; the flow tables are
    merged, giving exactly the result of one reader. ``progress(done, total)`` reports bytes of
    input processed. Raises the first :class:`CaptureError` (in input order) after all inputs
    are read.

    ``executor``: run the reading tasks there instead (any :class:`concurrent.futures.Executor`:
    threads, processes, Dask's ``client.get_executor()``); ``jobs`` then says into how many
    byte ranges a large plain pcap is cut (its workers). Each task opens its input by path and
    hashes it where it runs; the results are the same, byte for byte, on any executor.
    """
    names = [str(p) for p in paths]
    if executor is None and _in_one_process(names, jobs):
        sizes = [_input_size(p) for p in names]
        results, done, total = [], 0, sum(sizes)
        for name, size in zip(names, sizes, strict=True):
            base = done

            def report(pos: int, _size: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + pos, total)

            with ThreadPoolExecutor(1) as pool:
                sha = pool.submit(file_sha256, name)
                part = scan_part(name, progress=report, options=options)
                results.append(_finish(name, part, sha.result()))
            done += size
            if progress is not None:
                progress(done, total)
        return results
    parts = read_parts(names, jobs, progress, options, executor)
    out: list[CaptureResult | CaptureError] = []
    for name, part in zip(names, parts, strict=True):
        try:
            if part.error is not None:
                raise CaptureError(name, part.error)
            out.append(_finish(name, part, part.sha256))
        except CaptureError as exc:
            out.append(exc)
    for r in out:
        if isinstance(r, CaptureError):
            raise r
    return [r for r in out if isinstance(r, CaptureResult)]


def read_scan(
    paths: Sequence[str | Path],
    jobs: int = 1,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    executor: Executor | None = None,
) -> ScanResult:
    """:func:`read_captures` into one merged flow table (what `scan` judges)."""
    names = [str(p) for p in paths]
    if executor is not None or not _in_one_process(names, jobs):
        parts = read_parts(names, jobs, progress, options, executor)
        reread = None
        if executor is not None:
            pool = executor

            def reread(i: int, frames: np.ndarray) -> Part:
                return pool.submit(_scan_task, names[i], None, None, options, frames).result()

        return assemble(names, [p.sha256 for p in parts], parts, reread)
    sizes = [_input_size(p) for p in names]
    total, done = sum(sizes), 0
    shas, parts = [], []
    for name, size in zip(names, sizes, strict=True):
        base = done

        def report(pos: int, _size: int, base: int = base) -> None:
            if progress is not None:
                progress(base + pos, total)

        with ThreadPoolExecutor(1) as pool:
            sha = pool.submit(file_sha256, name)
            try:
                part = scan_part(name, progress=report, options=options)
            except CaptureError as exc:
                part = Part("", False, FlowTable(), ReaderState(), 0, error=exc.detail)
            shas.append(sha.result())
        if part.error is None and part.flows is None:
            part.table.columns()  # compact now: the next input's rows start afresh
        parts.append(part)
        done += size
        if progress is not None:
            progress(done, total)
    return assemble(names, shas, parts)


def read_parts(
    names: Sequence[str],
    jobs: int,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    executor: Executor | None = None,
) -> list[Part]:
    """Each input's whole Part (its ``sha256`` set), read as tasks of ``executor`` (default:
    ``jobs`` local processes): one task per input, or one per byte range of a plain pcap
    large enough to cut into ``jobs`` ranges. A failed input is a Part with ``error``."""
    if executor is None:
        sizes = [_input_size(p) for p in names]  # a missing input fails before any work
        with ProcessPoolExecutor(max(jobs, 1)) as pool:
            return _read_parts_on(
                pool, list(names), jobs, progress, options, sizes, _local_ranges(jobs)
            )
    sizes = []
    for name in names:  # for progress only: the client may not see the workers' files
        try:
            sizes.append(os.path.getsize(name))
        except OSError:
            sizes.append(0)
    # The workers' cores are theirs (possibly other machines): cut into ``jobs`` ranges.
    return _read_parts_on(executor, list(names), jobs, progress, options, sizes, jobs)


def _cuts(size: int, total: int, jobs: int) -> int:
    """Ranges to cut an input into: about its share of ``jobs`` workers by size, so that many
    inputs are one task each (a range's table holds nearly every flow of its file: more
    ranges, more tables to ship and merge) and one large input among small ones is cut.
    ``jobs`` when the sizes are unknown (the inputs lie on the workers only)."""
    if total <= 0:
        return jobs
    return max(1, min(jobs, -(-size * jobs // total)))


def _read_parts_on(
    pool: Executor,
    names: list[str],
    jobs: int,
    progress: Progress | None,
    options: ReadOptions | None,
    sizes: list[int],
    most: int,
) -> list[Part]:
    """``most``: byte ranges at most for one input."""
    total, done = sum(sizes), 0
    # The client's threshold travels with the task (a worker elsewhere has its own module).
    split = SPLIT_MIN_BYTES
    firsts = {
        pool.submit(_input_task, name, min(_cuts(size, total, jobs), most), options, split): i
        for i, (name, size) in enumerate(zip(names, sizes, strict=True))
    }
    pending: list[Part | list[Future[Part]] | None] = [None] * len(names)
    plans: list[Ranges] = [[(None, None)]] * len(names)
    for first in as_completed(firsts):  # a cut input's ranges go to the pool at once
        i, got = firsts[first], first.result()
        if isinstance(got, Part):
            pending[i] = got
            continue
        plans[i] = got
        pending[i] = [
            pool.submit(_scan_task, names[i], s, e, options, None, k == 0)
            for k, (s, e) in enumerate(got)
        ]
    parts: list[Part] = []
    for name, size, plan, item in zip(names, sizes, plans, pending, strict=True):
        assert item is not None
        if isinstance(item, Part):
            merged: Part | None = item
        else:
            ranges = [f.result() for f in item]
            merged = _merge_parts(name, plan, ranges)
            if merged is None:  # a split point was wrong: read the file in one go
                merged = pool.submit(_scan_task, name, None, None, options, None, True).result()
            elif merged is not ranges[0]:
                merged.sha256 = ranges[0].sha256
        assert merged is not None
        parts.append(merged)
        done += size
        if progress is not None:
            progress(done, total)
    return parts


def _merge_parts(
    name: str, plan: list[tuple[int | None, int | None]], parts: list[Part]
) -> Part | None:
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if first.error is not None:
        return first
    table, state = FlowTable(), ReaderState()
    skipped = 0
    for i, p in enumerate(parts):
        if p.error is not None:
            return None
        p.table.shift_frames(state.records)
        table.merge(p.table)
        skipped += p.skipped
        state.link_types |= p.state.link_types
        if p.state.stopped_at is not None:
            s = p.state.stopped_at
            state.stopped_at = StoppedAt(s.byte_offset, s.frame + state.records, s.reason)
            state.records += p.state.records
            break  # one reader would have stopped here too: later ranges do not count
        state.records += p.state.records
        if i + 1 < len(parts) and not p.state.aligned:
            return None
    return Part(first.kind, first.compressed, table, state, skipped)
