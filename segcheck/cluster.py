"""`scan --cluster`: read on a Dask cluster (the `segcheck[dask]` extra).

The only module that imports ``distributed``, and only when a cluster is asked for. Reading
goes through the same code as `--jobs` (:func:`segcheck.capture.api.read_scan` with Dask's
executor): one task per input, or per byte range of a large plain pcap, on a worker, which
opens the file by its path (paths must be readable there), hashes it and reads it into a flow
table; only that table (or a flow log's records) and the digest cross the network, never
packets. The client merges the tables (any order gives the same bytes, see
:mod:`segcheck.capture.flowtable`) and judges them as a local run does, in bulk by address
class (:meth:`segcheck.flowjudge.FlowJudge.judge_columns`): the report is byte-identical.
Judging on the workers was measured and dropped: the judged records coming back cost the
client about what judging them in columns here costs (benchmarks/RESULTS.md).

Addresses: ``local:N`` starts N worker processes on this machine (tests, benchmarks), forked
from a forkserver that imports Dask and the readers once; the command line starts it in a
thread while it loads the topology (:func:`started_early`);
``tls://HOST:PORT`` with ``--tls-ca-file/--tls-cert/--tls-key`` (Dask's TLS options) reaches a
running scheduler; ``tcp://`` works but is unauthenticated and unencrypted, so anything but a
loopback address draws a warning; ``--scheduler-file`` reads the address Dask wrote there.
Workers whose segcheck version differs from the client's are refused.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from . import __version__
from .errors import UsageError

if TYPE_CHECKING:
    from .capture.api import ScanResult
    from .capture.logflow import ReadOptions

T = TypeVar("T")

_LOCAL = re.compile(r"local:([1-9][0-9]{0,2})")


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """Where to run: ``address`` (``local:N``, ``tls://…``, ``tcp://…``) or a scheduler file."""

    address: str | None = None
    scheduler_file: str | None = None
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    notes: list[str] = field(default_factory=list, compare=False)  # warnings for the user

    def __post_init__(self) -> None:
        if (self.address is None) == (self.scheduler_file is None):
            raise UsageError("give exactly one of --cluster and --scheduler-file")
        a = self.address
        if a is not None and _LOCAL.fullmatch(a) is None:
            scheme = urlsplit(a).scheme
            if scheme not in ("tls", "tcp") or not urlsplit(a).hostname:
                raise UsageError(
                    f"--cluster {a!r}: expected local:N, tls://HOST:PORT or tcp://HOST:PORT"
                )
        tls = (self.tls_ca_file, self.tls_cert, self.tls_key)
        if any(tls) and not all(tls):
            raise UsageError("--tls-ca-file, --tls-cert and --tls-key go together")
        if a is not None and a.startswith("tls://") and not any(tls):
            raise UsageError(f"--cluster {a}: tls:// needs --tls-ca-file, --tls-cert, --tls-key")
        if a is not None and a.startswith("tcp://") and not _loopback(urlsplit(a).hostname):
            self.notes.append(
                f"warning: {a} is unauthenticated and unencrypted, and captures hold citizens' "
                "traffic: use tls:// with --tls-ca-file/--tls-cert/--tls-key"
            )

    @property
    def local_workers(self) -> int | None:
        """N for ``local:N``, else None."""
        m = _LOCAL.fullmatch(self.address or "")
        return int(m.group(1)) if m else None


def _loopback(host: str | None) -> bool:
    if host in ("localhost", None):
        return host is not None
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "--cluster needs Dask's distributed package: pip install 'segcheck[dask]'"
        ) from None
    return distributed


# Clients of open sessions (see `session`), which `connect` hands out instead of a new one.
_sessions: dict[ClusterSpec, Any] = {}


@contextmanager
def session(spec: ClusterSpec) -> Iterator[DaskExecutor]:
    """One connection for a whole command: while it is open, :func:`connect` to ``spec``
    reuses it (`scan --cluster --extract` starts or reaches the cluster once, not twice)."""
    with connect(spec) as client:
        _sessions[spec] = client
        try:
            with DaskExecutor(client) as executor:
                yield executor
        finally:
            del _sessions[spec]


@contextmanager
def connect(spec: ClusterSpec) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec`` whose workers all run this segcheck version."""
    if spec in _sessions:
        yield _sessions[spec]
        return
    starting = _early.pop(spec, None)
    if starting is not None:  # see `started_early`
        with starting.taken() as client:
            yield client
        return
    with _connect(spec) as client:
        yield client


# `local:N` clusters starting in a thread (see `started_early`), which `connect` takes over.
_early: dict[ClusterSpec, _Starting] = {}


@contextmanager
def started_early(spec: ClusterSpec) -> Iterator[None]:
    """While open, the cluster of ``spec`` is started in a thread, so that it is up by the
    time the command, having loaded its topology and policy, reaches :func:`connect`, which
    takes it over (and raises what starting it raised, as it would have). Closed before that
    (the command failed first), it is stopped. For `local:N` only: a running scheduler is
    reached by `connect` when it is needed, as before."""
    if spec.local_workers is None:
        yield
        return
    _start_forkserver()  # before the thread: it imports while this process does
    starting = _Starting(spec)
    _early[spec] = starting
    try:
        yield
    finally:
        if _early.get(spec) is starting:  # never taken over
            del _early[spec]
            starting.close()


class _Starting:
    """`_connect(spec)` entered in a thread: its client, or what entering it raised."""

    def __init__(self, spec: ClusterSpec) -> None:
        self._stack = ExitStack()
        self._client: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(spec,), name="segcheck-cluster-start", daemon=True
        )
        self._thread.start()

    def _run(self, spec: ClusterSpec) -> None:
        try:
            self._client = self._stack.enter_context(_connect(spec))
        except BaseException as exc:  # raised again by taken(), in the caller's thread
            self._error = exc

    @contextmanager
    def taken(self) -> Iterator[Any]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        with self._stack:
            yield self._client

    def close(self) -> None:
        self._thread.join()
        self._stack.close()


@contextmanager
def _connect(spec: ClusterSpec) -> Iterator[Any]:
    n = spec.local_workers
    if n is not None:
        _start_forkserver()  # it imports while this process imports distributed
    distributed = _import_distributed()
    with _quiet(), ExitStack() as stack:
        if n is not None:
            import dask

            with dask.config.set(_local_workers()):
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.CRITICAL,
                        # Its HTTP server (health, metrics) on a free loopback port: the
                        # default 8787 warns on the user's terminal when another cluster has it.
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    )
                )
            client = distributed.Client(cluster)
        else:
            security = None
            if spec.tls_ca_file is not None:
                security = distributed.Security(
                    tls_ca_file=spec.tls_ca_file,
                    tls_client_cert=spec.tls_cert,
                    tls_client_key=spec.tls_key,
                    require_encryption=True,
                )
            where = spec.address or spec.scheduler_file
            try:
                if spec.scheduler_file is not None:
                    client = distributed.Client(
                        scheduler_file=spec.scheduler_file, security=security, timeout=30
                    )
                else:
                    client = distributed.Client(spec.address, security=security, timeout=30)
            except OSError as exc:
                raise UsageError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
        try:
            _check_versions(client)
            yield client
        finally:
            client.close()  # then the cluster (the stack): its workers stop with no client


# The workers `local:N` starts. Dask's Nanny spawns workers with MALLOC_TRIM_THRESHOLD_=65536
# (to hand freed memory back to the OS), which also pins glibc's mmap threshold at 128 KiB:
# every array of a read batch is then a fresh mmap, its pages faulted in and zeroed, and
# reading on such a worker took 2-3x the time it takes in this process (benchmarks/RESULTS.md).
# None leaves the variable as this process has it (unset, or the user's own value).
_LOCAL_WORKERS: dict[str, object] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None
}

# What a `local:N` worker runs, imported once in the forkserver its processes are forked from.
_PRELOAD = ["distributed", f"{__package__}.capture.api"]


def _forkserver() -> bool:
    import multiprocessing

    return "forkserver" in multiprocessing.get_all_start_methods()


def _local_workers() -> dict[str, object]:
    """Dask's settings for the workers `local:N` starts. Their processes are forked from a
    forkserver (Unix) rather than spawned: a spawned worker starts a fresh interpreter that
    imports distributed, numpy and the readers itself (about 0.5 s of CPU each, on cores the
    client needs too), while the forkserver imports them once, on another core while the client
    imports its own, and forks each worker in milliseconds (benchmarks/RESULTS.md). Not
    ``fork``: this process runs Dask's event loop and other threads when the workers start,
    and a fork copies their locks but not the threads that would release them; the
    forkserver is single-threaded when it forks."""
    if not _forkserver():
        return _LOCAL_WORKERS
    return {**_LOCAL_WORKERS, "distributed.worker.multiprocessing-method": "forkserver"}


def _start_forkserver() -> None:
    """Start this process's forkserver (if not running) with the workers' modules preloaded,
    without waiting for it: it imports them on another core while this process imports
    distributed and starts the scheduler. It inherits this process's environment (hence the
    workers' malloc settings), serves this process's later `local:N` clusters too, and stops
    when this process exits."""
    if not _forkserver() or importlib.util.find_spec("distributed") is None:
        return  # no distributed: _import_distributed says so
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    forkserver.ensure_running()


@contextmanager
def _quiet() -> Iterator[None]:
    """Dask's log lines in this process kept from the user while we hold a cluster: a worker
    that misses the scheduler shutting down, a broken connection, each with its traceback.
    Whatever goes wrong with the work reaches us as an exception, which we report; the
    workers `local:N` starts are quietened by Dask itself (``silence_logs``)."""
    with ExitStack() as stack:
        for name in ("distributed", "tornado"):
            logger = logging.getLogger(name)
            for handler in logger.handlers:
                stack.callback(handler.setLevel, handler.level)
                handler.setLevel(logging.CRITICAL)
            stack.callback(logger.setLevel, logger.level)
            logger.setLevel(logging.CRITICAL)
        yield


def _version() -> str:
    from segcheck import __version__ as v  # the worker's own installation

    return v


def _check_versions(client: Any) -> None:
    client.wait_for_workers(1, timeout=60)
    versions: dict[str, str] = client.run(_version)
    bad = sorted(f"{w} ({v})" for w, v in versions.items() if v != __version__)
    if bad:
        raise UsageError(
            f"Dask workers run another segcheck version than this client ({__version__}): "
            + ", ".join(bad)
        )


def workers(client: Any) -> int:
    """Worker threads of the cluster: how many ranges a large plain pcap is cut into."""
    return max(1, sum(client.nthreads().values()))


class DaskExecutor(Executor):
    """Dask's :class:`concurrent.futures.Executor` (``client.get_executor()``)."""

    def __init__(self, client: Any) -> None:
        self._inner = client.get_executor(pure=False)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = self._inner.submit(fn, *args, **kwargs)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait)


def read_scan_cluster(
    client: Any, paths: Sequence[str | Path], options: ReadOptions | None = None
) -> ScanResult:
    """:func:`segcheck.capture.api.read_scan` with its tasks on the cluster: the same code as
    `--jobs`, through Dask's :class:`concurrent.futures.Executor`."""
    from .capture.api import read_scan

    with DaskExecutor(client) as executor:
        return read_scan(paths, jobs=workers(client), options=options, executor=executor)


def read_then_stop(
    spec: ClusterSpec, paths: Sequence[str | Path], options: ReadOptions | None = None
) -> tuple[ScanResult, Callable[[], None]]:
    """:func:`read_scan_cluster` on the cluster of ``spec``, which then stops (`local:N`) or
    is let go in a thread while the caller goes on; the second value waits for that and
    raises what stopping raised. Stopping a LocalCluster(2) takes 0.35-0.8 s (RESULTS.md),
    which the client's judging now hides. If reading fails the cluster stops before the
    error propagates."""
    with ExitStack() as stack:
        client = stack.enter_context(connect(spec))
        scanned = read_scan_cluster(client, paths, options)
        stop = stack.pop_all()
    failed: list[BaseException] = []

    def close() -> None:
        try:
            stop.close()
        except BaseException as exc:  # raised again by wait(), in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=close, name="segcheck-cluster-stop")
    thread.start()

    def wait() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return scanned, wait
