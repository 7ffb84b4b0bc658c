"""PAN-OS configuration (XML, set or brace form) → `ParsedConfig`: one context per vsys.

The text becomes one element tree (`panos_tree.py`); this module reads it the way the firewall
evaluates it:

- one `Context` per vsys (a Panorama configuration: per device group), named as the device
  names it; objects resolve in the vsys (device group, then its parents), then Panorama-pushed
  objects, then `shared`, then the factory table (`panos_data.py`);
- security rules in order: shared pre-rules, Panorama-pushed pre-rules (`policy panorama`),
  device-group pre-rules, local rules, device-group post-rules, pushed post-rules, shared
  post-rules; then the default rules (intrazone allow, interzone deny, unless overridden);
- rule ids `<vsys>/<rule name>`; every rule, interface, route and object keeps its line and
  XPath.

What an L3/L4 model cannot see is recorded, never silently dropped: FQDN, wildcard, dynamic
groups, external lists and regions stay `unresolved` on the rule side; App-ID, users, URL
categories, HIP and schedules are `conditions`. An allow rule keeps its addresses and ports and is
tagged (optimistic); a deny rule with such a condition is taken to match nothing (its services
are emptied and the conditions listed as unresolved), so it never hides a path. NAT rules are
reported, not modelled.

`rule-type intrazone` / `interzone` are expressed in the rule's zones: a rule whose zones do not
say it exactly (from [a b] to [a b]) becomes one `Rule` per from-zone, all with the rule's id.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...gcpause import paused
from ...model import IPRange
from .model import (
    Action,
    AddressSet,
    Assumption,
    Context,
    Interface,
    Issue,
    Match,
    Origin,
    ParsedConfig,
    Route,
    Rule,
    ServiceSet,
)
from .panos_data import (
    ALLOW_ACTIONS,
    ANY,
    APPLICATION_DEFAULT,
    CONDITION_FIELDS,
    DEFAULT_VSYS,
    DENY_ACTIONS,
    EFFECT_FIELDS,
    INTERZONE_DEFAULT,
    INTRAZONE_DEFAULT,
    LOCAL_DEVICE,
    MATCH_FIELDS,
    PREDEFINED_EDLS,
    PREDEFINED_SERVICES,
    SERVICE_PROTOCOLS,
)
from .panos_tree import ConfigTree, build_tree

FORMAT = "panos"

_REGION_CODE = re.compile(r"^[A-Z]{2}$")  # a predefined region (country code)
_RULE_TYPES = ("universal", "intrazone", "interzone")
_ZONE_TYPES = ("layer3", "layer2", "virtual-wire", "tap", "tunnel")
_LOGICAL_INTERFACES = ("vlan", "loopback", "tunnel")
_MAX_NESTING = 64  # group depth resolved (PAN-OS itself allows far fewer); deeper is reported
_EVERY_SERVICE = ServiceSet.everything()  # built once: 256 protocols
_EVERY_ADDRESS = AddressSet.everything()
_ANY_MATCH = Match(_EVERY_ADDRESS, (), False, any=True)
_ANY_NEGATED = Match(_EVERY_ADDRESS, (), True, any=True)


def parse_panos(path: Path, text_or_bytes: bytes | str, *, display_name: str) -> ParsedConfig:
    """Parse one PAN-OS configuration; ConfigError when it cannot be read at all."""
    raw = text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode("utf-8")
    # Hundreds of thousands of elements and objects, almost none in a reference cycle: the
    # cyclic collector's passes over them cost a third of the time, so it waits till the end.
    with paused():
        tree = build_tree(text_or_bytes, display_name)
        return _Reader(tree, display_name).read(hashlib.sha256(raw).hexdigest())


# --- helpers -----------------------------------------------------------------------------------


def _q(name: str) -> str:
    """An XPath string literal."""
    return f'"{name}"' if "'" in name else f"'{name}'"


def _entry_xpath(base: str, name: str) -> str:
    return f"{base}/entry[@name={_q(name)}]"


def _text(elem: ET.Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    text = elem.text.strip()
    return text or None


def _members(elem: ET.Element | None) -> list[str] | None:
    """Member values of a list element; None when the element is absent."""
    if elem is None:
        return None
    return [t for m in elem if m.tag == "member" and (t := (m.text or "").strip())]


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    values = tuple(values)
    return values if len(values) < 2 else tuple(dict.fromkeys(values))


def _entries(container: ET.Element | None) -> Iterable[tuple[str | None, ET.Element]]:
    if container is None:
        return ()
    return ((e.get("name"), e) for e in container if e.tag == "entry")


def _unique_entries(container: ET.Element | None) -> list[tuple[str | None, ET.Element]]:
    """Entries, a repeated name merged into its first entry (templates concatenate them)."""
    first: dict[str | None, ET.Element] = {}
    out = []
    for name, entry in _entries(container):
        if name is not None and name in first:
            first[name].extend(list(entry))
            continue
        first[name] = entry
        out.append((name, entry))
    return out


@lru_cache(maxsize=65536)
def _literal(text: str) -> IPRange | None:
    """An address, CIDR (host bits allowed) or `a-b` range written in place of an object."""
    try:
        if "-" in text:
            first_text, _, last_text = text.partition("-")
            first = ipaddress.ip_address(first_text.strip())
            last = ipaddress.ip_address(last_text.strip())
            if first.version != last.version or int(first) > int(last):
                return None
            return IPRange(first.version, int(first), int(last))
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return IPRange(net.version, int(net.network_address), int(net.broadcast_address))


def _interface_address(text: str) -> tuple[IPRange, IPRange] | None:
    """(connected subnet, own address) of an interface address `a.b.c.d/len`."""
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        return None
    net = iface.network
    own = int(iface.ip)
    return (
        IPRange(net.version, int(net.network_address), int(net.broadcast_address)),
        IPRange(net.version, own, own),
    )


def _ports(text: str) -> list[tuple[int, int]] | None:
    """`80,8080,1000-2000` → ranges; None when malformed."""
    out = []
    for part in text.split(","):
        part = part.strip()
        lo_text, dash, hi_text = part.partition("-")
        if not lo_text.isdigit() or (dash and not hi_text.isdigit()):
            return None
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
        if not 0 <= lo <= hi <= 65535:
            return None
        out.append((lo, hi))
    return out or None


# --- objects -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Addr:
    ranges: tuple[IPRange, ...]
    unresolved: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Svc:
    items: tuple[tuple[int, int, int], ...]
    unresolved: tuple[str, ...] = ()
    # services restricted by source port: their ports, and their names
    restricted: tuple[tuple[int, int, int], ...] = ()
    restricted_names: tuple[str, ...] = ()


@dataclass(eq=False, slots=True)
class _Object:
    kind: str  # address, address-group, external-list, region, service, service-group
    name: str
    elem: ET.Element
    xpath: str
    scope: _Scope
    used: bool = False
    value: _Addr | _Svc | None = None
    resolving: bool = False


_ADDRESS_KINDS = ("address", "address-group", "external-list", "region")
_SERVICE_KINDS = ("service", "service-group")


@dataclass(eq=False)
class _Scope:
    """One object namespace (vsys, device group, pushed Panorama policy, shared)."""

    label: str
    parent: _Scope | None
    addresses: dict[str, _Object] = field(default_factory=dict)
    services: dict[str, _Object] = field(default_factory=dict)


# --- contexts ----------------------------------------------------------------------------------


@dataclass
class _Rulebase:
    elem: ET.Element | None
    xpath: str


@dataclass
class _Ctx:
    name: str
    scope: _Scope
    xpath: str
    pre: list[_Rulebase]
    local: _Rulebase | None
    post: list[_Rulebase]
    zones: dict[str, list[str]] | None  # zone → member interfaces; None: no zones (Panorama)
    zone_origins: dict[str, Origin] = field(default_factory=dict)
    interface_names: set[str] | None = None  # None: every interface of the device
    device: ET.Element | None = None
    device_xpath: str = ""


@dataclass
class _DeviceInterface:
    name: str
    origin: Origin
    addresses: list[tuple[str, Origin]]  # address texts (or object names) as written


class _Reader:
    def __init__(self, tree: ConfigTree, display_name: str) -> None:
        self.tree = tree
        self.file = display_name
        self.lines = tree.lines
        self.issues: list[Issue] = []
        self.scopes: list[_Scope] = []
        self._depth = 0  # group nesting being resolved
        self._side_cache: dict[
            tuple[int, tuple[str, ...]], tuple[AddressSet, tuple[str, ...], tuple[str, ...]]
        ] = {}
        self._service_cache: dict[
            tuple[int, tuple[str, ...], Action],
            tuple[ServiceSet, tuple[str, ...], tuple[str, ...], tuple[Assumption, ...]],
        ] = {}
        for line, why in tree.unrecognised:
            self.issues.append(Issue("unrecognised", why, Origin(display_name, line)))

    def origin(self, elem: ET.Element | None, xpath: str | None = None) -> Origin:
        return Origin(self.file, self.lines.get(elem) if elem is not None else None, xpath)

    def issue(self, kind: str, message: str, origin: Origin) -> None:
        self.issues.append(Issue(kind, message, origin))

    # -- top level

    def read(self, sha256: str) -> ParsedConfig:
        contexts = [self._context(ctx) for ctx in self._find_contexts()]
        self._unused()
        seen: set[Issue] = set()
        issues = []
        for issue in self.issues:
            if issue not in seen:
                seen.add(issue)
                issues.append(issue)
        return ParsedConfig(self.file, FORMAT, sha256, tuple(contexts), tuple(issues))

    def _scope(
        self, label: str, elem: ET.Element | None, xpath: str, parent: _Scope | None
    ) -> _Scope:
        scope = _Scope(label, parent)
        self.scopes.append(scope)
        if elem is None:
            return scope
        for kinds, table in ((_ADDRESS_KINDS, scope.addresses), (_SERVICE_KINDS, scope.services)):
            for kind in kinds:
                base = f"{xpath}/{kind}"
                for name, entry in _entries(elem.find(kind)):
                    if not name:
                        self.issue(
                            "unrecognised", f"{kind} entry without a name", self.origin(entry, base)
                        )
                        continue
                    if name in table:
                        self.issue(
                            "warning",
                            f"{label}: {kind} {name!r} defined twice (the first is used)",
                            self.origin(entry, _entry_xpath(base, name)),
                        )
                        continue
                    table[name] = _Object(kind, name, entry, _entry_xpath(base, name), scope)
        return scope

    def _find_contexts(self) -> list[_Ctx]:
        root = self.tree.root
        shared_el = root.find("shared")
        shared = self._scope("shared", shared_el, "/config/shared", None)
        pushed_el = root.find("policy/panorama")
        pushed = (
            self._scope("panorama", pushed_el, "/config/policy/panorama", shared)
            if pushed_el is not None
            else shared
        )

        def rulebase(elem: ET.Element | None, path: str, xpath: str) -> _Rulebase:
            return _Rulebase(elem.find(path) if elem is not None else None, f"{xpath}/{path}")

        shared_pre = rulebase(shared_el, "pre-rulebase", "/config/shared")
        shared_post = rulebase(shared_el, "post-rulebase", "/config/shared")
        pushed_pre = rulebase(pushed_el, "pre-rulebase", "/config/policy/panorama")
        pushed_post = rulebase(pushed_el, "post-rulebase", "/config/policy/panorama")

        contexts: list[_Ctx] = []
        groups: dict[str, tuple[ET.Element, str, str | None]] = {}
        first_device: tuple[ET.Element | None, str] = (
            None,
            _entry_xpath("/config/devices", LOCAL_DEVICE),
        )
        vsys_count = 0
        for dev_name, device in _entries(root.find("devices")):
            dev_xpath = _entry_xpath("/config/devices", dev_name or "")
            if first_device[0] is None:
                first_device = (device, dev_xpath)
            vsys_list = _unique_entries(device.find("vsys"))
            vsys_count += len(vsys_list)
            for name, vsys in vsys_list:
                if not name:
                    self.issue("unrecognised", "vsys entry without a name", self.origin(vsys))
                    continue
                xpath = _entry_xpath(f"{dev_xpath}/vsys", name)
                scope = self._scope(name, vsys, xpath, pushed)
                ctx = _Ctx(
                    name,
                    scope,
                    xpath,
                    [shared_pre, pushed_pre],
                    rulebase(vsys, "rulebase", xpath),
                    [pushed_post, shared_post],
                    {},
                    device=device,
                    device_xpath=dev_xpath,
                )
                self._zones(ctx, vsys)
                imported = _members(vsys.find("import/network/interface"))
                if imported is not None:
                    ctx.interface_names = set(imported)
                contexts.append(ctx)
            for name, group in _unique_entries(device.find("device-group")):
                if not name:
                    self.issue(
                        "unrecognised", "device-group entry without a name", self.origin(group)
                    )
                    continue
                parent = _text(group.find("parent-dg"))
                groups[name] = (group, _entry_xpath(f"{dev_xpath}/device-group", name), parent)
        if groups:
            contexts.extend(self._device_groups(groups, shared, shared_pre, shared_post))
        if not contexts:
            # a firewall always has vsys1; a fragment without it still has shared rules
            fallback, dev_xpath = first_device
            xpath = _entry_xpath(f"{dev_xpath}/vsys", DEFAULT_VSYS)
            scope = self._scope(DEFAULT_VSYS, None, xpath, pushed)
            contexts.append(
                _Ctx(
                    DEFAULT_VSYS,
                    scope,
                    xpath,
                    [shared_pre, pushed_pre],
                    None,
                    [pushed_post, shared_post],
                    {},
                    device=fallback,
                    device_xpath=dev_xpath,
                )
            )
        if vsys_count > 1:
            for ctx in contexts:  # several vsys: an interface belongs to the vsys naming it
                if ctx.interface_names is None and ctx.zones is not None:
                    ctx.interface_names = {i for members in ctx.zones.values() for i in members}
        return contexts

    def _device_groups(
        self,
        groups: dict[str, tuple[ET.Element, str, str | None]],
        shared: _Scope,
        shared_pre: _Rulebase,
        shared_post: _Rulebase,
    ) -> list[_Ctx]:
        parents: dict[str, str] = {}
        for _, device in _entries(self.tree.root.find("readonly/devices")):
            for name, group in _entries(device.find("device-group")):
                parent = _text(group.find("parent-dg"))
                if name and parent:
                    parents[name] = parent
        for name, (_, _, parent) in groups.items():
            if parent:
                parents[name] = parent
        scopes: dict[str, _Scope] = {}

        def chain(name: str) -> list[str]:
            """The group and its ancestors, nearest first."""
            out = [name]
            while (parent := parents.get(out[-1])) is not None:
                if parent in out or parent not in groups:
                    if parent in out:
                        group, xpath, _ = groups[name]
                        self.issue(
                            "warning",
                            f"device group {name!r}: parent-dg cycle through {parent!r}",
                            self.origin(group, xpath),
                        )
                    break
                out.append(parent)
            return out

        def scope_of(name: str) -> _Scope:
            if name not in scopes:
                up = chain(name)
                parent_scope = scope_of(up[1]) if len(up) > 1 else shared
                group, xpath, _ = groups[name]
                scopes[name] = self._scope(name, group, xpath, parent_scope)
            return scopes[name]

        contexts = []
        for name in groups:
            up = chain(name)
            pre = [shared_pre]
            post = []
            for member in reversed(up):
                group, xpath, _ = groups[member]
                pre.append(_Rulebase(group.find("pre-rulebase"), f"{xpath}/pre-rulebase"))
            for member in up:
                group, xpath, _ = groups[member]
                post.append(_Rulebase(group.find("post-rulebase"), f"{xpath}/post-rulebase"))
            post.append(shared_post)
            contexts.append(_Ctx(name, scope_of(name), groups[name][1], pre, None, post, None))
        return contexts

    def _zones(self, ctx: _Ctx, vsys: ET.Element) -> None:
        assert ctx.zones is not None
        base = f"{ctx.xpath}/zone"
        for name, zone in _entries(vsys.find("zone")):
            if not name:
                self.issue("unrecognised", "zone entry without a name", self.origin(zone, base))
                continue
            members: list[str] = []
            network = zone.find("network")
            if network is not None:
                for kind in _ZONE_TYPES:
                    members.extend(_members(network.find(kind)) or ())
            ctx.zones[name] = members
            ctx.zone_origins[name] = self.origin(zone, _entry_xpath(base, name))

    # -- one context

    def _context(self, ctx: _Ctx) -> Context:
        interfaces = self._interfaces(ctx)
        routes = self._routes(ctx, interfaces)
        rules: list[Rule] = []
        referenced_zones: dict[str, None] = {}
        ids: dict[str, str] = {}
        for where, rulebase in self._rulebases(ctx):
            if rulebase.elem is None:
                continue
            self._nat(rulebase)
            base = f"{rulebase.xpath}/security/rules"
            for name, entry in _entries(rulebase.elem.find("security/rules")):
                xpath = _entry_xpath(base, name or "")
                if not name:
                    self.issue(
                        "unrecognised", "security rule without a name", self.origin(entry, xpath)
                    )
                    continue
                rule_id = f"{ctx.name}/{name}"
                if rule_id in ids:
                    self.issue(
                        "warning",
                        f"{ctx.name}: rule name {name!r} used in both the {ids[rule_id]} and the "
                        f"{where} rulebase (both kept, with the same id)",
                        self.origin(entry, xpath),
                    )
                ids.setdefault(rule_id, where)
                new = self._rule(ctx, name, entry, xpath)
                for rule in new:
                    for zone in (*rule.from_zones, *rule.to_zones):
                        if zone != ANY:
                            referenced_zones.setdefault(zone)
                rules.extend(new)
        intrazone, interzone = self._defaults(ctx)
        if ctx.zones is not None:
            zone_names = tuple(ctx.zones)
        else:
            zone_names = tuple(referenced_zones)
        intrazone_allow = zone_names if intrazone is Action.ACCEPT else ()
        if interzone is Action.ACCEPT and intrazone is Action.DENY:
            self.issue(
                "warning",
                f"{ctx.name}: interzone-default allows and intrazone-default denies; segcheck "
                "takes both as allow (a default cannot depend on the zone pair)",
                Origin(self.file, None, ctx.xpath),
            )
            intrazone_allow = zone_names
        return Context(
            ctx.name,
            tuple(interfaces),
            tuple(routes),
            tuple(rules),
            intrazone_allow=intrazone_allow,
            default_action=interzone,
        )

    def _rulebases(self, ctx: _Ctx) -> list[tuple[str, _Rulebase]]:
        out = [("pre", rb) for rb in ctx.pre]
        if ctx.local is not None:
            out.append(("local", ctx.local))
        out.extend(("post", rb) for rb in ctx.post)
        return out

    def _nat(self, rulebase: _Rulebase) -> None:
        assert rulebase.elem is not None
        base = f"{rulebase.xpath}/nat/rules"
        for name, entry in _entries(rulebase.elem.find("nat/rules")):
            disabled = _text(entry.find("disabled")) == "yes"
            self.issue(
                "nat",
                f"NAT rule {name!r}{' (disabled)' if disabled else ''} is not modelled: security "
                "rules are matched on the addresses and zones they are written with",
                self.origin(entry, _entry_xpath(base, name or "")),
            )

    def _defaults(self, ctx: _Ctx) -> tuple[Action, Action]:
        """Actions of intrazone-default and interzone-default (Panorama overrides win)."""
        found: dict[str, Action] = {}
        candidates = [rb for rb in (*ctx.post, ctx.local) if rb is not None]
        for rulebase in candidates:
            if rulebase.elem is None:
                continue
            base = f"{rulebase.xpath}/default-security-rules/rules"
            for name, entry in _entries(rulebase.elem.find("default-security-rules/rules")):
                if name not in (INTRAZONE_DEFAULT, INTERZONE_DEFAULT) or name in found:
                    continue
                action = _text(entry.find("action"))
                if action is None:
                    continue
                if action in ALLOW_ACTIONS:
                    found[name] = Action.ACCEPT
                elif action in DENY_ACTIONS:
                    found[name] = Action.DENY
                else:
                    self.issue(
                        "unrecognised",
                        f"{name}: unknown action {action!r} (the factory default is kept)",
                        self.origin(entry, _entry_xpath(base, name)),
                    )
        return found.get(INTRAZONE_DEFAULT, Action.ACCEPT), found.get(
            INTERZONE_DEFAULT, Action.DENY
        )

    # -- rules

    def _rule(self, ctx: _Ctx, name: str, entry: ET.Element, xpath: str) -> list[Rule]:
        origin = self.origin(entry, xpath)
        fields = {child.tag: child for child in reversed(entry)}  # the first of a repeated tag
        label = f"{ctx.name}: rule {name!r}"
        assumptions: list[Assumption] = []

        action_text = _text(fields.get("action"))
        if action_text is None:
            action = Action.ACCEPT
            self.issue("warning", f"{label} has no action (PAN-OS default 'allow' taken)", origin)
        elif action_text in ALLOW_ACTIONS:
            action = Action.ACCEPT
        elif action_text in DENY_ACTIONS:
            action = Action.DENY
        else:
            action = Action.ACCEPT
            self.issue(
                "unrecognised",
                f"{label}: unknown action {action_text!r} (taken as allow, so no path is hidden)",
                origin,
            )
        enabled = _text(fields.get("disabled")) != "yes"
        if not enabled:
            self.issue("disabled", f"{label} is disabled", origin)

        zones_from = self._zone_list(ctx, fields.get("from"), "from", label, origin)
        zones_to = self._zone_list(ctx, fields.get("to"), "to", label, origin)
        source = self._match(
            ctx,
            fields.get("source"),
            fields.get("negate-source"),
            "source",
            label,
            origin,
            assumptions,
        )
        destination = self._match(
            ctx,
            fields.get("destination"),
            fields.get("negate-destination"),
            "destination",
            label,
            origin,
            assumptions,
        )
        services, service_unresolved = self._rule_services(
            ctx, fields.get("service"), action, label, origin, assumptions
        )

        conditions: list[str] = []
        for name_ in CONDITION_FIELDS:
            if name_ in fields:
                conditions.extend(f"{name_}:{v}" for v in _members(fields[name_]) or () if v != ANY)
        if "schedule" in fields and (schedule := _text(fields["schedule"])):
            conditions.append(f"schedule:{schedule}")
        for tag in sorted(fields.keys() - MATCH_FIELDS - EFFECT_FIELDS):
            self.issue(
                "unrecognised",
                f"{label}: field {tag!r} not understood (taken as a condition segcheck cannot see)",
                origin,
            )
            conditions.append(f"{tag}:?")
        if conditions:
            if action is Action.ACCEPT:
                assumptions.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
            else:  # a deny that only applies to some applications/users: matches nothing
                services = ServiceSet()
                service_unresolved = (*service_unresolved, *conditions)

        rule_type = _text(fields.get("rule-type")) or "universal"
        if rule_type not in _RULE_TYPES:
            self.issue(
                "unrecognised",
                f"{label}: unknown rule-type {rule_type!r} (universal taken)",
                origin,
            )
            rule_type = "universal"
        pairs = self._zone_pairs(ctx, rule_type, zones_from, zones_to, label, origin)

        description = _text(fields.get("description"))
        tags = tuple(_members(fields.get("tag")) or ())
        return [
            Rule(
                id=f"{ctx.name}/{name}",
                action=action,
                source=source,
                destination=destination,
                services=services,
                origin=origin,
                from_zones=frm,
                to_zones=to,
                enabled=enabled,
                name=name,
                assumptions=_unique(assumptions),
                service_unresolved=_unique(service_unresolved),
                description=description,
                tags=tags,
                conditions=tuple(conditions),
            )
            for frm, to in pairs
        ]

    def _zone_list(
        self, ctx: _Ctx, elem: ET.Element | None, side: str, label: str, origin: Origin
    ) -> tuple[str, ...]:
        values = _members(elem)
        if not values:
            self.issue("warning", f"{label} has no '{side}' zone (any taken)", origin)
            return (ANY,)
        if ctx.zones is not None:
            for zone in values:
                if zone != ANY and zone not in ctx.zones:
                    self.issue("undefined", f"{label}: zone {zone!r} is not defined", origin)
        if ANY in values:
            return (ANY,)
        return tuple(dict.fromkeys(values))

    def _zone_pairs(
        self,
        ctx: _Ctx,
        rule_type: str,
        frm: tuple[str, ...],
        to: tuple[str, ...],
        label: str,
        origin: Origin,
    ) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(from, to) zone lists that together match what the rule type allows."""
        if rule_type == "universal":
            return [(frm, to)]
        has_any = ANY in frm or ANY in to
        if has_any and not ctx.zones:
            self.issue(
                "warning",
                f"{label}: {rule_type} rule with zone 'any' in a context without zone "
                "definitions (taken as universal)",
                origin,
            )
            return [(frm, to)]
        every = tuple(ctx.zones or ())
        sources = every if ANY in frm else frm
        targets = every if ANY in to else to
        if rule_type == "intrazone":
            if set(frm) != set(to):
                self.issue(
                    "warning",
                    f"{label}: intrazone rule with different from and to zones is never "
                    "matched (PAN-OS refuses it); skipped",
                    origin,
                )
                return []
            return [((zone,), (zone,)) for zone in sources]
        # interzone: from ≠ to
        if not set(sources) & set(targets):
            return [(frm, to)]
        pairs = []
        outside = tuple(z for z in sources if z not in targets)
        if outside:
            pairs.append((outside, targets))
        for zone in sources:
            if zone in targets:
                rest = tuple(z for z in targets if z != zone)
                if rest:
                    pairs.append(((zone,), rest))
        return pairs

    def _match(
        self,
        ctx: _Ctx,
        elem: ET.Element | None,
        negate_elem: ET.Element | None,
        side: str,
        label: str,
        origin: Origin,
        assumptions: list[Assumption],
    ) -> Match:
        negate = _text(negate_elem) == "yes"
        values = _members(elem)
        if not values:
            self.issue("warning", f"{label} has no {side} (nothing resolvable)", origin)
            return Match(AddressSet(), (f"({side} not set)",), negate)
        key = (id(ctx.scope), tuple(values))
        found = self._side_cache.get(key)
        if found is None:  # rules repeat the same lists: resolve each once per scope
            found = self._side_cache[key] = self._resolve_side(ctx.scope, values)
        addresses, unresolved, undefined = found
        for value in undefined:
            self.issue("undefined", f"{label}: address {value!r} is not defined", origin)
            assumptions.append(Assumption.UNDEFINED_OBJECT)
        if ANY in values:
            return _ANY_NEGATED if negate else _ANY_MATCH
        return Match(addresses, unresolved, negate)

    def _resolve_side(
        self, scope: _Scope, values: list[str]
    ) -> tuple[AddressSet, tuple[str, ...], tuple[str, ...]]:
        """(addresses, unresolved, undefined names) of one rule side's members."""
        parts: list[_Addr] = []
        undefined: list[str] = []
        for value in values:
            if value == ANY:
                continue
            found = self._address(scope, value)
            if found is None:
                undefined.append(value)
                parts.append(_Addr((), (f"{value} (undefined)",)))
            else:
                parts.append(found)
        if len(parts) == 1:  # an object's ranges are already canonical
            addresses = AddressSet(parts[0].ranges)
            unresolved = parts[0].unresolved
        else:
            ranges: list[IPRange] = []
            names: list[str] = []
            for part in parts:
                ranges.extend(part.ranges)
                names.extend(part.unresolved)
            addresses = AddressSet.of(ranges)
            unresolved = _unique(names)
        return addresses, unresolved, tuple(undefined)

    def _rule_services(
        self,
        ctx: _Ctx,
        elem: ET.Element | None,
        action: Action,
        label: str,
        origin: Origin,
        assumptions: list[Assumption],
    ) -> tuple[ServiceSet, tuple[str, ...]]:
        values = _members(elem)
        if not values:
            self.issue("warning", f"{label} has no service (nothing resolvable)", origin)
            return ServiceSet(), ("(service not set)",)
        key = (id(ctx.scope), tuple(values), action)
        found = self._service_cache.get(key)
        if found is None:
            found = self._service_cache[key] = self._resolve_services(ctx.scope, values, action)
        services, unresolved, undefined, taken = found
        for value in undefined:
            self.issue("undefined", f"{label}: service {value!r} is not defined", origin)
        assumptions.extend(taken)
        return services, unresolved

    def _resolve_services(
        self, scope: _Scope, values: list[str], action: Action
    ) -> tuple[ServiceSet, tuple[str, ...], tuple[str, ...], tuple[Assumption, ...]]:
        """(services, unresolved, undefined names, assumptions) of a rule's service list."""
        items: list[tuple[int, int, int]] = []
        unresolved: list[str] = []
        undefined: list[str] = []
        taken: list[Assumption] = []
        everything = ANY in values
        for value in values:
            if value == ANY:
                continue
            if value == APPLICATION_DEFAULT:
                if action is Action.ACCEPT:  # the applications' default ports: any port
                    if not everything:
                        taken.append(Assumption.APPLICATION_AS_ANY_SERVICE)
                    everything = True
                else:
                    unresolved.append(APPLICATION_DEFAULT)
                continue
            found = self._service(scope, value)
            if found is None:
                undefined.append(value)
                unresolved.append(f"{value} (undefined)")
                taken.append(Assumption.UNDEFINED_OBJECT)
                continue
            items.extend(found.items)
            unresolved.extend(found.unresolved)
            if found.restricted:
                if action is Action.ACCEPT:  # the source-port restriction is dropped: wider
                    items.extend(found.restricted)
                    taken.append(Assumption.UNRESOLVED_ALLOW_WIDENED)
                else:  # a deny on some source ports only: not denied here
                    unresolved.extend(f"{n} (source-port)" for n in found.restricted_names)
        if everything:
            return _EVERY_SERVICE, (), tuple(undefined), tuple(taken)
        return (
            ServiceSet.of(items),
            tuple(dict.fromkeys(unresolved)),
            tuple(undefined),
            tuple(taken),
        )

    # -- object resolution

    def _lookup(self, scope: _Scope | None, name: str, services: bool) -> _Object | None:
        while scope is not None:
            obj = (scope.services if services else scope.addresses).get(name)
            if obj is not None:
                obj.used = True
                return obj
            scope = scope.parent
        return None

    def _address(self, scope: _Scope, name: str) -> _Addr | None:
        """What an address name stands for in `scope`; None when it is undefined."""
        obj = self._lookup(scope, name, services=False)
        if obj is not None:
            return self._address_object(obj)
        if name in PREDEFINED_EDLS:
            return _Addr((), (f"{name} (external dynamic list)",))
        literal = _literal(name)
        if literal is not None:
            return _Addr((literal,))
        if _REGION_CODE.match(name):
            return _Addr((), (f"{name} (region)",))
        return None

    def _address_object(self, obj: _Object) -> _Addr:
        if isinstance(obj.value, _Addr):
            return obj.value
        origin = self.origin(obj.elem, obj.xpath)
        where = f"{obj.scope.label}: {obj.kind} {obj.name!r}"
        value: _Addr
        if obj.kind == "address":
            value = self._address_value(obj, where, origin)
        elif obj.kind == "address-group":
            if obj.resolving:
                self.issue("warning", f"{where} contains itself (cycle ignored)", origin)
                return _Addr(())
            if self._depth >= _MAX_NESTING:
                self.issue("warning", f"{where}: groups nested over {_MAX_NESTING} deep", origin)
                return _Addr((), (f"{obj.name} (nested too deep)",))
            obj.resolving = True
            self._depth += 1
            try:
                value = self._group_value(obj, where, origin)
            finally:
                obj.resolving = False
                self._depth -= 1
        elif obj.kind == "region":
            ranges = [r for r in map(_literal, _members(obj.elem.find("address")) or ()) if r]
            value = (
                _Addr(AddressSet.of(ranges).ranges)
                if ranges
                else _Addr((), (f"{obj.name} (region)",))
            )
        else:  # external-list
            value = _Addr((), (f"{obj.name} (external dynamic list)",))
        obj.value = value
        return value

    def _address_value(self, obj: _Object, where: str, origin: Origin) -> _Addr:
        elem = obj.elem
        netmask = _text(elem.find("ip-netmask"))
        if netmask is not None:
            literal = _literal(netmask) if "-" not in netmask else None
            if literal is None:
                self.issue("unrecognised", f"{where}: malformed ip-netmask {netmask!r}", origin)
                return _Addr((), (f"{obj.name} (malformed)",))
            return _Addr((literal,))
        ip_range = _text(elem.find("ip-range"))
        if ip_range is not None:
            literal = _literal(ip_range) if "-" in ip_range else None
            if literal is None:
                self.issue("unrecognised", f"{where}: malformed ip-range {ip_range!r}", origin)
                return _Addr((), (f"{obj.name} (malformed)",))
            return _Addr((literal,))
        fqdn = _text(elem.find("fqdn"))
        if fqdn is not None:
            return _Addr((), (f"{obj.name} (fqdn {fqdn})",))
        wildcard = _text(elem.find("ip-wildcard"))
        if wildcard is not None:
            return _Addr((), (f"{obj.name} (ip-wildcard {wildcard})",))
        self.issue("warning", f"{where} has no value", origin)
        return _Addr((), (f"{obj.name} (no value)",))

    def _group_value(self, obj: _Object, where: str, origin: Origin) -> _Addr:
        elem = obj.elem
        dynamic = elem.find("dynamic")
        if dynamic is not None:
            filter_text = _text(dynamic.find("filter")) or ""
            return _Addr((), (f"{obj.name} (dynamic group {filter_text})".replace(" )", ")"),))
        members = _members(elem.find("static"))
        if members is None:
            members = _members(elem) or []
        ranges: list[IPRange] = []
        unresolved: list[str] = []
        for member in members:
            found = self._address(obj.scope, member)
            if found is None:
                self.issue("undefined", f"{where}: member {member!r} is not defined", origin)
                unresolved.append(f"{member} (undefined)")
                continue
            ranges.extend(found.ranges)
            unresolved.extend(found.unresolved)
        return _Addr(tuple(AddressSet.of(ranges).ranges), tuple(dict.fromkeys(unresolved)))

    def _service(self, scope: _Scope, name: str) -> _Svc | None:
        obj = self._lookup(scope, name, services=True)
        if obj is not None:
            return self._service_object(obj)
        if name in PREDEFINED_SERVICES:
            return _Svc(PREDEFINED_SERVICES[name])
        return None

    def _service_object(self, obj: _Object) -> _Svc:
        if isinstance(obj.value, _Svc):
            return obj.value
        origin = self.origin(obj.elem, obj.xpath)
        where = f"{obj.scope.label}: {obj.kind} {obj.name!r}"
        if obj.kind == "service":
            value = self._service_value(obj, where, origin)
        else:
            if obj.resolving:
                self.issue("warning", f"{where} contains itself (cycle ignored)", origin)
                return _Svc(())
            if self._depth >= _MAX_NESTING:
                self.issue("warning", f"{where}: groups nested over {_MAX_NESTING} deep", origin)
                return _Svc((), (f"{obj.name} (nested too deep)",))
            obj.resolving = True
            self._depth += 1
            try:
                value = self._service_group_value(obj, where, origin)
            finally:
                obj.resolving = False
                self._depth -= 1
        obj.value = value
        return value

    def _service_value(self, obj: _Object, where: str, origin: Origin) -> _Svc:
        protocol = obj.elem.find("protocol")
        chosen = [p for p in protocol if p.tag in SERVICE_PROTOCOLS] if protocol is not None else []
        if not chosen:
            self.issue("warning", f"{where}: no tcp, udp or sctp protocol", origin)
            return _Svc((), (f"{obj.name} (no protocol)",))
        proto = SERVICE_PROTOCOLS[chosen[0].tag]
        port_text = _text(chosen[0].find("port"))
        ranges = _ports(port_text) if port_text else None
        if ranges is None:
            if port_text:
                self.issue("unrecognised", f"{where}: malformed port {port_text!r}", origin)
            else:
                self.issue("warning", f"{where}: no port", origin)
            return _Svc((), (f"{obj.name} (no usable port)",))
        items = tuple((proto, lo, hi) for lo, hi in ranges)
        source_port = _text(chosen[0].find("source-port"))
        if source_port:
            self.issue(
                "warning",
                f"{where}: source-port {source_port} is not modelled (allow rules match any "
                "source port; deny rules do not deny this service)",
                origin,
            )
            return _Svc((), (), items, (obj.name,))
        return _Svc(items)

    def _service_group_value(self, obj: _Object, where: str, origin: Origin) -> _Svc:
        members = _members(obj.elem.find("members"))
        if members is None:
            members = _members(obj.elem) or []
        items: list[tuple[int, int, int]] = []
        unresolved: list[str] = []
        restricted: list[tuple[int, int, int]] = []
        restricted_names: list[str] = []
        for member in members:
            if member == ANY:
                items.extend(_EVERY_SERVICE.items)
                continue
            if member == APPLICATION_DEFAULT:
                unresolved.append(APPLICATION_DEFAULT)
                continue
            found = self._service(obj.scope, member)
            if found is None:
                self.issue("undefined", f"{where}: member {member!r} is not defined", origin)
                unresolved.append(f"{member} (undefined)")
                continue
            items.extend(found.items)
            unresolved.extend(found.unresolved)
            restricted.extend(found.restricted)
            restricted_names.extend(found.restricted_names)
        return _Svc(
            ServiceSet.of(items).items,
            tuple(dict.fromkeys(unresolved)),
            ServiceSet.of(restricted).items,
            tuple(dict.fromkeys(restricted_names)),
        )

    def _unused(self) -> None:
        """Report objects nothing uses, then resolve every object for its own problems."""
        objects = [
            o
            for scope in self.scopes
            for t in (scope.addresses, scope.services)
            for o in t.values()
        ]
        unused = [o for o in objects if not o.used and o.kind not in ("external-list", "region")]
        for obj in objects:  # malformed values, cycles, undefined members, source ports
            if obj.kind in _SERVICE_KINDS:
                self._service_object(obj)
            else:
                self._address_object(obj)
        for obj in unused:
            self.issue(
                "unused",
                f"{obj.scope.label}: {obj.kind} {obj.name!r} is used by no rule, interface or route",
                self.origin(obj.elem, obj.xpath),
            )

    # -- interfaces and routes

    def _device_interfaces(
        self, device: ET.Element | None, dev_xpath: str
    ) -> list[_DeviceInterface]:
        if device is None:
            return []
        base = f"{dev_xpath}/network/interface"
        found: list[_DeviceInterface] = []
        interface = device.find("network/interface")
        if interface is None:
            return found

        def add(name: str, elem: ET.Element, xpath: str, holder: ET.Element | None) -> None:
            addresses: list[tuple[str, Origin]] = []
            if holder is not None:
                prefix = xpath if holder is elem else f"{xpath}/layer3"
                for path in ("ip", "ipv6/address"):
                    for text, ip in _entries(holder.find(path)):
                        if text:
                            where = _entry_xpath(f"{prefix}/{path}", text)
                            addresses.append((text, self.origin(ip, where)))
            found.append(_DeviceInterface(name, self.origin(elem, xpath), addresses))

        for kind in ("ethernet", "aggregate-ethernet"):
            for name, entry in _entries(interface.find(kind)):
                if not name:
                    continue
                xpath = _entry_xpath(f"{base}/{kind}", name)
                layer3 = entry.find("layer3")
                add(name, entry, xpath, layer3)
                if layer3 is not None:
                    for unit, unit_el in _entries(layer3.find("units")):
                        if unit:
                            unit_xpath = _entry_xpath(f"{xpath}/layer3/units", unit)
                            add(unit, unit_el, unit_xpath, unit_el)
                for sub in ("layer2", "virtual-wire"):
                    for unit, unit_el in _entries(entry.find(f"{sub}/units")):
                        if unit:
                            add(unit, unit_el, _entry_xpath(f"{xpath}/{sub}/units", unit), None)
        for kind in _LOGICAL_INTERFACES:
            logical = interface.find(kind)
            if logical is None:
                continue
            xpath = f"{base}/{kind}"
            add(kind, logical, xpath, logical)
            for unit, unit_el in _entries(logical.find("units")):
                if unit:
                    add(unit, unit_el, _entry_xpath(f"{xpath}/units", unit), unit_el)
        return found

    def _interfaces(self, ctx: _Ctx) -> list[Interface]:
        zone_of: dict[str, str] = {}
        for zone, members in (ctx.zones or {}).items():
            for member in members:
                if member in zone_of and zone_of[member] != zone:
                    self.issue(
                        "warning",
                        f"{ctx.name}: interface {member!r} is in zones {zone_of[member]!r} and "
                        f"{zone!r} (the first is used)",
                        ctx.zone_origins[zone],
                    )
                    continue
                zone_of.setdefault(member, zone)
        wanted = ctx.interface_names
        out: list[Interface] = []
        defined: set[str] = set()
        for iface in self._device_interfaces(ctx.device, ctx.device_xpath):
            defined.add(iface.name)
            if wanted is not None and iface.name not in wanted and iface.name not in zone_of:
                continue
            if wanted is None and not iface.addresses and iface.name not in zone_of:
                continue  # an unused port
            subnets: list[IPRange] = []
            own: list[IPRange] = []
            for text, origin in iface.addresses:
                pair = self._interface_ip(ctx, iface.name, text, origin)
                if pair is not None:
                    subnets.append(pair[0])
                    own.append(pair[1])
            out.append(
                Interface(
                    iface.name,
                    iface.origin,
                    zone_of.get(iface.name),
                    tuple(dict.fromkeys(subnets)),
                    tuple(dict.fromkeys(own)),
                )
            )
        for member, zone in zone_of.items():
            if member not in defined:
                self.issue(
                    "undefined",
                    f"{ctx.name}: zone {zone!r} names interface {member!r}, which is not defined",
                    ctx.zone_origins[zone],
                )
                out.append(Interface(member, ctx.zone_origins[zone], zone))
        return out

    def _interface_ip(
        self, ctx: _Ctx, name: str, text: str, origin: Origin
    ) -> tuple[IPRange, IPRange] | None:
        obj = self._lookup(ctx.scope, text, services=False)  # an object wins over a literal
        if obj is None:
            pair = _interface_address(text)
        else:
            value = _text(obj.elem.find("ip-netmask")) if obj.kind == "address" else None
            pair = _interface_address(value) if value else None
        if pair is None:
            self.issue(
                "undefined" if obj is None else "warning",
                f"{ctx.name}: interface {name!r} address {text!r} is "
                + ("not defined" if obj is None else "not an ip-netmask address object"),
                origin,
            )
        return pair

    def _routes(self, ctx: _Ctx, interfaces: list[Interface]) -> list[Route]:
        device = ctx.device
        if device is None:
            return []
        names = {i.name for i in interfaces}
        connected = [(s, i.name) for i in interfaces for s in i.subnets]
        tables: list[tuple[ET.Element, str]] = []
        base = f"{ctx.device_xpath}/network"
        for vr_name, vr in _entries(device.find("network/virtual-router")):
            tables.append((vr, _entry_xpath(f"{base}/virtual-router", vr_name or "")))
        for lr_name, lr in _entries(device.find("network/logical-router")):
            lr_xpath = _entry_xpath(f"{base}/logical-router", lr_name or "")
            for vrf_name, vrf in _entries(lr.find("vrf")):
                tables.append((vrf, _entry_xpath(f"{lr_xpath}/vrf", vrf_name or "")))
        routes: list[Route] = []
        for table, xpath in tables:
            for family in ("ip", "ipv6"):
                route_base = f"{xpath}/routing-table/{family}/static-route"
                for name, entry in _entries(table.find(f"routing-table/{family}/static-route")):
                    origin = self.origin(entry, _entry_xpath(route_base, name or ""))
                    route = self._route(ctx, name or "", entry, origin, connected)
                    if route is not None and route.interface in names:
                        routes.append(route)
        return routes

    def _route(
        self,
        ctx: _Ctx,
        name: str,
        entry: ET.Element,
        origin: Origin,
        connected: list[tuple[IPRange, str]],
    ) -> Route | None:
        dest_text = _text(entry.find("destination"))
        if dest_text is None:
            self.issue("warning", f"static route {name!r} has no destination", origin)
            return None
        destination = _literal(dest_text) if "-" not in dest_text else None
        if destination is None:
            found = self._address(ctx.scope, dest_text)
            if found is not None and len(found.ranges) == 1 and not found.unresolved:
                destination = found.ranges[0]
        if destination is None:
            self.issue(
                "warning",
                f"static route {name!r}: destination {dest_text!r} not resolvable",
                origin,
            )
            return None
        interface = _text(entry.find("interface"))
        nexthop = entry.find("nexthop")
        if nexthop is not None and nexthop.find("discard") is not None:
            return None  # a blackhole reaches nothing
        if interface is None:
            hop_text = None
            if nexthop is not None:
                hop_text = _text(nexthop.find("ip-address")) or _text(nexthop.find("ipv6-address"))
            hop = _literal(hop_text.split("/")[0]) if hop_text else None
            if hop is not None:
                interface = next(
                    (
                        owner
                        for subnet, owner in sorted(connected, key=lambda c: c[0].size)
                        if subnet.version == hop.version
                        and subnet.first <= hop.first <= subnet.last
                    ),
                    None,
                )
        if interface is None:
            self.issue(
                "warning",
                f"static route {name!r} to {dest_text}: no interface known (next-vr, FQDN or an "
                "unconnected next hop); the route is not used",
                origin,
            )
            return None
        return Route(destination, interface, origin)
