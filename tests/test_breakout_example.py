"""topologies/beta-prime-breakout.yaml (domain.md §9 Q3): an Internet-tier local breakout under
declared compensating controls gives warnings only; without the setting, or with a control
missing, the same plan is critical, as before the setting existed. Its capture
(captures/beta-prime-breakout/, written by captures/make_examples.py) shows the same in traffic:
the flows to the allow-listed SaaS are INET-LOCAL-BREAKOUT warnings under the controls and
INET-EGRESS-VIA-CLOUD criticals without them (tests/test_examples.py checks every other flow)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from segcheck import parse_topology
from segcheck.cli import main
from segcheck.engine import check, scan
from segcheck.model import Topology

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "topologies" / "beta-prime-breakout.yaml"
CAPTURE = ROOT / "captures" / "beta-prime-breakout" / "beta-prime-breakout.pcapng"
SAAS = "203.0.113.50"  # inet-lbo's one allow-listed destination
TODAY = date(2026, 11, 22)
DECLARED = (
    "  inet_breakout_controls: [tls_inspection, tenant_restriction, logging, malware_scanning]\n"
)
# what replaces DECLARED: no setting, or one control left out
WITHOUT = ["", "  inet_breakout_controls: [tls_inspection, tenant_restriction, logging]\n"]
WITHOUT_IDS = ["no-setting", "a-control-missing"]


def _without(declared: str) -> str:
    text = SOURCE.read_text(encoding="utf-8")
    assert text.count(DECLARED) == 1
    return text.replace(DECLARED, declared)


def test_declared_controls_leave_two_warnings() -> None:
    report = check(SOURCE, today=TODAY)
    assert sorted((f.rule, f.severity.value, f.node or f.src) for f in report.findings) == [
        ("INET-LOCAL-BREAKOUT", "warning", "inet-doc"),
        ("INET-LOCAL-BREAKOUT", "warning", "inet-lbo"),
    ]
    [path] = [f for f in report.findings if f.node is None]
    assert path.path == ("inet-doc", "inet-lbo", "203.0.113.50")
    assert {f.channel for f in report.excepted} == {c.id for c in report.topology.channels}


@pytest.mark.parametrize("declared", WITHOUT, ids=WITHOUT_IDS)
def test_without_every_control_the_breakout_is_critical(declared: str) -> None:
    broken = parse_topology(_without(declared).encode(), str(SOURCE))
    report = check(broken, today=TODAY)
    assert sorted((f.rule, f.severity.value) for f in report.findings) == [
        ("INET-EGRESS-VIA-CLOUD", "critical"),
        ("LG-NO-INTERNET", "critical"),
    ]


def _severities(topology: Path | Topology) -> dict[tuple[str, str, str, int], tuple[str, str, str]]:
    """Each reported flow of the capture: (rule, verdict, severity), by its four-tuple."""
    report = scan(topology, [CAPTURE], today=TODAY, generated_at="x")
    return {
        (f.flow.src_ip, f.flow.dst_ip, f.flow.proto, f.flow.dst_port): (
            f.rule,
            f.verdict,
            f.severity.value,
        )
        for f in report.findings
        if f.flow is not None
    }


BREAKOUT_FLOWS = {
    ("10.23.8.14", SAAS, "tcp", 443),
    ("10.23.8.14", SAAS, "udp", 3478),
}


def test_capture_breakout_under_the_controls_is_a_warning() -> None:
    got = _severities(SOURCE)
    for flow in BREAKOUT_FLOWS:
        assert got[flow] == ("INET-LOCAL-BREAKOUT", "violation", "warning"), flow
    # the pass case: web through the cloud's proxy is no finding at all
    assert not [k for k in got if k[1] == "192.0.2.10"]
    # beside the allow-list, or from the LGWAN tier, the breakout relaxes nothing
    assert got[("10.23.8.12", "203.0.113.51", "tcp", 443)] == (
        "INET-EGRESS-VIA-CLOUD",
        "violation",
        "critical",
    )
    assert got[("10.22.70.11", SAAS, "tcp", 443)][0] == "LG-NO-INTERNET"


@pytest.mark.parametrize("declared", WITHOUT, ids=WITHOUT_IDS)
def test_capture_breakout_without_every_control_is_critical(declared: str) -> None:
    with_controls = _severities(SOURCE)
    got = _severities(parse_topology(_without(declared).encode(), str(SOURCE)))
    for flow in BREAKOUT_FLOWS:
        assert got[flow] == ("INET-EGRESS-VIA-CLOUD", "violation", "critical"), flow
    # every other flow is judged as under the controls
    assert {k: v for k, v in got.items() if k not in BREAKOUT_FLOWS} == {
        k: v for k, v in with_controls.items() if k not in BREAKOUT_FLOWS
    }


@pytest.mark.parametrize(
    ("declared", "code"),
    [(DECLARED, 0), *((d, 1) for d in WITHOUT)],
    ids=["controls", *WITHOUT_IDS],
)
def test_scan_exit_status_follows_the_controls(
    declared: str, code: int, tmp_path: Path, make_examples: ModuleType
) -> None:
    """The example's breakout flows and its pass case alone (the same packets, written by
    captures/make_examples.py): under the controls nothing reaches the default --fail-on
    (exit 0); without them the breakout is critical (exit 1)."""
    pytest.importorskip("scapy")
    from scapy.utils import wrpcapng

    examples = make_examples
    plan = tuple(
        f
        for f in examples.PLANS["beta-prime-breakout"]
        if f.rule == "INET-LOCAL-BREAKOUT" or f.dst == "192.0.2.10"
    )
    assert len(plan) == 3
    capture = tmp_path / "breakout.pcapng"
    wrpcapng(str(capture), examples.build(plan))
    topology = tmp_path / "topology.yaml"
    topology.write_text(_without(declared), encoding="utf-8")
    done = CliRunner().invoke(
        main, ["scan", str(topology), str(capture), "--today", "2026-11-22", "--format", "json"]
    )
    assert done.exit_code == code, done.output
    doc = json.loads(done.stdout)
    rule = "INET-LOCAL-BREAKOUT" if code == 0 else "INET-EGRESS-VIA-CLOUD"
    severity = "warning" if code == 0 else "critical"
    assert sorted((f["rule"], f["severity"]) for f in doc["findings"]) == [(rule, severity)] * 2
