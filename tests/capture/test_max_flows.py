"""`--max-flows`: past the cap, flows are judged per address class (the judge's: zone, node,
channel ends) and service, and every scan format says so (issue 14)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from segcheck.capture import api
from segcheck.capture.api import default_max_flows
from segcheck.capture.flowtable import FRAME_MASK, cap_flows
from segcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOPO = str(ROOT / "topologies/alpha.yaml")
CAP = str(ROOT / "captures/alpha/alpha.pcap")
STAMP = "2026-01-01T00:00:00Z"


def _scan(*extra: str) -> str:
    r = CliRunner().invoke(main, ["scan", TOPO, CAP, "--lang", "en", *extra])
    assert r.exit_code in (0, 1), r.output
    return r.stdout


def test_json_states_the_cap_and_keeps_every_verdict() -> None:
    whole = json.loads(_scan("--format", "json"))
    capped = json.loads(_scan("--format", "json", "--max-flows", "5"))
    gaps = capped["evidence"]["gaps"]
    assert [g["kind"] for g in gaps] == ["flows-joined"]
    assert gaps[0]["input"] == CAP and "--max-flows" in gaps[0]["message"]
    assert capped["evidence"]["status"] == "incomplete"
    assert whole["evidence"]["status"] == "complete"

    def verdicts(d: dict) -> set[tuple[str, str, str, str | None]]:
        return {(f["rule"], f["src_zone"], f["dst_zone"], f["service"]) for f in d["findings"]}

    assert verdicts(capped) == verdicts(whole)  # judging went on over every flow


@pytest.mark.parametrize("fmt", ["text", "sarif", "html", "csv"])
def test_every_scan_format_states_the_cap(fmt: str) -> None:
    assert "address class (zone, node, channel ends)" in _scan("--format", fmt, "--max-flows", "5")
    assert "address class" not in _scan("--format", fmt)


def test_csv_keeps_every_packet() -> None:
    def rows(text: str) -> list[dict[str, str]]:
        # flow rows only (an evidence gap is a row of its own, without counters)
        return [r for r in csv.DictReader(io.StringIO(text)) if r["packets"].isdigit()]

    whole, capped = (
        rows(_scan("--format", "csv")),
        rows(_scan("--format", "csv", "--max-flows", "5")),
    )
    assert sum(int(r["packets"]) for r in capped) == sum(int(r["packets"]) for r in whole)
    assert sum(int(r["bytes"]) for r in capped) == sum(int(r["bytes"]) for r in whole)
    assert all(r["src_port"] == "0" for r in capped if r not in whole)
    first5 = sorted(whole, key=lambda r: int(r["first_frame"]))[:5]
    for r in first5:  # the first flows by frame stay whole, client port included
        assert r in capped


def test_cap_keeps_the_first_flows_whole() -> None:
    table = api.read_scan([CAP]).table
    c = table.columns()
    n = int(np.count_nonzero(c["packets"] > 0))
    kept, joined = cap_flows(c, 3)
    assert sum(joined.values()) == n - 3
    frames = np.sort(c["fcode"][c["packets"] > 0] >> 1)[:3] & FRAME_MASK
    assert set(frames.tolist()) <= set(((kept["fcode"] >> 1) & FRAME_MASK).tolist())
    same, none = cap_flows(c, n)
    assert none == {} and len(same["proto"]) == n


def test_default_is_sized_to_the_machine() -> None:
    assert default_max_flows() >= 100_000


def test_client_ports_of_one_host_pair_join(tmp_path: Path) -> None:
    from cap_builders import pcap
    from scapy.layers.inet import IP, TCP  # type: ignore[import-untyped]
    from scapy.layers.l2 import Ether  # type: ignore[import-untyped]
    from scapy.packet import raw  # type: ignore[import-untyped]

    pkts = [
        (
            1_700_000_000.0 + i,
            raw(
                Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                / IP(src="10.0.0.1", dst="10.0.0.2")
                / TCP(sport=40000 + i, dport=443)
            ),
        )
        for i in range(50)
    ]
    path = tmp_path / "ports.pcap"
    path.write_bytes(pcap(pkts))
    table = api.read_scan([path]).table
    kept, joined = cap_flows(table.columns(), 5)
    assert joined == {0: 45}
    assert len(kept["proto"]) == 6  # five whole flows, one for the host pair and service
    assert int(kept["packets"].sum()) == 50


def _flood(tmp_path: Path, sources: list[str]) -> str:
    """One SYN from each source to an LGWAN host's 445 (a spoofed-source flood)."""
    from cap_builders import pcap
    from scapy.layers.inet import IP, TCP  # type: ignore[import-untyped]
    from scapy.layers.l2 import Ether  # type: ignore[import-untyped]
    from scapy.packet import raw  # type: ignore[import-untyped]

    pkts = [
        (
            1_700_000_000.0 + i,
            raw(
                Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                / IP(src=src, dst="10.2.10.20", id=i + 1)
                / TCP(sport=40000 + i, dport=445, flags="S", seq=i)
            ),
        )
        for i, src in enumerate(sources)
    ]
    path = tmp_path / "flood.pcap"
    path.write_bytes(pcap(pkts))
    return str(path)


def test_a_spoofed_source_flood_joins_per_address_class(tmp_path: Path) -> None:
    """One host pair per flow: joined per class, the flood past the cap is one flow."""
    sources = [f"11.0.{i // 200}.{1 + i % 200}" for i in range(30)]  # above the target
    sources += [f"1.2.{i // 200}.{1 + i % 200}" for i in range(30)]  # below: side B initiates
    cap = _flood(tmp_path, sources)

    def run(*extra: str) -> dict:
        r = CliRunner().invoke(
            main, ["scan", TOPO, cap, "--lang", "en", "--format", "json", *extra]
        )
        assert r.exit_code in (0, 1, 2), r.output  # 2: incomplete evidence, no high finding
        return json.loads(r.stdout)

    whole, capped = run(), run("--max-flows", "5")
    assert len(whole["findings"]) == 60 and len(capped["findings"]) == 6
    [gap] = capped["evidence"]["gaps"]
    assert gap["kind"] == "flows-joined" and "55 flows" in gap["message"]
    joined = [f for f in capped["findings"] if f["flow"]["src_port"] == 0]
    assert len(joined) == 1
    flow = joined[0]["flow"]
    # the smallest of the joined sources shows the class; the initiator stays the source
    assert flow["src_ip"] == "1.2.0.1" and flow["dst_ip"] == "10.2.10.20"
    assert (flow["dst_port"], flow["packets"], flow["state"]) == (445, 55, "attempted")
    assert flow["first_frame"] == 6  # the first joined flow's frame
    key = {(f["rule"], f["src_zone"], f["dst_zone"], f["service"]) for f in whole["findings"]}
    assert {
        (f["rule"], f["src_zone"], f["dst_zone"], f["service"]) for f in capped["findings"]
    } == key


def test_joined_flows_keep_their_initiator_and_state(tmp_path: Path) -> None:
    """Flows turned so that side A initiates join with flows already so: the joined flow's
    initiator, ports and state are those of its flows (answered: established)."""
    from cap_builders import pcap
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.packet import raw

    pkts = []
    for i, src in enumerate(["11.0.0.1", "1.2.0.1", "11.0.0.2", "1.2.0.2"]):
        syn = IP(src=src, dst="10.2.10.20", id=2 * i + 1) / TCP(
            sport=50000 + i, dport=445, flags="S"
        )
        ack = IP(src="10.2.10.20", dst=src, id=2 * i + 2) / TCP(
            sport=445, dport=50000 + i, flags="SA"
        )
        for j, p in enumerate((syn, ack)):
            pkts.append((1_700_000_000.0 + 2 * i + j, raw(Ether() / p)))
    path = tmp_path / "answered.pcap"
    path.write_bytes(pcap(pkts))
    from segcheck.engine import scan

    report = scan(TOPO, [str(path)], max_flows=1)
    rows = sorted(report.flows, key=lambda r: r.flow.first_frame)
    assert [(r.flow.src_ip, r.flow.src_port, r.flow.dst_port, r.flow.state) for r in rows] == [
        ("11.0.0.1", 50000, 445, "established"),
        ("1.2.0.1", 0, 445, "established"),
    ]
    assert rows[1].flow.packets == 6


def test_joining_in_slices_gives_the_bytes_of_one_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segcheck.capture import flowtable

    sources = [f"11.0.{i // 200}.{1 + i % 200}" for i in range(40)]
    sources += [f"1.2.{i // 200}.{1 + i % 200}" for i in range(40)]
    cap = _flood(tmp_path, sources)
    args = ["scan", TOPO, cap, "--format", "json", "--max-flows", "5", "--timestamp", STAMP]
    whole = CliRunner().invoke(main, args).stdout
    monkeypatch.setattr(flowtable, "CAP_SLICE", 7)
    sliced = CliRunner().invoke(main, args).stdout
    assert sliced == whole and '"packets": 75' in whole
