"""What every formatter says the same way: locations, a finding's facts, flow and fix dicts.

Each formatter owns its wire format (layout, escaping, arrows); the pieces here are the ones
that must not drift between formats. JSON and SARIF both carry `flow_dict`, whose keys the
flow fingerprint depends on (the inner VLAN), and every text format lists a finding's facts in
the order and under the conditions of `finding_facts`.
"""

from __future__ import annotations

from typing import Any

from ..findings import Finding, FlowEvidence, Location, Remediation
from ..model import TIER_NAMES_JA, Tier
from .labels import Lang

# finding_facts keys that belong together under one "fix" heading
FIX_KEYS = ("remove_permits", "remove_links")


def where(location: Location, frame_mark: str = "#") -> str:
    """`path#frame` for a capture finding, `path:line` for a topology one, else the path.

    A location is either a topology line or a capture frame, never both; the frame wins.
    """
    if location.frame is not None:
        return f"{location.path}{frame_mark}{location.frame}"
    if location.line is not None:
        return f"{location.path}:{location.line}"
    return location.path


def endpoints(finding: Finding, arrow: str = " -> ") -> str | None:
    """A finding's ends as `src -> dst`, or None when there is nothing more to say.

    A finding about one node's own settings has no destination: its one end is the node, which
    formatters show on its own line, so nothing is returned (never `node -> None`). A finding
    that names a single other end shows that end alone (a lone destination after the arrow).
    """
    src, dst = finding.src, finding.dst
    if src is not None and dst is not None:
        return f"{src}{arrow}{dst}"
    if src is not None:
        return None if src == finding.node else src
    return None if dst is None else f"{arrow.strip()} {dst}"


def finding_facts(finding: Finding) -> list[tuple[str, tuple[str, ...]]]:
    """The witness facts a finding lists, in order: (label key, items), only those it has.

    `path` (hops of the witness path), `permits` (those opening it), then the fix:
    `remove_permits` and `remove_links` (FIX_KEYS), which formatters show under one heading.
    """
    facts: list[tuple[str, tuple[str, ...]]] = []
    if finding.path:
        facts.append(("path", finding.path))
    if finding.permits:
        facts.append(("permits", finding.permits))
    rem = finding.remediation
    if rem is not None:
        if rem.remove_permits:
            facts.append(("remove_permits", rem.remove_permits))
        if rem.remove_links:
            facts.append(("remove_links", rem.remove_links))
    return facts


def tier_label(tier: Tier | str | None, lang: str) -> str:
    """A tier as reports name it: its Japanese name under `ja`, else its id ("" for None)."""
    if tier is None:
        return ""
    tier = Tier(tier)
    return TIER_NAMES_JA[tier] if Lang.of(lang) is Lang.JA else tier.value


def flow_dict(flow: FlowEvidence) -> dict[str, Any]:
    """The observed flow of a finding (spec §6 `flow`), as JSON and SARIF both carry it."""
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
        "input": flow.input,
        "state": flow.state,
    }


def remediation_dict(remediation: Remediation) -> dict[str, Any]:
    """The smallest fix of a finding (spec §6 `remediation`)."""
    return {
        "remove_permits": list(remediation.remove_permits),
        "remove_links": list(remediation.remove_links),
    }


def location_dict(location: Location) -> dict[str, Any]:
    """Where a finding points (JSON `location`)."""
    return {"path": location.path, "line": location.line, "frame": location.frame}
