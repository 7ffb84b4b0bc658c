"""The bundled examples give their documented verdicts (captures/<example>/expected.tsv).

captures/make_examples.py writes each example's packets and its plan; every flow of the plan
must get its planned verdict, rule and state from pcap, pcapng and pcapng.gz alike, in the
library's flow table, in `--format json` and in `--format csv`.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.engine import scan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("alpha", "alpha-prime", "beta", "beta-prime", "beta-prime-breakout", "four-tier")
FORMATS = ("pcap", "pcapng", "pcapng.gz")
CASES = [(example, fmt) for example in EXAMPLES for fmt in FORMATS]
TODAY = date(2026, 11, 22)
REPORTED = ("violation", "suspect", "unknown")


def topology(example: str) -> Path:
    return ROOT / "topologies" / f"{example}.yaml"


def capture(example: str, fmt: str) -> Path:
    return ROOT / "captures" / example / f"{example}.{fmt}"


def expected_rows(example: str) -> list[dict[str, str]]:
    path = ROOT / "captures" / example / "expected.tsv"
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def key(src: str, dst: str, proto: str, port: int) -> tuple[str, str, str, int]:
    # ICMP flows carry the type family in dst_port; the plan keys them by addresses alone.
    return (src, dst, proto, 0 if proto.startswith("icmp") else port)


def planned(example: str) -> dict[tuple[str, str, str, int], tuple[str, str, str]]:
    return {
        key(e["src"], e["dst"], e["proto"], int(e["dst_port"])): (
            e["verdict"],
            e["rule"],
            e["state"],
        )
        for e in expected_rows(example)
    }


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


@pytest.mark.parametrize(("example", "fmt"), CASES)
def test_every_flow_gets_its_planned_verdict(example: str, fmt: str) -> None:
    report = scan(topology(example), [capture(example, fmt)], today=TODAY, generated_at="x")
    got = {
        key(r.flow.src_ip, r.flow.dst_ip, r.flow.proto, r.flow.dst_port): (
            r.verdict,
            r.rule or "-",
            r.flow.state,
        )
        for r in report.flows
    }
    assert got == planned(example)


def test_every_capture_with_a_plan_is_checked_here() -> None:
    """A folder of captures/ with an expected.tsv is an example of make_examples.py, and every
    example is checked by the tests above (captures/lab/ is the namespace lab's, no plan)."""
    planned_folders = {p.parent.name for p in (ROOT / "captures").glob("*/expected.tsv")}
    assert planned_folders == set(EXAMPLES)
    assert all(topology(example).is_file() for example in EXAMPLES)


def test_every_verdict_is_exercised() -> None:
    every = {"permitted", "sanitized", "excepted", "violation", "suspect", "unknown", "local"}
    for example in EXAMPLES:
        assert {v for v, _, _ in planned(example).values()} == every, example


@pytest.mark.parametrize(("example", "fmt"), CASES)
def test_csv_flow_table_matches_plan(example: str, fmt: str) -> None:
    code, out = run(
        "scan",
        str(topology(example)),
        str(capture(example, fmt)),
        "--format",
        "csv",
        "--today",
        "2026-11-22",
    )
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    got = {
        key(r["src_ip"], r["dst_ip"], r["proto"], int(r["dst_port"])): (
            r["verdict"],
            r["rule"] or "-",
            r["state"],
        )
        for r in rows
    }
    assert got == planned(example)


@pytest.mark.parametrize(("example", "fmt"), CASES)
def test_json_findings_match_plan(example: str, fmt: str) -> None:
    code, out = run(
        "scan",
        str(topology(example)),
        str(capture(example, fmt)),
        "--format",
        "json",
        "--today",
        "2026-11-22",
    )
    assert code == 1
    doc = json.loads(out)
    got = {
        (f["flow"]["src_ip"], f["flow"]["dst_ip"], f["rule"], f["verdict"], f["flow"]["state"])
        for f in doc["findings"]
    }
    want = {
        (e["src"], e["dst"], e["rule"], e["verdict"], e["state"])
        for e in expected_rows(example)
        if e["verdict"] in REPORTED
    }
    assert got == want
    excepted = {(f["flow"]["src_ip"], f["flow"]["dst_ip"], f["rule"]) for f in doc["excepted"]}
    assert excepted == {
        (e["src"], e["dst"], e["rule"])
        for e in expected_rows(example)
        if e["verdict"] == "excepted"
    }
    for f in doc["findings"]:
        if f["flow"]["state"] == "attempted":
            assert f["severity"] == "warning"
        assert f["flow"]["first_frame"] >= 1
    capture_input = doc["inputs"][1]
    assert capture_input["packets_read"] > 0 and capture_input["packets_skipped"] == 0


@pytest.mark.parametrize("example", EXAMPLES)
def test_same_findings_from_every_format(example: str) -> None:
    def findings(fmt: str) -> list[tuple[str, str, str, int]]:
        report = scan(topology(example), [capture(example, fmt)], today=TODAY, generated_at="x")
        return [
            (f.rule, f.fingerprint, f.severity.value, f.flow.first_frame if f.flow else 0)
            for f in report.findings
        ]

    assert findings("pcap") == findings("pcapng") == findings("pcapng.gz")


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
@pytest.mark.parametrize("example", EXAMPLES)
def test_extract_holds_exactly_the_violating_flows(example: str, tmp_path: Path) -> None:
    out = tmp_path / "violations.pcap"
    code, _ = run(
        "scan",
        str(topology(example)),
        str(capture(example, "pcapng")),
        "--format",
        "json",
        "--extract",
        str(out),
        "--today",
        "2026-11-22",
    )
    assert code == 1
    proc = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "ip.src", "-e", "ip.dst"],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = {frozenset(line.split("\t")) for line in proc.stdout.splitlines() if line}
    want = {
        frozenset((e["src"], e["dst"])) for e in expected_rows(example) if e["verdict"] in REPORTED
    }
    assert pairs == want


@pytest.mark.parametrize("example", (*EXAMPLES, "spec-example"))
def test_example_topologies_are_clean(example: str) -> None:
    code, out = run("check", str(topology(example)), "--format", "json", "--today", "2026-11-22")
    assert code == 0, out
    doc = json.loads(out)
    assert [f for f in doc["findings"] if f["severity"] in ("critical", "high")] == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_make_examples_rewrites_the_same_bytes(
    example: str, tmp_path: Path, make_examples: ModuleType
) -> None:
    """captures/README.md: the captures and expected.tsv regenerate byte-identically, so the
    plan in make_examples.py is the one source of what the examples hold."""
    module = make_examples
    module.write(example, module.PLANS[example], tmp_path)
    committed = ROOT / "captures" / example
    names = sorted(p.name for p in committed.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
