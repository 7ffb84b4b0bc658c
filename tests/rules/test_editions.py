"""The guideline edition a topology follows (issue 17): shown in every report with the rules
that depend on it, and withholding what a later edition brought (α′)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck import parse_topology
from segcheck.cli import main
from segcheck.engine import check
from segcheck.errors import TopologyError
from segcheck.rules import RULES_BY_ID
from segcheck.rules.basis import basis
from segcheck.rules.editions import DEPENDENCIES, at_least, edition_key

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 22)


def alpha_prime(tmp_path: Path, edition: str | None) -> Path:
    text = (ROOT / "topologies" / "alpha-prime.yaml").read_text(encoding="utf-8")
    if edition is not None:
        text = text.replace(
            "profile: alpha-prime\n", f"profile: alpha-prime\nguideline: {edition}\n"
        )
    path = tmp_path / "ap.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_editions_are_ordered_by_date() -> None:
    assert edition_key("令和6年10月版") == (2024, 10)
    assert edition_key("令和元年5月版") == (2019, 5)
    assert edition_key("平成30年9月版") == (2018, 9)
    assert edition_key("令和6年13月版") is None and edition_key("2024年10月版") is None
    assert at_least("令和7年3月版", "令和6年10月版")
    assert not at_least("令和5年3月版", "令和6年10月版")
    assert at_least(None, "令和6年10月版")  # not declared: the catalogue's edition


def test_dependencies_name_catalogued_rules() -> None:
    for dep in DEPENDENCIES:
        assert dep.rule in RULES_BY_ID and edition_key(dep.since) is not None


@pytest.mark.parametrize("edition", ["令和6年10月版", "令和7年3月版", None])
def test_alpha_prime_from_its_edition_on(tmp_path: Path, edition: str | None) -> None:
    report = check(alpha_prime(tmp_path, edition), today=TODAY)
    assert report.findings == ()


def test_alpha_prime_under_an_earlier_edition_is_lg_no_internet(tmp_path: Path) -> None:
    report = check(alpha_prime(tmp_path, "令和5年3月版"), today=TODAY)
    rules = {f.rule for f in report.findings}
    assert rules == {"LG-NO-INTERNET"}
    assert any("令和5年3月版" in f.message for f in report.findings)


@pytest.mark.parametrize("bad", ["R6.10", "令和六年十月版", "'2024-10'"])
def test_a_malformed_edition_is_an_input_error(bad: str) -> None:
    text = f"segcheck: 1\nguideline: {bad}\nzones: {{}}\n"
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "g.yaml")
    assert str(err.value).startswith("g.yaml:2: ")


def test_every_report_shows_the_basis(tmp_path: Path) -> None:
    path = alpha_prime(tmp_path, "令和5年3月版")
    for fmt in ("text", "md", "html"):
        for lang in ("en", "ja"):
            out = (
                CliRunner()
                .invoke(
                    main,
                    ["check", str(path), "--format", fmt, "--lang", lang, "--today", "2026-11-22"],
                )
                .stdout
            )
            assert "令和5年3月版" in out, (fmt, lang)
            assert "LG-NO-INTERNET" in out and "lgwan_gov_cloud_link" in out, (fmt, lang)
    topo = parse_topology(path.read_bytes(), "ap.yaml")
    text = dict(basis(topo, "en"))
    assert "withheld" in text["Rules depending on the edition"]
    assert text["Policy matrix"] == "built-in (spec §3)"
    assert "lgwan_gov_cloud_link = filtered (default)" in text["Profile settings"]
