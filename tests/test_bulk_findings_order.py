"""The bulk pieces of judging (issue 14) against their one-by-one definitions: flow
fingerprints, the order of findings (spec §6), address texts and the order of oriented flows."""

from __future__ import annotations

import dataclasses
import ipaddress
import random
from pathlib import Path

import numpy as np
import pytest

from segcheck.capture.api import read_scan
from segcheck.capture.flowcols import addr_texts, oriented
from segcheck.findings import (
    Finding,
    Location,
    RuleId,
    Severity,
    _joined_sort_keys,
    flow_fingerprint,
    flow_fingerprints,
    sorted_findings,
)

ROOT = Path(__file__).resolve().parents[1]


def test_flow_fingerprints_equal_one_by_one() -> None:
    rng = random.Random(14)
    groups = [
        (RuleId(r), p, port)
        for r in ("LG-INET-SPLIT", "MN-ISOLATION")
        for p, port in (("tcp", 443), ("udp", 53), ("icmp", 0), ("47", 0))
    ]
    for vlans in ((None,), (None, 0, 100), (7,)):
        n = 500
        of = [rng.randrange(len(groups)) for _ in range(n)]
        src = [f"10.0.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(n)]
        dst = [rng.choice(["2001:db8::1", "192.0.2.1", "ノード"]) for _ in range(n)]
        vlan = [rng.choice(vlans) for _ in range(n)]
        inner = [rng.choice((None, 20)) if v is not None else None for v in vlan]
        expected = [
            flow_fingerprint(*groups[g][:1], s, d, *groups[g][1:], v, iv)
            for g, s, d, v, iv in zip(of, src, dst, vlan, inner, strict=True)
        ]
        assert flow_fingerprints(groups, of, src, dst, vlan, inner) == expected


def _spec_key(f: Finding) -> tuple[object, ...]:
    """Spec §6's order, spelt out here independently of findings.sort_keys."""
    return (
        -f.severity.rank,
        f.rule,
        f.src_zone or "",
        f.dst_zone or "",
        f.src or "",
        f.dst or "",
        f.service or "",
        f.fingerprint,
    )


def _finding(rng: random.Random, n: int, nul: bool) -> Finding:
    pick = rng.choice
    return Finding(
        RuleId(pick(["LG-INET-SPLIT", "MN-ISOLATION", "GEN-ZONE-ASSIGNED"])),
        pick(list(Severity)),
        f"message {n}",  # never compared: equal keys keep their order
        f"メッセージ {n}",
        Location("cap.pcap", None, n),
        src_zone=pick([None, "", "lg", "lgn", "mn", "lg\x00" if nul else "lg\x01"]),
        dst_zone=pick([None, "inet", "lg"]),
        src=pick([None, "10.0.0.1", "10.0.0.10", "10.0.0.9", "mn-term", "ａ", "10.0.0.1 "]),
        dst=pick([None, "10.0.0.2", "2001:db8::1"]),
        service=pick([None, "", "https", "rdp"]),
        fingerprint=pick(["0" * 32, "f" * 32, "0123456789abcdef" * 2]),
    )


@pytest.mark.parametrize("nul", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_sorted_findings_is_the_spec_order_with_ties_kept(seed: int, nul: bool) -> None:
    """Random findings with equal keys, fields that are prefixes of others, non-ASCII text,
    and (`nul`) a NUL in a field, which the joined keys cannot order: the tuples then."""
    rng = random.Random(seed)
    findings = [_finding(rng, n, nul) for n in range(2000)]
    assert (_joined_sort_keys(findings) is None) is nul  # each way of sorting is tested
    expected = sorted(findings, key=_spec_key)  # stable: ties in input order
    got = sorted_findings(findings)
    assert [id(f) for f in got] == [id(f) for f in expected]
    assert sorted_findings(iter(findings)) == got == sorted_findings(tuple(findings))
    assert [f.sort_key for f in got] == [_spec_key(f) for f in got]
    assert len({_spec_key(f) for f in findings}) < len(findings)  # there were ties


def test_addr_texts_are_ipaddress_texts() -> None:
    rng = random.Random(14)
    values = [rng.getrandbits(32) | 0xFFFF << 32 for _ in range(3000)]
    values += [(10 << 24 | rng.getrandbits(12)) | 0xFFFF << 32 for _ in range(3000)]  # /24s
    values += [rng.getrandbits(128) for _ in range(300)]
    values += [0, 1, 0xFFFF << 32, 0xFFFF << 32 | 0xFFFFFFFF, 0xFFFE << 32 | 5, 2**128 - 1]
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & (1 << 64) - 1 for v in values], dtype=np.uint64)
    expected = [
        str(ipaddress.IPv4Address(v & 0xFFFFFFFF))
        if v >> 32 == 0xFFFF
        else str(ipaddress.IPv6Address(v))
        for v in values
    ]
    assert addr_texts(hi, lo) == expected
    assert addr_texts(hi[:0], lo[:0]) == []


@pytest.mark.parametrize("one_frame", [False, True])
def test_oriented_order_does_not_depend_on_the_table_order(one_frame: bool) -> None:
    """Flows sort by (input, first frame), then by key; with every flow beginning at one
    frame only the key orders them (the full sort, not the first frame's)."""
    paths = [str(ROOT / "captures/alpha/alpha.pcap"), str(ROOT / "captures/beta/beta.pcap")]
    columns = read_scan(paths).table.columns()
    if one_frame:
        columns["fcode"] = np.full_like(columns["fcode"], columns["fcode"][0])
    n = len(columns["proto"])
    assert n > 20
    shuffled = np.random.default_rng(14).permutation(n)
    a = oriented(columns, paths)
    b = oriented({k: v[shuffled] for k, v in columns.items()}, paths)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        assert (x == y).all() if isinstance(x, np.ndarray) else x == y, field.name
    assert a.flows() == b.flows()
    assert (len(set(a.first_frame.tolist())) == 1) is one_frame
