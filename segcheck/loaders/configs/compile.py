"""Compile one context's ordered rule base into an unordered allow-list, exactly.

A firewall evaluates its rules top-down and the first match wins; segcheck permits are an
unordered allow-list (spec §2). So each enabled accept rule becomes the cubes (sources ×
destinations × services) it matches minus every cube an *earlier* deny rule matches; earlier
accepts need nothing (a flow they take is allowed either way). Cube difference is exact:

    (S, D, P) − (S', D', P') = (S−S', D, P) ∪ (S∩S', D−D', P) ∪ (S∩S', D∩D', P−P')

whose three parts are disjoint. "Behind an interface" is its connected subnets and the static
routes out of it, by longest prefix (no routing protocol is simulated); an interface or zone
with no known subnet is taken to reach everything (assumption tagged), so that a missing route
never hides a path. What cannot be resolved offline widens an allow rule to everything behind
its interface and narrows a deny rule to nothing, for the same reason. The subtraction itself,
and finding the denies a rule meets, are in cubes.py (near-linear in the rule base).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...gcpause import paused
from ...model import IPRange
from .cubes import Cube, DenyIndex
from .model import (
    Action,
    AddressSet,
    Assumption,
    Context,
    Match,
    Origin,
    Rule,
    ServiceSet,
)

ANY_INTERFACE = "any"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """An accept rule as the flows it really allows, after earlier denies."""

    rule: Rule
    cubes: tuple[Cube, ...]
    assumptions: tuple[Assumption, ...]
    # the rule matches nothing on its own: its addresses lie outside what is behind its
    # interfaces/zones (or it names no service); no deny is the cause
    matches_nothing: bool = False

    @property
    def shadowed(self) -> bool:
        """True when earlier deny rules leave this accept rule nothing."""
        return not self.cubes and not self.matches_nothing


@dataclass(frozen=True, slots=True)
class CompiledContext:
    """The allow-list of one context, with what the compiler skipped and assumed."""

    context: Context
    permits: tuple[CompiledRule, ...]  # accept rules in order (shadowed ones included, empty)
    disabled: tuple[Rule, ...]
    unknown_interfaces: tuple[str, ...]


class _Spaces:
    """The address space behind each interface and zone, by longest-prefix match."""

    def __init__(self, context: Context) -> None:
        prefixes: list[tuple[IPRange, str]] = []
        for iface in context.interfaces:
            prefixes.extend((subnet, iface.name) for subnet in iface.subnets)
        prefixes.extend((route.destination, route.interface) for route in context.routes)
        self.by_interface: dict[str, AddressSet] = {}
        for iface in context.interfaces:
            own = [p for p, name in prefixes if name == iface.name]
            self.by_interface[iface.name] = _longest_prefix_share(own, prefixes, iface.name)
        for route in context.routes:  # a route out of an interface the config never defined
            if route.interface not in self.by_interface:
                own = [p for p, name in prefixes if name == route.interface]
                self.by_interface[route.interface] = _longest_prefix_share(
                    own, prefixes, route.interface
                )
        self.zone_members: dict[str, list[str]] = {}
        for iface in context.interfaces:
            if iface.zone:
                self.zone_members.setdefault(iface.zone, []).append(iface.name)
        self.unknown: set[str] = set()
        self._known: dict[tuple[str, ...], tuple[AddressSet, bool]] = {}

    def space(self, names: Sequence[str]) -> tuple[AddressSet, bool]:
        """Everything behind the named interfaces/zones (everything when none or `any`), and
        whether that is an assumption (an unknown name, or an interface with no subnet)."""
        key = tuple(names)  # a rule base names a few interface lists thousands of times
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._space(key)
        return known

    def _space(self, names: Sequence[str]) -> tuple[AddressSet, bool]:
        if not names or any(n.lower() == ANY_INTERFACE for n in names):
            return AddressSet.everything(), False
        total = AddressSet()
        for name in names:
            members = self.zone_members.get(name, [name] if name in self.by_interface else [])
            if not members:
                self.unknown.add(name)
                return AddressSet.everything(), True
            for member in members:
                behind = self.by_interface.get(member, AddressSet())
                if not behind:  # unnumbered, DHCP, or no route: do not let it hide a path
                    return AddressSet.everything(), True
                total = total.union(behind)
        return total, False


def _longest_prefix_share(
    own: list[IPRange], prefixes: list[tuple[IPRange, str]], name: str
) -> AddressSet:
    """Addresses of `own` prefixes not taken by a more specific prefix of another interface."""
    share = AddressSet()
    for prefix in own:
        region = AddressSet((prefix,))
        more_specific = [
            other
            for other, owner in prefixes
            if owner != name
            and other.version == prefix.version
            and prefix.first <= other.first
            and other.last <= prefix.last
            and other.size < prefix.size
        ]
        if more_specific:
            region = region.difference(AddressSet.of(more_specific))
        share = share.union(region)
    return share


def _side(match: Match, space: AddressSet, action: Action) -> tuple[AddressSet, bool]:
    """The addresses one side of a rule matches, and whether an assumption was taken."""
    if match.any:
        base, assumed = space, False
    elif match.unresolved and action is Action.ACCEPT:
        base, assumed = space, True  # widen: the unknown part may be anything behind it
    else:
        base, assumed = match.addresses.intersection(space), bool(match.unresolved)
    if match.negate:
        if match.unresolved and not match.any:
            # the complement of an unknown set: anything (allow) or nothing (deny)
            return (space if action is Action.ACCEPT else AddressSet()), True
        return space.difference(base), assumed
    return base, assumed


def _services(rule: Rule) -> tuple[ServiceSet, bool]:
    if rule.service_unresolved:
        if rule.action is Action.ACCEPT:
            return ServiceSet.everything(), True
        return rule.services, True
    return rule.services, False


def rule_cube(rule: Rule, spaces: _Spaces) -> tuple[Cube, tuple[Assumption, ...]]:
    """The flows one rule matches on its own, and the assumptions that took."""
    src_space, src_unknown = spaces.space(rule.from_zones)
    dst_space, dst_unknown = spaces.space(rule.to_zones)
    if rule.action is Action.DENY:
        # an interface whose addresses are unknown widens an allow but must not widen a deny:
        # taken as everything it would hide every later path, so it matches nothing here
        if src_unknown:
            src_space = AddressSet()
        if dst_unknown:
            dst_space = AddressSet()
    sources, src_assumed = _side(rule.source, src_space, rule.action)
    destinations, dst_assumed = _side(rule.destination, dst_space, rule.action)
    services, svc_assumed = _services(rule)
    assumptions = list(rule.assumptions)
    if src_unknown or dst_unknown:
        assumptions.append(Assumption.INTERFACE_SPACE_UNKNOWN)
    if src_assumed or dst_assumed or svc_assumed:
        assumptions.append(
            Assumption.UNRESOLVED_ALLOW_WIDENED
            if rule.action is Action.ACCEPT
            else Assumption.UNRESOLVED_DENY_IGNORED
        )
    return Cube(sources, destinations, services), tuple(dict.fromkeys(assumptions))


def compile_context(context: Context) -> CompiledContext:
    """The context's effective allow-list, rule by rule, in rule order."""
    # compiling allocates many small objects and frees few: the cyclic collector would only
    # re-walk the parsed rule base (a third of the time on 20,000 rules)
    with paused():
        return _compile(context)


def _compile(context: Context) -> CompiledContext:
    spaces = _Spaces(context)
    denies: list[Cube] = []
    disabled: list[Rule] = []
    # accept rules with their cube and how many deny cubes precede them; the denies are
    # indexed once all are known, each accept then looks up only the earlier ones
    accepts: list[tuple[Rule, Cube, tuple[Assumption, ...], int]] = []
    for rule in context.rules:
        if not rule.enabled:
            disabled.append(rule)
            continue
        cube, assumptions = rule_cube(rule, spaces)
        if rule.action is Action.DENY:
            if cube:
                denies.append(cube)
            continue
        accepts.append((rule, cube, assumptions, len(denies)))
    index = DenyIndex(denies)
    compiled: list[CompiledRule] = []
    for rule, cube, assumptions, before in accepts:
        if not cube:
            compiled.append(CompiledRule(rule, (), assumptions, matches_nothing=True))
            continue
        pieces = index.cut(cube, before)
        if pieces is None:  # too fragmented: keep the whole rule (never hides a path)
            pieces = [cube]
            assumptions = (*assumptions, Assumption.DENY_SHADOW_APPROXIMATED)
        compiled.append(CompiledRule(rule, tuple(pieces), assumptions))
    compiled.extend(_intrazone_defaults(context, spaces, index))
    if context.default_action is Action.ACCEPT and not _ends_in_accept_all(context):
        everything = AddressSet.everything()
        rule = Rule(
            id=f"{context.name}/default-accept",
            action=Action.ACCEPT,
            source=Match(everything, any=True),
            destination=Match(everything, any=True),
            services=ServiceSet.everything(),
            origin=context.rules[-1].origin if context.rules else _origin_of(context),
            name="default policy accept",
        )
        cube = Cube(everything, everything, ServiceSet.everything())
        pieces = index.cut(cube)
        assumed = () if pieces is not None else (Assumption.DENY_SHADOW_APPROXIMATED,)
        compiled.append(
            CompiledRule(rule, tuple(pieces if pieces is not None else [cube]), assumed)
        )
    unknown = tuple(sorted(spaces.unknown))
    return CompiledContext(context, tuple(compiled), tuple(disabled), unknown)


def _ends_in_accept_all(context: Context) -> bool:
    """True when the parser already wrote the accept policy out as an unconditional last rule."""
    last = next((r for r in reversed(context.rules) if r.enabled), None)
    return (
        last is not None
        and last.action is Action.ACCEPT
        and last.source.any
        and last.destination.any
        and last.services.is_everything
        and not last.from_zones
        and not last.to_zones
    )


def _origin_of(context: Context) -> Origin:
    if context.interfaces:
        return context.interfaces[0].origin
    return Origin("<configuration>")


def _intrazone_defaults(
    context: Context, spaces: _Spaces, index: DenyIndex
) -> Iterable[CompiledRule]:
    """FortiOS `intrazone allow`, PAN-OS's default intrazone allow: after every rule."""
    for zone in context.intrazone_allow:
        # even a one-interface zone counts: its routes may reach several segcheck zones, and
        # traffic between them hairpins through the firewall
        space, _ = spaces.space([zone])
        rule = Rule(
            id=f"{context.name}/intrazone:{zone}",
            action=Action.ACCEPT,
            source=Match(space),
            destination=Match(space),
            services=ServiceSet.everything(),
            origin=next(
                (i.origin for i in context.interfaces if zone in (i.zone, i.name)),
                context.rules[0].origin if context.rules else _origin_of(context),
            ),
            from_zones=(zone,),
            to_zones=(zone,),
            name=f"default intrazone allow ({zone})",
        )
        cube = Cube(space, space, ServiceSet.everything())
        pieces = index.cut(cube)
        if pieces is None:  # too fragmented: keep the whole default (never hides a path)
            yield CompiledRule(rule, (cube,), (Assumption.DENY_SHADOW_APPROXIMATED,))
        else:  # an empty list: earlier denies take every flow of the default
            yield CompiledRule(rule, tuple(pieces), ())
