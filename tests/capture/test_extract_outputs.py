"""`scan --extract` never destroys evidence, says what it wrote, and refuses what it cannot hold."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
from cap_builders import epb, other_block, pcap, shb
from click.testing import CliRunner
from scapy.layers.inet import IP, TCP  # type: ignore[import-untyped]
from scapy.layers.l2 import Ether as _Ether  # type: ignore[import-untyped]
from scapy.packet import raw  # type: ignore[import-untyped]

from segcheck.capture import api, extract_packets, read_capture
from segcheck.cli import main
from segcheck.outputs import OutputExists

TOPOLOGY = Path(__file__).parents[1] / "data" / "topologies" / "judge-fixture.yaml"
T0 = 1_700_000_000.0
# lg-term (lgwan) -> inet-web (internet) on 443: a critical LG-INET-SPLIT flow.
CLIENT, SERVER = "10.2.10.11", "10.3.30.10"
CONN_LOG = (
    "#separator \\x09\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\n"
    f"1711000000.0\tC1\t{CLIENT}\t51000\t{SERVER}\t443\ttcp\t-\t1.0\t100\t200\tSF\t5\t5\n"
)


def handshake(sport: int = 5000) -> list[bytes]:
    eth = _Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return [
        raw(eth / IP(src=CLIENT, dst=SERVER) / TCP(sport=sport, dport=443, flags="S")),
        raw(eth / IP(src=SERVER, dst=CLIENT) / TCP(sport=443, dport=sport, flags="SA")),
    ]


def capture(tmp_path: Path, name: str = "in.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(pcap([(T0 + k * 0.001, p) for k, p in enumerate(handshake())]))
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["scan", str(TOPOLOGY), *map(str, args)])
    assert "Traceback" not in result.output + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("how", ["same", "hard link", "symbolic link", "topology"])
def test_extract_onto_an_input_is_refused_and_the_input_kept(tmp_path: Path, how: str) -> None:
    cap = capture(tmp_path)
    target = {"same": cap, "topology": Path(TOPOLOGY)}.get(how, tmp_path / "alias.pcap")
    if how == "hard link":
        os.link(cap, target)
    elif how == "symbolic link":
        target.symlink_to(cap.name)
    before = cap.read_bytes(), TOPOLOGY.read_bytes()
    code, out, err = run(cap, "--extract", target, "--force")
    assert code == 2
    assert f"{target}: is an input of this run" in err and "refusing" in err
    assert out == ""  # refused before the scan, not after it
    assert (cap.read_bytes(), TOPOLOGY.read_bytes()) == before


def test_extract_refuses_an_existing_file_unless_forced(tmp_path: Path) -> None:
    cap = capture(tmp_path)
    target = tmp_path / "out.pcap"
    target.write_bytes(b"an earlier extraction")
    code, _, err = run(cap, "--extract", target)
    assert code == 2 and f"{target}: exists; use --force" in err
    assert target.read_bytes() == b"an earlier extraction"
    code, _, err = run(cap, "--extract", target, "--force")
    assert code == 1
    assert f"extracted 2 packets of 1 flow to {target} (pcap)" in err
    assert read_capture(target).info.packets_read == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pcap", "out.pcap"]  # no temp left


@pytest.mark.parametrize(
    ("name", "magic", "kind"),
    [("v.pcapng", b"\x0a\x0d\x0d\x0a", "pcapng"), ("v.pcap", b"\xd4\xc3\xb2\xa1", "pcap")],
)
def test_extract_name_chooses_the_format(
    tmp_path: Path, name: str, magic: bytes, kind: str
) -> None:
    cap = capture(tmp_path)
    code, _, err = run(cap, "--extract", tmp_path / name)
    assert code == 1
    assert f"extracted 2 packets of 1 flow to {tmp_path / name} ({kind})" in err
    data = (tmp_path / name).read_bytes()
    assert data[:4] == magic
    again = read_capture(tmp_path / name)
    assert again.info.kind == kind and again.info.link_types == (1,)
    assert [(f.src_ip, f.dst_ip, f.dst_port, f.packets) for f in again.flows] == [
        (CLIENT, SERVER, 443, 2)
    ]


def test_extract_from_zeek_logs_only_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(CONN_LOG, encoding="utf-8")
    target = tmp_path / "v.pcap"
    code, out, err = run(log, "--extract", target)
    assert code == 2 and "nothing to extract" in err and "flow log" in err
    assert out == "" and not target.exists()


def test_extract_with_a_zeek_log_beside_a_capture_says_what_was_left_out(tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(CONN_LOG, encoding="utf-8")
    cap = capture(tmp_path)
    target = tmp_path / "v.pcap"
    code, _, err = run(cap, log, "--extract", target)
    assert code == 1
    assert f"extracted 2 packets of 1 flow to {target} (pcap)" in err
    assert f"{log}: a flow log has no packets to extract (1 flow left out)" in err
    assert read_capture(target).info.packets_read == 2


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{dir}", "is a folder"),
        ("{dir}/missing/v.pcap", "folder {dir}/missing does not exist"),
        ("{dir}/in.pcap/v.pcap", "not a folder"),
    ],
)
def test_extract_to_a_folder_or_a_missing_one_exits_2(
    tmp_path: Path, target: str, message: str
) -> None:
    cap = capture(tmp_path)
    code, _, err = run(cap, "--extract", target.format(dir=tmp_path))
    assert code == 2 and message.format(dir=tmp_path) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pcap"]


def test_o_and_extract_naming_one_file_is_refused(tmp_path: Path) -> None:
    cap = capture(tmp_path)
    code, _, err = run(cap, "-o", tmp_path / "x", "--extract", tmp_path / "x")
    assert code == 2 and "named by both -o and --extract" in err


def _idb_with_offset(offset: int) -> bytes:
    """Ethernet, microsecond ticks, if_tsoffset = `offset` seconds."""
    body = struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HHq", 14, 8, offset)
    return other_block(1, body + struct.pack("<HH", 0, 0))


def odd_times_capture(tmp_path: Path) -> tuple[Path, list[int]]:
    """One packet before 1970 (interface with a negative offset), one after 2106."""
    syn, synack = handshake()
    before, after = -86_400 * 365, 5_000_000_000  # 1969-01-01, 2128
    data = shb() + _idb_with_offset(before) + _idb_with_offset(after)
    data += epb(0, 123_456, syn) + epb(1, 654_321, synack)
    path = tmp_path / "odd.pcapng"
    path.write_bytes(data)
    return path, [before * 10**9 + 123_456_000, after * 10**9 + 654_321_000]


def times(path: Path) -> list[int]:
    return [int(t) for batch, _ in api.iter_batches(str(path)) for t in batch.ts_ns]


def test_timestamps_a_pcap_cannot_hold_are_refused_and_a_pcapng_keeps_them(
    tmp_path: Path,
) -> None:
    cap, want = odd_times_capture(tmp_path)
    assert times(cap) == want
    target = tmp_path / "v.pcap"
    target.write_bytes(b"keep")
    code, _, err = run(cap, "--extract", target, "--force")
    assert code == 2
    assert f"{cap} frame 1 has a timestamp (1969-01-01T00:00:00Z)" in err
    assert "name the output .pcapng" in err
    assert target.read_bytes() == b"keep"  # the refusal came before any byte was written
    code, _, err = run(cap, "--extract", tmp_path / "v.pcapng")
    assert code == 1, err
    assert times(tmp_path / "v.pcapng") == want  # to the nanosecond, before 1970 and after 2106


def test_several_link_types_need_a_pcapng(tmp_path: Path) -> None:
    syn, synack = handshake()
    a, b = tmp_path / "eth.pcap", tmp_path / "raw.pcap"
    a.write_bytes(pcap([(T0, syn), (T0 + 0.001, synack)]))
    b.write_bytes(pcap([(T0 + 1, h[14:]) for h in handshake(6000)], linktype=101))
    code, _, err = run(a, b, "--extract", tmp_path / "v.pcap")
    assert code == 2 and "several link types (1, 101)" in err and ".pcapng" in err
    assert not (tmp_path / "v.pcap").exists()
    code, _, err = run(a, b, "--extract", tmp_path / "v.pcapng")
    assert code == 1 and "extracted 4 packets of 2 flows" in err
    assert read_capture(tmp_path / "v.pcapng").info.link_types == (1, 101)


def test_library_refuses_to_replace_without_force(tmp_path: Path) -> None:
    cap = capture(tmp_path)
    flows = read_capture(cap).flows
    target = tmp_path / "v.pcap"
    target.write_bytes(b"keep")
    with pytest.raises(OutputExists):
        extract_packets([cap], flows, target)
    assert target.read_bytes() == b"keep"
    done = extract_packets([cap], flows, target, force=True)
    assert (done.packets, done.flows, done.format) == (2, 1, "pcap")
    ts = np.array(times(target))
    assert np.array_equal(ts, np.array(times(cap)))
