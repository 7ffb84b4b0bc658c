"""What the reference topologies are documented to give is what `segcheck check` gives.

Each topologies/*.yaml is described twice: in the table of topologies/README.md ("expected
verdict of `segcheck check`") and in its own header comment ("Expected verdict: …"). Both give
the verdict (clean, warnings only, findings), then the exit status and the rules of the findings
(none for a clean file) in their first clause; later clauses say what a change would give. The
table also counts the paths excepted by channels where it says so. A rule named in that clause
that the check does not report, or a finding of a rule not named, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.rules import RULES_BY_ID

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml"))
RULE_ID = re.compile(r"\b[A-Z]+(?:-[A-Z]+)+\b")


VERDICTS = {"clean": (0, False), "warnings only": (0, True), "findings": (1, True)}


def _checked(path: Path) -> tuple[int, set[str], int]:
    """Exit status, the rules of the findings, and the number of excepted paths."""
    done = CliRunner().invoke(
        main, ["check", str(path), "--format", "json", "--today", "2026-11-22"]
    )
    doc = json.loads(done.stdout)
    return done.exit_code, {f["rule"] for f in doc["findings"]}, len(doc["excepted"])


def _rules(text: str) -> set[str]:
    return {r for r in RULE_ID.findall(text) if r in RULES_BY_ID}


def _readme_rows() -> dict[str, str]:
    readme = (ROOT / "topologies" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+\.yaml)` \|[^|]*\|[^|]*\| (.+) \|$", readme, re.MULTILINE)
    return dict(rows)


def _header_verdict(path: Path) -> str | None:
    """The header comment's "Expected verdict:" paragraph, comment marks removed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if "Expected verdict:" in line), None)
    if start is None:
        return None
    para: list[str] = []
    for line in lines[start:]:
        if not line.startswith("#") or not line.strip("# "):
            break
        para.append(line.lstrip("# "))
    return " ".join(para).split("Expected verdict:", 1)[1]


def test_every_topology_is_in_the_readme_table() -> None:
    assert set(_readme_rows()) == {p.name for p in TOPOLOGIES}


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_readme_table_says_what_check_gives(path: Path) -> None:
    code, rules, excepted = _checked(path)
    row = _readme_rows()[path.name]
    verdict = re.match(r"\*\*([a-z ]+)\*\*: ", row)
    assert verdict is not None and VERDICTS[verdict.group(1)] == (code, bool(rules)), row
    first = row.split("; ", 1)[0]
    assert re.search(rf"\bexit {code}\b", first), (row, code)
    assert _rules(first) == rules, (row, rules)
    counted = re.search(r"(\d+) paths? excepted", row)
    if counted is not None:
        assert int(counted.group(1)) == excepted, (row, excepted)


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_header_comment_says_what_check_gives(path: Path) -> None:
    said = _header_verdict(path)
    if said is None:
        assert path.name == "spec-example.yaml"  # the spec's own example, comments as in §2
        return
    code, rules, _ = _checked(path)
    verdict, claim = said.strip().split(". ", 1)
    assert VERDICTS[verdict.lower()] == (code, bool(rules)), said
    first = re.split(r"; |\. ", claim, maxsplit=1)[0]
    assert re.search(rf"\bexits {code}\b", first), (said, code)
    assert _rules(first) == rules, (said, rules)
