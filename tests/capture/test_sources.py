"""The registry of readers: each format is sniffed by exactly one source, and a new flow-log
source plugs in by its place in SOURCES alone (as FortiGate, PAN-OS, Suricata EVE or NetFlow
readers will)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import ClassVar

import pytest

from segcheck.capture import api, read_capture, read_captures
from segcheck.capture.model import Flow, FlowLog
from segcheck.capture.source import ByteSource
from segcheck.capture.sources import SNIFF_BYTES, SOURCES, FlowSource, PacketSource, titles
from segcheck.errors import CaptureError

ROOT = Path(__file__).resolve().parents[2]
ALPHA = ROOT / "captures" / "alpha"
ZEEK = (
    "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
    "conn_state\torig_pkts\tresp_pkts\n"
    "1767225600.5\tC1\t10.2.10.11\t40000\t10.3.20.25\t25\ttcp\tSF\t3\t2\n"
)


def _zeek(tmp_path: Path) -> Path:
    path = tmp_path / "conn.log"
    path.write_text(ZEEK, encoding="utf-8")
    return path


def _head(path: Path) -> bytes:
    with ByteSource(path) as src:
        return src.peek(SNIFF_BYTES)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("alpha.pcap", "pcap"),
        ("alpha.pcapng", "pcapng"),
        ("alpha.pcapng.gz", "pcapng"),  # sniffed after gunzip, never by name
        ("conn.log", "zeek-conn"),
    ],
)
def test_every_format_is_claimed_by_exactly_one_source(
    tmp_path: Path, name: str, kind: str
) -> None:
    path = _zeek(tmp_path) if name == "conn.log" else ALPHA / name
    claimed = [source.kind for source in SOURCES if source.sniff(_head(path))]
    assert claimed == [kind]
    with ByteSource(path) as src:
        reader = api._open_reader(src, str(path))
        assert reader.kind == kind
        assert isinstance(reader, FlowSource if kind == "zeek-conn" else PacketSource)
        assert not isinstance(reader, PacketSource if kind == "zeek-conn" else FlowSource)


def test_an_unknown_format_names_every_source(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"NOPE" * 10)
    assert titles() == (
        "pcap, pcapng, Zeek conn.log, Suricata EVE JSON, FortiGate traffic log, PAN-OS traffic "
        "log, nfdump CSV/JSON output or nfcapd file (through nfdump)"
    )
    with pytest.raises(CaptureError, match=r"not a pcap, pcapng, Zeek .* \(starts with"):
        read_capture(path)


class _PipeLog:
    """A made-up flow log for the test: `PIPELOG` then `src|dst|proto|sport|dport` lines."""

    kind: ClassVar[str] = "pipe-log"
    title: ClassVar[str] = "pipe log"

    def __init__(self, src: ByteSource, path: str) -> None:
        self.src, self.path = src, path

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head.startswith(b"PIPELOG\n")

    @classmethod
    def open(cls, src: ByteSource, path: str) -> _PipeLog:
        return cls(src, path)

    def read(self) -> FlowLog:
        lines = self.src.read(1 << 20).decode().splitlines()[1:]
        flows = []
        for number, line in enumerate(lines, 1):
            a, b, proto, sport, dport = line.split("|")
            flows.append(
                Flow(a, b, proto, int(sport), int(dport), None, 1, 60, 1.0, 1.0, number,
                     "established", self.path)
            )  # fmt: skip
        return FlowLog(flows, len(lines), 0)


def test_a_new_flow_source_plugs_in_by_the_registry(tmp_path: Path, monkeypatch) -> None:
    with ByteSource(ALPHA / "alpha.pcap") as src:
        assert isinstance(_PipeLog.open(src, "x"), FlowSource)
    monkeypatch.setattr(api, "SOURCES", (*SOURCES, _PipeLog))
    path = tmp_path / "flows.pipe.gz"
    path.write_bytes(gzip.compress(b"PIPELOG\n10.2.10.11|10.3.20.25|tcp|40000|25\n"))
    result = read_capture(path)
    assert result.info.kind == "pipe-log" and result.info.packets_read == 1
    assert result.info.compressed
    assert [(f.src_ip, f.dst_ip, f.dst_port) for f in result.flows] == [
        ("10.2.10.11", "10.3.20.25", 25)
    ]
    # and alongside the built-in sources
    both = read_captures([path, ALPHA / "alpha.pcap"], jobs=1)
    assert [r.info.kind for r in both] == ["pipe-log", "pcap"]


def test_an_empty_file_is_an_empty_capture(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    result = read_capture(path)
    assert result.info.kind == "pcap" and result.info.packets_read == 0 and not result.flows


def test_a_cut_pcap_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes((ALPHA / "alpha.pcap").read_bytes()[:10])
    with pytest.raises(CaptureError, match="pcap file header cut short at byte offset 10"):
        read_capture(path)
