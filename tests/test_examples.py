"""The bundled examples give their documented verdicts (captures/alpha/expected.tsv)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.engine import scan

ROOT = Path(__file__).resolve().parents[1]
ALPHA = ROOT / "topologies" / "alpha.yaml"
CAPTURES = ROOT / "captures" / "alpha"
TODAY = date(2026, 11, 22)


def expected_rows() -> list[dict[str, str]]:
    with open(CAPTURES / "expected.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def key(src: str, dst: str, proto: str, port: int) -> tuple[str, str, str, int]:
    # ICMP flows carry the type family in dst_port; the plan keys them by addresses alone.
    return (src, dst, proto, 0 if proto.startswith("icmp") else port)


@pytest.mark.parametrize("name", ["alpha.pcap", "alpha.pcapng", "alpha.pcapng.gz"])
def test_every_flow_gets_its_planned_verdict(name: str) -> None:
    report = scan(ALPHA, [CAPTURES / name], today=TODAY, generated_at="2026-11-22T00:00:00Z")
    got = {
        key(r.flow.src_ip, r.flow.dst_ip, r.flow.proto, r.flow.dst_port): (
            r.verdict,
            r.rule or "-",
            r.flow.state,
        )
        for r in report.flows
    }
    want = {
        key(e["src"], e["dst"], e["proto"], int(e["dst_port"])): (
            e["verdict"],
            e["rule"],
            e["state"],
        )
        for e in expected_rows()
    }
    # local-segment flows keep no rule; the plan says "-" for them too
    assert got == want
    assert {v for v, _, _ in want.values()} >= {
        "permitted",
        "sanitized",
        "excepted",
        "violation",
        "suspect",
        "unknown",
        "local",
    }


@pytest.mark.parametrize("name", ["alpha.pcap", "alpha.pcapng", "alpha.pcapng.gz"])
def test_json_findings_match_plan(name: str) -> None:
    result = CliRunner().invoke(
        main,
        ["scan", str(ALPHA), str(CAPTURES / name), "--format", "json", "--today", "2026-11-22"],
    )
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    got = {
        (f["flow"]["src_ip"], f["flow"]["dst_ip"], f["rule"], f["verdict"], f["flow"]["state"])
        for f in doc["findings"]
    }
    excepted = {(f["flow"]["src_ip"], f["flow"]["dst_ip"], f["channel"]) for f in doc["excepted"]}
    want = {
        (e["src"], e["dst"], e["rule"], e["verdict"], e["state"])
        for e in expected_rows()
        if e["verdict"] in ("violation", "suspect", "unknown")
    }
    assert got == want
    assert excepted == {("10.1.20.20", "198.18.200.10", "CH-MN-01")}
    for f in doc["findings"]:
        assert f["severity"] == ("warning" if f["flow"]["state"] == "attempted" else f["severity"])
        assert f["flow"]["first_frame"] >= 1
    assert doc["inputs"][1]["packets_read"] == 83 and doc["inputs"][1]["packets_skipped"] == 0


def test_same_bytes_from_every_format() -> None:
    def findings(name: str) -> list[tuple[str, str, str, int]]:
        report = scan(ALPHA, [CAPTURES / name], today=TODAY, generated_at="x")
        return [
            (f.rule, f.fingerprint, f.severity.value, f.flow.first_frame if f.flow else 0)
            for f in report.findings
        ]

    assert findings("alpha.pcap") == findings("alpha.pcapng") == findings("alpha.pcapng.gz")


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_extract_holds_exactly_the_violating_flows(tmp_path: Path) -> None:
    out = tmp_path / "violations.pcap"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            str(ALPHA),
            str(CAPTURES / "alpha.pcapng"),
            "--format",
            "json",
            "--extract",
            str(out),
            "--today",
            "2026-11-22",
        ],
    )
    assert result.exit_code == 1, result.output
    proc = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "ip.src", "-e", "ip.dst"],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = {frozenset(line.split("\t")) for line in proc.stdout.splitlines() if line}
    want = {
        frozenset((e["src"], e["dst"]))
        for e in expected_rows()
        if e["verdict"] in ("violation", "suspect", "unknown")
    }
    assert pairs == want
