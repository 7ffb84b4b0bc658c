"""Policy tables (「FWポリシー表」): CSV/TSV or .xlsx → `ParsedConfig` (format `csv`).

For the devices without a parser (YAMAHA RTX, NEC IX, Allied Telesis, …) the engineer's Excel
rule table is the realistic input. One row is one rule, evaluated top-down (first match), with
an implicit deny after the last row.

- Columns are found by their header: a small map of Japanese and English names (No, 送信元,
  宛先, サービス, 動作, 有効, 備考, 送信元IF, 宛先IF and common variants), compared after NFKC
  normalisation, without spaces and case; a user header map (field → header text) goes first.
  The header row is the first of the first 30 rows naming a source and a destination column;
  repeated header rows (page breaks) and rows with no rule cell filled (titles, section rows,
  notes) are skipped. Without an action column every row is an allow (a permit list), said so.
- Cells hold several values separated by newlines, commas, 「、」 or semicolons. Addresses are
  CIDRs (a netmask is accepted), ranges (`a-b`, `a~b`, `a〜b`, `10.0.0.5-20`), `any`/`全て`, or
  names (resolved through `names` when given, else unresolved: an allow matches everything
  behind its interface, a deny nothing). Services are `tcp/443`, `443/tcp`, `TCP 80-90`,
  `udp`, `icmp`, `proto 50`, a service name from segcheck's catalogue (spec §4) or a few common
  aliases, or `any`; a bare port takes the protocol before it in the cell, or TCP and UDP.
- Actions 許可/permit/allow/accept/pass (YAMAHA pass-log, restrict…) and 拒否/deny/drop/reject;
  an action not understood is taken as an allow (never hides a path), with an assumption.
  有効 column: 有効/○/yes/true/1/on and 無効/×/no/false/0/off; empty is enabled.
- Encodings: UTF-8 with or without BOM, CP932 (what Japanese Excel writes as "CSV"; never
  `shift_jis`, which lacks ① and ㈱), UTF-16 with BOM (Excel's "Unicode テキスト", tab-separated).
  The delimiter (comma or tab) is the one under which the header row is found.
- `.xlsx` through the optional extra `segcheck[xlsx]` (openpyxl): every sheet with a header row
  is a context named after the sheet (merged cells give their value to every cell they cover);
  a CSV is one context named after the file stem. 送信元IF/宛先IF columns give a rule's
  from/to interfaces; a table gives no addresses behind them, so a deny limited to interfaces
  is ignored with a warning (read as a deny of everything it would hide every later path).
  Rows are located as `file:line` (CSV) or
  `Sheet!A12` (xlsx), cells in issues as `Sheet!C12`.

Rule id = the row's No (the file position when the row has none).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import socket
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...gcpause import paused
from ...model import IPRange
from ...services import BUILTIN_SERVICES
from .model import (
    ICMP,
    ICMPV6,
    SCTP,
    TCP,
    UDP,
    WHOLE,
    Action,
    AddressSet,
    Assumption,
    Context,
    Issue,
    Match,
    Origin,
    ParsedConfig,
    Rule,
    ServiceSet,
)

FORMAT = "csv"
HEADER_SCAN = 30  # rows searched for the header row (titles and dates often come first)
FIELDS = ("no", "source", "destination", "service", "protocol", "action", "enabled", "comment",
          "src_if", "dst_if")  # fmt: skip
# Most specific first: a table with both 送信元 (a zone label) and 送信元アドレス reads the latter.
DEFAULT_HEADERS: Mapping[str, tuple[str, ...]] = {
    "no": ("No", "No.", "#", "番号", "項番", "通番", "ルール番号", "ルールNo", "ポリシーID", "ID",
           "Rule No", "Rule", "Seq", "Sequence"),
    "source": ("送信元アドレス", "送信元IPアドレス", "送信元IP", "送信元ネットワーク", "送信元",
               "接続元", "Source Address", "Src Address", "Source", "Src"),
    "destination": ("宛先アドレス", "宛先IPアドレス", "宛先IP", "宛先ネットワーク", "宛先",
                    "送信先", "接続先", "Destination Address", "Dst Address", "Destination",
                    "Dst"),
    "service": ("サービス", "宛先ポート", "ポート", "プロトコル/ポート", "Service", "Services",
                "Destination Port", "Port", "Ports"),
    # a protocol column beside a port column gives bare ports their protocol; alone, it is
    # the service column
    "protocol": ("プロトコル", "Protocol"),
    "action": ("動作", "アクション", "許可/拒否", "許可・拒否", "処理", "制御", "Action"),
    "enabled": ("有効", "有効/無効", "有効・無効", "状態", "Enabled", "Enable", "Status", "State"),
    "comment": ("備考", "コメント", "説明", "用途", "目的", "Comment", "Comments", "Description",
                "Remarks", "Note", "Notes"),
    "src_if": ("送信元IF", "送信元I/F", "送信元インターフェース", "送信元インタフェース",
               "送信元ゾーン", "入力IF", "Source Interface", "Source Zone", "From Interface",
               "From Zone", "In Interface", "srcintf"),
    "dst_if": ("宛先IF", "宛先I/F", "宛先インターフェース", "宛先インタフェース", "宛先ゾーン",
               "出力IF", "Destination Interface", "Destination Zone", "To Interface", "To Zone",
               "Out Interface", "dstintf"),
}  # fmt: skip
ANY_WORDS = frozenset({"any", "all", "全て", "すべて", "全部", "*", "any/any", "ip", "ip/any"})
ACCEPT_WORDS = frozenset({"許可", "permit", "allow", "accept", "pass", "○", "◯", "o", "pass-log",
                          "pass-nolog", "restrict", "restrict-log", "restrict-nolog"})  # fmt: skip
DENY_WORDS = frozenset({"拒否", "deny", "drop", "reject", "block", "破棄", "遮断", "×", "✕", "x",
                        "reject-log", "reject-nolog", "discard"})  # fmt: skip
ENABLED_WORDS = frozenset({"有効", "○", "◯", "yes", "y", "true", "1", "on", "enable", "enabled"})
DISABLED_WORDS = frozenset({"無効", "×", "✕", "no", "n", "false", "0", "off", "disable",
                            "disabled"})  # fmt: skip
# Common names beyond segcheck's catalogue (spec §4), as engineers write them in tables.
SERVICE_ALIASES: Mapping[str, tuple[tuple[int, int, int], ...]] = {
    "www": ((TCP, 80, 80),),
    "domain": ((TCP, 53, 53), (UDP, 53, 53)),
    "ftp": ((TCP, 20, 21),),
    "telnet": ((TCP, 23, 23),),
    "pop3": ((TCP, 110, 110),),
    "pop3s": ((TCP, 995, 995),),
    "imap": ((TCP, 143, 143),),
    "imaps": ((TCP, 993, 993),),
    "submission": ((TCP, 587, 587),),
    "smtps": ((TCP, 465, 465),),
    "snmp": ((UDP, 161, 161),),
    "snmptrap": ((UDP, 162, 162),),
    "syslog": ((UDP, 514, 514),),
    "tftp": ((UDP, 69, 69),),
    "ping": ((ICMP, *WHOLE), (ICMPV6, *WHOLE)),
    "icmpv6": ((ICMPV6, *WHOLE),),
    "ipv6-icmp": ((ICMPV6, *WHOLE),),
    "ms-sql": ((TCP, 1433, 1433),),
    "mysql": ((TCP, 3306, 3306),),
    "postgresql": ((TCP, 5432, 5432),),
    "netbios": ((TCP, 139, 139), (UDP, 137, 138)),
    "cifs": ((TCP, 445, 445),),
    "esp": ((50, *WHOLE),),
    "ah": ((51, *WHOLE),),
    "gre": ((47, *WHOLE),),
}
PROTOCOL_WORDS = {"tcp": (TCP,), "udp": (UDP,), "sctp": (SCTP,), "tcp/udp": (TCP, UDP),
                  "udp/tcp": (TCP, UDP), "tcpudp": (TCP, UDP)}  # fmt: skip
ALL_SERVICES = ServiceSet.everything()  # built once: it has 256 protocols
ANY_MATCH = Match(AddressSet.everything(), any=True)
_SPLIT = re.compile(r"[\n\r,、;]+")
_PORTS = r"(\d+)(?:\s*[-~〜]\s*(\d+))?"
_PROTO = r"(tcp/udp|udp/tcp|tcpudp|tcp|udp|sctp)"
_SVC_PROTO_FIRST = re.compile(rf"{_PROTO}\s*[/:_\s]?\s*(?:{_PORTS}|any|all)?")
_SVC_PORT_FIRST = re.compile(rf"{_PORTS}\s*/\s*{_PROTO}")
_SVC_PROTO_NUMBER = re.compile(r"(?:ip|proto|protocol)\s*[/:\s]?\s*(\d+)")
_RANGE = re.compile(r"(.+?)\s*[-~〜]\s*(.+)")


def _norm(text: str) -> str:
    """A header or keyword for comparison: NFKC, no whitespace, casefolded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


# --- decoding ---------------------------------------------------------------------------------


def _line_of(data: bytes, offset: int, unit: bytes = b"\n") -> int:
    return data.count(unit, 0, offset) + 1


def decode_table(data: bytes, file: str) -> tuple[str, str]:
    """The text of a CSV/TSV file and the encoding it was read with (ConfigError when none)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start + 3)
            raise ConfigError(
                file, f"not UTF-8 after its BOM (byte {exc.start + 3})", line
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            # count lines in the decoded part: a UTF-16 newline is two bytes
            head = data[: exc.start].decode("utf-16", errors="replace")
            raise ConfigError(
                file, f"not UTF-16 after its BOM (byte {exc.start})", head.count("\n") + 1
            ) from None
    sample = data[:4096]
    if sample and sample.count(0) * 3 >= len(sample):  # UTF-16 without a BOM
        odd_zeros = sample[1::2].count(0) > sample[0::2].count(0)
        encoding = "utf-16-le" if odd_zeros else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        # the encoding that read further is probably the file's: name its bad byte
        where = max(utf8_error, exc.start)
        raise ConfigError(
            file, f"neither UTF-8 nor CP932 (Shift_JIS as Excel writes it): byte {where}",
            _line_of(data, where),
        ) from None  # fmt: skip


# --- cells --------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _cell_values(cell: str) -> tuple[str, ...]:
    """The values in one cell: NFKC-normalised, split on newlines, commas, 「、」, semicolons."""
    if not cell:
        return ()
    values = (v.strip() for v in _SPLIT.split(unicodedata.normalize("NFKC", cell)))
    return tuple(v for v in values if v and v != "-")  # "-": nothing written (n/a)


def _ip(text: str) -> tuple[int, int] | None:
    for family, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text), "big")
        except (OSError, ValueError):  # ValueError: an embedded NUL
            continue
    return None


def _mask_length(text: str) -> int | None:
    """A prefix length from `24` or a dotted netmask `255.255.255.0` (None when neither)."""
    if text.isdigit():
        return int(text)
    parsed = _ip(text)
    if parsed is None or parsed[0] != 4:
        return None
    mask = parsed[1]
    length = 32 - (((~mask) & 0xFFFFFFFF).bit_length())
    return length if mask == (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF else None


@dataclass(frozen=True, slots=True)
class _Address:
    """One address value: its ranges, or `any`, or a name; plus a warning when it was fixed."""

    ranges: tuple[IPRange, ...] = ()
    any: bool = False
    name: str | None = None
    warning: str | None = None


def _address(value: str, names: Mapping[str, Sequence[IPRange]]) -> _Address:
    if value.casefold() in ANY_WORDS:
        return _Address(any=True)
    if value in names:
        return _Address(tuple(names[value]))
    if "/" in value:
        addr, _, length_text = value.partition("/")
        parsed = _ip(addr.strip())
        length = _mask_length(length_text.strip())
        if parsed is not None and length is not None:
            version, n = parsed
            bits = 32 if version == 4 else 128
            if 0 <= length <= bits:
                size = 1 << (bits - length)
                first = n - n % size
                warning = None
                if first != n:
                    warning = f"{value!r} has host bits set: read as {IPRange(version, first, first + size - 1)}"
                return _Address((IPRange(version, first, first + size - 1),), warning=warning)
    parsed = _ip(value)
    if parsed is not None:
        return _Address((IPRange(parsed[0], parsed[1], parsed[1]),))
    m = _RANGE.fullmatch(value)
    if m is not None:
        lo, hi = _ip(m.group(1)), _ip(m.group(2))
        if lo is not None and hi is None and lo[0] == 4 and m.group(2).isdigit():
            last = int(m.group(2))  # 10.0.0.5-20: the last octet
            if last <= 255:
                hi = (4, (lo[1] & ~0xFF) | last)
        if lo is not None and hi is not None and lo[0] == hi[0] and lo[1] <= hi[1]:
            return _Address((IPRange(lo[0], lo[1], hi[1]),))
    return _Address(name=value)


@dataclass(frozen=True, slots=True)
class _Service:
    items: tuple[tuple[int, int, int], ...] = ()
    any: bool = False
    unresolved: str | None = None
    protocol: tuple[int, ...] | None = None  # the protocol(s) a following bare port takes
    bare: bool = False  # a port without a protocol
    problem: str | None = None


def _ports(lo_text: str, hi_text: str | None) -> tuple[int, int] | None:
    lo = int(lo_text)
    hi = int(hi_text) if hi_text else lo
    return (lo, hi) if 0 <= lo <= hi <= 65535 else None


def _service(value: str) -> _Service:
    key = value.casefold()
    compact = " ".join(key.split())
    if compact in ANY_WORDS:
        return _Service(any=True)
    if compact in BUILTIN_SERVICES:
        svc = BUILTIN_SERVICES[compact]
        items = [(TCP, p, p) for p in svc.tcp] + [(UDP, p, p) for p in svc.udp]
        if svc.icmp:
            items += [(ICMP, *WHOLE), (ICMPV6, *WHOLE)]
        return _Service(tuple(items))
    if compact in SERVICE_ALIASES:
        return _Service(SERVICE_ALIASES[compact])
    m = _SVC_PROTO_FIRST.fullmatch(compact) or None
    if m is not None:
        protos = PROTOCOL_WORDS[m.group(1)]
        if m.group(2) is None:
            return _Service(tuple((p, *WHOLE) for p in protos), protocol=protos)
        ports = _ports(m.group(2), m.group(3))
        if ports is None:
            return _Service(problem=f"port {value!r} out of range 0-65535")
        return _Service(tuple((p, *ports) for p in protos), protocol=protos)
    m = _SVC_PORT_FIRST.fullmatch(compact)
    if m is not None:
        protos = PROTOCOL_WORDS[m.group(3)]
        ports = _ports(m.group(1), m.group(2))
        if ports is None:
            return _Service(problem=f"port {value!r} out of range 0-65535")
        return _Service(tuple((p, *ports) for p in protos), protocol=protos)
    m = _SVC_PROTO_NUMBER.fullmatch(compact)
    if m is not None and int(m.group(1)) <= 255:
        return _Service(((int(m.group(1)), *WHOLE),))
    m = re.fullmatch(_PORTS, compact)
    if m is not None:
        ports = _ports(m.group(1), m.group(2))
        if ports is None:
            return _Service(problem=f"port {value!r} out of range 0-65535")
        return _Service(((TCP, *ports), (UDP, *ports)), bare=True)
    return _Service(unresolved=value)


# --- reading rows -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of a sheet or CSV: its cells and where it is."""

    cells: tuple[str, ...]
    line: int | None  # CSV line where the record starts
    row: int | None  # xlsx row number


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _headers(
    header_map: Mapping[str, str | Sequence[str]] | None, file: str
) -> dict[str, list[str]]:
    """field → normalised header names, the user's first."""
    merged: dict[str, list[str]] = {
        f: [_norm(h) for h in DEFAULT_HEADERS.get(f, ())] for f in FIELDS
    }
    for field, names in (header_map or {}).items():
        if field not in FIELDS:
            raise ConfigError(
                file, f"header map: unknown field {field!r} (fields: {', '.join(FIELDS)})"
            )
        given = [names] if isinstance(names, str) else list(names)
        merged[field] = [_norm(n) for n in given] + merged[field]
    return merged


def _find_columns(cells: Sequence[str], headers: Mapping[str, list[str]]) -> dict[str, int]:
    """field → column index for a candidate header row (the most specific name wins)."""
    best: dict[str, tuple[int, int]] = {}
    for col, cell in enumerate(cells):
        name = _norm(cell)
        if not name:
            continue
        for field, names in headers.items():
            if name in names:
                rank = names.index(name)
                if field not in best or rank < best[field][0]:
                    best[field] = (rank, col)
    return {field: col for field, (_, col) in best.items()}


def _header_row(
    rows: Sequence[_Row], headers: Mapping[str, list[str]]
) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SCAN]):
        columns = _find_columns(row.cells, headers)
        if "source" in columns and "destination" in columns:
            return index, columns
    return None


class _Table:
    """Turns the rows of one sheet (or CSV) into one context."""

    def __init__(
        self,
        file: str,
        name: str,
        sheet: str | None,
        names: Mapping[str, Sequence[IPRange]],
        issues: list[Issue],
    ) -> None:
        self.file = file
        self.name = name
        self.sheet = sheet
        self.names = names
        self.issues = issues
        self.addr_cache: dict[str, _Address] = {}
        self.header_cells: tuple[str, ...] = ()
        self.svc_cache: dict[str, _Service] = {}

    def where(self, row: _Row, col: int | None = None) -> Origin:
        if self.sheet is not None:
            return Origin(self.file, None, f"{self.sheet}!{_column_letter(col or 0)}{row.row}")
        return Origin(self.file, row.line)

    def header(self, col: int) -> str:
        """The column's header as the table writes it (for messages)."""
        text = self.header_cells[col].strip() if col < len(self.header_cells) else ""
        return " ".join(text.split()) or f"column {_column_letter(col)}"

    def issue(self, kind: str, message: str, row: _Row, col: int | None = None) -> None:
        self.issues.append(Issue(kind, message, self.where(row, col)))

    def context(self, rows: Sequence[_Row], header: int, columns: dict[str, int]) -> Context:
        if "service" not in columns and "protocol" in columns:
            columns["service"] = columns.pop("protocol")
        self.header_cells = rows[header].cells
        header_key = [_norm(c) for c in self.header_cells]
        probe = columns["source"]
        if "action" not in columns:
            self.issue(
                "warning",
                "no action column (動作): every row is taken as an allow (a permit list)",
                rows[header],
            )
        rules: list[Rule] = []
        seen: dict[str, Origin] = {}
        for row in rows[header + 1 :]:
            if (
                probe < len(row.cells)
                and _norm(row.cells[probe]) == header_key[probe]
                and [_norm(c) for c in row.cells[: len(header_key)]] == header_key
            ):
                continue  # the header repeated (a page break in a printed table)
            rule = self.rule(row, columns)
            if rule is None:
                continue
            if rule.id in seen:
                self.issue(
                    "warning", f"No {rule.id} repeats the rule at {seen[rule.id]}", row,
                    columns.get("no"),
                )  # fmt: skip
            seen.setdefault(rule.id, rule.origin)
            rules.append(rule)
        return Context(self.name, (), (), tuple(rules), default_action=Action.DENY)

    def cell(self, row: _Row, columns: Mapping[str, int], field: str) -> str:
        col = columns.get(field)
        if col is None or col >= len(row.cells):
            return ""
        return row.cells[col].strip()

    def rule(self, row: _Row, columns: Mapping[str, int]) -> Rule | None:
        cell = {f: self.cell(row, columns, f) for f in columns}
        if not any(cell.get(f) for f in ("source", "destination", "service", "action")):
            return None  # a title, a section row, a note under the table
        no_col = columns.get("no")
        rid = _number_text(cell.get("no", ""))
        if not rid:
            rid = f"{self.sheet}!{row.row}" if self.sheet is not None else f"line {row.line}"
            self.issue("warning", f"row without a No: its id is {rid!r}", row, no_col)
        label = f"No {rid}"
        origin = self.where(row, no_col)
        widened = False
        undefined = False

        # action
        accept = True
        if "action" in columns:
            word = _norm(cell["action"])
            if word in ACCEPT_WORDS:
                accept = True
            elif word in DENY_WORDS:
                accept = False
            else:
                shown = cell["action"] or "(empty)"
                self.issue(
                    "unrecognised",
                    f"{label}: action {shown!r} not understood: taken as an allow "
                    "(never hides a path)",
                    row,
                    columns["action"],
                )
                widened = True
        # enabled
        enabled = True
        if "enabled" in columns and cell["enabled"]:
            word = _norm(cell["enabled"])
            if word in DISABLED_WORDS:
                enabled = False
            elif word not in ENABLED_WORDS:
                # an allow is kept enabled, a deny left out: either way no path is hidden
                enabled = accept
                self.issue(
                    "unrecognised",
                    f"{label}: enabled value {cell['enabled']!r} not understood: "
                    f"taken as {'enabled' if accept else 'disabled'}",
                    row,
                    columns["enabled"],
                )

        # addresses
        sides: list[Match] = []
        for field in ("source", "destination"):
            match, problem = self.addresses(cell[field], label, row, columns[field])
            if problem:
                if not accept:
                    self.issue(
                        "unrecognised", f"{label}: {problem}; the deny is ignored", row,
                        columns[field],
                    )  # fmt: skip
                    return None
                self.issue(
                    "unrecognised", f"{label}: {problem}; the allow is widened to any", row,
                    columns[field],
                )  # fmt: skip
                widened = True
            undefined = undefined or bool(match.unresolved)
            sides.append(match)

        # services
        services, unresolved, problem = self.services(
            cell.get("service", ""), cell.get("protocol", ""), accept, label, row,
            columns.get("service"),
        )  # fmt: skip
        if problem:
            if not accept:
                self.issue(
                    "unrecognised", f"{label}: {problem}; the deny is ignored", row,
                    columns.get("service"),
                )  # fmt: skip
                return None
            self.issue(
                "unrecognised", f"{label}: {problem}; the allow is widened to any service", row,
                columns.get("service"),
            )  # fmt: skip
            services, widened = ALL_SERVICES, True

        from_zones = self.zones(cell.get("src_if", ""))
        to_zones = self.zones(cell.get("dst_if", ""))
        if not accept and (from_zones or to_zones):
            # A table names interfaces but not the addresses behind them: a deny limited to
            # some interfaces cannot be placed, and read as a deny of everything it would
            # hide every later path.
            self.issue(
                "warning",
                f"{label}: deny limited to interfaces ({', '.join((*from_zones, *to_zones))}) "
                "whose addresses the table does not give; ignored (never hides a path)",
                row, columns.get("src_if", columns.get("dst_if")),
            )  # fmt: skip
            return None
        assumptions: list[Assumption] = []
        if widened:
            assumptions.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
        if undefined:
            assumptions.append(Assumption.UNDEFINED_OBJECT)
        return Rule(
            id=rid,
            action=Action.ACCEPT if accept else Action.DENY,
            source=sides[0],
            destination=sides[1],
            services=services,
            origin=origin,
            from_zones=from_zones,
            to_zones=to_zones,
            enabled=enabled,
            name=cell.get("comment") or None,
            assumptions=tuple(assumptions),
            service_unresolved=unresolved,
        )

    def service_of(self, value: str) -> _Service:
        parsed = self.svc_cache.get(value)
        if parsed is None:
            parsed = self.svc_cache[value] = _service(value)
        return parsed

    @staticmethod
    def zones(text: str) -> tuple[str, ...]:
        values = _cell_values(text)
        if any(v.casefold() in ANY_WORDS for v in values):
            return ()
        return tuple(dict.fromkeys(values))

    def addresses(self, text: str, label: str, row: _Row, col: int) -> tuple[Match, str | None]:
        """The cell as a Match, and what made it unusable (an empty cell)."""
        values = _cell_values(text)
        if not values:
            return ANY_MATCH, f"{self.header(col)} cell is empty"
        ranges: list[IPRange] = []
        unresolved: list[str] = []
        anything = False
        for value in values:
            parsed = self.addr_cache.get(value)
            if parsed is None:
                parsed = self.addr_cache[value] = _address(value, self.names)
            if parsed.warning:
                self.issue("warning", f"{label}: {parsed.warning}", row, col)
            if parsed.any:
                anything = True
            elif parsed.name is not None:
                unresolved.append(parsed.name)
            else:
                ranges.extend(parsed.ranges)
        if anything:
            return ANY_MATCH, None
        for name in dict.fromkeys(unresolved):
            self.issue(
                "undefined",
                f"{label}: {name!r} is not an address: a name the table does not define "
                "(unresolved: an allow matches everything behind its interface, a deny nothing)",
                row,
                col,
            )
        return Match(AddressSet.of(ranges), unresolved=tuple(dict.fromkeys(unresolved))), None

    def services(
        self, text: str, proto_text: str, accept: bool, label: str, row: _Row, col: int | None
    ) -> tuple[ServiceSet, tuple[str, ...], str | None]:
        """(services, unresolved names, what made the cell unusable)."""
        if col is None:
            return ALL_SERVICES, (), None  # no service column: any service
        values = _cell_values(text)
        protocol: tuple[int, ...] | None = None
        if proto_text:
            # a separate protocol column: `TCP` + `443`; with no port written, the protocol
            protos = [self.service_of(v) for v in _cell_values(proto_text)]
            if not values:
                values = _cell_values(proto_text)
            else:
                found = [p for v in protos if v.protocol for p in v.protocol]
                protocol = tuple(dict.fromkeys(found)) or None
        if not values:
            return ALL_SERVICES, (), f"{self.header(col)} cell is empty"
        items: list[tuple[int, int, int]] = []
        unresolved: list[str] = []
        for value in values:
            parsed = self.service_of(value)
            if parsed.any:
                return ALL_SERVICES, (), None
            if parsed.problem:
                return ServiceSet(), (), parsed.problem
            if parsed.unresolved is not None:
                unresolved.append(parsed.unresolved)
                continue
            if parsed.bare:
                if protocol is not None:
                    # `tcp/80, 443`: the port takes the protocol written before it
                    lo, hi = parsed.items[0][1:]
                    items.extend((p, lo, hi) for p in protocol)
                    continue
                if not accept:
                    self.issue(
                        "warning",
                        f"{label}: port {value!r} without a protocol is not used in a deny",
                        row, col,
                    )  # fmt: skip
                    continue
                self.issue(
                    "warning", f"{label}: port {value!r} without a protocol: TCP and UDP", row, col
                )
            elif parsed.protocol is not None:
                protocol = parsed.protocol
            items.extend(parsed.items)
        for name in dict.fromkeys(unresolved):
            self.issue(
                "undefined",
                f"{label}: service {name!r} is not in the catalogue "
                "(an allow takes any service, a deny only the services it names)",
                row,
                col,
            )
        return ServiceSet.of(items), tuple(dict.fromkeys(unresolved)), None


def _number_text(text: str) -> str:
    """A No as written, with Excel's float form undone (`12.0` → `12`)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\d+\.0+", text):
        return text.split(".")[0]
    return text


# --- sources ------------------------------------------------------------------------------------


def _csv_rows(text: str, delimiter: str, file: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    start = 1
    try:
        for cells in reader:
            rows.append(_Row(tuple(cells), start, None))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ConfigError(file, f"not a readable CSV row: {exc}", start) from None
    return rows


def _xlsx_cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _xlsx_sheets(data: bytes, file: str) -> Iterator[tuple[str, list[_Row]]]:
    """(sheet title, rows) of a workbook; openpyxl is imported here only, when needed."""
    try:
        import openpyxl  # the optional extra `segcheck[xlsx]`
    except ImportError:
        raise ConfigError(
            file, "reading .xlsx needs openpyxl: pip install 'segcheck[xlsx]' (or save as CSV)"
        ) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is unreadable
        raise ConfigError(file, f"not a readable .xlsx workbook: {exc}") from None
    for sheet in workbook.worksheets:
        grid = [
            [_xlsx_cell_text(v) for v in values]
            for values in sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        ]
        # a merged block gives its value to every cell it covers (rules grouped under one
        # source or destination are written that way)
        for block in sheet.merged_cells.ranges:
            value = grid[block.min_row - 1][block.min_col - 1] if block.min_row <= len(grid) else ""
            for r in range(block.min_row, min(block.max_row, len(grid)) + 1):
                row = grid[r - 1]
                if len(row) < block.max_col:
                    row.extend([""] * (block.max_col - len(row)))
                for c in range(block.min_col, block.max_col + 1):
                    row[c - 1] = value
        yield sheet.title, [_Row(tuple(cells), None, i) for i, cells in enumerate(grid, 1)]


def _is_xlsx(path: Path, data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04") or path.suffix.casefold() in (".xlsx", ".xlsm")


def parse_table(
    path: Path,
    text_or_bytes: str | bytes,
    *,
    display_name: str,
    header_map: Mapping[str, str | Sequence[str]] | None = None,
    names: Mapping[str, Iterable[IPRange]] | None = None,
    sheet: str | None = None,
) -> ParsedConfig:
    """Import a policy table (CSV, TSV or .xlsx); one context per table.

    `header_map` maps fields (no, source, destination, service, action, enabled, comment,
    src_if, dst_if) to the header text(s) the table uses; `names` resolves address names;
    `sheet` picks one sheet of a workbook.
    """
    # many small acyclic objects: the cyclic collector's passes would cost about 40 % and
    # find nothing
    with paused():
        return _parse(path, text_or_bytes, display_name, header_map, names, sheet)


def _parse(
    path: Path,
    text_or_bytes: str | bytes,
    display_name: str,
    header_map: Mapping[str, str | Sequence[str]] | None,
    names: Mapping[str, Iterable[IPRange]] | None,
    sheet: str | None,
) -> ParsedConfig:
    file = display_name
    headers = _headers(header_map, file)
    resolved = {k: tuple(v) for k, v in (names or {}).items()}
    issues: list[Issue] = []
    contexts: list[Context] = []
    if isinstance(text_or_bytes, str):
        data = text_or_bytes.encode("utf-8")
    else:
        data = text_or_bytes
    if not data.strip():
        raise ConfigError(file, "empty file: no policy table", 1)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: Excel 97-2003 .xls
        raise ConfigError(file, "an Excel 97-2003 .xls workbook: save it as .xlsx or CSV")
    if isinstance(text_or_bytes, bytes) and _is_xlsx(path, data):
        found_sheets = []
        for title, rows in _xlsx_sheets(data, file):
            found_sheets.append(title)
            if sheet is not None and title != sheet:
                continue
            found = _header_row(rows, headers)
            if found is None:
                issues.append(
                    Issue(
                        "warning",
                        f"sheet {title!r}: no header row naming 送信元 and 宛先 in its first "
                        f"{HEADER_SCAN} rows; skipped",
                        Origin(file, None, f"{title}!A1"),
                    )
                )
                continue
            table = _Table(file, title, title, resolved, issues)
            contexts.append(table.context(rows, *found))
        if sheet is not None and sheet not in found_sheets:
            raise ConfigError(
                file, f"no sheet {sheet!r} (sheets: {', '.join(found_sheets) or 'none'})"
            )
        if not contexts:
            raise ConfigError(
                file, "no sheet holds a policy table (a header row naming 送信元 and 宛先)"
            )
    else:
        text = text_or_bytes if isinstance(text_or_bytes, str) else decode_table(data, file)[0]
        nul = text.find("\x00")
        if nul >= 0:
            raise ConfigError(
                file, "contains a NUL character: not a text table (a binary file?)",
                text.count("\n", 0, nul) + 1,
            )  # fmt: skip
        best: tuple[int, list[_Row], int, dict[str, int]] | None = None
        for delimiter in (",", "\t"):
            rows = _csv_rows(text, delimiter, file)
            found = _header_row(rows, headers)
            if found is not None and (best is None or len(found[1]) > best[0]):
                best = (len(found[1]), rows, *found)
        if best is None:
            raise ConfigError(
                file,
                f"no header row naming 送信元 and 宛先 (or Source and Destination) in the first "
                f"{HEADER_SCAN} rows; map your headers with a header map",
                1,
            )
        _, rows, header, columns = best
        table = _Table(file, Path(file).stem or file, None, resolved, issues)
        contexts.append(table.context(rows, header, columns))
    sha = hashlib.sha256(data).hexdigest()
    return ParsedConfig(file, FORMAT, sha, tuple(contexts), tuple(issues))


# Shared with the IP address ledger import (segcheck/loaders/ledger.py): the same encoding
# ladder, CSV rows with their lines and .xlsx sheets, so both tables read files alike.
Row = _Row
csv_rows = _csv_rows
xlsx_sheets = _xlsx_sheets
is_xlsx = _is_xlsx
column_letter = _column_letter
normalise = _norm
