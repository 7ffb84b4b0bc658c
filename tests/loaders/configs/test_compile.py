"""The compiler of ordered rules: its allow-list equals first-match evaluation, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcheck.loaders.configs.compile import Cube, compile_context
from segcheck.loaders.configs.model import (
    Action,
    AddressSet,
    Assumption,
    Context,
    Interface,
    Match,
    Origin,
    Route,
    Rule,
    ServiceSet,
)
from segcheck.model import IPRange

ORIGIN = Origin("fw.conf", 1)
# A tiny universe: addresses 10.0.0.0-10.0.0.15 (two interfaces of 8), tcp ports 1-6.
BASE = 0x0A000000
PORTS = range(1, 7)
HOSTS = range(16)


def r(first: int, last: int) -> IPRange:
    return IPRange(4, BASE + first, BASE + last)


CONTEXT_IFACES = (
    Interface("inside", ORIGIN, zone="trust", subnets=(r(0, 7),)),
    Interface("outside", ORIGIN, zone="untrust", subnets=(r(8, 15),)),
)


def first_match(rules: list[Rule], src: int, dst: int, port: int) -> bool:
    side = {"trust": range(0, 8), "untrust": range(8, 16)}
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.from_zones and src not in side[rule.from_zones[0]]:
            continue
        if rule.to_zones and dst not in side[rule.to_zones[0]]:
            continue

        def hit(m: Match, host: int) -> bool:
            inside = m.any or any(x.first <= BASE + host <= x.last for x in m.addresses.ranges)
            return inside != m.negate

        if not hit(rule.source, src) or not hit(rule.destination, dst):
            continue
        if not any(p == 6 and lo <= port <= hi for p, lo, hi in rule.services.items):
            continue
        return rule.action is Action.ACCEPT
    return False


def allowed(cubes: list[Cube], src: int, dst: int, port: int) -> bool:
    for c in cubes:
        if (
            any(x.version == 4 and x.first <= BASE + src <= x.last for x in c.sources.ranges)
            and any(
                x.version == 4 and x.first <= BASE + dst <= x.last for x in c.destinations.ranges
            )
            and any(p == 6 and lo <= port <= hi for p, lo, hi in c.services.items)
        ):
            return True
    return False


span = st.tuples(st.integers(0, 15), st.integers(0, 4)).map(lambda t: r(t[0], min(15, t[0] + t[1])))
match = st.builds(
    lambda ranges, negate, any_: Match(AddressSet.of(ranges), negate=negate, any=any_),
    st.lists(span, max_size=2),
    st.booleans(),
    st.booleans(),
)
services = st.lists(
    st.tuples(st.integers(1, 6), st.integers(0, 3)).map(lambda t: (6, t[0], min(6, t[0] + t[1]))),
    min_size=1,
    max_size=2,
).map(ServiceSet.of)
zones = st.sampled_from([(), ("trust",), ("untrust",)])


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    out = []
    for i in range(draw(st.integers(1, 7))):
        out.append(
            Rule(
                id=f"root/{i + 1}",
                action=draw(st.sampled_from([Action.ACCEPT, Action.DENY])),
                source=draw(match),
                destination=draw(match),
                services=draw(services),
                origin=ORIGIN,
                from_zones=draw(zones),
                to_zones=draw(zones),
                enabled=draw(st.integers(0, 5)) > 0,
            )
        )
    return out


@pytest.mark.slow  # a property/oracle test: seconds to minutes; CI runs it
@settings(max_examples=300, deadline=None)
@given(rules())
def test_compiled_allow_list_equals_first_match(rule_list: list[Rule]) -> None:
    context = Context("root", CONTEXT_IFACES, (), tuple(rule_list))
    compiled = compile_context(context)
    cubes = [c for p in compiled.permits for c in p.cubes]
    for src in HOSTS:
        for dst in HOSTS:
            for port in PORTS:
                assert allowed(cubes, src, dst, port) == first_match(rule_list, src, dst, port), (
                    src,
                    dst,
                    port,
                )


def test_deny_before_accept_is_subtracted_and_later_deny_is_not() -> None:
    accept = Rule(
        "root/2",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 6)),
        ORIGIN,
    )
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet((r(0, 3),))),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (2, 2)),
        ORIGIN,
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (deny, accept)))
    cubes = list(compiled.permits[0].cubes)
    assert not allowed(cubes, 1, 9, 2) and allowed(cubes, 1, 9, 3) and allowed(cubes, 5, 9, 2)
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (accept, deny)))
    assert allowed(list(compiled.permits[0].cubes), 1, 9, 2)


def test_a_rule_outside_its_interfaces_is_not_called_shadowed() -> None:
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet((r(0, 7),))),
        Match(AddressSet(), any=True),
        ServiceSet.everything(),
        ORIGIN,
    )
    covered = Rule(
        "root/2",
        Action.ACCEPT,
        Match(AddressSet((r(0, 3),))),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 6)),
        ORIGIN,
        from_zones=("trust",),
    )
    # its source lies behind `outside`, not behind the zone the rule names
    elsewhere = Rule(
        "root/3",
        Action.ACCEPT,
        Match(AddressSet((r(9, 9),))),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 6)),
        ORIGIN,
        from_zones=("trust",),
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (deny, covered, elsewhere)))
    by_id = {p.rule.id: p for p in compiled.permits}
    assert by_id["root/2"].shadowed and not by_id["root/2"].matches_nothing
    assert by_id["root/3"].matches_nothing and not by_id["root/3"].shadowed
    assert by_id["root/3"].cubes == ()


def test_disabled_rules_are_listed_and_skipped() -> None:
    rule = Rule(
        "root/7",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.everything(),
        ORIGIN,
        enabled=False,
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (rule,)))
    assert compiled.permits == () and compiled.disabled == (rule,)


def test_unresolved_object_widens_an_allow_and_empties_a_deny() -> None:
    fqdn = Match(AddressSet(), unresolved=("update.example.com",))
    allow = Rule(
        "root/1",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        fqdn,
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
        to_zones=("untrust",),
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (allow,)))
    (permit,) = compiled.permits
    assert permit.cubes[0].destinations == AddressSet((r(8, 15),))
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in permit.assumptions
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet(), any=True),
        fqdn,
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
    )
    later = Rule(
        "root/2",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (deny, later)))
    assert allowed(list(compiled.permits[0].cubes), 0, 9, 1)


def test_interface_space_is_longest_prefix_and_unknown_interfaces_reach_everything() -> None:
    ifaces = (
        Interface("lan", ORIGIN, subnets=(r(0, 7),)),
        Interface("wan", ORIGIN, subnets=(r(8, 9),)),
    )
    default = Route(IPRange(4, 0, 2**32 - 1), "wan", ORIGIN)
    to_wan = Rule(
        "root/1",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
        to_zones=("wan",),
    )
    compiled = compile_context(Context("root", ifaces, (default,), (to_wan,)))
    destinations = compiled.permits[0].cubes[0].destinations
    assert destinations == AddressSet.everything().difference(AddressSet((r(0, 7),))).difference(
        AddressSet((IPRange(6, 0, 2**128 - 1),))
    )
    typo = Rule(
        "root/2",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
        to_zones=("port0",),
    )
    compiled = compile_context(Context("root", ifaces, (), (typo,)))
    assert compiled.unknown_interfaces == ("port0",)
    assert Assumption.INTERFACE_SPACE_UNKNOWN in compiled.permits[0].assumptions


def test_intrazone_allow_comes_after_every_rule() -> None:
    ifaces = (
        Interface("p1", ORIGIN, zone="lan", subnets=(r(0, 3),)),
        Interface("p2", ORIGIN, zone="lan", subnets=(r(4, 7),)),
    )
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet((r(0, 0),))),
        Match(AddressSet(), any=True),
        ServiceSet.everything(),
        ORIGIN,
    )
    compiled = compile_context(Context("root", ifaces, (), (deny,), intrazone_allow=("lan",)))
    (intrazone,) = compiled.permits
    assert intrazone.rule.id == "root/intrazone:lan"
    cubes = list(intrazone.cubes)
    assert allowed(cubes, 1, 5, 1) and not allowed(cubes, 0, 5, 1)


def test_a_deny_on_an_unknown_interface_hides_no_path() -> None:
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.everything(),
        ORIGIN,
        from_zones=("port9",),
    )
    accept = Rule(
        "root/2",
        Action.ACCEPT,
        Match(AddressSet(), any=True),
        Match(AddressSet(), any=True),
        ServiceSet.ports(6, (1, 1)),
        ORIGIN,
    )
    compiled = compile_context(Context("root", CONTEXT_IFACES, (), (deny, accept)))
    assert allowed(list(compiled.permits[0].cubes), 1, 9, 1)


def test_default_accept_policy_allows_what_no_deny_took() -> None:
    deny = Rule(
        "root/1",
        Action.DENY,
        Match(AddressSet((r(0, 3),))),
        Match(AddressSet(), any=True),
        ServiceSet.everything(),
        ORIGIN,
    )
    compiled = compile_context(
        Context("ruleset", CONTEXT_IFACES, (), (deny,), default_action=Action.ACCEPT)
    )
    (default,) = compiled.permits
    assert default.rule.id == "ruleset/default-accept"
    cubes = list(default.cubes)
    assert allowed(cubes, 5, 9, 1) and not allowed(cubes, 1, 9, 1)
