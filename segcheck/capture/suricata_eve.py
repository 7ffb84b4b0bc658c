"""Suricata EVE JSON: `flow` events, and `netflow` events where `flow` is not logged.

EVE is one JSON object a line. Only `flow` and `netflow` events describe connections; the
others (alert, dns, http, stats, …) are read and left out, neither flows nor damage.

A `flow` event is one bidirectional flow: `src_ip`/`src_port` sent the first packet Suricata
saw (toserver), `flow.pkts_toclient` counts the answer. State (spec §7): an answer that is a
TCP SYN-ACK, data or anything but a bare reset makes it established; a reset alone is a refusal
(attempted); no answer is an attempt when the flow was seen opening (a TCP SYN from the
client, an ICMP query) and unknown otherwise (UDP, or a TCP flow picked up midstream).
`flow.action: drop` (IPS mode) is the sensor's own verdict, a deny. When Suricata picked a TCP
flow up midstream (no SYN seen) its "client" may be the server (OISF/suricata#3749): then
the spec's second initiator rule decides, so a known service port is the responder's.

`netflow` events are unidirectional, two per flow with the same `flow_id`: the first one
logged is toserver, the second toclient; they are joined into one flow. A flow with both a
`flow` and `netflow` events is taken from its `flow` event.

`flow_id` is the pivot key back into Suricata (and its alerts). Times carry their offset.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from .logflow import (
    ACCEPT,
    ATTEMPTED,
    DENY,
    ESTABLISHED,
    MAX_COUNT,
    PROTO_BY_NAME,
    UNKNOWN,
    Addresses,
    BadRecord,
    FlowAccumulator,
    ReadOptions,
    Record,
    epoch,
    icmp_family,
    iter_lines,
    port,
    protocol,
    short,
    whole,
)
from .model import SERVICE_PORTS, FlowLog
from .source import ByteSource

UTF8_BOM = b"\xef\xbb\xbf"
_ICMP_QUERIES = {1: frozenset({8, 13, 15, 17, 10}), 58: frozenset({128, 133, 135})}
SYN, RST, ACK = 0x02, 0x04, 0x10


def looks_like_eve(head: bytes) -> bool:
    text = head.removeprefix(UTF8_BOM).lstrip()
    return text.startswith(b"{") and b'"event_type"' in head and b'"id.orig_h"' not in head


class SuricataEve:
    """Suricata EVE JSON as a flow source (segcheck.capture.sources)."""

    kind: ClassVar[str] = "suricata-eve"
    title: ClassVar[str] = "Suricata EVE JSON"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """JSON lines naming `event_type` (and not Zeek's `id.orig_h`)."""
        return looks_like_eve(head)

    def __init__(self, src: ByteSource, path: str, options: ReadOptions) -> None:
        self.src, self.path = src, path

    @classmethod
    def open(cls, src: ByteSource, path: str, options: ReadOptions | None = None) -> SuricataEve:
        return cls(src, path, options or ReadOptions())

    def read(self) -> FlowLog:
        """Every flow of the log; bad lines are counted and the first one located."""
        return read_eve(self.src, self.path)


def read_eve(src: ByteSource, path: str) -> FlowLog:
    acc = FlowAccumulator(path)
    add, bad = acc.add, acc.bad  # bound once: the loop runs once a record
    addr = Addresses()
    with_flow: set[object] = set()
    netflows: dict[object, list[tuple[int, dict[str, Any]]]] = {}
    flow_record, read_json = _flow_record, _json
    read = 0
    for number, raw in iter_lines(src):
        # A record starts with `{`: only other lines pay for the blank test (a stripped copy).
        if raw is not None and raw[:1] != b"{" and not raw.strip():
            continue
        read += 1
        try:
            if raw is None:
                raise BadRecord("line longer than 1 MiB")
            ev = read_json(raw)
            if type(ev) is not dict:
                raise BadRecord("JSON line is not an object")
            kind = ev.get("event_type")
            if type(kind) is not str:
                raise BadRecord("no event_type")
            if kind == "flow":
                rec = flow_record(ev, number, addr)
                with_flow.add(_flow_id(ev))
                add(rec)
            elif kind == "netflow":
                _flow_id(ev)
                _check_netflow(ev, addr)
                key = ev.get("flow_id", ("line", number))
                netflows.setdefault(key, []).append((number, ev))
        except BadRecord as exc:
            bad(number, str(exc))
    acc.read += read
    for key, events in netflows.items():
        if key in with_flow:
            continue
        try:
            add(_join_netflow(events, addr))
        except BadRecord as exc:  # checked already; a pair that does not fit together
            bad(events[0][0], str(exc))
    return acc.result()


_raw_decode = json.JSONDecoder().raw_decode
_JSON_SPACE = " \t\n\r"


def _json(raw: bytes) -> Any:
    """One JSON line, as ``json.loads`` reads it (the decoder's C scanner, called directly)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRecord("not JSON (not UTF-8)") from None
    try:
        start = 0 if text[:1] == "{" else len(text) - len(text.lstrip(_JSON_SPACE))
        value, end = _raw_decode(text, start)
    except RecursionError:
        raise BadRecord("JSON nested too deep") from None
    except json.JSONDecodeError as exc:
        raise BadRecord(f"not JSON ({exc.msg})") from None
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        raise BadRecord("not JSON (Extra data)")
    return value


def _time(v: Any, what: str) -> float:
    if type(v) is not str or len(v) > 40:
        raise BadRecord(f"{what} {short(v)} is not a time")
    try:
        when = datetime.fromisoformat(v)
    except ValueError:
        raise BadRecord(f"{what} {short(v)} is not a time") from None
    if when.tzinfo is None:
        raise BadRecord(f"{what} {short(v)} has no offset")
    return epoch(when, what)


def _count(v: Any, what: str) -> int:
    """A JSON integer count (Suricata never writes one as a string)."""
    if type(v) is not int:
        raise BadRecord(f"{what} {short(v)} is not a whole number")
    return whole(v, what)


def _object(v: Any) -> dict[str, Any]:
    return v if type(v) is dict else {}


_HEX_FLAGS = {f"{n:02x}": n for n in range(256)}  # what Suricata writes


def _flags(v: Any, what: str) -> int | None:
    if type(v) is str:
        n = _HEX_FLAGS.get(v)
        if n is not None:
            return n
    if v is None:
        return None
    if type(v) is not str or len(v) > 4:
        raise BadRecord(f"{what} {short(v)} is not hex TCP flags")
    try:
        return int(v, 16)
    except ValueError:
        raise BadRecord(f"{what} {short(v)} is not hex TCP flags") from None


def _vlans(ev: dict[str, Any]) -> tuple[int | None, int | None]:
    v = ev.get("vlan")
    if v is None:
        return None, None
    if type(v) is not list or not v or len(v) > 3:
        raise BadRecord(f"vlan {short(v)} is not a list of VLAN ids")
    ids = [whole(x, "vlan", 4095) or None for x in v]
    return ids[0], (ids[1] if len(ids) > 1 else None)


# The protocol names Suricata writes, looked up without `protocol`'s lower() and checks.
_PROTOS = {name: n for key, n in PROTO_BY_NAME.items() for name in (key, key.upper())}
_PROTOS["IPv6-ICMP"] = 58


def _proto(v: Any) -> int:
    if type(v) is str:
        n = _PROTOS.get(v)
        if n is not None:
            return n
    return protocol(v)


def _port(v: Any, what: str) -> int:
    return v if type(v) is int and 0 <= v <= 65535 else port(v, what)


def _ends(ev: dict[str, Any], addr: Addresses) -> tuple[str, str, int, int, int]:
    src = addr(ev.get("src_ip"), "src_ip")
    dst = addr(ev.get("dest_ip"), "dest_ip")
    if "proto" not in ev:
        raise BadRecord("no proto")
    proto = _proto(ev["proto"])
    if proto == 1 or proto == 58:
        icmp_type = ev.get("icmp_type")
        dport = 0 if icmp_type is None else icmp_family(proto, whole(icmp_type, "icmp_type", 255))
        return src, dst, proto, 0, dport
    sport = _port(ev.get("src_port", 0), "src_port")
    dport = _port(ev.get("dest_port", 0), "dest_port")
    return src, dst, proto, sport, dport


def _flow_record(ev: dict[str, Any], line: int, addr: Addresses) -> Record:
    src, dst, proto, sport, dport = _ends(ev, addr)
    fl = ev.get("flow")
    if type(fl) is not dict:
        raise BadRecord("flow event without a flow object")
    get = fl.get
    # Counts inline (a JSON integer in range), `_count` for anything else and its message.
    to_server = get("pkts_toserver", 0)
    if type(to_server) is not int or not 0 <= to_server <= MAX_COUNT:
        to_server = _count(to_server, "flow.pkts_toserver")
    to_client = get("pkts_toclient", 0)
    if type(to_client) is not int or not 0 <= to_client <= MAX_COUNT:
        to_client = _count(to_client, "flow.pkts_toclient")
    b_server = get("bytes_toserver", 0)
    if type(b_server) is not int or not 0 <= b_server <= MAX_COUNT:
        b_server = _count(b_server, "flow.bytes_toserver")
    b_client = get("bytes_toclient", 0)
    if type(b_client) is not int or not 0 <= b_client <= MAX_COUNT:
        b_client = _count(b_client, "flow.bytes_toclient")
    nbytes = b_server + b_client
    start = _time(get("start"), "flow.start")
    end = _time(fl["end"], "flow.end") if "end" in fl else start
    tcp = ev.get("tcp")
    if type(tcp) is dict:
        ts = _flags(tcp.get("tcp_flags_ts"), "tcp.tcp_flags_ts")
        tc = _flags(tcp.get("tcp_flags_tc"), "tcp.tcp_flags_tc")
    else:
        ts = tc = None
    opened = ts is not None and bool(ts & SYN)
    icmp = proto == 1 or proto == 58
    if icmp:
        opened = ev.get("icmp_type") in _ICMP_QUERIES[proto]
    if to_client > 0:
        refused = proto == 6 and tc is not None and bool(tc & RST) and not tc & SYN
        refused = refused and to_client <= 1
        state = ATTEMPTED if refused else ESTABLISHED
    elif proto == 6:
        state = ATTEMPTED if opened else UNKNOWN
    elif proto == 17:
        state = UNKNOWN
    elif icmp:
        state = ATTEMPTED if opened else UNKNOWN
    else:
        state = ATTEMPTED
    action = get("action")
    verdict = DENY if action == "drop" else ACCEPT if action == "pass" else None
    if verdict == DENY and state != ESTABLISHED:
        state = ATTEMPTED
    if proto == 6 and not opened and sport in SERVICE_PORTS and dport not in SERVICE_PORTS:
        src, dst, sport, dport = dst, src, dport, sport  # picked up midstream, server first
    vlan, inner = _vlans(ev) if "vlan" in ev else (None, None)
    fid = ev.get("flow_id")
    host = ev.get("host")
    rec = Record(
        src,
        dst,
        proto,
        sport,
        dport,
        to_server + to_client,
        nbytes,
        start,
        end if end > start else start,
        line,
        state,
        str(fid) if type(fid) is int or type(fid) is str else None,
        verdict,
        None,
        host if type(host) is str else None,
        vlan,
        inner,
    )
    return rec


def _flow_id(ev: dict[str, Any]) -> object:
    """The flow's key: a JSON array or object cannot be one (nor a set member)."""
    fid = ev.get("flow_id")
    if type(fid) is list or type(fid) is dict:
        raise BadRecord(f"flow_id {short(fid)} is not a flow id")
    return fid


def _pivot(ev: dict[str, Any]) -> str | None:
    fid = ev.get("flow_id")
    return str(fid) if type(fid) in (int, str) else None


def _check_netflow(ev: dict[str, Any], addr: Addresses) -> None:
    _ends(ev, addr)
    nf = ev.get("netflow")
    if type(nf) is not dict:
        raise BadRecord("netflow event without a netflow object")
    _count(nf.get("pkts", 0), "netflow.pkts")
    _count(nf.get("bytes", 0), "netflow.bytes")
    _time(nf.get("start"), "netflow.start")
    if "end" in nf:
        _time(nf["end"], "netflow.end")
    _vlans(ev)


def _join_netflow(events: list[tuple[int, dict[str, Any]]], addr: Addresses) -> Record:
    line, first = events[0]
    src, dst, proto, sport, dport = _ends(first, addr)
    packets = nbytes = 0
    answered = False
    start, end = float("inf"), 0.0
    refused = opened = False
    for i, (_, ev) in enumerate(events):
        nf = ev["netflow"]
        pk = _count(nf.get("pkts", 0), "netflow.pkts")
        packets += pk
        nbytes += _count(nf.get("bytes", 0), "netflow.bytes")
        t0 = _time(nf.get("start"), "netflow.start")
        start = min(start, t0)
        end = max(end, _time(nf["end"], "netflow.end") if "end" in nf else t0)
        tcp = _object(ev.get("tcp"))
        flags = _flags(tcp.get("tcp_flags"), "tcp.tcp_flags")
        if i == 0:
            opened = flags is not None and bool(flags & SYN)
        elif pk > 0:
            answered = True
            refused = (
                proto == 6 and flags is not None and bool(flags & RST) and not flags & SYN
            ) and pk <= 1
    if proto in (1, 58):
        opened = first.get("icmp_type") in _ICMP_QUERIES[proto]
    if answered:
        state = ATTEMPTED if refused else ESTABLISHED
    elif proto == 17:
        state = UNKNOWN
    elif proto in (6, 1, 58):
        state = ATTEMPTED if opened else UNKNOWN
    else:
        state = ATTEMPTED
    if proto == 6 and not opened and sport in SERVICE_PORTS and dport not in SERVICE_PORTS:
        src, dst, sport, dport = dst, src, dport, sport
    vlan, inner = _vlans(first)
    rec = Record(
        src,
        dst,
        proto,
        sport,
        dport,
        packets,
        nbytes,
        start,
        end,
        line,
        state,
        _pivot(first),
        None,
        None,
        first.get("host") if type(first.get("host")) is str else None,
        vlan,
    )
    rec.inner_vlan = inner
    return rec
