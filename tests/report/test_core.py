"""The formatter core: one label table, the shared helpers, and golden JSON and text."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from segcheck.findings import FlowEvidence, Location
from segcheck.model import Tier, xml_text
from segcheck.report import render
from segcheck.report._common import finding_facts, flow_dict, tier_label, where
from segcheck.report.labels import LABELS, SCOPES, TERMS, Lang, labels

from .conftest import assert_golden, check_report, scan_report

REPORT_DIR = Path(__file__).resolve().parents[2] / "segcheck" / "report"


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("build", [check_report, scan_report])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_golden(fmt: str, build, lang: str) -> None:
    report = build()
    suffix = "txt" if fmt == "text" else fmt
    assert_golden(f"{report.command}.{lang}.{suffix}", render(report, fmt, lang))


def _flow(**changes: object) -> FlowEvidence:
    base = FlowEvidence(
        "10.2.10.11", "10.3.20.25", "tcp", 51000, 25, 3, 180, 7, "2026-03-30T10:00:07Z",
        "captures/x.pcap", "established", vlan=10, inner_vlan=20,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_json_and_sarif_flows_carry_the_same_keys() -> None:
    """SARIF once lacked `inner_vlan` (part of the fingerprint) and `input`: never again."""
    report = scan_report()
    findings = [f for f in report.findings if f.flow is not None]
    assert findings
    as_json = json.loads(render(report, "json"))
    as_sarif = json.loads(render(dataclasses.replace(report, group_by="flow"), "sarif"))
    json_flows = [item["flow"] for item in as_json["findings"] if item["flow"] is not None]
    sarif_flows = [
        r["properties"]["flow"]
        for r in as_sarif["runs"][0]["results"]
        if "flow" in r["properties"] and "suppressions" not in r
    ]
    assert len(json_flows) == len(sarif_flows) == len(findings)
    for from_json, from_sarif in zip(json_flows, sarif_flows, strict=True):
        assert list(from_json) == list(from_sarif)  # same keys, same order
        assert from_json == from_sarif
    keys = {field.name for field in dataclasses.fields(FlowEvidence)}
    assert set(json_flows[0]) == keys  # every field of the evidence, nothing else


def test_flow_dict_keeps_the_inner_vlan() -> None:
    assert flow_dict(_flow())["inner_vlan"] == 20
    assert flow_dict(_flow())["input"] == "captures/x.pcap"


@pytest.mark.parametrize(
    ("location", "mark", "expected"),
    [
        (Location("t.yaml", 12), "#", "t.yaml:12"),
        (Location("c.pcap", frame=7), "#", "c.pcap#7"),
        (Location("c.pcap", frame=7), " #", "c.pcap #7"),
        (Location("t.yaml"), "#", "t.yaml"),
    ],
)
def test_where(location: Location, mark: str, expected: str) -> None:
    assert where(location, mark) == expected


def test_finding_facts_in_order_and_only_those_present() -> None:
    report = check_report()
    for finding in report.findings:
        keys = [key for key, _ in finding_facts(finding)]
        wanted = ["path", "permits", "remove_nodes", "remove_permits", "narrow_permits"]
        wanted += ["remove_links", "disruptive"]
        assert keys == [k for k in wanted if k in keys]
        for key, items in finding_facts(finding):
            assert items, key
    assert any(finding_facts(f) for f in report.findings)


def test_tier_label() -> None:
    assert tier_label(Tier.LGWAN, "en") == "lgwan"
    assert tier_label("lgwan", "ja") == "LGWAN接続系"
    assert tier_label(None, "ja") == ""


def test_xml_text_replaces_what_xml_cannot_carry() -> None:
    assert xml_text("a\x00b\x1bc\ufffed") == "a\ufffdb\ufffdc\ufffdd"
    assert xml_text("tab\tnew\nline 日本") == "tab\tnew\nline 日本"


# labels ------------------------------------------------------------------------------------


def test_every_term_has_both_languages() -> None:
    for key, (en, ja) in TERMS.items():
        assert en.strip() and ja.strip(), key
        assert "." not in key or key.split(".", 1)[0] in SCOPES, key
        fields_en = set(re.findall(r"\{(\w+)\}", en))
        assert fields_en == set(re.findall(r"\{(\w+)\}", ja)), key
    assert set(LABELS) == set(Lang)


def test_a_format_sees_its_own_words_over_the_shared_ones() -> None:
    assert labels("en", "text")["profile"] == "profile"
    assert labels("en", "md")["profile"] == "Profile"
    assert labels("ja", "html")["path"] == "パス"  # html's input column, not a witness path
    assert labels("ja", "md")["path"] == "経路"
    assert labels("fr", "md")["path"] == "path"  # anything but ja is English
    with pytest.raises(ValueError):
        labels("en", "pdf")


def _keys_used(source: str) -> set[str]:
    return set(re.findall(r"""\bt\[['"]([\w -]+)['"]\]""", source))


@pytest.mark.parametrize(
    ("scope", "files"),
    [
        ("text", ["text.py"]),
        ("md", ["markdown.py"]),
        ("junit", ["junit.py"]),
        ("import", ["imports.py"]),
        ("html", ["html.py", "templates/report.html.j2"]),
    ],
)
def test_every_label_a_format_reads_exists(scope: str, files: list[str]) -> None:
    used: set[str] = set()
    for name in files:
        source = (REPORT_DIR / name).read_text(encoding="utf-8")
        used |= _keys_used(source)
        used |= set(re.findall(r"\bt\.(\w+)", source)) if name.endswith(".j2") else set()
    assert used
    for lang in Lang:
        missing = used - set(labels(lang, scope))
        assert not missing, (scope, lang, missing)


def test_junit_witness_lines_are_translated() -> None:
    ja = render(check_report(), "junit", "ja")
    en = render(check_report(), "junit", "en")
    assert "  経路: " in ja and "  path: " not in ja
    assert "  是正: 許可ルールを削除 " in ja and "remove permit" not in ja
    assert "  path: " in en and "  fix: remove permit " in en
    scan_ja = render(scan_report(), "junit", "ja")
    assert "  通信: tcp 10.2.10.11:51000 -&gt; 10.3.20.25:25 確立, " in scan_ja
    assert "captures/office-day1.pcap のフレーム 7" in scan_ja and "frame 7 of" not in scan_ja
    assert "<system-out>例外 CH-1: " in scan_ja
    scan_en = render(scan_report(), "junit", "en")
    assert "frame 7 of captures/office-day1.pcap" in scan_en
    assert "<system-out>covered by channel CH-1: " in scan_en


def test_every_matrix_cell_kind_has_html_words() -> None:
    from segcheck.policy import CellKind

    for lang in Lang:
        assert {kind.value for kind in CellKind} <= set(labels(lang, "html"))
