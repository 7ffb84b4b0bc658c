"""The lab's plan, topology and generated ruleset agree with each other (no root needed).

The firewall's permits are read from lab/town.yaml with segcheck's loader and matched here the
way the generated nftables ruleset matches them (first packet of a flow, stateful), so a plan
whose `expect` the kernel could not honour fails here before any namespace is built.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import nftgen  # noqa: E402
from lab.netlab import plan_layout  # noqa: E402
from lab.plan import LEAK_PERMIT, PLAN, Exchange, listening_ports  # noqa: E402
from segcheck import load_topology, parse_topology  # noqa: E402
from segcheck.model import Role, Topology  # noqa: E402

TOWN = REPO / "lab" / "town.yaml"


@pytest.fixture(scope="module")
def town() -> Topology:
    return load_topology(TOWN)


def matching_permits(town: Topology, ex: Exchange) -> list[str]:
    """Ids of fw-core's permits that let the exchange's first packet through."""
    fw = town.nodes["fw-core"]
    assert fw.permits is not None
    src = town.nodes[ex.src].addresses[0]
    dst = town.nodes[ex.dst].addresses[0]
    return [
        p.id
        for p in fw.permits
        if p.source.matches(src)
        and p.destination.matches(dst)
        and any(town.services[s].matches(ex.proto, ex.port) for s in p.services)
    ]


def test_plan_names_nodes_of_the_town(town: Topology) -> None:
    names = [ex.name for ex in PLAN]
    assert len(names) == len(set(names))
    for ex in PLAN:
        assert ex.src in town.nodes and ex.dst in town.nodes, ex
        assert not town.nodes[ex.src].role.forwards and not town.nodes[ex.dst].role.forwards
        assert (ex.rule is None) == (ex.expect == "allowed"), ex


@pytest.mark.parametrize("ex", PLAN, ids=lambda ex: ex.name)
def test_firewall_permits_do_what_the_plan_expects(town: Topology, ex: Exchange) -> None:
    opened_by = matching_permits(town, ex)
    if ex.expect == "blocked":
        assert opened_by == []
    elif ex.expect == "leak":
        assert opened_by == [LEAK_PERMIT]
    else:
        assert opened_by and LEAK_PERMIT not in opened_by


def test_plan_covers_every_kind_of_traffic() -> None:
    kinds = {(ex.proto, ex.expect) for ex in PLAN}
    for proto in ("tcp", "udp", "icmp"):
        assert (proto, "allowed") in kinds and (proto, "blocked") in kinds
    assert {ex.verdict for ex in PLAN if ex.expect == "allowed"} == {"permitted", "sanitized"}
    assert sum(ex.expect == "leak" for ex in PLAN) >= 2


def test_servers_listen_where_the_plan_connects() -> None:
    ports = listening_ports()
    for ex in PLAN:
        if ex.proto != "icmp":
            assert ex.port in ports[ex.dst][ex.proto]


def test_ruleset_is_stateful_default_drop_with_one_rule_per_permit(town: Topology) -> None:
    text = nftgen.ruleset(town, "fw-core")
    lines = [line.strip() for line in text.splitlines()]
    chain = lines.index("chain forward {")
    assert "policy drop;" in lines[chain + 1]
    assert lines[chain + 2].startswith("ct state established,related")
    fw = town.nodes["fw-core"]
    assert fw.permits is not None
    for permit in fw.permits:
        assert any(line.endswith(f'comment "{permit.id}"') for line in lines), permit.id
    leak = [line for line in lines if line.endswith(f'comment "{LEAK_PERMIT}"')]
    assert leak == [
        "ip saddr { 10.2.10.0/24, 10.2.20.0/24 } "
        "ip daddr { 10.3.10.0/24, 10.3.20.0/24, 10.3.30.0/24 } "
        f'tcp dport {{ 139, 445 }} ct state new counter accept comment "{LEAK_PERMIT}"'
    ]


def test_ruleset_families_ranges_and_icmp() -> None:
    town = parse_topology(
        b"""
segcheck: 1
zones:
  a: {tier: lgwan, subnets: [10.2.0.0/24, "fd00:2::/64"]}
  b: {tier: internet, subnets: [10.3.0.0/24]}
services:
  ping: {icmp: true}
nodes:
  fw: {role: firewall, ip: [10.2.0.1, 10.3.0.1, "fd00:2::1"],
       permit: [{id: P1, from: a, to: 10.3.0.8/29, service: [ping, dns]},
                {id: P2, from: any, to: any, service: icmp}]}
"""
    )
    text = nftgen.ruleset(town, "fw")
    assert "ip saddr { 10.2.0.0/24 } ip daddr { 10.3.0.8/29 } meta l4proto icmp " in text
    assert "udp dport { 53 }" in text and "tcp dport { 53 }" in text
    assert "ip6 saddr" not in text  # P1's destination has no IPv6 address
    assert 'meta l4proto { icmp, ipv6-icmp } ct state new counter accept comment "P2"' in text


def test_layout_one_namespace_per_host_and_a_cloud(town: Topology) -> None:
    layout = plan_layout(town, "abcd")
    hosts = [n.name for n in town.nodes.values() if not n.role.forwards]
    assert set(layout.node_ns) == set(hosts)
    assert layout.node_ns["sc-proxy"] == layout.node_ns["sc-dns"] == "cloud"
    assert {layout.node_ns[h] for h in hosts if h.startswith(("mn-", "lg-", "inet-"))} == {
        h for h in hosts if h.startswith(("mn-", "lg-", "inet-"))
    }
    assert len(layout.segments) == sum(len(z.subnets) for z in town.zones.values())
    assert all(ns.startswith("sclab-abcd-") for ns in layout.all_ns())
    assert all(len(seg.fw_ifname) <= 15 for seg in layout.segments)
    fw = town.nodes["fw-core"]
    assert fw.role is Role.FIREWALL
    assert {seg.gateway for seg in layout.segments} == {str(ip) for ip in fw.addresses}


def test_lab_says_why_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab import labctl

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "needs root" in (labctl.missing_requirements() or "")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "nft" else real_which(tool))
    assert "nft is not installed" in (labctl.missing_requirements() or "")
