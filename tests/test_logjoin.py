"""Firewall logs joined to the imported configuration of the same device (segcheck.logjoin).

The topology is topologies/alpha-fortigate.yaml, whose LGWAN / Internet firewall `fw-lg-inet`
is imported from configs/fw-lg-inet.conf: accept rules root/10 (screen transfer, rdp/ica to
10.3.10.11-14), root/20 (sanitized mail) and root/90 (the maintenance leftover, lg-fin to the
whole Internet tier on any service); root/95 is disabled. The log below is that firewall's, one
record per case; what each must give is read off the configuration, not off segcheck's output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from segcheck.engine import scan

ROOT = Path(__file__).resolve().parents[1]
TOPO = ROOT / "topologies" / "alpha-fortigate.yaml"
CONF = str(TOPO.parent / "configs" / "fw-lg-inet.conf")

RECORD = (
    'date=2026-04-01 time=09:00:0{n} devname="{dev}" devid="FG100F0000000001" '
    'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="{vd}" '
    'eventtime=177500160{n} tz="+0900" srcip={src} srcport=5100{n} srcintf="port1" '
    'dstip={dst} dstport={port} dstintf="port2" sessionid=100{n} proto=6 action="{action}" '
    'policyid={pid} policytype="policy" duration=5 sentbyte=900 rcvdbyte={rb} sentpkt=6 '
    "rcvdpkt={rp}"
)


def record(
    n: int, src: str, dst: str, port: int, pid: int, action: str = "close", **kw: str
) -> str:
    rb, rp = ("0", "0") if action == "deny" else ("1200", "5")
    fields = {"dev": "fw-lg-inet", "vd": "root", "rb": rb, "rp": rp, **kw}
    return RECORD.format(n=n, src=src, dst=dst, port=port, pid=pid, action=action, **fields)


LOG = [
    record(1, "10.2.10.11", "10.3.10.11", 3389, 10),  # screen transfer through root/10
    record(2, "10.2.20.11", "10.3.20.25", 445, 90),  # lg-fin -> Internet mail on smb: root/90
    record(3, "10.2.10.12", "10.3.30.11", 443, 95),  # accepted by the disabled root/95
    record(4, "10.2.10.13", "10.3.10.11", 3389, 77),  # by a policy the import does not have
    record(5, "10.2.10.11", "10.3.10.11", 22, 10),  # root/10 is rdp/ica only, not ssh
    record(6, "10.2.10.14", "10.3.30.12", 80, 0, "deny"),  # the implicit deny: no rule
    record(7, "10.3.20.26", "10.2.20.25", 25, 20, "deny"),  # denied by root/20, which allows it
]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "fw-lg-inet.log"
    path.write_text("\n".join(LOG) + "\n", encoding="utf-8")
    return path


def test_violations_name_the_permit_they_went_through(log: Path) -> None:
    report = scan(TOPO, [log], generated_at="2026-04-02T00:00:00Z")
    by_line = {f.flow.line: f for f in report.findings if f.flow is not None}
    assert by_line[2].message.endswith(f", through fw-lg-inet permit root/90 ({CONF}:137)")
    assert by_line[5].message.endswith(f", through fw-lg-inet permit root/10 ({CONF}:104)")
    # accepted by a rule the import does not have as a permit: a violation, but through nothing
    assert "through" not in by_line[3].message
    assert by_line[2].flow is not None and by_line[2].flow.device_rule == "root/90"
    assert "許可ルール root/90" in by_line[2].message_ja


def test_drift_between_the_device_and_its_configuration(log: Path) -> None:
    join = scan(TOPO, [log], generated_at="2026-04-02T00:00:00Z").log_join
    assert join is not None
    assert [(d.node, d.rule, d.reason, d.action, d.flows, d.example.line) for d in join.drift] == [
        ("fw-lg-inet", "root/10", "not-covered", "accept", 1, 5),
        ("fw-lg-inet", "root/20", "denied-by-permit", "deny", 1, 7),
        ("fw-lg-inet", "root/77", "absent", "accept", 1, 4),
        ("fw-lg-inet", "root/95", "disabled", "accept", 1, 3),
    ]
    (absent,) = [d for d in join.drift if d.rule == "root/77"]
    assert f"{log}:4, id 1004" in absent.message
    assert join.unmatched == ()


def test_permit_use_for_the_rule_review(log: Path) -> None:
    join = scan(TOPO, [log], generated_at="2026-04-02T00:00:00Z").log_join
    assert join is not None
    hits = {p.rule: (p.flows, p.violations, p.where) for p in join.permits}
    assert hits == {
        "root/10": (2, 1, f"{CONF}:104"),
        "root/20": (0, 0, f"{CONF}:115"),  # never used: a candidate for removal
        "root/90": (1, 1, f"{CONF}:137"),
    }
    last = {p.rule: p.last_seen for p in join.permits}
    assert last["root/20"] is None and last["root/90"] == "2026-03-31T23:59:57.000000+00:00"


def test_a_device_the_topology_does_not_import_is_unmatched(tmp_path: Path) -> None:
    path = tmp_path / "other.log"
    path.write_text(record(1, "10.2.10.11", "10.3.10.11", 3389, 10, vd="vdom-x") + "\n")
    join = scan(TOPO, [path], generated_at="2026-04-02T00:00:00Z").log_join
    assert join is not None and join.drift == () and join.permits == ()
    assert join.unmatched == (
        "fortigate-traffic policy vdom-x/10: no node imports a fortios configuration of "
        "context 'vdom-x' (1 flow)",
    )


def test_no_join_without_an_imported_configuration(log: Path) -> None:
    report = scan(ROOT / "topologies" / "alpha.yaml", [log], generated_at="2026-04-02T00:00:00Z")
    assert report.log_join is None
    assert all("through" not in f.message for f in report.findings)


def test_the_join_in_outputs(log: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "segcheck", "scan", str(TOPO), str(log), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    done = run("--format", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)["log_join"]
    assert [(p["rule"], p["flows"]) for p in data["permits"]] == [
        ("root/10", 2),
        ("root/20", 0),
        ("root/90", 1),
    ]
    assert [d["reason"] for d in data["drift"]] == [
        "not-covered",
        "denied-by-permit",
        "absent",
        "disabled",
    ]
    assert data["drift"][2]["example"]["pivot"] == "1004"
    assert done.stderr.count("Warning: fw-lg-inet: the device") == 4
    text = run().stdout
    assert "DRIFT: the devices do not run the configurations checked" in text
    assert f"fw-lg-inet root/20 無害化メール ({CONF}:115): no flow in the logs" in text
