"""The same packet seen on two capture points counts once and is extracted once (issue 12)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from cap_builders import pcap
from scapy.layers.inet import IP, TCP, UDP  # type: ignore[import-untyped]
from scapy.layers.l2 import Dot1Q, Ether  # type: ignore[import-untyped]
from scapy.packet import Raw, raw  # type: ignore[import-untyped]

from segcheck.capture import api, extract_packets, records
from segcheck.capture.dedup import LEDGER_DTYPE, copies


@pytest.fixture(autouse=True)
def _pool_whatever_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """`jobs=2` goes through the process pool (and cuts) even on a 2-CPU machine, where it
    would otherwise read plain captures in this process."""
    monkeypatch.setattr(api, "local_cpus", lambda: 4)


T0 = 1_700_000_000.0


def _traffic(n: int = 40) -> list[tuple[float, object]]:
    """TCP and UDP exchanges with distinct IP ids; (time, scapy IP packet)."""
    out = []
    for i in range(n):
        a, b = f"10.0.0.{i % 9 + 1}", f"192.168.0.{i % 4 + 1}"
        if i % 2:
            p = IP(src=a, dst=b, id=i) / TCP(sport=40000 + i, dport=443, flags="S", seq=i)
            q = IP(src=b, dst=a, id=1000 + i) / TCP(sport=443, dport=40000 + i, flags="SA")
        else:
            p = IP(src=a, dst=b, id=i) / UDP(sport=50000 + i, dport=53) / Raw(b"q%d" % i)
            q = IP(src=b, dst=a, id=1000 + i) / UDP(sport=53, dport=50000 + i) / Raw(b"a")
        out += [(T0 + i * 0.01, p), (T0 + i * 0.01 + 0.001, q)]
    return out


def _tap_a(traffic: list[tuple[float, object]]) -> list[tuple[float, bytes]]:
    return [
        (t, raw(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p)) for t, p in traffic
    ]


def _tap_b(
    traffic: list[tuple[float, object]], delay: float = 0.00005
) -> list[tuple[float, bytes]]:
    """The other side of a router: other MACs, a VLAN tag, TTL one less, a little later."""
    out = []
    for t, p in traffic:
        q = p.copy()
        q.ttl -= 1
        del q.chksum
        l2 = Ether(src="02:00:00:00:00:03", dst="02:00:00:00:00:04") / Dot1Q(vlan=20)
        out.append((t + delay, raw(l2 / q)))
    return out


@functools.cache
def _taps(padded: bool = False) -> tuple[int, list[tuple[float, bytes]], list[tuple[float, bytes]]]:
    """The packets of `_traffic()` and what taps a and b recorded of them, built once: scapy
    takes ~0.1 s per build. `padded`: payloads longer than the ledger's signed bytes, some
    differing only past them. Lists of immutable rows; a test copies before it changes one."""
    traffic = _traffic()
    if padded:
        traffic = [(t, p / Raw(bytes(120) + b"%d" % (i % 3))) for i, (t, p) in enumerate(traffic)]
    return len(traffic), _tap_a(traffic), _tap_b(traffic)


def _counts(flows: list) -> dict[tuple[str, str, int], tuple[int, int, str]]:
    got: dict[tuple[str, str, int], tuple[int, int, str]] = {}
    for f in flows:
        k = (f.src_ip, f.dst_ip, f.dst_port)
        p, b, _ = got.get(k, (0, 0, ""))
        got[k] = (p + f.packets, b + f.bytes, f.state)
    return got


@pytest.fixture(params=["accel", "pure"])
def path_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(records, "_accel", None)
    elif records._accel is None:
        pytest.skip("C accelerator not built (no compiler)")
    return str(request.param)


def test_two_taps_count_once(tmp_path: Path, path_kind: str) -> None:
    n, tap_a, tap_b = _taps()
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(pcap(tap_a))
    b.write_bytes(pcap(tap_b))
    alone = api.read_scan([a])
    both = api.read_scan([a, b])
    # counted where first seen (tap a, untagged), never twice
    want = {k: v for k, v in _counts(alone.flows()).items()}
    assert {k: v[0] for k, v in _counts(both.flows()).items()} == {k: v[0] for k, v in want.items()}
    assert all(f.input == str(a) and f.vlan is None for f in both.flows())
    assert both.copies == [0, n]
    assert both.flow_counts == alone.flow_counts * 2  # each tap saw every flow
    # the same, whatever the order or the process count
    assert _counts(api.read_scan([a, b], jobs=2).flows()) == _counts(both.flows())


def test_one_file_of_two_taps_counts_once(tmp_path: Path, path_kind: str) -> None:
    n, tap_a, tap_b = _taps()
    merged = sorted(tap_a + tap_b, key=lambda x: x[0])
    one, alone = tmp_path / "merged.pcap", tmp_path / "a.pcap"
    one.write_bytes(pcap(merged))
    alone.write_bytes(pcap(tap_a))
    got = api.read_scan([one])
    assert got.copies == [n]
    assert {k: v[0] for k, v in _counts(got.flows()).items()} == {
        k: v[0] for k, v in _counts(api.read_scan([alone]).flows()).items()
    }


def test_extract_writes_each_packet_once(tmp_path: Path) -> None:
    n, tap_a, tap_b = _taps()
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(pcap(tap_a))
    b.write_bytes(pcap(tap_b))
    flows = api.read_scan([a, b]).flows()
    done = extract_packets([a, b], flows, tmp_path / "out.pcap")
    assert done.packets == n
    only_a = extract_packets([a], api.read_scan([a]).flows(), tmp_path / "a-out.pcap")
    assert (tmp_path / "out.pcap").read_bytes() == (tmp_path / "a-out.pcap").read_bytes()
    assert only_a.packets == n


def test_not_copies(tmp_path: Path) -> None:
    """Another IP id, or the same bytes a second later, are other packets."""
    traffic = _traffic(10)
    other_id = [(t, p.copy()) for t, p in traffic]
    for _, p in other_id:
        p.id += 7
    later = [(t + 1.0, p) for t, p in traffic]
    for name, second in (("id", other_id), ("later", later)):
        a, b = tmp_path / f"{name}-a.pcap", tmp_path / f"{name}-b.pcap"
        a.write_bytes(pcap(_tap_a(traffic)))
        b.write_bytes(pcap(_tap_a(second)))
        got = api.read_scan([a, b])
        assert got.copies == [0, 0], name
        assert sum(f.packets for f in got.flows()) == 2 * len(traffic), name


def test_copies_keep_the_first_by_input_and_frame() -> None:
    led = np.zeros(6, dtype=LEDGER_DTYPE)
    led["sig"] = [5, 5, 5, 9, 9, 7]
    led["ts"] = [100, 90, 10**9, 0, 50_000_000, 0]  # third: a second later, its own packet
    led["frame"] = [(1 << 40) | 3, 4, 8, 1, (2 << 40) | 1, 2]
    assert copies(led).tolist() == [(1 << 40) | 3, (2 << 40) | 1]
    # The ledger of a scan is a list of per-batch pieces: the same answer, in any cut.
    for cut in range(7):
        assert copies([led[:cut], led[cut:]]).tolist() == [(1 << 40) | 3, (2 << 40) | 1]
    assert copies([led[[0, 3, 5]], led[[1, 2, 4]]]).tolist() == [(1 << 40) | 3, (2 << 40) | 1]


@pytest.mark.parametrize("size", [1, 7, 64])
def test_batches_decoded_in_pieces_give_the_same_scan(
    tmp_path: Path, path_kind: str, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """A reader's batch is decoded SUB_BATCH records at a time (bounded temporaries for
    small packets): flows, copies and tap ledger are those of the batch in one go."""
    n, tap_a, tap_b = _taps(padded=True)
    merged = sorted(tap_a + tap_b, key=lambda x: x[0])
    one = tmp_path / "merged.pcap"
    one.write_bytes(pcap(merged))
    whole = api.read_scan([one])
    part = api.scan_part(str(one))
    monkeypatch.setattr(api, "SUB_BATCH", size)
    pieces = api.read_scan([one])
    assert pieces.flows() == whole.flows()
    assert pieces.copies == whole.copies == [n]
    cut = api.scan_part(str(one))
    assert np.array_equal(np.concatenate(cut.table.ledger), np.concatenate(part.table.ledger))
