"""End to end: a real α-model town in network namespaces, real traffic, segcheck's verdicts.

lab/labctl.py builds lab/town.yaml with `ip netns`, veth pairs and an nftables firewall generated
from the same file, runs lab/plan.py's PLAN under tcpdump in the firewall namespace, and tears
everything down. Every expectation here comes from PLAN (what the lab was built to do), never
from segcheck's own output:

- the kernel did what the plan says (allowed and leaking exchanges completed, blocked ones did
  not; the leak's nftables counter moved);
- `segcheck check` reports the leak with its permit id;
- `segcheck scan` on each capture reports exactly the forbidden exchanges: the leaking ones as
  established violations of their rule, the blocked ones as attempts (severity warning) except
  a dropped UDP datagram, whose state the capture cannot tell (unknown, the rule's severity); the
  allowed ones appear in the flow table as permitted or sanitized and in no finding.

Needs root, network namespaces, nftables and tcpdump; skipped with the reason otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import labctl, netlab  # noqa: E402
from lab.plan import LEAK_PERMIT, PLAN  # noqa: E402
from segcheck import load_topology  # noqa: E402
from segcheck.rules import RULES_BY_ID  # noqa: E402

pytestmark = pytest.mark.lab

TOWN = REPO / "lab" / "town.yaml"
FlowKey = tuple[str, str, str, int | None]


def key_of(src_ip: str, dst_ip: str, proto: str, port: int | None) -> FlowKey:
    """Flows are matched by initiator, responder, protocol and responder port (not for ICMP)."""
    return (src_ip, dst_ip, proto, None if proto == "icmp" else port)


def segcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segcheck", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[labctl.LabRun]:
    why = labctl.missing_requirements()
    if why:
        pytest.skip(f"lab not available: {why}")
    t0 = time.monotonic()
    result = labctl.run_lab(tmp_path_factory.mktemp("lab"), TOWN)
    print(f"lab run {result.tag}: {result.timings} (fixture {time.monotonic() - t0:.1f}s)")
    yield result
    # run_lab tears down in `finally`; make sure nothing of this run is left.
    assert netlab.lab_namespaces(f"{netlab.PREFIX}{result.tag}-") == []


@pytest.fixture(scope="module")
def outcomes(lab_run: labctl.LabRun) -> dict[str, labctl.Outcome]:
    return {o.name: o for o in lab_run.outcomes}


def test_the_kernel_did_what_the_plan_says(lab_run: labctl.LabRun) -> None:
    wrong = [(o.name, o.expect, o.ok, o.detail) for o in lab_run.outcomes if not o.as_planned]
    assert wrong == []
    assert [o.name for o in lab_run.outcomes] == [ex.name for ex in PLAN]
    assert lab_run.counters.get(LEAK_PERMIT, 0) > 0
    assert lab_run.counters.get("default-drop", 0) > 0


def test_captures_are_pcapng(lab_run: labctl.LabRun) -> None:
    for path in lab_run.captures.values():
        assert path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a", path


def test_check_reports_the_leak_with_its_permit() -> None:
    done = segcheck("check", str(TOWN), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    leaks = [f for f in report["findings"] if LEAK_PERMIT in (f.get("permits") or [])]
    assert leaks, report["findings"]
    assert {f["rule"] for f in leaks} == {"LG-INET-SPLIT"}
    assert all((f["src_tier"], f["dst_tier"]) == ("lgwan", "internet") for f in leaks)
    assert all(LEAK_PERMIT in f["remediation"]["remove_permits"] for f in leaks)
    # The town is otherwise a clean α model: the leak is the only opening anywhere.
    assert [f for f in report["findings"] if f not in leaks] == []


def scan(capture: Path, fmt: str) -> str:
    done = segcheck("scan", str(TOWN), str(capture), "--format", fmt, "--fail-on", "critical")
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


@pytest.fixture(scope="module", params=["any", "ingress"])
def scanned(request: pytest.FixtureRequest, lab_run: labctl.LabRun) -> dict[str, Any]:
    capture = lab_run.captures[request.param]
    report = json.loads(scan(capture, "json"))
    table = list(csv.DictReader(io.StringIO(scan(capture, "csv"))))
    return {"report": report, "table": table, "capture": capture}


def test_scan_reads_the_whole_capture(scanned: dict[str, Any]) -> None:
    inputs = [i for i in scanned["report"]["inputs"] if i["kind"] != "topology"]
    assert len(inputs) == 1
    assert inputs[0]["kind"] == "pcapng"
    assert inputs[0]["packets_read"] > 0
    assert inputs[0]["packets_skipped"] == 0
    assert inputs[0]["stopped_at"] is None


def test_scan_reports_exactly_the_forbidden_exchanges(
    scanned: dict[str, Any], lab_run: labctl.LabRun
) -> None:
    report = scanned["report"]
    assert report["excepted"] == []
    found: dict[FlowKey, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        flow = f["flow"]
        k = key_of(flow["src_ip"], flow["dst_ip"], flow["proto"], flow["dst_port"])
        found.setdefault(k, []).append(f)
    expected = {
        key_of(o.src_ip, o.dst_ip, o.proto, o.port): o
        for o in lab_run.outcomes
        if o.expect != "allowed"
    }
    assert sorted(found) == sorted(expected)
    for k, o in expected.items():
        (finding,) = found[k]
        assert finding["rule"] == o.rule, o.name
        assert finding["src"] == o.src and finding["dst"] == o.dst, o.name
        if o.expect == "leak":
            assert finding["flow"]["state"] == "established", o.name
            assert finding["severity"] == "critical", o.name
        elif o.proto == "udp":
            # A dropped datagram: the capture cannot tell that it did not arrive.
            assert finding["flow"]["state"] == "unknown", o.name
            assert finding["severity"] == RULES_BY_ID[o.rule or ""].severity.value, o.name
        else:
            assert finding["flow"]["state"] == "attempted", o.name
            assert finding["severity"] == "warning", o.name


def _state(o: labctl.Outcome) -> str:
    if o.expect != "blocked":
        return "established"
    return "unknown" if o.proto == "udp" else "attempted"


def test_only_the_leak_is_established(scanned: dict[str, Any], lab_run: labctl.LabRun) -> None:
    established = {
        key_of(f["flow"]["src_ip"], f["flow"]["dst_ip"], f["flow"]["proto"], f["flow"]["dst_port"])
        for f in scanned["report"]["findings"]
        if f["flow"]["state"] == "established"
    }
    leaked = {
        key_of(o.src_ip, o.dst_ip, o.proto, o.port) for o in lab_run.outcomes if o.expect == "leak"
    }
    assert established == leaked


def test_flow_table_has_every_exchange_with_its_verdict(
    scanned: dict[str, Any], lab_run: labctl.LabRun
) -> None:
    rows: dict[FlowKey, list[dict[str, str]]] = {}
    for row in scanned["table"]:
        port = int(row["dst_port"]) if row["dst_port"] else None
        rows.setdefault(key_of(row["src_ip"], row["dst_ip"], row["proto"], port), []).append(row)
    for o in lab_run.outcomes:
        k = key_of(o.src_ip, o.dst_ip, o.proto, o.port)
        assert k in rows, f"{o.name}: flow not in the table"
        (row,) = rows[k]
        assert row["verdict"] == o.verdict, o.name
        assert row["state"] == _state(o), o.name
        if o.expect == "allowed":
            assert row["rule"] == "", o.name


def test_extract_holds_exactly_the_forbidden_flows(
    scanned: dict[str, Any], lab_run: labctl.LabRun, tmp_path: Path
) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    out = tmp_path / "violations.pcap"
    done = segcheck(
        "scan", str(TOWN), str(scanned["capture"]), "--format", "json", "--extract", str(out)
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    fields = subprocess.run(
        [
            "tshark",
            "-r",
            str(out),
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ip.proto",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert len(fields) == sum(f["flow"]["packets"] for f in report["findings"])
    # Every extracted packet, request or reply, belongs to a forbidden exchange, and every
    # forbidden exchange is there (by address pair and protocol; the packet count above is exact).
    names = {"6": "tcp", "17": "udp", "1": "icmp"}
    seen = {
        (frozenset((src, dst)), names[proto])
        for src, dst, proto in (line.split("\t") for line in fields)
    }
    forbidden = {
        (frozenset((o.src_ip, o.dst_ip)), o.proto)
        for o in lab_run.outcomes
        if o.expect != "allowed"
    }
    assert seen == forbidden


# -- the firewall's own log ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fw_log(lab_run: labctl.LabRun) -> dict[str, Any]:
    log = lab_run.logs["fortigate"]
    report = json.loads(scan(log, "json"))
    table = list(csv.DictReader(io.StringIO(scan(log, "csv"))))
    return {"report": report, "table": table, "log": log}


def test_the_firewall_log_is_judged_like_the_capture(
    fw_log: dict[str, Any], lab_run: labctl.LabRun
) -> None:
    """lab/fwlog.py writes what the kernel decided as a FortiGate log: segcheck must find the
    same violations and attempts in it as in the capture of the same exchanges."""
    report = fw_log["report"]
    (log_input,) = [i for i in report["inputs"] if i["kind"] != "topology"]
    assert log_input["kind"] == "fortigate-traffic" and log_input["packets_skipped"] == 0
    found: dict[FlowKey, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        flow = f["flow"]
        found.setdefault(
            key_of(flow["src_ip"], flow["dst_ip"], flow["proto"], flow["dst_port"]), []
        ).append(f)
    expected = {
        key_of(o.src_ip, o.dst_ip, o.proto, o.port): o
        for o in lab_run.outcomes
        if o.expect != "allowed"
    }
    assert sorted(found) == sorted(expected)
    permits = [p.id for p in (load_topology(TOWN).nodes["fw-core"].permits or ())]
    for k, o in expected.items():
        (finding,) = found[k]
        flow = finding["flow"]
        assert finding["rule"] == o.rule, o.name
        assert flow["pivot"] and flow["device"] == "fw-core", o.name
        if o.expect == "leak":
            assert (flow["state"], finding["severity"]) == ("established", "critical"), o.name
            assert flow["device_action"] == "accept", o.name
            assert flow["device_rule"] == f"root/{permits.index(LEAK_PERMIT) + 1}", o.name
        else:
            # The firewall says it dropped it: an attempt, the UDP datagram included (a capture
            # cannot tell that one from a datagram that arrived).
            assert (flow["state"], finding["severity"]) == ("attempted", "warning"), o.name
            assert (flow["device_action"], flow["device_rule"]) == ("deny", None), o.name
    capture = json.loads(scan(lab_run.captures["any"], "json"))
    assert sorted(f["fingerprint"] for f in report["findings"]) == sorted(
        f["fingerprint"] for f in capture["findings"]
    )


def test_the_firewall_log_has_every_exchange(
    fw_log: dict[str, Any], lab_run: labctl.LabRun
) -> None:
    rows: dict[FlowKey, list[dict[str, str]]] = {}
    for row in fw_log["table"]:
        port = int(row["dst_port"]) if row["dst_port"] else None
        rows.setdefault(key_of(row["src_ip"], row["dst_ip"], row["proto"], port), []).append(row)
    for o in lab_run.outcomes:
        (row,) = rows[key_of(o.src_ip, o.dst_ip, o.proto, o.port)]
        assert row["verdict"] == o.verdict, o.name
        assert row["state"] == ("attempted" if o.expect == "blocked" else "established"), o.name
        assert row["device_action"] == ("deny" if o.expect == "blocked" else "accept"), o.name


# -- building and tearing down ------------------------------------------------------------------


@pytest.fixture(scope="module")
def can_build() -> None:
    why = labctl.missing_requirements()
    if why:
        pytest.skip(f"lab not available: {why}")


def root_links() -> set[str]:
    out = netlab.run(["ip", "-o", "link", "show"])
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def test_teardown_even_when_a_run_fails(can_build: None) -> None:
    from segcheck import load_topology

    lab = netlab.Lab(load_topology(TOWN))
    prefix = f"{lab.layout.prefix}-"
    with pytest.raises(RuntimeError, match="boom"):
        with lab:
            lab.start_servers({"lg-mail": {"tcp": [25], "udp": []}}, labctl.AGENT)
            assert len(netlab.lab_namespaces(prefix)) == len(lab.layout.all_ns())
            raise RuntimeError("boom")
    assert netlab.lab_namespaces(prefix) == []
    assert all(proc.poll() is not None for proc in lab.servers) and lab.servers == []


def test_up_traffic_down_from_the_command_line(can_build: None, tmp_path: Path) -> None:
    before = root_links()
    labctl_py = [sys.executable, str(REPO / "lab" / "labctl.py")]
    up = subprocess.run([*labctl_py, "up"], capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    tag = up.stdout.strip()
    prefix = f"{netlab.PREFIX}{tag}-"
    try:
        names = netlab.lab_namespaces(prefix)
        assert f"{prefix}fw" in names and f"{prefix}sw" in names
        # Nothing of the lab lives in the host's namespace, and nothing routes out of it:
        # hosts route only to their own segment and the firewall; the firewall only knows its legs.
        assert root_links() == before
        fw_routes = netlab.run(["ip", "-n", f"{prefix}fw", "-4", "route", "show"])
        assert "default" not in fw_routes
        assert all("proto kernel" in line for line in fw_routes.splitlines())
        for ns in names:
            nat = netlab.run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"])
            assert "nat" not in nat
        traffic = subprocess.run(
            [*labctl_py, "traffic", "--tag", tag, "-o", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert traffic.returncode == 0, traffic.stdout + traffic.stderr
        assert (tmp_path / labctl.CAPTURE_ANY).stat().st_size > 0
    finally:
        down = subprocess.run(
            [*labctl_py, "down", "--tag", tag], capture_output=True, text=True, timeout=120
        )
    assert down.returncode == 0, down.stderr
    assert netlab.lab_namespaces(prefix) == []
    assert root_links() == before
