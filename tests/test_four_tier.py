"""topologies/four-tier.yaml, the reference topology of rules version 2 (issue 17): clean as
written, and each one-line mistake that topologies/README.md lists ("Breaking it") turns it
into the finding of the rule it names, so the example exercises every rule of version 2 both
ways. Its capture (captures/four-tier/) is checked flow by flow in tests/test_examples.py."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from segcheck import parse_topology
from segcheck.engine import check
from segcheck.findings import Report
from segcheck.rules import RULES_BY_ID

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "topologies" / "four-tier.yaml"
TODAY = date(2026, 11, 22)

# (rule that must fire, the README's name of the mistake, then pairs: text written, what
# replaces it)
MISTAKES: list[tuple[str, ...]] = [
    (
        "MN-JUKI-CS",
        "a channel from 既存住基 straight to 住基ネット",
        "channels:\n  - id: CH-MN-01\n",
        "channels:\n  - {id: CH-JK-99, from: mn-juki-db, to: 198.19.10.130, service: juki-app,\n"
        "     reason: 直接接続, from_mac: 02:00:00:00:00:01, to_mac: 02:00:00:00:00:02}\n"
        "  - id: CH-MN-01\n",
    ),
    (
        "MN-CHUKAN-VIA-LGWAN",
        "the LGWAN router's tier permit left open to all of LGWAN",
        "to: [198.18.0.0-198.18.199.255, 198.18.201.0-198.18.255.255]",
        "to: lgwan",
    ),
    (
        "MN-CHUKAN-VIA-LGWAN",
        "the boundary firewall given a leg on LGWAN",
        "    ip: [10.1.0.1, 10.2.0.2]\n",
        "    ip: [10.1.0.1, 10.2.0.2, 198.18.0.2]\n",
    ),
    (
        "MN-PHYSICAL-SEPARATION",
        "the boundary firewall replaced by an L3 switch's ACLs",
        "  fw-mn-lg:\n    role: firewall\n",
        "  fw-mn-lg:\n    role: l3-switch\n",
    ),
    (
        "MN-UPDATE-DIST",
        "the My Number WSUS without its upstream",
        "upstream: lg-wsus, ",
        "",
    ),
    (
        "LG-UPDATE-DIST",
        "the LGWAN WSUS taking updates from the Internet",
        "upstream: 198.18.100.40,",
        "upstream: 203.0.113.40,",
    ),
    (
        "LG-LGWAN-ONLY-UPLINK",
        "a leftover ISP line on the LGWAN tier",
        "  lg-groupware:",
        "  lg-isp-rtr: {role: router, ip: [10.2.0.9, 203.0.113.9], label: 旧ISP回線}\n"
        "  lg-groupware:",
    ),
    (
        "INET-MONITORING",
        "the cloud's perimeter firewall not declared monitoring",
        "    monitoring: true ",
        "    monitoring: false ",
    ),
    (
        "INET-MAIL-VIA-CLOUD",
        "the cloud's proxy taking mail",
        "accepts: [http-proxy]",
        "accepts: [http-proxy, smtp]",
    ),
    (
        "LG-TELEWORK",
        "the telework gateway with the clipboard on",
        "    clipboard: false\n    drive_redirect: false\n    printer_redirect: false\n    mfa: true",
        "    clipboard: true\n    drive_redirect: false\n    printer_redirect: false\n    mfa: true",
    ),
    (
        "LG-TELEWORK",
        "RDP into the LGWAN tier from all of LGWAN",
        "{id: LGW-40, from: tw-asp,",
        "{id: LGW-40, from: lgwan,",
    ),
    (
        "MN-SPECIFIED-COMM",
        "a channel without its MACs under channel_mac_pinning: required",
        "    from_mac: 02:00:00:00:00:01   # 特定通信は IP と MAC で固定 (channel_mac_pinning: "
        "required)\n    to_mac: 02:00:00:00:00:02\n    ticket: SEC-2025-014",
        "    ticket: SEC-2025-014",
    ),
    (
        "GEN-DEFAULT-DENY",
        "the extra tier's column without its screen-transfer cell",
        "      lgwan: sanitized         # only by screen transfer to its VDI",
        "      {}",
    ),
    (
        "LG-NO-INTERNET",
        "内部情報系 given a way to LGWAN",
        "      - {id: LN-10, from: lg, to: nb-vdi, service: rdp}",
        "      - {id: LN-10, from: lg, to: nb-vdi, service: rdp}\n"
        "      - {id: LN-20, from: naibu, to: lgwan, service: any}",
        # and the LGWAN router lets it through beside the LGWAN tier
        "{id: LGW-10, from: lg,",
        "{id: LGW-10, from: [lg, naibu],",
    ),
]


def _text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def test_four_tier_is_clean_and_declares_what_version_2_reads() -> None:
    report = check(SOURCE, today=TODAY)
    assert [(f.rule, f.src, f.dst) for f in report.findings] == []
    topology = report.topology
    assert topology.guideline == "令和7年3月版"
    assert {z.tier.value for z in topology.zones.values()} >= {"naibu"}
    assert {f.channel for f in report.excepted} == {c.id for c in topology.channels}
    assert all(c.from_macs and c.to_macs for c in topology.channels)


def _broken(edits: list[str], name: str) -> Report:
    text = _text()
    for old, new in zip(edits[::2], edits[1::2], strict=True):
        assert text.count(old) == 1, f"{name}: the example no longer holds {old!r}"
        text = text.replace(old, new)
    return check(parse_topology(text.encode(), str(SOURCE)), today=TODAY)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m[0]}:{m[1]}" for m in MISTAKES])
def test_each_mistake_breaks_its_rule(mistake: tuple[str, ...]) -> None:
    rule, name, *edits = mistake
    report = _broken(edits, name)
    assert rule in {f.rule for f in report.findings}, [(f.rule, f.src) for f in report.findings]


def test_readme_lists_every_mistake() -> None:
    readme = (ROOT / "topologies" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## four-tier.yaml", 1)[1]
    for rule, name, *_ in MISTAKES:
        assert f"| `{rule}` | {name} |" in section, (rule, name)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m[0]}:{m[1]}" for m in MISTAKES])
def test_readme_says_what_check_reports(mistake: tuple[str, ...]) -> None:
    """The README's "what `check` reports" starts with the rule's severity and names every
    other rule the mistake fires (e.g. LG-NO-INTERNET for a leftover ISP line's paths)."""
    rule, name, *edits = mistake
    readme = (ROOT / "topologies" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## four-tier.yaml", 1)[1]
    said = section.split(f"| `{rule}` | {name} | ", 1)[1].split(" |\n", 1)[0]
    report = _broken(edits, name)
    severities = {f.severity.value for f in report.findings if f.rule == rule}
    severity = re.match(r"(critical|high|warning|info)\b", said)
    assert severity is not None and severities == {severity.group(1)}, (said, severities)
    named = {r for r in re.findall(r"\b[A-Z]+(?:-[A-Z]+)+\b", said) if r in RULES_BY_ID}
    assert {f.rule for f in report.findings} == {rule} | named, said
