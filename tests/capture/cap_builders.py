"""Tiny capture writers for tests: pcap (any byte order / resolution) and pcapng blocks."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

Packet = tuple[float, bytes]  # (epoch seconds, frame bytes)


def pcap(
    packets: Iterable[Packet],
    linktype: int = 1,
    endian: str = "<",
    nanos: bool = False,
    snaplen: int = 65535,
) -> bytes:
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in packets:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nanos else 1e6))
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(btype: int, body: bytes, e: str) -> bytes:
    body += b"\0" * ((-len(body)) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e: str = "<") -> bytes:
    return _block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(linktype: int, e: str = "<", tsresol: int | None = None) -> bytes:
    body = struct.pack(e + "HHI", linktype, 0, 65535)
    if tsresol is not None:
        body += struct.pack(e + "HHB3x", 9, 1, tsresol) + struct.pack(e + "HH", 0, 0)
    return _block(1, body, e)


def epb(iface: int, ticks: int, data: bytes, e: str = "<") -> bytes:
    hdr = struct.pack(e + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return _block(6, hdr + data, e)


def spb(data: bytes, e: str = "<") -> bytes:
    return _block(3, struct.pack(e + "I", len(data)) + data, e)


def pb(iface: int, ticks: int, data: bytes, e: str = "<") -> bytes:
    hdr = struct.pack(e + "HHIIII", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return _block(2, hdr + data, e)


def other_block(btype: int, body: bytes, e: str = "<") -> bytes:
    return _block(btype, body, e)


def pcapng_section(
    linktypes: Sequence[int], packets: Iterable[tuple[int, Packet]], e: str = "<"
) -> bytes:
    """One section: an IDB per link type (microseconds), then EPBs (interface, packet)."""
    out = [shb(e)] + [idb(lt, e) for lt in linktypes]
    out += [epb(i, round(ts * 1e6), data, e) for i, (ts, data) in packets]
    return b"".join(out)
