"""`scan --cluster`: a real Dask LocalCluster (2 worker processes) gives a local run's bytes.

Starting the worker processes (each imports segcheck, numpy and Dask) costs about 10 s of CPU,
so the tests that do are marked `slow` (CI runs them). The local fast run keeps the same
tasks on Dask's in-process workers (test_cluster_equals_local_on_in_process_workers) and the
executor seam, cut pcaps included, in tests/test_cluster_executor.py.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segcheck import cluster, engine
from segcheck.capture import api
from segcheck.cli import main
from segcheck.cluster import ClusterSpec
from segcheck.errors import CaptureError, UsageError
from segcheck.report import render

ROOT = Path(__file__).resolve().parents[1]
TOPO = ROOT / "topologies/alpha.yaml"
STAMP = "2026-01-01T00:00:00Z"
EXAMPLES = [
    ROOT / "captures/alpha/alpha.pcap",
    ROOT / "captures/alpha-prime/alpha-prime.pcapng",
    ROOT / "captures/beta/beta.pcap",
    ROOT / "tests/data/pcaps/zeek__vlan-collisions.pcap",
    ROOT / "tests/data/pcaps/dpkt__dns_icmp.pcap",
    ROOT / "tests/data/pcaps/zeek__fragmented-3.pcap",
]


def _distributed() -> Any:
    return pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install 'segcheck[dask]')"
    )


@pytest.fixture(autouse=True)
def _pool_whatever_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """`jobs=2` goes through the process pool (and cuts) even on a 2-CPU machine, where it
    would otherwise read plain captures in this process."""
    monkeypatch.setattr(api, "local_cpus", lambda: 4)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    _distributed()
    with cluster.connect(ClusterSpec("local:2")) as c:  # the workers `--cluster local:2` starts
        yield c


def _reach(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    @contextlib.contextmanager
    def connect(spec: ClusterSpec) -> Iterator[Any]:
        cluster._check_versions(client)
        yield client

    monkeypatch.setattr(cluster, "connect", connect)


@pytest.fixture
def on_cluster(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`engine.scan(cluster=…)` reaches the module's running cluster instead of a new one."""
    _reach(client, monkeypatch)


def _json(captures: list[Path], **kw: Any) -> str:
    report = engine.scan(TOPO, [str(c) for c in captures], generated_at=STAMP, **kw)
    return render(report, "json", "en")


def _split_benchmark(tmp: Path, parts: int) -> list[Path]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from capture_speed import make_pcap
    finally:
        sys.path.pop(0)
    whole = tmp / "bench.pcap"
    make_pcap(whole, 20_000, 2_000)
    data = whole.read_bytes()
    head, o, recs = data[:24], 24, []
    while o + 16 <= len(data):
        cap = int.from_bytes(data[o + 8 : o + 12], "little")
        recs.append(data[o : o + 16 + cap])
        o += 16 + cap
    out = []
    for i in range(parts):
        p = tmp / f"bench-{i:02d}.pcap"
        p.write_bytes(head + b"".join(recs[i * len(recs) // parts : (i + 1) * len(recs) // parts]))
        out.append(p)
    return out


def test_cluster_equals_local_on_in_process_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast run's cover for the process-cluster tests: the same read tasks and the
    client's merge and judging, on two in-process (thread) workers, which start in a fraction of a
    second; an unreadable input is still one clear error."""
    distributed = _distributed()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as lc,
        distributed.Client(lc) as c,
    ):
        _reach(c, monkeypatch)
        local = _json(EXAMPLES)
        assert _json(EXAMPLES, cluster=ClusterSpec("local:2")) == local
        assert '"findings"' in local
        with pytest.raises(CaptureError, match="missing.pcap: no such file"):
            _json([tmp_path / "missing.pcap"], cluster=ClusterSpec("local:2"))


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_cluster_equals_local_on_examples() -> None:
    local = _json(EXAMPLES)
    assert _json(EXAMPLES, cluster=ClusterSpec("local:2")) == local
    assert '"findings"' in local


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_cluster_equals_local_and_jobs_on_a_16_file_split(client: Any, tmp_path: Path) -> None:
    """One read task per input on the workers; merged and judged on the client."""
    from distributed import get_task_stream

    files = _split_benchmark(tmp_path, 16)
    local = _json(files)
    assert _json(files, jobs=2) == local
    with get_task_stream(client) as stream:
        assert _json(files, cluster=ClusterSpec("local:2")) == local
    names = [str(t["key"]).split("-")[0] for t in stream.data]
    assert names == ["_input_task"] * 16  # nothing but reading crosses to the workers
    # Past --max-flows the client joins flows before judging them: still the same.
    capped = _json(files, max_flows=300)
    assert capped != local
    assert _json(files, cluster=ClusterSpec("local:2"), max_flows=300) == capped


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_a_large_pcap_is_cut_into_range_tasks_on_the_cluster(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk tasks: a plain pcap above the threshold is read as one task per worker-sized byte
    range (the threshold travels with the task), and the bytes are a local run's."""
    from distributed import get_task_stream

    (big,) = _split_benchmark(tmp_path, 1)  # 6 MB
    monkeypatch.setattr(api, "SPLIT_MIN_BYTES", 1 << 20)
    files = [big, EXAMPLES[0]]
    local = _json(files)
    with get_task_stream(client) as stream:
        remote = _json(files, cluster=ClusterSpec("local:2"))
    assert remote == local
    names = [str(t["key"]).split("-")[0] for t in stream.data]
    assert names.count("_input_task") == 2
    assert names.count("_scan_task") == 2  # the big file, in as many ranges as workers


def _corpus() -> list[Path]:
    """Every corpus capture segcheck can read (the small copies, and ../shared's when present)."""
    from segcheck.capture import read_capture

    found = []
    for d in (ROOT / "tests/data/pcaps", ROOT.parent / "shared/corpus/pcap"):
        for p in sorted(d.glob("*.pcap*")) if d.is_dir() else ():
            try:
                read_capture(p)
            except CaptureError:
                continue
            found.append(p)
    return found


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_cluster_and_jobs_equal_local_on_the_corpus() -> None:
    corpus = _corpus()
    assert len(corpus) >= 10
    local = _json(corpus)
    assert _json(corpus, jobs=2) == local
    assert _json(corpus, cluster=ClusterSpec("local:2")) == local


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_cluster_equals_local_on_rotated_zeek_logs(tmp_path: Path) -> None:
    """One task per rotated `.log.gz`; a connection logged in two of them counts once."""
    head = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
    head += "proto\tconn_state\torig_pkts\tresp_pkts\n"
    logs = []
    for hour in range(4):
        lines = [
            f"{1767225600 + 3600 * hour + i}\tC{hour * 10 + i}\t10.2.10.{11 + i}\t5000{i}"
            f"\t10.3.20.25\t445\ttcp\tSF\t{2 + hour}\t2\n"
            for i in range(3)
        ]
        if hour:  # the last connection of the hour before, logged again (shard overlap)
            lines.append(
                f"{1767225600 + 3600 * (hour - 1) + 2}\tC{hour * 10 - 8}\t10.2.10.13"
                f"\t50002\t10.3.20.25\t445\ttcp\tSF\t9\t2\n"
            )
        p = tmp_path / f"conn.{hour:02d}:00:00-{hour + 1:02d}:00:00.log.gz"
        p.write_bytes(gzip.compress((head + "".join(lines)).encode(), mtime=0))
        logs.append(p)
    local = _json(logs)
    assert _json(logs, jobs=2) == local
    assert _json(logs, cluster=ClusterSpec("local:2")) == local
    c2 = [f["flow"] for f in json.loads(local)["findings"] if f["flow"]["pivot"] == "C2"]
    assert [(f["packets"], f["input"]) for f in c2] == [(11, str(logs[0]))]  # once, not 15


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_cli_cluster_local_2_bytes_equal_local() -> None:
    _distributed()
    args = ["scan", str(TOPO), *map(str, EXAMPLES[:2]), "--format", "json", "--timestamp", STAMP]
    local = CliRunner().invoke(main, args)
    remote = CliRunner().invoke(main, [*args, "--cluster", "local:2"])
    assert (local.exit_code, remote.exit_code) == (1, 1), remote.output
    assert remote.stdout == local.stdout


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_cli_reaches_a_running_scheduler_by_address_and_by_file(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running scheduler (the module's cluster), reached by `--cluster tcp://…` (loopback:
    no warning) and by `--scheduler-file`: a local run's bytes, reached when the scan needs
    it, never started early, and left running."""
    scheduler_file = tmp_path / "scheduler.json"
    # What `dask scheduler --scheduler-file` writes, of which a client reads the address
    # (Client.write_scheduler_file fails once tasks have run: tuple keys in the metrics).
    scheduler_file.write_text(
        json.dumps({"type": "Scheduler", "address": client.scheduler.address})
    )
    started: list[ClusterSpec] = []
    real = cluster._Starting
    monkeypatch.setattr(cluster, "_Starting", lambda spec: started.append(spec) or real(spec))
    args = ["scan", str(TOPO), *map(str, EXAMPLES[:3]), "--format", "json", "--timestamp", STAMP]
    local = CliRunner().invoke(main, args)
    for how in (["--cluster", client.scheduler.address], ["--scheduler-file", str(scheduler_file)]):
        remote = CliRunner().invoke(main, [*args, *how])
        assert (local.exit_code, remote.exit_code) == (1, 1), remote.output
        assert remote.stdout == local.stdout
        assert remote.stderr == local.stderr
    assert not started
    assert len(client.scheduler_info()["workers"]) == 2


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_cli_cluster_extract_writes_the_local_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--extract` in cluster mode: the same packets, in input order, as a local run, with
    the cluster started once for the scan and the extraction."""
    distributed = _distributed()
    started: list[object] = []
    real = distributed.LocalCluster

    def counted(*a: Any, **kw: Any) -> Any:
        started.append(kw)
        return real(*a, **kw)

    monkeypatch.setattr(distributed, "LocalCluster", counted)
    args = ["scan", str(TOPO), *map(str, EXAMPLES[:3]), "--format", "json", "--timestamp", STAMP]
    local = CliRunner().invoke(main, [*args, "--extract", str(tmp_path / "local.pcapng")])
    remote = CliRunner().invoke(
        main, [*args, "--extract", str(tmp_path / "remote.pcapng"), "--cluster", "local:2"]
    )
    assert (local.exit_code, remote.exit_code) == (1, 1), remote.output
    written = (tmp_path / "local.pcapng").read_bytes()
    assert len(written) > 1000
    assert (tmp_path / "remote.pcapng").read_bytes() == written
    assert len(started) == 1


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_extract_selects_on_the_workers(client: Any, tmp_path: Path) -> None:
    """The first pass of --extract is one task per packet input on the workers, whose
    results are written in input order: the bytes of a local extraction."""
    from distributed import get_task_stream

    from segcheck.capture.extract import extract_packets

    files = [*_split_benchmark(tmp_path, 3), *EXAMPLES[:2]]
    names = [str(p) for p in files]
    report = engine.scan(TOPO, names, generated_at=STAMP)
    chosen = [f.flow for f in report.findings if f.flow is not None]
    local = extract_packets(names, chosen, tmp_path / "local.pcapng")
    with get_task_stream(client) as stream, cluster.DaskExecutor(client) as executor:
        remote = extract_packets(names, chosen, tmp_path / "remote.pcapng", executor=executor)
    assert (remote.packets, remote.flows) == (local.packets, local.flows)
    assert local.packets > 100
    assert (tmp_path / "remote.pcapng").read_bytes() == (tmp_path / "local.pcapng").read_bytes()
    keys = [str(t["key"]).split("-")[0] for t in stream.data]
    assert keys.count("_selected_frames") == len(files)


@pytest.mark.slow  # worker processes (see the module's docstring)
@pytest.mark.usefixtures("on_cluster")
def test_unreadable_input_on_a_worker_is_exit_2(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="missing.pcap: no such file"):
        _json([tmp_path / "missing.pcap"], cluster=ClusterSpec("local:2"))


def test_jobs_and_cluster_exclude_each_other() -> None:
    r = CliRunner().invoke(
        main, ["scan", str(TOPO), str(EXAMPLES[0]), "--jobs", "2", "--cluster", "local:2"]
    )
    assert r.exit_code == 2
    assert "--jobs and --cluster" in r.output


@pytest.mark.parametrize(
    "address", ["local:0", "local:x", "http://h:1", "tls://", "tcp:/nohost", "local:1000"]
)
def test_bad_cluster_address(address: str) -> None:
    with pytest.raises(UsageError, match="expected local:N"):
        ClusterSpec(address)


def test_tls_needs_its_three_files() -> None:
    with pytest.raises(UsageError, match="tls:// needs"):
        ClusterSpec("tls://sched:8786")
    with pytest.raises(UsageError, match="go together"):
        ClusterSpec("tls://sched:8786", tls_ca_file="ca.pem")
    assert not ClusterSpec("tls://sched:8786", None, "ca.pem", "me.pem", "me.key").notes


@pytest.mark.parametrize(
    ("address", "warned"),
    [
        ("tcp://10.1.2.3:8786", True),
        ("tcp://sched.example:8786", True),
        ("tcp://127.0.0.1:8786", False),
        ("tcp://localhost:8786", False),
        ("tcp://[::1]:8786", False),
    ],
)
def test_tcp_to_a_non_loopback_scheduler_warns(address: str, warned: bool) -> None:
    notes = ClusterSpec(address).notes
    assert bool(notes) is warned
    if warned:
        assert "unencrypted" in notes[0] and "tls://" in notes[0]


def test_workers_of_another_version_are_refused() -> None:
    class Fake:
        def wait_for_workers(self, n: int, timeout: float) -> None:
            pass

        def run(self, fn: object) -> dict[str, str]:
            return {"tcp://127.0.0.1:1": cluster.__version__, "tcp://127.0.0.1:2": "0.0.1"}

    with pytest.raises(UsageError, match=r"another segcheck version.*127\.0\.0\.1:2 \(0\.0\.1\)"):
        cluster._check_versions(Fake())


def test_missing_distributed_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(UsageError, match=r"segcheck\[dask\]"):
        cluster._import_distributed()


def _log_noise() -> str:
    """What Dask logs when a worker's heartbeat misses a scheduler that is shutting down."""
    import logging

    try:
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1")
    except OSError:
        logging.getLogger("distributed.worker").exception(
            "NOISE: Failed to communicate with scheduler during heartbeat."
        )
    logging.getLogger("distributed.core").error("NOISE: connection broken")
    logging.getLogger("distributed.client").error("NOISE: a logger with its own level")
    return "logged"


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_a_local_cluster_keeps_dask_log_lines_from_the_user(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Dask's log lines (with tracebacks) from the workers `local:N` starts and from this
    process never reach the user's terminal, however the cluster stops; the workers also run
    without Dask's MALLOC_TRIM_THRESHOLD_ (2-3x slower reading, RESULTS.md)."""
    import os

    _distributed()
    with cluster.connect(ClusterSpec("local:1")) as client:
        assert set(client.run(_log_noise).values()) == {"logged"}  # in the worker
        _log_noise()  # in this process, which runs the scheduler and the nanny
        trims = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert set(trims.values()) == {os.environ.get("MALLOC_TRIM_THRESHOLD_")}
    err = capfd.readouterr().err
    assert "NOISE" not in err
    assert "Traceback" not in err


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_cli_cluster_local_2_prints_only_its_own_line(tmp_path: Path) -> None:
    """A whole `segcheck scan --cluster local:2` process: stderr holds segcheck's one line,
    nothing of Dask's (the workers are separate processes writing to the same terminal)."""
    import subprocess

    _distributed()
    out = tmp_path / "out.json"
    args = [str(TOPO), *map(str, EXAMPLES[:2]), "--format", "json", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "segcheck", "scan", *args, "--cluster", "local:2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wrote {out} ("), done.stderr


def _origin() -> tuple[int, bool]:
    import os

    return os.getppid(), "segcheck.capture.api" in sys.modules


@pytest.mark.slow  # worker processes (see the module's docstring)
def test_local_workers_are_forked_from_a_forkserver_with_the_readers_loaded() -> None:
    """`local:N` workers are processes of their own, forked by a single-threaded forkserver
    (not spawned by this process, which would make them import everything again, nor forked
    from it while Dask's threads run here), with the read tasks' modules already imported."""
    from multiprocessing import forkserver

    _distributed()
    with cluster.connect(ClusterSpec("local:2")) as client:
        origins = client.run(_origin)
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    assert list(origins.values()) == [(server, True)] * 2


def test_the_cluster_stops_in_a_thread_while_the_client_judges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`read_then_stop`: the cluster stops behind the caller's back once reading is done (and
    `wait` says what stopping raised), or before a reading error propagates."""
    import threading

    events: list[tuple[str, str]] = []
    stop_fails = False

    @contextlib.contextmanager
    def connect(spec: ClusterSpec) -> Iterator[Any]:
        events.append(("start", threading.current_thread().name))
        try:
            yield "client"
        finally:
            events.append(("stop", threading.current_thread().name))
            if stop_fails:
                raise OSError("the scheduler went away")

    def read(client: Any, paths: list[str], options: object = None) -> Any:
        if paths == ["bad"]:
            raise CaptureError("bad", "no such file")
        return f"{paths} read by {client}"

    monkeypatch.setattr(cluster, "connect", connect)
    monkeypatch.setattr(cluster, "read_scan_cluster", read)
    here = threading.current_thread().name
    scanned, wait = cluster.read_then_stop(ClusterSpec("local:2"), ["a"])
    assert scanned == "['a'] read by client"
    wait()
    assert events == [("start", here), ("stop", "segcheck-cluster-stop")]
    events.clear()
    with pytest.raises(CaptureError, match="no such file"):
        cluster.read_then_stop(ClusterSpec("local:2"), ["bad"])
    assert events == [("start", here), ("stop", here)]
    stop_fails = True
    _, wait = cluster.read_then_stop(ClusterSpec("local:2"), ["a"])
    with pytest.raises(OSError, match="went away"):
        wait()


def test_a_cluster_started_early_is_taken_over_or_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`started_early`: `local:N` starts in a thread while the command goes on; `connect`
    takes that cluster over (one start, stopped where `connect`'s user stops it) and raises
    what starting it raised; a cluster never taken over stops when the command ends. A
    running scheduler is not reached early."""
    import threading

    events: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def fake_connect(spec: ClusterSpec) -> Iterator[Any]:
        events.append(("start", threading.current_thread().name))
        if spec.address == "local:3":
            raise UsageError("no workers")
        try:
            yield f"client of {spec.address}"
        finally:
            events.append(("stop", threading.current_thread().name))

    monkeypatch.setattr(cluster, "_connect", fake_connect)
    monkeypatch.setattr(cluster, "_start_forkserver", lambda: None)
    here = threading.current_thread().name
    with cluster.started_early(ClusterSpec("local:2")):
        with cluster.connect(ClusterSpec("local:2")) as client:
            assert client == "client of local:2"
            assert events == [("start", "segcheck-cluster-start")]
        assert events[1:] == [("stop", here)]
    assert len(events) == 2 and not cluster._early

    events.clear()
    with cluster.started_early(ClusterSpec("local:2")):
        pass  # the command failed before its scan
    assert events == [("start", "segcheck-cluster-start"), ("stop", here)]

    events.clear()
    with cluster.started_early(ClusterSpec("local:3")):
        with pytest.raises(UsageError, match="no workers"), cluster.connect(ClusterSpec("local:3")):
            pass
    assert events == [("start", "segcheck-cluster-start")]

    events.clear()
    remote = ClusterSpec("tcp://127.0.0.1:8786")
    with cluster.started_early(remote):
        assert events == [] and not cluster._early
        with cluster.connect(remote):
            assert events == [("start", here)]


def test_dask_log_lines_stay_quiet_while_segcheck_holds_any_cluster() -> None:
    """A remote cluster's client (no LocalCluster to silence it): what Dask's loggers in this
    process write (to the handler Dask gives the `distributed` logger), one with a level of
    its own among them, is held back while segcheck holds a cluster, and speaks again after."""
    import io
    import logging

    _distributed()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # as Dask's own, on the `distributed` logger
    logger = logging.getLogger("distributed")
    # Dask's default levels (other tests' in-process workers may have raised them).
    levels = {"distributed": logging.INFO, "distributed.worker": 0, "distributed.core": 0}
    before = {name: logging.getLogger(name).level for name in levels}
    logger.addHandler(handler)
    try:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        with cluster._quiet():
            _log_noise()
        assert stream.getvalue() == ""
        _log_noise()
        assert stream.getvalue().count("NOISE") == 3
    finally:
        logger.removeHandler(handler)
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
