"""PAN-OS traffic log: the positional CSV a firewall or Panorama sends by syslog or exports.

Columns are read by position, as Palo Alto Networks documents them ("Traffic Log Fields",
PAN-OS 9.1 and 10.x syslog field descriptions): releases only ever append columns, so the
position of each field below never moves, and a line shorter than a field's position is an
older release that did not write it (the field is then taken as absent, never guessed):

    1 Receive Time · 2 Serial Number · 3 Type (TRAFFIC) · 4 Threat/Content Type (start, end,
    drop, deny) · 6 Generated Time · 7 Source Address · 8 Destination Address · 11 Rule Name ·
    15 Virtual System · 22 Session ID · 24 Source Port · 25 Destination Port · 29 Protocol ·
    30 Action · 31 Bytes · 32 Bytes Sent · 33 Bytes Received · 34 Packets · 36 Elapsed Time ·
    44 Packets Sent · 45 Packets Received · 46 Session End Reason (PAN-OS 6.1 and later) ·
    52 Device Name (7.0 and later) · 65 Rule UUID (8.1 and later) · 102 High Resolution
    Timestamp (10.0 and later).

Column 0 (FUTURE_USE) may carry a syslog header (`Apr 30 06:00:00 host 1`); it is ignored.
Lines of other log types (THREAT, SYSTEM, CONFIG) are read and left out.

Time: the High Resolution Timestamp carries its offset (`2021-07-15T11:59:03.547+01:00`) and
wins; otherwise Generated Time is the firewall's local time and needs `--tz`.

State (spec §7): an action other than `allow` (deny, drop, reset-client, reset-server,
reset-both, drop-icmp) is an attempt the firewall stopped; a `start` record is unknown (logged
before any answer); an allowed session whose responder sent packets or bytes is established,
else an attempt for TCP and ICMP and unknown for UDP. The policy is `<vsys>/<rule name>`, as
the PAN-OS import names rules; the session id is the pivot key.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from typing import ClassVar

from ..errors import CaptureError
from . import logflow
from .logflow import (
    ACCEPT,
    ATTEMPTED,
    DENY,
    ESTABLISHED,
    UNKNOWN,
    Addresses,
    BadRecord,
    FlowAccumulator,
    NeedsTimezone,
    ReadOptions,
    Record,
    epoch,
    iter_lines,
    port,
    protocol,
    short,
    wall_epoch,
    whole,
)
from .model import FlowLog
from .source import ByteSource

# Positions (0-based) of the fields read, and the shortest TRAFFIC line accepted (through
# Elapsed Time: every release since PAN-OS 4 writes at least that much).
SERIAL, TYPE, SUBTYPE, GENERATED, SRC, DST, RULE, VSYS = 2, 3, 4, 6, 7, 8, 11, 15
SESSION, SPORT, DPORT, PROTO, ACTION = 22, 24, 25, 29, 30
BYTES, BYTES_SENT, BYTES_RECEIVED, PACKETS, ELAPSED = 31, 32, 33, 34, 36
PACKETS_SENT, PACKETS_RECEIVED, END_REASON, DEVICE_NAME, RULE_UUID = 44, 45, 46, 52, 65
HIGH_RES_TIME = 102
MIN_COLUMNS = ELAPSED + 1
# Every column a record is read from (a test checks this module reads no other): the C
# tokeniser makes these only, of a PAN-OS 10 line's 115.
READ_COLUMNS = (
    SERIAL, TYPE, SUBTYPE, GENERATED, SRC, DST, RULE, VSYS, SESSION, SPORT, DPORT, PROTO,
    ACTION, BYTES, BYTES_RECEIVED, PACKETS, ELAPSED, PACKETS_RECEIVED, DEVICE_NAME,
    HIGH_RES_TIME,
)  # fmt: skip

_SNIFF = re.compile(rb"^[^,\n]{0,80},\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},[^,\n]*,TRAFFIC,", re.M)
_GENERATED = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_DENIED = frozenset({"deny", "drop", "drop-icmp", "reset-client", "reset-server", "reset-both"})


def looks_like_panos(head: bytes) -> bool:
    return _SNIFF.search(head) is not None


class PanosTrafficLog:
    """PAN-OS traffic log CSV as a flow source (segcheck.capture.sources)."""

    kind: ClassVar[str] = "panos-traffic"
    title: ClassVar[str] = "PAN-OS traffic log"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """A line whose fourth column is `TRAFFIC` after a receive time and a serial number."""
        return looks_like_panos(head)

    def __init__(self, src: ByteSource, path: str, options: ReadOptions) -> None:
        self.src, self.path, self.options = src, path, options

    @classmethod
    def open(
        cls, src: ByteSource, path: str, options: ReadOptions | None = None
    ) -> PanosTrafficLog:
        return cls(src, path, options or ReadOptions())

    def read(self) -> FlowLog:
        """Every flow of the log; bad lines are counted and the first one located."""
        return read_panos(self.src, self.path, self.options)


def read_panos(src: ByteSource, path: str, options: ReadOptions) -> FlowLog:
    acc = FlowAccumulator(path)
    addr = Addresses()
    accel = logflow.logaccel
    for number, raw in iter_lines(src):
        if raw is not None and not raw.strip():
            continue
        acc.read += 1
        try:
            if raw is None:
                raise BadRecord("line longer than 1 MiB")
            # Columns not in READ_COLUMNS are None from the C tokeniser; a quoted line is None
            # as a whole and goes to the csv module.
            cols = None if accel is None else accel.csv_fields(raw, READ_COLUMNS)
            if cols is None:
                text = raw.decode("utf-8", "replace")
                cols = next(csv.reader([text])) if '"' in text else text.split(",")
            if len(cols) > TYPE and cols[TYPE] != "TRAFFIC":
                if cols[TYPE] in ("THREAT", "SYSTEM", "CONFIG", "HIPMATCH", "USERID", "AUTH"):
                    continue  # another log type: no traffic record
                raise BadRecord(f"column 4 {short(cols[TYPE])} is not a log type")
            if len(cols) < MIN_COLUMNS:
                raise BadRecord(
                    f"{len(cols)} columns where a TRAFFIC record has at least {MIN_COLUMNS}"
                )
            rec = _record(cols, number, addr, options)
        except NeedsTimezone as exc:
            raise CaptureError(path, f"line {number}: {exc}") from None
        except (BadRecord, csv.Error) as exc:
            acc.bad(number, str(exc) if isinstance(exc, BadRecord) else f"not CSV ({exc})")
            continue
        acc.add(rec)
    return acc.result()


def _col(cols: list[str], i: int) -> str | None:
    """A column a shorter (older) line may not have; empty counts as absent."""
    return cols[i] if i < len(cols) and cols[i] != "" else None


def _time(cols: list[str], options: ReadOptions) -> float:
    hires = _col(cols, HIGH_RES_TIME)
    if hires is not None and "T" in hires:
        try:
            when = datetime.fromisoformat(hires)
        except ValueError:
            raise BadRecord(f"High Resolution Timestamp {short(hires)} is not a time") from None
        if when.tzinfo is not None:
            return epoch(when, "High Resolution Timestamp")
    generated = cols[GENERATED]
    m = _GENERATED.fullmatch(generated)
    if m is None:
        raise BadRecord(f"Generated Time {short(generated)} is not YYYY/MM/DD HH:MM:SS")
    if options.tz is None:
        raise NeedsTimezone(
            "Generated Time is the firewall's local time and the record has no High "
            "Resolution Timestamp (PAN-OS 10.0 and later): give the firewall's zone with "
            "--tz (for example --tz Asia/Tokyo)"
        )
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    return wall_epoch(y, mo, d, h, mi, s, 0, options.tz, "Generated Time", generated)


def _count(cols: list[str], i: int, what: str) -> int:
    """A counter column; absent (older release) or empty is 0."""
    if i >= len(cols):
        return 0
    v = cols[i]
    if v.isdigit() and v.isascii() and len(v) <= 18:  # nearly every value: under 2**63
        return int(v)
    return 0 if v == "" else whole(v, what)


def _record(cols: list[str], line: int, addr: Addresses, options: ReadOptions) -> Record:
    src = addr(cols[SRC], "Source Address")
    dst = addr(cols[DST], "Destination Address")
    proto = protocol(cols[PROTO], "Protocol")
    if proto in (1, 58):
        sport = dport = 0  # the traffic log carries no ICMP type
    else:
        sport = port(cols[SPORT], "Source Port")
        dport = port(cols[DPORT], "Destination Port")
    action = cols[ACTION]
    nbytes = _count(cols, BYTES, "Bytes")
    received_b = _count(cols, BYTES_RECEIVED, "Bytes Received")
    packets = _count(cols, PACKETS, "Packets")
    received_p = _count(cols, PACKETS_RECEIVED, "Packets Received")
    elapsed = whole(cols[ELAPSED] or "0", "Elapsed Time", 1 << 32)
    end = _time(cols, options)
    if action in _DENIED:
        verdict, state = DENY, ATTEMPTED
    elif action == "allow":
        verdict = ACCEPT
        if cols[SUBTYPE] == "start":
            state = UNKNOWN
        elif received_p > 0 or received_b > 0:
            state = ESTABLISHED
        elif proto == 17:
            state = UNKNOWN
        else:
            state = ATTEMPTED
    else:
        raise BadRecord(f"Action {short(action)} is not a traffic-log action")
    vsys, rule = _col(cols, VSYS), _col(cols, RULE)
    return Record(
        src,
        dst,
        proto,
        sport,
        dport,
        packets,
        nbytes,
        max(0.0, end - elapsed) if elapsed < end else 0.0,
        end,
        line,
        state,
        _col(cols, SESSION),
        verdict,
        f"{vsys or 'vsys1'}/{rule}" if rule is not None else None,
        _col(cols, DEVICE_NAME) or _col(cols, SERIAL),
    )
