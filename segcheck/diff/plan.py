"""The plan view: what changed between two topologies, object by object, by id.

Objects are compared by what they mean, never by where they are written: a permit that moved
down the file is not modified. Renames are found before comparing: a zone with the same tier
and subnets, a node with the same role and addresses, a permit with the same (forwarder, from,
to, service) or a channel with the same (from, to, service) under a new name is *renamed*, not
one removal and one addition. Imported permits (a node's `config:`) are compared like
hand-written ones, by the device's rule id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..model import Channel, ImportSummary, Node, Permit, Selector, SelectorKind, Service, Topology
from .model import PlanChange

CATEGORY_ORDER = ("permit", "link", "channel", "node", "zone", "service", "profile", "import")
ACTION_ORDER = ("removed", "added", "modified", "renamed")

Fields = tuple[tuple[str, str], ...]

# Node fields that are the node's own settings: a change to them alone is `settings-changed`.
SETTING_FIELDS = frozenset({"settings", "accepts", "delivers", "allow_destinations"})


@dataclass
class Renames:
    """Old name → new name per category, for translating OLD's names into NEW's."""

    zones: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    permits: dict[str, str] = field(default_factory=dict)  # bare ids, as findings name them
    channels: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.zones or self.nodes or self.permits or self.channels)

    def zone(self, name: str | None) -> str | None:
        """A zone's name in NEW."""
        return None if name is None else self.zones.get(name, name)

    def node(self, name: str | None) -> str | None:
        """A node's name in NEW."""
        return None if name is None else self.nodes.get(name, name)

    def hop(self, name: str) -> str:
        """A path hop (node, zone or address) in NEW's names."""
        return self.nodes.get(name, self.zones.get(name, name))

    def permit(self, pid: str) -> str:
        """A permit id in NEW."""
        return self.permits.get(pid, pid)

    def channel(self, cid: str | None) -> str | None:
        """A channel id in NEW."""
        return None if cid is None else self.channels.get(cid, cid)

    def link(self, name: str) -> str:
        """A remediation's link `a--b` in NEW's names."""
        a, sep, b = name.partition("--")
        return f"{self.hop(a)}--{self.hop(b)}" if sep else name


def _selector(sel: Selector, renames: Renames | None = None) -> str:
    if renames is None or sel.kind is SelectorKind.ANY or sel.kind is SelectorKind.CIDR:
        return sel.name
    if sel.kind is SelectorKind.ZONE:
        return renames.zone(sel.name) or sel.name
    return renames.node(sel.name) or sel.name


def _zone_fields(topology: Topology, name: str) -> Fields:
    zone = topology.zones[name]
    return (
        ("tier", zone.tier.value),
        ("subnets", ", ".join(str(s) for s in sorted(zone.subnets))),
        ("label", zone.label or ""),
    )


def _node_fields(node: Node) -> Fields:
    return (
        ("role", node.role.value),
        ("addresses", ", ".join(str(ip) for ip in sorted(node.addresses))),
        ("label", node.label or ""),
        ("settings", ", ".join(f"{k}={_value(v)}" for k, v in sorted(node.settings.items()))),
        ("accepts", ", ".join(node.accepts)),
        ("delivers", ", ".join(node.delivers)),
        ("allow_destinations", ", ".join(str(r) for r in node.allow_destinations)),
    )


def _node_key(node: Node) -> tuple[object, ...]:
    """What `_node_fields` shows, unformatted: cheap to compare for every node of a big plan."""
    return (
        node.role,
        tuple(sorted(node.addresses)),
        node.label,
        tuple(sorted((k, str(v)) for k, v in node.settings.items())),
        node.accepts,
        node.delivers,
        node.allow_destinations,
    )


class _Lazy(dict[str, Any]):
    """Fields by name, formatted on first use (most objects of a big plan never are).

    A dict underneath, so `name in lazy` stays a C lookup; only `lazy[name]` formats.
    """

    def __init__(self, names: Iterable[str], make: Callable[[str], Fields]) -> None:
        super().__init__(dict.fromkeys(names))
        self._make = make

    def __getitem__(self, name: str) -> Fields:
        fields: Fields | None = super().__getitem__(name)
        if fields is None:
            fields = self._make(name)
            super().__setitem__(name, fields)
        return fields


def _same_node(a: Node, b: Node) -> bool:
    """True when two nodes show the same fields (fast path first: same order, same values)."""
    if (
        a.role is b.role
        and a.addresses == b.addresses
        and a.label == b.label
        and a.settings == b.settings
        and a.accepts == b.accepts
        and a.delivers == b.delivers
        and a.allow_destinations == b.allow_destinations
    ):
        return True
    return _node_key(a) == _node_key(b)


def _value(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _permit_fields(permit: Permit, renames: Renames | None = None) -> Fields:
    fields: Fields = (
        ("from", _selector(permit.source, renames)),
        ("to", _selector(permit.destination, renames)),
        ("service", ", ".join(permit.services)),
    )
    if permit.name:
        fields += (("name", permit.name),)
    return fields


def _channel_fields(channel: Channel, renames: Renames | None = None) -> Fields:
    return (
        ("from", _selector(channel.source, renames)),
        ("to", _selector(channel.destination, renames)),
        ("service", ", ".join(channel.services)),
        ("reason", channel.reason),
        ("approved_by", channel.approved_by or ""),
        ("ticket", channel.ticket or ""),
        ("expires", channel.expires.isoformat() if channel.expires else ""),
    )


def _service_fields(service: Service) -> Fields:
    return (
        ("tcp", _ports(service.tcp)),
        ("udp", _ports(service.udp)),
        ("icmp", "true" if service.icmp else "false"),
    )


def _ports(ports: frozenset[int]) -> str:
    """Ports as sorted ranges (`25, 465, 587`, `1024-65535`)."""
    out: list[str] = []
    items = sorted(ports)
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ", ".join(out)


def _import_fields(item: ImportSummary, topology: Topology) -> Fields:
    # the file as the topology names it (relative to the topology), not where the copy lies
    base = os.path.dirname(topology.source.path)
    return (
        ("file", os.path.relpath(item.input.path, base or ".")),
        ("sha256", item.input.sha256),
        ("format", item.format),
        ("context", item.context),
        ("status", item.status),
        ("disabled", ", ".join(item.disabled)),
    )


def _modified(before: Fields, after: Fields) -> tuple[tuple[str, str, str], ...]:
    old = dict(before)
    new = dict(after)
    keys = dict.fromkeys([*old, *new])
    return tuple(
        (k, old.get(k, ""), new.get(k, "")) for k in keys if old.get(k, "") != new.get(k, "")
    )


def _pair_renames(
    removed: Iterable[str],
    added: Iterable[str],
    old_sig: Callable[[str], Hashable | None],
    new_sig: Callable[[str], Hashable | None],
) -> dict[str, str]:
    """Removed → added names whose signature matches one-to-one (ambiguity: no rename)."""
    by_old: dict[Hashable, list[str]] = {}
    by_new: dict[Hashable, list[str]] = {}
    for name in removed:
        sig = old_sig(name)
        if sig is not None:
            by_old.setdefault(sig, []).append(name)
    for name in added:
        sig = new_sig(name)
        if sig is not None:
            by_new.setdefault(sig, []).append(name)
    return {
        olds[0]: by_new[sig][0]
        for sig, olds in by_old.items()
        if len(olds) == 1 and len(by_new.get(sig, ())) == 1
    }


PermitKey = tuple[str, str]  # (owner, id): device ids repeat across devices


def _permits(topology: Topology) -> dict[PermitKey, Permit]:
    out: dict[PermitKey, Permit] = {}
    for node in topology.nodes.values():
        for permit in node.permits or ():
            out[(node.name, permit.id)] = permit
    return out


def _link_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _sort_key(change: PlanChange) -> tuple[int, int, str, str]:
    return (
        CATEGORY_ORDER.index(change.category),
        ACTION_ORDER.index(change.action),
        change.id,
        change.owner or "",
    )


def _compare(
    category: str,
    old: Mapping[str, Fields],
    new: Mapping[str, Fields],
    renamed: Mapping[str, str],
    translated: Callable[[str], Fields] | None = None,
    same: Callable[[str], bool] | None = None,
) -> list[PlanChange]:
    """Added, removed, modified and renamed objects of one category, keyed by name.

    `same(name)`, when given, says cheaply that an object present on both sides is unchanged.
    """
    changes: list[PlanChange] = []
    gone = set(renamed)
    came = set(renamed.values())
    for name in old:
        if name not in new and name not in gone:
            changes.append(PlanChange(category, "removed", name, before=old[name]))
    for name in new:
        if name not in old and name not in came:
            changes.append(PlanChange(category, "added", name, after=new[name]))
    for name in old:
        if name in new and (same is None or not same(name)):
            before = translated(name) if translated is not None else old[name]
            fields = _modified(before, new[name])
            if fields:
                changes.append(PlanChange(category, "modified", name, fields=fields))
    for old_name, new_name in renamed.items():
        before = translated(old_name) if translated is not None else old[old_name]
        fields = _modified(before, new[new_name])
        changes.append(
            PlanChange(
                category,
                "renamed",
                new_name,
                old_id=old_name,
                fields=fields,
                before=old[old_name],
                after=new[new_name],
            )
        )
    return changes


def plan_changes(
    old: Topology, new: Topology, today: date | None = None, *, renames: bool = True
) -> tuple[list[PlanChange], Renames]:
    """Every plan object added, removed, modified or renamed from `old` to `new`.

    `today` is unused in the comparison itself (both sides are judged on the same day); it is
    accepted so callers state it. Returns the changes (unsorted effects) and the renames.
    """
    del today
    found = Renames()
    changes: list[PlanChange] = []

    # zones: same tier and subnets under a new name
    old_z = {n: _zone_fields(old, n) for n in old.zones}
    new_z = {n: _zone_fields(new, n) for n in new.zones}
    if renames:
        found.zones = _pair_renames(
            [n for n in old_z if n not in new_z],
            [n for n in new_z if n not in old_z],
            lambda n: (old.zones[n].tier, tuple(sorted(old.zones[n].subnets))),
            lambda n: (new.zones[n].tier, tuple(sorted(new.zones[n].subnets))),
        )
    changes += _compare("zone", old_z, new_z, found.zones)

    # nodes: same role and addresses under a new name
    old_n = _Lazy(old.nodes, lambda n: _node_fields(old.nodes[n]))
    new_n = _Lazy(new.nodes, lambda n: _node_fields(new.nodes[n]))
    if renames:
        found.nodes = _pair_renames(
            [n for n in old_n if n not in new_n],
            [n for n in new_n if n not in old_n],
            lambda n: (old.nodes[n].role, tuple(sorted(old.nodes[n].addresses))),
            lambda n: (new.nodes[n].role, tuple(sorted(new.nodes[n].addresses))),
        )
    changes += _compare(
        "node",
        old_n,
        new_n,
        found.nodes,
        same=lambda n: _same_node(old.nodes[n], new.nodes[n]),
    )

    # permits: by (forwarder, id); same forwarder, from, to and service under a new id
    old_p = _permits(old)
    new_p = _permits(new)
    permit_pairs: dict[PermitKey, PermitKey] = {}
    if renames:
        old_targets = {(found.node(o) or o, pid) for (o, pid) in old_p}
        pairs = _pair_renames(
            [_join(k) for k in old_p if (found.node(k[0]) or k[0], k[1]) not in new_p],
            [_join(k) for k in new_p if k not in old_targets],
            lambda n: (found.hop(_split(n)[0]), _permit_fields(old_p[_split(n)], found)),
            lambda n: (_split(n)[0], _permit_fields(new_p[_split(n)])),
        )
        for o, n in pairs.items():
            permit_pairs[_split(o)] = _split(n)
            found.permits[_split(o)[1]] = _split(n)[1]
    changes += _permit_changes(old_p, new_p, found, permit_pairs)

    # links: unordered pairs, OLD's ends in NEW's names
    old_l = {_link_key(found.hop(x.a), found.hop(x.b)): x for x in old.links}
    new_l = {_link_key(x.a, x.b): x for x in new.links}
    for key, link in old_l.items():
        if key not in new_l:
            changes.append(PlanChange("link", "removed", link.name))
    for key, link in new_l.items():
        if key not in old_l:
            changes.append(PlanChange("link", "added", link.name))

    # channels: by id; same from, to and service under a new id
    old_c = {c.id: c for c in old.channels}
    new_c = {c.id: c for c in new.channels}
    if renames:
        found.channels = _pair_renames(
            [c for c in old_c if c not in new_c],
            [c for c in new_c if c not in old_c],
            lambda c: _channel_fields(old_c[c], found)[:3],
            lambda c: _channel_fields(new_c[c])[:3],
        )
    changes += _compare(
        "channel",
        {c: _channel_fields(x) for c, x in old_c.items()},
        {c: _channel_fields(x) for c, x in new_c.items()},
        found.channels,
        lambda c: _channel_fields(old_c[c], found),
    )

    # the service catalogue (built-in services are the same on both sides)
    changes += _compare(
        "service",
        {n: _service_fields(s) for n, s in old.services.items()},
        {n: _service_fields(s) for n, s in new.services.items()},
        {},
    )
    if old.profile is not new.profile:
        changes.append(
            PlanChange(
                "profile",
                "modified",
                "profile",
                fields=(("profile", old.profile.value, new.profile.value),),
            )
        )
    changes += _compare(
        "import",
        {i.node: _import_fields(i, old) for i in old.imports},
        {i.node: _import_fields(i, new) for i in new.imports},
        {},
    )
    return sorted(changes, key=_sort_key), found


def _join(key: PermitKey) -> str:
    return f"{key[0]}\x00{key[1]}"


def _split(name: str) -> PermitKey:
    owner, _, pid = name.partition("\x00")
    return owner, pid


def _permit_changes(
    old_p: Mapping[PermitKey, Permit],
    new_p: Mapping[PermitKey, Permit],
    found: Renames,
    pairs: Mapping[PermitKey, PermitKey],
) -> list[PlanChange]:
    changes: list[PlanChange] = []
    renamed_new = set(pairs.values())
    for key, permit in old_p.items():
        target = (found.node(key[0]) or key[0], key[1])
        if key in pairs:
            new_key = pairs[key]
            fields = _modified(_permit_fields(permit, found), _permit_fields(new_p[new_key]))
            changes.append(
                PlanChange(
                    "permit",
                    "renamed",
                    new_key[1],
                    old_id=key[1],
                    owner=new_key[0],
                    fields=fields,
                    before=_permit_fields(permit),
                    after=_permit_fields(new_p[new_key]),
                )
            )
        elif target in new_p and target not in renamed_new:
            fields = _modified(_permit_fields(permit, found), _permit_fields(new_p[target]))
            if fields:
                changes.append(
                    PlanChange("permit", "modified", key[1], owner=target[0], fields=fields)
                )
        else:
            changes.append(
                PlanChange("permit", "removed", key[1], owner=key[0], before=_permit_fields(permit))
            )
    old_targets = {(found.node(o) or o, pid) for (o, pid) in old_p}
    for key, permit in new_p.items():
        if key not in old_targets and key not in renamed_new:
            changes.append(
                PlanChange("permit", "added", key[1], owner=key[0], after=_permit_fields(permit))
            )
    return changes
