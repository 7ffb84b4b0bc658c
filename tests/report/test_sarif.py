"""SARIF: valid against the official 2.1.0 schema, and carrying what code scanning needs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from segcheck.findings import Report
from segcheck.report import render
from segcheck.rules import RULES

from .conftest import CAPTURE_PATH, TOPOLOGY_PATH, assert_golden, check_report, empty_report
from .conftest import scan_report as build_scan_report

SCHEMA = Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"


def _sarif(report: Report, lang: str = "en") -> dict:
    return json.loads(render(report, "sarif", lang))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("build", [check_report, build_scan_report, empty_report])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_valid_against_schema(validator, build, lang) -> None:
    log = _sarif(build(), lang)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_rules_once_each_with_japanese_and_sources() -> None:
    run = _sarif(check_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    split = rules[[r["id"] for r in rules].index("LG-INET-SPLIT")]
    assert split["properties"]["name_ja"] == "通信経路の分割"
    assert split["defaultConfiguration"]["level"] == "error"
    assert "根拠" in split["help"]["text"]
    assert "(狛江市情報セキュリティ基本方針) 2(12), 7(1)イ" in split["help"]["text"]
    assert "狛江市情報セキュリティ基本方針 7(1)イ" in split["properties"]["sources"]
    warning = rules[[r["id"] for r in rules].index("LG-OUTBOUND-DATA")]
    assert warning["defaultConfiguration"]["level"] == "warning"


def test_results_locations_codeflows_fingerprints() -> None:
    report = check_report()
    run = _sarif(report)["runs"][0]
    results = run["results"]
    first = results[0]
    assert first["ruleId"] == "LG-INET-SPLIT"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "LG-INET-SPLIT"
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == TOPOLOGY_PATH
    assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert loc["region"]["startLine"] == report.findings[0].location.line
    hops = [
        step["location"]["message"]["text"]
        for step in first["codeFlows"][0]["threadFlows"][0]["locations"]
    ]
    assert hops == ["lg-term-01", "fw-core", "inet-mail"]
    assert first["partialFingerprints"]["segcheck/v1"] == report.findings[0].fingerprint
    assert run["artifacts"][0]["hashes"]["sha-256"] == report.topology.source.sha256
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "://" not in uri


def test_excepted_is_suppressed_with_channel_reason() -> None:
    results = _sarif(check_report())["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1
    (sup,) = suppressed[0]["suppressions"]
    assert sup == {
        "kind": "external",
        "status": "accepted",
        "justification": "中間サーバーへの副本登録",
        "properties": {"channel": "CH-1"},
    }


def test_flows_point_at_capture_with_frame_and_notification() -> None:
    run = _sarif(build_scan_report())["runs"][0]
    flow_result = run["results"][0]
    loc = flow_result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == CAPTURE_PATH and "region" not in loc
    assert flow_result["properties"]["frame"] == 7
    levels = {r["ruleId"]: r["level"] for r in run["results"] if "suppressions" not in r}
    assert levels == {"LG-INET-SPLIT": "error", "MN-NO-INTERNET": "warning"}
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["properties"]["frame"] == 118 and CAPTURE_PATH in note["message"]["text"]


def test_japanese_message_text() -> None:
    result = _sarif(check_report(), "ja")["runs"][0]["results"][0]
    assert result["message"]["text"].startswith("lg (LGWAN接続系)")
    assert result["properties"]["message_en"].startswith("lg (lgwan)")


def test_absolute_paths_never_leak(tmp_path, monkeypatch) -> None:
    from segcheck.report.sarif import artifact_uri

    monkeypatch.chdir(tmp_path)
    assert artifact_uri(str(tmp_path / "topo" / "市.yaml")) == "topo/%E5%B8%82.yaml"
    assert artifact_uri("/elsewhere/x y.pcap") == "x%20y.pcap"


SMALL_TOPOLOGY = """\
segcheck: 1
name: t
zones:
  mn: {tier: mynumber, subnets: [10.1.0.0/16]}
  inet: {tier: internet, subnets: [10.3.0.0/16]}
nodes:
  t1: {role: terminal, ip: 10.1.0.5}
  fw: {role: firewall, ip: [10.1.0.1, 10.3.0.1], permit: [{id: P1, from: mn, to: inet, service: any}]}
"""


def _uris(log: dict) -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "uri" in node and "uriBaseId" in node:
                found.add(node["uri"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(log)
    return found


@pytest.mark.parametrize("git", ["dir", "file"])  # a clone, or a linked worktree
def test_uri_is_relative_to_the_checkout_from_a_subfolder(tmp_path, monkeypatch, git) -> None:
    """`segcheck check ../topo/x.yaml` run in repo/sub names repo/topo/x.yaml as topo/x.yaml."""
    from click.testing import CliRunner

    from segcheck.cli import main

    repo = tmp_path / "repo"
    (repo / "topo").mkdir(parents=True)
    (repo / "sub").mkdir()
    if git == "dir":
        (repo / ".git").mkdir()
    else:
        (repo / ".git").write_text("gitdir: /elsewhere/.git/worktrees/repo\n", encoding="utf-8")
    (repo / "topo" / "x.yaml").write_text(SMALL_TOPOLOGY, encoding="utf-8")
    monkeypatch.chdir(repo / "sub")
    result = CliRunner().invoke(main, ["check", "../topo/x.yaml", "--format", "sarif"])
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    assert log["runs"][0]["results"], "the permit must give a finding with a location"
    assert _uris(log) == {"topo/x.yaml"}
    described = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"]
    assert ".git" in described


def test_uri_outside_any_checkout_is_the_file_name(tmp_path, monkeypatch) -> None:
    from segcheck.report.sarif import artifact_uri, source_root

    (tmp_path / "work" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work" / "sub")
    if (tmp_path / ".git").exists() or source_root() != tmp_path / "work" / "sub":
        pytest.skip("the temporary folder lies inside a git checkout")
    assert artifact_uri("../topo/x.yaml") == "x.yaml"  # never ../topo/x.yaml
    assert artifact_uri("./a/../b/c.pcap") == "b/c.pcap"


@pytest.mark.parametrize("build", [check_report, build_scan_report])
def test_golden(build) -> None:
    report = build()
    assert_golden(f"{report.command}.sarif", render(report, "sarif", "en"))
