"""The address map: longest-prefix match, scopes of unzoned addresses, node lookup."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcheck import parse_topology
from segcheck.addressing import (
    AddressError,
    AddressMap,
    Scope,
    classify_unzoned,
    parse_cidr,
    parse_ip,
    parse_ip_text,
)
from segcheck.model import IP, PUBLIC_INTERNET_ZONE, IPRange, Node, Role, Tier, Zone


def zone(name: str, tier: Tier, *cidrs: str) -> Zone:
    return Zone(name, tier, tuple(parse_cidr(c) for c in cidrs))


def ip(text: str) -> IP:
    return parse_ip(text)


# Nested plan: an LGWAN /16 with a DMZ-like Internet /24 inside it and an LGWAN /28 inside that,
# plus IPv6 zones, the LGWAN network and a documentation range declared as the "Internet".
ZONES = [
    zone("lg", Tier.LGWAN, "10.2.0.0/16"),
    zone("lg-dmz", Tier.INTERNET, "10.2.50.0/24"),
    zone("lg-dmz-mgmt", Tier.LGWAN, "10.2.50.16/28"),
    zone("mn", Tier.MYNUMBER, "10.1.0.0/16", "fd00:1::/48"),
    zone("mn-v6-servers", Tier.MYNUMBER, "fd00:1:0:20::/64"),
    zone("inet-v6", Tier.INTERNET, "fd00:3::/48"),
    zone("lgwan", Tier.LGWAN_NETWORK, "198.18.0.0/16"),
    zone("samples", Tier.PUBLIC_INTERNET, "203.0.113.0/24"),
]
NODES = [
    Node("lg-term", Role.TERMINAL, (ip("10.2.10.11"),)),
    Node("fw", Role.FIREWALL, (ip("10.1.0.1"), ip("10.2.0.1"), ip("fd00:1::1"))),
]


@pytest.fixture(scope="module")
def amap() -> AddressMap:
    return AddressMap(ZONES, NODES)


@pytest.mark.parametrize(
    ("address", "zone_name"),
    [
        ("10.2.0.0", "lg"),
        ("10.2.49.255", "lg"),
        ("10.2.50.0", "lg-dmz"),  # the /24 inside the /16 wins
        ("10.2.50.15", "lg-dmz"),
        ("10.2.50.16", "lg-dmz-mgmt"),  # the /28 inside the /24 wins
        ("10.2.50.31", "lg-dmz-mgmt"),
        ("10.2.50.32", "lg-dmz"),  # back in the /24 after the /28
        ("10.2.50.255", "lg-dmz"),
        ("10.2.51.0", "lg"),  # back in the /16 after the /24
        ("10.2.255.255", "lg"),
        ("10.1.20.20", "mn"),
        ("198.18.200.10", "lgwan"),
        ("203.0.113.60", "samples"),
        ("fd00:1::20", "mn"),
        ("fd00:1:0:20::10", "mn-v6-servers"),
        ("fd00:1:0:21::10", "mn"),
        ("fd00:3:0:ffff::1", "inet-v6"),
    ],
)
def test_longest_prefix_match(amap: AddressMap, address: str, zone_name: str) -> None:
    info = amap.lookup(ip(address))
    assert info.scope is Scope.ZONE
    assert info.zone is not None and info.zone.name == zone_name
    assert amap.zone_of(ip(address)) is info.zone


@pytest.mark.parametrize(
    ("address", "tier"),
    [
        ("10.2.50.20", Tier.LGWAN),
        ("10.2.50.40", Tier.INTERNET),
        ("fd00:1:0:20::10", Tier.MYNUMBER),
        ("203.0.113.60", Tier.PUBLIC_INTERNET),
    ],
)
def test_tier_of_an_address(amap: AddressMap, address: str, tier: Tier) -> None:
    assert amap.lookup(ip(address)).tier is tier


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2001:4860::8888"])
def test_global_address_in_no_zone_is_the_public_internet(amap: AddressMap, address: str) -> None:
    info = amap.lookup(ip(address))
    assert info.scope is Scope.PUBLIC
    assert info.zone is PUBLIC_INTERNET_ZONE
    assert info.tier is Tier.PUBLIC_INTERNET
    assert info.node is None and info.display == address


@pytest.mark.parametrize(
    "address",
    [
        "224.0.0.251",  # mDNS
        "239.255.255.250",  # SSDP
        "255.255.255.255",  # limited broadcast
        "169.254.10.1",  # link-local
        "0.0.0.0",  # unspecified (DHCP)
        "127.0.0.1",
        "ff02::1",
        "ff05::1:3",
        "fe80::1",
        "::",
        "::1",
    ],
)
def test_local_segment_addresses_are_local(amap: AddressMap, address: str) -> None:
    info = amap.lookup(ip(address))
    assert info.scope is Scope.LOCAL
    assert info.zone is None and info.tier is None


@pytest.mark.parametrize(
    "address",
    [
        "10.99.0.1",  # RFC 1918, no zone
        "172.16.5.20",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "192.0.2.10",  # documentation (TEST-NET-1), not declared here
        "198.51.100.7",  # documentation (TEST-NET-2)
        "198.19.10.1",  # benchmarking, not declared here
        "240.0.0.1",  # reserved
        "fd12:3456::1",  # ULA
        "2001:db8::1",  # documentation
    ],
)
def test_other_non_global_addresses_in_no_zone_are_unmapped(amap: AddressMap, address: str) -> None:
    info = amap.lookup(ip(address))
    assert info.scope is Scope.UNMAPPED
    assert info.zone is None and info.tier is None
    assert classify_unzoned(ip(address)) is Scope.UNMAPPED


def test_node_lookup(amap: AddressMap) -> None:
    term = amap.lookup(ip("10.2.10.11"))
    assert term.node is not None and term.node.name == "lg-term"
    assert term.display == "lg-term"
    for address in ("10.1.0.1", "10.2.0.1", "fd00:1::1"):
        node = amap.node_of(ip(address))
        assert node is not None and node.name == "fw"
    assert amap.node_of(ip("10.2.10.12")) is None
    assert amap.lookup(ip("10.2.10.12")).display == "10.2.10.12"
    assert set(amap.nodes_by_address) == {
        ip("10.2.10.11"),
        ip("10.1.0.1"),
        ip("10.2.0.1"),
        ip("fd00:1::1"),
    }


def test_lookup_is_cached(amap: AddressMap) -> None:
    assert amap.lookup(ip("10.2.10.11")) is amap.lookup(ip("10.2.10.11"))


def test_ipv4_and_ipv6_tables_are_separate() -> None:
    # ::a02:0b (the integer of 10.2.0.11) must not fall into the IPv4 zone.
    amap = AddressMap([zone("lg", Tier.LGWAN, "10.2.0.0/16")])
    assert amap.zone_of(IP(6, ip("10.2.0.11").value)) is None
    assert amap.zone_of(ip("10.2.0.11")) is not None


def test_empty_map() -> None:
    amap = AddressMap([])
    assert amap.zone_of(ip("10.0.0.1")) is None
    assert amap.lookup(ip("8.8.8.8")).scope is Scope.PUBLIC


def test_map_built_from_a_topology() -> None:
    text = (
        "segcheck: 1\nzones:\n"
        "  lg: {tier: LGWAN接続系, subnets: [10.2.0.0/16, 'fd00:2::/48']}\n"
        "  lg-srv: {tier: lgwan, subnets: [10.2.20.0/24]}\n"
        "nodes:\n  lg-mail: {role: server, ip: [10.2.20.25, 'fd00:2::25']}\n"
        "  web: {role: server, ip: 8.8.4.4}\n"
    )
    topology = parse_topology(text.encode(), "t.yaml")
    amap = AddressMap(topology.zones.values(), topology.nodes.values())
    mail = amap.lookup(ip("10.2.20.25"))
    assert mail.zone is not None and mail.zone.name == "lg-srv"
    assert mail.node is not None and mail.node.name == "lg-mail"
    v6 = amap.lookup(ip("fd00:2::25"))
    assert v6.zone is not None and v6.zone.name == "lg" and v6.node is mail.node
    web = amap.lookup(ip("8.8.4.4"))  # a node with a global address in no zone
    assert web.scope is Scope.PUBLIC and web.node is not None and web.node.name == "web"


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["10.2", "10.2.10.300", "010.2.10.11", "167772161", "10.2.0.0/16", "fe80::1%eth0", ""]
)
def test_malformed_addresses(text: str) -> None:
    with pytest.raises(AddressError):
        parse_ip(text)
    assert parse_ip_text(text) is None


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("10.2.0.0/16", "10.2.0.0", "10.2.255.255"),
        ("10.2.10.11", "10.2.10.11", "10.2.10.11"),
        ("0.0.0.0/0", "0.0.0.0", "255.255.255.255"),
        ("fd00:1::/48", "fd00:1::", "fd00:1:0:ffff:ffff:ffff:ffff:ffff"),
    ],
)
def test_parse_cidr(text: str, first: str, last: str) -> None:
    rng = parse_cidr(text)
    assert (rng.first, rng.last) == (ip(first).value, ip(last).value)
    assert str(rng) == text


@pytest.mark.parametrize("text", ["10.2.0.0/33", "10.2/16", "10.2.0.0/16/1", "fd00::/129", "x"])
def test_malformed_cidrs(text: str) -> None:
    with pytest.raises(AddressError, match="malformed address or CIDR"):
        parse_cidr(text)


def test_cidr_with_host_bits() -> None:
    with pytest.raises(AddressError, match=r"has host bits set \(did you mean 10.2.0.0/16\?\)"):
        parse_cidr("10.2.0.1/16")
    assert parse_cidr("10.2.0.1/16", strict=False) == IPRange(
        4, ip("10.2.0.0").value, ip("10.2.255.255").value
    )


# -- the interval table against a brute-force longest-prefix match ------------------------------


def _cidr(base: int, prefix: int) -> IPRange:
    size = 1 << (32 - prefix)
    first = base & ~(size - 1) & 0xFFFFFFFF
    return IPRange(4, first, first + size - 1)


CIDRS = st.builds(
    _cidr,
    st.integers(10 << 24, (10 << 24) + (1 << 12) - 1),  # a small corner of 10/8: many overlaps
    st.integers(20, 32),
)


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=300, deadline=None)
@given(st.lists(CIDRS, min_size=1, max_size=12, unique=True), st.data())
def test_interval_table_is_longest_prefix_match(cidrs: list[IPRange], data: st.DataObject) -> None:
    zones = [Zone(f"z{i}", Tier.LGWAN, (c,)) for i, c in enumerate(cidrs)]
    amap = AddressMap(zones)
    probes = {c.first for c in cidrs} | {c.last for c in cidrs}
    probes |= {c.first - 1 for c in cidrs} | {c.last + 1 for c in cidrs}
    probes |= set(data.draw(st.lists(st.integers((10 << 24) - 4, (10 << 24) + (1 << 12) + 4))))
    for value in probes:
        holding = [z for z in zones if z.subnets[0].first <= value <= z.subnets[0].last]
        expected = min(holding, key=lambda z: z.subnets[0].size) if holding else None
        assert amap.zone_of(IP(4, value)) is expected
