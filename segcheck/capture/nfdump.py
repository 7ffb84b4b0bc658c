"""NetFlow v5/v9/IPFIX through nfdump: its text output, or an nfcapd file read by `nfdump`.

Two sources share one reader of nfdump's records:

- `NfdumpOutput`, what `TZ=UTC nfdump -r FILE -o csv` (or `-o json`, `-o ndjson`) printed;
- `NfcapdFile`, an nfcapd file itself (magic 0xA50C), which segcheck reads by running
  `nfdump -r FILE -o json` with `TZ=UTC` (nfdump must be on PATH: `apt install nfdump`).

nfdump versions: the JSON keys (`first`, `last`, `proto`, `src4_addr`, `src_port`,
`tcp_flags`, `in_packets`, `in_bytes`, `out_packets`, `out_bytes`, `icmp_type`) are the same
across 1.7.x. The CSV header changed: 1.7.0-1.7.4 print a fixed header (`ts,te,td,sa,da,sp,
dp,pr,flg,…,ipkt,ibyt,opkt,obyt,…`) and end with a `Summary` block; 1.7.5 and later print the
names of the `-o csv` format's fields (`firstSeen,duration,proto,srcAddr,srcPort,dstAddr,
dstPort,packets,bytes,flows` by default: no last-seen time, which is then first seen plus the
duration, and no TCP flags, so a TCP record without a reply is unknown rather than attempted;
`-o "csv:%ts,%te,%pr,%sa,%sp,%da,%dp,%flg,%pkt,%byt"` adds them). Columns are found by name,
either dialect. Supported: nfdump 1.7.0 to 1.7.8; tested on the real output of 1.7.1 (Debian
12), 1.7.6 and 1.7.8 (built from their release tags) for the same nfcapd file
(tests/data/logs/nfdump). nfdump 1.6 and older are not supported.

nfdump prints times in the reader's local zone without an offset: run it with `TZ=UTC` (as
`NfcapdFile` does), or give the zone it ran in with `--tz`.

NetFlow records are unidirectional. Records of the same bidirectional 5-tuple are joined into
one flow (as a capture keys flows). The initiator follows spec §7: the side that sent the
first SYN, an ICMP query's sender, else the side not on a known service port, else the side
seen first. State: an answer that is not a bare TCP reset makes the flow established; a reset
alone is a refusal (attempted); no answer is an attempt for a TCP flow that opened with a SYN
and for an ICMP query, and unknown otherwise (a UDP datagram may have arrived; a TCP record
without SYN may have begun before the export). Sampled export (1:N) can miss flows entirely:
absence of a flow proves nothing there.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, ClassVar

from ..errors import CaptureError
from .logflow import (
    ATTEMPTED,
    ESTABLISHED,
    UNKNOWN,
    Addresses,
    BadRecord,
    FlowAccumulator,
    ReadOptions,
    Record,
    icmp_family,
    iter_lines,
    port,
    protocol,
    short,
    wall_epoch,
    whole,
)
from .model import SERVICE_PORTS, FlowLog
from .source import ByteSource

NFCAPD_MAGIC = (b"\x0c\xa5\x01\x00", b"\x0c\xa5\x02\x00")  # 0xA50C, layout 1 or 2, LE
SYN, RST, ACK, FIN, PSH = 0x02, 0x04, 0x10, 0x01, 0x08
_FLAG_BITS = {"F": FIN, "S": SYN, "R": RST, "P": PSH, "A": ACK, "U": 0x20, "E": 0x40, "C": 0x80}
_ICMP_QUERIES = {1: frozenset({8, 13, 15, 17, 10}), 58: frozenset({128, 133, 135})}
MIN_VERSION = (1, 7, 0)
NFDUMP_TIMEOUT = 3600.0  # seconds; a day of flows is read in minutes

# CSV column names of both dialects -> the field read.
_COLUMNS = {
    "ts": "start",
    "firstSeen": "start",
    "te": "end",
    "lastSeen": "end",
    "td": "duration",
    "duration": "duration",
    "sa": "src",
    "srcAddr": "src",
    "da": "dst",
    "dstAddr": "dst",
    "sp": "sport",
    "srcPort": "sport",
    "dp": "dport",
    "dstPort": "dport",
    "pr": "proto",
    "proto": "proto",
    "flg": "flags",
    "flags": "flags",
    "ipkt": "packets",
    "inPackets": "packets",
    "packets": "packets",
    "ibyt": "bytes",
    "inBytes": "bytes",
    "bytes": "bytes",
    "opkt": "out_packets",
    "outPackets": "out_packets",
    "obyt": "out_bytes",
    "outBytes": "out_bytes",
}
_SNIFF_CSV = re.compile(rb"^(?:ts,te,td,sa,da,|(?:[A-Za-z0-9]+,)*firstSeen,(?:[A-Za-z0-9]+,)*)")
_SNIFF_JSON = re.compile(rb'"type"\s*:\s*"FLOW"')
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")


_raw_decode = json.JSONDecoder().raw_decode
_JSON_GAP = re.compile(r"[ \t\r\n\[\],]*")  # between two records of nfdump's JSON array


def looks_like_nfdump(head: bytes) -> bool:
    text = head.lstrip()
    if _SNIFF_CSV.match(text):
        return True
    return text[:1] in (b"[", b"{") and _SNIFF_JSON.search(head) is not None


@dataclass
class _Side:
    """What one direction of a bidirectional 5-tuple sent."""

    packets: int = 0
    nbytes: int = 0
    flags: int = 0
    start: float = float("inf")
    syn_at: float = float("inf")
    end: float = 0.0
    line: int = 0
    query: bool = False  # an ICMP query (echo, timestamp, …) went this way
    syn_ack: bool = False  # a one-packet record of SYN+ACK: this side answered a SYN


@dataclass
class _Pair:
    sides: dict[tuple[str, int], _Side] = field(default_factory=dict)


def _flags(v: Any) -> int:
    """TCP flags as nfdump prints them: `...AP.SF` (1.7), or a number / `0x12`."""
    if type(v) is int:
        return v & 0xFF
    if type(v) is not str:
        raise BadRecord(f"flags {short(v)} are not TCP flags")
    if v.startswith("0x"):
        try:
            return int(v, 16) & 0xFF
        except ValueError:
            raise BadRecord(f"flags {short(v)} are not TCP flags") from None
    if v.isdigit():
        return int(v) & 0xFF
    bits = 0
    for ch in v:
        if ch == ".":
            continue
        bit = _FLAG_BITS.get(ch)
        if bit is None:
            raise BadRecord(f"flags {short(v)} are not TCP flags")
        bits |= bit
    return bits


def _time(v: Any, what: str, options: ReadOptions) -> float:
    if type(v) is not str:
        raise BadRecord(f"{what} {short(v)} is not a time")
    m = _TIME.fullmatch(v.strip())
    if m is None:
        raise BadRecord(f"{what} {short(v)} is not a time")
    y, mo, d, h, mi, s, frac = m.groups()
    micro = int(frac.ljust(6, "0")) if frac else 0
    zone = options.tz or UTC
    return wall_epoch(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, zone, what, v)


class Joiner:
    """Joins unidirectional records into bidirectional flows (spec §7 initiator and state)."""

    def __init__(self, acc: FlowAccumulator) -> None:
        self.acc = acc
        self.pairs: dict[tuple[Any, ...], _Pair] = {}

    def add(
        self,
        line: int,
        src: str,
        dst: str,
        proto: int,
        sport: int,
        dport: int,
        packets: int,
        nbytes: int,
        flags: int,
        start: float,
        end: float,
        icmp_type: int | None = None,
        reply: bool = False,
    ) -> None:
        """One unidirectional record; `reply` marks the answer half of an aggregated one."""
        if proto in (1, 58):
            family = icmp_family(proto, icmp_type or 0)
            a, b = (src, family), (dst, family)
        else:
            a, b = (src, sport), (dst, dport)
        key = (proto, *((a, b) if a <= b else (b, a)))
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair()
        side = pair.sides.get(a)
        if side is None:
            side = pair.sides[a] = _Side(line=line)
        side.packets += packets
        side.nbytes += nbytes
        side.flags |= flags
        side.start = min(side.start, start)
        side.end = max(side.end, end)
        if flags & SYN:
            # A record's flags are OR-ed over its packets, so SYN+ACK in one of many packets may
            # be either side's; a lone SYN+ACK is the responder's answer (spec §7: the
            # initiator sent a SYN *without* ACK), as a capture of that packet is judged.
            if flags & ACK and packets == 1:
                side.syn_ack = True
            else:
                side.syn_at = min(side.syn_at, start)
        if proto in (1, 58) and not reply and icmp_type in _ICMP_QUERIES[proto]:
            side.query = True

    def finish(self) -> None:
        for (proto, a, b), pair in self.pairs.items():
            self.acc.add(self._flow(proto, a, b, pair))

    @staticmethod
    def _flow(proto: int, a: tuple[str, int], b: tuple[str, int], pair: _Pair) -> Record:
        none = _Side(line=1 << 62)  # a direction that sent nothing
        sa, sb = pair.sides.get(a, none), pair.sides.get(b, none)
        # Initiator rules of spec §7, as the packet flow table applies them.
        if proto in (1, 58) and sa.query != sb.query:
            init = a if sa.query else b
        elif sa.syn_at != sb.syn_at:
            init = a if sa.syn_at < sb.syn_at else b
        elif sa.syn_ack != sb.syn_ack and proto == 6:
            init = b if sa.syn_ack else a
        elif (a[1] in SERVICE_PORTS) != (b[1] in SERVICE_PORTS) and proto not in (1, 58):
            init = b if a[1] in SERVICE_PORTS else a
        else:
            init = a if (sa.start, sa.line) <= (sb.start, sb.line) else b
        resp = b if init == a else a
        si, sr = (sa, sb) if init == a else (sb, sa)
        if sr.packets > 0:
            bare_reset = sr.flags & RST and not sr.flags & (SYN | PSH | FIN)
            state = ATTEMPTED if proto == 6 and bare_reset and sr.packets <= 1 else ESTABLISHED
        elif proto == 6:
            state = ATTEMPTED if si.flags & SYN else UNKNOWN
        elif proto == 17:
            state = UNKNOWN
        elif proto in (1, 58):
            state = ATTEMPTED if si.query else UNKNOWN
        else:
            state = ATTEMPTED
        sides = [s for s in (si, sr) if s is not none]
        return Record(
            init[0],
            resp[0],
            proto,
            0 if proto in (1, 58) else init[1],
            resp[1],
            sum(s.packets for s in sides),
            sum(s.nbytes for s in sides),
            min(s.start for s in sides),
            max(s.end for s in sides),
            min(s.line for s in sides),
            state,
        )


class _Reader:
    """nfdump records (CSV rows or JSON objects) into a Joiner; bad ones counted."""

    def __init__(self, path: str, options: ReadOptions) -> None:
        self.acc = FlowAccumulator(path)
        self.joiner = Joiner(self.acc)
        self.addr = Addresses()
        self.options = options

    def result(self) -> FlowLog:
        self.joiner.finish()
        return self.acc.result()

    # -- JSON (nfdump -o json: a pretty-printed array; -o ndjson: one object a line) --------

    def json_lines(self, lines: Iterable[tuple[int, bytes | None]], ordinal: bool = False) -> None:
        """Records located by line, or by their ordinal when `ordinal` (nfdump's own output of
        an nfcapd file has no lines of its own to point at)."""
        buf: list[bytes] = []
        start = 0
        for number, raw in lines:
            if raw is None:
                self.acc.read += 1
                self.acc.bad(number, "line longer than 1 MiB")
                buf = []
                continue
            text = raw.strip()
            if not text or text in (b"[", b"]"):
                continue
            if not buf:
                if not text.startswith(b"{"):
                    self.acc.read += 1
                    self.acc.bad(number, f"not an nfdump JSON record ({short(text[:30])})")
                    continue
                start = number
            buf.append(text)
            closed = text.rstrip(b",]").endswith(b"}")
            if closed and (len(buf) > 1 or text.startswith(b"{") and text.count(b"{") == 1):
                self.acc.read += 1
                body = b"".join(buf).rstrip(b",]")
                buf = []
                self.json_record(self.acc.read if ordinal else start, body)
            elif len(buf) > 256:
                self.acc.read += 1
                self.acc.bad(start, "an nfdump JSON record longer than 256 lines")
                buf = []
        if buf:
            self.acc.read += 1
            self.acc.bad(start, "the last JSON record is cut off")

    def json_record(self, line: int, body: bytes) -> None:
        try:
            try:
                rec = json.loads(body)
            except RecursionError:
                raise BadRecord("JSON nested too deep") from None
            except ValueError as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
                raise BadRecord(f"not JSON ({why})") from None
            self.json_object(line, rec)
        except BadRecord as exc:
            self.acc.bad(line, str(exc))

    def json_stream(self, data: bytes) -> None:
        """nfdump's own JSON output of an nfcapd file, records located by ordinal: each record
        decoded straight from the text by the JSON decoder's C scanner (a pretty-printed record
        is some twenty lines, which the line reader would join first). From the first record
        that does not decode on, the line reader takes over, so damage is located the same."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        at, end = 0, len(text)
        while text:
            at = _JSON_GAP.match(text, at).end()  # type: ignore[union-attr]  # always matches
            if at >= end:
                return
            try:
                rec, after = _raw_decode(text, at)
            except (ValueError, RecursionError):
                break
            self.acc.read += 1
            try:
                self.json_object(self.acc.read, rec)
            except BadRecord as exc:
                self.acc.bad(self.acc.read, str(exc))
            at = after
        rest = text[at:].encode("utf-8") if text else data
        self.json_lines(enumerate(rest.split(b"\n"), 1), ordinal=True)

    def json_object(self, line: int, rec: Any) -> None:
        """One decoded record; BadRecord when it is not a flow nfdump writes."""
        if type(rec) is not dict:
            raise BadRecord("not a JSON object")
        if rec.get("type", "FLOW") != "FLOW":
            return  # nfdump's non-flow records (exporter, sampler)
        src = rec.get("src4_addr", rec.get("src6_addr"))
        dst = rec.get("dst4_addr", rec.get("dst6_addr"))
        self._add(
            line,
            src,
            dst,
            rec.get("proto"),
            rec.get("src_port", 0),
            rec.get("dst_port", 0),
            rec.get("in_packets", 0),
            rec.get("in_bytes", 0),
            rec.get("out_packets", 0),
            rec.get("out_bytes", 0),
            rec.get("tcp_flags", 0),
            rec.get("first"),
            rec.get("last"),
            rec.get("icmp_type"),
        )

    # -- CSV ----------------------------------------------------------------------------------

    def csv_lines(self, lines: Iterator[tuple[int, bytes | None]]) -> None:
        header: dict[str, int] | None = None
        for number, raw in lines:
            if raw is not None and not raw.strip():
                continue
            if raw is not None and raw.strip() == b"Summary":
                break  # nfdump 1.7.0-1.7.4 end with a summary block, not records
            if header is None and raw is not None:
                names = raw.decode("utf-8", "replace").strip().split(",")
                if "sa" in names or "srcAddr" in names:
                    header = {}
                    for i, name in enumerate(names):
                        col = _COLUMNS.get(name)
                        if col is not None and col not in header:
                            header[col] = i
                    missing = {"start", "src", "dst", "proto"} - set(header)
                    if missing:
                        raise CaptureError(
                            self.acc.path,
                            f"line {number}: the nfdump CSV header has no "
                            f"{', '.join(sorted(missing))} column",
                        )
                    continue
            self.acc.read += 1
            try:
                if raw is None:
                    raise BadRecord("line longer than 1 MiB")
                if header is None:
                    raise BadRecord("a record before the CSV header")
                text = raw.decode("utf-8", "replace")
                cells = next(csv.reader([text])) if '"' in text else text.split(",")
                if len(cells) <= max(header.values()):
                    raise BadRecord(f"{len(cells)} columns where the header names more")
                self._csv_row(number, cells, header)
            except (BadRecord, csv.Error) as exc:
                self.acc.bad(number, str(exc) if isinstance(exc, BadRecord) else "not CSV")

    def _csv_row(self, number: int, cells: list[str], header: dict[str, int]) -> None:
        got = {name: cells[i].strip() for name, i in header.items()}
        proto = protocol(got["proto"])
        icmp_type = None
        dport_text = got.get("dport", "0")
        if proto in (1, 58):
            icmp_type = _icmp_type_of(dport_text)
            dport_text = "0"
        start_text = got["start"]
        end_text = got.get("end")
        # 1.7.5+'s default CSV has no lastSeen, only the duration in seconds
        duration = _seconds(got["duration"]) if end_text is None and "duration" in got else 0.0
        self._add(
            number,
            got["src"],
            got["dst"],
            proto,
            _int_text(got.get("sport", "0")),
            _int_text(dport_text),
            _int_text(got.get("packets", "0")),
            _int_text(got.get("bytes", "0")),
            _int_text(got.get("out_packets", "0")),
            _int_text(got.get("out_bytes", "0")),
            got.get("flags", "0"),
            start_text,
            end_text or start_text,
            icmp_type,
            duration,
        )

    def _add(
        self,
        line: int,
        src: Any,
        dst: Any,
        proto_v: Any,
        sport_v: Any,
        dport_v: Any,
        pkts_v: Any,
        bytes_v: Any,
        opkts_v: Any,
        obytes_v: Any,
        flags_v: Any,
        first: Any,
        last: Any,
        icmp_type_v: Any,
        duration: float = 0.0,
    ) -> None:
        s = self.addr(src, "source address")
        d = self.addr(dst, "destination address")
        if proto_v is None:
            raise BadRecord("no proto")
        proto = protocol(proto_v)
        icmp_type = None if icmp_type_v is None else whole(icmp_type_v, "icmp_type", 255)
        sport, dport = port(sport_v, "source port"), port(dport_v, "destination port")
        packets, nbytes = whole(pkts_v, "packets"), whole(bytes_v, "bytes")
        opackets, obytes = whole(opkts_v, "out packets"), whole(obytes_v, "out bytes")
        flags = _flags(flags_v) if proto == 6 else 0
        start = _time(first, "first seen", self.options)
        end = max(start, _time(last, "last seen", self.options) if last is not None else start)
        if duration:
            end = max(end, start + duration)
        self.joiner.add(
            line, s, d, proto, sport, dport, packets, nbytes, flags, start, end, icmp_type
        )
        if opackets or obytes:  # an aggregated bidirectional record (nfdump -b / -B)
            self.joiner.add(
                line, d, s, proto, dport, sport, opackets, obytes, 0, start, end, icmp_type, True
            )


_SECONDS = re.compile(r"\d{1,10}(?:\.\d{1,9})?")


def _seconds(text: str) -> float:
    """A duration as nfdump prints it (`2.613`, seconds)."""
    if _SECONDS.fullmatch(text) is None:
        raise BadRecord(f"duration {short(text)} is not seconds")
    return float(text)


def _int_text(v: Any) -> Any:
    return v if v != "" else "0"


def _icmp_type_of(text: str) -> int:
    """The ICMP type from nfdump's CSV port column: `type*256+code` (1.7.1) or `type.code`."""
    if "." in text:
        head = text.split(".", 1)[0]
        return whole(head, "ICMP type", 255)
    return whole(text, "ICMP type/code", 65535) >> 8


def _sniff_json(src: ByteSource) -> bool:
    return src.peek(64).lstrip()[:1] in (b"[", b"{")


class NfdumpOutput:
    """nfdump's CSV or JSON output as a flow source (segcheck.capture.sources)."""

    kind: ClassVar[str] = "nfdump"
    title: ClassVar[str] = "nfdump CSV/JSON output"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """An nfdump CSV header (`ts,te,td,sa,da,` or one naming `firstSeen`), or JSON records
        of `"type" : "FLOW"`."""
        return looks_like_nfdump(head)

    def __init__(self, src: ByteSource, path: str, options: ReadOptions) -> None:
        self.src, self.path, self.options = src, path, options

    @classmethod
    def open(cls, src: ByteSource, path: str, options: ReadOptions | None = None) -> NfdumpOutput:
        return cls(src, path, options or ReadOptions())

    def read(self) -> FlowLog:
        """Every flow of the output; bad records are counted and the first one located."""
        reader = _Reader(self.path, self.options)
        if _sniff_json(self.src):
            reader.json_lines(iter_lines(self.src))
        else:
            reader.csv_lines(iter_lines(self.src))
        return reader.result()


def nfdump_version(binary: str) -> tuple[int, ...] | None:
    """The version `nfdump -V` prints (`nfdump: Version: NSEL-NEL1.7.1`, `… 1.7.6-…`)."""
    try:
        done = subprocess.run(
            [binary, "-V"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", done.stdout + done.stderr)
    return None if m is None else tuple(int(g) for g in m.groups())


class NfcapdFile:
    """An nfcapd file, read through `TZ=UTC nfdump -r FILE -o json` (segcheck.capture.sources)."""

    kind: ClassVar[str] = "nfcapd"
    title: ClassVar[str] = "nfcapd file (through nfdump)"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """nfdump's file magic 0xA50C, layout version 1 or 2 (little-endian)."""
        return head[:4] in NFCAPD_MAGIC

    def __init__(self, src: ByteSource, path: str, options: ReadOptions) -> None:
        self.src, self.path, self.options = src, path, options

    @classmethod
    def open(cls, src: ByteSource, path: str, options: ReadOptions | None = None) -> NfcapdFile:
        if src.compressed:
            raise CaptureError(path, "a gzip-compressed nfcapd file: gunzip it for nfdump")
        return cls(src, path, options or ReadOptions())

    def read(self) -> FlowLog:
        """Every flow nfdump reads from the file (its times in UTC)."""
        binary = shutil.which("nfdump")
        if binary is None:
            raise CaptureError(
                self.path,
                "an nfcapd file: reading it needs nfdump 1.7 or later (apt install nfdump)",
            )
        version = nfdump_version(binary)
        if version is None or version < MIN_VERSION:
            shown = "unknown" if version is None else ".".join(map(str, version))
            raise CaptureError(
                self.path, f"an nfcapd file: nfdump {shown} is older than 1.7.0 (not supported)"
            )
        env = {**os.environ, "TZ": "UTC"}
        try:
            done = subprocess.run(
                [binary, "-r", self.path, "-o", "json"],
                capture_output=True,
                env=env,
                timeout=NFDUMP_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CaptureError(self.path, "nfdump did not finish within an hour") from None
        except OSError as exc:
            raise CaptureError(self.path, f"cannot run nfdump: {exc.strerror}") from None
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CaptureError(
                self.path, f"nfdump could not read it ({why[-1] if why else done.returncode})"
            )
        reader = _Reader(self.path, ReadOptions(UTC))
        reader.json_stream(done.stdout)
        return reader.result()
