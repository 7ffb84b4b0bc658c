"""Damaged captures that used to end in an internal error or lose readable packets (issue 9 §3).

Each reproducer is built here, a few hundred bytes at most.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest
from cap_builders import _block, epb, idb, pcap, shb

from segcheck.capture import CaptureResult, read_capture, records, source
from segcheck.errors import CaptureError

T0 = 1_700_000_000.0
ROUTER, A, B = bytes([10, 1, 0, 1]), bytes([10, 2, 0, 5]), bytes([10, 3, 0, 6])
ETH = b"\x02" * 12 + b"\x08\x00"


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
    head = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    return head + payload


def udp_query(sport: int = 5000) -> bytes:
    return ipv4(A, B, 17, struct.pack(">HHHH", sport, 53, 8, 0))


def unreachable(quoted: bytes, src: bytes = ROUTER, dst: bytes = A) -> bytes:
    return ipv4(src, dst, 1, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + quoted)


def nested_unreachable(depth: int) -> bytes:
    """An unreachable quoting an unreachable quoting ... (``depth`` quotes) a UDP query."""
    quoted = udp_query()
    for _ in range(depth):
        quoted = unreachable(quoted, A, B)
    return ETH + unreachable(quoted)


def flow_keys(result: CaptureResult) -> list[tuple[object, ...]]:
    return [
        (f.src_ip, f.dst_ip, f.proto, f.src_port, f.dst_port, f.packets, f.state)
        for f in result.flows
    ]


@pytest.fixture(params=["accelerated", "pure-python"])
def reader_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure-python":
        monkeypatch.setattr(records, "_accel", None)
    return str(request.param)


# --- ICMP quoting ICMP ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 3, 250, 600])
def test_unreachable_quoting_unreachable_is_bounded(
    tmp_path: Path, depth: int, reader_path: str
) -> None:
    """The depth guard counts across quotes: 250 nested unreachables read like 3 do."""
    path = tmp_path / "nested.pcap"
    first = ETH + udp_query()
    path.write_bytes(pcap([(T0, first), (T0 + 1, nested_unreachable(depth))]))
    result = read_capture(path)
    assert result.info.packets_read == 2 and result.info.stopped_at is None
    shallow = tmp_path / "shallow.pcap"
    shallow.write_bytes(pcap([(T0, first), (T0 + 1, nested_unreachable(1))]))
    assert flow_keys(result) == flow_keys(read_capture(shallow))


def test_single_unreachable_still_marks_the_quoted_flow_refused(tmp_path: Path) -> None:
    path = tmp_path / "refused.pcap"
    path.write_bytes(pcap([(T0, ETH + udp_query()), (T0 + 1, ETH + unreachable(udp_query()))]))
    udp = [f for f in read_capture(path).flows if f.proto == "udp"]
    assert [(f.dst_port, f.state) for f in udp] == [(53, "attempted")]


# --- pcapng if_tsoffset -----------------------------------------------------------------------


def idb_with_tsoffset(seconds: int) -> bytes:
    body = struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HHq", 14, 8, seconds)
    return _block(1, body + struct.pack("<HH", 0, 0), "<")


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (3600, T0 + 3600),
        (-3600, T0 - 3600),
        (10**10, (2**63 - 1) / 1e9),  # beyond year 2262: pinned to the last nanosecond
        (-(10**10), -(2**63) / 1e9),
        (2**63 - 1, (2**63 - 1) / 1e9),
        (-(2**63), -(2**63) / 1e9),
        (9_223_372_037 - int(T0), (2**63 - 1) / 1e9),  # fits alone, overflows with the packet
    ],
)
def test_pcapng_tsoffset_beyond_int64_nanoseconds(
    tmp_path: Path, offset: int, expected: float, reader_path: str
) -> None:
    path = tmp_path / "tsoffset.pcapng"
    path.write_bytes(shb() + idb_with_tsoffset(offset) + epb(0, int(T0 * 1e6), ETH + udp_query()))
    result = read_capture(path)
    assert result.info.packets_read == 1 and result.info.stopped_at is None
    assert [f.first_seen for f in result.flows] == [pytest.approx(expected, rel=1e-12)]


# --- gzip damage ------------------------------------------------------------------------------


@pytest.fixture(params=["default", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The installed inflater (python-isal when present) and the standard library's."""
    if request.param == "zlib":
        monkeypatch.setattr(source, "_zlib_impl", zlib)
    return str(request.param)


def queries(n: int) -> bytes:
    return pcap([(T0 + i, ETH + udp_query(1000 + i) + bytes(200)) for i in range(n)])


@pytest.mark.parametrize("field", ["crc", "length"])
def test_gzip_with_a_bad_trailer_keeps_every_packet(
    tmp_path: Path, field: str, inflater: str
) -> None:
    plain = queries(20)
    data = bytearray(gzip.compress(plain))
    data[-8 if field == "crc" else -4] ^= 0xFF
    path = tmp_path / "trailer.pcap.gz"
    path.write_bytes(bytes(data))
    result = read_capture(path)
    assert result.info.packets_read == 20
    stop = result.info.stopped_at
    assert stop is not None and (stop.frame, stop.byte_offset) == (21, len(plain))
    assert "corrupt compressed data" in stop.reason


def stored_gzip(plain: bytes, block: int = 65535) -> bytes:
    """A gzip member of stored deflate blocks, so each block's place is known."""
    out = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"]
    for start in range(0, len(plain), block):
        piece = plain[start : start + block]
        final = start + block >= len(plain)
        out.append(struct.pack("<BHH", final, len(piece), len(piece) ^ 0xFFFF) + piece)
    out.append(struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF))
    return b"".join(out)


def test_gzip_inflate_error_keeps_everything_before_it(tmp_path: Path, inflater: str) -> None:
    """Damage the third stored block's header: the two blocks before it are analysed."""
    plain = queries(600)
    data = bytearray(stored_gzip(plain))
    third = 10 + 2 * (5 + 65535)
    data[third + 3] ^= 0xFF  # NLEN no longer complements LEN
    path = tmp_path / "mid.pcap.gz"
    path.write_bytes(bytes(data))
    result = read_capture(path)
    kept, offset = 0, 24
    record = 16 + 14 + 28 + 200
    while offset + record <= 2 * 65535:
        kept, offset = kept + 1, offset + record
    assert result.info.packets_read == kept
    stop = result.info.stopped_at
    assert stop is not None and (stop.frame, stop.byte_offset) == (kept + 1, offset)
    assert "compressed byte" in stop.reason


def test_gzip_damaged_in_its_first_block_names_frame_and_offset(tmp_path: Path) -> None:
    data = bytearray(stored_gzip(queries(5)))
    data[10 + 3] ^= 0xFF
    path = tmp_path / "first.pcap.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match=r"frame 1, byte offset 0\b"):
        read_capture(path)


@pytest.mark.parametrize("member", [0, 1])
def test_gzip_reserved_header_flags_read_alike_with_any_inflater(
    tmp_path: Path, member: int, inflater: str
) -> None:
    """Found by tests/fuzz/test_fuzz_captures.py: python-isal inflated a member whose header
    sets reserved FLG bits, zlib refuses it (as RFC 1952 and gzip(1) do), so the same file was
    clean evidence on one machine and unreadable on another. Both now stop at that member."""
    first, second = queries(3), queries(2)[24:]
    members = [bytearray(gzip.compress(first, mtime=0)), bytearray(gzip.compress(second, mtime=0))]
    members[member][3] |= 0x20
    path = tmp_path / "flags.pcap.gz"
    path.write_bytes(b"".join(members))
    if member == 0:
        with pytest.raises(CaptureError, match=r"frame 1, byte offset 0 .*header flags"):
            read_capture(path)
        return
    result = read_capture(path)
    assert result.info.packets_read == 3
    stop = result.info.stopped_at
    assert stop is not None and (stop.frame, stop.byte_offset) == (4, len(first))
    assert "header flags" in stop.reason


@pytest.mark.parametrize("chunk", [12, 100, 1 << 20])
@pytest.mark.parametrize("pure", [False, True], ids=["accelerated", "pure-python"])
def test_pcapng_packet_before_its_interface_whatever_the_chunk(
    tmp_path: Path, chunk: int, pure: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tests/fuzz/test_fuzz_captures.py: an EPB naming interface 1 before the IDB of
    interface 1 was decoded with that later interface when both fell in one read chunk (any
    file under 32 MiB) and skipped otherwise. It names no interface declared before it: it is
    skipped, the packets after the IDB are read, whatever the chunk size."""
    frame = ETH + udp_query()
    data = shb() + idb(1) + epb(1, 0, frame) + idb(1) + epb(1, 0, frame) + epb(0, 0, frame)
    path = tmp_path / "late-idb.pcapng"
    path.write_bytes(data)
    monkeypatch.setattr(records, "CHUNK", chunk)
    if pure:
        monkeypatch.setattr(records, "_accel", None)
    result = read_capture(path)
    info = result.info
    assert (info.packets_read, info.packets_skipped, info.stopped_at) == (3, 1, None)
    assert [(f.first_frame, f.packets) for f in result.flows] == [(2, 2)]


def test_gzip_deflate_data_isal_waits_on_reads_as_with_zlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tests/fuzz/test_fuzz_captures.py (seed 5, case 3165): deflate data that zlib
    refuses at once ("invalid code lengths set"), python-isal takes in and waits for more, so a
    cut file said "ends early" with isal installed and named the corrupt byte without it."""
    plain = queries(2)
    data = gzip.compress(plain, mtime=0)
    data += b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes.fromhex("453d29da16000000")
    path = tmp_path / "bad-member.pcap.gz"
    path.write_bytes(data)
    default = read_capture(path)
    monkeypatch.setattr(source, "_zlib_impl", zlib)
    assert read_capture(path) == default
    stop = default.info.stopped_at
    assert default.info.packets_read == 2
    assert stop is not None and (stop.frame, stop.byte_offset) == (3, len(plain))
    assert stop.reason.startswith("corrupt compressed data at compressed byte ")


# --- errors that stop reading say where -------------------------------------------------------


def test_no_packet_readable_names_frame_and_offset(tmp_path: Path) -> None:
    data = bytearray(queries(3))
    struct.pack_into("<I", data, 24 + 8, 0x7FFFFFF0)  # the first record's caplen
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match=r"frame 1, byte offset 24\b") as info:
        read_capture(path)
    assert str(path) in str(info.value)


def test_cut_pcap_header_names_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap([])[:12])
    with pytest.raises(CaptureError, match=r"byte offset 12\b"):
        read_capture(path)
