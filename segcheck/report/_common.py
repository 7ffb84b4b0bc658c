"""What every formatter says the same way: locations, a finding's facts, flow and fix dicts.

Each formatter owns its wire format (layout, escaping, arrows); the pieces here are the ones
that must not drift between formats. JSON and SARIF both carry `flow_dict`, whose keys the
flow fingerprint depends on (the inner VLAN), and every text format lists a finding's facts in
the order and under the conditions of `finding_facts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..findings import (
    Cause,
    ConversationEvidence,
    Finding,
    FixPlan,
    FlowEvidence,
    Location,
    Remediation,
    RouteGroup,
)
from ..findings import endpoint_text as _endpoint_text
from ..model import TIER_NAMES_JA, Tier
from .labels import Lang

# finding_facts keys that belong together under one "fix" heading
FIX_KEYS = ("remove_nodes", "remove_permits", "narrow_permits", "remove_links", "disruptive")
# the label of one item of each (formats that name every item on its own)
ONE_FIX = {
    "remove_nodes": "remove_node",
    "remove_permits": "remove_permit",
    "narrow_permits": "narrow_permit",
    "remove_links": "remove_link",
    "disruptive": "disruptive_item",
}


def where(location: Location, frame_mark: str = "#") -> str:
    """`path#frame` for a capture finding, `path:line` for a topology one, else the path.

    A location is either a topology line or a capture frame, never both; the frame wins.
    """
    if location.frame is not None:
        return f"{location.path}{frame_mark}{location.frame}"
    if location.line is not None:
        return f"{location.path}:{location.line}"
    return location.path


def endpoint_text(name: str | None, unassigned: bool, lang: str) -> str:
    """An example end: a node or address as is, the unassigned addresses of a subnet said as
    such ("unassigned addresses of 10.30.30.0/24"), never as a host."""
    return _endpoint_text(name, unassigned, Lang.of(lang).value)


def endpoints(finding: Finding, arrow: str = " -> ", lang: str = "en") -> str | None:
    """A finding's ends as `src -> dst`, or None when there is nothing more to say.

    A finding about one node's own settings has no destination: its one end is the node, which
    formatters show on its own line, so nothing is returned (never `node -> None`). A finding
    that names a single other end shows that end alone (a lone destination after the arrow).
    The unassigned addresses of a subnet are said as such.
    """
    src = endpoint_text(finding.src, finding.src_unassigned, lang) or None
    dst = endpoint_text(finding.dst, finding.dst_unassigned, lang) or None
    if src is not None and dst is not None:
        return f"{src}{arrow}{dst}"
    if src is not None:
        return None if src == finding.node else src
    return None if dst is None else f"{arrow.strip()} {dst}"


def finding_facts(finding: Finding) -> list[tuple[str, tuple[str, ...]]]:
    """The witness facts a finding lists, in order: (label key, items), only those it has.

    `path` (hops of the witness path), `permits` (those opening it), then the fix (FIX_KEYS),
    which formatters show under one heading: `remove_nodes`, `remove_permits`,
    `narrow_permits` (they also carry allowed traffic), `remove_links`, and `disruptive` (the
    items of those that carry allowed traffic, chosen only because nothing cheaper closes it).
    """
    facts: list[tuple[str, tuple[str, ...]]] = []
    if finding.path:
        facts.append(("path", finding.path))
    if finding.permits:
        facts.append(("permits", finding.permits))
    rem = finding.remediation
    if rem is not None:
        for key in FIX_KEYS:
            items = getattr(rem, key)
            if items:
                facts.append((key, items))
    return facts


def tier_label(tier: Tier | str | None, lang: str) -> str:
    """A tier as reports name it: its Japanese name under `ja`, else its id ("" for None)."""
    if tier is None:
        return ""
    tier = Tier(tier)
    return TIER_NAMES_JA[tier] if Lang.of(lang) is Lang.JA else tier.value


def flow_dict(flow: FlowEvidence) -> dict[str, Any]:
    """The observed flow of a finding (spec §6 `flow`), as JSON and SARIF both carry it.

    A flow read from a log has `line`, `pivot` (the source system's id of the flow),
    `device_action` and `device_rule` (a firewall's own verdict and policy); null for packets.
    """
    return {
        "src_ip": flow.src_ip,
        "dst_ip": flow.dst_ip,
        "proto": flow.proto,
        "src_port": flow.src_port,
        "dst_port": flow.dst_port,
        "vlan": flow.vlan,
        "inner_vlan": flow.inner_vlan,
        "packets": flow.packets,
        "bytes": flow.bytes,
        "first_frame": flow.first_frame,
        "first_seen": flow.first_seen,
        "last_seen": flow.last_seen,
        "input": flow.input,
        "state": flow.state,
        "line": flow.line,
        "pivot": flow.pivot,
        "device_action": flow.device_action,
        "device_rule": flow.device_rule,
        "device": flow.device,
    }


def flow_at(flow: FlowEvidence, t: Mapping[str, str]) -> str:
    """Where a flow was seen: `line N` in a log, `frame N` in a capture."""
    if flow.line is not None:
        return f"{t['line']} {flow.line}"
    return f"{t['frame']} {flow.first_frame}"


def flow_source(flow: FlowEvidence, t: Mapping[str, str]) -> str:
    """What a log adds, to go back to its source: `, id 4414, device accept root/1`."""
    out = f", {t['pivot']} {flow.pivot}" if flow.pivot is not None else ""
    if flow.device_action is not None:
        rule = f" {flow.device_rule}" if flow.device_rule is not None else ""
        out += f", {t['device']} {flow.device_action}{rule}"
    return out


def conversation_dict(ev: ConversationEvidence) -> dict[str, Any]:
    """The flows a conversation finding stands for (SARIF `conversation`)."""
    return {
        "flows": ev.flows,
        "packets": ev.packets,
        "bytes": ev.bytes,
        "first_seen": ev.first_seen,
        "last_seen": ev.last_seen,
        "first_frame": ev.first_frame,
        "input": ev.input,
        "state": ev.state,
        "ports": list(ev.ports),
        "src_ips": list(ev.src_ips),
        "dst_ips": list(ev.dst_ips),
        # a log's first record, to go back to it (line, pivot, device verdict); a packet
        # flow's first frame and input are above
        "first_flow": None
        if ev.first_flow is None or ev.first_flow.line is None
        else flow_dict(ev.first_flow),
    }


def remediation_dict(remediation: Remediation) -> dict[str, Any]:
    """The cheapest fix of a finding (spec §6 `remediation`): the spec's two lists first, then
    what issue 12 added, and the node of every permit named."""
    owners: dict[str, list[str]] = {}
    for node, pid in remediation.owners:
        owners.setdefault(pid, []).append(node)
    return {
        "remove_permits": list(remediation.remove_permits),
        "remove_links": list(remediation.remove_links),
        "narrow_permits": list(remediation.narrow_permits),
        "remove_nodes": list(remediation.remove_nodes),
        "disruptive": list(remediation.disruptive),
        "permit_nodes": owners,
    }


def cause_dict(cause: Cause) -> dict[str, Any]:
    """A path finding's cause: its kind, the elements, the zones a forwarder or link joins."""
    return {
        "kind": cause.kind.value,
        "elements": list(cause.elements),
        "zones": list(cause.zones),
        "role": cause.role,
    }


def route_dict(route: RouteGroup, with_path: bool = True) -> dict[str, Any]:
    """One zone pair of a path finding: example ends, service, count (and route)."""
    out: dict[str, Any] = {
        "src_zone": route.src_zone,
        "dst_zone": route.dst_zone,
        "src_tier": route.src_tier,
        "dst_tier": route.dst_tier,
        "src": route.src,
        "dst": route.dst,
        "src_unassigned": route.src_unassigned,
        "dst_unassigned": route.dst_unassigned,
        "service": route.service,
        "count": route.count,
    }
    if with_path:
        out["path"] = list(route.path)
    return out


def plan_dict(plan: FixPlan | None) -> dict[str, Any] | None:
    """The fix plan: ordered changes, each with the fingerprints of the findings it closes."""
    if plan is None:
        return None
    return {
        "verified": plan.verified,
        "remaining": plan.remaining,
        "findings": plan.findings,
        "steps": [
            {
                "action": step.kind.value,
                "target": step.target,
                "node": step.node,
                "closes": len(step.closes),
                "findings": list(step.closes),
                "disruptive": step.disruptive,
            }
            for step in plan.steps
        ],
    }


def location_dict(location: Location) -> dict[str, Any]:
    """Where a finding points (JSON `location`)."""
    return {"path": location.path, "line": location.line, "frame": location.frame}
