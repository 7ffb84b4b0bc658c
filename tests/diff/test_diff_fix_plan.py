"""Issue 13, "Done when": apply the fix plan of a broken example, diff before and after.

The α example is broken three ways (a leftover router joining LGWAN and Internet, a permit too
wide on the inter-tier firewall, a two-firewall chain from My Number to the Internet); its fix
plan (issue 12) is applied, the result checked again, and the two checks diffed: every path
finding is fixed, nothing is new, and each plan step is a plan change that closes findings.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from segcheck.analysis.plan import apply_changes
from segcheck.diff import State, compare, side_from_report
from segcheck.engine import check
from segcheck.findings import ChangeKind

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 5, 1)


def broken_alpha() -> dict[str, Any]:
    with open(ROOT / "topologies" / "alpha.yaml", encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    nodes = data["nodes"]
    nodes["old-rtr"] = {"role": "router", "ip": ["10.2.0.99", "10.3.0.99"]}
    nodes["fw-lg-inet"]["permit"].append(
        {"id": "LI-90", "from": "lg-term-001", "to": "inet", "service": "any"}
    )
    data["zones"]["transit"] = {"tier": "lgwan", "subnets": ["172.16.0.0/24"]}
    nodes["fw-a"] = {
        "role": "firewall",
        "ip": ["10.1.0.5", "172.16.0.1"],
        "permit": [{"id": "FW-A1", "from": "mn-koseki", "to": "any", "service": "smtp"}],
    }
    nodes["fw-b"] = {
        "role": "firewall",
        "ip": ["172.16.0.2", "10.3.0.5"],
        "permit": [{"id": "FW-B1", "from": "any", "to": "inet-mail", "service": "smtp"}],
    }
    return data


def test_applying_the_fix_plan_fixes_every_finding_and_opens_none(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken_alpha(), allow_unicode=True), encoding="utf-8")
    before = check(path, today=TODAY, generated_at="2026-05-01T00:00:00Z")
    paths = [f for f in before.findings if f.cause is not None]
    assert len(paths) >= 3 and before.plan is not None and before.plan.verified
    steps = before.plan.steps
    assert {s.kind for s in steps} >= {ChangeKind.REMOVE_NODE, ChangeKind.NARROW_PERMIT}

    fixed = apply_changes(before.topology, [(s.kind, s.target, s.node) for s in steps])
    after = check(fixed, today=TODAY, generated_at="2026-05-01T00:00:00Z")
    assert not [f for f in after.findings if f.cause is not None]

    diff = compare(side_from_report(before), side_from_report(after))
    assert not diff.of_state(State.NEW) and not diff.of_state(State.UPDATED)
    assert {c.finding.fingerprint for c in diff.of_state(State.FIXED)} >= {
        f.fingerprint for f in paths
    }
    assert diff.failing() == () and diff.exit_status() == 0
    # every step of the plan is a change of the plan view, and together they close the paths
    plan = diff.plan or ()
    changed = {(p.category, p.action, p.id) for p in plan}
    for step in steps:
        if step.kind is ChangeKind.REMOVE_NODE:
            assert ("node", "removed", step.target) in changed
        elif step.kind in (ChangeKind.REMOVE_PERMIT, ChangeKind.NARROW_PERMIT):
            assert ("permit", "removed", step.target) in changed
        else:  # an attachment: the node loses an address
            assert any(c[0] in ("node", "link") for c in changed)
    closed = {i for p in plan for i in p.closes}
    assert {diff.findings[i].finding.fingerprint for i in closed} >= {f.fingerprint for f in paths}
