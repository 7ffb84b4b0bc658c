"""Meta-tests on the rule catalogue: every rule is complete and cites real clauses.

The citations are checked against the clause texts quoted in segcheck/data/clauses.json, so
these tests need nothing outside the repository. Only the check that those quotations are
verbatim needs the published texts themselves (../shared/seeds, see README.md).
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pytest

from segcheck.errors import UsageError
from segcheck.policy import MATRIX
from segcheck.rules import (
    DOCUMENTS,
    RULES,
    RULES_BY_ID,
    RULES_VERSION,
    DocumentKind,
    clause_excerpt,
    get_rule,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SPEC_RULE_IDS = {
    "MN-NO-INTERNET",
    "MN-ISOLATION",
    "MN-SPECIFIED-COMM",
    "LG-INET-SPLIT",
    "LG-NO-INTERNET",
    "INET-EGRESS-VIA-CLOUD",
    "GEN-NO-BRIDGING",
    "GEN-ZONE-ASSIGNED",
    "GEN-DEFAULT-DENY",
    "GEN-EXCEPTION-EXPIRED",
    "LG-INET-SANITIZED",
    "MN-TERMINAL-CONTROLS",
    "MODEL-BETA-CONDITIONS",
    "LG-OUTBOUND-DATA",
    # version 2 (issue 17)
    "MN-JUKI-CS",
    "LG-LGWAN-ONLY-UPLINK",
    "INET-MONITORING",
    "INET-MAIL-VIA-CLOUD",
    "LG-DNS",
    "MN-CHUKAN-VIA-LGWAN",
    "MN-UPDATE-DIST",
    "LG-UPDATE-DIST",
    "LG-TELEWORK",
    "GEN-CONFIG-DRIFT",
    "MN-PHYSICAL-SEPARATION",
    "INET-LOCAL-BREAKOUT",
}


def test_catalogue_is_spec_v2() -> None:
    assert set(RULES_BY_ID) == SPEC_RULE_IDS
    assert len(RULES) == len(RULES_BY_ID)
    assert RULES_VERSION == "2"


ROOT = Path(__file__).resolve().parents[1]
VERSION_1 = {r.id for r in RULES[:14]}  # docs/spec.md §3: version 1 had its first 14 rows


def test_readme_and_changelog_say_what_version_2_added() -> None:
    """Every rule version 2 added is in README's table of them and in CHANGELOG's entry."""
    added = set(RULES_BY_ID) - VERSION_1
    assert len(VERSION_1) == 14 and "MN-JUKI-CS" in added and "LG-OUTBOUND-DATA" in VERSION_1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## Rules (version {RULES_VERSION})\n", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([A-Z-]+)`", section, re.MULTILINE))
    assert added <= rows, added - rows
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    entry = unreleased.split(f"**Rules version {RULES_VERSION}**", 1)[1].split("\n- ", 1)[0]
    named = set(re.findall(r"`([A-Z]+(?:-[A-Z]+)+)`", entry))
    assert added <= named, added - named
    assert f"| rules | {RULES_VERSION} |" in changelog


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_complete(rule) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"[A-Z]+(-[A-Z]+)+", rule.id)
    for text in (
        rule.name_en,
        rule.name_ja,
        rule.summary_en,
        rule.summary_ja,
        rule.remedy_en,
        rule.remedy_ja,
    ):
        assert text.strip()
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", rule.name_ja)
    assert rule.sources


# What each rule relies on: every policy clause it cites must say one of these (NFKC, so that
# 狛江市's full-width ＬＧＷＡＮ reads as LGWAN). A clause cited under the wrong number fails.
RELIES_ON: dict[str, tuple[str, ...]] = {
    "MN-NO-INTERNET": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
    ),
    "MN-ISOLATION": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
    ),
    "MN-SPECIFIED-COMM": ("原則として",),
    "LG-INET-SPLIT": ("通信経路を分割", "通信環境を分離"),
    "LG-NO-INTERNET": ("LGWAN",),
    "INET-EGRESS-VIA-CLOUD": ("自治体情報セキュリティクラウド",),
    "GEN-NO-BRIDGING": ("通信環境を分離",),
    "GEN-ZONE-ASSIGNED": ("情報システム及び",),
    "GEN-DEFAULT-DENY": ("三段階の対策", "アからウまで"),
    "GEN-EXCEPTION-EXPIRED": ("遵守状況を検証",),
    "LG-INET-SANITIZED": ("画面転送",),
    "MN-TERMINAL-CONTROLS": ("多要素認証",),
    "MODEL-BETA-CONDITIONS": (),
    "LG-OUTBOUND-DATA": ("無害化通信を実施",),
    "LG-LGWAN-ONLY-UPLINK": ("LGWAN",),
    "INET-MONITORING": ("監視",),
    "INET-MAIL-VIA-CLOUD": ("自治体情報セキュリティクラウド",),
    "LG-DNS": ("LGWAN",),
    "MN-UPDATE-DIST": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
        "不正プログラム対策",
    ),
    "LG-TELEWORK": ("画面転送", "アクセス制御"),
    "LG-UPDATE-DIST": ("通信経路を分割", "通信環境を分離", "不正プログラム対策"),
    "MN-CHUKAN-VIA-LGWAN": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
    ),
    "MN-JUKI-CS": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
    ),
    "GEN-CONFIG-DRIFT": ("遵守状況",),
    "MN-PHYSICAL-SEPARATION": (
        "他の領域との通信をできないよう",
        "これ以外の情報システムとの通信ができないよう",
    ),
    "INET-LOCAL-BREAKOUT": ("自治体情報セキュリティクラウド",),
}
SEED_FILES = {
    "tokorozawa-council": "000_f560b98fa22c2f2f.txt",
    "ojiya": "001_cc990b899f160bdb.txt",
    "akishima": "002_10272090d20d1e6d.txt",
    "sakai": "003_9ea6ce6cfe8284f6.txt",
    "komae": "004_ab9717e4f52a50f0.txt",
}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _quoted() -> dict:
    return json.loads(resources.files("segcheck").joinpath("data/clauses.json").read_text("utf-8"))


def test_relies_on_covers_the_catalogue() -> None:
    assert set(RELIES_ON) == SPEC_RULE_IDS


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_cited_clause_is_quoted_and_says_what_the_rule_relies_on(rule) -> None:  # type: ignore[no-untyped-def]
    for source in rule.sources:
        doc = DOCUMENTS[source.document]
        if doc.kind is DocumentKind.GUIDELINE:
            # Cited by section heading, which the policies repeat (強靱/強靭/強じん).
            assert re.fullmatch(r"「[^「」]+」", source.clause), source
            assert source.clause_en, source
            continue
        excerpt = clause_excerpt(source)
        assert excerpt is not None, f"{doc.title_ja} {source.clause} is not quoted"
        assert excerpt.text.strip(), source
        said = _nfkc(excerpt.heading + excerpt.text)
        assert any(_nfkc(phrase) in said for phrase in RELIES_ON[rule.id]), (source, said)


def test_quoted_documents_match_the_documents_table() -> None:
    quoted = _quoted()["documents"]
    policies = {d.id for d in DOCUMENTS.values() if d.kind is DocumentKind.POLICY}
    assert set(quoted) == policies
    cited = {(s.document, s.clause) for rule in RULES for s in rule.sources}
    for doc_id, doc in quoted.items():
        assert doc["title"] == DOCUMENTS[doc_id].title_ja
        assert doc["published_by"] == DOCUMENTS[doc_id].issuer_ja
        assert doc["edition"] == DOCUMENTS[doc_id].edition
        # Only what is cited is quoted: no stray text.
        assert {(doc_id, label) for label in doc["clauses"]} <= cited, doc_id


def test_every_document_is_cited() -> None:
    cited = {s.document for rule in RULES for s in rule.sources}
    assert cited == set(DOCUMENTS)


@pytest.mark.skipif(
    not SEEDS.is_dir(), reason="needs the published texts in ../shared/seeds (see README.md)"
)
def test_quotations_are_verbatim_from_the_published_texts() -> None:
    """Whitespace aside, every quoted heading and text is in the policy as published."""
    for doc_id, doc in _quoted()["documents"].items():
        published = re.sub(r"\s+", "", (SEEDS / SEED_FILES[doc_id]).read_text("utf-8"))
        assert doc["title"] in published, doc_id
        for label, clause in doc["clauses"].items():
            quoted = re.sub(r"\s+", "", clause["heading"] + clause["text"])
            assert quoted in published, (doc_id, label)


def test_matrix_rules_are_in_catalogue() -> None:
    for cell in MATRIX.values():
        assert cell.rule is None or cell.rule in RULES_BY_ID


def test_get_rule() -> None:
    assert get_rule("mn-isolation").id == "MN-ISOLATION"
    with pytest.raises(UsageError, match="unknown rule 'NOPE'"):
        get_rule("NOPE")
