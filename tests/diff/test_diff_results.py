"""Diffs of result files, `--baseline`, capture identities, SARIF, determinism, bad input."""

from __future__ import annotations

import csv
import io
import json
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from segcheck import parse_topology
from segcheck.cli import exit_code, main
from segcheck.diff import State, compare, finding_from_dict, read_result, render, with_baseline
from segcheck.engine import check
from segcheck.findings import (
    CaptureSummary,
    Finding,
    FlowEvidence,
    Location,
    Report,
    flow_fingerprint,
    sorted_findings,
)
from segcheck.model import InputFile
from segcheck.report import csv as csv_format
from segcheck.report import json as json_format
from segcheck.report.sarif import run_guid
from segcheck.rules import Severity

from .helpers import FW40, TODAY, kinds, only, states, topology, write

SCHEMA = Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"
NO_CH1 = (
    (
        "  - id: CH-1\n    from: mn-atena\n    to: 198.18.200.10\n    service: https\n"
        "    reason: 中間サーバーへの副本登録\n    approved_by: CISO\n"
        "    ticket: SEC-2025-014\n    expires: 2027-03-31\n",
        "  []\n",
    ),
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def result_file(tmp_path: Path, name: str, text: str, lang: str = "en") -> str:
    """`check --format json` of a topology text, written next to it."""
    topo = write(tmp_path, name + ".yaml", text)
    code, out, err = run("check", topo, "--format", "json", "--today", "2026-05-01",
                         "--lang", lang, "--timestamp", "2026-05-01T00:00:00Z")  # fmt: skip
    assert code in (0, 1), err
    return write(tmp_path, name + ".json", out)


# -- result vs result ---------------------------------------------------------------------------


def test_results_diff_like_their_topologies(tmp_path: Path) -> None:
    old_text = topology(permits=FW40, replace=NO_CH1)
    new_text = topology(
        permits=FW40.replace("smtp}", "[smtp, https]}"),
        nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}",
    )
    old_json, new_json = (
        result_file(tmp_path, "old", old_text),
        result_file(tmp_path, "new", new_text),
    )
    old_topo, new_topo = (str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"))
    by_results = compare(read_result(old_json), read_result(new_json))
    from segcheck.diff import load_side

    by_plans = compare(load_side(old_topo, today=TODAY), load_side(new_topo, today=TODAY))
    assert (
        states(by_results)
        == states(by_plans)
        == [
            ("new", "GEN-NO-BRIDGING"),
            ("updated", "LG-INET-SPLIT"),
            ("excepted-now", "MN-ISOLATION"),
        ]
    )
    assert by_results.plan is None and by_plans.plan is not None
    # the channel register travels in the result: approver and expiry without the topology
    excepted = only(by_results, State.EXCEPTED_NOW)
    assert excepted.channel is not None and excepted.channel.approved_by == "CISO"
    assert kinds(excepted) == {("channel-added", "CH-1")}
    assert kinds(only(by_results, State.NEW)) == {("plan-changed", new_topo)}
    code, out, _ = run("diff", old_json, new_json, "--lang", "en")
    assert code == 1 and "no plan view" in out


def test_a_result_written_before_causes_still_matches(tmp_path: Path) -> None:
    """Results of a segcheck before issue 12 have no `cause` and other path fingerprints: their
    findings match by rule, zone pair, opening and service, unchanged."""
    old_json = result_file(tmp_path, "old", topology(permits=FW40))
    data = json.loads(Path(old_json).read_text(encoding="utf-8"))
    for finding in (*data["findings"], *data["excepted"]):
        for key in ("cause", "routes", "src_unassigned", "dst_unassigned"):
            finding.pop(key, None)
        finding["fingerprint"] = "0" * 32
    data.pop("fix_plan", None)
    before = write(tmp_path, "before.json", json.dumps(data, ensure_ascii=False))
    diff = compare(read_result(before), read_result(old_json))
    assert states(diff) == [("unchanged", "LG-INET-SPLIT")]


def test_a_result_written_in_japanese_reads_back(tmp_path: Path) -> None:
    old_json = result_file(tmp_path, "old", topology(), "ja")
    new_json = result_file(tmp_path, "new", topology(permits=FW40), "ja")
    code, out, _ = run("diff", old_json, new_json, "--lang", "ja")
    assert code == 1 and "新規 (1)" in out and "通信経路の分割" in out


def test_result_against_topology(tmp_path: Path) -> None:
    old_json = result_file(tmp_path, "old", topology(permits=FW40))
    new = write(tmp_path, "new.yaml", topology())
    code, out, _ = run("diff", old_json, new, "--today", "2026-05-01", "--lang", "en")
    assert code == 0 and "FIXED (1)" in out


def test_round_trip_of_findings(tmp_path: Path) -> None:
    report = check(parse_topology(topology(permits=FW40).encode(), "t.yaml"), today=TODAY)
    flow = _flow_finding(51000)
    for finding in (*report.findings, *report.excepted, flow):
        for lang in ("en", "ja"):
            data = json_format.finding_dict(finding, lang)
            back = finding_from_dict(json.loads(json.dumps(data)))
            assert json_format.finding_dict(back, lang) == data
            assert back.fingerprint == finding.fingerprint and back.flow == finding.flow


# -- captures: identity without the client port -------------------------------------------------


def _flow_finding(sport: int, state: str = "established", severity: str = "critical") -> Finding:
    ev = FlowEvidence("10.2.10.11", "10.3.20.25", "tcp", sport, 25, 3, 300, sport % 100,
                      "2026-04-01T00:00:00+00:00", "cap.pcap", state)  # fmt: skip
    return Finding(
        "LG-INET-SPLIT",  # type: ignore[arg-type]
        Severity(severity),
        f"flow lg-term-01 -> inet-mail tcp/25 from port {sport}",
        f"通信 lg-term-01 -> inet-mail tcp/25 ポート {sport}",
        Location("cap.pcap", frame=sport % 100),
        "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-mail", "smtp",
        evidence=ev, verdict="violation",
        fingerprint=flow_fingerprint("LG-INET-SPLIT", "10.2.10.11", "10.3.20.25", "tcp", 25, None),
    )  # fmt: skip


def _scan_report(findings: list[Finding], capture_sha: str) -> Report:
    topo = parse_topology(topology().encode(), "town.yaml")
    capture = CaptureSummary("cap.pcap", "pcap", capture_sha, 100, 0, flows=len(findings) or 1)
    return Report(
        "0.1.0",
        "2026-05-01T00:00:00Z",
        "scan",
        topo,
        (topo.source, InputFile("cap.pcap", "pcap", capture_sha)),
        sorted_findings(findings),
        captures=(capture,),
        today="2026-05-01",
    )


def _scan_result(tmp_path: Path, name: str, report: Report) -> str:
    return write(tmp_path, name, json_format.render(report, "en"))


def test_next_months_capture_of_the_same_violation_is_unchanged(tmp_path: Path) -> None:
    april = _scan_result(tmp_path, "april.json", _scan_report([_flow_finding(51000)], "a" * 64))
    may = _scan_report([_flow_finding(52000), _flow_finding(52001)], "b" * 64)
    diff = compare(read_result(april), read_result(_scan_result(tmp_path, "may.json", may)))
    change = only(diff, State.UNCHANGED)
    assert (change.old_count, change.new_count) == (1, 2) and not diff.failing()
    baseline = with_baseline(may, read_result(april))
    assert baseline.baseline is not None
    assert {baseline.baseline.state(f) for f in baseline.findings} == {"unchanged"}
    assert exit_code(baseline, "high") == 0 and exit_code(may, "high") == 1


def test_an_attempt_that_now_succeeds_is_escalated(tmp_path: Path) -> None:
    attempt = _scan_report([_flow_finding(51000, "attempted", "warning")], "a" * 64)
    success = _scan_report([_flow_finding(52000)], "b" * 64)
    diff = compare(read_result(_scan_result(tmp_path, "a.json", attempt)),
                   read_result(_scan_result(tmp_path, "b.json", success)))  # fmt: skip
    change = only(diff, State.UPDATED)
    assert change.escalated and ("state", "attempted", "established") in change.changes
    assert kinds(change) == {("traffic-changed", "cap.pcap")}
    assert diff.failing() == (change,) and diff.exit_status() == 1
    annotated = with_baseline(success, read_result(str(tmp_path / "a.json")))
    assert exit_code(annotated, "high") == 1
    assert exit_code(annotated, "critical") == 1


def test_traffic_seen_and_gone(tmp_path: Path) -> None:
    empty = _scan_report([], "a" * 64)
    seen = _scan_report([_flow_finding(51000)], "b" * 64)
    a = read_result(_scan_result(tmp_path, "a.json", empty))
    b = read_result(_scan_result(tmp_path, "b.json", seen))
    assert kinds(only(compare(a, b), State.NEW)) == {("traffic-seen", "cap.pcap")}
    assert kinds(only(compare(b, a), State.FIXED)) == {("traffic-gone", "cap.pcap")}


# -- --baseline on check ------------------------------------------------------------------------


def test_check_baseline_exit_counts_only_new_or_escalated(tmp_path: Path) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    same = str(tmp_path / "base.yaml")
    code, out, _ = run("check", same, "--today", "2026-05-01", "--baseline", base_json,
                       "--lang", "en")  # fmt: skip
    assert code == 0 and "[critical] [unchanged]" in out  # the known finding no longer fails
    code, _, _ = run("check", same, "--today", "2026-05-01", "--lang", "en")
    assert code == 1  # without the baseline it does

    worse = write(tmp_path, "worse.yaml", topology(
        permits=FW40, nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}"))  # fmt: skip
    code, out, _ = run("check", worse, "--today", "2026-05-01", "--baseline", base_json,
                       "--lang", "en")  # fmt: skip
    assert code == 1 and "[new]" in out and "[unchanged]" in out
    code, _, _ = run("check", worse, "--today", "2026-05-01", "--baseline", base_json,
                     "--fail-on", "critical")  # fmt: skip
    assert code == 1  # GEN-NO-BRIDGING is critical

    better = write(tmp_path, "better.yaml", topology())
    code, out, _ = run("check", better, "--today", "2026-05-01", "--baseline", base_json,
                       "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert code == 0 and data["baseline"]["gating"] == 0
    assert [f["state"] for f in data["baseline"]["absent"]] == ["fixed"]
    assert data["excepted"][0]["state"] == "unchanged"
    assert data["baseline"]["guid"] == read_result(base_json).guid


def test_check_baseline_json_output_is_itself_a_baseline(tmp_path: Path) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    code, out, _ = run("check", str(tmp_path / "base.yaml"), "--today", "2026-05-01",
                       "--baseline", base_json, "--format", "json")  # fmt: skip
    again = write(tmp_path, "again.json", out)
    code, _, err = run("check", str(tmp_path / "base.yaml"), "--today", "2026-05-01",
                       "--baseline", again)  # fmt: skip
    assert code == 0, err


def test_bad_baseline_exits_2_with_file_and_line(tmp_path: Path) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    data = Path(base_json).read_text(encoding="utf-8")
    bad = write(tmp_path, "bad.json", data.replace('"rule": "LG-INET-SPLIT"', '"rule": "NOPE"', 1))
    line = next(i for i, text in enumerate(bad and Path(bad).read_text().splitlines(), 1)
                if '"NOPE"' in text)  # fmt: skip
    code, out, err = run("check", str(tmp_path / "base.yaml"), "--baseline", bad)
    assert code == 2 and f"bad.json:{line}: unknown rule 'NOPE'" in err and "Traceback" not in err
    sarif = write(tmp_path, "x.sarif", '{"version": "2.1.0", "runs": []}')
    code, _, err = run("check", str(tmp_path / "base.yaml"), "--baseline", sarif)
    assert code == 2 and "a SARIF log" in err
    code, _, err = run(
        "check", str(tmp_path / "base.yaml"), "--baseline", str(tmp_path / "no.json")
    )
    assert code == 2 and "no such file" in err
    code, _, err = run("diff", sarif, base_json)
    assert code == 2 and "a SARIF log" in err


def test_check_and_scan_results_are_not_compared(tmp_path: Path) -> None:
    check_json = result_file(tmp_path, "c", topology())
    scan_json = _scan_result(tmp_path, "s.json", _scan_report([_flow_finding(1)], "a" * 64))
    code, _, err = run("diff", check_json, scan_json)
    assert code == 2 and "same command" in err


# -- SARIF ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_diff_sarif_states_and_guids(tmp_path: Path, validator) -> None:
    old = write(tmp_path, "old.yaml", topology(permits=FW40, replace=NO_CH1))
    new = write(tmp_path, "new.yaml", topology(
        nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}"))  # fmt: skip
    code, out, _ = run("diff", old, new, "--format", "sarif", "--today", "2026-05-01",
                       "--show-unchanged")  # fmt: skip
    log = json.loads(out)
    validator.validate(log)
    run0 = log["runs"][0]
    got = sorted((r["ruleId"], r["baselineState"]) for r in run0["results"])
    assert got == [
        ("GEN-NO-BRIDGING", "new"),
        ("LG-INET-SPLIT", "absent"),
        ("MN-ISOLATION", "updated"),
    ]
    excepted = next(r for r in run0["results"] if r["ruleId"] == "MN-ISOLATION")
    assert excepted["suppressions"][0]["properties"]["approved_by"] == "CISO"
    # the guids are those of the plain SARIF runs of check on each topology
    _, old_sarif, _ = run("check", old, "--format", "sarif", "--today", "2026-05-01")
    _, new_sarif, _ = run("check", new, "--format", "sarif", "--today", "2026-05-01")
    assert run0["baselineGuid"] == json.loads(old_sarif)["runs"][0]["automationDetails"]["guid"]
    assert (
        run0["automationDetails"]["guid"]
        == (json.loads(new_sarif)["runs"][0]["automationDetails"]["guid"])
    )
    assert run0["baselineGuid"] != run0["automationDetails"]["guid"]


def test_check_baseline_sarif(tmp_path: Path, validator) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    new = write(tmp_path, "new.yaml", topology(
        nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}"))  # fmt: skip
    code, out, _ = run("check", new, "--format", "sarif", "--today", "2026-05-01",
                       "--baseline", base_json)  # fmt: skip
    log = json.loads(out)
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert all("baselineState" in r for r in results)
    assert sorted((r["ruleId"], r["baselineState"]) for r in results) == [
        ("GEN-NO-BRIDGING", "new"),
        ("LG-INET-SPLIT", "absent"),
        ("MN-ISOLATION", "unchanged"),
    ]
    assert log["runs"][0]["baselineGuid"] == read_result(base_json).guid


def _junit_cases(xml: str) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in ET.fromstring(xml).iter("testcase")}


def test_check_baseline_junit_fails_only_new_or_escalated(tmp_path: Path) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    worse = write(tmp_path, "worse.yaml", topology(
        permits=FW40, nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}"))  # fmt: skip
    args = ("check", worse, "--today", "2026-05-01", "--format", "junit", "--lang", "en")
    code, plain, _ = run(*args)
    assert code == 1 and _junit_cases(plain)["lg -> inet"].find("failure") is not None
    code, out, _ = run(*args, "--baseline", base_json)
    assert code == 1
    cases = _junit_cases(out)
    new = cases["node dual-01"]  # GEN-NO-BRIDGING: not in the baseline
    failure = new.find("failure")
    assert failure is not None and "[critical] [new]" in (failure.text or "")
    known = cases["lg -> inet"]  # FW-40's path: in the baseline (one more pair now)
    assert known.find("failure") is None
    skipped = known.find("skipped")
    assert skipped is not None and base_json in skipped.get("message", "")
    assert "[critical] [updated]" in (known.findtext("system-out") or "")
    excepted = cases["mn -> lgwan"]  # covered by CH-1 before and now
    assert "[unchanged]" in (excepted.findtext("system-out") or "")
    root = ET.fromstring(out)
    assert (root.get("failures"), root.get("skipped")) == ("1", "1")

    better = write(tmp_path, "better.yaml", topology())
    code, out, _ = run("check", better, "--today", "2026-05-01", "--format", "junit",
                       "--lang", "en", "--baseline", base_json)  # fmt: skip
    fixed = _junit_cases(out)["lg -> inet"]
    assert code == 0 and fixed.find("failure") is None and fixed.find("skipped") is None
    assert "fixed since the baseline: [critical]" in (fixed.findtext("system-out") or "")


def _first_records(capture: Path, count: int) -> bytes:
    """A classic little-endian pcap cut after its first `count` records (no damage)."""
    data = capture.read_bytes()
    offset = 24
    for _ in range(count):
        offset += 16 + struct.unpack_from("<I", data, offset + 8)[0]
    return data[:offset]


def test_scan_baseline_csv_has_each_rows_state(tmp_path: Path, repo_root: Path) -> None:
    topo = str(repo_root / "topologies" / "alpha.yaml")
    full = str(repo_root / "captures" / "alpha" / "alpha.pcap")
    part = tmp_path / "part.pcap"
    part.write_bytes(_first_records(Path(full), 57))  # through the first MN-NO-INTERNET flow
    common = ("--today", "2026-05-01", "--lang", "en")
    results = {}
    for name, capture in (("full", full), ("part", str(part))):
        code, out, err = run("scan", topo, capture, "--format", "json", *common)
        assert code == 1, err
        results[name] = write(tmp_path, f"{name}.json", out)

    code, out, _ = run("scan", topo, full, "--format", "csv", "--no-bom", *common)
    assert next(csv.reader(io.StringIO(out))) == list(csv_format.COLUMNS)
    code, out, _ = run(
        "scan", topo, full, "--format", "csv", "--no-bom", "--baseline", results["part"], *common
    )
    assert code == 1  # the findings after frame 57 are new
    header, *rows = csv.reader(io.StringIO(out))
    assert header == [*csv_format.COLUMNS, "baseline", "escalated"]
    table = [dict(zip(header, row, strict=True)) for row in rows]
    marks = {(r["first_frame"], r["verdict"], r["baseline"], r["escalated"]) for r in table}
    assert ("1", "permitted", "", "") in marks  # no finding, no state
    assert ("22", "excepted", "unchanged", "false") in marks  # covered by CH-MN-01 both times
    assert ("36", "violation", "unchanged", "false") in marks
    assert ("57", "violation", "unchanged", "false") in marks
    assert ("58", "violation", "new", "false") in marks
    late = [r for r in table if r["rule"] and int(r["first_frame"]) > 57]
    assert late and all(r["baseline"] == "new" for r in late)

    code, out, _ = run("scan", topo, str(part), "--format", "csv", "--no-bom", "--baseline", results["full"],
                       *common)  # fmt: skip
    header, *rows = csv.reader(io.StringIO(out))
    table = [dict(zip(header, row, strict=True)) for row in rows]
    fixed = [r for r in table if r["baseline"] == "fixed"]
    assert {r["first_frame"] for r in fixed} == {r["first_frame"] for r in late}
    assert all(r["input"] == full and r["verdict"] == "" and r["rule"] for r in fixed)
    assert all(
        r["note"] == f"in the baseline {results['full']}, not seen in this run" for r in fixed
    )
    assert table[-len(fixed) :] == fixed  # after the run's own flows


def test_run_guid_is_derived_from_input_hashes_only() -> None:
    a = (InputFile("x/town.yaml", "topology", "1" * 64), InputFile("c.conf", "config", "2" * 64))
    moved = tuple(replace(i, path="elsewhere/" + i.path) for i in reversed(a))
    assert run_guid("2026-05-01", a) == run_guid("2026-05-01", moved)
    assert run_guid("2026-05-01", a) != run_guid("2026-05-02", a)
    assert run_guid("2026-05-01", a) != run_guid("2026-05-01", a[:1])


# -- renderers and determinism -------------------------------------------------------------------


FORMATS = ("text", "json", "sarif", "md", "html")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_two_runs_are_byte_identical_apart_from_the_timestamp(tmp_path: Path, lang: str) -> None:
    old = write(tmp_path, "old.yaml", topology(permits=FW40, replace=NO_CH1))
    new = write(tmp_path, "new.yaml", topology(
        nodes="  lg-term-02: {role: terminal, ip: 10.2.10.12}"))  # fmt: skip
    for fmt in FORMATS:
        outputs = []
        for stamp in ("2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z", "2027-01-02T03:04:05Z"):
            code, out, err = run("diff", old, new, "--format", fmt, "--lang", lang,
                                 "--today", "2026-05-01", "--timestamp", stamp)  # fmt: skip
            assert code == 0, err
            outputs.append(out)
        assert outputs[0] == outputs[1], fmt
        differing = [
            (a, b)
            for a, b in zip(outputs[0].splitlines(), outputs[2].splitlines(), strict=True)
            if a != b
        ]
        assert len(differing) <= 1 and all("2027-01-02" in b for _, b in differing), fmt


def test_renderers_in_both_languages(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", topology(permits=FW40, replace=NO_CH1))
    hostile = topology(replace=(("approved_by: CISO", 'approved_by: "<script>x</script> | *"'),))
    new = write(tmp_path, "new.yaml", hostile)
    from segcheck.diff import diff_files

    diff = diff_files(old, new, today=TODAY, generated_at="T")
    md_en, md_ja = render(diff, "md", "en"), render(diff, "md", "ja")
    assert "## FIXED (1)" in md_en and "## 解消 (1)" in md_ja
    assert "## EXCEPTED NOW (1)" in md_en and "## 例外で許可に変更 (1)" in md_ja
    assert "permit-removed FW-40" in md_en and "許可ルール削除 FW-40" in md_ja
    assert "\\<script\\>" in md_en and "<script>" not in md_en
    html_en, html_ja = render(diff, "html", "en"), render(diff, "html", "ja")
    assert "<script>" not in html_en and "&lt;script&gt;" in html_en
    assert '<html lang="ja">' in html_ja and "解消 (1)" in html_ja
    assert "Content-Security-Policy" in html_en
    data = json.loads(render(diff, "json", "en"))
    assert data["kind"] == "diff" and data["summary"]["fixed"]["critical"] == 1
    assert data["plan_changes"]["permits"]["removed"][0]["closes"][0]["rule"] == "LG-INET-SPLIT"
    excepted = next(f for f in data["findings"] if f["state"] == "excepted-now")
    assert excepted["channel_now"]["expires"] == "2027-03-31"
    assert excepted["baseline_state"] == "updated"


ZEEK_HEADER = (
    "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
    "conn_state\torig_pkts\tresp_pkts\n"
)


def _zeek(tmp_path: Path, name: str, rows: list[tuple[int, str, int, str]]) -> str:
    """A conn.log of (client port, responder, responder port, state) from lg-term-01."""
    lines = [
        f"{1767225600 + i}\tC{i}\t10.2.10.11\t{sport}\t{dst}\t{dport}\ttcp\t{state}\t3\t"
        f"{0 if state == 'S0' else 3}\n"
        for i, (sport, dst, dport, state) in enumerate(rows)
    ]
    return write(tmp_path, name, ZEEK_HEADER + "".join(lines))


def test_scan_baseline_on_zeek_logs(tmp_path: Path) -> None:
    town = write(tmp_path, "town.yaml", topology())
    april = _zeek(tmp_path, "april.log", [(51000, "10.3.20.25", 25, "S0")])
    code, out, err = run("scan", town, april, "--format", "json", "--today", "2026-05-01",
                         "--attempted-severity", "warning")  # fmt: skip
    assert code == 0, err  # an attempt is a warning, below --fail-on high
    baseline = write(tmp_path, "april.json", out)
    # May: the same violation from two other client ports, answered this time, and a new one
    may = _zeek(tmp_path, "may.log", [(52000, "10.3.20.25", 25, "SF"),
                                      (52001, "10.3.20.25", 25, "SF"),
                                      (52002, "10.3.20.26", 445, "SF")])  # fmt: skip
    code, out, _ = run("scan", town, may, "--format", "json", "--today", "2026-05-01",
                       "--baseline", baseline)  # fmt: skip
    data = json.loads(out)
    got = sorted({(f["flow"]["dst_ip"], f["state"], f["escalated"]) for f in data["findings"]})
    assert got == [("10.3.20.25", "updated", True), ("10.3.20.26", "new", False)]
    assert code == 1 and data["baseline"]["gating"] == 3  # two escalated flows and the new one
    same = _zeek(tmp_path, "june.log", [(53000, "10.3.20.25", 25, "S0")])
    code, out, err = run("scan", town, same, "--today", "2026-05-01", "--baseline", baseline,
                         "--fail-on", "warning", "--lang", "en")  # fmt: skip
    assert code == 0 and "[unchanged]" in out, err  # a warning, but not a new one


def test_check_baseline_states_in_markdown_and_html(tmp_path: Path) -> None:
    base_json = result_file(tmp_path, "base", topology(permits=FW40))
    new = write(tmp_path, "new.yaml", topology(
        nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}"))  # fmt: skip
    args = ("check", new, "--today", "2026-05-01", "--baseline", base_json)
    _, md_out, _ = run(*args, "--format", "md", "--lang", "en")
    assert "- **critical** \\[new\\] node 'dual-01'" in md_out
    assert "| CH-1 \\[unchanged\\] |" in md_out and "- findings fixed since: 1" in md_out
    _, html_out, _ = run(*args, "--format", "html", "--lang", "ja")
    assert '<span class="mono">[新規]</span>' in html_out and "LG-INET-SPLIT [解消]" in html_out
    _, plain, _ = run("check", new, "--today", "2026-05-01", "--format", "md")
    assert "\\[new\\]" not in plain and "fixed since" not in plain  # no baseline, no states
