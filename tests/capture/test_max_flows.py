"""`--max-flows`: past the cap, flows are judged per host pair and service, and every scan
format says so (issue 14)."""

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
        return {(f["rule"], f["src"], f["dst"], f["service"]) for f in d["findings"]}

    assert verdicts(capped) == verdicts(whole)  # judging went on over every flow


@pytest.mark.parametrize("fmt", ["text", "sarif", "html", "csv"])
def test_every_scan_format_states_the_cap(fmt: str) -> None:
    assert "host pair and service" in _scan("--format", fmt, "--max-flows", "5")
    assert "host pair and service" not in _scan("--format", fmt)


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
    from scapy.all import IP, TCP, Ether, raw  # type: ignore[import-untyped]

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
