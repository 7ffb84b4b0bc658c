"""Pairs that two causes open: removing one never shows the other as new, nor the pairs fixed.

A path finding stands for its pairs under its witness route's cause only. In the town with
three classic mistakes (tests/data/topologies/cases/town-mistakes.yaml) a second firewall opens
smtp from 情報系サーバ to inet-mail beside BFW-90, and a second maintenance router joins the
terminal zones beside hoshu-rtr: OLD's remediations name both causes. Removing the credited
cause moves the pairs to the other one; the diff says so (`updated`, cause changed), with the
removal as its cause, and fails nothing. Pairs no OLD cut named stay new.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from segcheck.diff import Diff, State, compare, diff_files, load_side
from segcheck.engine import check
from segcheck.report import render

from .helpers import TODAY, kinds, only

CASES = Path(__file__).resolve().parents[1] / "data" / "topologies" / "cases"
BFW2 = {
    "role": "firewall",
    "ip": ["10.20.0.4", "10.30.30.4"],
    "permit": [{"id": "BFW2-10", "from": "情報系サーバ", "to": "inet-mail", "service": "smtp"}],
}


def load_case(name: str) -> dict[str, Any]:
    with open(CASES / name, encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def _diff(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> Diff:
    return compare(
        load_side(_write(tmp_path, "old.yaml", old), today=TODAY),
        load_side(_write(tmp_path, "new.yaml", new), today=TODAY),
        generated_at="T",
    )


def _two_firewalls() -> dict[str, Any]:
    town = load_case("town-mistakes.yaml")
    del town["nodes"]["hoshu-rtr"]
    town["nodes"]["bfw2"] = copy.deepcopy(BFW2)
    return town


def _without_bfw90(town: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(town)
    bfw = out["nodes"]["bfw"]
    bfw["permit"] = [p for p in bfw["permit"] if p["id"] != "BFW-90"]
    return out


def test_old_cut_names_both_permits_and_one_finding_is_credited(tmp_path: Path) -> None:
    old = _two_firewalls()
    report = check(_write(tmp_path, "old.yaml", old), today=TODAY)
    split = [f for f in report.findings if f.rule == "LG-INET-SPLIT"]
    assert [f.cause.elements for f in split if f.cause] == [("BFW-90",)]
    rem = split[0].remediation
    assert rem is not None and "BFW2-10" in (*rem.remove_permits, *rem.narrow_permits)


def test_removing_one_of_two_permits_is_not_a_new_finding(tmp_path: Path) -> None:
    old = _two_firewalls()
    diff = _diff(tmp_path, old, _without_bfw90(old))
    assert not diff.of_state(State.NEW)
    assert not [c for c in diff.of_state(State.FIXED) if c.finding.rule == "LG-INET-SPLIT"]
    moved = only(diff, State.UPDATED, "LG-INET-SPLIT")
    assert moved.old is not None and moved.new is not None
    assert moved.old.cause is not None and moved.old.cause.elements == ("BFW-90",)
    assert moved.new.cause is not None and moved.new.cause.elements == ("BFW2-10",)
    assert ("cause", "BFW-90", "BFW2-10") in moved.changes
    assert ("permit-removed", "BFW-90") in kinds(moved)
    assert diff.failing() == () and diff.exit_status() == 0


def test_pairs_no_old_cut_named_stay_new(tmp_path: Path) -> None:
    """The control: the same NEW finding, when OLD had no second firewall, is new."""
    new = _without_bfw90(_two_firewalls())
    old = copy.deepcopy(new)
    del old["nodes"]["bfw2"]
    diff = _diff(tmp_path, old, new)
    added = only(diff, State.NEW, "LG-INET-SPLIT")
    assert added.new is not None and added.new.cause is not None
    assert added.new.cause.elements == ("BFW2-10",)
    assert diff.exit_status() == 1


def test_removing_one_of_two_routers_does_not_fix_its_pairs(tmp_path: Path) -> None:
    """hoshu-rtr2 joins the terminal zones and has pairs of its own; hoshu-rtr's pairs move
    to it when hoshu-rtr is removed: hoshu-rtr's finding is updated, not fixed."""
    old = load_case("town-mistakes.yaml")
    old["nodes"]["hoshu-rtr2"] = {"role": "router", "ip": ["10.10.10.253", "10.20.10.253"]}
    new = copy.deepcopy(old)
    del new["nodes"]["hoshu-rtr"]
    diff = _diff(tmp_path, old, new)
    rows = [c for c in diff.findings if c.finding.rule == "MN-ISOLATION"]
    assert {c.state for c in rows} == {State.UPDATED}
    moved = next(c for c in rows if c.old is not None and c.old.cause is not None
                 and c.old.cause.elements == ("hoshu-rtr",))  # fmt: skip
    assert moved.new is not None and moved.new.cause is not None
    assert moved.new.cause.elements == ("hoshu-rtr2",)
    assert ("cause", "hoshu-rtr", "hoshu-rtr2") in moved.changes
    assert ("node-removed", "hoshu-rtr") in kinds(moved)
    # both removed: both fixed
    gone = copy.deepcopy(new)
    del gone["nodes"]["hoshu-rtr2"]
    both = _diff(tmp_path, old, gone)
    fixed = [c for c in both.of_state(State.FIXED) if c.finding.rule == "MN-ISOLATION"]
    assert len(fixed) == 2 and not both.of_state(State.UPDATED)


def test_result_files_too(tmp_path: Path) -> None:
    """JSON against JSON: the remediation and cause in the results are enough."""
    old = _two_firewalls()
    paths = []
    for name, data in (("old", old), ("new", _without_bfw90(old))):
        report = check(_write(tmp_path, f"{name}.yaml", data), today=TODAY,
                       generated_at="2026-05-01T00:00:00Z")  # fmt: skip
        out = tmp_path / f"{name}.json"
        out.write_text(render(report, "json"), encoding="utf-8")
        assert json.loads(out.read_text(encoding="utf-8"))["findings"]
        paths.append(str(out))
    diff = diff_files(*paths, today=TODAY, generated_at="T")
    assert not diff.of_state(State.NEW)
    moved = only(diff, State.UPDATED, "LG-INET-SPLIT")
    assert ("cause", "BFW-90", "BFW2-10") in moved.changes
    assert diff.exit_status() == 0
