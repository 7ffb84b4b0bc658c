"""FortiGate traffic log (FortiOS 5.x and later, syslog `key=value` with quoted values).

One line is one record: `srcip`, `dstip`, `proto`, `srcport`, `dstport`, the device's
`action`, `policyid` in VDOM `vd`, `sessionid`, the counters `sentbyte`/`rcvdbyte` and
`sentpkt`/`rcvdpkt`, and the time. A syslog header before the first pair (`<189>`, a date and
host) is ignored. Lines of other log types (`type=utm`, `type=event`) are read and left out:
they are no traffic record, and no damage either.

Time: `eventtime` is an epoch (seconds, milli-, micro- or nanoseconds, by its digits) and wins;
otherwise `date`/`time` are the device's local time, placed by the record's `tz` (`+0900`) or,
failing that, by `--tz`. A record with neither is not guessed at: the reader stops with a usage
error naming the line.

State (spec §7): `deny` is an attempt the firewall stopped. Otherwise a record whose responder
sent something (`rcvdpkt`/`rcvdbyte`) is established, except a `server-rst` of one packet each
way (the server refused, as a capture's RST); a `start` record (logged before any answer) is
unknown; a session that ended without an answer is an attempt for TCP and ICMP and unknown for
UDP, whose one-way datagrams may have arrived.

The policy is named as the FortiOS import names rules: `<vd>/<policyid>`, or
`<vd>/policy6/<policyid>` for FortiOS 6's IPv6 table; policy 0 (the implicit deny) and
local-in, multicast or other policy types are no firewall policy of the import (none).
FortiOS 4 and older logs (`src=`/`dst=`/`status=`) are not read: their lines are counted as
unreadable, with the reason.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
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
    check_epoch,
    icmp_family,
    iter_lines,
    port,
    protocol,
    short,
    wall_epoch,
    whole,
)
from .model import FlowLog
from .source import ByteSource

_PAIR = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s"]*))')
_SNIFF_TYPE = re.compile(rb'(?:^|\s)type="?traffic"?(?:\s|$)', re.M)
_SNIFF_FORTI = re.compile(rb"(?:^|\s)(?:logid|devid|eventtime)=", re.M)
_TZ = re.compile(r"([+-])(\d{2}):?(\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})")

_DENIED = frozenset({"deny", "dropped", "blocked"})
_ACCEPTED = frozenset(
    {"accept", "start", "close", "timeout", "client-rst", "server-rst", "ip-conn", "dns"}
)
_EPOCH_DIVISORS = {10: 1, 13: 1_000, 16: 1_000_000, 19: 1_000_000_000}

# Every key a record is read from (a test checks this module reads no other): the C tokeniser
# makes the values of these only, where a FortiOS 7 line has 40 to 60 pairs.
WANTED = (
    "type",
    "srcip",
    "dstip",
    "proto",
    "action",
    "srcport",
    "dstport",
    "icmptype",
    "sentbyte",
    "rcvdbyte",
    "sentpkt",
    "rcvdpkt",
    "duration",
    "eventtime",
    "date",
    "time",
    "tz",
    "policyid",
    "policytype",
    "vd",
    "sessionid",
    "devname",
    "devid",
    "src",
    "status",
)


def looks_like_fortigate(head: bytes) -> bool:
    return bool(_SNIFF_TYPE.search(head) and _SNIFF_FORTI.search(head) and b"srcip=" in head)


def pairs(line: bytes) -> dict[str, str]:
    """The key=value pairs of one line, values unquoted (later keys win).

    A value is bare, or double-quoted with spaces inside (FortiOS escapes a quote in it as
    \\"). Words without `=` (a syslog header) are skipped; a `<PRI>` glued to the first key
    is dropped. A line with an escaped quote is tokenised on spaces (FortiOS never writes a
    space outside quotes within a pair); the others, nearly all, by one regular expression.
    """
    text = line.decode("utf-8", "replace")
    if '\\"' not in text:  # no escaped quote: one regular expression in C does it all
        return {k: quoted or bare for k, quoted, bare in _PAIR.findall(text)}
    out: dict[str, str] = {}
    tokens = text.split()
    i, n = 0, len(tokens)
    while i < n:
        key, eq, value = tokens[i].partition("=")
        i += 1
        if not eq or not key:
            continue
        if key[0] == "<":
            key = key.rpartition(">")[2]
        if value[:1] == '"':
            while not _closed(value) and i < n:  # the quoted value goes on past a space
                value += " " + tokens[i]
                i += 1
            value = value[1:-1] if _closed(value) else value[1:]
            if "\\" in value:
                value = value.replace('\\"', '"')
        out[key] = value
    return out


def _closed(value: str) -> bool:
    """True when a value that opened with a quote has its closing one."""
    return len(value) >= 2 and value[-1] == '"' and value[-2] != "\\"


class FortiGateTrafficLog:
    """FortiGate traffic log as a flow source (segcheck.capture.sources)."""

    kind: ClassVar[str] = "fortigate-traffic"
    title: ClassVar[str] = "FortiGate traffic log"

    @staticmethod
    def sniff(head: bytes) -> bool:
        """`type=traffic` with FortiOS's own keys (`logid`, `devid` or `eventtime`) and `srcip`."""
        return looks_like_fortigate(head)

    def __init__(self, src: ByteSource, path: str, options: ReadOptions) -> None:
        self.src, self.path, self.options = src, path, options

    @classmethod
    def open(
        cls, src: ByteSource, path: str, options: ReadOptions | None = None
    ) -> FortiGateTrafficLog:
        return cls(src, path, options or ReadOptions())

    def read(self) -> FlowLog:
        """Every flow of the log; bad lines are counted and the first one located."""
        return read_fortigate(self.src, self.path, self.options)


def read_fortigate(src: ByteSource, path: str, options: ReadOptions) -> FlowLog:
    acc = FlowAccumulator(path)
    addr = Addresses()
    zone = options.tz
    accel = logflow.logaccel
    for number, raw in iter_lines(src):
        if raw is not None and not raw.strip():
            continue
        acc.read += 1
        try:
            if raw is None:
                raise BadRecord("line longer than 1 MiB")
            if accel is not None:
                count, kv = accel.kv_fields(raw, WANTED)
            else:
                kv = pairs(raw)
                count = len(kv)
            if not count:
                raise BadRecord("no key=value pair")
            kind = kv.get("type")
            if kind is None:
                raise BadRecord("no type= (not a FortiGate log record)")
            if kind != "traffic":
                continue  # utm, event, anomaly: not a traffic record
            rec = _record(kv, number, addr, zone)
        except NeedsTimezone as exc:
            raise CaptureError(path, f"line {number}: {exc}") from None
        except BadRecord as exc:
            acc.bad(number, str(exc))
            continue
        acc.add(rec)
    return acc.result()


def _time(kv: dict[str, str], zone: tzinfo | None) -> float:
    raw = kv.get("eventtime")
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or len(raw) not in _EPOCH_DIVISORS:
            raise BadRecord(f"eventtime {short(raw)} is not an epoch")
        return check_epoch(int(raw) / _EPOCH_DIVISORS[len(raw)], "eventtime", raw)
    d, t = kv.get("date"), kv.get("time")
    if d is None or t is None:
        raise BadRecord("no eventtime and no date/time")
    dm, tm = _DATE.fullmatch(d), _TIME.fullmatch(t)
    if dm is None:
        raise BadRecord(f"date {short(d)} is not YYYY-MM-DD")
    if tm is None:
        raise BadRecord(f"time {short(t)} is not HH:MM:SS")
    tz_text = kv.get("tz")
    if tz_text is not None:
        m = _TZ.fullmatch(tz_text)
        if m is None:
            raise BadRecord(f"tz {short(tz_text)} is not an offset (+0900)")
        sign = -1 if m.group(1) == "-" else 1
        offset = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        if offset >= timedelta(hours=24):
            raise BadRecord(f"tz {short(tz_text)} is out of range")
        where: tzinfo = timezone(sign * offset)
    elif zone is not None:
        where = zone
    else:
        raise NeedsTimezone(
            "date/time are the device's local time and the record has no eventtime or tz: "
            "give the device's zone with --tz (for example --tz Asia/Tokyo)"
        )
    y, mo, day = dm.groups()
    h, mi, sec = tm.groups()
    return wall_epoch(
        int(y), int(mo), int(day), int(h), int(mi), int(sec), 0, where, "date/time", f"{d} {t}"
    )


def _rule_ref(kv: dict[str, str], vd: str) -> str | None:
    pid = kv.get("policyid")
    if pid is None or not pid.isdigit() or int(pid) == 0:
        return None
    kind = kv.get("policytype", "policy")
    if kind == "policy":
        return f"{vd}/{pid}"
    if kind == "policy6":
        return f"{vd}/policy6/{pid}"
    return None  # local-in, multicast, …: not a firewall policy of the import


def _record(kv: dict[str, str], line: int, addr: Addresses, zone: tzinfo | None) -> Record:
    if "srcip" not in kv:
        if "src" in kv and "status" in kv:
            raise BadRecord("a FortiOS 4 or older record (src=/dst=/status=) is not read")
        raise BadRecord("no srcip")
    src = addr(kv["srcip"], "srcip")
    if "dstip" not in kv:
        raise BadRecord("no dstip")
    dst = addr(kv["dstip"], "dstip")
    if "proto" not in kv:
        raise BadRecord("no proto")
    proto = protocol(kv["proto"])
    action = kv.get("action")
    if action is None:
        raise BadRecord("no action")
    if proto in (1, 58):
        icmp_type = kv.get("icmptype")
        sport = 0
        if icmp_type is None:
            dport = 0
        else:
            try:
                dport = icmp_family(proto, int(icmp_type, 16 if icmp_type[:2] == "0x" else 10))
            except ValueError:
                raise BadRecord(f"icmptype {short(icmp_type)} is not a number") from None
    else:
        sport = port(kv.get("srcport", "0"), "srcport")
        dport = port(kv.get("dstport", "0"), "dstport")
    sent_b = whole(kv.get("sentbyte", "0"), "sentbyte")
    rcvd_b = whole(kv.get("rcvdbyte", "0"), "rcvdbyte")
    sent_p = whole(kv.get("sentpkt", "0"), "sentpkt")
    rcvd_p = whole(kv.get("rcvdpkt", "0"), "rcvdpkt")
    duration = whole(kv.get("duration", "0"), "duration", 1 << 32)
    end = _time(kv, zone)
    start = max(0.0, end - duration)
    if action in _DENIED:
        verdict, state = DENY, ATTEMPTED
    elif action in _ACCEPTED:
        verdict = ACCEPT
        answered = rcvd_p > 0 or rcvd_b > 0
        if action == "start":
            state = UNKNOWN
        elif action == "server-rst" and rcvd_p <= 1 and sent_p <= 1:
            state = ATTEMPTED  # refused: one packet out, a reset back
        elif answered:
            state = ESTABLISHED
        elif proto == 17:
            state = UNKNOWN
        else:
            state = ATTEMPTED
    else:
        raise BadRecord(f"action {short(action)} is not a traffic-log action")
    vd = kv.get("vd") or "root"
    vlan = None
    return Record(
        src,
        dst,
        proto,
        sport,
        dport,
        sent_p + rcvd_p,
        sent_b + rcvd_b,
        start,
        end,
        line,
        state,
        kv.get("sessionid"),
        verdict,
        _rule_ref(kv, vd),
        kv.get("devname") or kv.get("devid"),
        vlan,
    )
