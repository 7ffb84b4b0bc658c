"""CSV, JUnit and Markdown formatters, and the registry as a whole."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import xml.etree.ElementTree as ET

import pytest

from segcheck.report import FORMATS, formats_for, render
from segcheck.report.csv import COLUMNS, safe_cell

from .conftest import (
    assert_golden,
    check_report,
    empty_report,
    sample_topology,
    scan_report,
)

# html needs Graphviz for its diagram; its own tests cover it (test_html.py).
TEXT_FORMATS = sorted({f.name for f in FORMATS} - {"html"})


def test_every_format_loads_and_belongs_to_a_command() -> None:
    assert len({f.name for f in FORMATS}) == len(FORMATS)
    for fmt in FORMATS:
        assert fmt.commands and set(fmt.commands) <= {"check", "scan"}
        assert callable(fmt.load())
    assert formats_for("check") == ("text", "json", "sarif", "junit", "csv", "html", "md")
    assert formats_for("scan") == ("text", "json", "sarif", "csv", "html")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize("build", [empty_report, check_report, scan_report])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_format_renders_every_report(fmt, build, lang) -> None:
    first = render(build(), fmt, lang)
    assert first and first == render(build(), fmt, lang)


NODE_SETTINGS_YAML = """\
segcheck: 1
name: nodes
zones:
  mn: {tier: mynumber, subnets: [10.1.0.0/16]}
  lg: {tier: lgwan, subnets: [10.2.0.0/16]}
nodes:
  mn-term-02: {role: terminal, ip: 10.1.10.12}
  dual: {role: server, ip: [10.1.0.5, 10.2.0.5]}
"""


@pytest.mark.parametrize("fmt", formats_for("check"))
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_node_setting_findings_print_no_missing_destination(fmt, lang, monkeypatch) -> None:
    """A node's own settings have no destination: no format prints `node -> None`."""
    from segcheck.engine import check
    from segcheck.report import diagram

    monkeypatch.setattr(diagram, "find_dot", lambda: None)  # the page, not Graphviz
    report = check(sample_topology(NODE_SETTINGS_YAML, "nodes.yaml"), generated_at="x")
    assert {f.rule for f in report.findings} == {"GEN-NO-BRIDGING", "MN-TERMINAL-CONTROLS"}
    assert all(f.src == f.node and f.dst is None for f in report.findings)
    out = render(report, fmt, lang)
    assert "None" not in out
    assert "mn-term-02" in out and "dual" in out
    # The hand-built report's node finding also names its zone (text showed `None -> None`).
    assert "None" not in render(check_report(), fmt, lang)


SEED_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt|domain\.md|seeds/")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_seed_file_or_research_note_is_ever_cited(lang: str) -> None:
    """Sources are documents an auditor can look up, never our own file names."""
    from click.testing import CliRunner

    from segcheck.cli import main
    from segcheck.report import diagram
    from segcheck.rules import RULES

    def run(*args: str) -> str:
        return CliRunner().invoke(main, list(args)).stdout

    outputs = [run("rules", "--lang", lang)]
    outputs += [run("explain", rule.id, "--lang", lang) for rule in RULES]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diagram, "find_dot", lambda: None)
        for build in (check_report, scan_report):
            outputs += [
                render(build(), fmt, lang)
                for fmt in ("text", "json", "sarif", "junit", "md", "html", "csv")
            ]
    for out in outputs:
        assert out and not SEED_NAME.search(out)


# csv -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+81", "'+81"),
        ("-lg", "'-lg"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("lg-term-01", "lg-term-01"),
        (443, "443"),
        (None, ""),
    ],
)
def test_formula_injection_guard(value, expected) -> None:
    assert safe_cell(value) == expected


def test_csv_is_the_whole_flow_table() -> None:
    report = scan_report()
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + len(report.gaps) + len(report.flows)
    gap, *flows = rows[1:]
    assert gap[COLUMNS.index("verdict")] == "stopped-early"
    assert gap[COLUMNS.index("first_frame")] == "118" and "frame 118" in gap[-1]
    by_verdict = {row[COLUMNS.index("verdict")]: row for row in flows}
    assert set(by_verdict) == {"sanitized", "excepted", "violation", "permitted"}
    assert {row[COLUMNS.index("note")] for row in flows} == {""}
    assert by_verdict["excepted"][COLUMNS.index("channel")] == "CH-1"
    permitted = by_verdict["permitted"]
    assert permitted[COLUMNS.index("src")] == "'-lg-term-01"
    assert permitted[COLUMNS.index("dst")] == "'@lg-mail"


# junit -----------------------------------------------------------------------


def test_junit_one_case_per_rule_and_zone_pair() -> None:
    root = ET.fromstring(render(check_report(), "junit"))
    assert root.tag == "testsuites"
    suites = {s.get("name").split()[0]: s for s in root.iter("testsuite")}
    split = suites["LG-INET-SPLIT"]
    cases = {c.get("name"): c for c in split.iter("testcase")}
    assert set(cases) == {"inet -> lg", "inet -> lgwan", "lg -> inet", "lgwan -> inet"}
    failure = cases["lg -> inet"].find("failure")
    assert failure is not None and "lg-term-01 > fw-core > inet-mail" in failure.text
    assert cases["inet -> lg"].find("failure") is None
    assert split.get("failures") == "1"
    node_case = suites["MN-TERMINAL-CONTROLS"].find("testcase")
    assert node_case.get("name") == "node mn-term-02"
    # a finding by cause fails every zone pair it spans, with its cause in the text
    iso = {c.get("name"): c for c in suites["MN-ISOLATION"].iter("testcase")}
    for pair in ("mn -> lg", "lg -> mn"):
        failure = iso[pair].find("failure")
        assert failure is not None and "bridged by router hoshu-rtr" in failure.text
        assert "unassigned addresses of 10.2.0.0/16" in failure.text
    assert iso["mn -> lgwan"].find("failure") is None
    assert int(root.get("failures")) == 5
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values())


def test_junit_clean_report_passes_everything() -> None:
    root = ET.fromstring(render(empty_report(), "junit"))
    assert root.get("failures") == "0" and int(root.get("tests")) > 14


def test_junit_survives_control_characters() -> None:
    # The loader refuses such text; a report built another way (the library API) must still
    # give well-formed XML.
    topology = dataclasses.replace(sample_topology(), name="bad\x01 サンプル市")
    report = check_report(topology)
    ET.fromstring(render(report, "junit"))


# markdown --------------------------------------------------------------------


def test_markdown_escapes_table_breakers() -> None:
    text = render(check_report(), "md", "en")
    assert '| =HYPERLINK("http://x") 旧システム移行 |' in text
    assert "lg-term-01 → fw-core → inet-mail" in text
    assert "**EXPIRED** 2025-03-31" in text


@pytest.mark.parametrize("fmt", ["junit", "md", "csv"])
@pytest.mark.parametrize("build", [check_report, scan_report])
def test_golden(fmt, build) -> None:
    report = build()
    for lang in ("en", "ja"):
        assert_golden(f"{report.command}.{lang}.{fmt}", render(report, fmt, lang))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_json_writes_flow_findings_in_bulk_as_their_dicts(lang, monkeypatch) -> None:
    """`render` writes flow findings straight from the report (runs through the C encoder);
    the bytes are those of `report_dict` through `json.dumps`, whatever the values hold (quotes,
    control characters, non-ASCII, big numbers, log fields), in runs cut at any length, mixed
    with plan findings, and with a value that is no scalar (left to the general writer)."""
    import json
    import random

    from segcheck.findings import Finding, FlowEvidence, Location
    from segcheck.report import json as json_format
    from segcheck.rules import Severity

    rng = random.Random(14)
    texts = ["", "x", 'a"b\\c', "tab\there\nnl\x00\x1f\x7f", "日本語\u2028é", "/p/ca p.pcap"]
    numbers = [0, 1, 65535, 2**40, -3]
    base = scan_report()
    plan = check_report().findings
    findings: list[object] = []
    for _ in range(300):
        if rng.random() < 0.1:
            findings.append(rng.choice(plan))
            continue
        pick = rng.choice
        flow = FlowEvidence(
            pick(texts), pick(texts), pick(["tcp", "udp", "icmp"]), pick(numbers), pick(numbers),
            pick(numbers), pick(numbers), pick(numbers), pick(texts), pick(texts), pick(texts),
            vlan=pick([None, 10, 4094]), inner_vlan=pick([None, 20]),
            line=pick([None, 3]), pivot=pick([None, "C1xk", '"q"']),
            device_action=pick([None, "deny"]), device_rule=pick([None, "root/1"]),
            device=pick([None, "fw-01"]), last_seen=pick(texts),
        )  # fmt: skip
        findings.append(
            Finding(
                pick(["LG-INET-SPLIT", "GEN-ZONE-ASSIGNED"]),
                pick(list(Severity)),
                pick(texts),
                pick(texts),
                Location(pick(texts), pick([None, 7]), pick([None, 9])),
                pick([None, "lg"]),
                pick([None, "inet"]),
                pick([None, "lgwan"]),
                pick([None, "internet"]),
                pick(texts),
                pick(texts),
                pick([None, "smtp"]),
                evidence=flow,
                channel=pick([None, "CH-1"]),
                fingerprint=pick(texts),
                verdict=pick([None, "violation", "suspect"]),
            )  # fmt: skip
        )
    tupled = FlowEvidence("a", "b", "tcp", 1, 2, 3, 4, 5, "t", "i", "s", pivot=("not", "scalar"))
    odd = dataclasses.replace(findings[1], evidence=tupled)
    findings.insert(150, odd)
    for bulk in (1, 7, 4096):
        monkeypatch.setattr(json_format, "_BULK", bulk)
        report = dataclasses.replace(
            base, findings=tuple(findings), excepted=tuple(reversed(findings[:40]))
        )
        expected = json.dumps(json_format.report_dict(report, lang), ensure_ascii=False, indent=2)
        assert json_format.render(report, lang) == expected + "\n"
