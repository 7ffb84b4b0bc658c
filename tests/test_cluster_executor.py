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


@pytest.fixture(autouse=True)
def _pool_whatever_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """`jobs=2` goes through the process pool (and cuts) even on a 2-CPU machine, where it
    would otherwise read plain captures in this process."""
    monkeypatch.setattr(api, "local_cpus", lambda: 4)


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
