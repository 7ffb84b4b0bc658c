"""CSV for Excel: a byte-order mark and CRLF by default, Japanese headers and words with
`--lang ja`, the findings of `check` as a table, the formula guard in every language."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from click.testing import CliRunner

from segcheck.cli import main
from segcheck.report import render
from segcheck.report.csv import COLUMNS, FINDING_COLUMNS, HEADERS_JA

from .conftest import check_report, scan_report

ROOT = Path(__file__).resolve().parents[2]
FORTIGATE = str(ROOT / "topologies" / "alpha-fortigate.yaml")


def run(*args: str) -> bytes:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout_bytes


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_check_csv_opens_in_excel_as_utf8(tmp_path: Path) -> None:
    out = tmp_path / "監査調書.csv"
    run("check", FORTIGATE, "--format", "csv", "--lang", "ja", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # what makes Excel read UTF-8, not CP932
    assert data.count(b"\r\n") == data.count(b"\n") > 1  # CRLF only
    header, first, *_ = rows(data)
    assert header[:4] == ["重大度", "ルール", "ルール名", "内容"]
    assert first[:3] == ["重大", "LG-INET-SPLIT", "通信経路の分割"]
    assert first[header.index("区分")] == "指摘"
    assert first[header.index("箇所")] == "topologies/configs/fw-lg-inet.conf:137".replace(
        "topologies/", str(ROOT / "topologies") + "/"
    )
    assert first[header.index("是正")] == "許可された通信も通すため絞り込む許可ルール root/90"


def test_no_bom_writes_plain_utf8() -> None:
    data = run("check", FORTIGATE, "--format", "csv", "--lang", "en", "--no-bom")
    assert not data.startswith(b"\xef\xbb\xbf")
    header, first, *rest = rows(data)
    assert tuple(header) == FINDING_COLUMNS
    assert first[:3] == ["critical", "LG-INET-SPLIT", "LGWAN / Internet path split"]
    # the paths channels cover are rows too, marked as such
    assert {row[FINDING_COLUMNS.index("status")] for row in rest} == {"excepted"}


def test_every_column_has_a_japanese_header() -> None:
    assert set(COLUMNS) | set(FINDING_COLUMNS) | {"baseline", "escalated"} <= set(HEADERS_JA)
    text = render(scan_report(), "csv", "ja")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [HEADERS_JA[c] for c in COLUMNS]


def test_scan_csv_carries_severity_rule_name_message_and_inner_vlan() -> None:
    report = scan_report()
    qinq = dataclasses.replace(report.flows[0].flow, vlan=100, inner_vlan=20)
    report = dataclasses.replace(
        report, flows=(dataclasses.replace(report.flows[0], flow=qinq), *report.flows[1:])
    )
    table = list(csv.reader(io.StringIO(render(report, "csv", "en"))))
    header, body = table[0], table[1:]
    assert body[len(report.gaps)][header.index("vlan")] == "100"
    assert body[len(report.gaps)][header.index("inner_vlan")] == "20"
    violation = next(r for r in body if r[header.index("verdict")] == "violation")
    finding = next(f for f in report.findings if f.flow is not None)
    assert violation[header.index("severity")] == finding.severity.value
    assert violation[header.index("rule_name")] == "LGWAN / Internet path split"
    assert violation[header.index("message")] == finding.text("en")
    ja = list(csv.reader(io.StringIO(render(report, "csv", "ja"))))
    row = next(r for r in ja[1:] if r[ja[0].index("判定")] == "違反")
    assert row[ja[0].index("重大度")] == "重大" and row[ja[0].index("状態")] == "確立"
    assert row[ja[0].index("内容")] == finding.text("ja")


def test_the_formula_guard_holds_in_japanese_too() -> None:
    for lang in ("en", "ja"):
        text = render(scan_report(), "csv", lang)
        assert "'-lg-term-01" in text and "'@lg-mail" in text
        assert ",-lg-term-01" not in text and ",@lg-mail" not in text
    check = render(check_report(), "csv", "ja")
    assert ",=" not in check and ',"=' not in check
