"""What the traffic-log readers share: the flow a log yields, its lines, and its accumulation.

A firewall, an IDS or a flow exporter logs *records* (one line or object each), not packets.
Each reader (``fortigate_log``, ``panos_log``, ``suricata_eve``, ``nfdump``) turns a record
into a `Record`: addresses in canonical text, the initiator first, the state spec §7 gives it,
and what only a log knows (the device's own verdict and policy, the source system's id of the
flow). `FlowAccumulator` merges the records of one bidirectional 5-tuple into one `LogFlow`,
exactly as the packet flow table and the Zeek reader key flows, and counts and locates the
lines it could not read: damage is never fatal, and a log with no readable record yields no
flow, which the report shows as an evidence gap (never as "clean").

`first_frame` of a `LogFlow` is the line (1-based) of its first record: a finding points at
`file:line`, and the reports call these inputs' units records.

`logaccel` is the optional C module (`_logaccel.c`, built by setup.py when a compiler is
present; `SEGCHECK_PURE_PYTHON=1` turns it off): the FortiGate and PAN-OS tokenisers and the
bulk making of `LogFlow` objects. Each of its functions gives exactly what the pure-Python code
beside it gives, which the tests check on the same lines.
"""

from __future__ import annotations

import importlib
import ipaddress
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, tzinfo
from typing import Any

from .decode import ICMP4_FAMILY, ICMP6_FAMILY
from .model import Flow, FlowLog, proto_name
from .source import ByteSource

UTF8_BOM = b"\xef\xbb\xbf"
MAX_LINE = 1 << 20  # bytes; a traffic-log record is a few hundred
MAX_EPOCH = float(1 << 35)  # year 3058: beyond it no log was written (and datetime fails)
MAX_COUNT = (1 << 63) - 1

ESTABLISHED, ATTEMPTED, UNKNOWN = "established", "attempted", "unknown"
ACCEPT, DENY = "accept", "deny"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a reader cannot learn from the file: the zone of device-local times (`--tz`)."""

    tz: tzinfo | None = None


@dataclass(frozen=True, slots=True)
class LogFlow(Flow):
    """A flow read from a traffic log: a `Flow` plus what only the log knows.

    ``pivot`` is the source system's own id of the flow's first record (Suricata `flow_id`,
    FortiGate `sessionid`, PAN-OS session id), so an analyst can go back to it; ``action`` the
    device's verdict (`accept` or `deny`; None for a sensor, which has none); ``rule_ref`` the
    device policy that decided, named as the configuration import names its rules
    (`<vdom>/<policyid>`, `<vsys>/<rule name>`); ``observer`` the device that logged it;
    ``records`` how many log records were merged into the flow.
    """

    pivot: str | None = None
    action: str | None = None
    rule_ref: str | None = None
    observer: str | None = None
    records: int = 1

    @property
    def line(self) -> int:
        """The line of the flow's first record."""
        return self.first_frame


def _load_logaccel() -> Any:
    """The optional C helpers of the log readers, or None (not built, or turned off)."""
    if os.environ.get("SEGCHECK_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(".capture._logaccel", "segcheck")
    except ImportError:
        return None


logaccel: Any = _load_logaccel()

# LogFlow's slots in its constructor's order, for logaccel.new_objects.
_SLOTS = tuple(getattr(LogFlow, f.name) for f in fields(LogFlow))


def new_flows(rows: list[tuple[Any, ...]]) -> list[Flow]:
    """One LogFlow a row (every field, in the constructor's order): in one C call when the
    accelerator is built (a frozen dataclass's __init__ costs a setattr call per field)."""
    if logaccel is not None:
        made: list[Flow] = logaccel.new_objects(LogFlow, _SLOTS, rows)
        return made
    return [LogFlow(*row) for row in rows]


class BadRecord(ValueError):
    """One record that cannot be read; the message says why."""


class NeedsTimezone(BadRecord):
    """A device-local time with no zone in the record and no `--tz`: a usage problem."""


@dataclass(slots=True)
class Record:
    """One log record, normalised: oriented initiator -> responder."""

    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    packets: int
    nbytes: int
    start: float
    end: float
    line: int
    state: str
    pivot: str | None = None
    action: str | None = None
    rule_ref: str | None = None
    observer: str | None = None
    vlan: int | None = None
    inner_vlan: int | None = None


def iter_lines(src: ByteSource) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its end) for each line; None for a line over MAX_LINE."""
    rest = b""
    first, overlong = True, False
    number = 0
    while piece := src.read(4 << 20):
        if first:
            piece, first = piece.removeprefix(UTF8_BOM), False
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        for line in lines:
            number += 1
            if overlong:  # the end of a line already reported
                overlong = False
                continue
            yield number, (line.rstrip(b"\r") if len(line) <= MAX_LINE else None)
        if len(rest) > MAX_LINE:
            if not overlong:
                yield number + 1, None
            rest, overlong = b"", True
    if rest and not overlong:
        yield number + 1, rest.rstrip(b"\r")


def short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:39] + "…"


class Addresses:
    """Canonical text of each distinct address (`0010.1.1.1` or `fe80::1%eth0` is damage)."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, text: Any, what: str) -> str:
        if type(text) is not str:
            raise BadRecord(f"{what} {short(text)} is not an address")
        seen = self._seen.get(text)
        if seen is not None:
            return seen
        if "%" in text:
            raise BadRecord(f"{what} {short(text)} is not an address")
        try:
            canonical = str(ipaddress.ip_address(text))
        except ValueError:
            raise BadRecord(f"{what} {short(text)} is not an address") from None
        if len(self._seen) < 1 << 20:
            self._seen[text] = canonical
        return canonical


def whole(v: Any, what: str, top: int = MAX_COUNT) -> int:
    """A whole number 0..top from ASCII digits (or a JSON integer)."""
    if type(v) is str and v.isdigit() and v.isascii() and len(v) <= 20:  # nearly every value
        n = int(v)
        if n <= top:
            return n
        raise BadRecord(f"{what} {short(v)} is out of range (0-{top})")
    if type(v) is int:
        n = v
    elif type(v) is str and v.isascii() and v.isdigit() and len(v) <= 20:
        n = int(v)
    else:
        raise BadRecord(f"{what} {short(v)} is not a whole number")
    if not 0 <= n <= top:
        raise BadRecord(f"{what} {short(v)} is out of range (0-{top})")
    return n


def port(v: Any, what: str) -> int:
    return whole(v, what, 65535)


def protocol(v: Any, what: str = "proto") -> int:
    """An IP protocol by number (0-255) or by the names logs print (TCP, udp, ICMP6…)."""
    if type(v) is str and not v.isdigit():
        number = PROTO_BY_NAME.get(v.lower())
        if number is None:
            raise BadRecord(f"{what} {short(v)} is not a protocol name or number (0-255)")
        return number
    return whole(v, what, 255)


PROTO_BY_NAME = {
    "icmp": 1,
    "igmp": 2,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmp6": 58,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "sctp": 132,
}


def icmp_family(proto: int, icmp_type: int) -> int:
    """The responder-port stand-in of an ICMP flow: its message family (echo = 8 / 128)."""
    return (ICMP4_FAMILY if proto == 1 else ICMP6_FAMILY).get(icmp_type, icmp_type)


_DAYS: dict[tuple[int, int, int], int] = {}  # (year, month, day) -> days since 1970-01-01


def wall_epoch(
    y: int, mo: int, d: int, h: int, mi: int, s: int, micro: int, zone: tzinfo, what: str, raw: str
) -> float:
    """The epoch of a wall-clock time in `zone`, exactly as ``datetime(...).timestamp()``.

    A fixed-offset zone (UTC, `+0900`) is done by integer arithmetic on the day's number,
    which is computed (and checked) once per date: a log holds a few dates and millions of
    times. A zone with rules (IANA, DST) goes through datetime."""
    offset = zone.utcoffset(None)
    if offset is None or not (h < 24 and mi < 60 and s < 60 and micro < 1_000_000):
        try:
            when = datetime(y, mo, d, h, mi, s, micro, tzinfo=zone)
        except ValueError as exc:
            raise BadRecord(f"{what} {raw}: {exc}") from None
        return epoch(when, what)
    day = _DAYS.get((y, mo, d))
    if day is None:
        try:
            day = (date(y, mo, d) - _EPOCH_DAY).days
        except ValueError as exc:
            raise BadRecord(f"{what} {raw}: {exc}") from None
        if len(_DAYS) < 1 << 16:
            _DAYS[(y, mo, d)] = day
    seconds = day * 86400 + h * 3600 + mi * 60 + s - (offset.days * 86400 + offset.seconds)
    t = (seconds * 1_000_000 + micro) / 1_000_000  # timedelta.total_seconds(), the same float
    if not 0.0 <= t < MAX_EPOCH:
        raise BadRecord(f"{what} {short(raw)} is out of range")
    return t


_EPOCH_DAY = date(1970, 1, 1)


def epoch(when: datetime, what: str) -> float:
    t = when.timestamp()
    if not (math.isfinite(t) and 0.0 <= t < MAX_EPOCH):
        raise BadRecord(f"{what} {when.isoformat()} is out of range")
    return t


def check_epoch(t: float, what: str, raw: object) -> float:
    if not (math.isfinite(t) and 0.0 <= t < MAX_EPOCH):
        raise BadRecord(f"{what} {short(raw)} is out of range")
    return t


_STATE_RANK = {ESTABLISHED: 2, ATTEMPTED: 1, UNKNOWN: 0}


class _Acc:
    __slots__ = ("first", "packets", "nbytes", "start", "end", "state", "action", "records")

    def __init__(self, rec: Record) -> None:
        self.first = rec
        self.packets = rec.packets
        self.nbytes = rec.nbytes
        self.start = rec.start
        self.end = rec.end
        self.state = rec.state
        self.action = rec.action
        self.records = 1


class FlowAccumulator:
    """Merges records into flows by bidirectional 5-tuple (and VLAN); counts bad lines.

    A flow's state is the most telling of its records' (established, then attempted, then
    unknown); its device verdict is `accept` when any record was accepted; its pivot, policy
    and observer are its first record's.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.flows: dict[tuple[Any, ...], _Acc] = {}
        self.read = 0  # records (lines) read, the bad ones included
        self.skipped = 0
        self.first_skipped: tuple[int, str] | None = None

    def bad(self, line: int, why: str) -> None:
        self.skipped += 1
        if self.first_skipped is None:
            self.first_skipped = (line, why)

    def add(self, rec: Record) -> None:
        a, b = (rec.src, rec.sport), (rec.dst, rec.dport)
        if rec.proto in (1, 58):
            a, b = (rec.src, 0), (rec.dst, rec.dport)
        key = (rec.vlan, rec.inner_vlan, rec.proto, *((a, b) if a <= b else (b, a)))
        acc = self.flows.get(key)
        if acc is None:
            self.flows[key] = _Acc(rec)
            return
        acc.packets += rec.packets
        acc.nbytes += rec.nbytes
        acc.start = min(acc.start, rec.start)
        acc.end = max(acc.end, rec.end)
        if _STATE_RANK[rec.state] > _STATE_RANK[acc.state]:
            acc.state = rec.state
        if rec.action == ACCEPT or acc.action is None:
            acc.action = rec.action or acc.action
        acc.records += 1

    def result(self) -> FlowLog:
        rows: list[tuple[Any, ...]] = []
        for acc in self.flows.values():
            r = acc.first
            icmp = r.proto in (1, 58)
            rows.append(
                (
                    r.src,
                    r.dst,
                    proto_name(r.proto),
                    0 if icmp else r.sport,
                    r.dport,
                    r.vlan,
                    acc.packets,
                    acc.nbytes,
                    acc.start,
                    acc.end,
                    r.line,
                    acc.state,
                    self.path,
                    False,
                    r.inner_vlan,
                    r.pivot,
                    acc.action,
                    r.rule_ref,
                    r.observer,
                    acc.records,
                )
            )
        return FlowLog(new_flows(rows), self.read, self.skipped, self.first_skipped)
