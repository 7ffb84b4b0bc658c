"""The optional C helpers of the traffic-log readers (segcheck/capture/_logaccel.c) give
exactly what the pure-Python code gives: the same pairs and columns on hand-picked and random
lines (quoted values, escaped quotes and spaces, empty values, damage, bytes that are not
UTF-8), the same LogFlow objects, and so the same records read from whole logs."""

from __future__ import annotations

import random
import re
from dataclasses import fields
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from segcheck.capture import fortigate_log, logflow, panos_log, read_capture
from segcheck.capture.fortigate_log import WANTED, pairs
from segcheck.capture.logflow import LogFlow, ReadOptions, new_flows
from segcheck.capture.model import CaptureResult
from segcheck.capture.panos_log import READ_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
ACCEL = logflow.logaccel
needs_accel = pytest.mark.skipif(ACCEL is None, reason="_logaccel not built (no compiler)")
TOKYO = ReadOptions(ZoneInfo("Asia/Tokyo"))

FORTI_LINES = [
    b'date=2026-04-01 time=09:00:00 type="traffic" srcip=10.1.1.1 dstip=10.2.2.2 proto=6',
    b'<189>date=2026-04-01 devname="fgt a" type=traffic srcip=10.1.1.1',
    b'Apr 30 06:00:00 host <189>logid="0000000013" type="traffic" msg="a \\"quoted\\" word"',
    b'type="traffic" msg="ends with a backslash \\\\" srcip=10.1.1.1',
    b'type="traffic" devname="never closed srcip=10.1.1.1 dstip=10.2.2.2',
    b'type="traffic" devname="" vd= srcip=10.1.1.1 dstip=',
    b'type=traffic devname="x"y srcip=1"2 dstip=a=b=c',
    b"type=traffic src=10.1.1.1 dst=10.2.2.2 status=accept",
    b"no pairs at all here",
    b"",
    b"   ",
    b"=value =another",
    b"<189>=x <1>type=traffic <a>b>vd=root",
    b'type=traffic devname="\\" srcip=10.1.1.1 " status="\\"',
    b'type=traffic devname="a  b\tc" srcip=10.1.1.1',
    b'type=traffic devname="a \\"b  c\\"" srcip=10.1.1.1\tdstip=10.2.2.2',
    b'type=traffic devname=" \\" vd="x"',
    b'type=traffic devname="\\"" vd="y"',
    b'type=traffic devname=\\"bare\\" vd=z',
    b"type=traffic devname=\xff\xfeab srcip=10.1.1.1 \xe3\x81",
    'type=traffic devname="庁内\u3000サーバ" vd=ルート 利用者=山田 srcip=10.1.1.1'.encode(),
    "type=traffic devname=a\u3000vd=b\u00a0srcip=c\x1cdstip=d".encode(),
    'type=traffic devname="a\\"\u3000b" vd=x\u2003sessionid=1'.encode(),
    b"type=traffic type=utm type=traffic srcip=1 srcip=2",
    b'type=traffic srcport=1 srcport="" dstport="80"',
]

ALPHABET = [
    "type",
    "srcip",
    "vd",
    "devname",
    "status",
    "src",
    "=",
    "=",
    '"',
    '"',
    "\\",
    '\\"',
    " ",
    " ",
    "  ",
    "\t",
    "<189>",
    ">",
    "<",
    "10.1.1.1",
    "x",
    "_",
    "é",
    "庁",
    "\u3000",
    "\u00a0",
    "\x1c",
    "\ufffd",
    "0",
]


def _random_lines(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 30)))
        raw = text.encode()
        if rng.random() < 0.2:  # bytes that are not UTF-8
            cut = rng.randrange(len(raw) + 1)
            raw = raw[:cut] + rng.choice([b"\xff", b"\xe3\x81", b"\xc3", b"\x80\x80"]) + raw[cut:]
        out.append(raw)
    return out


def _python_pairs(line: bytes) -> tuple[bool, dict[str, str]]:
    kv = pairs(line)
    return bool(kv), {k: v for k, v in kv.items() if k in WANTED}


@needs_accel
@pytest.mark.parametrize("line", FORTI_LINES)
def test_kv_fields_equals_pairs(line: bytes) -> None:
    count, kv = ACCEL.kv_fields(line, WANTED)
    assert (bool(count), kv) == _python_pairs(line)


@needs_accel
def test_kv_fields_equals_pairs_on_random_lines() -> None:
    for line in _random_lines(20000, 16):
        count, kv = ACCEL.kv_fields(line, WANTED)
        assert (bool(count), kv) == _python_pairs(line), line


@needs_accel
def test_kv_fields_reads_what_the_format_says() -> None:
    # Written from FortiOS's format, not from either implementation: quoted values keep their
    # spaces, an escaped quote is a quote, later keys win, a <PRI> is not part of a key.
    line = b'<189>date=2026-04-01 type="traffic" msg="a \\"b\\" c" vd= srcip=1 srcip=2 x'
    count, kv = ACCEL.kv_fields(line, ("date", "type", "msg", "vd", "srcip", "x"))
    assert count == 6
    assert kv == {"date": "2026-04-01", "type": "traffic", "msg": 'a "b" c', "vd": "", "srcip": "2"}


PANOS_LINES = [
    b"1,2026/04/01 00:00:00,0125,TRAFFIC,end,2561,2026/04/01 00:00:00,10.1.1.1,10.2.2.2",
    b"",
    b",,,,",
    b"a,b",
    b'1,2026/04/01 00:00:00,0125,TRAFFIC,end,"quoted, column",x',
    b"1,\xff\xfe,0125,TRAFFIC,\xe3\x81,end",
    ",".join(["庁内"] * 120).encode(),
    b"," * 300,
]


@needs_accel
@pytest.mark.parametrize("line", PANOS_LINES)
def test_csv_fields_equals_split(line: bytes) -> None:
    cells = ACCEL.csv_fields(line, READ_COLUMNS)
    if b'"' in line:
        assert cells is None  # the csv module reads quoted lines
        return
    full = line.decode("utf-8", "replace").split(",")
    assert len(cells) == len(full)
    assert cells == [c if i in READ_COLUMNS else None for i, c in enumerate(full)]


@needs_accel
def test_new_objects_equals_the_constructor() -> None:
    rows = [
        ("10.1.1.1", "10.2.2.2", "tcp", 1, 2, None, 3, 4, 1.5, 2.5, 7, "established", "f",
         False, None, "pivot", "accept", "root/1", "fgt", 2),
        ("::1", "::2", "icmpv6", 0, 128, 5, 1, 0, 0.0, 0.0, 1, "attempted", "g", True, 7,
         None, None, None, None, 1),
    ]  # fmt: skip
    made = ACCEL.new_objects(LogFlow, logflow._SLOTS, rows)
    assert made == [LogFlow(*row) for row in rows]
    assert [type(f) for f in made] == [LogFlow, LogFlow]
    assert [f.name for f in fields(LogFlow)] == [d.__name__ for d in logflow._SLOTS]
    assert not hasattr(LogFlow, "__post_init__")  # nothing the constructor would do is skipped
    with pytest.raises(TypeError):
        ACCEL.new_objects(LogFlow, logflow._SLOTS, [rows[0][:-1]])
    with pytest.raises(AttributeError):  # still frozen
        made[0].packets = 9  # type: ignore[misc]


def test_new_flows_without_the_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    row = ("a", "b", "udp", 1, 2, None, 1, 1, 0.0, 0.0, 1, "unknown", "f", False, None,
           None, None, None, None, 1)  # fmt: skip
    monkeypatch.setattr(logflow, "logaccel", None)
    assert new_flows([row]) == [LogFlow(*row)]


def _keys_read(module: object, pattern: str) -> set[str]:
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    return set(re.findall(pattern, source))


def test_the_tokenisers_make_every_field_the_readers_read() -> None:
    """A key or column read but not listed would be absent on the C path only."""
    keys = _keys_read(fortigate_log, r'kv(?:\.get\(|\[)"(\w+)"') | _keys_read(
        fortigate_log, r'"(\w+)" (?:not )?in kv'
    )
    assert keys and keys <= set(WANTED)
    names = _keys_read(panos_log, r"cols\[([A-Z_]+)\]") | _keys_read(
        panos_log, r"(?:_col|_count)\(cols, ([A-Z_]+)"
    )
    assert names and {getattr(panos_log, n) for n in names} <= set(READ_COLUMNS)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CaptureResult, CaptureResult]:
    fast = read_capture(path, TOKYO)
    with monkeypatch.context() as m:
        m.setattr(logflow, "logaccel", None)
        slow = read_capture(path, TOKYO)
    return fast, slow


def _damaged_fortigate(tmp_path: Path) -> Path:
    good = (LOGS / "fortigate" / "wazuh__fortigate.log").read_bytes().splitlines()
    extra = [
        b'date=2026-04-01 time=09:00:00 tz="+0900" type="traffic" srcip=10.1.1.1 srcport=5 '
        b'dstip=10.2.2.2 dstport=445 proto=6 action="close" policyid=3 vd="root" '
        b'devname="fgt \\"core\\"" sessionid=77 sentpkt=3 rcvdpkt=2 msg="x y"',
        b'date=2026-04-01 time=09:00:01 tz="+0900" type="traffic" srcip=10.1.1.9 dstip=\xff '
        b"proto=6 action=deny",
        b'date=2026-04-01 time=09:00:02 tz="+0900" type="traffic" srcip=10.1.1.1 srcport="" '
        b"dstip=10.2.2.2 dstport=445 proto=6 action=deny",
        b"type=traffic",
        b"nothing",
        b'date=2026-04-01 time=09:00:03 tz="+0900" type="traffic" srcip=10.1.1.1 srcport=5 '
        b'dstip=10.2.2.2 dstport=445 proto=6 action="close" rcvdbyte=x',
    ]
    path = tmp_path / "fgt.log"
    path.write_bytes(b"\n".join([*extra, *good, *extra]) + b"\n")
    return path


def _damaged_panos(tmp_path: Path) -> Path:
    good = (LOGS / "panos" / "wazuh__paloalto.log").read_bytes().splitlines()
    cols = [""] * 103
    cols[1:9] = ["2026/04/01 09:00:00", "0125", "TRAFFIC", "end", "", "2026/04/01 09:00:00",
                 "10.1.1.1", "10.2.2.2"]  # fmt: skip
    cols[11], cols[15], cols[22], cols[24], cols[25] = "R 1", "vsys1", "9", "5", "445"
    cols[29], cols[30], cols[31], cols[33], cols[34], cols[36] = "tcp", "allow", "9", "4", "3", "1"
    cols[45], cols[102] = "1", "2026-04-01T09:00:00.5+09:00"
    line = ",".join(cols).encode()
    extra = [
        line,
        line.replace(b"R 1", b'"R, 1"'),
        line.replace(b"10.2.2.2", b"10.2.2.\xff"),
        line.replace(b",tcp,", b",tcpx,"),
        b"1,2,3,TRAFFIC,end",
        b"1,2,3,BOGUS,end",
    ]
    path = tmp_path / "pan.log"
    path.write_bytes(b"\n".join([*extra, *good, *extra]) + b"\n")
    return path


@needs_accel
@pytest.mark.parametrize("make", [_damaged_fortigate, _damaged_panos])
def test_whole_logs_read_the_same_both_ways(
    make: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    fast, slow = _both(path, monkeypatch)
    assert fast.flows == slow.flows
    assert (fast.info.packets_read, fast.info.packets_skipped, fast.info.first_skipped) == (
        slow.info.packets_read,
        slow.info.packets_skipped,
        slow.info.first_skipped,
    )
    assert fast.info.packets_skipped > 0 and len(fast.flows) > 0  # damage and records both
