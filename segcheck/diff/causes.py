"""Why a finding changed: the plan changes that touch what the finding is about.

With two topologies, a finding's cause is read off the plan view, most direct evidence first:
the permits of its opening (added, removed, modified, renamed), the links, nodes and zones on
its witness path or at its ends, the channel that covered it before or covers it now, and the
services it names. Only when nothing on the finding itself changed are wider causes named: a
node added to or removed from one of its zones (counts), a change on a forwarder it crosses,
the profile. With result files there is no plan; causes then come from the results themselves
(a channel that expired, traffic seen or gone, an input that changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..findings import Finding
from ..model import Topology
from ..rules.ids import GEN_EXCEPTION_EXPIRED
from .identity import kind_of
from .model import (
    CAUSE_CHANNEL_EXPIRED,
    CAUSE_PLAN_CHANGED,
    CAUSE_SETTINGS_CHANGED,
    CAUSE_TRAFFIC_CHANGED,
    CAUSE_TRAFFIC_GONE,
    CAUSE_TRAFFIC_SEEN,
    CAUSE_UNKNOWN,
    Cause,
    PlanChange,
    Rename,
    Side,
    State,
)
from .plan import SETTING_FIELDS
from .reader import CAPTURE_KINDS

EXPIRED_RULE = GEN_EXCEPTION_EXPIRED

Attributed = list[tuple[Cause, int | None]]  # a cause and the plan change behind it, if any


@dataclass(frozen=True, slots=True)
class Subject:
    """What the attribution needs to know of one finding change."""

    state: State
    old: Finding | None
    new: Finding | None
    fields: frozenset[str]  # material fields that changed
    renamed: tuple[Rename, ...]
    was_excepted: str | None  # new: the channel that covered it in OLD
    now_channel: str | None  # excepted now: the channel that covers it in NEW


def _hops(finding: Finding | None) -> set[str]:
    if finding is None:
        return set()
    names = set(finding.path)
    for route in finding.routes:  # a finding by cause: every zone pair's example route
        names.update(route.path)
    for value in (finding.src_zone, finding.dst_zone, finding.src, finding.dst, finding.node):
        if value is not None:
            names.add(value)
    return names


def _zones(finding: Finding | None) -> set[str]:
    if finding is None:
        return set()
    zones = {z for z in (finding.src_zone, finding.dst_zone) if z is not None}
    for route in finding.routes:
        zones.update((route.src_zone, route.dst_zone))
    if finding.cause is not None:  # the zones a bridging forwarder or link joins
        zones.update(finding.cause.zones)
    return zones


def _services(finding: Finding | None) -> set[str]:
    if finding is None or finding.service is None:
        return set()
    return {s.strip() for s in finding.service.split(",") if s.strip()}


class PlanIndex:
    """The plan changes of two topologies, looked up by what findings name."""

    def __init__(self, changes: list[PlanChange], old: Topology, new: Topology, today: str) -> None:
        self.changes = changes
        self.today = today
        self.by: dict[tuple[str, str], list[int]] = {}
        self.links: list[tuple[frozenset[str], int]] = []
        self.permit_owner: dict[int, str] = {}
        self.node_zones: dict[int, set[str]] = {}
        self.new_topology = new
        for i, change in enumerate(changes):
            if change.category == "link":
                a, _, b = change.id.partition("--")
                self.links.append((frozenset((a, b)), i))
                continue
            for name in {change.id, change.old_id} - {None}:
                assert name is not None
                self.by.setdefault((change.category, name), []).append(i)
            if change.category == "permit" and change.owner is not None:
                self.permit_owner[i] = change.owner
            if change.category == "node":
                self.node_zones[i] = _zones_of(old, change.old_id or change.id) | _zones_of(
                    new, change.id
                )

    def get(self, category: str, name: str | None) -> list[int]:
        """Indices of the changes to one object (by its old or new name)."""
        if name is None:
            return []
        return self.by.get((category, name), [])

    def channel_expired(self, channel_id: str) -> bool:
        """True when NEW's channel of this id is past its expiry on the day of the diff."""
        for channel in self.new_topology.channels:
            if channel.id == channel_id:
                return channel.expires is not None and channel.expires.isoformat() < self.today
        return False


def _zones_of(topology: Topology, node_name: str) -> set[str]:
    node = topology.nodes.get(node_name)
    if node is None:
        return set()
    return {
        zone.name
        for zone in topology.zones.values()
        for ip in node.addresses
        if any(r.contains(ip) for r in zone.subnets)
    }


class _Collector:
    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self.out: Attributed = []
        self.seen: set[tuple[str, str]] = set()

    def add(self, i: int, kind: str | None = None) -> None:
        change = self.index.changes[i]
        cause = Cause(kind or change.kind, change.id)
        if (cause.kind, cause.subject) not in self.seen:
            self.seen.add((cause.kind, cause.subject))
            self.out.append((cause, i))

    def node(self, i: int) -> None:
        change = self.index.changes[i]
        if change.action == "modified" and {f for f, _, _ in change.fields} <= (
            SETTING_FIELDS | {"label"}
        ):
            self.add(i, CAUSE_SETTINGS_CHANGED)
        else:
            self.add(i)


def plan_causes(subject: Subject, index: PlanIndex) -> Attributed:
    """The causes of one finding change, from the plan view of two topologies."""
    c = _Collector(index)
    o, n = subject.old, subject.new
    for rename in subject.renamed:
        for i in index.get(rename.category, rename.new):
            c.add(i)
    kind = kind_of(n or o)  # type: ignore[arg-type]
    if kind == "node":
        for f in (o, n):
            for i in index.get("node", f.node if f else None):
                c.node(i)
        for i in index.get("profile", "profile"):
            c.add(i, CAUSE_SETTINGS_CHANGED)
        if not c.out:
            for zone in _zones(o) | _zones(n):
                for i in index.get("zone", zone):
                    c.add(i)
    elif kind == "channel":
        for f in (o, n):
            for i in index.get("channel", f.channel if f else None):
                _channel(c, i, (n or o).rule)  # type: ignore[union-attr]
    else:
        _path(c, subject, index)
    _exception(c, subject, index)
    if not c.out:
        _wider(c, subject, index)
    return c.out or [(Cause(CAUSE_UNKNOWN, ""), None)]


def _channel(c: _Collector, i: int, rule: str) -> None:
    change = c.index.changes[i]
    fields = {f for f, _, _ in change.fields}
    if (
        change.action == "modified"
        and rule == EXPIRED_RULE
        and "expires" in fields
        and c.index.channel_expired(change.id)
    ):
        c.add(i, CAUSE_CHANNEL_EXPIRED)
    else:
        c.add(i)


def _path(c: _Collector, subject: Subject, index: PlanIndex) -> None:
    o, n = subject.old, subject.new
    changes = index.changes
    for side, finding, actions in (("new", n, ("added", "modified", "renamed")),
                                   ("old", o, ("removed", "modified"))):  # fmt: skip
        if finding is None:
            continue
        for pid in finding.permits:
            for i in index.get("permit", pid):
                if changes[i].action in actions:
                    c.add(i)
        hops = _hops(finding)
        wanted = "added" if side == "new" else "removed"
        for ends, i in index.links:
            if changes[i].action == wanted and ends <= hops:
                c.add(i)
        for hop in sorted(hops):
            for i in index.get("node", hop):
                if changes[i].action in (wanted, "modified"):
                    c.node(i)
        for zone in sorted(_zones(finding)):
            for i in index.get("zone", zone):
                if changes[i].action in (wanted, "modified"):
                    c.add(i)
        for service in sorted(_services(finding)):
            for i in index.get("service", service):
                c.add(i)
    if "remediation" in subject.fields:
        _remediation(c, subject, index)
    if "count" in subject.fields:
        _members(c, subject, index)


def _remediation(c: _Collector, subject: Subject, index: PlanIndex) -> None:
    """A cut that changed: the permits and links it names that were added or removed."""
    changes = index.changes
    for finding, actions in ((subject.new, ("added", "modified", "renamed")),
                             (subject.old, ("removed", "modified"))):  # fmt: skip
        if finding is None or finding.remediation is None:
            continue
        rem = finding.remediation
        for pid in (*rem.remove_permits, *rem.narrow_permits):
            for i in index.get("permit", pid):
                if changes[i].action in actions:
                    c.add(i)
        for node in rem.remove_nodes:
            for i in index.get("node", node):
                if changes[i].action in actions:
                    c.node(i)
        cut = {frozenset(name.split("--", 1)) for name in finding.remediation.remove_links}
        for ends, i in index.links:
            if ends in cut and changes[i].action in actions:
                c.add(i)


def _members(c: _Collector, subject: Subject, index: PlanIndex) -> None:
    """Nodes added to, removed from or changed in one of the finding's zones."""
    zones = _zones(subject.old) | _zones(subject.new)
    for i, touched in sorted(index.node_zones.items()):
        # a rename keeps the addresses: it changes no zone's members
        if touched & zones and index.changes[i].action != "renamed":
            c.node(i)


def _exception(c: _Collector, subject: Subject, index: PlanIndex) -> None:
    """A channel that covered the finding before, or covers it now."""
    if subject.was_excepted is not None:
        for i in index.get("channel", subject.was_excepted):
            change = index.changes[i]
            if change.action == "modified" and index.channel_expired(change.id):
                c.add(i, CAUSE_CHANNEL_EXPIRED)
            else:
                c.add(i)
    if subject.now_channel is not None:
        for i in index.get("channel", subject.now_channel):
            c.add(i)


def _wider(c: _Collector, subject: Subject, index: PlanIndex) -> None:
    """Nothing on the finding itself changed: its zones' members, its forwarders, the profile."""
    _members(c, subject, index)
    hops = _hops(subject.old) | _hops(subject.new)
    for i, owner in sorted(index.permit_owner.items()):
        if owner in hops:
            c.add(i)
    for ends, i in index.links:
        if ends & hops:
            c.add(i)
    for i in index.get("profile", "profile"):
        c.add(i, CAUSE_SETTINGS_CHANGED)


def _plan_inputs(side: Side) -> set[tuple[str, str]]:
    return {(i.kind, i.sha256) for i in side.inputs if i.kind not in CAPTURE_KINDS}


def _capture_inputs(side: Side) -> set[str]:
    return {i.sha256 for i in side.inputs if i.kind in CAPTURE_KINDS}


def result_causes(subject: Subject, old: Side, new: Side) -> Attributed:
    """Causes without a plan view: from the two results themselves."""
    out: list[Cause] = []
    finding = subject.new or subject.old
    assert finding is not None
    expired_now = {f.channel for f in new.findings if f.rule == EXPIRED_RULE}
    expired_before = {f.channel for f in old.findings if f.rule == EXPIRED_RULE}
    if finding.rule == EXPIRED_RULE and finding.channel is not None:
        if subject.state is State.NEW:
            out.append(Cause(CAUSE_CHANNEL_EXPIRED, finding.channel))
    if subject.was_excepted is not None:
        cid = subject.was_excepted
        if cid in expired_now and cid not in expired_before:
            out.append(Cause(CAUSE_CHANNEL_EXPIRED, cid))
        elif new.channels is not None and cid not in new.channels:
            out.append(Cause("channel-removed", cid))
        elif new.channels is not None:
            out.append(Cause("channel-modified", cid))
    if subject.now_channel is not None:
        cid = subject.now_channel
        known_before = (
            cid in old.channels
            if old.channels is not None
            else any(f.channel == cid for f in old.excepted)
        )
        out.append(Cause("channel-modified" if known_before else "channel-added", cid))
    if kind_of(finding) == "flow" and _capture_inputs(old) != _capture_inputs(new):
        kind = {State.NEW: CAUSE_TRAFFIC_SEEN, State.FIXED: CAUSE_TRAFFIC_GONE}.get(
            subject.state, CAUSE_TRAFFIC_CHANGED
        )
        out.append(Cause(kind, _capture_names(new if subject.state is not State.FIXED else old)))
    if not out and _plan_inputs(old) != _plan_inputs(new):
        changed = sorted(i.path for i in new.inputs if (i.kind, i.sha256) not in _plan_inputs(old))
        out.append(Cause(CAUSE_PLAN_CHANGED, ", ".join(changed) or new.path))
    if not out and old.today != new.today and finding.rule == EXPIRED_RULE:
        out.append(Cause(CAUSE_CHANNEL_EXPIRED, finding.channel or ""))
    return [(cause, None) for cause in out] or [(Cause(CAUSE_UNKNOWN, ""), None)]


def _capture_names(side: Side) -> str:
    return ", ".join(i.path for i in side.inputs if i.kind in CAPTURE_KINDS)


def today_of(value: date | None) -> str:
    """`--today` as the ISO text both sides are judged on (default: today)."""
    return (value or date.today()).isoformat()


def effects(
    count: int, attributed: Iterable[tuple[int, State, bool, Attributed]]
) -> list[tuple[list[int], list[int], list[int]]]:
    """Per plan change: (opens, closes, touches) as indices of finding changes."""
    table: list[tuple[list[int], list[int], list[int]]] = [([], [], []) for _ in range(count)]
    for j, state, gates, causes in attributed:
        for _, i in causes:
            if i is None:
                continue
            opens, closes, touches = table[i]
            if gates:
                opens.append(j)
            elif state in (State.FIXED, State.EXCEPTED_NOW):
                closes.append(j)
            else:
                touches.append(j)
    return table
