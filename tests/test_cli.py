"""The command line: exit codes 0/1/2, one clear message, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck import __version__
from segcheck.cli import default_lang, main, resolve_timestamp
from segcheck.rules import (
    DOCUMENTS,
    RULES,
    RULES_VERSION,
    DocumentKind,
    Rule,
    clause_excerpt,
)

BAD_ROLE = "segcheck: 1\nzones:\n  a: {tier: lgwan, subnets: [10.0.0.0/8]}\nnodes:\n  fw1: {role: firwall, ip: 10.0.0.1}\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"segcheck {__version__}"


def test_rules_lists_every_rule_in_both_languages() -> None:
    code, out, _ = run("rules", "--lang", "en")
    assert code == 0 and "MN-ISOLATION" in out and "My Number tier isolation" in out
    assert "Sakai City 第6条第3号ア" in out
    assert (
        "Sakai City: Sakai City Basic Regulations on Information Security (堺市情報セキュリティ基本規程)"
        in out
    )
    code, out, _ = run("rules", "--lang", "ja")
    assert code == 0 and "マイナンバー利用事務系の分離" in out
    assert "所沢市議会 6(3)①" in out and "総務省ガイドライン「例外措置」" in out


def test_explain_known_and_unknown_rule() -> None:
    code, out, _ = run("explain", "lg-inet-split", "--lang", "en")
    assert code == 0
    # Cited by the document's title and clause as published, with the clause's text.
    assert (
        "Komae City Information Security Basic Policy (狛江市情報セキュリティ基本方針) 7(1)イ"
        in out
    )
    assert "「ＬＧＷＡＮ接続系においては，" in out
    assert "「情報システム全体の強靱性の向上」" in out and "総務省" in out
    code, out, _ = run("explain", "lg-inet-split", "--lang", "ja")
    assert code == 0 and "\n  - 堺市情報セキュリティ基本規程 第6条第3号イ\n" in out
    code, out, err = run("explain", "NOPE")
    assert code == 2 and "unknown rule 'NOPE'" in err and "Traceback" not in out + err


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_explain_cites_every_source_by_title_and_clause(rule: Rule) -> None:
    """Each source line of `explain` is a document's published title and the clause as that
    document numbers it (the guideline: its section heading); each policy clause is quoted. No
    file name of our research material (seeds are 000_….txt) stands in for a title."""
    for lang in ("en", "ja"):
        code, out, _ = run("explain", rule.id.lower(), "--lang", lang)
        assert code == 0 and out.startswith(f"{rule.id} (")
        cited = out.split("\n\n")[-1]
        for source in rule.sources:
            doc = DOCUMENTS[source.document]
            lines = [x for x in cited.splitlines() if x.startswith(f"  - {doc.title(lang)}")]
            assert any(source.clause in x for x in lines), (lang, source, lines)
            if doc.kind is DocumentKind.POLICY:
                excerpt = clause_excerpt(source)
                assert excerpt is not None
                assert re.sub(r"\s", "", excerpt.text) in re.sub(r"\s", "", cited), source
        assert not re.search(r"\.txt|seeds/|\b00\d_", out), out


def test_rules_lists_the_whole_catalogue() -> None:
    for lang in ("en", "ja"):
        code, out, _ = run("rules", "--lang", lang)
        assert code == 0 and f" {RULES_VERSION}\n" in out.split("\n", 1)[0] + "\n"
        listed = re.findall(r"^([A-Z]+(?:-[A-Z]+)+) ", out, re.MULTILINE)
        assert listed == [r.id for r in RULES]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "missing.yaml"), "missing.yaml: no such file"),
        (("check", "{bad}", "--today", "tomorrow"), "--today 'tomorrow' is not a date"),
        (("check", "{bad}"), "bad.yaml:5: node 'fw1': unknown role 'firwall'"),
        # click words usage errors; segcheck's contract is exit 2 naming the option and value
        (("check", "{bad}", "--format", "pdf"), ("--format", "pdf")),
        (("check", "{bad}", "--timestamp", "noon"), "--timestamp 'noon' is not an ISO 8601 time"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str | tuple[str, ...]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_ROLE, encoding="utf-8")
    code, out, err = run(*(a.replace("{bad}", str(bad)) for a in args))
    assert code == 2
    for part in (message,) if isinstance(message, str) else message:
        assert part in err
    assert "Traceback" not in out + err


def test_default_lang_follows_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert default_lang() == "ja"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert default_lang() == "en"


def test_timestamp_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert resolve_timestamp(None) is None
    assert resolve_timestamp("2026-01-02T03:04:05+09:00") == "2026-01-01T18:04:05Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert resolve_timestamp(None) == "1970-01-01T00:00:00Z"


ROOT = Path(__file__).resolve().parents[1]
ZEEK_HEADER = (
    "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
    "conn_state\torig_pkts\tresp_pkts\n"
)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.pcap", None, "missing.pcap: no such file"),
        (
            "nan.log",
            ZEEK_HEADER + "nan\tC1\t10.2.10.11\t1\t10.3.20.25\t445\ttcp\tSF\t1\t1\n",
            "no readable Zeek conn.log entry",
        ),
    ],
)
def test_bad_capture_exits_2_without_traceback(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    capture = tmp_path / name
    if content is not None:
        capture.write_text(content, encoding="utf-8")
    code, out, err = run("scan", str(ROOT / "topologies" / "alpha.yaml"), str(capture))
    assert code == 2 and message in err and "Traceback" not in out + err


def test_zeek_overflowing_count_is_skipped_not_crashed(tmp_path: Path) -> None:
    capture = tmp_path / "inf.log"
    capture.write_text(
        ZEEK_HEADER
        + "1767225600\tC1\t10.2.10.11\t1\t10.3.20.25\t445\ttcp\tSF\tinf\t1\n"
        + "1767225601\tC2\t10.2.10.11\t2\t10.3.20.25\t445\ttcp\tSF\t1\t1\n",
        encoding="utf-8",
    )
    code, out, err = run("scan", str(ROOT / "topologies" / "alpha.yaml"), str(capture))
    assert code == 1 and "LG-INET-SPLIT" in out and "Traceback" not in err
    assert "skipped 1 (first at line 3: orig_pkts 'inf' is not a whole number)" in out


def test_strict_dates_and_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    alpha = str(ROOT / "topologies" / "alpha.yaml")
    code, _, err = run("check", alpha, "--today", "2027-W01")
    assert code == 2 and "is not a date (YYYY-MM-DD)" in err
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "99999999999999999")
    code, _, err = run("check", alpha)
    assert code == 2 and "is not a Unix time" in err
