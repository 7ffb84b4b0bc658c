"""Zeek ``conn.log`` reader (TSV with a ``#fields`` header, or JSON lines).

Zeek already names the initiator (``id.orig_h``) and classifies the connection, so each entry
maps to a flow directly; entries with the same key (Zeek may split a long connection) are
merged. ``first_frame`` is the 1-based number of the first log entry of the flow.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .decode import ICMP4_FAMILY, ICMP6_FAMILY
from .model import Flow, proto_number
from .source import ByteSource

# Zeek connection states in which the responder never answered, or refused (spec §7).
ATTEMPT_STATES = frozenset({"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR"})


def looks_like_zeek(head: bytes) -> bool:
    text = head.lstrip()
    if text.startswith((b"#separator", b"#fields")):
        return True
    return text.startswith(b"{") and b'"id.orig_h"' in head


@dataclass
class _Acc:
    flow: Flow
    states: set[str]


def _lines(src: ByteSource) -> Iterator[bytes]:
    rest = b""
    while piece := src.read(4 << 20):
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


MAX_EPOCH = float(1 << 35)  # year 3058: beyond it datetime cannot render the time


def _num(v: Any) -> int:
    try:
        return int(float(v))
    except (TypeError, ValueError, OverflowError):  # "-", junk, inf
        return 0


def _opt_int(v: Any) -> int | None:
    if v in (None, "-", ""):
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def read_zeek(src: ByteSource, path: str) -> tuple[list[Flow], int, int]:
    """Flows, entries read, entries skipped (unparseable lines)."""
    sep = "\t"
    fields: list[str] | None = None
    unset = "-"
    flows: dict[tuple[Any, ...], _Acc] = {}
    read = skipped = 0
    for raw in _lines(src):
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("#"):
            name, _, value = line.partition(sep if not line.startswith("#separator") else " ")
            if name == "#separator":
                sep = value.encode().decode("unicode_escape")
            elif name == "#fields":
                fields = value.split(sep)
            elif name == "#unset_field":
                unset = value
            continue
        try:
            if line.lstrip().startswith("{"):
                rec = json.loads(line)
            elif fields is not None:
                vals = line.split(sep)
                rec = {k: (None if v == unset else v) for k, v in zip(fields, vals, strict=False)}
            else:
                raise ValueError("entry before #fields")
            flow = _entry_flow(rec, read + skipped + 1, path)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            skipped += 1
            continue
        read += 1
        state = str(rec.get("conn_state") or "")
        f = flow
        key = (f.vlan, f.inner_vlan, f.proto, f.src_ip, f.src_port, f.dst_ip, f.dst_port)
        acc = flows.get(key)
        if acc is None:
            flows[key] = _Acc(flow, {state})
            continue
        f = acc.flow
        acc.states.add(state)
        acc.flow = Flow(
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
            path,
            False,
            f.inner_vlan,
        )
    return [a.flow for a in flows.values()], read, skipped


def _merge_state(a: str, b: str) -> str:
    for s in ("established", "attempted"):
        if s in (a, b):
            return s
    return "unknown"


def _entry_flow(rec: dict[str, Any], number: int, path: str) -> Flow:
    proto = str(rec["proto"]).lower()
    src, dst = ipaddress.ip_address(rec["id.orig_h"]), ipaddress.ip_address(rec["id.resp_h"])
    if proto == "icmp" and src.version == 6:  # Zeek logs ICMPv6 as "icmp"
        proto = "icmpv6"
    pnum = proto_number(proto) if proto != "unknown_transport" else 0
    sport, dport = _num(rec["id.orig_p"]), _num(rec["id.resp_p"])
    if pnum in (1, 58):  # Zeek puts the ICMP type in orig_p and the code in resp_p
        sport, dport = 0, (ICMP4_FAMILY if pnum == 1 else ICMP6_FAMILY).get(sport, sport)
    orig_pkts, resp_pkts = _num(rec.get("orig_pkts")), _num(rec.get("resp_pkts"))
    if rec.get("orig_ip_bytes") not in (None, "-"):
        nbytes = _num(rec.get("orig_ip_bytes")) + _num(rec.get("resp_ip_bytes"))
    else:
        nbytes = _num(rec.get("orig_bytes")) + _num(rec.get("resp_bytes"))
    conn_state = str(rec.get("conn_state") or "")
    if pnum == 17 and resp_pkts == 0 and conn_state in ("S0", "OTH"):
        state = "unknown"  # one-way UDP (syslog, traps, NetFlow): its data may have arrived
    elif conn_state in ATTEMPT_STATES or (conn_state == "OTH" and resp_pkts == 0):
        state = "attempted"
    elif conn_state:
        state = "established"
    else:
        state = "established" if resp_pkts else "unknown"
    ts = float(rec["ts"])
    if not 0.0 <= ts < MAX_EPOCH:  # nan, inf, or a time no capture can have: a damaged line
        raise ValueError(f"timestamp {rec['ts']!r} out of range")
    dur = rec.get("duration")
    end = ts + (float(dur) if dur not in (None, "-", "") else 0.0)
    return Flow(
        str(src),
        str(dst),
        proto if pnum == 0 else _name(pnum, proto),
        sport,
        dport,
        _opt_int(rec.get("vlan")),
        orig_pkts + resp_pkts,
        nbytes,
        ts,
        end,
        number,
        state,
        path,
        False,
        _opt_int(rec.get("inner_vlan")),
    )


def _name(pnum: int, given: str) -> str:
    return given if given in ("tcp", "udp", "icmp", "icmpv6") else str(pnum)
