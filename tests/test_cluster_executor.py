"""The executor seam of `read_captures`/`read_scan` (issue 10): any concurrent.futures.Executor
reads the inputs with the bytes of a local run, cut pcaps and tap copies included."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from segcheck import engine
from segcheck.capture import api, records
from segcheck.capture.api import read_captures, read_scan
from segcheck.errors import CaptureError
from segcheck.report import render

ROOT = Path(__file__).resolve().parents[1]
TOPO = ROOT / "topologies/alpha.yaml"
INPUTS = [
    ROOT / "captures/alpha/alpha.pcap",
    ROOT / "captures/alpha-prime/alpha-prime.pcapng",
    ROOT / "tests/data/pcaps/zeek__vlan-collisions.pcap",
    ROOT / "tests/data/pcaps/zeek__fragmented-3.pcap",
]


class CountingExecutor(Executor):
    """A thread pool that records what it was asked to run (to prove the seam is used)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(2)
        self.calls: list[str] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls.append(fn.__name__)
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 MB pcap of the benchmark's traffic (20k packets, 2k flows), cut into ranges."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from capture_speed import make_pcap
    finally:
        sys.path.pop(0)
    path = tmp_path_factory.mktemp("exec") / "bench.pcap"
    make_pcap(path, 20_000, 2_000)
    return path


@pytest.fixture
def small_cuts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cut any plain pcap above 1 MB into ranges, read in 64 KB chunks."""
    monkeypatch.setattr(api, "SPLIT_MIN_BYTES", 1 << 20)
    monkeypatch.setattr(records, "CHUNK", 1 << 16)
    yield


@pytest.mark.usefixtures("small_cuts")
def test_a_thread_pool_gives_the_bytes_of_one_process(big: Path) -> None:
    inputs = [*INPUTS, big]
    assert api._pcap_split_points(str(big), 3) is not None
    alone = read_captures(inputs)
    pool = CountingExecutor()
    with pool:
        threaded = read_captures(inputs, jobs=3, executor=pool)
    assert pickle.dumps(threaded) == pickle.dumps(alone)
    # One first task per input, then three ranges of the cut pcap (the first one hashes it).
    assert pool.calls == ["_input_task"] * len(inputs) + ["_scan_task"] * 3


@pytest.mark.usefixtures("small_cuts")
def test_scan_through_an_injected_executor_equals_local_and_jobs(big: Path) -> None:
    names = [str(p) for p in [*INPUTS, big]]
    local = read_scan(names)
    with ThreadPoolExecutor(3) as pool:
        threaded = read_scan(names, jobs=3, executor=pool)
    jobs = read_scan(names, jobs=2)
    for other in (threaded, jobs):
        assert pickle.dumps(other.flows()) == pickle.dumps(local.flows())
        assert other.inputs == local.inputs and other.flow_counts == local.flow_counts


def test_the_whole_report_is_byte_identical_through_a_process_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def json_of(executor: Executor | None) -> str:
        real = api.read_scan

        def read(*a: Any, **kw: Any) -> Any:
            return real(*a, **kw, executor=executor) if executor is not None else real(*a, **kw)

        monkeypatch.setattr(api, "read_scan", read)
        names = [str(p) for p in INPUTS]
        report = engine.scan(TOPO, names, generated_at="2026-01-01T00:00:00Z")
        return render(report, "json", "en")

    local = json_of(None)
    with ProcessPoolExecutor(2) as pool:
        assert json_of(pool) == local
    assert '"findings"' in local


def test_a_missing_input_through_an_executor_names_it(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool, pytest.raises(CaptureError, match="nope.pcap: no such"):
        read_captures([INPUTS[0], tmp_path / "nope.pcap"], executor=pool)
    with ThreadPoolExecutor(2) as pool, pytest.raises(CaptureError, match="nope.pcap: no such"):
        read_scan([str(INPUTS[0]), str(tmp_path / "nope.pcap")], executor=pool)


class SharingExecutor(CountingExecutor):
    """A thread pool with Dask's `share` (a broadcast): the shared value is wrapped, so a task
    given the value itself instead of its handle would fail."""

    def __init__(self) -> None:
        super().__init__()
        self.shared: list[object] = []

    def share(self, value: object) -> object:
        self.shared.append(value)
        return value


@pytest.mark.parametrize("buckets", [1, 3, 7])
def test_judging_in_buckets_gives_the_records_of_judging_here(
    big: Path, buckets: int, tmp_path: Path
) -> None:
    from segcheck.cluster import JudgeSpec, dumps, judge_scan, loads

    log = tmp_path / "conn.log"  # a flow log between two captures: judged as its own task
    head = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
    head += "proto\tconn_state\torig_pkts\tresp_pkts\n"
    lines = [
        f"{1767225600 + i}\tC{i}\t10.2.10.{11 + i}\t5000{i}\t10.3.20.25\t445\ttcp\tSF\t3\t2\n"
        for i in range(5)
    ]
    log.write_text(head + "".join(lines))
    logs = [log]
    names = [str(p) for p in [*INPUTS[:2], log, *INPUTS[2:], big]]
    topo = engine._topology(TOPO)
    policy, addresses = engine._prepare(topo, None)
    spec = JudgeSpec(policy, addresses)
    here = judge_scan(read_scan(names), spec)
    pool = SharingExecutor()
    with pool:
        there = judge_scan(read_scan(names), spec, pool, buckets)
    assert there == here
    assert len(here) > 2000 and any(f is not None for _, f, _ in here)
    assert pool.shared == [spec]  # shared once, whatever the number of tasks
    assert pool.calls.count("_judge_bucket") == buckets
    assert pool.calls.count("_judge_flows") == len(logs)
    # The compact pickling round-trips every judged record exactly.
    assert loads(dumps(here)) == here
