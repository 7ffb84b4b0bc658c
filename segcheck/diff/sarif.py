"""The diff as SARIF 2.1.0: one run for NEW whose every result has a `baselineState`.

New, updated and unchanged results carry NEW's data; fixed ones are `absent` results with
OLD's data; a finding a channel covers now is an `updated` result with an accepted
suppression naming the channel. `automationDetails.guid` is NEW's run guid and `baselineGuid`
OLD's, both uuid5 of the inputs' hashes (report.sarif.run_guid), so they name the same runs as
the plain SARIF of `check` or `scan` on those inputs. For GitHub code scanning upload the plain
`check --format sarif` (code scanning keeps its own baseline); this SARIF is for review tools.
"""

from __future__ import annotations

import json
from typing import Any

from ..report.sarif import (
    FINGERPRINT_KEY,
    LEVELS,
    RULE_INDEX,
    SARIF_SCHEMA,
    SARIF_VERSION,
    SRCROOT,
    SRCROOT_DESCRIPTION,
    _artifact_location,
    _drift_result,
    _properties,
    _rule_descriptor,
)
from ..rules import RULES, RULES_VERSION
from .json_format import plan_dict
from .model import Diff, FindingChange, State


def _result(change: FindingChange, lang: str, artifact_index: dict[str, int]) -> dict[str, Any]:
    finding = change.finding
    loc = finding.location
    physical: dict[str, Any] = {
        "artifactLocation": _artifact_location(loc.path, artifact_index.get(loc.path))
    }
    if loc.line is not None and loc.frame is None:
        physical["region"] = {"startLine": loc.line}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": RULE_INDEX[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.text(lang)},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": change.state.sarif,
    }
    if change.state is State.EXCEPTED_NOW and change.channel is not None:
        ch = change.channel
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": ch.reason or f"channel {ch.id}",
                "properties": {
                    "channel": ch.id,
                    "approved_by": ch.approved_by,
                    "expires": ch.expires,
                    "ticket": ch.ticket,
                },
            }
        ]
    props = _properties(finding)
    props["state"] = change.state.value
    props["escalated"] = change.escalated
    props["causes"] = [{"kind": c.kind, "subject": c.subject} for c in change.causes]
    if change.changes:
        props["changes"] = {field: [a, b] for field, a, b in change.changes}
    if change.renamed:
        props["renamed"] = [
            {"category": r.category, "old": r.old, "new": r.new} for r in change.renamed
        ]
    if change.old is not None and change.new is not None:
        if change.old.fingerprint != change.new.fingerprint:
            props["old_fingerprint"] = change.old.fingerprint
    props["occurrences"] = [change.old_count, change.new_count]
    result["properties"] = props
    return result


def sarif_dict(diff: Diff, lang: str = "en") -> dict[str, Any]:
    """The SARIF log of a diff as a JSON-ready dict."""
    artifacts: list[dict[str, Any]] = []
    artifact_index: dict[str, int] = {}
    for side, items in (("new", diff.new.inputs), ("old", diff.old.inputs)):
        for item in items:
            if item.path in artifact_index:
                continue
            artifact_index[item.path] = len(artifacts)
            artifacts.append(
                {
                    "location": _artifact_location(item.path, None),
                    "roles": ["analysisTarget"],
                    "hashes": {"sha-256": item.sha256},
                    "properties": {"kind": item.kind, "side": side},
                }
            )
    results = [_result(c, lang, artifact_index) for c in diff.findings]
    # Drift: GEN-CONFIG-DRIFT results, as `scan` writes them, each with its baselineState.
    for change in diff.drift:
        drift = _drift_result(change.drift, artifact_index, lang)
        drift["baselineState"] = change.state.sarif
        drift["properties"]["state"] = change.state.value
        results.append(drift)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "segcheck",
                "version": diff.tool_version,
                "semanticVersion": diff.tool_version,
                "rules": [_rule_descriptor(rule) for rule in RULES],
                "properties": {"rules_version": RULES_VERSION},
            }
        },
        "invocations": [
            {
                "executionSuccessful": diff.new.evidence != "unusable",
                "endTimeUtc": diff.generated_at,
            }
        ],
        "automationDetails": {"guid": diff.new.guid},
        "baselineGuid": diff.old.guid,
        "originalUriBaseIds": {SRCROOT: {"description": {"text": SRCROOT_DESCRIPTION}}},
        "artifacts": artifacts,
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "command": "diff",
            "old": {"path": diff.old.path, "sha256": diff.old.sha256, "today": diff.old.today},
            "new": {"path": diff.new.path, "sha256": diff.new.sha256, "today": diff.new.today},
            "fail_on": diff.fail_on.value,
            "exit_status": diff.exit_status(),
            "summary": diff.summary(),
            "plan_changes": plan_dict(diff),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(diff: Diff, lang: str = "en", *, show_unchanged: bool = True) -> str:
    """SARIF 2.1.0 JSON; every finding is a result (unchanged ones too, as SARIF expects)."""
    del show_unchanged
    return json.dumps(sarif_dict(diff, lang), ensure_ascii=False, indent=2) + "\n"
