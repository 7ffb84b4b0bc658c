"""`segcheck watch`: judge captures and logs as they arrive in a folder, continuously.

Modelled on Suricata's continuous pcap-file mode. Each poll lists the folder; a file is read
once it is complete: its `--done-suffix` marker exists (`flows.pcap.done`), or, without
markers, its size and modification time stayed the same over one poll and it is older than
`--delay` seconds. Each complete file is scanned on its own (`engine.scan`, so every reader and
the same verdicts), and what it adds is appended to the findings file as JSON lines:

- `{"type": "finding", …}` for a finding not seen before (by fingerprint), or seen before with a
  lower severity (`"state": "escalated"`: an attempt later answered);
- `{"type": "drift", …}` once per device policy a firewall log shows the imported configuration
  does not match (segcheck.logjoin);
- `{"type": "gap", …}` for evidence not seen (a file with no readable record, one read only up
  to damage), `{"type": "error", …}` for a file that is no capture or log at all;
- `{"type": "file", …}` last, once everything from the file is written: its identity and counts.

Files are identified by content, never by name or inode (Filebeat's lesson): a file's identity
is the SHA-256 of its first 4 KiB, and a file whose first N bytes hash as a processed file's
whole content is that file, renamed (rotation: not read again) or grown (an appended log: read
again, and only what is new is reported). The findings file is the only state: on start it is
read back, so a restart (after SIGTERM, or a kill at any point) neither loses a processed file's
results nor repeats them: a file whose `file` line is missing is read again, and its findings
already written are not written twice.

Flows that cross file boundaries (a capture rotated mid-connection, zeek/zeek#1715): a flow
seen in an earlier file within `--grace` seconds with the same addresses, ports and protocol is
the same flow, not counted again; if it is now answered, its finding is escalated.

`--metrics-file` is a node_exporter textfile (replaced atomically after each file) with the
counters since the findings file began: files and records read, unreadable records, flows by
verdict, forbidden flows by rule and tier pair, evidence gaps, errors, and the time of the last
file read. SIGTERM and SIGINT stop the watch after the file being read is finished and written;
with systemd `Type=notify` it says READY, STOPPING and pets the watchdog each poll.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import socket
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from .errors import SegcheckError, UsageError
from .findings import Finding, Report, Severity
from .model import Topology
from .outputs import check_output, write_output
from .report._common import flow_dict, location_dict

HEAD_BYTES = 4096
SCHEMA = 1


def _now_iso(now: float) -> str:
    return (
        datetime.fromtimestamp(now, UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def _hash(path: Path, size: int) -> str:
    """SHA-256 of the first `size` bytes of the file."""
    h = hashlib.sha256()
    left = size
    with open(path, "rb") as f:
        while left > 0:
            piece = f.read(min(left, 4 << 20))
            if not piece:
                break
            h.update(piece)
            left -= len(piece)
    return h.hexdigest()


@dataclass
class _Seen:
    """A processed file, as its `file` line records it."""

    name: str
    head: str
    size: int
    sha256: str
    extent: int  # lines (logs) or records (captures) read: later flows start past it


@dataclass
class _Pending:
    size: int
    mtime: float


@dataclass
class _OpenFlow:
    last: float  # epoch of the flow's last sighting
    state: str


@dataclass
class WatchOptions:
    """What `segcheck watch` was asked to do."""

    glob: str = "*"
    delay: float = 30.0
    poll: float = 10.0
    done_suffix: str | None = None
    grace: float = 120.0
    metrics: Path | None = None
    tz: tzinfo | None = None
    today: date | None = None
    attempts_keep_severity: bool = False


@dataclass
class Counters:
    """What the metrics file counts, since the findings file began."""

    files: Counter[str] = field(default_factory=Counter)  # by kind
    records: Counter[str] = field(default_factory=Counter)
    unreadable: Counter[str] = field(default_factory=Counter)
    flows: Counter[str] = field(default_factory=Counter)  # by verdict
    violations: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    last_success: float | None = None

    def add_file(self, line: dict[str, Any]) -> None:
        kind = str(line.get("kind") or "unknown")
        self.files[kind] += 1
        self.records[kind] += int(line.get("records", 0))
        self.unreadable[kind] += int(line.get("unreadable", 0))
        for verdict, n in dict(line.get("flows", {})).items():
            self.flows[str(verdict)] += int(n)
        for key, n in dict(line.get("violations", {})).items():
            rule, src, dst = (str(key).split("|") + ["", ""])[:3]
            self.violations[(rule, src, dst)] += int(n)
        t = line.get("time")
        if isinstance(t, str):
            try:
                self.last_success = datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass

    def textfile(self) -> str:
        """The counters in the Prometheus text format, for node_exporter's textfile collector."""
        out: list[str] = []

        def metric(name: str, doc: str, rows: Iterable[tuple[str, float]]) -> None:
            out.append(f"# HELP {name} {doc}")
            out.append(f"# TYPE {name} {'gauge' if name.endswith('seconds') else 'counter'}")
            out.extend(f"{name}{labels} {_number(value)}" for labels, value in rows)

        def lab(**kv: str) -> str:
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in kv.items())
            return "{" + inner + "}"

        metric(
            "segcheck_files_total",
            "Input files read, by kind.",
            sorted((lab(kind=k), n) for k, n in self.files.items()),
        )
        metric(
            "segcheck_records_total",
            "Packets or log records read, by input kind.",
            sorted((lab(kind=k), n) for k, n in self.records.items()),
        )
        metric(
            "segcheck_parse_errors_total",
            "Packets or log records that could not be read, by input kind.",
            sorted((lab(source=k), n) for k, n in self.unreadable.items()),
        )
        metric(
            "segcheck_flows_total",
            "Flows judged, by verdict.",
            sorted((lab(verdict=k), n) for k, n in self.flows.items()),
        )
        metric(
            "segcheck_violations_total",
            "Forbidden flows, by rule and tier pair.",
            sorted(
                (lab(rule=r, src_tier=s, dst_tier=d), n) for (r, s, d), n in self.violations.items()
            ),
        )
        metric(
            "segcheck_evidence_gaps_total",
            "Evidence not seen (files with nothing readable, read only up to damage), by kind.",
            sorted((lab(kind=k), n) for k, n in self.gaps.items()),
        )
        metric(
            "segcheck_input_errors_total", "Files that are no capture or log.", [("", self.errors)]
        )
        if self.last_success is not None:
            metric(
                "segcheck_last_success_timestamp_seconds",
                "When the last file was read (Unix time).",
                [("", self.last_success)],
            )
        return "\n".join(out) + "\n"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class FindingsLog:
    """The findings file: append-only JSON lines, never written through a link, and read back."""

    def __init__(self, path: Path, inputs: Iterable[Path]) -> None:
        self.path = path
        check_output(path, inputs=list(inputs))

    def repair(self) -> None:
        """Drop the tail of a line a kill cut short, so every line of the file is JSON."""
        try:
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write: {exc.strerror}") from None
        try:
            size = os.fstat(fd).st_size
            if not size:
                return
            os.lseek(fd, max(0, size - (1 << 20)), os.SEEK_SET)
            tail = os.read(fd, 1 << 20)
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            keep = size - len(tail) + cut + 1 if cut >= 0 else max(0, size - len(tail))
            os.ftruncate(fd, keep)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> Iterator[dict[str, Any]]:
        """Every complete line written before (a line cut by a kill is ignored)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                continue  # the tail of a write that a kill interrupted
            if isinstance(item, dict):
                yield item

    def append(self, items: list[dict[str, Any]]) -> None:
        """Append the lines and make them durable (a line cut before is first terminated)."""
        if not items:
            return
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UsageError(f"{self.path}: is not a regular file")
            prefix = b""
            if st.st_size:
                with open(self.path, "rb") as f:
                    f.seek(st.st_size - 1)
                    if f.read(1) != b"\n":
                        prefix = b"\n"
            body = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
            os.write(fd, prefix + body.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


class Watcher:
    """Polls a folder; see the module docstring. `poll_once` is one round (tests drive it)."""

    def __init__(
        self,
        topology: Topology,
        folder: Path,
        findings: Path,
        options: WatchOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not folder.is_dir():
            raise UsageError(f"{folder}: is not a folder")
        self.topology = topology
        self.folder = folder
        self.options = options
        self.clock = clock
        self.log = FindingsLog(findings, [Path(topology.source.path)])
        self.own = {findings.resolve()} | (
            {options.metrics.resolve()} if options.metrics else set()
        )
        if options.metrics is not None:
            check_output(options.metrics, inputs=[topology.source.path, findings])
        self.seen: list[_Seen] = []
        self.severity: dict[str, int] = {}  # fingerprint -> highest severity rank written
        self.drift: set[tuple[str, str, str]] = set()  # (node, rule, reason) written
        self.pending: dict[Path, _Pending] = {}
        self.flows: dict[tuple[Any, ...], _OpenFlow] = {}
        # Files already identified as read, by name and stat: not hashed again each poll.
        self.known: dict[Path, tuple[int, int, int]] = {}
        self.counters = Counters()
        self.stop = threading.Event()
        self.log.repair()
        self._restore()

    # -- state from the findings file -------------------------------------------------------------

    def _restore(self) -> None:
        for item in self.log.read():
            kind = item.get("type")
            if kind == "finding":
                fp, rank = item.get("fingerprint"), _rank(item.get("severity"))
                if isinstance(fp, str):
                    self.severity[fp] = max(self.severity.get(fp, -1), rank)
            elif kind == "file":
                self.seen.append(
                    _Seen(
                        str(item.get("name", "")),
                        str(item.get("head", "")),
                        int(item.get("size", 0)),
                        str(item.get("sha256", "")),
                        int(item.get("extent", 0)),
                    )
                )
                self.counters.add_file(item)
            elif kind == "gap":
                self.counters.gaps[str(item.get("kind"))] += 1
            elif kind == "drift":
                self.drift.add(
                    (str(item.get("node")), str(item.get("rule")), str(item.get("reason")))
                )
            elif kind == "error":
                self.counters.errors += 1

    # -- the folder -------------------------------------------------------------------------------

    def _candidates(self) -> list[Path]:
        suffix = self.options.done_suffix
        out = []
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError as exc:
            raise UsageError(f"{self.folder}: cannot list: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if name.startswith(".") or (suffix and name.endswith(suffix)):
                continue  # hidden and temporary files, done markers
            if not fnmatch.fnmatch(name, self.options.glob):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if path.resolve() in self.own:
                continue
            out.append(path)
        return out

    def _complete(self, path: Path, st: os.stat_result, now: float) -> bool:
        suffix = self.options.done_suffix
        if suffix:
            return Path(str(path) + suffix).exists()
        before = self.pending.get(path)
        self.pending[path] = _Pending(st.st_size, st.st_mtime)
        stable = before is not None and (before.size, before.mtime) == (st.st_size, st.st_mtime)
        # Unmodified for `delay` seconds; with no delay, at least unchanged over one poll.
        return now - st.st_mtime >= self.options.delay and (stable or self.options.delay > 0)

    def _identify(self, path: Path, size: int) -> tuple[str, _Seen | None]:
        """The file's head hash, and the processed file it is (renamed or grown), if any."""
        head = _hash(path, min(size, HEAD_BYTES))
        for seen in reversed(self.seen):
            if seen.size > size:
                continue
            same_head = seen.size >= HEAD_BYTES and seen.head == head
            if (same_head or seen.name == path.name or seen.size < HEAD_BYTES) and _hash(
                path, seen.size
            ) == seen.sha256:
                return head, seen
        return head, None

    def poll_once(self) -> int:
        """Read every file that is complete now; the number read."""
        done = 0
        for path in self._candidates():
            if self.stop.is_set():
                break
            try:
                st = path.stat()
            except OSError:
                continue
            ident = (st.st_size, st.st_mtime_ns, st.st_ino)
            if self.known.get(path) == ident:
                continue
            now = self.clock()
            if not self._complete(path, st, now):
                continue
            self.pending.pop(path, None)
            head, seen = self._identify(path, st.st_size)
            if seen is None or seen.size != st.st_size:  # else read before, perhaps renamed
                self._process(path, st.st_size, head, seen, now)
                done += 1
            self.known[path] = ident
        self._metrics()
        return done

    # -- one file ---------------------------------------------------------------------------------

    def _process(self, path: Path, size: int, head: str, seen: _Seen | None, now: float) -> None:
        from .engine import scan  # the readers load numpy: only once something is read

        lines: list[dict[str, Any]] = []
        stamp = _now_iso(now)
        sha = _hash(path, size)
        file_line: dict[str, Any] = {
            "type": "file",
            "schema": SCHEMA,
            "time": stamp,
            "input": str(path),
            "name": path.name,
            "head": head,
            "size": size,
            "sha256": sha,
            "grown_from": seen.size if seen is not None else None,
        }
        try:
            report = scan(
                self.topology,
                [path],
                today=self.options.today,
                generated_at=stamp,
                attempts_keep_severity=self.options.attempts_keep_severity,
                tz=self.options.tz,
            )
        except SegcheckError as exc:
            lines.append({"type": "error", "time": stamp, "input": str(path), "message": str(exc)})
            self.counters.errors += 1
            file_line.update(kind=None, records=0, unreadable=0, extent=0, flows={}, violations={})
        else:
            lines.extend(self._report_lines(report, path, stamp, seen))
            file_line.update(self._file_counts(report, seen))
        lines.append(file_line)
        self.log.append(lines)  # the `file` line last: a kill before it means "read again"
        self.seen.append(_Seen(path.name, head, size, sha, int(file_line["extent"])))
        self.counters.add_file(file_line)

    def _report_lines(
        self, report: Report, path: Path, stamp: str, seen: _Seen | None
    ) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for gap in report.gaps:
            if gap.path != str(path):
                continue  # the topology's own gap is not news of this file
            self.counters.gaps[gap.kind.value] += 1
            lines.append(
                {
                    "type": "gap",
                    "time": stamp,
                    "input": gap.path,
                    "kind": gap.kind.value,
                    "message": gap.message,
                }
            )
        for d in report.drift:
            key = (d.node, d.rule, d.reason)
            if key in self.drift:
                continue
            self.drift.add(key)
            lines.append(
                {
                    "type": "drift",
                    "time": stamp,
                    "node": d.node,
                    "rule": d.rule,
                    "reason": d.reason,
                    "action": d.action,
                    "message": d.message,
                    "example": flow_dict(d.example),
                }
            )
        for f in report.findings:
            rank = f.severity.rank
            before = self.severity.get(f.fingerprint)
            if before is not None and rank <= before:
                continue
            self.severity[f.fingerprint] = rank
            lines.append(_finding_line(f, stamp, "new" if before is None else "escalated"))
        return lines

    def _file_counts(self, report: Report, seen: _Seen | None) -> dict[str, Any]:
        (cap,) = report.captures
        old_extent = seen.extent if seen is not None else 0
        flows: Counter[str] = Counter()
        violations: Counter[str] = Counter()
        grace = self.options.grace
        latest = 0.0
        for row in report.flows:
            fl = row.flow
            at = fl.line if fl.line is not None else fl.first_frame
            if at <= old_extent:
                continue  # read with the file before it grew
            try:
                when = datetime.fromisoformat(fl.first_seen).timestamp()
            except ValueError:
                when = 0.0
            latest = max(latest, when)
            key = (fl.src_ip, fl.src_port, fl.dst_ip, fl.dst_port, fl.proto, fl.vlan)
            rkey = (fl.dst_ip, fl.dst_port, fl.src_ip, fl.src_port, fl.proto, fl.vlan)
            known = self.flows.get(key) or self.flows.get(rkey)
            if known is not None and when - known.last <= grace:
                known.last = max(known.last, when)
                continue  # the same flow, begun in an earlier file
            self.flows[key] = _OpenFlow(when, fl.state)
            flows[row.verdict] += 1
            if row.verdict in ("violation", "suspect") and row.rule is not None:
                violations[f"{row.rule}|{row.src_tier or ''}|{row.dst_tier or ''}"] += 1
        horizon = latest - grace
        self.flows = {k: v for k, v in self.flows.items() if v.last >= horizon}
        extent = cap.packets_read
        if cap.kind not in ("pcap", "pcapng"):
            extent = max((r.flow.line or 0 for r in report.flows), default=0)
            extent = max(extent, old_extent)
        return {
            "kind": cap.kind,
            "records": cap.packets_read,
            "unreadable": cap.packets_skipped,
            "extent": extent,
            "flows": dict(sorted(flows.items())),
            "violations": dict(sorted(violations.items())),
        }

    # -- outputs and the loop ---------------------------------------------------------------------

    def _metrics(self) -> None:
        if self.options.metrics is not None:
            write_output(self.options.metrics, self.counters.textfile().encode("utf-8"))

    def run(self, once: bool = False, notify: Callable[[str], None] | None = None) -> None:
        """Poll until stopped (SIGTERM/SIGINT set `stop`), or one round with `once`."""
        notify = notify or sd_notify
        notify("READY=1")
        try:
            while not self.stop.is_set():
                self.poll_once()
                notify("WATCHDOG=1")
                if once:
                    break
                self.stop.wait(self.options.poll)
        finally:
            notify("STOPPING=1")


def _rank(severity: Any) -> int:
    try:
        return Severity(str(severity)).rank
    except ValueError:
        return -1


def _finding_line(f: Finding, stamp: str, state: str) -> dict[str, Any]:
    return {
        "type": "finding",
        "time": stamp,
        "state": state,
        "fingerprint": f.fingerprint,
        "rule": f.rule,
        "severity": f.severity.value,
        "verdict": f.verdict,
        "message": f.message,
        "src_zone": f.src_zone,
        "dst_zone": f.dst_zone,
        "src_tier": f.src_tier,
        "dst_tier": f.dst_tier,
        "src": f.src,
        "dst": f.dst,
        "service": f.service,
        "location": location_dict(f.location),
        "flow": flow_dict(f.flow) if f.flow is not None else None,
    }


def sd_notify(message: str) -> None:
    """Tell systemd (Type=notify) `message`; nothing when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode("ascii"))
    except OSError:
        pass
