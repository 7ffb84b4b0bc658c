"""Seeded fuzzing of packet captures: pcap, pcapng and gzip-compressed captures.

Each case damages one of the small real captures in tests/data/pcaps (their sources are in
LICENSES.md there) the way broken tcpdumps, copies and hand edits do: truncation, bit flips,
lying lengths (pcap snaplen and caplen, pcapng block lengths), wrong magics, huge lengths,
interface ids and options out of range, blocks dropped, duplicated or moved, and damage to the
gzip stream around it. Then `segcheck scan` runs in-process through the CLI runner, once with
the C accelerator and once on the pure-Python path (what SEGCHECK_PURE_PYTHON=1 selects).

The contract each case asserts:
- the CLI neither raises nor says "internal error"; the exit status is 0, 1 or 2;
- an exit 2 names the capture, and the frame and byte offset where reading stopped (or what
  the capture lacks: its first bytes, its packets); without a report it is one `Error:` line;
- never "clean" (exit 0, the separation proven) when no packet was read, judged by an
  independent minimal reader below as well as by the report's own counts;
- the C and pure-Python paths give byte-identical output and exit status; the library gives
  the same result whatever the chunk size the file is read in, and with python-isal or zlib
  inflating a gzip capture.

A few hundred cases run by default (`SEGCHECK_FUZZ_CASES`, shared with test_fuzz_inputs.py),
in BLOCKS blocks: the first is in the local fast run, the others are marked `slow` (CI runs
them all, each case once; pytest-xdist spreads the blocks over its workers).
`SEGCHECK_FUZZ_CASES=5000 python3 -m pytest -q tests/fuzz/test_fuzz_captures.py` runs more, and
`SEGCHECK_FUZZ_SEED` picks another seed. A failure names the seed and case number, which
regenerate the input exactly, and keeps the input.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import struct
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from segcheck.capture import read_capture, records, source
from segcheck.cli import main
from segcheck.errors import CaptureError

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "data" / "pcaps"
CASES = int(os.environ.get("SEGCHECK_FUZZ_CASES", "300"))
SEED = int(os.environ.get("SEGCHECK_FUZZ_SEED", "20261130"))
BLOCKS = 6
CHUNK = 1 << 16  # the seeds are small: no need for the default 32 MiB read buffer

# The seeds' addresses in the three tiers, so that flows between them are violations, permitted
# or unknown: a change in decoding changes the verdicts, not only the counts.
TOPOLOGY = """\
segcheck: 1
profile: alpha
zones:
  mn: {tier: mynumber, subnets: [192.168.43.0/24, 192.168.56.0/24]}
  lg: {tier: lgwan, subnets: [10.0.0.0/8, 192.168.0.0/24, 131.155.0.0/16]}
  inet: {tier: internet, subnets: [172.16.0.0/12, 192.168.1.0/24, 141.142.0.0/16]}
  pub:
    tier: public-internet
    subnets: [1.1.1.0/24, 4.2.2.0/24, 8.8.0.0/16, 174.137.0.0/16, 192.150.187.0/24,
      137.116.0.0/16, 255.255.255.255/32]
nodes:
  mn-pc: {role: terminal, ip: 192.168.43.9}
  lg-dns: {role: server, ip: 10.0.0.2}
  inet-pc: {role: terminal, ip: 172.17.0.2}
"""

# -- the seeds, parsed into records or blocks ----------------------------------------------------


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    kind: str  # "pcap" | "pcapng"
    endian: str  # of the pcap header, or of the first pcapng section
    units: tuple[tuple[int, int, str], ...]  # (offset, length, byte order) of records or blocks


def _pcap_units(data: bytes) -> tuple[str, list[tuple[int, int, str]]]:
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    units, o = [], 24
    while o + 16 <= len(data):
        cap = struct.unpack_from(endian + "I", data, o + 8)[0]
        if o + 16 + cap > len(data):
            break
        units.append((o, 16 + cap, endian))
        o += 16 + cap
    return endian, units


def _pcapng_units(data: bytes) -> tuple[str, list[tuple[int, int, str]]]:
    units, o, endian, first = [], 0, "<", ""
    while o + 12 <= len(data):
        if data[o : o + 4] == b"\x0a\x0d\x0d\x0a":
            endian = "<" if data[o + 8 : o + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            first = first or endian
        blen = struct.unpack_from(endian + "I", data, o + 4)[0]
        if blen < 12 or o + blen > len(data):
            break
        units.append((o, blen, endian))
        o += blen
    return first or "<", units


def seeds() -> list[Seed]:
    out = []
    paths = sorted(SEEDS.glob("*.pcap")) + sorted(SEEDS.glob("*.pcapng"))
    paths += sorted((SEEDS / "damaged").glob("*.pcap*"))
    for path in paths:
        data = path.read_bytes()
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            endian, units = _pcapng_units(data)
            out.append(Seed(path.name, data, "pcapng", endian, tuple(units)))
        else:
            endian, units = _pcap_units(data)
            out.append(Seed(path.name, data, "pcap", endian, tuple(units)))
    return out


# -- values that lie -----------------------------------------------------------------------------

U32_LIES = [0, 1, 4, 8, 11, 12, 13, 14, 16, 20, 31, 32, 33, 0xFFFF, 0x10000, 262143, 262144]
U32_LIES += [262145, (16 << 20) - 1, 16 << 20, (16 << 20) + 1, (64 << 20) + 4]
U32_LIES += [0x7FFFFFFC, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF]
LINKTYPES = [0, 1, 9, 12, 101, 105, 108, 113, 127, 228, 229, 239, 242, 276, 0xFFFF]
LINKTYPES += [0x10000001, 0xFFFFFFFF, 0x04000001]  # FCS-length and reserved bits set
MAGICS = [
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
    b"\x1f\x8b\x08\x00",
    b"\x00\x00\x00\x00",
    b"\xd4\xc3\xb2\xa2",
    b"\x34\xcd\xb2\xa1",  # Kuznetzov's modified pcap
    b"#sep",
    b'{"ts',
]
BLOCK_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 0x0A0D0D0A, 0x00000BAD, 0x40000BAD, 0x80000001]
TSRESOL = [0, 1, 6, 9, 19, 27, 28, 62, 63, 127, 0x80, 0x80 | 10, 0x80 | 62, 0x80 | 63, 0xFF]
TSOFFSET = [0, 1, -1, 2**31, 9_300_000_000, -9_300_000_000, 2**62, 2**63 - 1, -(2**63)]


def _u32(rng: random.Random, current: int) -> int:
    """A lying 32-bit length: a classic boundary, or just off the truth."""
    if rng.random() < 0.4:
        return (current + rng.choice([-5, -4, -3, -1, 1, 2, 3, 4, 8, 16, 1000])) & 0xFFFFFFFF
    return rng.choice(U32_LIES)


def _put(data: bytearray, off: int, fmt: str, value: int) -> None:
    if off + struct.calcsize(fmt) <= len(data):
        struct.pack_into(fmt, data, off, value)


# -- mutations: (rng, data, seed) -> (data, label) ---------------------------------------------

Mutation = Callable[[random.Random, bytearray, Seed], str]


def truncate(rng: random.Random, data: bytearray, seed: Seed) -> str:
    if seed.units and rng.random() < 0.5:  # at or next to a record boundary
        o, n, _ = rng.choice(seed.units)
        at = max(
            0, rng.choice([o, o + n, o + 4, o + 8, o + 12, o + 16, o + n - 4]) + rng.randint(-2, 2)
        )
    else:
        at = rng.randint(0, len(data))
    del data[at:]
    return f"truncate@{at}"


def flip(rng: random.Random, data: bytearray, seed: Seed) -> str:
    if not data:
        return "flip(empty)"
    n = rng.choice([1, 1, 2, 4, 16])
    for _ in range(n):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return f"flip*{n}"


def fill(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """A run of zeros or 0xff, as a sparse file or a bad sector leaves."""
    a = rng.randint(0, len(data))
    n = rng.choice([4, 16, 64, 512, 4096])
    byte = rng.choice([0, 0xFF])
    data[a : a + n] = bytes([byte]) * len(data[a : a + n])
    return f"fill{byte:#x}@{a}+{n}"


def append(rng: random.Random, data: bytearray, seed: Seed) -> str:
    kind = rng.choice(["zeros", "random", "copy", "record-head"])
    if kind == "zeros":
        data += bytes(rng.choice([1, 15, 16, 28, 4096]))
    elif kind == "random":
        data += rng.randbytes(rng.randint(1, 300))
    elif kind == "copy":
        data += data[rng.randint(0, len(data)) :]
    else:
        data += struct.pack(seed.endian + "IIII", 0, 0, 0xFFFFFFF0, 0xFFFFFFF0)
    return f"append-{kind}"


def magic(rng: random.Random, data: bytearray, seed: Seed) -> str:
    m = rng.choice(MAGICS)
    if seed.kind == "pcapng" and rng.random() < 0.5:  # the section's byte-order magic instead
        o, _, _ = rng.choice(
            [u for u in seed.units if data[u[0] : u[0] + 4] == b"\n\r\r\n"] or [(0, 0, "<")]
        )
        m = rng.choice([b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a", b"\x4d\x3c\x2b\x1b", b"\0\0\0\0"])
        data[o + 8 : o + 12] = m
        return f"bom={m.hex()}@{o}"
    data[0:4] = m
    return f"magic={m!r}"


def pcap_header(rng: random.Random, data: bytearray, seed: Seed) -> str:
    field, off = rng.choice([("version", 4), ("snaplen", 16), ("linktype", 20), ("thiszone", 8)])
    if field == "version":
        _put(data, off, seed.endian + "H", rng.choice([0, 1, 2, 3, 0xFFFF]))
        value = "?"
    elif field == "linktype":
        value = rng.choice(LINKTYPES)
        _put(data, off, seed.endian + "I", value)
    else:
        value = _u32(rng, 65535)
        _put(data, off, seed.endian + "I", value)
    return f"{field}={value}"


def pcap_record(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """One record header lies: caplen, original length or timestamp."""
    if not seed.units:
        return "record(none)"
    o, n, e = rng.choice(seed.units)
    field = rng.choice(["caplen", "caplen", "caplen", "origlen", "sec", "frac"])
    off = {"sec": 0, "frac": 4, "caplen": 8, "origlen": 12}[field]
    if field == "frac":
        value = rng.choice([999_999, 1_000_000, 999_999_999, 1_000_000_000, 0xFFFFFFFF])
    elif field == "sec":
        value = rng.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
    else:
        value = _u32(rng, n - 16)
    _put(data, o + off, e + "I", value)
    return f"{field}={value}@{o}"


def reorder(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """Drop, duplicate or swap whole records or blocks (IDBs and section headers included)."""
    units = [u for u in seed.units if u[0] + u[1] <= len(data)]
    if len(units) < 2:
        return "reorder(none)"
    head = bytes(data[: units[0][0]])
    parts = [bytes(data[o : o + n]) for o, n, _ in units]
    tail = bytes(data[units[-1][0] + units[-1][1] :])
    i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
    kind = rng.choice(["drop", "dup", "swap"])
    if kind == "drop":
        del parts[i]
    elif kind == "dup":
        parts.insert(j, parts[i])
    else:
        parts[i], parts[j] = parts[j], parts[i]
    data[:] = head + b"".join(parts) + tail
    return f"{kind}-unit{i},{j}"


def block_length(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """A pcapng block's leading or trailing length lies (or both, consistently)."""
    if not seed.units:
        return "blen(none)"
    o, n, e = rng.choice(seed.units)
    value = _u32(rng, n)
    where = rng.choice(["lead", "lead", "trail", "both"])
    if where in ("lead", "both"):
        _put(data, o + 4, e + "I", value)
    if where in ("trail", "both") and n >= 12:
        _put(data, o + n - 4, e + "I", value)
    return f"blen-{where}={value}@{o}"


def block_type(rng: random.Random, data: bytearray, seed: Seed) -> str:
    if not seed.units:
        return "btype(none)"
    o, _, e = rng.choice(seed.units)
    value = rng.choice(BLOCK_TYPES)
    _put(data, o, e + "I", value)
    return f"btype={value:#x}@{o}"


def _blocks(data: bytearray, seed: Seed, *types: int) -> list[tuple[int, int, str]]:
    out = []
    for o, n, e in seed.units:
        if o + 8 <= len(data) and struct.unpack_from(e + "I", data, o)[0] in types:
            out.append((o, n, e))
    return out


def packet_block(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """An EPB, PB or SPB field lies: interface id, captured or original length, timestamp."""
    blocks = _blocks(data, seed, 2, 3, 6)
    if not blocks:
        return "packet-block(none)"
    o, n, e = rng.choice(blocks)
    btype = struct.unpack_from(e + "I", data, o)[0]
    if btype == 3:  # SPB: original length only
        value = _u32(rng, n - 16)
        _put(data, o + 8, e + "I", value)
        return f"spb-len={value}@{o}"
    field = rng.choice(["iface", "iface", "caplen", "caplen", "origlen", "ts"])
    if field == "iface":
        value = rng.choice([1, 2, 3, 255, 0xFFFF, 0x10000, 0xFFFFFFFF])
        if btype == 2:
            _put(data, o + 8, e + "H", value & 0xFFFF)
        else:
            _put(data, o + 8, e + "I", value)
    elif field == "ts":
        value = rng.choice([0, 0xFFFFFFFF, 0x80000000])
        _put(data, o + 12, e + "I", value)
    else:
        value = _u32(rng, n - 32)
        _put(data, o + (20 if field == "caplen" else 24), e + "I", value)
    return f"{'pb' if btype == 2 else 'epb'}-{field}={value}@{o}"


def interface_block(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """An IDB lies: link type, snaplen, or an option (tsresol, tsoffset, a length overrun)."""
    blocks = _blocks(data, seed, 1)
    if not blocks:
        return "idb(none)"
    o, n, e = rng.choice(blocks)
    field = rng.choice(["linktype", "snaplen", "tsresol", "tsoffset", "tsoffset", "optlen"])
    if field == "linktype":
        value = rng.choice(LINKTYPES) & 0xFFFF
        _put(data, o + 8, e + "H", value)
    elif field == "snaplen":
        value = _u32(rng, 65535)
        _put(data, o + 12, e + "I", value)
    elif field == "optlen":
        value = rng.choice([1, 8, 0xFFFF, n])
        _put(data, o + 18, e + "H", value)
    else:
        # Replace the options with this one option, keeping the block's own length right.
        if field == "tsresol":
            value = rng.choice(TSRESOL)
            opt = struct.pack(e + "HHB3x", 9, 1, value)
        else:
            value = rng.choice(TSOFFSET)
            opt = struct.pack(e + "HHq", 14, 8, value)
        body = data[o + 8 : o + 16] + opt + struct.pack(e + "HH", 0, 0)
        blen = 12 + len(body)
        data[o : o + n] = struct.pack(e + "II", 1, blen) + body + struct.pack(e + "I", blen)
    return f"idb-{field}={value}@{o}"


def section(rng: random.Random, data: bytearray, seed: Seed) -> str:
    """A second section: a copy of another seed's pcapng, possibly the other byte order."""
    others = [s for s in SEED_LIST if s.kind == "pcapng" and s.units]
    other = rng.choice(others)
    at = rng.choice([u[0] for u in seed.units] + [len(data)]) if seed.units else len(data)
    data[at:at] = other.data
    return f"section-from-{other.name}@{at}"


COMMON: list[Mutation] = [truncate, truncate, flip, flip, flip, fill, append, magic, reorder]
PCAP: list[Mutation] = [pcap_header, pcap_header, pcap_record, pcap_record, pcap_record]
PCAPNG: list[Mutation] = [block_length, block_length, block_type, packet_block, packet_block]
PCAPNG += [interface_block, interface_block, section]


def gzip_damage(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Compress (in one or several members), then often damage the compressed stream."""
    level = rng.choice([0, 1, 6, 9])
    cuts = sorted(rng.randint(0, len(data)) for _ in range(rng.choice([0, 0, 0, 1, 2])))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    members = [gzip.compress(p, compresslevel=level, mtime=0) for p in pieces]
    out = bytearray(b"".join(members))
    label = f"gzip{level}x{len(members)}"
    kind = rng.choice(["none", "cut", "cut", "flip", "crc", "isize", "header", "trail", "member"])
    last = len(out) - len(members[-1])  # where the last member starts
    if kind == "cut":
        del out[rng.randint(0, len(out)) :]
    elif kind == "flip":
        body = rng.randint(last + 10, max(last + 10, len(out) - 9))
        out[min(body, len(out) - 1)] ^= 1 << rng.randrange(8)
    elif kind == "crc":
        out[-8 + rng.randrange(4)] ^= 0xFF
    elif kind == "isize":
        out[-4 + rng.randrange(4)] ^= 0xFF
    elif kind == "header":
        pos, value = rng.choice([(3, 2), (3, 4), (3, 8), (3, 16), (3, 0xE0), (2, 7), (9, 0xFF)])
        out[last + pos] = value if pos != 3 else out[last + pos] | value
    elif kind == "trail":
        out += rng.choice([b"\x1f", b"\x1f\x8b", b"\x1f\x8b\x08\x00garbage", b"\0" * 16, b"junk"])
    elif kind == "member":
        out += gzip.compress(b"", mtime=0) if rng.random() < 0.5 else gzip.compress(b"x", mtime=0)
    return bytes(out), f"{label}-{kind}"


def make_case(rng: random.Random) -> tuple[Seed, bytes, bool, list[str]]:
    seed = rng.choice(SEED_LIST)
    data = bytearray(seed.data)
    applied = []
    own = PCAP if seed.kind == "pcap" else PCAPNG
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        m = rng.choice(own if rng.random() < 0.55 else COMMON)
        applied.append(m(rng, data, seed))
    compressed = rng.random() < 0.25
    out = bytes(data)
    if compressed:
        if rng.random() < 0.15:  # damage the capture inside only, or only the gzip around it
            out, applied = seed.data, []
        out, label = gzip_damage(rng, out)
        applied.append(label)
    return seed, out, compressed, applied


SEED_LIST = seeds()

# -- an independent oracle: could any packet be read at all? -------------------------------------


def inflate_salvage(data: bytes) -> bytes:
    """What gzip members yield up to the first damage (byte by byte: the files are small)."""
    out, rest = bytearray(), data
    while rest[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(31)
        for i in range(len(rest)):
            try:
                out += d.decompress(rest[i : i + 1])
            except zlib.error:
                return bytes(out)
            if d.eof:
                break
        if not d.eof:
            return bytes(out)
        rest = d.unused_data + rest[i + 1 :]
    return bytes(out)


def holds_a_packet(data: bytes) -> bool:
    """True when the bytes hold at least one whole packet record before any structural damage.

    Deliberately minimal and separate from segcheck's readers: a file for which this is False
    can never be evidence that the separation holds.
    """
    if data[:2] == b"\x1f\x8b":
        data = inflate_salvage(data)
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    elif data[:4] == b"\x0a\x0d\x0d\x0a":
        o, e = 0, "<"
        while o + 12 <= len(data):
            btype = struct.unpack_from("<I", data, o)[0]
            if btype == 0x0A0D0D0A:
                bom = data[o + 8 : o + 12]
                if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                    return False
                e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            elif o == 0:
                return False
            btype, blen = struct.unpack_from(e + "II", data, o)
            if blen < 12 or blen % 4 or o + blen > len(data):
                return False
            if struct.unpack_from(e + "I", data, o + blen - 4)[0] != blen:
                return False
            if btype in (2, 3, 6) and blen >= 16:
                return True
            o += blen
        return False
    else:
        return False
    if len(data) < 40:
        return False
    caplen = struct.unpack_from(e + "I", data, 32)[0]
    return 40 + caplen <= len(data)


# -- running a case ------------------------------------------------------------------------------

SCAN = ["--today", "2026-11-30", "--timestamp", "2026-11-30T00:00:00Z", "--format", "json"]
WHERE = re.compile(r"(frame|byte offset) \d+")
# Exit-2 messages that name no place because there is none: the file's first bytes are not a
# capture, or it was read to its end and held nothing to analyse.
NO_PLACE = ("(starts with ", ": the capture holds no packet", "but none carried an IP flow")
NO_PLACE += ("packets were skipped (link type or record unusable)",)


def scan_cli(args: list[str], pure: bool, monkeypatch: pytest.MonkeyPatch) -> Result:
    with monkeypatch.context() as m:
        if pure:
            m.setattr(records, "_accel", None)
        return CliRunner().invoke(main, args)


def check_result(result: Result, path: str, data: bytes) -> str | None:
    """None when one run kept the contract, else what went wrong."""
    err, out, code = result.stderr, result.stdout, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "CLI raised " + "".join(traceback.format_exception(result.exception)[-3:])
    if code not in (0, 1, 2):
        return f"exit {code}: {err[-300:]}"
    if "internal error" in err or "Traceback" in err:
        return f"exit {code}: {err.strip()[-400:]}"
    report = json.loads(out) if out else None
    if code == 2:
        lines = [ln for ln in err.strip().splitlines() if ln.startswith("Error: ")]
        if not lines or (report is None and len(err.strip().splitlines()) != 1):
            return f"exit 2 without one Error line per problem: {err[-300:]!r}"
        for line in lines:
            if path not in line:
                return f"exit 2 message does not name the file: {line[:300]!r}"
            if not WHERE.search(line) and not any(s in line for s in NO_PLACE):
                return f"exit 2 message names no frame or byte offset: {line[:300]!r}"
    if report is not None:
        (capture,) = [i for i in report["inputs"] if i["path"] == path]
        read, skipped = capture["packets_read"], capture["packets_skipped"]
        if not 0 <= skipped <= read:
            return f"{skipped} packets skipped of {read} read"
        if code == 0 and (read - skipped <= 0 or capture["stopped_at"] is not None):
            return f"exit 0 (clean) on {read} read, {skipped} skipped, {capture['stopped_at']}"
    elif code != 2:
        return f"exit {code} without a report"
    if code == 0 and not holds_a_packet(data):
        return "exit 0 (clean) on a capture that holds no whole packet"
    return None


def library_result(path: Path, chunk: int) -> object:
    """read_capture's result, or its error message, reading `chunk` bytes at a time."""
    records.CHUNK = chunk
    try:
        return read_capture(path)
    except CaptureError as exc:
        return f"CaptureError: {exc}"
    except Exception:
        return "library raised " + traceback.format_exc(limit=-4)


def run_case(
    path: Path, topology: Path, data: bytes, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> str | None:
    path.write_bytes(data)
    args = ["scan", str(topology), str(path), *SCAN]
    fast = scan_cli(args, pure=False, monkeypatch=monkeypatch)
    problem = check_result(fast, str(path), data)
    if problem is not None:
        return "C path: " + problem
    pure = scan_cli(args, pure=True, monkeypatch=monkeypatch)
    problem = check_result(pure, str(path), data)
    if problem is not None:
        return "pure-Python path: " + problem
    if (fast.exit_code, fast.stdout, fast.stderr) != (pure.exit_code, pure.stdout, pure.stderr):
        return (
            f"C and pure-Python paths disagree: exit {fast.exit_code} vs {pure.exit_code}; "
            f"stderr {fast.stderr[-200:]!r} vs {pure.stderr[-200:]!r}"
        )
    if data[:2] == b"\x1f\x8b" and source._zlib_impl is not zlib:
        # python-isal, when installed, and the standard library inflate alike
        with monkeypatch.context() as m:
            m.setattr(source, "_zlib_impl", zlib)
            plain = library_result(path, CHUNK)
        isal = library_result(path, CHUNK)
        if plain != isal:
            return f"isal and zlib disagree: {isal!r:.300} vs {plain!r:.300}"
    if rng.random() < 0.3:  # records and blocks cut by a chunk boundary, on both paths
        small = rng.choice([12, 13, 40, 100, 512, 4093])
        whole = library_result(path, CHUNK)
        cut = library_result(path, small)
        with monkeypatch.context() as m:
            m.setattr(records, "_accel", None)
            cut_pure = library_result(path, small)
        if isinstance(whole, str) and whole.startswith("library raised"):
            return whole
        if not whole == cut == cut_pure:
            return f"read in {small}-byte chunks differs: {whole!r:.300} vs {cut!r:.300}"
    return None


def test_pure_python_switch_is_what_the_harness_selects(monkeypatch: pytest.MonkeyPatch) -> None:
    """SEGCHECK_PURE_PYTHON=1 means no accelerator, which is what the pure runs patch in."""
    monkeypatch.setenv("SEGCHECK_PURE_PYTHON", "1")
    assert records._load_accel() is None


def _case_blocks() -> list[object]:
    """The case numbers in BLOCKS ranges; only the first is in the fast run."""
    bounds = [CASES * b // BLOCKS for b in range(BLOCKS + 1)]
    return [
        pytest.param(range(lo, hi), marks=[pytest.mark.slow] if b else [], id=f"cases{lo}-{hi - 1}")
        for b, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


@pytest.mark.parametrize("cases", _case_blocks())
def test_damaged_captures_never_end_in_an_internal_error(
    cases: range, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = tmp_path / "topology.yaml"
    topology.write_text(TOPOLOGY, encoding="utf-8")
    monkeypatch.setattr(records, "CHUNK", CHUNK)
    failures: list[str] = []
    for case in cases:
        rng = random.Random(f"{SEED}:capture:{case}")
        seed, data, compressed, applied = make_case(rng)
        name = seed.name + (".gz" if compressed else "")
        path = tmp_path / f"case{case}-{name}"
        problem = run_case(path, topology, data, rng, monkeypatch)
        records.CHUNK = CHUNK
        if problem is not None:
            saved = tmp_path / f"failed-{case}-{name}"
            saved.write_bytes(data)
            failures.append(
                f"SEGCHECK_FUZZ_SEED={SEED} case {case} ({name}, {'+'.join(applied)}; "
                f"input kept as {saved}): {problem}"
            )
        path.unlink(missing_ok=True)
    summary = f"{len(failures)} of {len(cases)} cases failed:\n"
    assert not failures, summary + "\n".join(failures[:20])
