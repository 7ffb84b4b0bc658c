"""--jobs equivalence, flow-table merging, and packet extraction."""

from __future__ import annotations

import functools
import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cap_builders import pcap
from scapy.layers.inet import IP, TCP, UDP, fragment  # type: ignore[import-untyped]
from scapy.layers.l2 import GRE, Dot1Q  # type: ignore[import-untyped]
from scapy.layers.l2 import Ether as _Ether
from scapy.packet import Raw, raw  # type: ignore[import-untyped]

from segcheck.capture import (
    Flow,
    FlowTable,
    api,
    extract_packets,
    read_capture,
    read_captures,
    records,
)
from segcheck.capture.flowtable import aggregate_rows, group

T0 = 1_700_000_000.0


def Ether() -> _Ether:  # noqa: N802 - explicit MACs: scapy would otherwise try ARP lookups
    return _Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


@functools.lru_cache
@functools.cache  # scapy takes ~0.2 s per build, and three tests read the same one
def mixed_capture(n_flows: int = 300, seed: int = 1) -> tuple[tuple[float, bytes], ...]:
    """Interleaved TCP/UDP flows, some VLAN-tagged, a GRE tunnel and a fragment train."""
    rng = np.random.default_rng(seed)
    pkts: list[bytes] = []
    for i in range(n_flows):
        a, b = f"10.0.{i // 250}.{i % 250 + 1}", f"172.16.0.{i % 7 + 1}"
        sport, dport = 20000 + i, [80, 443, 53, 9999][i % 4]
        l2 = Ether() / Dot1Q(vlan=5) if i % 5 == 0 else Ether()
        if i % 3:
            pkts.append(raw(l2 / IP(src=a, dst=b) / TCP(sport=sport, dport=dport, flags="S")))
            if i % 4:
                pkts.append(raw(l2 / IP(src=b, dst=a) / TCP(sport=dport, dport=sport, flags="SA")))
        else:
            pkts.append(
                raw(l2 / IP(src=a, dst=b) / UDP(sport=sport, dport=dport) / Raw(b"x" * (i % 50)))
            )
    tunnel = (
        Ether() / IP(src="192.0.2.1", dst="192.0.2.2") / GRE() / IP(src="10.1.1.1", dst="10.2.2.2")
    )
    pkts += [raw(tunnel / TCP(sport=1000 + k, dport=22, flags="S")) for k in range(5)]
    pkts += [
        raw(Ether() / f)
        for f in fragment(
            IP(src="10.3.3.3", dst="10.4.4.4") / UDP(sport=9, dport=53) / Raw(b"z" * 4000), 1000
        )
    ]
    order = rng.permutation(len(pkts))
    return tuple((T0 + k * 0.001, pkts[j]) for k, j in enumerate(order))


def test_jobs2_equals_jobs1_with_split_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.pcap"
    data = mixed_capture()
    path.write_bytes(pcap(data * 8))
    other = tmp_path / "other.pcap"
    other.write_bytes(pcap(mixed_capture(50, seed=2)))
    # Small chunks and split threshold so chunk carry-over and range splitting both happen.
    monkeypatch.setattr(records, "CHUNK", 1 << 14)
    monkeypatch.setattr(api, "SPLIT_MIN_BYTES", 1 << 12)
    monkeypatch.setattr(api, "local_cpus", lambda: 4)  # two ranges are worth it on 4 CPUs
    assert api._pcap_split_points(str(path), 2) is not None
    assert api._local_ranges(2) == 2
    one = read_captures([path, other], jobs=1)
    two = read_captures([path, other], jobs=2)
    assert [r.info for r in one] == [r.info for r in two]
    assert [r.flows for r in one] == [r.flows for r in two]
    assert one[0].info.packets_read == len(data) * 8
    seen: list[tuple[int, int]] = []
    read_captures([path], jobs=1, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size


def test_one_input_on_two_cpus_is_read_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On two CPUs one process already keeps both busy (the parse, and the SHA-256 beside it):
    `--jobs 2` on one input must not pay for a pool, nor cut an input into ranges."""
    path = tmp_path / "big.pcap"
    path.write_bytes(pcap(mixed_capture() * 4))
    monkeypatch.setattr(api, "SPLIT_MIN_BYTES", 1 << 12)
    monkeypatch.setattr(api, "local_cpus", lambda: 2)
    assert api._local_ranges(2) == 1 and api._local_ranges(8) == 1
    one = read_captures([path])
    scanned = api.read_scan([path])

    def no_pool(*_a: object, **_k: object) -> None:
        raise AssertionError("a process pool for one input on two CPUs")

    monkeypatch.setattr(api, "ProcessPoolExecutor", no_pool)
    assert read_captures([path], jobs=2) == one
    two = api.read_scan([path], jobs=2)
    assert two.flows() == scanned.flows() and two.inputs == scanned.inputs
    # Several uncompressed captures: one process too; a gzip among them goes to the pool.
    other = tmp_path / "other.pcapng"
    shutil.copy(Path(__file__).parents[2] / "captures/alpha-prime/alpha-prime.pcapng", other)
    packed = tmp_path / "big.pcap.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert api._in_one_process([str(path), str(other)], 2)
    assert not api._in_one_process([str(path), str(packed)], 2)
    assert read_captures([path, other], jobs=2) == read_captures([path, other])
    monkeypatch.setattr(api, "local_cpus", lambda: 3)
    assert api._local_ranges(2) == 2 and api._local_ranges(8) == 2
    assert not api._in_one_process([str(path)], 2)
    assert not api._in_one_process([str(path), str(other)], 2)


def test_flow_table_merge_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "m.pcap"
    path.write_bytes(pcap(mixed_capture()))
    whole = FlowTable()
    parts = [FlowTable(), FlowTable(), FlowTable()]
    dec = api.Decoder()
    for batch, _ in api.iter_batches(str(path)):
        cols = api.batch_rows(batch, dec)
        whole.add_rows(cols)
        # Split the rows arbitrarily (not by flow) over three tables.
        which = np.arange(len(cols["frame"])) % 3
        for k, t in enumerate(parts):
            t.add(group(aggregate_rows({n: v[which == k] for n, v in cols.items()})))
    merged = FlowTable()
    for t in reversed(parts):
        merged.merge(t)
    assert merged.flows("x") == whole.flows("x")


def test_extract_packets_reread_equals_selection(tmp_path: Path) -> None:
    path = tmp_path / "src.pcap"
    path.write_bytes(pcap(mixed_capture()))
    res = read_capture(path)
    chosen = [f for f in res.flows if f.dst_port in (53, 22) and not f.tunnel]
    assert chosen
    out = tmp_path / "out.pcap"
    done = extract_packets([path], chosen, out)
    assert done.packets == sum(f.packets for f in chosen)
    assert done.flows == len(chosen) and done.format == "pcap"
    again = read_capture(out)

    def key(f: Flow) -> tuple[object, ...]:
        return (
            f.src_ip,
            f.dst_ip,
            f.proto,
            f.src_port,
            f.dst_port,
            f.vlan or 0,
            f.packets,
            f.bytes,
        )

    # The GRE-carried flows bring their outer GRE flow along: they are the same packets.
    got = {key(f) for f in again.flows if not f.tunnel}
    assert got == {key(f) for f in chosen}
    assert again.info.link_types == (1,)
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed: cannot check that Wireshark reads the output")
    proc = subprocess.run(["tshark", "-r", str(out), "-q", "-z", "conv,udp"], capture_output=True)
    assert proc.returncode == 0, proc.stderr


def test_extract_several_link_types_writes_pcapng(tmp_path: Path) -> None:
    a, b = tmp_path / "eth.pcap", tmp_path / "raw.pcap"
    a.write_bytes(
        pcap([(T0, raw(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=53)))])
    )
    b.write_bytes(
        pcap(
            [(T0 + 1.000000123, raw(IP(src="10.0.0.3", dst="10.0.0.4") / UDP(sport=2, dport=53)))],
            linktype=101,
            nanos=True,
        )
    )
    flows = [f for r in read_captures([a, b]) for f in r.flows]
    out = tmp_path / "both.pcapng"
    assert extract_packets([a, b], flows, out).packets == 2
    again = read_capture(out)
    assert again.info.kind == "pcapng" and again.info.link_types == (1, 101)
    assert sorted(f.first_seen for f in again.flows) == pytest.approx(
        [T0, T0 + 1.000000123], abs=1e-7
    )
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed: cannot check that Wireshark reads the output")
    proc = subprocess.run(["tshark", "-r", str(out)], capture_output=True)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 2
