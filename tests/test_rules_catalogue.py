"""Meta-tests on the rule catalogue: every rule is complete and cites real clauses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segcheck.errors import UsageError
from segcheck.policy import MATRIX
from segcheck.rules import RULES, RULES_BY_ID, get_rule

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
}


def test_catalogue_is_spec_v1() -> None:
    assert set(RULES_BY_ID) == SPEC_RULE_IDS
    assert len(RULES) == len(RULES_BY_ID)


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


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds not beside the repository")
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_cited_seed_files_exist(rule) -> None:  # type: ignore[no-untyped-def]
    for source in rule.sources:
        name = source.split()[0]
        if name.endswith(".txt"):
            assert (SEEDS / name).is_file(), source


def test_matrix_rules_are_in_catalogue() -> None:
    for cell in MATRIX.values():
        assert cell.rule is None or cell.rule in RULES_BY_ID


def test_get_rule() -> None:
    assert get_rule("mn-isolation").id == "MN-ISOLATION"
    with pytest.raises(UsageError, match="unknown rule 'NOPE'"):
        get_rule("NOPE")
