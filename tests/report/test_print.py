"""The printable report: page numbers, the document-control block, the summary of causes on the
cover, rule ids that wrap only at hyphens, and `report --pdf` (here with a stand-in printer;
tests/report/test_browser.py prints with the real Chromium and reads the pages)."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from pathlib import Path

from click.testing import CliRunner

from segcheck.cli import main
from segcheck.report import render
from segcheck.report.html import DocumentControl, css_string, render_page

from .conftest import check_report, empty_report

ROOT = Path(__file__).resolve().parents[2]


def cover(page: str) -> str:
    return page[page.index('<header class="cover"') : page.index("</header>")]


def test_every_printed_page_is_numbered() -> None:
    page = render(check_report(), "html", "ja")
    style = page[page.index("<style>") : page.index("</style>")]
    # both page kinds (portrait and the diagram's landscape) carry "ページ n / N"
    numbered = re.findall(
        r'@bottom-right \{ content: "([^"]*) " counter\(page\) " / " counter\(pages\)', style
    )
    assert len(numbered) == 2
    assert all(
        bytes(re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m.group(1), 16)), n), "utf-8").decode()
        == "ページ"
        for n in numbered
    )


def test_css_strings_cannot_be_broken_out_of() -> None:
    text = str(css_string('a"b\\c</style><script>'))
    assert '"' not in text and "<" not in text and text.count("\\") == 7
    named = dataclasses.replace(
        check_report(),
        topology=dataclasses.replace(
            check_report().topology, name='x"; } body { display: none } </style>'
        ),
    )
    page = render(named, "html", "en")
    style = page[page.index("<style>") : page.index("</style>")]
    assert page.count("</style>") == 1 and "display: none" not in style


def test_document_control_block_filled_or_blank() -> None:
    blank = cover(render(check_report(), "html", "ja"))
    assert "<th>作成者</th><th>確認者</th><th>版数</th><th>日付</th>" in blank
    assert "<tr><td></td><td></td><td></td><td></td></tr>" in blank  # to be signed on paper
    signed = cover(
        render_page(
            check_report(),
            "ja",
            None,
            "no Graphviz",
            DocumentControl("山田", "佐藤", "第1版", "2026-04-01"),
        )
    )
    assert "<tr><td>山田</td><td>佐藤</td><td>第1版</td><td>2026-04-01</td></tr>" in signed
    escaped = cover(render_page(check_report(), "en", None, "x", DocumentControl("<b>x</b>")))
    assert "&lt;b&gt;x&lt;/b&gt;" in escaped


def test_first_page_summarises_the_causes() -> None:
    page = cover(render(check_report(), "html", "ja"))
    summary = page[page.index('id="exec-summary"') :]
    assert "指摘の原因(要約)" in summary and "是正計画: " in summary
    rows = re.findall(
        r"<tr><td><span class=\"sev sev-(\w+)\">[^<]*</span></td><td>([^<]*)</td>", summary
    )
    assert rows[0] == ("critical", "許可: FW-40")
    assert [sev for sev, _ in rows] == sorted(
        (sev for sev, _ in rows), key=["critical", "high", "warning", "info"].index
    )
    assert 'id="exec-summary"' not in render(empty_report(), "html", "ja")


def test_rule_ids_wrap_only_at_hyphens() -> None:
    page = render(check_report(), "html", "en")
    assert ".rid { word-break: normal; overflow-wrap: normal; }" in page
    catalogue = page[
        page.index('id="catalogue"') if 'id="catalogue"' in page else page.index("MN-NO-INTERNET") :
    ]
    ids = re.findall(r'<td class="mono rid">([A-Z0-9-]+)</td>', catalogue)
    assert len(ids) >= 14  # every rule of the catalogue, none with break-all alone


def fake_chromium(tmp_path: Path) -> Path:
    """A stand-in that prints like Chromium: writes a PDF where --print-to-pdf says."""
    script = tmp_path / "chromium"
    script.write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*) '
        "printf '%%PDF-1.4 fake\\n' > \"${a#--print-to-pdf=}\";; esac; done\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_report_pdf_is_written_and_listed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEGCHECK_CHROMIUM", str(fake_chromium(tmp_path)))
    out = tmp_path / "evidence"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(ROOT / "topologies" / "alpha.yaml"),
            "-o",
            str(out),
            "--pdf",
            "--author",
            "山田",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "  report.pdf\n" in (out / "SHA256SUMS").read_text(encoding="utf-8")
    assert "<td>山田</td>" in (out / "report.html").read_text(encoding="utf-8")
    # run again without --pdf: the stale PDF goes, never left unlisted
    result = CliRunner().invoke(
        main, ["report", str(ROOT / "topologies" / "alpha.yaml"), "-o", str(out), "--force"]
    )
    assert result.exit_code == 0 and not (out / "report.pdf").exists()


def test_a_failing_printer_is_an_error_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n", encoding="utf-8")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SEGCHECK_CHROMIUM", str(broken))
    out = tmp_path / "evidence"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(ROOT / "topologies" / "alpha.yaml"),
            "-o",
            str(out),
            "--pdf",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == "エラー: --pdf: Chromium が失敗しました: cannot open display\n"
    assert not out.exists() or not os.listdir(out)


def test_a_printed_pdf_is_dated_with_the_report_timestamp() -> None:
    """Chromium's print time is replaced in place: same length, the xref offsets still right."""
    from datetime import UTC, datetime

    from segcheck.report.pdf import pin_dates

    info = b"1 0 obj\n<</Creator (Mozilla)\n/CreationDate (D:20261201032743+00'00')\n"
    info += b"/ModDate (D:20261201032743+00'00')>>\nendobj\n"
    body = b"%PDF-1.4\n" + info + b"2 0 obj\n<</Type /Catalog>>\nendobj\n"
    xref = body.index(b"2 0 obj")
    pdf = body + b"xref\n0 3\n" + f"{xref:010d} 00000 n \n".encode() + b"%%EOF\n"
    when = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    pinned = pin_dates(pdf, when)
    assert len(pinned) == len(pdf) and pinned.index(b"2 0 obj") == xref
    assert pinned.count(b"(D:20260401093000+00'00')") == 2
    assert b"20261201" not in pinned
    # another zone, another form: the same instant, in UTC, at the same length
    other = pdf.replace(b"+00'00')", b"Z)      ")
    assert b"(D:20260401093000Z)" in pin_dates(other, when)
    assert pin_dates(b"/CreationDate (yesterday)", when) == b"/CreationDate (yesterday)"
