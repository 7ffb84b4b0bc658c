"""Reports built by hand, so formatter tests need neither path analysis nor capture reading.

The topology is the spec's example plus a forbidden opening (FW-40), an unpinned and an expired
channel, and a terminal without controls; the findings are what the engine would report for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segcheck import parse_topology
from segcheck.findings import (
    CaptureSummary,
    Cause,
    CauseKind,
    ChangeKind,
    Finding,
    FixPlan,
    FlowEvidence,
    JudgedFlow,
    Location,
    PathEvidence,
    PlanStep,
    Remediation,
    Report,
    RouteGroup,
    SubjectEvidence,
    flow_fingerprint,
    path_fingerprint,
    sorted_findings,
    subject_fingerprint,
)
from segcheck.model import Topology
from segcheck.rules import Severity

GOLDEN = Path(__file__).parent / "golden"
TOPOLOGY_PATH = "topologies/sample-city.yaml"
CAPTURE_PATH = "captures/office-day1.pcap"
TIMESTAMP = "2026-04-01T09:00:00Z"

SAMPLE_YAML = """\
segcheck: 1
name: サンプル市 庁内ネットワーク
profile: alpha
zones:
  mn:        {tier: mynumber,       subnets: [10.1.0.0/16]}
  lg:        {tier: lgwan,          subnets: [10.2.0.0/16]}
  inet:      {tier: internet,       subnets: [10.3.0.0/16]}
  lgwan:     {tier: lgwan-network,  subnets: [198.18.0.0/16]}
  sec-cloud: {tier: security-cloud, subnets: [192.0.2.0/24]}
nodes:
  mn-term-01:   {role: terminal, ip: 10.1.10.11, usb_block: true, mfa: true}
  mn-term-02:   {role: terminal, ip: 10.1.10.12, label: "窓口 <2F>"}
  mn-atena:     {role: server, ip: 10.1.20.20}
  lg-term-01:   {role: terminal, ip: 10.2.10.11}
  lg-mail:      {role: server, ip: 10.2.20.25}
  inet-mail:    {role: server, ip: 10.3.20.25}
  inet-sbc-01:  {role: screen-transfer, ip: 10.3.10.11, accepts: [rdp, ica],
                 clipboard: false, drive_redirect: false, printer_redirect: false}
  fw-core:
    role: firewall
    ip: [10.1.0.1, 10.2.0.1, 10.3.0.1]
    permit:
      - {id: FW-10, from: lg, to: inet-sbc-01, service: [rdp, ica]}
      - {id: FW-30, from: mn-atena, to: 198.18.200.10, service: https}
      - {id: FW-40, from: lg, to: inet-mail, service: smtp}
  lgwan-rtr:    {role: router, ip: [10.2.0.254, 198.18.0.2]}
  hoshu-rtr:    {role: router, ip: [10.1.20.254, 10.2.20.254], label: 保守業者ルータ}
  sc-rtr:       {role: router, ip: [10.3.0.254, 192.0.2.1]}
  sc-proxy:     {role: cloud-proxy, ip: 192.0.2.10, accepts: [http-proxy, https]}
channels:
  - id: CH-1
    from: mn-atena
    to: 198.18.200.10
    service: https
    reason: 中間サーバーへの副本登録
    approved_by: CISO
    ticket: SEC-2025-014
    expires: 2027-03-31
  - id: CH-2
    from: lg-term-01
    to: inet-sbc-01
    service: https
    reason: "=HYPERLINK(\\"http://x\\") 旧システム移行"
    approved_by: 情報政策課長
    expires: 2025-03-31
"""


def sample_topology(yaml_text: str = SAMPLE_YAML, path: str = TOPOLOGY_PATH) -> Topology:
    """The sample topology, loaded by the real loader (line numbers included)."""
    return parse_topology(yaml_text.encode("utf-8"), path)


def _line(topo: Topology, node: str) -> int | None:
    return topo.nodes[node].line


def _permit_line(topo: Topology, permit_id: str) -> int | None:
    for node in topo.nodes.values():
        for permit in node.permits or ():
            if permit.id == permit_id:
                return permit.line
    return None


def _channel_line(topo: Topology, channel_id: str) -> int | None:
    return next(c.line for c in topo.channels if c.id == channel_id)


def topology_findings(topo: Topology) -> tuple[list[Finding], list[Finding]]:
    """What `check` reports for the sample topology."""
    src = topo.source.path
    opened = Cause(CauseKind.PERMITS, ("FW-40",))
    split = Finding(
        "LG-INET-SPLIT",
        Severity.CRITICAL,
        "lg (lgwan) can reach inet (internet) on smtp, not sanitized: lg-term-01 -> inet-mail",
        "lg (LGWAN接続系) から inet (インターネット接続系) へ無害化なしで到達可能 (smtp)",
        Location(src, _permit_line(topo, "FW-40")),
        "lg",
        "inet",
        "lgwan",
        "internet",
        "lg-term-01",
        "inet-mail",
        "smtp",
        evidence=PathEvidence(
            ("lg-term-01", "fw-core", "inet-mail"),
            ("FW-40",),
            Remediation(remove_permits=("FW-40",), owners=(("fw-core", "FW-40"),)),
            count=3,
            cause=opened,
            routes=(
                RouteGroup(
                    "lg",
                    "inet",
                    "lgwan",
                    "internet",
                    "lg-term-01",
                    "inet-mail",
                    "smtp",
                    3,
                    ("lg-term-01", "fw-core", "inet-mail"),
                ),
            ),  # fmt: skip
        ),
        fingerprint=path_fingerprint("LG-INET-SPLIT", opened),
    )
    bridged = Cause(CauseKind.FORWARDER, ("hoshu-rtr",), ("mn", "lg"), "router")
    bridge = Finding(
        "MN-ISOLATION",
        Severity.CRITICAL,
        "My Number tier isolation: bridged by router hoshu-rtr joining mn / lg; 7 endpoint "
        "pair(s) in 2 zone pairs, e.g. mn-atena (mn) reaches lg-mail (lg) on any",
        "マイナンバー利用事務系の分離: ブリッジ: router hoshu-rtr(mn / lg をつないでいる)。"
        "端点の組 7 件、ゾーンの組 2 件",
        Location(src, _line(topo, "hoshu-rtr")),
        "mn",
        "lg",
        "mynumber",
        "lgwan",
        "mn-atena",
        "lg-mail",
        "any",
        evidence=PathEvidence(
            ("mn-atena", "hoshu-rtr", "lg-mail"),
            (),
            Remediation(remove_nodes=("hoshu-rtr",)),
            count=7,
            cause=bridged,
            routes=(
                RouteGroup(
                    "mn",
                    "lg",
                    "mynumber",
                    "lgwan",
                    "mn-atena",
                    "lg-mail",
                    "any",
                    4,
                    ("mn-atena", "hoshu-rtr", "lg-mail"),
                ),
                RouteGroup(
                    "lg",
                    "mn",
                    "lgwan",
                    "mynumber",
                    "10.2.0.0/16",
                    "mn-atena",
                    "any",
                    3,
                    ("10.2.0.0/16", "hoshu-rtr", "mn-atena"),
                    src_unassigned=True,
                ),
            ),  # fmt: skip
        ),
        fingerprint=path_fingerprint("MN-ISOLATION", bridged),
    )
    controls = Finding(
        "MN-TERMINAL-CONTROLS",
        Severity.HIGH,
        "mn-term-02: My Number terminal without usb_block and mfa",
        "mn-term-02: マイナンバー利用事務系端末に持ち出し不可設定と多要素認証がない",
        Location(src, _line(topo, "mn-term-02")),
        "mn",
        None,
        "mynumber",
        None,
        "mn-term-02",  # src: the engine names the node as the one end, with no destination
        evidence=SubjectEvidence("mn-term-02"),
        fingerprint=subject_fingerprint("MN-TERMINAL-CONTROLS", "mn-term-02"),
    )
    expired = Finding(
        "GEN-EXCEPTION-EXPIRED",
        Severity.HIGH,
        "channel CH-2 expired on 2025-03-31 and covers nothing",
        "例外 CH-2 は 2025-03-31 に期限切れ",
        Location(src, _channel_line(topo, "CH-2")),
        evidence=SubjectEvidence(),
        channel="CH-2",
        fingerprint=subject_fingerprint("GEN-EXCEPTION-EXPIRED", "CH-2"),
    )
    excepted = Finding(
        "MN-ISOLATION",
        Severity.CRITICAL,
        "mn (mynumber) reaches lgwan (lgwan-network) on https, covered by channel CH-1",
        "mn から lgwan へ https で到達 (例外 CH-1)",
        Location(src, _channel_line(topo, "CH-1")),
        "mn",
        "lgwan",
        "mynumber",
        "lgwan-network",
        "mn-atena",
        "198.18.200.10",
        "https",
        evidence=PathEvidence(
            ("mn-atena", "fw-core", "lgwan-rtr", "198.18.200.10"),
            ("FW-30",),
            cause=Cause(CauseKind.PERMITS, ("FW-30",)),
        ),
        channel="CH-1",
        fingerprint=path_fingerprint("MN-ISOLATION", Cause(CauseKind.PERMITS, ("FW-30",))),
    )
    return [split, bridge, controls, expired], [excepted]


def check_plan(findings: list[Finding]) -> FixPlan:
    """The fix plan `check` gives for the sample's path findings."""
    prints = {f.cause.elements[0]: f.fingerprint for f in findings if f.cause is not None}
    return FixPlan(
        (
            PlanStep(ChangeKind.REMOVE_NODE, "hoshu-rtr", "hoshu-rtr", (prints["hoshu-rtr"],)),
            PlanStep(ChangeKind.REMOVE_PERMIT, "FW-40", "fw-core", (prints["FW-40"],)),
        ),
        verified=True,
        findings=2,
    )


def check_report(topo: Topology | None = None) -> Report:
    """A `check` report with findings of each kind and one excepted path."""
    topo = topo or sample_topology()
    findings, excepted = topology_findings(topo)
    return Report(
        "0.1.0",
        TIMESTAMP,
        "check",
        topo,
        (topo.source,),
        sorted_findings(findings),
        sorted_findings(excepted),
        today="2026-04-01",
        plan=check_plan(findings),
    )


def _flow(
    src_ip: str, dst_ip: str, dport: int, sport: int, frame: int, state: str = "established"
) -> FlowEvidence:
    return FlowEvidence(
        src_ip, dst_ip, "tcp", sport, dport, 12, 3400, frame,
        f"2026-03-30T10:00:0{frame % 10}Z", CAPTURE_PATH, state,
        last_seen=f"2026-03-30T10:01:0{frame % 10}Z",
    )  # fmt: skip


def scan_report(topo: Topology | None = None) -> Report:
    """A `scan` report: one capture, a flow table with every verdict, and two findings."""
    from segcheck.model import InputFile

    topo = topo or sample_topology()
    smtp = _flow("10.2.10.11", "10.3.20.25", 25, 51000, 7)
    smtp_again = _flow("10.2.10.11", "10.3.20.25", 25, 51005, 18)  # one conversation with smtp
    rdp = _flow("10.2.10.11", "10.3.10.11", 3389, 51001, 3)
    mn = _flow("10.1.20.20", "198.18.200.10", 443, 51002, 5)
    attempt = _flow("10.1.10.12", "10.3.20.25", 80, 51003, 9, "attempted")
    formula = _flow("10.2.10.11", "10.2.20.25", 445, 51004, 11)
    rows = (
        JudgedFlow(rdp, "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-sbc-01", "rdp", "sanitized"),
        JudgedFlow(mn, "mn", "lgwan", "mynumber", "lgwan-network", "mn-atena", "198.18.200.10", "https", "excepted", "MN-ISOLATION", "CH-1"),
        JudgedFlow(smtp, "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-mail", "smtp", "violation", "LG-INET-SPLIT"),
        JudgedFlow(smtp_again, "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-mail", "smtp", "violation", "LG-INET-SPLIT"),
        JudgedFlow(attempt, "mn", "inet", "mynumber", "internet", "mn-term-02", "inet-mail", "http", "violation", "MN-NO-INTERNET"),
        JudgedFlow(formula, "lg", "lg", "lgwan", "lgwan", "-lg-term-01", "@lg-mail", "smb", "permitted"),
    )  # fmt: skip
    findings = [
        Finding(
            "LG-INET-SPLIT",
            Severity.CRITICAL,
            "flow lg-term-01 -> inet-mail tcp/25 crosses LGWAN/Internet unsanitized",
            "lg-term-01 から inet-mail への tcp/25 通信が無害化なしで境界を越えた",
            Location(CAPTURE_PATH, frame=7),
            "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-mail", "smtp",
            evidence=smtp, verdict="violation",
            fingerprint=flow_fingerprint("LG-INET-SPLIT", "10.2.10.11", "10.3.20.25", "tcp", 25, None),
        ),
        Finding(
            "LG-INET-SPLIT",
            Severity.CRITICAL,
            "flow lg-term-01 -> inet-mail tcp/25 crosses LGWAN/Internet unsanitized",
            "lg-term-01 から inet-mail への tcp/25 通信が無害化なしで境界を越えた",
            Location(CAPTURE_PATH, frame=18),
            "lg", "inet", "lgwan", "internet", "lg-term-01", "inet-mail", "smtp",
            evidence=smtp_again, verdict="violation",
            fingerprint=flow_fingerprint("LG-INET-SPLIT", "10.2.10.11", "10.3.20.25", "tcp", 25, None),
        ),
        Finding(
            "MN-NO-INTERNET",
            Severity.WARNING,
            "attempted flow mn-term-02 -> inet-mail tcp/80 (no answer)",
            "mn-term-02 から inet-mail への tcp/80 通信の試行 (応答なし)",
            Location(CAPTURE_PATH, frame=9),
            "mn", "inet", "mynumber", "internet", "mn-term-02", "inet-mail", "http",
            evidence=attempt, verdict="violation",
            fingerprint=flow_fingerprint("MN-NO-INTERNET", "10.1.10.12", "10.3.20.25", "tcp", 80, None),
        ),
    ]  # fmt: skip
    excepted = [
        Finding(
            "MN-ISOLATION",
            Severity.CRITICAL,
            "flow mn-atena -> 198.18.200.10 tcp/443 covered by channel CH-1",
            "mn-atena から 198.18.200.10 への tcp/443 通信 (例外 CH-1)",
            Location(CAPTURE_PATH, frame=5),
            "mn", "lgwan", "mynumber", "lgwan-network", "mn-atena", "198.18.200.10", "https",
            evidence=mn, channel="CH-1", verdict="excepted",
            fingerprint=flow_fingerprint("MN-ISOLATION", "10.1.20.20", "198.18.200.10", "tcp", 443, None),
        )
    ]  # fmt: skip
    capture = CaptureSummary(
        CAPTURE_PATH, "pcap", "ab" * 32, 120, 2, (4096, 118, "truncated record")
    )
    return Report(
        "0.1.0",
        TIMESTAMP,
        "scan",
        topo,
        (topo.source, InputFile(CAPTURE_PATH, "pcap", "ab" * 32)),
        sorted_findings(findings),
        sorted_findings(excepted),
        (capture,),
        rows,
        today="2026-04-01",
    )


def empty_report() -> Report:
    """A clean `check` report (no findings at all)."""
    topo = parse_topology(Path("topologies/spec-example.yaml").read_bytes(), "spec-example.yaml")
    return Report("0.1.0", TIMESTAMP, "check", topo, (topo.source,), (), today="2026-04-01")


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/report/golden/NAME; SEGCHECK_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("SEGCHECK_UPDATE_GOLDEN") or not path.exists():
        path.write_bytes(text.encode("utf-8"))
        if not os.environ.get("SEGCHECK_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} was missing and has been written; review it")
    assert text == path.read_bytes().decode("utf-8"), (
        f"{name} differs from its golden file; rerun with SEGCHECK_UPDATE_GOLDEN=1 and review"
    )


@pytest.fixture
def sample_check_report() -> Report:
    """The check report of the sample topology."""
    return check_report()


@pytest.fixture
def sample_scan_report() -> Report:
    """The scan report of the sample capture."""
    return scan_report()
