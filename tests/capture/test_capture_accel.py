"""The optional C accelerator and the pure-Python reader give the same results."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
from cap_builders import pcap

from segcheck.capture import read_capture, records

ACCEL = records._accel


def _frames(n: int, seed: int) -> list[tuple[float, bytes]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        eth = b"\x02" * 12 + b"\x08\x00"
        ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, rnd.randrange(1, 9)])
        ip += bytes([10, 1, 0, rnd.randrange(1, 9)])
        tcp = struct.pack(">HHIIBBHHH", 1024 + i % 7, 80, 0, 0, 0x50, 0x02, 0, 0, 0)
        out.append((1.7e9 + i, eth + ip + tcp + b"x" * rnd.randrange(0, 300)))
    return out


def _cases() -> list[tuple[bytes, int, str, int, int]]:
    cases = []
    for endian in "<>":
        body = pcap(_frames(300, 1), endian=endian)
        cases.append((body, 24, endian, 262144, 1 << 62))
        cases.append((body[:-7], 24, endian, 262144, 1 << 62))  # last record cut
        cases.append((body, 24, endian, 262144, len(body) // 2))  # range end
        cases.append((body, 24, endian, 200, 1 << 62))  # impossible caplen
        cases.append((body[:30], 24, endian, 262144, 1 << 62))  # header cut
        cases.append((body, len(body), endian, 262144, 1 << 62))  # nothing left
    garbage = bytes(random.Random(3).randrange(256) for _ in range(5000))
    cases.append((garbage, 0, "<", 262144, 1 << 62))
    return cases


@pytest.mark.skipif(ACCEL is None, reason="C accelerator not built (no compiler)")
@pytest.mark.parametrize("case", range(len(_cases())))
def test_accel_walk_equals_python(case: int) -> None:
    buf, o, endian, limit, stop = _cases()[case]
    c_starts, c_next, c_bad = records.walk_pcap(buf, o, endian, limit, stop)
    p_starts, p_next, p_bad = records.walk_pcap_py(buf, o, endian, limit, stop)
    assert np.array_equal(c_starts, p_starts)
    assert (c_next, c_bad) == (p_next, p_bad)


def test_pure_python_reader_equals_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.pcap"
    body = pcap(_frames(2000, 2))
    path.write_bytes(body[:-5])  # damaged tail too
    default = read_capture(path)
    monkeypatch.setattr(records, "_accel", None)
    pure = read_capture(path)
    assert pure == default
    assert pure.info.stopped_at is not None and len(pure.flows) > 0
