"""topologies/beta-prime-breakout.yaml (domain.md §9 Q3): an Internet-tier local breakout under
declared compensating controls gives warnings only; without the setting, or with a control
missing, the same plan is critical, as before the setting existed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from segcheck import parse_topology
from segcheck.engine import check

SOURCE = Path(__file__).resolve().parents[1] / "topologies" / "beta-prime-breakout.yaml"
TODAY = date(2026, 11, 22)
DECLARED = (
    "  inet_breakout_controls: [tls_inspection, tenant_restriction, logging, malware_scanning]\n"
)


def test_declared_controls_leave_two_warnings() -> None:
    report = check(SOURCE, today=TODAY)
    assert sorted((f.rule, f.severity.value, f.node or f.src) for f in report.findings) == [
        ("INET-LOCAL-BREAKOUT", "warning", "inet-doc"),
        ("INET-LOCAL-BREAKOUT", "warning", "inet-lbo"),
    ]
    [path] = [f for f in report.findings if f.node is None]
    assert path.path == ("inet-doc", "inet-lbo", "203.0.113.50")
    assert {f.channel for f in report.excepted} == {c.id for c in report.topology.channels}


@pytest.mark.parametrize(
    "declared",
    ["", "  inet_breakout_controls: [tls_inspection, tenant_restriction, logging]\n"],
    ids=["no-setting", "a-control-missing"],
)
def test_without_every_control_the_breakout_is_critical(declared: str) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    assert text.count(DECLARED) == 1
    broken = parse_topology(text.replace(DECLARED, declared).encode(), str(SOURCE))
    report = check(broken, today=TODAY)
    assert sorted((f.rule, f.severity.value) for f in report.findings) == [
        ("INET-EGRESS-VIA-CLOUD", "critical"),
        ("LG-NO-INTERNET", "critical"),
    ]
