"""The diff as JSON (`"kind": "diff"`, schema 1): both sides, findings with state and causes,
plan changes by category with the findings each opens, closes or touches."""

from __future__ import annotations

import json
from typing import Any

from ..report.json import SCHEMA_VERSION, drift_dict, finding_dict
from .model import Diff, DriftChange, FindingChange, PlanChange, Side
from .plan import ACTION_ORDER, CATEGORY_ORDER


def side_dict(side: Side) -> dict[str, Any]:
    """One side: what it is, what it read, the day it was judged on, its run guid."""
    return {
        "path": side.path,
        "kind": side.kind,
        "command": side.command,
        "sha256": side.sha256,
        "today": side.today,
        "guid": side.guid,
        "topology": {"name": side.name, "profile": side.profile},
        "tool_version": side.tool_version,
        "evidence": side.evidence,
        "inputs": [{"path": i.path, "kind": i.kind, "sha256": i.sha256} for i in side.inputs],
    }


def change_dict(change: FindingChange, lang: str) -> dict[str, Any]:
    """One finding of the findings view: spec §6's finding (NEW's, or OLD's when fixed)
    plus its state, causes and what changed."""
    out = finding_dict(change.finding, lang)
    if change.old is not None and change.new is not None:
        if change.old.fingerprint != change.new.fingerprint:
            out["old_fingerprint"] = change.old.fingerprint
    out["state"] = change.state.value
    out["baseline_state"] = change.state.sarif
    out["escalated"] = change.escalated
    out["causes"] = [{"kind": c.kind, "subject": c.subject} for c in change.causes]
    out["changes"] = {field: [before, after] for field, before, after in change.changes}
    out["renamed"] = [{"category": r.category, "old": r.old, "new": r.new} for r in change.renamed]
    out["occurrences"] = [change.old_count, change.new_count]
    ch = change.channel
    out["channel_now"] = (
        None
        if ch is None
        else {
            "id": ch.id,
            "approved_by": ch.approved_by,
            "expires": ch.expires,
            "ticket": ch.ticket,
            "reason": ch.reason,
        }  # fmt: skip
    )
    out["was_excepted"] = change.was_excepted
    return out


def drift_change_dict(change: DriftChange, lang: str) -> dict[str, Any]:
    """One drift as `log_join.drift` holds it (NEW's, or OLD's when fixed) and its state."""
    return {
        **drift_dict(change.drift, lang),
        "state": change.state.value,
        "baseline_state": change.state.sarif,
    }


def _plan_item(diff: Diff, change: PlanChange) -> dict[str, Any]:
    def refs(indices: tuple[int, ...]) -> list[dict[str, str]]:
        return [
            {
                "fingerprint": diff.findings[j].finding.fingerprint,
                "rule": diff.findings[j].finding.rule,
                "severity": diff.findings[j].severity.value,
                "state": diff.findings[j].state.value,
            }
            for j in indices
        ]

    item: dict[str, Any] = {"id": change.id}
    if change.old_id is not None:
        item["old_id"] = change.old_id
    if change.owner is not None:
        item["owner"] = change.owner
    if change.before:
        item["before"] = dict(change.before)
    if change.after:
        item["after"] = dict(change.after)
    if change.fields:
        item["fields"] = {field: [a, b] for field, a, b in change.fields}
    item["opens"] = refs(change.opens)
    item["closes"] = refs(change.closes)
    item["touches"] = refs(change.touches)
    return item


def plan_dict(diff: Diff) -> dict[str, Any] | None:
    """Plan changes as {category: {action: [items]}} (None when a side is a result)."""
    if diff.plan is None:
        return None
    out: dict[str, Any] = {
        f"{c}s": {a: [] for a in ACTION_ORDER} for c in CATEGORY_ORDER if c != "profile"
    }
    out["profile"] = None
    for change in diff.plan:
        if change.category == "profile":
            _, before, after = change.fields[0]
            out["profile"] = [before, after]
            continue
        out[f"{change.category}s"][change.action].append(_plan_item(diff, change))
    return out


def diff_dict(diff: Diff, lang: str) -> dict[str, Any]:
    """The whole diff as a JSON-ready dict (`drift` only when a side has drift)."""
    out = {
        "schema_version": SCHEMA_VERSION,
        "kind": "diff",
        "tool": {"name": "segcheck", "version": diff.tool_version},
        "generated_at": diff.generated_at,
        "today": diff.new.today,
        "fail_on": diff.fail_on.value,
        "exit_status": diff.exit_status(),
        "old": side_dict(diff.old),
        "new": side_dict(diff.new),
        "notes": list(diff.notes),
        "summary": diff.summary(),
        "findings": [change_dict(c, lang) for c in diff.findings],
        "plan_changes": plan_dict(diff),
    }
    if diff.drift:  # results of scans of firewall logs only (older diffs keep their bytes)
        out["drift_summary"] = diff.drift_summary()
        out["drift"] = [drift_change_dict(c, lang) for c in diff.drift]
    return out


def render(diff: Diff, lang: str = "en", *, show_unchanged: bool = True) -> str:
    """Pretty, stable JSON; every finding is listed (unchanged too)."""
    del show_unchanged  # machine output always carries everything
    return json.dumps(diff_dict(diff, lang), ensure_ascii=False, indent=2) + "\n"
