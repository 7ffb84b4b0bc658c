"""A rule is listed once in text, Markdown and HTML, even when its findings differ in severity."""

from __future__ import annotations

import re
from pathlib import Path

from segcheck import load_topology
from segcheck.findings import Location, PathEvidence, Report, by_rule, sorted_findings
from segcheck.report import render
from segcheck.rules import LG_INET_SPLIT, MN_NO_INTERNET, Severity, make_finding

ALPHA = Path(__file__).resolve().parents[1] / "topologies" / "alpha.yaml"


NONE = PathEvidence()  # grouping looks at rules and severities only


def split_rule_report() -> Report:
    topology = load_topology(ALPHA)
    findings = sorted_findings(
        [
            make_finding(
                LG_INET_SPLIT,
                "established",
                "確立",
                Location("c.pcap", frame=1),
                src="a",
                dst="b",
                evidence=NONE,
            ),
            make_finding(
                MN_NO_INTERNET,
                "other",
                "他",
                Location("c.pcap", frame=2),
                src="c",
                dst="d",
                evidence=NONE,
            ),
            make_finding(
                LG_INET_SPLIT,
                "attempted",
                "試行",
                Location("c.pcap", frame=3),
                src="e",
                dst="f",
                evidence=NONE,
                severity=Severity.WARNING,
            ),
        ]
    )
    return Report("0", "2026-11-22T00:00:00Z", "scan", topology, (topology.source,), findings)


def test_by_rule_keeps_one_group_per_rule_in_order_of_first_appearance() -> None:
    groups = by_rule(split_rule_report().findings)
    assert [(rule, len(items)) for rule, items in groups] == [
        ("LG-INET-SPLIT", 2),
        ("MN-NO-INTERNET", 1),
    ]


def test_html_anchors_and_text_headings_are_unique() -> None:
    report = split_rule_report()
    html = render(report, "html", "en")
    anchors = re.findall(r'id="(rule-[A-Z-]+)"', html)
    assert len(anchors) == len(set(anchors)) and "rule-LG-INET-SPLIT" in anchors
    text = render(report, "text", "en")
    assert len(re.findall(r"^LG-INET-SPLIT ", text, flags=re.M)) == 1
