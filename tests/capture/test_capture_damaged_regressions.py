"""Damaged captures found by review fuzzing: each must read without an exception.

mpls_pw_loop.pcap: Ethernet -> MPLS -> pseudowire Ethernet, looped 600 times in one packet.
tsres_bin.pcapng / tsres_dec.pcapng: if_tsresol beyond int64 tick arithmetic (binary 2^-100,
decimal 10^-60). tsoff_eof.pcapng: an if_tsoffset option that runs past its block at the end
of the file. All were made for segcheck's tests (our own work).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from segcheck.capture import read_capture
from segcheck.errors import CaptureError

DAMAGED = Path(__file__).resolve().parents[1] / "data" / "pcaps" / "damaged"


@pytest.mark.parametrize("pure", [False, True], ids=["accelerated", "pure-python"])
@pytest.mark.parametrize("name", sorted(p.name for p in DAMAGED.iterdir()))
def test_damaged_capture_reads_without_crash(
    name: str, pure: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pure:
        monkeypatch.setenv("SEGCHECK_PURE_PYTHON", "1")
    try:
        result = read_capture(DAMAGED / name)
    except CaptureError:
        return  # nothing readable is a clean, reported outcome too
    info = result.info
    assert info.packets_read + info.packets_skipped >= 0
    for flow in result.flows:
        assert flow.packets >= 1
