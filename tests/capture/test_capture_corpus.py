"""Every corpus capture: no unexpected exception, sane statistics, tshark's TCP/UDP counts.

Uses ../shared/corpus/pcap when present, and always the small copies in tests/data/pcaps.
MANIFEST.tsv gives tshark 4.0.17's conversation counts; the deviations below are deliberate.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from segcheck.capture import read_capture
from segcheck.errors import CaptureError

REPO = Path(__file__).parents[2]
CORPUS = REPO.parent / "shared/corpus/pcap"
LOCAL = REPO / "tests/data/pcaps"

# Categories (first word of why_chosen) whose TCP/UDP flow counts must match tshark's.
COMPARED = {
    "ipv4-plain",
    "ipv6",
    "vlan",
    "mpls",
    "tunnel",
    "pppoe",
    "sll",
    "raw-ip",
    "null",
    "nsec",
    "big-endian",
    "pcapng",
    "empty",
    "fragments",
    "truncated",
    "trunc-last",
}
# tshark's conversations ignore VLANs: a VLAN-keyed flow table may count more.
MAY_BE_HIGHER = {"vlan"}
# file -> (tcp, udp) that segcheck finds, and why it differs from tshark.
DEVIATIONS: dict[str, tuple[int, int, str]] = {
    "zeek__gre-aruba-amsdu.pcap": (0, 0, "802.11 inside Aruba GRE is not decoded"),
    "libpcap__brcm-tag-stp.pcap": (0, 0, "Broadcom tag link type unsupported (tshark cannot read)"),
    "tcpdump__of13_ericsson.pcapng": (21, 0, "tshark dissects a frame inside an OpenFlow payload"),
    "zeek__fragmented-3.pcap": (
        1,
        0,
        "incomplete fragment train: tshark does not reassemble, segcheck takes the ports "
        "from the first fragment (spec §7)",
    ),
    "zeek__ipv6-fragmented-dns.pcap": (
        0,
        3,
        "a non-first fragment whose first fragment is not captured is a port-0 UDP flow",
    ),
    "zeek__ip-discarder-truncated-tcp-oob.pcapng": (
        1,
        0,
        "TCP header cut by the snapshot length: ports are present, tshark marks it malformed",
    ),
}


def manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "MANIFEST.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def cases() -> list[object]:
    out: list[object] = []
    for folder in (LOCAL, CORPUS):
        if (folder / "MANIFEST.tsv").exists():
            for row in manifest(folder):
                out.append(
                    pytest.param(folder / row["file"], row, id=f"{folder.name}/{row['file']}")
                )
    return out


@pytest.mark.parametrize("path,row", cases())
def test_corpus_file(path: Path, row: dict[str, str]) -> None:
    tshark_ok = row["tshark_status"].startswith("ok")
    try:
        r = read_capture(path)
    except CaptureError:
        assert not tshark_ok, "tshark reads this file; segcheck should read something too"
        return
    info = r.info
    assert info.kind in ("pcap", "pcapng") and len(info.sha256) == 64
    if row["packets"] != "-" and tshark_ok:
        assert info.packets_read == int(row["packets"])
    assert 0 <= info.packets_skipped <= info.packets_read
    assert sum(f.packets for f in r.flows if not f.tunnel) <= 3 * info.packets_read
    for f in r.flows:
        assert f.packets >= 1 and f.first_frame >= 1 and f.first_seen <= f.last_seen
        assert f.state in ("established", "attempted", "unknown")
    category = row["why_chosen"].split(":")[0]
    if category not in COMPARED or row["tcp_convs"] == "-":
        return
    tcp = sum(1 for f in r.flows if f.proto == "tcp")
    udp = sum(1 for f in r.flows if f.proto == "udp")
    want = (int(row["tcp_convs"]), int(row["udp_convs"]))
    name = path.name.replace("broken__", "broken/")
    if name in DEVIATIONS:
        assert (tcp, udp) == DEVIATIONS[name][:2], DEVIATIONS[name][2]
    elif category in MAY_BE_HIGHER:
        assert tcp >= want[0] and udp >= want[1]
    else:
        assert (tcp, udp) == want


def test_corpus_present_or_explained() -> None:
    if not CORPUS.exists():
        pytest.skip(
            f"{CORPUS} absent (README.md, 'Install and run the tests'): "
            "only the copies in tests/data/pcaps were tested"
        )
    assert len(manifest(CORPUS)) >= 100
