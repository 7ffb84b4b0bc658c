"""The log <-> configuration join (segcheck.logjoin) in every format: drift and permit use.

The report is the sample scan plus a FortiGate log of `fw-core` joined to its imported
configuration: one permit used by a forbidden flow, one never used, and one drift (a flow
accepted by a policy the configuration does not have). Every format must show all three, and
the goldens pin how.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from segcheck.findings import (
    BaselineInfo,
    CaptureSummary,
    Drift,
    FlowEvidence,
    LogJoin,
    PermitHits,
    Report,
)
from segcheck.model import InputFile
from segcheck.report import html, render
from segcheck.report.labels import value_word

from .conftest import assert_golden, scan_report

LOG_PATH = "logs/fw-core.log"
SCHEMA = Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"
STUB_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g id="stub"/></svg>'
DRIFT_EN = "fw-core: the device accepted 2 flows by policy root/77, but the imported configuration has no accept rule root/77"  # fmt: skip
DRIFT_JA = "fw-core: 機器はポリシー root/77 で 2 件の通信を許可したが、取り込んだ設定に許可ルール root/77 がない"  # fmt: skip


def scan_log_report() -> Report:
    base = scan_report()
    example = FlowEvidence(
        "10.2.10.13", "10.3.10.11", "tcp", 51009, 3389, 11, 2100, 12, "2026-03-30T10:00:12Z",
        LOG_PATH, "established", line=12, pivot="1004", device_action="accept",
        device_rule="root/77", device="fw-core", last_seen="2026-03-30T10:00:17Z",
    )  # fmt: skip
    drift = Drift(
        "fw-core", "root/77", "absent", "accept", 2, example,
        f"{DRIFT_EN}: the configuration checked is not the one the device runs (first: {LOG_PATH}:12, id 1004, tcp 10.2.10.13 -> 10.3.10.11:3389)",
        f"{DRIFT_JA}。検査した設定は機器で動作している設定と異なる (最初: {LOG_PATH}:12、id 1004、tcp 10.2.10.13 -> 10.3.10.11:3389)",
    )  # fmt: skip
    join = LogJoin(
        (
            PermitHits("fw-core", "root/40", "FW-40 | mail", "configs/fw-core.conf:40", 3, 1, "2026-03-30T10:00:09Z"),
            PermitHits("fw-core", "root/41", None, "configs/fw-core.conf:52", 0, 0, None),
        ),
        (drift,),
        ("fortigate-traffic policy lab/5: no node imports a fortios configuration of context 'lab' (1 flow)",),
    )  # fmt: skip
    log = CaptureSummary(LOG_PATH, "fortigate-traffic", "cd" * 32, 40, 0, flows=21)
    return dataclasses.replace(
        base,
        inputs=(*base.inputs, InputFile(LOG_PATH, "fortigate-traffic", "cd" * 32)),
        captures=(*base.captures, log),
        log_join=join,
    )


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "csv", "md", "junit"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_golden(fmt: str, lang: str) -> None:
    if fmt == "sarif" and lang == "ja":
        return  # one SARIF golden (messages differ only)
    suffix = {"text": "txt"}.get(fmt, fmt)
    name = "scan-logs.sarif" if fmt == "sarif" else f"scan-logs.{lang}.{suffix}"
    assert_golden(name, render(scan_log_report(), fmt, lang))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_golden_html(lang: str) -> None:
    assert_golden(f"scan-logs.{lang}.html", html.render_page(scan_log_report(), lang, STUB_SVG))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "csv", "md", "junit", "html"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_format_shows_drift_and_permit_use(fmt: str, lang: str) -> None:
    report = scan_log_report()
    text = html.render_page(report, lang, STUB_SVG) if fmt == "html" else render(report, fmt, lang)
    assert (DRIFT_JA if lang == "ja" else DRIFT_EN) in text
    if fmt in ("csv", "junit"):
        return  # one row / one failed case per drift; permit use is a table of the others
    assert "root/41" in text and "root/40" in text
    assert "lab/5" in text
    without = render(dataclasses.replace(report, log_join=None), fmt, lang) if fmt != "html" else ""
    assert "root/41" not in without


def test_markdown_table_survives_a_pipe_in_a_rule_name() -> None:
    md = render(scan_log_report(), "md", "en")
    row = next(line for line in md.splitlines() if "root/40" in line)
    assert row.count("|") - row.count("\\|") == 8  # seven cells, the name's pipe escaped
    assert (
        "| fw-core | root/41 |  | configs/fw-core.conf:52 | 0 | 0 | never used in the logs |" in md
    )


def test_sarif_drift_is_a_result_of_its_own_rule_at_the_log_line() -> None:
    """Code-scanning dashboards list results, not notifications: a drift is a result of
    GEN-CONFIG-DRIFT, a rule of the run's catalogue, at the log line of its first flow."""
    log = json.loads(render(scan_log_report(), "sarif", "en"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    assert not list(validator.iter_errors(log))
    run = log["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert not [n for n in notes if "drift" in json.dumps(n)]
    (result,) = [r for r in run["results"] if r["ruleId"] == "GEN-CONFIG-DRIFT"]
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "GEN-CONFIG-DRIFT" and rule["properties"]["name_ja"]
    assert rule["properties"]["sources"] and rule["defaultConfiguration"]["level"] == "error"
    assert result["level"] == "error" and result["message"]["text"].startswith(DRIFT_EN)
    where = result["locations"][0]["physicalLocation"]
    assert where["region"] == {"startLine": 12}
    assert run["artifacts"][where["artifactLocation"]["index"]]["properties"]["kind"] == (
        "fortigate-traffic"
    )
    props = result["properties"]
    assert (props["node"], props["rule"], props["reason"], props["flows"]) == (
        "fw-core",
        "root/77",
        "absent",
        2,
    )
    assert props["pivot"] == "1004" and props["message_ja"].startswith(DRIFT_JA)
    # one alert per device policy and disagreement, wherever the log shows it first
    report = scan_log_report()
    join = report.log_join
    assert join is not None
    moved = dataclasses.replace(join.drift[0].example, line=30)
    other = dataclasses.replace(
        report,
        log_join=dataclasses.replace(
            join, drift=(dataclasses.replace(join.drift[0], example=moved),)
        ),
    )
    (again,) = [
        r
        for r in json.loads(render(other, "sarif", "en"))["runs"][0]["results"]
        if r["ruleId"] == "GEN-CONFIG-DRIFT"
    ]
    assert again["partialFingerprints"] == result["partialFingerprints"]
    assert again["locations"][0]["physicalLocation"]["region"] == {"startLine": 30}
    assert (
        run["properties"]["log_join"] == json.loads(render(scan_log_report(), "json"))["log_join"]
    )


def test_csv_has_one_drift_row_at_the_log_line() -> None:
    rows = list(csv.DictReader(io.StringIO(render(scan_log_report(), "csv", "en"))))
    drift = [r for r in rows if r["verdict"] == "config-drift"]
    assert len(drift) == 1
    assert (drift[0]["input"], drift[0]["first_frame"], drift[0]["device_rule"]) == (
        LOG_PATH,
        "12",
        "root/77",
    )
    assert drift[0]["severity"] == "high" and drift[0]["pivot"] == "1004"


def test_junit_fails_one_case_per_drift() -> None:
    root = ET.fromstring(render(scan_log_report(), "junit", "en"))
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "config-drift")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    case = suite.find("testcase")
    assert case is not None and case.get("name") == "fw-core root/77 absent"
    agree = dataclasses.replace(
        scan_log_report(), log_join=dataclasses.replace(scan_log_report().log_join, drift=())
    )
    suite = next(
        s
        for s in ET.fromstring(render(agree, "junit", "en")).iter("testsuite")
        if s.get("name") == "config-drift"
    )
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_unexplained_log_policies_are_in_the_reports_language(fmt: str) -> None:
    """A log line no imported configuration explains reads in Japanese in a Japanese report."""
    report = scan_log_report()
    out = html.render_page(report, "ja", STUB_SVG) if fmt == "html" else render(report, fmt, "ja")
    assert "no node imports" not in out
    assert "コンテキスト 'lab' の fortios 設定を取り込む機器がありません" in out.replace(
        "&#39;", "'"
    )
    english = render(report, fmt, "en").replace("&#39;", "'")
    assert "no node imports a fortios configuration of context 'lab'" in english


def baseline_report(known: bool) -> Report:
    """The log report against a baseline that had its drift (`known`) or not, and that had
    another drift of fw-core (root/78 disabled) this run's logs no longer show."""
    report = scan_log_report()
    assert report.log_join is not None
    (drift,) = report.log_join.drift
    gone = dataclasses.replace(
        drift, rule="root/78", reason="disabled", message="GONE-EN", message_ja="GONE-JA"
    )
    info = BaselineInfo(
        "base.json", "ab" * 32, "5f0c1f52-9a56-5b8e-8d47-1a2b3c4d5e6f", {}, {}, frozenset(), (),
        frozenset({drift.key, gone.key} if known else {gone.key}), (gone,),
    )  # fmt: skip
    return dataclasses.replace(report, baseline=info)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_format_shows_each_drifts_state_against_the_baseline(lang: str) -> None:
    unchanged, new, fixed = (value_word(lang, "baseline", s) for s in ("unchanged", "new", "fixed"))
    gone = "GONE-JA" if lang == "ja" else "GONE-EN"
    for known, state in ((True, unchanged), (False, new)):
        report = baseline_report(known)
        text = render(report, "text", lang)
        assert f"  - [{state}] fw-core" in text and f"  - [{fixed}] {gone}" in text
        page = render(report, "md", lang)
        assert f"- \\[{state}\\] fw-core" in page and f"- \\[{fixed}\\] {gone}" in page
        page = html.render_page(report, lang, STUB_SVG)
        assert f'<span class="mono">[{state}]</span> fw-core' in page
        assert f'<span class="mono">[{fixed}]</span> {gone}' in page
        rows = list(csv.DictReader(io.StringIO(render(report, "csv", "en"))))
        assert [
            (r["device_rule"], r["baseline"]) for r in rows if r["verdict"] == "config-drift"
        ] == [
            ("root/77", "unchanged" if known else "new"),
            ("root/78", "fixed"),
        ]
        data = json.loads(render(report, "json", lang))
        assert [d["state"] for d in data["log_join"]["drift"]] == ["unchanged" if known else "new"]
        assert [d["rule"] for d in data["baseline"]["absent_drift"]] == ["root/78"]
        assert data["baseline"]["gating_drift"] == (0 if known else 1)


def test_junit_skips_a_known_drift_and_names_a_fixed_one() -> None:
    for known in (True, False):
        root = ET.fromstring(render(baseline_report(known), "junit", "en"))
        suite = next(s for s in root.iter("testsuite") if s.get("name") == "config-drift")
        expect = ("2", "0", "1") if known else ("2", "1", "0")
        assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == expect
        cases = {c.get("name"): c for c in suite.iter("testcase")}
        assert (cases["fw-core root/77 absent"].find("skipped") is not None) is known
        fixed = cases["fw-core root/78 disabled"]
        assert fixed.find("failure") is None and fixed.find("skipped") is None
        out = fixed.find("system-out")
        assert out is not None and out.text == "fixed since the baseline: GONE-EN"


def test_sarif_drift_states_against_the_baseline() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    for known, state in ((True, "unchanged"), (False, "new")):
        log = json.loads(render(baseline_report(known), "sarif", "en"))
        assert not list(validator.iter_errors(log))
        results = log["runs"][0]["results"]
        assert all("baselineState" in r for r in results)
        drift = [
            (r["properties"]["rule"], r["baselineState"])
            for r in results
            if r["ruleId"] == "GEN-CONFIG-DRIFT"
        ]
        assert drift == [("root/77", state), ("root/78", "absent")]
