"""PAN-OS import: public fixtures (what each must import to) and each semantic point."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from segcheck.errors import ConfigError
from segcheck.loaders.configs.compile import compile_context
from segcheck.loaders.configs.model import (
    TCP,
    UDP,
    Action,
    AddressSet,
    Assumption,
    Context,
    ImportStatus,
    Origin,
    ParsedConfig,
    Rule,
    ServiceSet,
)
from segcheck.loaders.configs.panos import parse_panos
from segcheck.loaders.configs.panos_tree import _xml_checked, build_tree
from segcheck.model import IPRange

DATA = Path(__file__).parents[2] / "data" / "configs" / "panos"
VSYS1 = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']"


def load(name: str) -> ParsedConfig:
    path = DATA / name
    return parse_panos(path, path.read_bytes(), display_name=name)


def parse(text: str, name: str = "fw.conf") -> ParsedConfig:
    return parse_panos(Path(name), text.encode(), display_name=name)


def ctx(config: ParsedConfig, name: str = "vsys1") -> Context:
    found = config.context(name)
    assert found is not None, [c.name for c in config.contexts]
    return found


def rule(context: Context, name: str) -> Rule:
    found = [r for r in context.rules if r.name == name]
    assert len(found) == 1, (name, [r.id for r in context.rules])
    return found[0]


def addrs(*texts: str) -> AddressSet:
    import ipaddress

    out = []
    for text in texts:
        if "-" in text:
            a, b = (ipaddress.ip_address(x) for x in text.split("-"))
            out.append(IPRange(a.version, int(a), int(b)))
        else:
            net = ipaddress.ip_network(text)
            out.append(IPRange(net.version, int(net.network_address), int(net.broadcast_address)))
    return AddressSet.of(out)


def tcp(*ports: int | tuple[int, int]) -> ServiceSet:
    return ServiceSet.ports(TCP, *((p, p) if isinstance(p, int) else p for p in ports))


def issues(config: ParsedConfig, kind: str) -> list[str]:
    return [i.message for i in config.issues if i.kind == kind]


def without_lines(value: Any) -> Any:
    """The import with every line number (and the file's hash) removed: XPaths stay."""
    if isinstance(value, Origin):
        return ("origin", value.xpath)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(
            (f.name, without_lines(getattr(value, f.name)))
            for f in dataclasses.fields(value)
            if f.name not in ("sha256", "file")
        )
    if isinstance(value, tuple):
        return tuple(without_lines(v) for v in value)
    return value


# --- iron-skillet: the same configuration as XML and as set commands ----------------------------


@pytest.mark.parametrize(
    ("xml", "setform"),
    [
        ("iron_skillet_panos_full_edl.xml", "iron_skillet_panos_full.conf"),
        ("iron_skillet_panorama_full_edl.xml", "iron_skillet_panorama_full.conf"),
    ],
)
def test_iron_skillet_xml_and_set_forms_import_identically(xml: str, setform: str) -> None:
    a, b = load(xml), load(setform)
    assert without_lines(a) == without_lines(b)
    # and not vacuously: both hold the two EDL block rules, at different lines
    assert [r.origin.line for r in a.contexts[0].rules] != [
        r.origin.line for r in b.contexts[0].rules
    ]


def test_iron_skillet_firewall_imports_to_two_deny_rules_on_external_lists() -> None:
    config = load("iron_skillet_panos_full.conf")
    assert config.status is ImportStatus.PASSED
    assert [c.name for c in config.contexts] == ["vsys1"]
    context = ctx(config)
    assert [r.id for r in context.rules] == [
        "vsys1/Outbound Block Rule",
        "vsys1/Inbound Block Rule",
    ]
    edls = tuple(
        f"{n} (external dynamic list)"
        for n in ("panw-highrisk-ip-list", "panw-known-ip-list", "panw-bulletproof-ip-list")
    )
    outbound, inbound = context.rules
    assert outbound.action is inbound.action is Action.DENY
    assert outbound.destination.unresolved == edls and not outbound.destination.addresses
    assert outbound.source.any and inbound.destination.any
    assert inbound.source.unresolved == edls
    assert outbound.tags == ("Outbound",) and inbound.tags == ("Inbound",)
    assert outbound.description is not None and outbound.description.startswith("Block outbound")
    assert outbound.origin.line == 661
    assert outbound.origin.xpath == (
        f"{VSYS1}/rulebase/security/rules/entry[@name='Outbound Block Rule']"
    )
    # default rules as configured: intrazone allow (no zones defined), interzone drop
    assert context.intrazone_allow == () and context.default_action is Action.DENY
    # deny rules on lists segcheck cannot see deny nothing: they never hide a path
    compiled = compile_context(context)
    assert compiled.permits == ()


def test_iron_skillet_loadable_xml_has_no_security_rules() -> None:
    config = load("iron_skillet_panos_full.xml")
    assert config.status is ImportStatus.PASSED
    assert ctx(config).rules == () and not config.issues


def test_iron_skillet_panorama_is_one_device_group_with_shared_pre_rules() -> None:
    config = load("iron_skillet_panorama_full.conf")
    assert [c.name for c in config.contexts] == ["sample_devicegroup"]
    context = config.contexts[0]
    assert [r.id for r in context.rules] == [
        "sample_devicegroup/Outbound Block Rule",
        "sample_devicegroup/Inbound Block Rule",
    ]
    assert context.rules[0].origin.xpath == (
        "/config/shared/pre-rulebase/security/rules/entry[@name='Outbound Block Rule']"
    )


# --- Batfish palo_alto test configurations -----------------------------------------------------


def test_batfish_rulebase() -> None:
    config = load("batfish-rulebase")
    context = ctx(config)
    assert [r.id for r in context.rules] == [
        "vsys1/disabled rule",
        "vsys1/RULE1",
        "vsys1/RULE2",
        "vsys1/3rd_RULE",
    ]
    disabled, rule1, rule2, third = context.rules
    assert not disabled.enabled and disabled.action is Action.DENY
    assert rule1.action is Action.DENY and rule1.services == tcp(999)
    assert rule1.to_zones == ("z1", "z2") and rule1.from_zones == ("any",)
    assert rule2.action is Action.ACCEPT
    assert rule2.source.negate and rule2.source.addresses == addrs("2.2.2.2/32")
    assert rule2.destination.addresses == addrs("1.1.1.2/32", "1.1.4.2/32")
    assert rule2.services.is_everything
    assert third.action is Action.DENY and third.source.any and third.destination.any
    assert context.intrazone_allow == ("z1", "z2")
    zones = {i.name: (i.zone, i.subnets) for i in context.interfaces}
    assert zones == {
        "ethernet1/1": ("z1", tuple(addrs("1.1.1.0/24").ranges)),
        "ethernet1/2": ("z1", tuple(addrs("1.1.2.0/24").ranges)),
        "ethernet1/3": (None, tuple(addrs("1.1.3.0/24").ranges)),
        "ethernet1/4": ("z2", tuple(addrs("1.1.4.0/24").ranges)),
    }
    assert issues(config, "disabled") == ["vsys1: rule 'disabled rule' is disabled"]
    assert sorted(issues(config, "undefined")) == [
        "vsys1: rule 'disabled rule': service 'SERVICE_UNDEF' is not defined",
        "vsys1: rule 'disabled rule': zone 'ZONE_UNDEF' is not defined",
    ]
    # end to end: RULE2 loses what RULE1 denies (tcp/999 into z1 and z2)
    compiled = compile_context(context)
    (permit, *defaults) = compiled.permits
    assert permit.rule.id == "vsys1/RULE2" and permit.cubes
    assert all(not cube.services.intersection(tcp(999)) for cube in permit.cubes)
    assert [d.rule.id for d in defaults] == ["vsys1/intrazone:z1", "vsys1/intrazone:z2"]


def test_batfish_rulebase_default_and_cross_zone_defaults() -> None:
    for name, zones in (
        ("batfish-rulebase-default", ("z1", "z2")),
        ("batfish-drop-default-cross-zone", ("zin", "zout")),
    ):
        context = ctx(load(name))
        assert context.rules == ()
        assert context.intrazone_allow == zones
        assert context.default_action is Action.DENY


def test_batfish_same_zone_and_explicit_cross_zone() -> None:
    same = ctx(load("batfish-allow-same-zone-no-matching-rules"))
    (r,) = same.rules
    assert (r.from_zones, r.to_zones) == (("z",), ("z",))
    assert r.destination.addresses == addrs("192.0.2.1/32")  # a shared object
    assert same.intrazone_allow == ("z",)
    explicit = ctx(load("batfish-allow-explicit-cross-zone"))
    (r,) = explicit.rules
    assert (r.from_zones, r.to_zones, r.action) == (("zin",), ("zout",), Action.ACCEPT)
    drop = ctx(load("batfish-drop-same-zone-explicit"))
    (r,) = drop.rules
    assert (r.from_zones, r.to_zones, r.action) == (("z",), ("z",), Action.DENY)
    assert {i.name for i in drop.interfaces} == {"ethernet1/1", "ethernet1/2"}


def test_batfish_rule_types() -> None:
    config = load("batfish-rulebase-rule-type")
    context = ctx(config)
    # BADINTRA (intrazone from z1 to z2) can never match: skipped with a warning
    assert [r.name for r in context.rules] == ["INTER", "INTRA", "UNIVERSAL", "DEFAULT"]
    assert [(r.from_zones, r.to_zones) for r in context.rules] == [
        (("z1",), ("z2",)),
        (("z1",), ("z1",)),
        (("z1",), ("z2",)),
        (("z1",), ("z2",)),
    ]
    assert any("BADINTRA" in m and "skipped" in m for m in issues(config, "warning"))
    # no action and no service: PAN-OS allow taken, service unresolved (widened when allowed)
    assert all(r.action is Action.ACCEPT for r in context.rules)
    assert context.rules[0].service_unresolved == ("(service not set)",)


def test_batfish_services_and_builtins() -> None:
    context = ctx(load("batfish-rulebase-service"))
    (r,) = context.rules
    # service-http is overridden (tcp/1), service-https is the built-in tcp/443
    assert r.services == tcp(1, 443)
    config = load("batfish-service")
    assert config.status is ImportStatus.PASSED  # `port 5,6 source-port 9,10` on one line
    assert any("source-port 9,10" in m for m in issues(config, "warning"))
    assert any("'SERVICE 4': no port" in m for m in issues(config, "warning"))


def test_batfish_security_rules() -> None:
    context = ctx(load("batfish-security-rules"))
    assert [r.name for r in context.rules] == [
        "disabled rule",
        "BLOCK_TCP_1234",
        "PERMIT_TCP_1234",
        "33rd_RULE",
    ]
    compiled = compile_context(context)
    permit = next(p for p in compiled.permits if p.rule.name == "PERMIT_TCP_1234")
    z4 = addrs("10.0.4.0/24", "10.0.5.0/24")
    z2 = addrs("10.0.2.0/24")
    assert AddressSet.of(r for c in permit.cubes for r in c.destinations.ranges) == z2.union(z4)
    assert all(c.services == tcp(1234) for c in permit.cubes)


def test_batfish_vsys() -> None:
    config = load("batfish-vsys-rulebase")
    assert [c.name for c in config.contexts] == ["vsys1", "vsys2"]
    one, two = config.contexts
    assert [(r.id, r.action) for r in one.rules] == [("vsys1/RULE1", Action.DENY)]
    assert [(r.id, r.action) for r in two.rules] == [("vsys2/RULE1", Action.ACCEPT)]
    assert {i.name for i in one.interfaces} == {"ethernet1/1", "ethernet1/2"}
    assert {i.name for i in two.interfaces} == {"ethernet1/3", "ethernet1/4"}
    zones = load("batfish-vsys-zones")
    assert [c.name for c in zones.contexts] == ["vsys1", "vsys11"]
    assert {i.name: i.zone for i in zones.contexts[0].interfaces} == {
        "ethernet1/1": "z1",
        "ethernet1/2": "z1",
        "ethernet1/3.1": "z1",
    }
    assert zones.contexts[1].intrazone_allow == ("z1",)


def test_batfish_vsys_objects_shadow_shared_ones() -> None:
    config = load("batfish-match-vsys-address-over-shared")
    r = rule(ctx(config), "rule1")
    assert r.destination.addresses == addrs("10.0.2.2/32")  # vsys a1, not shared a1
    assert issues(config, "unused") == [
        "shared: address 'a1' is used by no rule, interface or route"
    ]


def test_batfish_zones_and_interfaces() -> None:
    context = ctx(load("batfish-zones"))
    assert context.intrazone_allow == ("zone 1", "zempty")
    assert {i.name: i.zone for i in context.interfaces} == {
        "ethernet1/1": "zone 1",
        "ethernet1/2": "zone 1",
        "ethernet1/3": None,
    }
    config = load("batfish-interface")
    found = {i.name: (i.subnets, i.addresses) for i in ctx(config).interfaces}
    assert found["ethernet1/1"] == (addrs("1.1.1.0/24").ranges, addrs("1.1.1.1/32").ranges)
    # an address object as interface address: its ip-netmask (object wins over a literal name)
    assert found["ethernet1/5"] == (addrs("10.10.12.0/24").ranges, addrs("10.10.12.10/32").ranges)
    assert found["ethernet1/7"][1] == addrs("10.10.11.10/32").ranges
    assert found["loopback"][1] == addrs("7.7.7.7/32").ranges + addrs("7.7.7.8/32").ranges
    assert found["loopback.123"][1] == addrs("1.2.3.4/32").ranges
    assert found["ethernet1/6"] == ((), ())  # an ip-range object cannot be an interface address
    assert len(issues(config, "warning")) == 2
    units = {i.name: i.subnets for i in ctx(load("batfish-interface-units")).interfaces}
    assert units == {
        "ethernet1/1.1": addrs("1.1.1.0/24").ranges,
        "ethernet1/1.2": addrs("1.1.2.0/24").ranges,
    }
    brace = {i.name: i.subnets for i in ctx(load("batfish-paloalto_vlan_tunnel_units")).interfaces}
    assert brace == {
        "vlan.1": addrs("10.0.0.0/24").ranges,
        "tunnel.3": addrs("169.254.0.0/30").ranges,
    }


def test_batfish_static_routes() -> None:
    config = load("batfish-static-route")
    routes = ctx(config).routes
    assert [(r.destination, r.interface) for r in routes] == [
        (addrs("0.0.0.0/0").ranges[0], "ethernet1/1")
    ]
    assert routes[0].origin.xpath == (
        "/config/devices/entry[@name='localhost.localdomain']/network/virtual-router"
        "/entry[@name='somename']/routing-table/ip/static-route/entry[@name='ROUTE1']"
    )
    # next-vr and unconnected next hops cannot be placed behind an interface: said so
    assert len([m for m in issues(config, "warning") if "no interface known" in m]) == 4


def test_batfish_address_objects_and_groups_resolve() -> None:
    extra = (
        "\nset rulebase security rules R from any to any source [ addr1 addr2 addr3 "
        "addrBadRange1 ] destination any service any action allow\n"
    )
    config = parse((DATA / "batfish-address-objects").read_text() + extra)
    r = rule(ctx(config), "R")
    # ip-netmask keeps the network of a host-bits CIDR; ip-range is exact
    assert r.source.addresses == addrs("10.1.1.0/24", "10.1.1.2/32", "1.1.1.1-1.1.1.2")
    assert r.source.unresolved == ("addrBadRange1 (malformed)",)
    assert any("malformed ip-range '1.1.1.2-1.1.1.1'" in m for m in issues(config, "unrecognised"))

    extra = (
        "\nset rulebase security rules R from any to any source [ group1 group2 'group w spaces' "
        "group0 ] destination any service any action allow\n"
    )
    config = parse((DATA / "batfish-address-groups").read_text() + extra)
    r = rule(ctx(config), "R")
    assert r.source.addresses == addrs("1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32")
    assert r.source.unresolved == ("addr3 (undefined)",)  # group1's member addr3
    assert "vsys1: address-group 'group1': member 'addr3' is not defined" in issues(
        config, "undefined"
    )

    extra = (
        "\nset rulebase security rules R from any to any source group1 destination group2 "
        "service any action allow\n"
    )
    config = parse((DATA / "batfish-address-groups-nested").read_text() + extra)
    assert any("contains itself" in m for m in issues(config, "warning"))
    r = rule(ctx(config), "R")
    assert not r.source.addresses and not r.destination.addresses

    extra = (
        "\nset rulebase security rules R from any to any source group destination any "
        "service any action allow\n"
    )
    r = rule(ctx(parse((DATA / "batfish-address-group-dynamic").read_text() + extra)), "R")
    assert r.source.unresolved == ("group (dynamic group 'tagA' and tag1)",)
    assert (
        Assumption.UNRESOLVED_ALLOW_WIDENED
        in compile_context(ctx(parse((DATA / "batfish-address-group-dynamic").read_text() + extra)))
        .permits[0]
        .assumptions
    )


def test_batfish_service_built_in_override_and_vsys_services() -> None:
    extra = (
        "\nset rulebase security rules R from any to any source any destination any "
        "service [ SG-OVERRIDE-HTTP SG-OVERRIDE-HTTPS ] action allow\n"
    )
    r = rule(ctx(parse((DATA / "batfish-service-built-in-override").read_text() + extra)), "R")
    assert r.services == tcp(1, 2)
    extra = (
        "\nset rulebase security rules R from any to any source any destination any "
        "service [ SG-HTTP SG-HTTPS ] action allow\n"
    )
    r = rule(ctx(parse((DATA / "batfish-service-built-in").read_text() + extra)), "R")
    assert r.services == tcp(80, 443, 8080)
    extra = (
        "\nset vsys vsys1 rulebase security rules R from any to any source any destination "
        "any service SG1 action allow\n"
        "set vsys vsys2 rulebase security rules R from any to any source any destination "
        "any service SG1 action allow\n"
    )
    config = parse((DATA / "batfish-vsys-service").read_text() + extra)
    udp = {c.name: rule(c, "R").services for c in config.contexts}
    # each vsys's SG1 takes its own SERVICE1 and the shared SERVICE2
    assert udp == {
        "vsys1": ServiceSet.ports(UDP, (1, 1), (4, 4)),
        "vsys2": ServiceSet.ports(UDP, (2, 2), (4, 4)),
    }


def test_batfish_panorama_pushed_rules_wrap_local_rules() -> None:
    context = ctx(load("batfish-panorama-rulebase"))
    assert [r.name for r in context.rules] == [
        "ALLOW-SERVICE1",
        "DENY-SERVICE12",
        "ALLOW-SERVICE23",
    ]
    compiled = compile_context(context)
    allowed = ServiceSet()
    for permit in compiled.permits:
        if permit.rule.name.startswith("ALLOW"):
            for cube in permit.cubes:
                allowed = allowed.union(cube.services)
    assert allowed == tcp(1001, 1003)  # 1002 is denied locally before the post-rule


def test_batfish_shared_rulebase_and_nat() -> None:
    config = load("batfish-shared-rulebase")
    assert [r.name for r in ctx(config).rules] == ["PRE_SECURITY", "POST_SECURITY"]
    assert sorted(issues(config, "nat")) == [
        "NAT rule 'POST_NAT' is not modelled: security rules are matched on the addresses "
        "and zones they are written with",
        "NAT rule 'PRE_NAT' is not modelled: security rules are matched on the addresses "
        "and zones they are written with",
    ]
    nat = load("batfish-rulebase-nat")
    assert len(issues(nat, "nat")) == 2 and "(disabled)" in issues(nat, "nat")[0]


def test_batfish_device_groups() -> None:
    config = load("batfish-device-group")
    assert [c.name for c in config.contexts] == ["DG1", "DG2"]
    one, two = config.contexts
    r = rule(one, "RULE1")
    assert r.id == "DG1/RULE1"
    assert r.destination.addresses == addrs("1.2.3.4/32")
    assert r.services == tcp(80, 443, 8080)
    # DG2's parent is DG1: it inherits DG1's post-rules
    assert [x.id for x in two.rules] == ["DG2/RULE1"]
    assert issues(config, "unused") == [
        "DG2: address 'ADDR2' is used by no rule, interface or route"
    ]


def test_batfish_external_list_in_pushed_post_rulebase() -> None:
    r = rule(ctx(load("batfish-external-list")), "MYRULE")
    assert r.destination.unresolved == ("MY_LIST (external dynamic list)",)
    assert (
        r.origin.xpath
        == "/config/policy/panorama/post-rulebase/security/rules/entry[@name='MYRULE']"
    )


def test_batfish_move_and_delete() -> None:
    config = load("batfish-move-rulebase-security")
    assert [r.name for r in ctx(config).rules] == ["RULE3", "RULE4", "RULE1", "RULE5", "RULE2"]
    assert [r.name for r in ctx(config, "MY_VSYS").rules] == ["RULE7", "RULE6"]
    config = load("batfish-delete-and-move-lines")
    context = ctx(config)
    assert [r.name for r in context.rules] == ["RULE2", "RULE1"]
    assert rule(context, "RULE1").source.addresses == addrs("2.2.2.2/32")
    assert issues(config, "unused") == [
        "vsys1: address 'addr1' is used by no rule, interface or route"
    ]


def test_batfish_garbage_and_filesystem_format() -> None:
    config = load("batfish-comment-lines-and-garbage")
    assert config.status is ImportStatus.PASSED  # prompts and comments are not config
    assert [r.name for r in ctx(config).rules] == ["r1"]
    assert rule(ctx(config), "r1").description == "fleepety floop"
    config = load("batfish-config-filesystem-format")
    assert config.status is ImportStatus.PASSED and [c.name for c in config.contexts] == ["vsys1"]


# --- reading: forms, lines, XPaths, refusals ---------------------------------------------------

XML_RULES = """<?xml version="1.0"?>
<config version="10.1.0">
  <devices>
    <entry name="localhost.localdomain">
      <vsys>
        <entry name="vsys1">
          <rulebase>
            <security>
              <rules>
                <entry name="allow-dns">
                  <from><member>trust</member></from>
                  <to><member>untrust</member></to>
                  <source><member>10.0.0.0/24</member></source>
                  <destination><member>any</member></destination>
                  <service><member>svc-dns</member></service>
                  <application><member>any</member></application>
                  <action>allow</action>
                </entry>
              </rules>
            </security>
          </rulebase>
          <service>
            <entry name="svc-dns"><protocol><udp><port>53</port></udp></protocol></entry>
          </service>
        </entry>
      </vsys>
    </entry>
  </devices>
</config>
"""


def test_xml_rule_has_line_and_xpath() -> None:
    config = parse(XML_RULES, "running.xml")
    r = rule(ctx(config), "allow-dns")
    assert r.id == "vsys1/allow-dns"
    assert r.origin == Origin(
        "running.xml", 10, f"{VSYS1}/rulebase/security/rules/entry[@name='allow-dns']"
    )
    assert r.services == ServiceSet.ports(UDP, (53, 53))
    assert r.source.addresses == addrs("10.0.0.0/24")


def test_api_response_wrapper_is_read() -> None:
    body = XML_RULES.split("?>", 1)[1]
    wrapped = f'<response status="success"><result>{body}</result></response>'
    r = rule(ctx(parse(wrapped)), "allow-dns")
    assert r.origin.line == 10


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # billion laughs: refused at the first entity declaration, before any expansion
        (
            '<?xml version="1.0"?>\n<!DOCTYPE config [\n <!ENTITY lol "lol">\n'
            ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<config>&lol2;</config>\n',
            3,
            "entity declaration",
        ),
        # external entity
        (
            '<?xml version="1.0"?>\n<!DOCTYPE config [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
            "]>\n<config>&xxe;</config>\n",
            3,
            "entity declaration",
        ),
        ("<config>\n  <devices>\n</config>\n", 3, "not well-formed"),
        ('<?xml version="1.0"?>\n<policy/>\n', 2, "not a PAN-OS configuration"),
        ("<config>&undefined;</config>", 1, "not well-formed"),
    ],
)
def test_bad_xml_is_a_config_error_with_a_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text, "bad.xml")
    assert err.value.line == line and err.value.path == "bad.xml"
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", None, "empty"),
        (b"  \n\n", None, "empty"),
        (b"set address a ip-netmask 1.1.1.1\nset address \xff\n", 2, "UTF-8"),
        (b"set address a\x00 ip-netmask 1.1.1.1\n", 1, "NUL"),
        (b"config firewall policy\n    edit 1\n", 1, "neither PAN-OS XML nor set"),
        (b"admin@fw> show config running\n<config>\n</config>\n", 1, "XML starts at line 2"),
    ],
)
def test_unreadable_text_is_a_config_error(data: bytes, line: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_panos(Path("x"), data, display_name="x.conf")
    assert err.value.line == line and words in str(err.value)


# --- the same richer configuration as XML, set commands and braces ------------------------------

RICH_SET = """\
set network interface ethernet ethernet1/1 layer3 ip 10.1.0.1/24
set network interface ethernet ethernet1/2 layer3 units ethernet1/2.10 ip 10.2.0.1/24
set network interface ethernet ethernet1/2 layer3 units ethernet1/2.10 tag 10
set network interface loopback ip 192.0.2.1/32
set network virtual-router default interface [ ethernet1/1 ethernet1/2.10 ]
set network virtual-router default routing-table ip static-route to-lg destination 10.20.0.0/16
set network virtual-router default routing-table ip static-route to-lg nexthop ip-address 10.2.0.254
set zone trust network layer3 ethernet1/1
set zone "lg wan" network layer3 ethernet1/2.10
set shared address shared-dns ip-netmask 10.20.0.53
set address web ip-range 10.1.0.10-10.1.0.20
set address portal fqdn portal.example.lg.jp
set address-group servers static [ web shared-dns ]
set service svc-web protocol tcp port 80,8080,8443-8444
set service-group sg-web members svc-web
set rulebase security rules "deny smb" from any to any source any destination any service [ svc-smb ] action drop
set rulebase security rules "web out" from trust to "lg wan" source [ 10.1.0.0/24 ] destination [ servers portal ] service sg-web action allow
set rulebase security rules "web out" negate-source no
set rulebase security rules "web out" description "Web to LGWAN"
set rulebase security rules "web out" tag [ audit lgwan ]
set rulebase security rules legacy from any to any source any destination any service any action allow
set rulebase security rules legacy disabled yes
set service svc-smb protocol tcp port 445
"""

RICH_XML = """\
<config>
  <devices><entry name="localhost.localdomain">
    <network>
      <interface>
        <ethernet>
          <entry name="ethernet1/1"><layer3><ip><entry name="10.1.0.1/24"/></ip></layer3></entry>
          <entry name="ethernet1/2"><layer3><units>
            <entry name="ethernet1/2.10"><ip><entry name="10.2.0.1/24"/></ip><tag>10</tag></entry>
          </units></layer3></entry>
        </ethernet>
        <loopback><ip><entry name="192.0.2.1/32"/></ip></loopback>
      </interface>
      <virtual-router><entry name="default">
        <interface><member>ethernet1/1</member><member>ethernet1/2.10</member></interface>
        <routing-table><ip><static-route>
          <entry name="to-lg"><destination>10.20.0.0/16</destination>
            <nexthop><ip-address>10.2.0.254</ip-address></nexthop></entry>
        </static-route></ip></routing-table>
      </entry></virtual-router>
    </network>
    <vsys><entry name="vsys1">
      <zone>
        <entry name="trust"><network><layer3><member>ethernet1/1</member></layer3></network></entry>
        <entry name="lg wan"><network><layer3><member>ethernet1/2.10</member></layer3></network></entry>
      </zone>
      <address>
        <entry name="web"><ip-range>10.1.0.10-10.1.0.20</ip-range></entry>
        <entry name="portal"><fqdn>portal.example.lg.jp</fqdn></entry>
      </address>
      <address-group>
        <entry name="servers"><static><member>web</member><member>shared-dns</member></static></entry>
      </address-group>
      <service>
        <entry name="svc-web"><protocol><tcp><port>80,8080,8443-8444</port></tcp></protocol></entry>
        <entry name="svc-smb"><protocol><tcp><port>445</port></tcp></protocol></entry>
      </service>
      <service-group>
        <entry name="sg-web"><members><member>svc-web</member></members></entry>
      </service-group>
      <rulebase><security><rules>
        <entry name="deny smb">
          <from><member>any</member></from><to><member>any</member></to>
          <source><member>any</member></source><destination><member>any</member></destination>
          <service><member>svc-smb</member></service><action>drop</action>
        </entry>
        <entry name="web out">
          <from><member>trust</member></from><to><member>lg wan</member></to>
          <source><member>10.1.0.0/24</member></source>
          <destination><member>servers</member><member>portal</member></destination>
          <service><member>sg-web</member></service><action>allow</action>
          <negate-source>no</negate-source>
          <description>Web to LGWAN</description>
          <tag><member>audit</member><member>lgwan</member></tag>
        </entry>
        <entry name="legacy">
          <from><member>any</member></from><to><member>any</member></to>
          <source><member>any</member></source><destination><member>any</member></destination>
          <service><member>any</member></service><action>allow</action>
          <disabled>yes</disabled>
        </entry>
      </rules></security></rulebase>
    </entry></vsys>
  </entry></devices>
  <shared>
    <address><entry name="shared-dns"><ip-netmask>10.20.0.53</ip-netmask></entry></address>
  </shared>
</config>
"""

RICH_BRACE = """\
config {
  devices {
    localhost.localdomain {
      network {
        interface {
          ethernet {
            ethernet1/1 { layer3 { ip { 10.1.0.1/24; } } }
            ethernet1/2 { layer3 { units { ethernet1/2.10 { ip { 10.2.0.1/24; } tag 10; } } } }
          }
          loopback { ip { 192.0.2.1/32; } }
        }
        virtual-router {
          default {
            interface [ ethernet1/1 ethernet1/2.10 ];
            routing-table { ip { static-route { to-lg {
              destination 10.20.0.0/16;
              nexthop { ip-address 10.2.0.254; }
            } } } }
          }
        }
      }
      vsys {
        vsys1 {
          zone {
            trust { network { layer3 ethernet1/1; } }
            "lg wan" { network { layer3 ethernet1/2.10; } }
          }
          address {
            web { ip-range 10.1.0.10-10.1.0.20; }
            portal { fqdn portal.example.lg.jp; }
          }
          address-group { servers { static [ web shared-dns ]; } }
          service {
            svc-web { protocol { tcp { port 80,8080,8443-8444; } } }
            svc-smb { protocol { tcp { port 445; } } }
          }
          service-group { sg-web { members svc-web; } }
          rulebase { security { rules {
            "deny smb" { from any; to any; source any; destination any; service svc-smb;
              action drop; }
            "web out" {
              from trust; to "lg wan"; source 10.1.0.0/24; destination [ servers portal ];
              service sg-web; action allow; negate-source no;
              description "Web to LGWAN";
              tag [ audit lgwan ];
            }
            legacy { from any; to any; source any; destination any; service any;
              action allow; disabled yes; }
          } } }
        }
      }
    }
  }
  shared { address { shared-dns { ip-netmask 10.20.0.53; } } }
}
"""


def test_xml_set_and_brace_forms_import_identically() -> None:
    xml, setform, brace = parse(RICH_XML, "f"), parse(RICH_SET, "f"), parse(RICH_BRACE, "f")
    assert xml.status is setform.status is brace.status is ImportStatus.PASSED
    assert without_lines(xml) == without_lines(setform) == without_lines(brace)
    context = ctx(setform)
    assert [r.id for r in context.rules] == ["vsys1/deny smb", "vsys1/web out", "vsys1/legacy"]
    deny, web, legacy = context.rules
    assert deny.action is Action.DENY and deny.services == tcp(445)
    assert deny.origin.line == 16  # the first line naming the rule
    assert (web.from_zones, web.to_zones) == (("trust",), ("lg wan",))
    assert web.source.addresses == addrs("10.1.0.0/24") and not web.source.negate
    assert web.destination.addresses == addrs("10.1.0.10-10.1.0.20", "10.20.0.53/32")
    assert web.destination.unresolved == ("portal (fqdn portal.example.lg.jp)",)
    assert web.services == tcp(80, 8080, (8443, 8444))
    assert web.description == "Web to LGWAN" and web.tags == ("audit", "lgwan")
    assert not legacy.enabled
    assert {i.name: (i.zone, i.subnets) for i in context.interfaces} == {
        "ethernet1/1": ("trust", addrs("10.1.0.0/24").ranges),
        "ethernet1/2.10": ("lg wan", addrs("10.2.0.0/24").ranges),
        "loopback": (None, addrs("192.0.2.1/32").ranges),
    }
    # the route names no interface: the one whose subnet holds the next hop
    assert [(r.destination, r.interface) for r in context.routes] == [
        (addrs("10.20.0.0/16").ranges[0], "ethernet1/2.10")
    ]
    assert context.intrazone_allow == ("trust", "lg wan")
    # compiled: the web rule reaches the LGWAN servers behind the route, not the trust host
    compiled = compile_context(context)
    (permit, *_) = compiled.permits
    assert permit.rule.id == "vsys1/web out"
    destinations = AddressSet.of(r for c in permit.cubes for r in c.destinations.ranges)
    assert destinations == addrs("10.2.0.0/24", "10.20.0.0/16")  # FQDN widened to the zone
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in permit.assumptions


def test_parsing_is_deterministic() -> None:
    assert parse(RICH_XML) == parse(RICH_XML)
    assert parse(RICH_SET) == parse(RICH_SET)


# --- semantics, one point each ------------------------------------------------------------------

ZONES = """\
set network interface ethernet ethernet1/1 layer3 ip 10.1.0.1/24
set network interface ethernet ethernet1/2 layer3 ip 10.2.0.1/24
set network interface ethernet ethernet1/3 layer3 ip 10.3.0.1/24
set zone a network layer3 ethernet1/1
set zone b network layer3 ethernet1/2
set zone c network layer3 ethernet1/3
"""


def one_rule(body: str, extra: str = "") -> tuple[Rule, ParsedConfig]:
    """The single rule R built from `body` (set-command words after the rule name)."""
    lines = "".join(f"set rulebase security rules R {part}\n" for part in body.split(";"))
    config = parse(ZONES + extra + lines)
    (r,) = ctx(config).rules
    return r, config


BASE = "from any; to any; source any; destination any; service any"


@pytest.mark.parametrize(
    ("word", "action"),
    [
        ("allow", Action.ACCEPT),
        ("deny", Action.DENY),
        ("drop", Action.DENY),
        ("reset-client", Action.DENY),
        ("reset-server", Action.DENY),
        ("reset-both", Action.DENY),
    ],
)
def test_actions(word: str, action: Action) -> None:
    r, config = one_rule(f"{BASE}; action {word}")
    assert r.action is action and r.enabled and not config.issues


def test_unknown_action_is_taken_as_allow_and_reported() -> None:
    r, config = one_rule(f"{BASE}; action tunnel")
    assert r.action is Action.ACCEPT
    assert config.status is ImportStatus.PARTLY_RECOGNISED


def test_disabled_rule_is_kept_and_listed() -> None:
    r, config = one_rule(f"{BASE}; action allow; disabled yes")
    assert not r.enabled
    assert issues(config, "disabled") == ["vsys1: rule 'R' is disabled"]
    assert compile_context(ctx(config)).disabled == (r,)


def test_negation_on_both_sides() -> None:
    r, _ = one_rule(
        "from a; to b; source 10.1.0.5; negate-source yes; destination 10.2.0.0/25; "
        "negate-destination yes; service any; action allow"
    )
    assert r.source.negate and r.destination.negate
    (permit, *_) = compile_context(ctx(one_rule_config(r))).permits
    cube = permit.cubes[0]
    assert cube.sources == addrs("10.1.0.0/24").difference(addrs("10.1.0.5/32"))
    assert cube.destinations == addrs("10.2.0.128/25")


def one_rule_config(r: Rule) -> ParsedConfig:
    """The parsed configuration `r` came from, rebuilt (rules are values)."""
    config = parse(ZONES)
    context = dataclasses.replace(ctx(config), rules=(r,))
    return dataclasses.replace(config, contexts=(context,))


def test_address_kinds() -> None:
    extra = (
        "set address net ip-netmask 10.1.0.0/25\n"
        "set address host ip-netmask 10.1.0.200\n"
        "set address hostbits ip-netmask 10.2.0.9/24\n"
        "set address span ip-range 10.3.0.5-10.3.0.9\n"
        "set address v6 ip-netmask 2001:db8::/64\n"
        "set address name fqdn www.example.jp\n"
        "set address wild ip-wildcard 10.0.0.1/0.255.0.255\n"
        "set region custom address [ 10.9.0.0/16 ]\n"
        "set external-list blocklist type ip url https://example.jp/list.txt\n"
    )
    r, config = one_rule(
        "from any; to any; source [ net host hostbits span v6 10.4.0.1-10.4.0.3 ]; "
        "destination [ name wild custom JP blocklist 10.5.0.0/16 ]; service any; action allow",
        extra,
    )
    assert r.source.addresses == addrs(
        "10.1.0.0/25",
        "10.1.0.200/32",
        "10.2.0.0/24",
        "10.3.0.5-10.3.0.9",
        "2001:db8::/64",
        "10.4.0.1-10.4.0.3",
    )
    assert r.source.unresolved == ()
    assert r.destination.addresses == addrs("10.9.0.0/16", "10.5.0.0/16")
    assert r.destination.unresolved == (
        "name (fqdn www.example.jp)",
        "wild (ip-wildcard 10.0.0.1/0.255.0.255)",
        "JP (region)",
        "blocklist (external dynamic list)",
    )
    assert not issues(config, "undefined") and not issues(config, "unused")


def test_nested_groups_cycles_and_dynamic_groups() -> None:
    extra = (
        "set address h1 ip-netmask 10.1.0.1\n"
        "set address h2 ip-netmask 10.1.0.2\n"
        "set address-group inner static [ h1 ]\n"
        "set address-group outer static [ inner h2 ]\n"
        "set address-group loop1 static [ loop2 h1 ]\n"
        "set address-group loop2 static [ loop1 h2 ]\n"
        "set address-group dyn dynamic filter \"'web' and 'prod'\"\n"
        "set shared address-group sh static [ h1 ]\n"
    )
    r, config = one_rule(
        "from any; to any; source outer; destination [ loop1 dyn ]; service any; action allow",
        extra,
    )
    assert r.source.addresses == addrs("10.1.0.1/32", "10.1.0.2/32")
    assert r.destination.addresses == addrs("10.1.0.1/32", "10.1.0.2/32")
    assert r.destination.unresolved == ("dyn (dynamic group 'web' and 'prod')",)
    assert any("contains itself" in m for m in issues(config, "warning"))
    # a shared group cannot see vsys objects: its member h1 is undefined there
    assert "shared: address-group 'sh': member 'h1' is not defined" in issues(config, "undefined")
    assert "shared: address-group 'sh' is used by no rule, interface or route" in issues(
        config, "unused"
    )


def test_undefined_objects_are_unresolved_and_tagged() -> None:
    r, config = one_rule(
        "from any; to any; source ghost; destination any; service nosvc; action allow"
    )
    assert r.source.unresolved == ("ghost (undefined)",)
    assert r.service_unresolved == ("nosvc (undefined)",)
    assert r.assumptions == (Assumption.UNDEFINED_OBJECT,)
    assert sorted(issues(config, "undefined")) == [
        "vsys1: rule 'R': address 'ghost' is not defined",
        "vsys1: rule 'R': service 'nosvc' is not defined",
    ]


def test_service_ports_groups_and_predefined() -> None:
    extra = (
        "set service mix protocol tcp port 80,8080,1000-2000\n"
        "set service dns protocol udp port 53\n"
        "set service assoc protocol sctp port 2905\n"
        "set service-group inner members [ dns ]\n"
        "set service-group outer members [ inner assoc service-https ]\n"
    )
    r, _ = one_rule(
        "from any; to any; source any; destination any; service [ mix outer service-http ]; "
        "action allow",
        extra,
    )
    assert r.services == ServiceSet.of(
        [
            (TCP, 80, 80),
            (TCP, 8080, 8080),
            (TCP, 1000, 2000),
            (TCP, 443, 443),
            (UDP, 53, 53),
            (132, 2905, 2905),
        ]
    )
    assert r.assumptions == () and r.service_unresolved == ()


def test_malformed_service_port_is_reported_and_unresolved() -> None:
    r, config = one_rule(
        f"{BASE.replace('service any', 'service bad')}; action allow",
        "set service bad protocol tcp port 70000\n",
    )
    assert r.service_unresolved == ("bad (no usable port)",)
    assert config.status is ImportStatus.PARTLY_RECOGNISED


def test_source_port_widens_an_allow_and_does_not_deny() -> None:
    extra = "set service sp protocol tcp port 22 source-port 1024-65535\n"
    body = "from any; to any; source any; destination any; service sp; action {}"
    allow, config = one_rule(body.format("allow"), extra)
    assert allow.services == tcp(22)
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in allow.assumptions
    assert any("source-port 1024-65535 is not modelled" in m for m in issues(config, "warning"))
    deny, _ = one_rule(body.format("deny"), extra)
    assert deny.services == ServiceSet() and deny.service_unresolved == ("sp (source-port)",)


def test_application_default_and_app_id() -> None:
    allow, _ = one_rule(
        "from any; to any; source any; destination any; service application-default; "
        "application [ ssl web-browsing ]; action allow"
    )
    assert allow.services.is_everything
    assert allow.assumptions == (
        Assumption.APPLICATION_AS_ANY_SERVICE,
        Assumption.UNRESOLVED_ALLOW_WIDENED,
    )
    assert allow.conditions == ("application:ssl", "application:web-browsing")
    # an App-ID allow keeps its ports
    ported, _ = one_rule(
        "from any; to any; source any; destination any; service service-https; "
        "application ssl; action allow"
    )
    assert ported.services == tcp(443) and ported.conditions == ("application:ssl",)
    # a deny on App-ID, users or categories matches nothing here (never hides a path)
    deny, _ = one_rule(
        "from any; to any; source any; destination any; service service-https; "
        "application bittorrent; source-user corp\\alice; category gambling; action deny"
    )
    assert deny.services == ServiceSet()
    assert deny.service_unresolved == (
        "application:bittorrent",
        "source-user:corp\\alice",
        "category:gambling",
    )
    compiled = compile_context(ctx(one_rule_config(deny)))
    assert compiled.permits[-1].rule.id.startswith("vsys1/intrazone:")  # only the defaults
    app_default_deny, _ = one_rule(
        "from any; to any; source any; destination any; service application-default; "
        "application any; action deny"
    )
    assert app_default_deny.service_unresolved == ("application-default",)
    assert not app_default_deny.services


def test_schedule_is_a_condition() -> None:
    r, _ = one_rule(f"{BASE}; action allow; schedule office-hours")
    assert r.conditions == ("schedule:office-hours",)
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in r.assumptions


def test_rule_types_in_zones() -> None:
    config = parse(
        ZONES
        + "set rulebase security rules intra from [ a b ] to [ a b ] source any destination any "
        "service any action allow rule-type intrazone\n"
        "set rulebase security rules inter from [ a b ] to [ a b c ] source any destination any "
        "service any action deny rule-type interzone\n"
        "set rulebase security rules inter-any from any to any source any destination any "
        "service any action allow rule-type interzone\n"
        "set rulebase security rules plain from a to b source any destination any service any "
        "action allow rule-type interzone\n"
    )
    context = ctx(config)
    pairs = [(r.id, r.from_zones, r.to_zones) for r in context.rules]
    assert pairs == [
        ("vsys1/intra", ("a",), ("a",)),
        ("vsys1/intra", ("b",), ("b",)),
        ("vsys1/inter", ("a",), ("b", "c")),
        ("vsys1/inter", ("b",), ("a", "c")),
        ("vsys1/inter-any", ("a",), ("b", "c")),
        ("vsys1/inter-any", ("b",), ("a", "c")),
        ("vsys1/inter-any", ("c",), ("a", "b")),
        ("vsys1/plain", ("a",), ("b",)),
    ]
    assert not config.issues


def test_default_rules_overridden() -> None:
    base = ZONES + "set rulebase default-security-rules rules {} action {}\n"
    both = parse(
        base.format("intrazone-default", "deny")
        + "set rulebase default-security-rules rules interzone-default action drop\n"
    )
    assert ctx(both).intrazone_allow == () and ctx(both).default_action is Action.DENY
    open_ = parse(base.format("interzone-default", "allow"))
    assert ctx(open_).intrazone_allow == ("a", "b", "c")
    assert ctx(open_).default_action is Action.ACCEPT
    odd = parse(
        base.format("interzone-default", "allow")
        + "set rulebase default-security-rules rules intrazone-default action deny\n"
    )
    assert ctx(odd).default_action is Action.ACCEPT and ctx(odd).intrazone_allow == ("a", "b", "c")
    assert any("cannot depend on the zone pair" in m for m in issues(odd, "warning"))


def test_nat_rules_are_reported_not_modelled() -> None:
    config = parse(
        ZONES + "set rulebase nat rules dnat from a to b source any destination 10.2.0.10 "
        "service any\nset rulebase nat rules dnat destination-translation translated-address "
        "10.2.0.20\n"
    )
    (nat,) = [i for i in config.issues if i.kind == "nat"]
    assert "dnat" in nat.message and nat.origin.line == 7
    assert nat.origin.xpath == f"{VSYS1}/rulebase/nat/rules/entry[@name='dnat']"
    assert ctx(config).rules == ()


def test_shared_objects_apply_to_every_vsys_and_vsys_objects_win() -> None:
    config = parse(
        "set shared address dns ip-netmask 10.0.0.53\n"
        "set shared address both ip-netmask 10.0.0.1\n"
        "set vsys vsys2 address both ip-netmask 10.0.0.2\n"
        + "".join(
            f"set vsys {v} rulebase security rules R from any to any source any destination "
            f"[ dns both ] service any action allow\n"
            for v in ("vsys1", "vsys2")
        )
    )
    found = {c.name: rule(c, "R").destination.addresses for c in config.contexts}
    assert found == {
        "vsys1": addrs("10.0.0.53/32", "10.0.0.1/32"),
        "vsys2": addrs("10.0.0.53/32", "10.0.0.2/32"),
    }
    # contexts come in the order the configuration first names them
    assert [r.id for c in config.contexts for r in c.rules] == ["vsys2/R", "vsys1/R"]


def test_vsys_interfaces_follow_imports_and_zones() -> None:
    config = parse(
        "set network interface ethernet ethernet1/1 layer3 ip 10.1.0.1/24\n"
        "set network interface ethernet ethernet1/2 layer3 ip 10.2.0.1/24\n"
        "set network interface ethernet ethernet1/3 layer3 ip 10.3.0.1/24\n"
        "set network virtual-router vr interface [ ethernet1/1 ethernet1/2 ethernet1/3 ]\n"
        "set network virtual-router vr routing-table ip static-route r2 destination 172.16.0.0/12\n"
        "set network virtual-router vr routing-table ip static-route r2 interface ethernet1/2\n"
        "set vsys vsys1 import network interface [ ethernet1/1 ]\n"
        "set vsys vsys1 zone in network layer3 ethernet1/1\n"
        "set vsys vsys2 zone out network layer3 [ ethernet1/2 ethernet1/9 ]\n"
    )
    one, two = config.contexts
    assert [i.name for i in one.interfaces] == ["ethernet1/1"]
    assert [(i.name, i.zone) for i in two.interfaces] == [
        ("ethernet1/2", "out"),
        ("ethernet1/9", "out"),
    ]
    assert one.routes == () and [r.interface for r in two.routes] == ["ethernet1/2"]
    assert "vsys2: zone 'out' names interface 'ethernet1/9', which is not defined" in issues(
        config, "undefined"
    )


def test_panorama_device_group_order() -> None:
    config = parse(
        "set device-group parent devices 0001\n"
        "set device-group child parent-dg parent\n"
        + "".join(
            f"set {where} {base} security rules {name} from any to any source any "
            f"destination any service any action allow\n"
            for where, base, name in (
                ("shared", "post-rulebase", "shared-post"),
                ("device-group child", "post-rulebase", "child-post"),
                ("device-group parent", "post-rulebase", "parent-post"),
                ("device-group child", "pre-rulebase", "child-pre"),
                ("device-group parent", "pre-rulebase", "parent-pre"),
                ("shared", "pre-rulebase", "shared-pre"),
            )
        )
    )
    assert [c.name for c in config.contexts] == ["parent", "child"]
    assert [r.id for r in ctx(config, "child").rules] == [
        "child/shared-pre",
        "child/parent-pre",
        "child/child-pre",
        "child/child-post",
        "child/parent-post",
        "child/shared-post",
    ]
    assert [r.name for r in ctx(config, "parent").rules] == [
        "shared-pre",
        "parent-pre",
        "parent-post",
        "shared-post",
    ]


def test_pushed_panorama_rules_surround_local_rules() -> None:
    xml = """<config>
  <policy><panorama>
    <pre-rulebase><security><rules><entry name="p1"><action>deny</action></entry></rules></security></pre-rulebase>
    <post-rulebase><security><rules><entry name="p9"><action>allow</action></entry></rules></security></post-rulebase>
  </panorama></policy>
  <devices><entry name="localhost.localdomain"><vsys><entry name="vsys1">
    <rulebase><security><rules><entry name="local"><action>allow</action></entry></rules></security></rulebase>
  </entry></vsys></entry></devices>
</config>"""
    context = ctx(parse(xml))
    assert [r.id for r in context.rules] == ["vsys1/p1", "vsys1/local", "vsys1/p9"]
    assert context.rules[0].origin.xpath == (
        "/config/policy/panorama/pre-rulebase/security/rules/entry[@name='p1']"
    )


# --- set-format details -------------------------------------------------------------------------


def test_set_format_quotes_lists_moves_and_junk() -> None:
    config = parse(
        "# exported\n"
        "admin@fw-01# \n"
        "[edit]\n"
        'set address "a b" ip-netmask 10.0.0.1\n'
        "set address c ip-netmask 10.0.0.2 \n"
        'set rulebase security rules "r 1" destination [ "a b" c]\n'
        'set rulebase security rules "r 1" description "two\n'
        'lines"\n'
        "set rulebase security rules r2 from any\n"
        'move rulebase security rules r2 before "r 1"\n'
        "this is not a command\n"
        "configure\n"
        "commit\n"
    )
    context = ctx(config)
    assert [r.name for r in context.rules] == ["r2", "r 1"]
    r1 = rule(context, "r 1")
    assert r1.destination.addresses == addrs("10.0.0.1/32", "10.0.0.2/32")
    assert r1.description == "two\nlines"
    assert r1.origin.line == 6
    assert [(i.origin.line, i.message) for i in config.issues if i.kind == "unrecognised"] == [
        (11, "not a PAN-OS set command: 'this is not a command'")
    ]
    assert config.status is ImportStatus.PARTLY_RECOGNISED


def test_set_format_delete_removes_members_and_entries() -> None:
    config = parse(
        ZONES + "set rulebase security rules R from any to any source [ 10.0.0.1 10.0.0.2 ] "
        "destination any service any action allow\n"
        "set rulebase security rules gone from any\n"
        "delete rulebase security rules R source 10.0.0.1\n"
        "delete rulebase security rules gone\n"
        "delete address never-defined\n"
    )
    (r,) = ctx(config).rules
    assert r.source.addresses == addrs("10.0.0.2/32")


def test_xml_lines_survive_comments_and_a_doctype() -> None:
    # a comment holding a start tag defeats counting start tags: the checked path gives lines
    commented = XML_RULES.replace("<config", "<!-- <entry name='x'> -->\n<config", 1)
    assert rule(ctx(parse(commented)), "allow-dns").origin.line == 11
    # a DOCTYPE without entity declarations is harmless and read by the checked path
    doctype = XML_RULES.replace("<config", "<!DOCTYPE config>\n<config", 1)
    assert rule(ctx(parse(doctype)), "allow-dns").origin.line == 11


@pytest.mark.parametrize(
    "name", ["iron_skillet_panos_full_edl.xml", "iron_skillet_panorama_full_edl.xml"]
)
def test_fast_xml_lines_equal_expat_lines_for_every_element(name: str) -> None:
    data = (DATA / name).read_bytes()
    fast = build_tree(data, name)
    top, lines = _xml_checked(data, name)
    assert fast.form == "xml"
    fast_lines = [fast.lines.get(e) for e in fast.root.iter()]
    checked = [lines.get(e) for e in top.iter()]
    assert fast_lines == checked and None not in fast_lines and len(set(fast_lines)) > 1000


def test_a_set_value_ending_in_a_brace_is_not_a_block() -> None:
    config = parse(
        "set address a description value{\n"
        "set rulebase security rules R from any to any source a destination any service any "
        "action allow\n"
        "set address a ip-netmask 10.0.0.1\n"
    )
    assert config.status is ImportStatus.PASSED
    assert rule(ctx(config), "R").source.addresses == addrs("10.0.0.1/32")


def test_deeply_nested_groups_are_cut_and_reported_not_a_crash() -> None:
    n = 3000
    lines = ["set address a0 ip-netmask 10.0.0.1"]
    lines += [f"set address-group g{i} static {'a0' if i == 0 else f'g{i - 1}'}" for i in range(n)]
    lines += [
        f"set service-group s{i} members {'service-http' if i == 0 else f's{i - 1}'}"
        for i in range(n)
    ]
    lines.append(
        f"set rulebase security rules R from any to any source g{n - 1} destination any "
        f"service s{n - 1} action allow"
    )
    config = parse("\n".join(lines))
    r = rule(ctx(config), "R")
    assert r.source.unresolved and "nested too deep" in r.source.unresolved[0]
    assert r.service_unresolved and "nested too deep" in r.service_unresolved[0]
    assert any("nested over 64 deep" in m for m in issues(config, "warning"))


def test_a_deny_all_rule_shadows_the_intrazone_default() -> None:
    # batfish-rulebase ends with 3rd_RULE (deny any to any): "Override default behavior with
    # default deny", so no flow reaches PAN-OS's default intrazone allow
    compiled = compile_context(ctx(load("batfish-rulebase")))
    defaults = [p for p in compiled.permits if "/intrazone:" in p.rule.id]
    assert defaults and all(p.shadowed for p in defaults)


def test_unknown_rule_fields_are_reported_and_taken_as_conditions() -> None:
    body = f"{BASE}; log-setting default; profile-setting group strict; quantum-filter q1; action "
    allow, config = one_rule(body + "allow")
    assert allow.conditions == ("quantum-filter:?",)
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in allow.assumptions
    assert issues(config, "unrecognised") == [
        "vsys1: rule 'R': field 'quantum-filter' not understood (taken as a condition segcheck "
        "cannot see)"
    ]
    deny, _ = one_rule(body + "deny")
    assert not deny.services and deny.service_unresolved == ("quantum-filter:?",)
