"""Which finding of NEW is which finding of OLD.

Findings are matched level by level, each level only on what the previous ones left:

0. the `fingerprint` (rule and cause for a path, spec §6; rule and subject for a node or
   channel; rule, initiator, responder, protocol, responder port and VLANs for a flow);
1. the same identity with OLD's names translated into NEW's (a path's cause: the renamed
   forwarder, link ends or permits; renamed nodes and channels);
2. for a path, its rule, zone pair, opening and service in NEW's names: what identified a path
   before findings had causes, so that results written then still match;
3. a path whose opening is the same but whose service set changed (`updated`);
4. a path whose zone pair, rule and service are the same but whose opening moved to other
   permits (`updated`, "opening moved"), cf. sarif-sdk's multi-level matching.

Levels 3 and 4 pair only one-to-one: two candidates on either side stay new and fixed.

A path finding stands for its pairs under one cause only (its witness route's), though another
cause may open the same pairs: removing the first then credits them to the second. So a path
finding of NEW still unmatched whose cause an OLD finding of the same rule and a shared zone
pair already named in its remediation (the cut that closes every route of that finding) was
open before: it is `updated` from that OLD finding ("cause" changed), never new
(`known_causes`).
Capture findings sharing a fingerprint (the same violation from several client ports) are one
entry with an occurrence count.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from ..findings import CauseKind, Finding
from ..rules.ids import MN_SPECIFIED_COMM
from .model import Rename
from .plan import Renames

NO_RENAMES = Renames()


@dataclass(frozen=True, slots=True)
class Entry:
    """The findings of one side that share a fingerprint: the worst one, and how many."""

    finding: Finding
    count: int

    @property
    def fingerprint(self) -> str:
        """The shared fingerprint."""
        return self.finding.fingerprint


def entries(findings: Iterable[Finding]) -> dict[str, Entry]:
    """Findings grouped by fingerprint, first (worst, in spec §6 order) as representative."""
    out: dict[str, Entry] = {}
    for finding in findings:
        entry = out.get(finding.fingerprint)
        if entry is None:
            out[finding.fingerprint] = Entry(finding, 1)
        else:
            out[finding.fingerprint] = Entry(entry.finding, entry.count + 1)
    return out


def kind_of(finding: Finding) -> str:
    """`flow`, `path`, `node` (a node's own settings) or `channel` (the register)."""
    if finding.flow is not None:
        return "flow"
    if finding.path:
        return "path"
    if finding.node is not None:
        return "node"
    if finding.channel is not None:
        return "channel"
    return "path"


def opening(finding: Finding, names: Renames) -> tuple[str, ...]:
    """The permits that open a path finding, or the forwarders bridging it (path interior)."""
    if finding.permits:
        return tuple(names.permit(p) for p in finding.permits)
    return ("~", *(names.hop(h) for h in finding.path[1:-1]))


def _link_ends(name: str, names: Renames) -> str:
    """A link `a--b` in NEW's names, ends sorted (a link is an unordered pair)."""
    a, sep, b = name.partition("--")
    return "--".join(sorted((names.hop(a), names.hop(b)))) if sep else name


def _cause_element(kind: CauseKind, element: str, names: Renames) -> str:
    if kind is CauseKind.PERMITS:  # permit ids; an lbo-gateway in the chain by its node name
        return names.permits.get(element, names.nodes.get(element, element))
    if kind is CauseKind.LINK:
        return _link_ends(element, names)
    return names.hop(element)  # the bridging forwarder


def cause_key(finding: Finding, names: Renames) -> Hashable | None:
    """A path finding's identity (rule and cause, as its fingerprint) in NEW's names; None for
    other findings and for results written before findings had causes."""
    cause = finding.cause
    if cause is None:
        return None
    # as path_fingerprint: the channel is identity only for MN-SPECIFIED-COMM
    channel = names.channel(finding.channel) if finding.rule == MN_SPECIFIED_COMM else None
    elements = tuple(_cause_element(cause.kind, e, names) for e in cause.elements)
    return ("cause", finding.rule, cause.kind.value, elements, channel)


def exact_key(finding: Finding, names: Renames) -> Hashable:
    """The identity of a finding in NEW's names; for a path, the one it had before causes."""
    kind = kind_of(finding)
    if kind == "flow":
        fl = finding.flow
        assert fl is not None
        return ("flow", finding.rule, fl.src_ip, fl.dst_ip, fl.proto, fl.dst_port, fl.vlan,
                fl.inner_vlan)  # fmt: skip
    if kind == "node":
        return ("node", finding.rule, names.node(finding.node))
    if kind == "channel":
        return ("channel", finding.rule, names.channel(finding.channel))
    return (
        "path",
        finding.rule,
        names.zone(finding.src_zone),
        names.zone(finding.dst_zone),
        opening(finding, names),
        finding.service,
        names.channel(finding.channel),
    )


def _without_service(finding: Finding, names: Renames) -> Hashable | None:
    if kind_of(finding) != "path":
        return None
    return (finding.rule, names.zone(finding.src_zone), names.zone(finding.dst_zone),
            opening(finding, names), names.channel(finding.channel))  # fmt: skip


def _opening_moved(finding: Finding, names: Renames) -> Hashable | None:
    if kind_of(finding) != "path":
        return None
    return (finding.rule, names.zone(finding.src_zone), names.zone(finding.dst_zone),
            finding.service, names.channel(finding.channel))  # fmt: skip


KeyFn = Callable[[Finding, Renames], Hashable | None]
LEVELS: tuple[tuple[KeyFn, bool], ...] = (
    (cause_key, False),  # (key, one-to-one only)
    (exact_key, False),
    (_without_service, True),
    (_opening_moved, True),
)


def match(
    olds: dict[str, Entry], news: dict[str, Entry], names: Renames
) -> list[tuple[Entry, Entry]]:
    """Pair OLD and NEW entries; matched ones are removed from both dicts (in place)."""
    pairs: list[tuple[Entry, Entry]] = []
    for fp in list(olds):
        if fp in news:
            pairs.append((olds.pop(fp), news.pop(fp)))
    for key_fn, unique in LEVELS:
        if not olds or not news:
            break
        by_old = _index(olds.values(), key_fn, names)
        by_new = _index(news.values(), key_fn, NO_RENAMES)
        for key, old_group in by_old.items():
            new_group = by_new.get(key)
            if not new_group or len(old_group) != len(new_group):
                continue
            if unique and len(old_group) != 1:
                continue
            for o, n in zip(old_group, new_group, strict=True):
                pairs.append((olds.pop(o.fingerprint), news.pop(n.fingerprint)))
    return pairs


def _cut_names(finding: Finding, names: Renames) -> set[str]:
    """What an OLD finding's remediation names, in NEW's names: permits, forwarders, links (a
    declared link by its sorted ends, a forwarder's attachment `node--zone` by its node)."""
    rem = finding.remediation
    if rem is None:
        return set()
    out = {names.permit(p) for p in (*rem.remove_permits, *rem.narrow_permits)}
    out.update(names.hop(n) for n in rem.remove_nodes)
    for link in rem.remove_links:
        out.add(_link_ends(link, names))
        out.add(names.hop(link.partition("--")[0]))
    return out


def _zone_pairs(finding: Finding, names: Renames) -> set[tuple[str | None, str | None]]:
    pairs = {(names.zone(r.src_zone), names.zone(r.dst_zone)) for r in finding.routes}
    pairs.add((names.zone(finding.src_zone), names.zone(finding.dst_zone)))
    return pairs


def _known(o: Finding, n: Finding, names: Renames) -> int:
    """How many zone pairs the two share when OLD's remediation named NEW's cause (same rule
    and, for MN-SPECIFIED-COMM, channel); 0 when it did not."""
    cause = n.cause
    if cause is None or o.rule != n.rule or kind_of(o) != "path" or kind_of(n) != "path":
        return 0
    if n.rule == MN_SPECIFIED_COMM and names.channel(o.channel) != n.channel:
        return 0
    if not set(cause.elements) & _cut_names(o, names):
        return 0
    return len(_zone_pairs(n, NO_RENAMES) & _zone_pairs(o, names))


def known_causes(
    olds: dict[str, Entry],
    news: dict[str, Entry],
    matched: Iterable[tuple[Entry, Entry]],
    names: Renames,
) -> list[tuple[Entry, Entry]]:
    """Pairs that another cause, named by OLD's remediation, opens now (the module's note).

    A NEW finding left unmatched is paired with such an OLD finding, an unmatched one first,
    else one already matched; then an OLD finding left unmatched with such a NEW finding
    already matched (its pairs moved to a cause that had pairs of its own): not fixed. Paired
    entries leave the dicts.
    """
    matched = list(matched)
    pairs: list[tuple[Entry, Entry]] = []

    def best(pool: Iterable[tuple[int, Entry, int]]) -> Entry | None:
        """The candidate of lowest rank sharing the most zone pairs (then by fingerprint)."""
        found: tuple[tuple[int, int, str], Entry] | None = None
        for rank, entry, shared in pool:
            key = (rank, -shared, entry.fingerprint)
            if shared and (found is None or key < found[0]):
                found = (key, entry)
        return None if found is None else found[1]

    used: set[str] = set()
    for fp in sorted(news):
        n = news[fp].finding
        pool = [(0, o, _known(o.finding, n, names)) for o in olds.values()]
        pool += [(1, o, _known(o.finding, n, names)) for o, _ in matched]
        old = best(pool)
        if old is not None:
            pairs.append((old, news.pop(fp)))
            if old.fingerprint in olds:
                used.add(old.fingerprint)
    for fp in sorted(olds):
        if fp in used:
            continue
        o = olds[fp].finding
        new = best((1, e, _known(o, e.finding, names)) for _, e in matched)
        if new is not None:
            pairs.append((olds[fp], new))
            used.add(fp)
    for fp in used:
        del olds[fp]
    return pairs


def _index(items: Iterable[Entry], key_fn: KeyFn, names: Renames) -> dict[Hashable, list[Entry]]:
    index: dict[Hashable, list[Entry]] = {}
    for entry in items:
        key = key_fn(entry.finding, names)
        if key is not None:
            index.setdefault(key, []).append(entry)
    return index


def renames_in(finding: Finding, names: Renames) -> tuple[Rename, ...]:
    """The renamed names an OLD finding carries (zones, nodes, permits, channel)."""
    if not names:
        return ()
    found: dict[tuple[str, str], Rename] = {}

    def note(category: str, table: dict[str, str], name: str | None) -> None:
        if name is not None and name in table:
            found.setdefault((category, name), Rename(category, name, table[name]))

    zones = [finding.src_zone, finding.dst_zone]
    zones += (z for r in finding.routes for z in (r.src_zone, r.dst_zone))
    for zone in zones:
        note("zone", names.zones, zone)
    note("node", names.nodes, finding.node)
    cause = finding.cause
    if cause is not None:
        for element in cause.elements:
            if cause.kind is CauseKind.LINK:
                a, _, b = element.partition("--")
                note("node", names.nodes, a)
                note("node", names.nodes, b)
                continue
            if cause.kind is CauseKind.PERMITS:
                note("permit", names.permits, element)
            note("node", names.nodes, element)  # a forwarder, or an lbo-gateway in a chain
    for permit in finding.permits:
        note("permit", names.permits, permit)
    if not finding.permits:
        for hop in finding.path[1:-1]:
            note("node", names.nodes, hop)
    note("channel", names.channels, finding.channel)
    return tuple(found.values())
