"""Policy tables (「FWポリシー表」, format `csv`): what each column, cell form and encoding imports to.

The tables are written here as text and encoded the way Excel and editors save them (UTF-8 with
and without BOM, CP932, UTF-16 tab-separated); the .xlsx ones are built with openpyxl.
"""

from __future__ import annotations

import codecs
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from segcheck.addressing import parse_cidr, parse_ip
from segcheck.errors import ConfigError
from segcheck.loaders.configs.model import (
    ICMP,
    ICMPV6,
    SCTP,
    TCP,
    UDP,
    WHOLE,
    Action,
    AddressSet,
    Assumption,
    ImportStatus,
    Match,
    ParsedConfig,
    Rule,
    ServiceSet,
)
from segcheck.loaders.configs.table import decode_table, parse_table
from segcheck.model import IPRange

# --- helpers --------------------------------------------------------------------------------


def A(*texts: str) -> AddressSet:
    ranges = []
    for text in texts:
        if "-" in text:
            lo, hi = (parse_ip(t) for t in text.split("-"))
            ranges.append(IPRange(lo.version, lo.value, hi.value))
        else:
            ranges.append(parse_cidr(text))
    return AddressSet.of(ranges)


ANY = Match(AddressSet.everything(), any=True)
ALL = ServiceSet.everything()


def M(*texts: str) -> Match:
    return Match(A(*texts))


def tcp(*ports: int | tuple[int, int]) -> ServiceSet:
    return ServiceSet.of((TCP, *(p if isinstance(p, tuple) else (p, p))) for p in ports)


def udp(*ports: int | tuple[int, int]) -> ServiceSet:
    return ServiceSet.of((UDP, *(p if isinstance(p, tuple) else (p, p))) for p in ports)


def parse(text: str, name: str = "policy.csv", **kwargs: Any) -> ParsedConfig:
    return parse_table(Path(name), text.encode("utf-8"), display_name=name, **kwargs)


def rules(parsed: ParsedConfig) -> tuple[Rule, ...]:
    (context,) = parsed.contexts
    return context.rules


def by_id(parsed: ParsedConfig) -> dict[str, Rule]:
    return {r.id: r for r in rules(parsed)}


def issues(parsed: ParsedConfig) -> list[tuple[str, str, str]]:
    return [(i.kind, str(i.origin), i.message) for i in parsed.issues]


HEAD = "No,送信元,宛先,サービス,動作,有効,備考\n"

# A table as engineers keep it: title and date rows, a section row, a repeated header after a
# page break, a note under the table, Japanese text in every column.
TABLE = (
    "FWポリシー表（境界FW ①）,,,,,,\n"
    "作成日,2026/11/01,,,,,\n"
    "\n" + HEAD + "【LGWAN接続系 → インターネット接続系】,,,,,,\n"
    '1,10.2.0.0/16,10.3.10.11,"tcp/3389\ntcp/1494",許可,○,画面転送（㈱ベンダ）\n'
    '2,"10.2.10.11、10.2.10.12",192.0.2.10,"443/tcp, TCP 8080-8081",許可,有効,\n'
    "3,any,10.2.20.25,smtp,拒否,×,廃止予定\n" + HEAD + "4,10.3.0.5-20,全て,udp/53,許可,,\n"
    "※上記以外は全て拒否,,,,,,\n"
)

TABLE_RULES = [
    # id, action, enabled, source, destination, services, name, line
    ("1", Action.ACCEPT, True, M("10.2.0.0/16"), M("10.3.10.11"), tcp(1494, 3389),
     "画面転送（㈱ベンダ）", 6),
    ("2", Action.ACCEPT, True, M("10.2.10.11", "10.2.10.12"), M("192.0.2.10"),
     tcp(443, (8080, 8081)), None, 8),
    ("3", Action.DENY, False, ANY, M("10.2.20.25"), tcp(25, 465, 587), "廃止予定", 9),
    ("4", Action.ACCEPT, True, M("10.3.0.5-10.3.0.20"), ANY, udp(53), None, 11),
]  # fmt: skip


def table_summary(parsed: ParsedConfig) -> list[tuple[Any, ...]]:
    return [
        (r.id, r.action, r.enabled, r.source, r.destination, r.services, r.name, r.origin.line)
        for r in rules(parsed)
    ]


# --- the table as a whole -----------------------------------------------------------------------


def test_table_rules_in_row_order() -> None:
    parsed = parse(TABLE, name="configs/境界FW.csv")
    assert parsed.format == "csv" and parsed.status is ImportStatus.PASSED
    (context,) = parsed.contexts
    assert context.name == "境界FW"  # the file stem
    assert context.default_action is Action.DENY
    assert context.interfaces == () and context.routes == ()
    assert table_summary(parsed) == TABLE_RULES
    assert all(r.from_zones == () and r.to_zones == () for r in context.rules)
    assert parsed.issues == ()
    assert str(context.rules[1].origin) == "configs/境界FW.csv:8"


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "cp932-crlf": lambda t: t.replace("\n", "\r\n").encode("cp932"),
    # Excel's 「Unicode テキスト」: UTF-16 LE with BOM, tab-separated, CRLF
    "utf-16le-tsv": lambda t: _tsv(t).replace("\n", "\r\n").encode("utf-16"),
    "utf-16be-tsv": lambda t: codecs.BOM_UTF16_BE + _tsv(t).encode("utf-16-be"),
    "utf-16le-nobom-tsv": lambda t: _tsv(t).encode("utf-16-le"),
    "utf-8-tsv": lambda t: _tsv(t).encode("utf-8"),
}


def _tsv(text: str) -> str:
    """The CSV table as tab-separated text (quoted cells stay quoted; commas inside them too)."""
    out = io.StringIO()
    import csv

    for row in csv.reader(io.StringIO(text, newline="")):
        csv.writer(out, delimiter="\t", lineterminator="\n").writerow(row)
    return out.getvalue()


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_encodings_and_delimiters(encoding: str) -> None:
    data = ENCODINGS[encoding](TABLE)
    parsed = parse_table(Path("p.csv"), data, display_name="p.csv")
    assert table_summary(parsed) == TABLE_RULES, encoding
    assert parsed.issues == ()


def test_cp932_not_shift_jis() -> None:
    """①, ㈱ and other NEC/IBM extensions exist in CP932 (what Excel writes), not in shift_jis."""
    data = TABLE.encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("shift_jis")
    text, encoding = decode_table(data, "p.csv")
    assert encoding == "cp932" and "①" in text and "㈱" in text


@pytest.mark.parametrize(
    ("data", "line", "text"),
    [
        # valid UTF-8 up to line 3, then a byte that is neither UTF-8 nor CP932
        ((HEAD + "1,10.0.0.1,10.0.0.2,any,許可,,\n").encode() + b"2,\xff\xff,x,any,x,,\n", 3,
         "neither UTF-8 nor CP932"),
        (codecs.BOM_UTF8 + HEAD.encode() + b"\n\x80\n", 3, "not UTF-8 after its BOM"),
        (b"", 1, "empty file"),
        (b"   \r\n", 1, "empty file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, None, "Excel 97-2003 .xls"),
        (b"a,b,c\n1,2,3\n", 1, "no header row naming 送信元 and 宛先"),
        ((HEAD + "1,10.0.0.1,\x00,any,許可,,\n").encode(), 2, "contains a NUL character"),
        ((HEAD + '1,"' + "a" * 200000 + '",x,any,許可,,\n').encode(), 2, "not a readable CSV row"),
    ],
)  # fmt: skip
def test_bad_input_is_one_config_error(data: bytes, line: int | None, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_table(Path("t.csv"), data, display_name="dir/t.csv")
    assert info.value.path == "dir/t.csv"
    assert info.value.line == line
    assert text in info.value.detail


def test_line_numbers_count_multiline_cells() -> None:
    text = (
        HEAD
        + '1,"10.0.0.1\n10.0.0.2\n10.0.0.3",10.1.0.1,any,許可,,\n2,10.0.0.9,10.1.0.1,any,許可,,\n'
    )
    got = [(r.id, r.origin.line) for r in rules(parse(text))]
    assert got == [("1", 2), ("2", 5)]


# --- headers ------------------------------------------------------------------------------------


def test_english_headers_and_variants() -> None:
    english = "No,Source,Destination,Service,Action,Enabled,Comment\n1,10.0.0.1,10.0.0.2,https,permit,yes,web\n"
    variants = (
        "ＮＯ,送信元アドレス,宛先 アドレス,ポート,許可／拒否,有効/無効,用途\n"
        "1,10.0.0.1,10.0.0.2,https,許可,有効,web\n"
    )
    for text in (english, variants):
        (rule,) = rules(parse(text))
        assert (rule.id, rule.action, rule.source, rule.destination, rule.services, rule.name) == (
            "1",
            Action.ACCEPT,
            M("10.0.0.1"),
            M("10.0.0.2"),
            tcp(443),
            "web",
        )


def test_most_specific_header_wins() -> None:
    text = "No,送信元,送信元アドレス,宛先,宛先アドレス,サービス,動作\n1,LGWAN系,10.2.0.0/16,ネット系,10.3.0.0/16,any,許可\n"
    (rule,) = rules(parse(text))
    assert (rule.source, rule.destination) == (M("10.2.0.0/16"), M("10.3.0.0/16"))


def test_user_header_map() -> None:
    text = "ルールID,From,To,Svc,Verdict,メモ\nR-1,10.0.0.1,10.0.0.2,ssh,deny,x\n"
    with pytest.raises(ConfigError, match="no header row"):
        parse(text)
    header_map = {
        "no": "ルールID",
        "source": "From",
        "destination": ["To", "宛"],
        "service": "Svc",
        "action": "verdict",  # compared without case
        "comment": "メモ",
    }
    (rule,) = rules(parse(text, header_map=header_map))
    assert (rule.id, rule.action, rule.services, rule.name) == ("R-1", Action.DENY, tcp(22), "x")
    with pytest.raises(ConfigError, match="header map: unknown field 'src'"):
        parse(text, header_map={"src": "From"})


def test_interface_columns_become_zones() -> None:
    text = (
        "No,送信元IF,送信元,宛先IF,宛先,サービス,動作\n"
        '1,lan1,10.0.0.1,"wan1\nwan2",10.9.0.1,any,許可\n'
        "2,any,10.0.0.1,,10.9.0.1,any,許可\n"
        "3,dmz1,10.0.0.1,,10.9.0.1,any,拒否\n"
        "4,,10.0.0.1,,10.9.0.1,any,拒否\n"
    )
    parsed = parse(text)
    r1, r2, r4 = rules(parsed)
    assert (r1.from_zones, r1.to_zones) == (("lan1",), ("wan1", "wan2"))
    assert (r2.from_zones, r2.to_zones) == ((), ())
    # a deny limited to an interface cannot be placed (no addresses behind it): ignored
    assert (r4.id, r4.action, r4.from_zones) == ("4", Action.DENY, ())
    assert issues(parsed) == [
        (
            "warning",
            "policy.csv:5",  # row 1's interface cell spans two lines
            "No 3: deny limited to interfaces (dmz1) whose addresses the table does not give; "
            "ignored (never hides a path)",
        )
    ]


def test_permit_list_without_action_column() -> None:
    parsed = parse("No,送信元,宛先,サービス\n1,10.0.0.1,10.0.0.2,https\n")
    (rule,) = rules(parsed)
    assert rule.action is Action.ACCEPT and rule.assumptions == ()
    assert issues(parsed) == [
        (
            "warning",
            "policy.csv:1",
            "no action column (動作): every row is taken as an allow (a permit list)",
        )
    ]


def test_protocol_and_port_columns() -> None:
    text = (
        "No,送信元,宛先,プロトコル,宛先ポート,動作\n"
        '1,10.0.0.1,10.0.0.2,TCP,"443, 8443",許可\n'
        "2,10.0.0.1,10.0.0.2,ICMP,-,許可\n"
        "3,10.0.0.1,10.0.0.2,TCP/UDP,53,許可\n"
    )
    got = [r.services for r in rules(parse(text))]
    icmp = ServiceSet.of([(ICMP, *WHOLE), (ICMPV6, *WHOLE)])
    assert got == [tcp(443, 8443), icmp, tcp(53).union(udp(53))]
    # a protocol column alone is the service column
    (rule,) = rules(parse("No,送信元,宛先,プロトコル,動作\n1,10.0.0.1,10.0.0.2,tcp/22,許可\n"))
    assert rule.services == tcp(22)


def test_rows_without_no_and_repeated_no() -> None:
    parsed = parse(
        HEAD
        + ",10.0.0.1,10.0.0.2,any,許可,,\n5,10.0.0.1,10.0.0.3,any,許可,,\n5.0,10.0.0.1,10.0.0.4,any,許可,,\n"
    )
    assert [r.id for r in rules(parsed)] == ["line 2", "5", "5"]
    assert [(k, where) for k, where, _ in issues(parsed)] == [
        ("warning", "policy.csv:2"),
        ("warning", "policy.csv:4"),
    ]
    assert "repeats the rule at policy.csv:3" in parsed.issues[1].message


# --- cells ------------------------------------------------------------------------------------


def test_address_forms() -> None:
    cases = {
        "10.0.0.0/24": M("10.0.0.0/24"),
        "10.0.0.0/255.255.255.0": M("10.0.0.0/24"),
        "10.0.0.5": M("10.0.0.5"),
        "10.0.0.5-10.0.0.9": M("10.0.0.5-10.0.0.9"),
        "10.0.0.5~10.0.0.9": M("10.0.0.5-10.0.0.9"),
        "10.0.0.5〜10.0.0.9": M("10.0.0.5-10.0.0.9"),
        "10.0.0.5 - 9": M("10.0.0.5-10.0.0.9"),
        "１０．０．０．５": M("10.0.0.5"),  # full-width digits, as typed in Japanese input
        "2001:db8::/32": M("2001:db8::/32"),
        '"10.0.0.1\n10.0.0.2, 10.0.0.3、10.0.0.4;10.0.0.5"': M("10.0.0.1-10.0.0.5"),
        "any": ANY,
        "ANY": ANY,
        "全て": ANY,
        "すべて": ANY,
        '"10.0.0.1, any"': ANY,
    }
    rows = [f"{i},{cell},10.9.9.9,any,許可,," for i, cell in enumerate(cases, 1)]
    parsed = parse(HEAD + "\n".join(rows) + "\n")
    assert [r.source for r in rules(parsed)] == list(cases.values())
    assert parsed.issues == ()


def test_names_unresolved_or_resolved() -> None:
    text = HEAD + '1,LGWAN端末,10.0.0.1,any,許可,,\n2,"LGWAN端末, 10.9.0.1",10.0.0.1,any,拒否,,\n'
    parsed = parse(text)
    r1, r2 = rules(parsed)
    assert r1.source == Match(AddressSet(), unresolved=("LGWAN端末",))
    assert r1.assumptions == (Assumption.UNDEFINED_OBJECT,)
    assert r2.source == Match(A("10.9.0.1"), unresolved=("LGWAN端末",))
    assert [(k, w) for k, w, _ in issues(parsed)] == [
        ("undefined", "policy.csv:2"),
        ("undefined", "policy.csv:3"),
    ]
    resolved = parse(text, names={"LGWAN端末": [parse_cidr("10.2.10.0/24")]})
    assert rules(resolved)[0].source == M("10.2.10.0/24") and resolved.issues == ()


def test_host_bits_are_masked_with_a_warning() -> None:
    parsed = parse(HEAD + "1,10.1.2.3/24,10.0.0.1,any,許可,,\n")
    assert rules(parsed)[0].source == M("10.1.2.0/24")
    assert issues(parsed) == [
        ("warning", "policy.csv:2", "No 1: '10.1.2.3/24' has host bits set: read as 10.1.2.0/24")
    ]


def test_service_forms() -> None:
    cases = {
        "tcp/443": tcp(443),
        "443/tcp": tcp(443),
        "TCP 80-90": tcp((80, 90)),
        "TCP:80～90": tcp((80, 90)),
        "udp/53": udp(53),
        "UDP": ServiceSet.of([(UDP, *WHOLE)]),
        "tcp/any": ServiceSet.of([(TCP, *WHOLE)]),
        "sctp/2905": ServiceSet.of([(SCTP, 2905, 2905)]),
        "https": tcp(443),
        "HTTPS": tcp(443),
        "dns": tcp(53).union(udp(53)),
        "rdp": tcp(3389).union(udp(3389)),
        "www": tcp(80),
        "icmp": ServiceSet.of([(ICMP, *WHOLE), (ICMPV6, *WHOLE)]),
        "proto 50": ServiceSet.of([(50, *WHOLE)]),
        "esp": ServiceSet.of([(50, *WHOLE)]),
        "any": ALL,
        "ANY": ALL,
        "全て": ALL,
        '"tcp/80, 443"': tcp(80, 443),  # the bare port takes the protocol before it
        '"tcp/80\nudp/53、ssh"': tcp(22, 80).union(udp(53)),
        '"ssh, any"': ALL,
    }
    rows = [f"{i},10.0.0.1,10.0.0.2,{cell},許可,," for i, cell in enumerate(cases, 1)]
    parsed = parse(HEAD + "\n".join(rows) + "\n")
    assert [r.services for r in rules(parsed)] == list(cases.values())
    assert parsed.issues == ()


def test_service_problems() -> None:
    text = HEAD + (
        "1,10.0.0.1,10.0.0.2,8080,許可,,\n"  # bare port: TCP and UDP in an allow
        '2,10.0.0.1,10.0.0.2,"8080, tcp/22",拒否,,\n'  # ... not used in a deny
        '3,10.0.0.1,10.0.0.2,"smtp, kaisha-app",許可,,\n'  # unknown name: unresolved
        "4,10.0.0.1,10.0.0.2,kaisha-app,拒否,,\n"
        "5,10.0.0.1,10.0.0.2,tcp/70000,許可,,\n"  # out of range: widened allow
        "6,10.0.0.1,10.0.0.2,tcp/70000,拒否,,\n"  # ... ignored deny
        "7,10.0.0.1,10.0.0.2,,許可,,\n"  # empty: widened allow
    )
    parsed = parse(text)
    got = {r.id: (r.services, r.service_unresolved, r.assumptions) for r in rules(parsed)}
    widened = (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    assert got == {
        "1": (tcp(8080).union(udp(8080)), (), ()),
        "2": (tcp(22), (), ()),
        "3": (tcp(25, 465, 587), ("kaisha-app",), ()),
        "4": (ServiceSet(), ("kaisha-app",), ()),
        "5": (ALL, (), widened),
        "7": (ALL, (), widened),
    }
    assert [(k, w) for k, w, _ in issues(parsed)] == [
        ("warning", "policy.csv:2"),
        ("warning", "policy.csv:3"),
        ("undefined", "policy.csv:4"),
        ("undefined", "policy.csv:5"),
        ("unrecognised", "policy.csv:6"),
        ("unrecognised", "policy.csv:7"),
        ("unrecognised", "policy.csv:8"),
    ]
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED
    assert "the deny is ignored" in parsed.issues[5].message
    assert (
        parsed.issues[6].message
        == "No 7: サービス cell is empty; the allow is widened to any service"
    )


def test_actions_and_enabled() -> None:
    accept = ["許可", "permit", "Allow", "ACCEPT", "pass", "pass-log", "○"]
    deny = ["拒否", "deny", "Drop", "reject", "reject-nolog", "破棄", "×"]
    rows = [f"{i},10.0.0.1,10.0.0.2,any,{word},," for i, word in enumerate(accept + deny, 1)]
    got = [r.action for r in rules(parse(HEAD + "\n".join(rows) + "\n"))]
    assert got == [Action.ACCEPT] * len(accept) + [Action.DENY] * len(deny)

    on = ["有効", "○", "yes", "TRUE", "1", ""]
    off = ["無効", "×", "no", "FALSE", "0", "off"]
    rows = [f"{i},10.0.0.1,10.0.0.2,any,許可,{word}," for i, word in enumerate(on + off, 1)]
    got_enabled = [r.enabled for r in rules(parse(HEAD + "\n".join(rows) + "\n"))]
    assert got_enabled == [True] * len(on) + [False] * len(off)


def test_unknown_action_or_enabled_never_hides_a_path() -> None:
    text = HEAD + (
        "1,10.0.0.1,10.0.0.2,any,要確認,,\n"
        "2,10.0.0.1,10.0.0.2,any,許可,保留,\n"
        "3,10.0.0.1,10.0.0.2,any,拒否,保留,\n"
        "4,,10.0.0.2,any,許可,,\n"
        "5,10.0.0.1,,any,拒否,,\n"
    )
    parsed = parse(text)
    got = {r.id: (r.action, r.enabled, r.source, r.assumptions) for r in rules(parsed)}
    widened = (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    assert got == {
        "1": (Action.ACCEPT, True, M("10.0.0.1"), widened),  # taken as an allow
        "2": (Action.ACCEPT, True, M("10.0.0.1"), ()),  # an allow stays enabled
        "3": (Action.DENY, False, M("10.0.0.1"), ()),  # a deny is left out
        "4": (Action.ACCEPT, True, ANY, widened),  # empty source: widened allow
        # 5: empty destination in a deny: ignored
    }
    assert [(k, w) for k, w, _ in issues(parsed)] == [
        ("unrecognised", "policy.csv:2"),
        ("unrecognised", "policy.csv:3"),
        ("unrecognised", "policy.csv:4"),
        ("unrecognised", "policy.csv:5"),
        ("unrecognised", "policy.csv:6"),
    ]
    assert parsed.issues[3].message == "No 4: 送信元 cell is empty; the allow is widened to any"


# --- xlsx -------------------------------------------------------------------------------------

openpyxl = pytest.importorskip("openpyxl", reason="the xlsx extra (openpyxl) is not installed")


def _workbook(
    sheets: dict[str, list[list[Any]]], merges: dict[str, list[str]] | None = None
) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, grid in sheets.items():
        ws = wb.create_sheet(title)
        for row in grid:
            ws.append(row)
        for block in (merges or {}).get(title, []):
            ws.merge_cells(block)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_POLICY = [
    ["FWポリシー表", None, None, None, None, None, None],
    [None],
    ["No", "送信元", "宛先", "サービス", "動作", "有効", "備考"],
    [1, "10.2.0.0/16", "10.3.10.11", "tcp/3389\ntcp/1494", "許可", True, "画面転送"],
    [2, "10.2.0.0/16", "192.0.2.10", "https", "許可", "○", None],
    [3, None, "10.9.9.9", "ssh", "拒否", None, "merged source"],
    [4.0, "10.1.0.0/16", "bogus-name", "kaisha-app", "許可", "無効", None],
]


def test_xlsx_sheets_cells_and_merges() -> None:
    data = _workbook(
        {"表紙": [["境界FW パラメータシート"]], "FWポリシー": XLSX_POLICY},
        merges={"FWポリシー": ["B5:B6"]},
    )
    parsed = parse_table(Path("fw.xlsx"), data, display_name="fw.xlsx")
    (context,) = parsed.contexts
    assert context.name == "FWポリシー" and context.default_action is Action.DENY
    got = [
        (r.id, r.action, r.enabled, r.source, r.destination, r.services, r.name, r.origin.xpath)
        for r in context.rules
    ]
    assert got == [
        ("1", Action.ACCEPT, True, M("10.2.0.0/16"), M("10.3.10.11"), tcp(1494, 3389), "画面転送",
         "FWポリシー!A4"),
        ("2", Action.ACCEPT, True, M("10.2.0.0/16"), M("192.0.2.10"), tcp(443), None,
         "FWポリシー!A5"),
        # B5:B6 merged: the source written once covers both rows
        ("3", Action.DENY, True, M("10.2.0.0/16"), M("10.9.9.9"), tcp(22), "merged source",
         "FWポリシー!A6"),
        ("4", Action.ACCEPT, False, M("10.1.0.0/16"), Match(AddressSet(), unresolved=("bogus-name",)),
         ServiceSet(), None, "FWポリシー!A7"),
    ]  # fmt: skip
    assert str(context.rules[0].origin) == "fw.xlsx:FWポリシー!A4"
    assert [(i.kind, str(i.origin)) for i in parsed.issues] == [
        ("warning", "fw.xlsx:表紙!A1"),  # no table on the cover sheet
        ("undefined", "fw.xlsx:FWポリシー!C7"),
        ("undefined", "fw.xlsx:FWポリシー!D7"),
    ]


def test_xlsx_one_context_per_sheet_and_sheet_choice() -> None:
    grid = [
        ["No", "送信元", "宛先", "サービス", "動作"],
        [1, "10.0.0.1", "10.0.0.2", "any", "許可"],
    ]
    data = _workbook({"本庁": grid, "支所": grid})
    parsed = parse_table(Path("x.xlsx"), data, display_name="x.xlsx")
    assert [c.name for c in parsed.contexts] == ["本庁", "支所"]
    assert parsed.context(None) is None and parsed.context("支所") is not None
    one = parse_table(Path("x.xlsx"), data, display_name="x.xlsx", sheet="支所")
    assert [c.name for c in one.contexts] == ["支所"]
    with pytest.raises(ConfigError, match="no sheet '別館' \\(sheets: 本庁, 支所\\)"):
        parse_table(Path("x.xlsx"), data, display_name="x.xlsx", sheet="別館")
    with pytest.raises(ConfigError, match="no sheet holds a policy table"):
        parse_table(Path("x.xlsx"), _workbook({"表紙": [["x"]]}), display_name="x.xlsx")


def test_xlsx_unreadable_and_without_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not a readable .xlsx workbook") as info:
        parse_table(Path("x.xlsx"), b"PK\x03\x04broken", display_name="x.xlsx")
    assert info.value.path == "x.xlsx"
    data = _workbook({"s": [["No", "送信元", "宛先", "動作"]]})
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"needs openpyxl: pip install 'segcheck\[xlsx\]'"):
        parse_table(Path("x.xlsx"), data, display_name="x.xlsx")


# --- through `check` ----------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[3]

# lab/town.yaml's fw-core permits, as an engineer's table would write them (CP932, CRLF)
TOWN_TABLE = (
    "境界FW ポリシー表,,,,,\n"
    "No,送信元アドレス,宛先アドレス,サービス,動作,備考\n"
    'FW-01,"10.1.10.0/24\n10.1.20.0/24","10.1.10.0/24\n10.1.20.0/24",any,許可,マイナンバー系内\n'
    'FW-02,"10.2.10.0/24\n10.2.20.0/24","10.2.10.0/24\n10.2.20.0/24",ANY,許可,LGWAN系内\n'
    'FW-03,"10.3.10.0/24、10.3.20.0/24、10.3.30.0/24",10.3.0.0/255.255.0.0,全て,許可,\n'
    'FW-10,"10.2.10.0/24\n10.2.20.0/24",10.3.10.11,"rdp\nica",許可,画面転送\n'
    "FW-20,10.3.20.26,10.2.20.25,smtp,許可,メール無害化\n"
    'FW-30,10.3.10.0-10.3.30.255,192.0.2.10,"tcp/8080, 3128",許可,プロキシ\n'
    "FW-31,10.3.10.0-10.3.30.255,192.0.2.53,dns,許可,\n"
    'FW-90-TEMP-SMB,"10.2.10.0/24,10.2.20.0/24",10.3.0.0/16,"445/tcp\n139/tcp",許可,一時許可\n'
)


def test_check_reads_a_table_as_the_firewall(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from segcheck.cli import main

    text = (REPO / "lab" / "town.yaml").read_text(encoding="utf-8")
    head, sep, _ = text.partition("    permit:\n")
    assert sep
    (tmp_path / "town.yaml").write_text(
        head + "    config: {file: fw-core.csv, format: csv}\n", encoding="utf-8"
    )
    (tmp_path / "fw-core.csv").write_bytes(TOWN_TABLE.replace("\n", "\r\n").encode("cp932"))

    def check(path: Path) -> dict[str, Any]:
        done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
        assert done.exit_code in (0, 1) and not isinstance(done.exception, Exception), done.output
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def key(f: dict[str, Any]) -> tuple[Any, ...]:
        return (f["rule"], f["src_zone"], f["dst_zone"], f["service"], f["count"], f["permits"])

    by_hand, imported = check(REPO / "lab" / "town.yaml"), check(tmp_path / "town.yaml")
    assert [key(f) for f in imported["findings"]] == [key(f) for f in by_hand["findings"]]
    assert imported["findings"], "the leak FW-90-TEMP-SMB is found through the table"
    (item,) = imported["imports"]
    assert (item["format"], item["context"], item["status"]) == ("csv", "fw-core", "passed")
    location = imported["findings"][0]["location"]
    # the FW-90-TEMP-SMB row starts on line 16 (the cells above span several lines each)
    assert location["path"].endswith("fw-core.csv") and location["line"] == 16
    assert TOWN_TABLE.splitlines()[15].startswith("FW-90-TEMP-SMB,")
