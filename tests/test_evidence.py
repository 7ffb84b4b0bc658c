"""No false all-clear (issue 9 §2): evidence that was not seen is said plainly, in every format.

A capture with no traffic (0 bytes, header only, nothing analysable) makes the evidence unusable:
exit 2 whatever the findings. A capture that stopped early still gives its findings but never
says the separation holds; without findings it exits 2. So does a topology with fewer than two
internal tiers: there is nothing to separate.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.engine import check, scan
from segcheck.findings import CaptureSummary, Evidence, GapKind, Report
from segcheck.report import formats_for, render
from segcheck.report.csv import GAPS_JA, HEADERS_JA

TWO_TIERS = """segcheck: 1
name: two tiers
zones:
  lg:   {tier: lgwan, subnets: [10.2.0.0/16]}
  inet: {tier: internet, subnets: [10.3.0.0/16]}
"""
ONE_TIER = """segcheck: 1
name: one tier
zones:
  lg:    {tier: lgwan, subnets: [10.2.0.0/16]}
  lgwan: {tier: lgwan-network, subnets: [198.18.0.0/16]}
"""
ONE_TIER_WITH_FINDING = ONE_TIER + "nodes:\n  pc: {role: terminal, ip: [10.2.0.9, 198.18.0.9]}\n"
NO_INTERNAL = "segcheck: 1\nzones:\n  lgwan: {tier: lgwan-network, subnets: [198.18.0.0/16]}\n"
HOLDS = ("separation holds", "三層分離は保たれている")
T0 = 1_700_000_000


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, data: str | bytes) -> str:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


def tcp(src: str, dst: str, sport: int, dport: int, flags: int) -> bytes:
    ip = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        40,
        0,
        0,
        64,
        6,
        0,
        bytes(map(int, src.split("."))),
        bytes(map(int, dst.split("."))),
    )
    return (
        b"\x02" * 12
        + b"\x08\x00"
        + ip
        + struct.pack(">HHIIBBHHH", sport, dport, 0, 0, 0x50, flags, 0, 0, 0)
    )


def handshake(src: str, dst: str, dport: int) -> list[bytes]:
    return [tcp(src, dst, 40000, dport, 0x02), tcp(dst, src, dport, 40000, 0x12)]


def pcap(frames: list[bytes], linktype: int = 1) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for i, data in enumerate(frames):
        out.append(struct.pack("<IIII", T0 + i, 0, len(data), len(data)) + data)
    return b"".join(out)


ALLOWED = handshake("10.2.0.5", "10.2.0.6", 445)  # within the lgwan tier
FORBIDDEN = handshake("10.2.0.5", "10.3.0.6", 25)  # lgwan -> internet: LG-INET-SPLIT
ZEEK_HEADER_ONLY = (
    "#separator \\x09\n#path\tconn\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n"
)
PCAPNG_NO_PACKET = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28) + struct.pack(
    "<IIHHII", 1, 20, 1, 0, 65535, 20
)

EMPTY_CAPTURES = {
    "zero-bytes.pcap": b"",
    "header-only.pcap": pcap([]),
    "no-packet.pcapng": PCAPNG_NO_PACKET,
    "conn.log": ZEEK_HEADER_ONLY,
    "unsupported-link.pcap": pcap(ALLOWED, linktype=147),  # read, but nothing analysable
    "no-ip.pcap": pcap([b"\xff" * 12 + b"\x08\x06" + bytes(28)] * 3),  # ARP only: no flow
}


@pytest.fixture
def topo(tmp_path: Path) -> str:
    return write(tmp_path / "topo.yaml", TWO_TIERS)


# --- captures with no packet ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EMPTY_CAPTURES))
def test_capture_without_packets_exits_2_and_says_so(tmp_path: Path, topo: str, name: str) -> None:
    capture = write(tmp_path / name, EMPTY_CAPTURES[name])
    code, out, err = run("scan", topo, capture, "--lang", "en")
    assert code == 2
    assert f"{capture}: no traffic seen" in out and f"{capture}: no traffic seen" in err
    assert "NOT proven" in out and not any(h in out for h in HOLDS)
    assert "Traceback" not in out + err


def test_an_empty_capture_beside_a_good_one_still_exits_2(tmp_path: Path, topo: str) -> None:
    good = write(tmp_path / "good.pcap", pcap(FORBIDDEN))
    empty = write(tmp_path / "empty.pcap", b"")
    code, out, _ = run("scan", topo, good, empty, "--lang", "en")
    assert code == 2
    assert "LG-INET-SPLIT" in out and f"{empty}: no traffic seen" in out


def test_complete_clean_capture_still_exits_0(tmp_path: Path, topo: str) -> None:
    code, out, err = run("scan", topo, write(tmp_path / "ok.pcap", pcap(ALLOWED)), "--lang", "en")
    assert (code, err) == (0, "")
    assert "no findings: the three-tier separation holds" in out


# --- captures that stopped early --------------------------------------------------------------


def cut(frames: list[bytes]) -> bytes:
    """The frames, then a record cut short (the third frame's header and 5 bytes)."""
    return pcap([*frames, ALLOWED[0]])[: -(len(ALLOWED[0]) - 5)]


def test_stopped_capture_keeps_its_findings_and_says_incomplete(tmp_path: Path, topo: str) -> None:
    capture = write(tmp_path / "cut.pcap", cut(FORBIDDEN))
    code, out, err = run("scan", topo, capture, "--lang", "en")
    assert code == 1
    assert "LG-INET-SPLIT" in out
    where = f"stopped at frame 3, byte offset {24 + 2 * (16 + 54)}"
    assert f"{capture}: incomplete: reading {where}" in out
    assert "EVIDENCE INCOMPLETE" in out and "unknown number of packets" in out
    assert f"Warning: {capture}: incomplete" in err
    assert not any(h in out for h in HOLDS)


def test_stopped_capture_without_findings_is_not_clean(tmp_path: Path, topo: str) -> None:
    capture = write(tmp_path / "cut.pcap", cut(ALLOWED))
    code, out, err = run("scan", topo, capture, "--lang", "ja")
    assert code == 2
    assert "三層分離は証明されていない" in out and "フレーム 3" in out
    assert not any(h in out for h in HOLDS)
    assert f"エラー: {capture}: 不完全" in err


# --- topologies with nothing to separate ------------------------------------------------------


@pytest.mark.parametrize("plan", [ONE_TIER, NO_INTERNAL])
def test_topology_with_fewer_than_two_internal_tiers(tmp_path: Path, plan: str) -> None:
    topo = write(tmp_path / "one.yaml", plan)
    code, out, err = run("check", topo, "--lang", "en")
    assert code == 2
    assert f"{topo}: nothing to separate" in out and "nothing to separate" in err
    assert not any(h in out for h in HOLDS)


def test_nothing_to_separate_keeps_findings(tmp_path: Path) -> None:
    topo = write(tmp_path / "one.yaml", ONE_TIER_WITH_FINDING)
    code, out, _ = run("check", topo, "--lang", "en")
    assert code == 1 and "GEN-NO-BRIDGING" in out and "nothing to separate" in out


# --- every format, and the report folder ------------------------------------------------------


def unusable_scan(tmp_path: Path) -> Report:
    topo = write(tmp_path / "topo.yaml", TWO_TIERS)
    return scan(topo, [write(tmp_path / "empty.pcap", b"")], generated_at="2026-01-01T00:00:00Z")


def one_tier_check(tmp_path: Path) -> Report:
    topo = write(tmp_path / "one.yaml", ONE_TIER)
    return check(topo, generated_at="2026-01-01T00:00:00Z")


def assert_gap_shown(text: str, fmt: str, report: Report, lang: str) -> None:
    (gap,) = report.gaps
    message = gap.text(lang)
    if fmt == "json":
        evidence = json.loads(text)["evidence"]
        assert evidence["status"] == report.evidence.value
        assert evidence["separation_proven"] is False
        assert [(g["kind"], g["input"]) for g in evidence["gaps"]] == [(gap.kind, gap.path)]
    elif fmt == "sarif":
        run_ = json.loads(text)["runs"][0]
        (invocation,) = run_["invocations"]
        assert invocation["executionSuccessful"] is (report.evidence is not Evidence.UNUSABLE)
        (note,) = invocation["toolExecutionNotifications"]
        assert note["message"]["text"] == message and note["properties"]["kind"] == gap.kind
        assert run_["properties"]["evidence"] == report.evidence.value
    elif fmt == "csv":
        header, first, *_ = list(csv.reader(io.StringIO(text)))
        keys = {ja: key for key, ja in HEADERS_JA.items()} if lang == "ja" else {}
        row = {keys.get(name, name): cell for name, cell in zip(header, first, strict=True)}
        kind = GAPS_JA[gap.kind] if lang == "ja" else gap.kind
        # the flow table names the gap as a verdict, the findings table (check) as a status
        assert row.get("verdict", row.get("status")) == kind and row["note"] == message
    elif fmt == "junit":
        root = ET.fromstring(text)
        (error,) = root.iter("error")
        assert error.get("type") == gap.kind and error.get("message") == message
        assert root.get("errors") == "1"
    elif fmt == "html":
        assert 'id="evidence-gaps"' in text and message in text
        assert 'class="verdict unproven"' in text and 'class="verdict good"' not in text
    else:
        assert message in text.replace("\\", "")  # md escapes punctuation
    assert not any(h in text for h in HOLDS)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("fmt", formats_for("scan") + ("md", "junit"))
def test_every_format_shows_a_capture_without_packets(tmp_path: Path, fmt: str, lang: str) -> None:
    report = unusable_scan(tmp_path)
    assert report.evidence is Evidence.UNUSABLE
    assert_gap_shown(render(report, fmt, lang), fmt, report, lang)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("fmt", formats_for("check") + ("csv",))
def test_every_format_shows_nothing_to_separate(tmp_path: Path, fmt: str, lang: str) -> None:
    report = one_tier_check(tmp_path)
    assert report.evidence is Evidence.INCOMPLETE
    assert_gap_shown(render(report, fmt, lang), fmt, report, lang)


def test_report_folder_cover_says_what_was_not_seen(tmp_path: Path, topo: str) -> None:
    empty = write(tmp_path / "empty.pcap", pcap([]))
    out = tmp_path / "evidence"
    code, _, err = run("report", topo, empty, "-o", str(out), "--lang", "en")
    assert code == 2 and f"{empty}: no traffic seen" in err
    page = (out / "report.html").read_text(encoding="utf-8")
    cover = page[: page.index("</header>")]
    assert f"{empty}: no traffic seen" in cover and "NOT proven" in cover
    assert json.loads((out / "findings.json").read_text())["evidence"]["status"] == "unusable"


# --- the record -------------------------------------------------------------------------------


def test_gaps_are_a_frozen_field_derived_from_the_inputs(tmp_path: Path) -> None:
    report = unusable_scan(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.gaps = ()  # type: ignore[misc]
    damaged = CaptureSummary("x.pcap.gz", "pcap", "", 5, 0, (700, 6, "cut"), compressed=True)
    rebuilt = dataclasses.replace(report, captures=(damaged,))
    (gap,) = rebuilt.gaps
    assert (gap.kind, gap.frame, gap.byte_offset) == (GapKind.STOPPED_EARLY, 6, 700)
    assert "byte offset 700 of the decompressed stream" in gap.message
    assert rebuilt.evidence is Evidence.INCOMPLETE and not rebuilt.separation_proven
