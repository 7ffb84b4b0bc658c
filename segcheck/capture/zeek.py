"""Zeek ``conn.log`` reader (TSV with a ``#fields`` header, or JSON lines).

Zeek already names the initiator (``id.orig_h``) and classifies the connection, so each entry
maps to a flow directly. An entry whose ``uid`` and key were already read is the same
connection logged again (long-connection interim records, overlapping rotated shards): it is
merged as one connection (the larger counters), never summed; connections with the same key
(Zeek may split a long connection, a port is reused) are summed into one flow. A flow is a `LogFlow`: ``first_frame`` (and ``line``) is the line of its first entry,
and ``pivot`` that entry's Zeek ``uid``, to go back to Zeek's other logs.

An entry holding a value Zeek cannot have written (a port outside 0-65535, a negative or
astronomic count or VLAN, a protocol in other than ASCII digits, a time no capture can have)
is damage: it is skipped and counted, never turned into a flow, and the first such line is
named.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from ..errors import CaptureError
from .decode import ICMP4_FAMILY, ICMP6_FAMILY
from .logflow import LogFlow
from .model import PROTO_NUMBERS, Flow, FlowLog
from .source import ByteSource

# Zeek connection states in which the responder never answered, or refused (spec §7).
ATTEMPT_STATES = frozenset({"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR"})
# Every state Zeek writes; anything else in the column is damage and is read as "not given".
CONN_STATES = ATTEMPT_STATES | {"S1", "SF", "S2", "S3", "RSTO", "RSTR", "OTH"}

UTF8_BOM = b"\xef\xbb\xbf"
MAX_EPOCH = float(1 << 35)  # year 3058: beyond it datetime cannot render the time
MAX_COUNT = (1 << 63) - 1  # Zeek's counts are 64-bit; anything larger is damage
MAX_VLAN = 4095
MAX_LINE = 1 << 20  # bytes; a conn.log entry is a few hundred
_DIGITS = re.compile(r"[0-9]+")
# A Zeek time or interval as the TSV writer prints it (or a JSON number would).
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")
_SEPARATOR = re.compile(r"(?:\\x[0-9A-Fa-f]{2}|[^\\])+")


class BadEntry(ValueError):
    """One log line that is not a readable conn.log entry; the message says why."""


def looks_like_zeek(head: bytes) -> bool:
    text = head.removeprefix(UTF8_BOM).lstrip()
    if text.startswith((b"#separator", b"#fields")):
        return True
    return text.startswith(b"{") and b'"id.orig_h"' in head


class ZeekConnLog:
    """Zeek's conn.log as a flow source (segcheck.capture.sources)."""

    kind: ClassVar[str] = "zeek-conn"
    title: ClassVar[str] = "Zeek conn.log"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """A `#separator`/`#fields` header, or JSON lines naming `id.orig_h`."""
        return looks_like_zeek(head)

    def __init__(self, src: ByteSource, path: str) -> None:
        self.src = src
        self.path = path

    @classmethod
    def open(cls, src: ByteSource, path: str, options: object = None) -> ZeekConnLog:
        """A reader at the start of the log (Zeek's times are UTC: no option applies)."""
        return cls(src, path)

    def read(self) -> FlowLog:
        """Every flow of the log; CaptureError when no entry is readable."""
        return read_zeek_log(self.src, self.path)


def _lines(src: ByteSource) -> Iterator[bytes | None]:
    """The lines of the log, without a leading BOM; None for a line over MAX_LINE bytes."""
    rest = b""
    first, overlong = True, False
    while piece := src.read(4 << 20):
        if first:
            piece, first = piece.removeprefix(UTF8_BOM), False
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if overlong:  # the end of a line already reported
                overlong = False
                continue
            yield line if len(line) <= MAX_LINE else None
        if len(rest) > MAX_LINE:
            if not overlong:
                yield None
            rest, overlong = b"", True
    if rest and not overlong:
        yield rest


def _separator(value: str) -> str:
    """The `#separator` value (Zeek writes `\\x09`): `\\xHH` escapes and plain characters."""
    if not _SEPARATOR.fullmatch(value):
        raise BadEntry(f"#separator {value[:20]!r} is not a separator (Zeek writes \\x09)")
    return re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


def read_zeek_log(src: ByteSource, path: str) -> FlowLog:
    """Read a conn.log; CaptureError naming the first bad line when no entry is readable."""
    sep = "\t"
    fields: list[str] | None = None
    unset = "-"
    conns: dict[tuple[Any, ...], LogFlow] = {}
    read = skipped = 0
    first_skipped: tuple[int, str] | None = None
    for number, raw in enumerate(_lines(src), 1):
        line = "" if raw is None else raw.decode("utf-8", "replace").rstrip("\r")
        if raw is not None and not line.strip():
            continue
        try:
            if raw is None:
                raise BadEntry(f"line longer than {MAX_LINE} bytes")
            if line.startswith("#"):
                name, _, value = line.partition(" " if line.startswith("#separator") else sep)
                if name == "#separator":
                    sep = _separator(value)
                elif name == "#fields":
                    fields = value.split(sep)
                elif name == "#unset_field":
                    unset = value
                continue
            if line.lstrip().startswith("{"):
                try:
                    rec = json.loads(line)
                except RecursionError:
                    raise BadEntry("JSON nested too deep") from None
                if not isinstance(rec, dict):
                    raise BadEntry("JSON line is not an object")
            elif fields is not None:
                vals = line.split(sep)
                if len(vals) != len(fields):  # Zeek escapes a separator inside a value
                    n = len(vals)
                    raise BadEntry(f"{n} field{'s' * (n != 1)} where #fields names {len(fields)}")
                rec = {k: (None if v == unset else v) for k, v in zip(fields, vals, strict=True)}
            else:
                raise BadEntry("entry before #fields")
            flow = _entry_flow(rec, number, path)
        except (ValueError, KeyError, TypeError) as exc:  # BadEntry, json's errors, a field gone
            skipped += 1
            if first_skipped is None:
                why = str(exc) if isinstance(exc, BadEntry) else _why(exc)
                first_skipped = (number, why)
            continue
        read += 1
        # One connection per (uid, key): an entry logged again (long-connection interim
        # records, a line repeated by a shard) is merged as the same connection, not summed.
        ident = (flow.pivot if flow.pivot is not None else number, *conn_key(flow))
        seen = conns.get(ident)
        conns[ident] = flow if seen is None else same_connection(seen, flow)
    if read == 0 and first_skipped is not None:
        # The line goes into the message: a worker process passes on the message only.
        line_no, why = first_skipped
        raise CaptureError(
            path,
            f"no readable Zeek conn.log entry ({skipped} skipped; "
            f"the first, line {line_no}: {why})",
        )
    connections = list(conns.values())
    return FlowLog(
        merge_connections(connections), read + skipped, skipped, first_skipped, connections
    )


def conn_key(f: Flow) -> tuple[Any, ...]:
    """The key entries of one flow share (as the packet flow table keys flows)."""
    return (f.vlan, f.inner_vlan, f.proto, f.src_ip, f.src_port, f.dst_ip, f.dst_port)


def same_connection(a: LogFlow, b: LogFlow) -> LogFlow:
    """One connection logged twice (same uid and key), ``a`` first: Zeek's counters only
    grow over a connection's life, so the larger ones are the later record's; never a sum.
    Associative and commutative but for ``a``'s place (line, input), which stays."""
    return LogFlow(
        a.src_ip,
        a.dst_ip,
        a.proto,
        a.src_port,
        a.dst_port,
        a.vlan,
        max(a.packets, b.packets),
        max(a.bytes, b.bytes),
        min(a.first_seen, b.first_seen),
        max(a.last_seen, b.last_seen),
        a.first_frame,
        _merge_state(a.state, b.state),
        a.input,
        False,
        a.inner_vlan,
        a.pivot,
        records=a.records + b.records,
    )


def merge_connections(connections: list[LogFlow]) -> list[Flow]:
    """Flows from connections (in order of their first line): the connections of one key
    (Zeek may split a long one, or a port is reused) are summed into the first one's flow."""
    flows: dict[tuple[Any, ...], LogFlow] = {}
    for flow in connections:
        key = conn_key(flow)
        f = flows.get(key)
        if f is None:
            flows[key] = flow
            continue
        flows[key] = LogFlow(
            f.src_ip,
            f.dst_ip,
            f.proto,
            f.src_port,
            f.dst_port,
            f.vlan,
            f.packets + flow.packets,
            f.bytes + flow.bytes,
            min(f.first_seen, flow.first_seen),
            max(f.last_seen, flow.last_seen),
            f.first_frame,
            _merge_state(f.state, flow.state),
            f.input,
            False,
            f.inner_vlan,
            f.pivot,
            records=f.records + flow.records,
        )
    return list(flows.values())


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no field {_short(exc.args[0])}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at column {exc.colno})"
    return "not a conn.log entry"


def _merge_state(a: str, b: str) -> str:
    for s in ("established", "attempted"):
        if s in (a, b):
            return s
    return "unknown"


def _unset(v: Any) -> bool:
    return v is None or v in ("-", "")


def _int(rec: dict[str, Any], key: str, top: int) -> int | None:
    """A whole number from 0 to `top` as Zeek writes it (ASCII digits, or a JSON integer);
    None when unset."""
    v = rec.get(key)
    if _unset(v):
        return None
    if isinstance(v, str) and _DIGITS.fullmatch(v):
        n = int(v) if len(v) <= 20 else top + 1  # 20 digits hold any 64-bit count
    elif isinstance(v, int) and not isinstance(v, bool):
        n = v
    else:
        raise BadEntry(f"{key} {_short(v)} is not a whole number")
    if not 0 <= n <= top:
        raise BadEntry(f"{key} {_short(v)} is out of range (0-{top})")
    return n


def _count(rec: dict[str, Any], key: str) -> int:
    return _int(rec, key, MAX_COUNT) or 0


def _port(rec: dict[str, Any], key: str) -> int:
    n = _int(rec, key, 65535)
    if n is None:
        raise BadEntry(f"{key} is not set")
    return n


def _vlan(rec: dict[str, Any], key: str) -> int | None:
    return _int(rec, key, MAX_VLAN) or None  # VLAN 0 is a priority tag, not a VLAN


def _time(v: Any, what: str) -> float:
    """Seconds since the epoch (or an interval): a number, or an ISO 8601 time in JSON logs."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        t = float(v)
    elif isinstance(v, str) and _DECIMAL.fullmatch(v):
        t = float(v)
    elif isinstance(v, str) and what == "ts" and len(v) <= 40:
        try:  # JSON::TS_ISO8601 logs
            when = datetime.fromisoformat(v)
        except ValueError:
            raise BadEntry(f"ts {_short(v)} is not a time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        t = when.timestamp()
    else:
        raise BadEntry(f"{what} {_short(v)} is not a number")
    if not (math.isfinite(t) and 0.0 <= t < MAX_EPOCH):
        raise BadEntry(f"{what} {_short(v)} is out of range")
    return t


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:39] + "…"


def _proto(rec: dict[str, Any], version: int) -> tuple[str, int]:
    raw = rec["proto"]
    if not isinstance(raw, str):
        raise BadEntry(f"proto {_short(raw)} is not a protocol name")
    proto = raw.lower()
    if proto == "icmp" and version == 6:  # Zeek logs ICMPv6 as "icmp"
        proto = "icmpv6"
    if proto in PROTO_NUMBERS:
        return proto, PROTO_NUMBERS[proto]
    if proto == "unknown_transport":
        return proto, 0
    if _DIGITS.fullmatch(proto) and len(proto) <= 3 and int(proto) <= 255:
        return proto, int(proto)
    raise BadEntry(f"proto {_short(raw)} is not a protocol name or number (0-255)")


def _address(rec: dict[str, Any], key: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    v = rec[key]
    if not isinstance(v, str) or "%" in v:  # an int would be taken as an address too
        raise BadEntry(f"{key} {_short(v)} is not an address")
    try:
        return ipaddress.ip_address(v)
    except ValueError:
        raise BadEntry(f"{key} {_short(v)} is not an address") from None


def _entry_flow(rec: dict[str, Any], number: int, path: str) -> LogFlow:
    src, dst = _address(rec, "id.orig_h"), _address(rec, "id.resp_h")
    proto, pnum = _proto(rec, src.version)
    sport, dport = _port(rec, "id.orig_p"), _port(rec, "id.resp_p")
    if pnum in (1, 58):  # Zeek puts the ICMP type in orig_p and the code in resp_p
        sport, dport = 0, (ICMP4_FAMILY if pnum == 1 else ICMP6_FAMILY).get(sport, sport)
    orig_pkts, resp_pkts = _count(rec, "orig_pkts"), _count(rec, "resp_pkts")
    if not _unset(rec.get("orig_ip_bytes")):
        nbytes = _count(rec, "orig_ip_bytes") + _count(rec, "resp_ip_bytes")
    else:
        nbytes = _count(rec, "orig_bytes") + _count(rec, "resp_bytes")
    conn_state = rec.get("conn_state")
    if not isinstance(conn_state, str) or conn_state not in CONN_STATES:
        conn_state = ""
    if pnum == 17 and resp_pkts == 0 and conn_state in ("S0", "OTH"):
        state = "unknown"  # one-way UDP (syslog, traps, NetFlow): its data may have arrived
    elif conn_state in ATTEMPT_STATES or (conn_state == "OTH" and resp_pkts == 0):
        state = "attempted"
    elif conn_state:
        state = "established"
    else:
        state = "established" if resp_pkts else "unknown"
    ts = _time(rec["ts"], "ts")
    dur = rec.get("duration")
    end = ts + (0.0 if _unset(dur) else _time(dur, "duration"))
    if end >= MAX_EPOCH:
        raise BadEntry(f"duration {_short(dur)} ends beyond any capture")
    uid = rec.get("uid")
    return LogFlow(
        str(src),
        str(dst),
        proto if pnum == 0 else _name(pnum, proto),
        sport,
        dport,
        _vlan(rec, "vlan"),
        orig_pkts + resp_pkts,
        nbytes,
        ts,
        end,
        number,
        state,
        path,
        False,
        _vlan(rec, "inner_vlan"),
        uid if isinstance(uid, str) and uid not in ("", "-") else None,
    )


def _name(pnum: int, given: str) -> str:
    return given if given in ("tcp", "udp", "icmp", "icmpv6") else str(pnum)
