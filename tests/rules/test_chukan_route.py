"""MN-CHUKAN-VIA-LGWAN's route (segcheck/analysis/chukan.py): the 団体内統合宛名 reaches the
中間サーバー through the boundary firewall and the LGWAN router; a route bypassing either is a
finding that names the route hop by hop, whatever the endpoints' own judgement says."""

from __future__ import annotations

from typing import Any

import yaml

from segcheck import parse_topology
from segcheck.addressing import AddressMap
from segcheck.analysis.chukan import BOUNDARY, ROUTER, chukan_route_findings, devices

from .test_rule_cases import CHUKAN_CHANNEL, CHUKAN_NODES, LG_T, fw, topo


def _topology(nodes: dict[str, Any], links: list[list[str]] | None = None) -> Any:
    data = topo(nodes, [CHUKAN_CHANNEL] if "chukan" in nodes else [], links=links)
    return parse_topology(yaml.safe_dump(data, allow_unicode=True).encode(), "c.yaml")


def _found(nodes: dict[str, Any], links: list[list[str]] | None = None) -> list[tuple[str, ...]]:
    return [
        (f.rule, f.src or "", f.dst or "", f.message)
        for f in chukan_route_findings(_topology(nodes, links))
    ]


def test_the_route_through_both_devices_is_clean() -> None:
    topology = _topology(CHUKAN_NODES)
    amap = AddressMap(topology.zones.values(), topology.nodes.values())
    assert devices(topology, amap) == {BOUNDARY: {"fw-mn"}, ROUTER: {"lgwan-rtr"}}
    assert chukan_route_findings(topology) == []


def test_a_firewall_from_the_my_number_tier_straight_to_lgwan_bypasses_the_router() -> None:
    # the boundary firewall also given a leg on LGWAN: the 統合宛名 reaches the 中間サーバー
    # without the LGWAN router
    leg = fw(["10.1.0.1", "10.2.0.2", "198.18.0.2"], *CHUKAN_NODES["fw-mn"]["permit"])
    assert _found({**CHUKAN_NODES, "fw-mn": leg}) == [
        (
            "MN-CHUKAN-VIA-LGWAN",
            "atena",
            "chukan",
            "the 団体内統合宛名 'atena' reaches the 中間サーバー 'chukan' by a route that "
            "bypasses the LGWAN router: atena -> fw-mn -> chukan",
        )
    ]


def test_a_plain_router_beside_the_firewall_bypasses_the_boundary_firewall() -> None:
    # a router with no permits joining the My Number and LGWAN tiers: the route runs through
    # it and the LGWAN router, not the boundary firewall (named with every hop)
    nodes = {**CHUKAN_NODES, "old-rtr": {"role": "router", "ip": ["10.1.0.2", "10.2.0.3"]}}
    [(rule, src, dst, message)] = _found(nodes)
    assert (rule, src, dst) == ("MN-CHUKAN-VIA-LGWAN", "atena", "chukan")
    assert message.endswith(
        "bypasses the boundary firewall: atena -> old-rtr -> lgwan-rtr -> chukan"
    )


def test_a_second_nic_on_the_lgwan_tier_bypasses_the_boundary_firewall() -> None:
    # the 統合宛名 server cabled to the LGWAN-tier segment as well (a `links:` entry)
    [(_, _, _, message)] = _found(CHUKAN_NODES, links=[["atena", "lg"]])
    assert message.endswith("bypasses the boundary firewall: atena -> lgwan-rtr -> chukan")


def test_both_bypassed_gives_both_findings_in_japanese_too() -> None:
    nodes = {
        **CHUKAN_NODES,
        "old-rtr": {"role": "router", "ip": ["10.1.0.2", "198.18.0.3"]},
    }
    found = chukan_route_findings(_topology(nodes))
    assert [f.message_ja for f in found] == [
        "団体内統合宛名 'atena' から中間サーバー 'chukan' へ、境界FWを通らない経路がある: "
        "atena → old-rtr → chukan",
        "団体内統合宛名 'atena' から中間サーバー 'chukan' へ、LGWAN接続ルータを通らない経路がある: "
        "atena → old-rtr → chukan",
    ]
    assert len({f.fingerprint for f in found}) == 2


def test_no_route_at_all_is_no_bypass() -> None:
    # the boundary firewall does not pass the 統合宛名: nothing reaches the 中間サーバー
    closed = fw(["10.1.0.1", "10.2.0.2"])
    assert _found({**CHUKAN_NODES, "fw-mn": closed}) == []
    # and a plan without a 中間サーバー has nothing to judge
    assert _found({"lg-t": LG_T, "atena": CHUKAN_NODES["atena"]}) == []
