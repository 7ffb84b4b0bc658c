"""The fix plan: one short, ordered list of changes that closes every path finding (issue 12).

The candidates are the items of the findings' own remediations (each closes every route of its
finding): a node to remove, a permit to remove or narrow, a forwarder's attachment to a zone, a
declared link. Steps are ordered by how many findings' remediations hold them, then by kind.
The plan is verified by applying it to the topology and checking again: greedily, step by step
for a short plan (a step whose findings are all closed already is dropped), then once as a
whole; a finding the re-check still shows adds its own remediation, a few rounds at most.
Narrowing a permit is checked as removing it (it must stop passing the finding's flows, and
whatever else it passes was allowed anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from ..addressing import AddressMap
from ..findings import ChangeKind, Finding, FixPlan, PlanStep
from ..model import PUBLIC_INTERNET_ZONE, Link, Node, Role, Topology
from ..policy import Policy
from ..rules.ids import LG_NO_INTERNET

MAX_ROUNDS = 3
PRUNE_STEPS = 12  # step-by-step re-checks only for plans this short (each is a full check)
_KIND_ORDER = {
    ChangeKind.REMOVE_NODE: 0,
    ChangeKind.REMOVE_ATTACHMENT: 1,
    ChangeKind.REMOVE_LINK: 2,
    ChangeKind.REMOVE_PERMIT: 3,
    ChangeKind.NARROW_PERMIT: 4,
}

Change = tuple[ChangeKind, str, str | None]  # kind, target, node


def _changes(topology: Topology, finding: Finding) -> list[tuple[Change, bool]]:
    """A finding's remediation as changes, each with its "disruptive" flag."""
    rem = finding.remediation
    if rem is None:
        return []
    owners = dict(((pid, owner) for owner, pid in rem.owners))
    out: list[tuple[Change, bool]] = []
    for node in rem.remove_nodes:
        out.append(((ChangeKind.REMOVE_NODE, node, node), False))
    declared = {link.name for link in topology.links}
    for name in rem.remove_links:
        disruptive = name in rem.disruptive
        if name in declared:
            out.append(((ChangeKind.REMOVE_LINK, name, None), disruptive))
        else:
            node, _ = split_attachment(topology, name)
            out.append(((ChangeKind.REMOVE_ATTACHMENT, name, node), disruptive))
    for pid in rem.remove_permits:
        out.append(((ChangeKind.REMOVE_PERMIT, pid, owners.get(pid)), False))
    for pid in rem.narrow_permits:
        out.append(((ChangeKind.NARROW_PERMIT, pid, owners.get(pid)), False))
    return out


def split_attachment(topology: Topology, name: str) -> tuple[str, str]:
    """(node, zone) of an attachment item `node--zone` (names may hold `--` themselves)."""
    zones = set(topology.zones) | {PUBLIC_INTERNET_ZONE.name}
    start = 0
    while (i := name.find("--", start)) >= 0:
        node, zone = name[:i], name[i + 2 :]
        if node in topology.nodes and zone in zones:
            return node, zone
        start = i + 1
    raise KeyError(name)


def apply_changes(topology: Topology, changes: Iterable[Change]) -> Topology:
    """A copy of the topology with the changes made (a narrowed permit is removed)."""
    nodes: dict[str, Node] = dict(topology.nodes)
    links: list[Link] = list(topology.links)
    addresses = AddressMap(topology.zones.values(), topology.nodes.values())
    for kind, target, node_name in changes:
        if kind is ChangeKind.REMOVE_NODE:
            nodes.pop(target, None)
            links = [link for link in links if target not in (link.a, link.b)]
        elif kind in (ChangeKind.REMOVE_PERMIT, ChangeKind.NARROW_PERMIT):
            owners = [node_name] if node_name else list(nodes)
            for owner in owners:
                node = nodes.get(owner)
                if node is not None and node.permits is not None:
                    kept = tuple(p for p in node.permits if p.id != target)
                    nodes[owner] = replace(node, permits=kept)
        elif kind is ChangeKind.REMOVE_LINK:
            links = [link for link in links if link.name != target]
        else:
            owner, zone = split_attachment(topology, target)
            node = nodes.get(owner)
            links = [link for link in links if {link.a, link.b} != {owner, zone}]
            if node is None:
                continue

            def zone_of(ip: object) -> str | None:
                info = addresses.lookup(ip)  # type: ignore[arg-type]
                if info.zone is not None:
                    return info.zone.name
                return PUBLIC_INTERNET_ZONE.name if info.scope.value == "public" else None

            kept_ips = tuple(ip for ip in node.addresses if zone_of(ip) != zone)
            nodes[owner] = replace(node, addresses=kept_ips)
    return replace(topology, nodes=nodes, links=tuple(links))


def _remaining(topology: Topology, today: date, changes: Sequence[Change]) -> list[Finding]:
    """The path findings a re-check of the changed topology still shows (excepted paths are
    listed apart and never counted)."""
    from .paths import analyse_paths

    changed = apply_changes(topology, changes)
    policy = Policy(changed, today)
    addresses = AddressMap(changed.zones.values(), changed.nodes.values())
    return list(analyse_paths(changed, policy, addresses).findings)


def _lbo_findings(topology: Topology, findings: Sequence[Finding]) -> list[Finding]:
    """LG-NO-INTERNET findings about an lbo-gateway itself (outside alpha-prime)."""
    out = []
    for f in findings:
        node = topology.nodes.get(f.node) if f.node else None
        if f.rule == LG_NO_INTERNET and node is not None and node.role is Role.LBO_GATEWAY:
            out.append(f)
    return out


def fix_plan(topology: Topology, today: date, findings: Sequence[Finding]) -> FixPlan | None:
    """The changes closing every path finding, ordered and verified by re-checking."""
    path_findings = [f for f in findings if f.cause is not None and f.remediation is not None]
    lbo_findings = _lbo_findings(topology, findings)
    if not path_findings and not lbo_findings:
        return None
    closes: dict[Change, list[str]] = {}
    disruptive: dict[Change, bool] = {}
    for finding in lbo_findings:  # the gateway is the finding: it goes
        assert finding.node is not None
        closes.setdefault((ChangeKind.REMOVE_NODE, finding.node, finding.node), []).append(
            finding.fingerprint
        )
    for finding in path_findings:
        for change, flag in _changes(topology, finding):
            closes.setdefault(change, []).append(finding.fingerprint)
            disruptive[change] = disruptive.get(change, False) or flag
    ordered = sorted(closes, key=lambda c: (-len(closes[c]), _KIND_ORDER[c[0]], c[1], c[2] or ""))
    chosen: list[Change] = []
    if len(ordered) <= PRUNE_STEPS:
        open_prints = {f.fingerprint for f in path_findings}
        lbo_steps = [c for c in ordered if any(f.fingerprint in closes[c] for f in lbo_findings)]
        if lbo_steps:
            chosen.extend(lbo_steps)
            left = {f.fingerprint for f in _remaining(topology, today, chosen)}
            closes[lbo_steps[0]].extend(sorted(open_prints - left))
            open_prints &= left
        for change in ordered:
            if change in chosen or not open_prints & set(closes[change]):
                continue  # every finding it was for is closed already
            chosen.append(change)
            left = {f.fingerprint for f in _remaining(topology, today, chosen)}
            # a step also closes the findings whose own fix it made unnecessary
            closes[change].extend(sorted(open_prints - left))
            open_prints &= left
    else:
        chosen = list(ordered)
    remaining = _remaining(topology, today, chosen)
    rounds = 0
    while remaining and rounds < MAX_ROUNDS:
        rounds += 1
        added = False
        for finding in remaining:
            for change, flag in _changes(topology, finding):
                closes.setdefault(change, []).append(finding.fingerprint)
                disruptive[change] = disruptive.get(change, False) or flag
                if change not in chosen:
                    chosen.append(change)
                    added = True
        if not added:
            break
        remaining = _remaining(topology, today, chosen)
    chosen.sort(key=lambda c: (-len(closes[c]), _KIND_ORDER[c[0]], c[1], c[2] or ""))
    steps = tuple(
        PlanStep(
            kind,
            target,
            node,
            tuple(dict.fromkeys(closes[(kind, target, node)])),
            disruptive.get((kind, target, node), False),
        )
        for kind, target, node in chosen
    )
    return FixPlan(steps, not remaining, len(remaining), len(path_findings) + len(lbo_findings))


__all__ = ["apply_changes", "fix_plan", "split_attachment"]
