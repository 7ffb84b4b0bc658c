"""The three library entry points: check(), scan(), report() -> Report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from segcheck import load_topology
from segcheck.engine import check, report, scan

ROOT = Path(__file__).resolve().parents[1]
TOWN = ROOT / "lab" / "town.yaml"
CAPTURE = ROOT / "captures" / "lab" / "fw-any.pcapng"
TODAY = date(2026, 6, 1)
STAMP = "2026-06-01T00:00:00Z"


def test_report_without_captures_is_the_check() -> None:
    planned = check(TOWN, today=TODAY, generated_at=STAMP)
    combined = report(TOWN, today=TODAY, generated_at=STAMP)
    assert combined.command == "report"
    assert planned.findings and combined.findings == planned.findings
    assert combined.excepted == planned.excepted
    assert combined.inputs == planned.inputs and not combined.captures and not combined.flows
    assert combined.today == planned.today == "2026-06-01"


def test_report_with_captures_joins_plan_and_traffic_in_spec_order() -> None:
    topo = load_topology(TOWN)  # a loaded topology is taken as it is
    planned = check(topo, today=TODAY, generated_at=STAMP)
    observed = scan(topo, [CAPTURE], today=TODAY, generated_at=STAMP)
    combined = report(topo, [CAPTURE], today=TODAY, generated_at=STAMP)
    assert observed.findings
    assert set(combined.findings) == {*planned.findings, *observed.findings}
    assert len(combined.findings) == len(planned.findings) + len(observed.findings)
    assert list(combined.findings) == sorted(combined.findings, key=lambda f: f.sort_key)
    assert set(combined.excepted) == {*planned.excepted, *observed.excepted}
    assert combined.inputs == observed.inputs and combined.captures == observed.captures
    assert combined.flows == observed.flows
    assert combined.generated_at == STAMP and combined.topology is topo


def test_report_passes_the_attempt_severity_on() -> None:
    kept = report(TOWN, [CAPTURE], today=TODAY, generated_at=STAMP, attempts_keep_severity=True)
    default = report(TOWN, [CAPTURE], today=TODAY, generated_at=STAMP)
    attempts = [f for f in default.findings if f.flow is not None and f.flow.state == "attempted"]
    assert attempts and all(f.severity.value == "warning" for f in attempts)
    raised = {f.fingerprint: f.severity for f in kept.findings}
    assert any(raised[f.fingerprint] != f.severity for f in attempts)
