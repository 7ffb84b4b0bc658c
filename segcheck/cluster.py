"""`scan --cluster`: read the inputs on a Dask cluster (the `segcheck[dask]` extra).

The only module that imports ``distributed``, and only when a cluster is asked for. Reading goes
through the same code as `--jobs` (:func:`segcheck.capture.api.read_scan` with Dask's
executor): one task per input, or per byte range of a large plain pcap, on a worker, which
opens the file by its path (paths must be readable there), hashes it and reads it into a flow
table; only that table (or a flow log's records) and the digest cross the network, never
packets. The client merges the tables (any order gives the
same bytes, see :mod:`segcheck.capture.flowtable`) and judges the flows itself, so the policy
never leaves it and the report is byte-identical to a local run's.

Addresses: ``local:N`` starts N worker processes on this machine (tests, benchmarks);
``tls://HOST:PORT`` with ``--tls-ca-file/--tls-cert/--tls-key`` (Dask's TLS options) reaches a
running scheduler; ``tcp://`` works but is unauthenticated and unencrypted, so anything but a
loopback address draws a warning; ``--scheduler-file`` reads the address Dask wrote there.
Workers whose segcheck version differs from the client's are refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import __version__
from .errors import UsageError

if TYPE_CHECKING:
    from .capture.api import ScanResult
    from .capture.logflow import ReadOptions

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


@contextmanager
def connect(spec: ClusterSpec) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec`` whose workers all run this segcheck version."""
    distributed = _import_distributed()
    n = spec.local_workers
    cluster = None
    try:
        if n is not None:
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
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
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


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


def read_scan_cluster(
    client: Any, paths: Sequence[str | Path], options: ReadOptions | None = None
) -> ScanResult:
    """:func:`segcheck.capture.api.read_scan` with its tasks on the cluster: the same code as
    `--jobs`, through Dask's :class:`concurrent.futures.Executor`."""
    from .capture.api import read_scan

    with client.get_executor(pure=False) as executor:
        return read_scan(paths, jobs=workers(client), options=options, executor=executor)
