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
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
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


def segcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line in this process (tests/test_precommit_hook.py runs the real one); an
    internal error fails the test with its traceback instead of hiding in an exit status."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


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
        return segcheck("scan", str(TOPO), str(log), *args)

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


PAN_CONFIG = """\
set deviceconfig system hostname pa-core
set network interface ethernet ethernet1/1 layer3 ip 10.2.0.1/16
set network interface ethernet ethernet1/2 layer3 ip 10.3.0.1/16
set zone trust network layer3 ethernet1/1
set zone untrust network layer3 ethernet1/2
set rulebase security rules LG-SMB from trust to untrust source any destination any service any application any action allow
set rulebase security rules Old-Web from trust to untrust source any destination 10.3.30.11 service service-https application any action allow disabled yes
"""
PAN_TOPOLOGY = """\
segcheck: 1
name: PAN-OS join
profile: alpha
zones:
  lg: {tier: lgwan, subnets: [10.2.0.0/16]}
  inet: {tier: internet, subnets: [10.3.0.0/16]}
nodes:
  pa:
    role: firewall
    config: {file: pa.set, format: panos, vsys: vsys1}
"""


def pan_record(n: int, src: str, dst: str, port: int, rule: str, action: str = "allow") -> str:
    """A PAN-OS 10 TRAFFIC line (103 columns, with its High Resolution Timestamp)."""
    c = [""] * 103
    c[0:7] = [
        "1",
        "2026/04/01 09:00:05",
        "012345678901",
        "TRAFFIC",
        "end",
        "1",
        "2026/04/01 09:00:04",
    ]
    c[7], c[8], c[11], c[15], c[22] = src, dst, rule, "vsys1", str(5000 + n)
    c[24], c[25], c[29], c[30] = str(50000 + n), str(port), "tcp", action
    c[31], c[33], c[34], c[36], c[45] = "900", "500", "9", "1", "4"
    c[52], c[102] = "pa-core", "2026-04-01T09:00:04.500+09:00"
    return ",".join(c)  # fmt: skip


def test_panos_logs_join_their_imported_vsys(tmp_path: Path) -> None:
    (tmp_path / "pa.set").write_text(PAN_CONFIG, encoding="utf-8")
    (tmp_path / "topo.yaml").write_text(PAN_TOPOLOGY, encoding="utf-8")
    log = tmp_path / "pa.csv"
    log.write_text(
        "\n".join(
            [
                pan_record(1, "10.2.10.11", "10.3.20.25", 445, "LG-SMB"),  # through the permit
                pan_record(2, "10.2.10.12", "10.3.30.11", 443, "Old-Web"),  # disabled: drift
                pan_record(3, "10.2.10.13", "10.3.30.11", 80, "Ghost"),  # absent: drift
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = scan(tmp_path / "topo.yaml", [log], generated_at="2026-04-02T00:00:00Z")
    by_line = {f.flow.line: f for f in report.findings if f.flow is not None}
    assert by_line[1].message.endswith(f", through pa permit vsys1/LG-SMB ({tmp_path}/pa.set:6)")
    join = report.log_join
    assert join is not None
    assert [(d.rule, d.reason) for d in join.drift] == [
        ("vsys1/Ghost", "absent"),
        ("vsys1/Old-Web", "disabled"),
    ]
    assert {p.rule: p.flows for p in join.permits} == {
        "vsys1/LG-SMB": 1,
        "vsys1/intrazone:trust": 0,  # the default intrazone allows are permits too
        "vsys1/intrazone:untrust": 0,
    }


def test_the_join_in_the_html_report(log: Path) -> None:
    from segcheck.report import render

    report = scan(TOPO, [log], generated_at="2026-04-02T00:00:00Z")
    page = render(report, "html", "en")
    assert 'id="log-join"' in page and "Drift: the devices do not run" in page
    assert '<td class="mono">root/20</td>' in page and "never used in the logs" in page
    assert "棚卸し" in render(report, "html", "ja")
    plain = scan(ROOT / "topologies" / "alpha.yaml", [log], generated_at="2026-04-02T00:00:00Z")
    assert 'id="log-join"' not in render(plain, "html", "en")


def test_drift_alone_fails_the_run_and_is_never_clean(tmp_path: Path) -> None:
    """A flow the plan allows, accepted by a policy the configuration lacks: no finding, but
    the configuration checked is not the device's, so exit 1 (drift counts as `high`) and the
    report never says the separation holds."""
    path = tmp_path / "fw.log"
    path.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 77) + "\n", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return segcheck("scan", str(TOPO), str(path), *args)

    done = run("--format", "json")
    data = json.loads(done.stdout)
    assert data["findings"] == [] and [d["reason"] for d in data["log_join"]["drift"]] == ["absent"]
    assert done.returncode == 1
    assert data["evidence"]["separation_proven"] is False
    assert "the three-tier separation holds" not in run().stdout
    assert run("--fail-on", "critical").returncode == 0  # drift is below critical
    clean = tmp_path / "ok.log"  # the same flow through the permit that allows it: clean
    clean.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 10) + "\n", encoding="utf-8")
    done = segcheck("scan", str(TOPO), str(clean))
    assert done.returncode == 0, done.stderr


# -- drift against --baseline: known drift is accepted like a known finding -----------------------


def drift_results(sarif: str) -> list[tuple[str, str]]:
    results = json.loads(sarif)["runs"][0]["results"]
    return [
        (r["properties"]["rule"], r["baselineState"])
        for r in results
        if r["ruleId"] == "GEN-CONFIG-DRIFT"
    ]


def test_a_scan_against_its_own_result_passes_with_every_result_unchanged(
    log: Path, tmp_path: Path
) -> None:
    """The team accepted the four drifts (and the findings) in its baseline: green run."""
    base = tmp_path / "findings.json"
    assert (
        segcheck("scan", str(TOPO), str(log), "-o", str(base), "--format", "json").returncode == 1
    )
    done = segcheck("scan", str(TOPO), str(log), "--baseline", str(base), "--format", "sarif")
    assert done.returncode == 0, done.stderr
    # stderr counts the accepted drift in one line instead of warning about each again
    assert done.stderr.splitlines() == [
        "Warning: 4 configuration drifts the baseline already records "
        "(listed in the report; not counted in the exit status)"
    ]
    ja = segcheck("scan", str(TOPO), str(log), "--baseline", str(base), "--lang", "ja")
    assert ja.stderr.splitlines() == [
        "警告: 比較基準に記録済みの設定の乖離 4 件（レポートに記載。終了コードには影響しません）"
    ]
    without = segcheck("scan", str(TOPO), str(log), "--format", "sarif").stderr.splitlines()
    assert len(without) == 4 and all("fw-lg-inet" in line for line in without)
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert results and all(r["baselineState"] == "unchanged" for r in results)
    assert len(drift_results(done.stdout)) == 4
    data = json.loads(
        segcheck("scan", str(TOPO), str(log), "--baseline", str(base), "--format", "json").stdout
    )
    assert [d["state"] for d in data["log_join"]["drift"]] == ["unchanged"] * 4
    assert (data["baseline"]["gating_drift"], data["baseline"]["absent_drift"]) == (0, [])
    text = segcheck("scan", str(TOPO), str(log), "--baseline", str(base)).stdout
    assert text.count("  - [unchanged] fw-lg-inet: the device") == 4


def test_a_drift_the_baseline_lacks_fails_the_run_as_new(tmp_path: Path) -> None:
    clean = tmp_path / "ok.log"  # rdp through root/10, which allows it: no finding, no drift
    clean.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 10) + "\n", encoding="utf-8")
    drifted = tmp_path / "fw.log"  # the same flow by root/77, which the import lacks
    drifted.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 77) + "\n", encoding="utf-8")
    base = tmp_path / "base.json"
    assert (
        segcheck("scan", str(TOPO), str(clean), "-o", str(base), "--format", "json").returncode == 0
    )
    done = segcheck("scan", str(TOPO), str(drifted), "--baseline", str(base), "--format", "sarif")
    assert done.returncode == 1
    assert drift_results(done.stdout) == [("root/77", "new")]
    assert [line for line in done.stderr.splitlines() if "root/77" in line] == [
        line for line in done.stderr.splitlines() if line.startswith("Warning:")
    ]
    assert done.stderr.count("Warning:") == 1  # the new drift named, nothing counted as known
    assert segcheck("scan", str(TOPO), str(drifted), "--baseline", str(base),
                    "--fail-on", "critical").returncode == 0  # fmt: skip
    # a baseline written before drift was kept (no log_join at all) loads: every drift is new
    old = json.loads(base.read_text(encoding="utf-8"))
    del old["log_join"]
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(old), encoding="utf-8")
    done = segcheck("scan", str(TOPO), str(drifted), "--baseline", str(legacy), "--format", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [d["state"] for d in data["log_join"]["drift"]] == ["new"]
    assert data["baseline"]["gating_drift"] == 1


def test_a_drift_since_fixed_is_an_absent_result(tmp_path: Path) -> None:
    drifted = tmp_path / "fw.log"
    drifted.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 77) + "\n", encoding="utf-8")
    clean = tmp_path / "ok.log"  # next month: the device runs the imported configuration
    clean.write_text(record(4, "10.2.10.13", "10.3.10.11", 3389, 10) + "\n", encoding="utf-8")
    base = tmp_path / "base.json"
    segcheck("scan", str(TOPO), str(drifted), "-o", str(base), "--format", "json")
    done = segcheck("scan", str(TOPO), str(clean), "--baseline", str(base), "--format", "sarif")
    assert done.returncode == 0, done.stderr
    assert drift_results(done.stdout) == [("root/77", "absent")]
    (absent,) = json.loads(done.stdout)["runs"][0]["results"]
    assert absent["properties"]["state"] == "fixed"
    assert absent["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    data = json.loads(
        segcheck("scan", str(TOPO), str(clean), "--baseline", str(base), "--format", "json").stdout
    )
    (fixed,) = data["baseline"]["absent_drift"]
    assert (fixed["rule"], fixed["reason"], fixed["state"], fixed["baseline_state"]) == (
        "root/77",
        "absent",
        "fixed",
        "absent",
    )
    assert data["log_join"]["drift"] == []
    text = segcheck("scan", str(TOPO), str(clean), "--baseline", str(base)).stdout
    assert "(new or escalated 0, fixed since 1)" in text and "  - [fixed] fw-lg-inet:" in text


def test_a_bad_drift_in_the_baseline_is_named_by_line(log: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    segcheck("scan", str(TOPO), str(log), "-o", str(base), "--format", "json")
    data = json.loads(base.read_text(encoding="utf-8"))
    data["log_join"]["drift"][1]["flows"] = "one"
    base.write_text(json.dumps(data, indent=2), encoding="utf-8")
    line = next(
        i for i, text in enumerate(base.read_text().splitlines(), 1) if '"flows": "one"' in text
    )
    done = segcheck("scan", str(TOPO), str(log), "--baseline", str(base))
    assert done.returncode == 2
    assert f"{base}:{line}" in done.stderr and "'flows' must be an integer" in done.stderr
    assert "Traceback" not in done.stderr


def test_drift_of_a_device_not_logged_now_is_not_fixed(log: Path, tmp_path: Path) -> None:
    """Logs of another device (or none) show nothing about fw-lg-inet: its drift in the
    baseline is not `absent`, which would claim a fix on evidence not seen."""
    from segcheck.diff import read_result, with_baseline

    base = tmp_path / "base.json"
    segcheck("scan", str(TOPO), str(log), "-o", str(base), "--format", "json")
    other = tmp_path / "other.log"
    other.write_text(record(1, "10.2.10.11", "10.3.10.11", 3389, 10, vd="vdom-x") + "\n")
    report = with_baseline(scan(TOPO, [other], generated_at="-"), read_result(str(base)))
    assert report.baseline is not None and len(report.baseline.drift_known) == 4
    assert report.baseline.absent_drift == ()
    again = with_baseline(scan(TOPO, [log], generated_at="-"), read_result(str(base)))
    assert again.baseline is not None and again.baseline.absent_drift == ()
    assert [again.baseline.drift_state(d) for d in again.log_join.drift] == ["unchanged"] * 4


def _diff_scans(tmp_path: Path, old: list[str], new: list[str]) -> tuple[Path, Path]:
    """Two scan results (findings.json) of the firewall logs `old` and `new`."""
    out = []
    for name, lines in (("old", old), ("new", new)):
        log = tmp_path / f"{name}.log"
        log.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = tmp_path / f"{name}.json"
        segcheck("scan", str(TOPO), str(log), "-o", str(result), "--format", "json")
        out.append(result)
    return out[0], out[1]


DISABLED = record(3, "10.2.10.12", "10.3.30.11", 443, 95)  # drift: root/95 is disabled
ABSENT = record(4, "10.2.10.13", "10.3.10.11", 3389, 77)  # drift: no rule root/77
NOT_COVERED = record(5, "10.2.10.11", "10.3.10.11", 22, 10)  # drift: root/10 is rdp/ica only


def test_diff_of_two_scans_shows_new_fixed_and_unchanged_drift(tmp_path: Path) -> None:
    """OLD's log shows root/95 and root/77, NEW's root/95 and root/10 on the same firewall:
    root/10 is new, root/95 unchanged, root/77 fixed, in every diff format."""
    old, new = _diff_scans(tmp_path, [DISABLED, ABSENT], [DISABLED, NOT_COVERED])

    def diff(fmt: str, *more: str) -> subprocess.CompletedProcess[str]:
        return segcheck("diff", str(old), str(new), "--format", fmt, *more)

    data = json.loads(diff("json").stdout)
    assert [(d["rule"], d["reason"], d["state"], d["baseline_state"]) for d in data["drift"]] == [
        ("root/10", "not-covered", "new", "new"),
        ("root/95", "disabled", "unchanged", "unchanged"),
        ("root/77", "absent", "fixed", "absent"),
    ]
    assert data["drift"][2]["example"]["input"] == str(tmp_path / "old.log")  # OLD's data
    counted = {state: n for state, n in data["drift_summary"].items() if n}
    assert counted == {"new": 1, "unchanged": 1, "fixed": 1}
    assert set(data["drift_summary"]) == set(data["summary"])  # every state, as findings'
    md = diff("md").stdout.splitlines()
    head = md.index(next(line for line in md if line.startswith("| state |")))
    assert md[head].endswith("| config drift |")
    rows = md[head + 2 : head + 8]  # new, updated, renamed, excepted now, fixed, unchanged
    assert [row.rsplit("|", 2)[1].strip() for row in rows] == ["1", "0", "0", "0", "1", "1"]
    assert "<th>config drift</th>" in diff("html").stdout
    sarif = diff("sarif").stdout
    assert drift_results(sarif) == [("root/10", "new"), ("root/95", "unchanged"), ("root/77", "absent")]  # fmt: skip
    states = [r["properties"]["state"] for r in json.loads(sarif)["runs"][0]["results"]
              if r["ruleId"] == "GEN-CONFIG-DRIFT"]  # fmt: skip
    assert states == ["new", "unchanged", "fixed"]
    for fmt in ("text", "md", "html"):
        shown = diff(fmt, "--show-unchanged").stdout
        for rule, state in (("root/10", "NEW (1)"), ("root/77", "FIXED (1)"), ("root/95", "UNCHANGED (1)")):  # fmt: skip
            drift = shown.index(f"policy {rule}")
            assert shown.rindex(state, 0, drift) > shown.index("DRIFT"), (fmt, rule)
        hidden = diff(fmt).stdout  # unchanged drift counted, as unchanged findings are
        assert "policy root/95" not in hidden and "unchanged drift: 1" in hidden, fmt
        assert "policy root/10" in hidden and "policy root/77" in hidden, fmt
    assert "設定の乖離" in diff("text", "--lang", "ja").stdout


def test_a_new_drift_alone_fails_the_diff(tmp_path: Path) -> None:
    """NEW's firewall accepts by a rule the import does not have (no finding: the flow is one
    the policy allows): exit 1, as scan's; `--fail-on critical` (drift counts as high) 0."""
    clean = record(4, "10.2.10.13", "10.3.10.11", 3389, 10)
    old, new = _diff_scans(tmp_path, [clean], [ABSENT])
    done = segcheck("diff", str(old), str(new), "--format", "json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["exit_status"] == 1 and data["findings"] == []
    assert [(d["rule"], d["state"]) for d in data["drift"]] == [("root/77", "new")]
    assert "1 new drift" in segcheck("diff", str(old), str(new)).stdout
    assert segcheck("diff", str(old), str(new), "--fail-on", "critical").returncode == 0
    back = segcheck("diff", str(new), str(old), "--format", "json")  # the fix: never fails
    assert back.returncode == 0
    assert [(d["rule"], d["state"]) for d in json.loads(back.stdout)["drift"]] == [
        ("root/77", "fixed")
    ]
    same = segcheck("diff", str(new), str(new), "--format", "json")
    assert same.returncode == 0
    assert [d["state"] for d in json.loads(same.stdout)["drift"]] == ["unchanged"]


def test_diff_never_calls_fixed_the_drift_of_a_device_new_did_not_log(tmp_path: Path) -> None:
    """NEW read only another device's logs: nothing was seen of fw-lg-inet, so its drift is
    not fixed (and not listed at all); the same drift on a logged device is."""
    other = record(1, "10.2.10.11", "10.3.10.11", 3389, 10, vd="vdom-x")
    old, new = _diff_scans(tmp_path, [ABSENT], [other])
    done = segcheck("diff", str(old), str(new), "--format", "json")
    assert json.loads(done.stdout).get("drift") is None
    assert "GEN-CONFIG-DRIFT" not in json.dumps(
        json.loads(segcheck("diff", str(old), str(new), "--format", "sarif").stdout)["runs"][0][
            "results"
        ]
    )
    assert "policy root/77" not in segcheck("diff", str(old), str(new)).stdout
    logged = record(1, "10.2.10.11", "10.3.10.11", 3389, 10)  # fw-lg-inet's own log, clean
    old, new = _diff_scans(tmp_path, [ABSENT], [logged])
    data = json.loads(segcheck("diff", str(old), str(new), "--format", "json").stdout)
    assert [(d["rule"], d["state"]) for d in data["drift"]] == [("root/77", "fixed")]


def test_diff_of_results_written_before_drift_was_kept(tmp_path: Path) -> None:
    """A result without `log_join` has no drift: against one, NEW's drift is new; two such
    results diff as before (no `drift` key, no drift section, exit from findings only)."""
    old, new = _diff_scans(tmp_path, [DISABLED], [DISABLED, ABSENT])
    legacy = []
    for path in (old, new):
        data = json.loads(path.read_text(encoding="utf-8"))
        del data["log_join"]
        path_legacy = path.with_name(f"legacy-{path.name}")
        path_legacy.write_text(json.dumps(data, indent=2), encoding="utf-8")
        legacy.append(path_legacy)
    data = json.loads(segcheck("diff", str(legacy[0]), str(new), "--format", "json").stdout)
    assert sorted((d["rule"], d["state"]) for d in data["drift"]) == [
        ("root/77", "new"),
        ("root/95", "new"),
    ]
    done = segcheck("diff", str(legacy[0]), str(legacy[1]), "--format", "json")
    assert done.returncode == 0, done.stderr  # findings unchanged, no drift to count
    assert "drift" not in json.loads(done.stdout)
    assert "DRIFT" not in segcheck("diff", str(legacy[0]), str(legacy[1])).stdout
    # NEW without log_join saw no device's logs: OLD's drift is not fixed by it
    data = json.loads(segcheck("diff", str(new), str(legacy[1]), "--format", "json").stdout)
    assert "drift" not in data
