"""`segcheck diff` of two topologies: every state, every cause, renames, the plan view."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.diff import State, compare, load_side, render

from .helpers import FW40, TODAY, diff_texts, kinds, only, states, topology, write

CH1 = """\
  - id: CH-1
    from: mn-atena
    to: 198.18.200.10
    service: https
    reason: 中間サーバーへの副本登録
    approved_by: CISO
    ticket: SEC-2025-014
    expires: 2027-03-31
"""
NO_CHANNELS = ((CH1, "  []\n"),)
SIDE_RTR = "  side-rtr: {role: router, ip: [10.3.0.254]}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_same_topology_is_all_unchanged(tmp_path: Path) -> None:
    text = topology(permits=FW40)
    diff = diff_texts(tmp_path, text, text)
    assert states(diff) == [("unchanged", "LG-INET-SPLIT")]
    assert diff.plan == () and diff.exit_status() == 0 and not diff.failing()


def test_permit_added_opens_a_new_finding(tmp_path: Path) -> None:
    diff = diff_texts(tmp_path, topology(), topology(permits=FW40))
    new = only(diff, State.NEW)
    assert new.finding.rule == "LG-INET-SPLIT" and kinds(new) == {("permit-added", "FW-40")}
    assert diff.plan is not None and len(diff.plan) == 1
    added = diff.plan[0]
    assert (added.category, added.action, added.id, added.owner) == (
        "permit",
        "added",
        "FW-40",
        "fw-core",
    )
    assert added.opens == (diff.findings.index(new),) and not added.closes
    assert diff.exit_status() == 1
    text = render(diff, "text", "en")
    assert "+ permit FW-40 (fw-core): from lg, to inet-mail, service smtp  → opens 1 critical" in (
        text
    )
    assert "[permit-added FW-40]" in text


def test_permit_removed_fixes_it_and_fixes_never_fail(tmp_path: Path) -> None:
    diff = diff_texts(tmp_path, topology(permits=FW40), topology())
    fixed = only(diff, State.FIXED)
    assert kinds(fixed) == {("permit-removed", "FW-40")} and fixed.new is None
    assert diff.plan is not None and diff.plan[0].closes == (0,)
    assert diff.exit_status() == 0 and "closes 1 critical" in render(diff, "text", "en")


def test_permit_modified_updates_the_service(tmp_path: Path) -> None:
    wider = FW40.replace("smtp}", "[smtp, https]}")
    diff = diff_texts(tmp_path, topology(permits=FW40), topology(permits=wider))
    updated = only(diff, State.UPDATED)
    assert ("service", "smtp", "https,smtp") in updated.changes
    assert kinds(updated) == {("permit-modified", "FW-40")}
    assert not updated.escalated and diff.exit_status() == 0  # same severity: not a regression
    assert diff.plan is not None and diff.plan[0].fields == (("service", "smtp", "https, smtp"),)


def test_link_removed_fixes_the_bridged_paths(tmp_path: Path) -> None:
    old = topology(nodes=SIDE_RTR, links="  - [side-rtr, lg]")
    diff = diff_texts(tmp_path, old, topology(nodes=SIDE_RTR))
    fixed = diff.of_state(State.FIXED)
    assert fixed and all(kinds(c) == {("link-removed", "side-rtr--lg")} for c in fixed)
    assert not diff.of_state(State.NEW)
    link = next(p for p in diff.plan or () if p.category == "link")
    assert link.action == "removed" and len(link.closes) == len(fixed)


def test_node_added_changes_a_count_and_opens_a_bridging_finding(tmp_path: Path) -> None:
    base = topology(permits=FW40)
    more = topology(permits=FW40, nodes="  lg-term-02: {role: terminal, ip: 10.2.10.12}")
    updated = only(diff_texts(tmp_path, base, more), State.UPDATED)
    assert ("count", "3", "4") in updated.changes
    assert kinds(updated) == {("node-added", "lg-term-02")}

    dual = topology(nodes="  dual-01: {role: server, ip: [10.2.30.1, 10.3.30.1]}")
    new = only(diff_texts(tmp_path, topology(), dual), State.NEW)
    assert new.finding.rule == "GEN-NO-BRIDGING" and kinds(new) == {("node-added", "dual-01")}


def test_settings_changed(tmp_path: Path) -> None:
    weaker = topology(replace=(("10.1.10.11, usb_block: true", "10.1.10.11, usb_block: false"),))
    diff = diff_texts(tmp_path, topology(), weaker)
    new = only(diff, State.NEW)
    assert new.finding.rule == "MN-TERMINAL-CONTROLS"
    assert kinds(new) == {("settings-changed", "mn-term-01")}
    back = only(diff_texts(tmp_path, weaker, topology()), State.FIXED)
    assert kinds(back) == {("settings-changed", "mn-term-01")}


def test_channel_expired_opens_the_path_it_covered(tmp_path: Path) -> None:
    expired = topology(replace=(("expires: 2027-03-31", "expires: 2026-03-31"),))
    diff = diff_texts(tmp_path, topology(), expired)
    path = only(diff, State.NEW, "MN-ISOLATION")
    assert kinds(path) == {("channel-expired", "CH-1")} and path.was_excepted == "CH-1"
    register = only(diff, State.NEW, "GEN-EXCEPTION-EXPIRED")
    assert kinds(register) == {("channel-expired", "CH-1")}
    channel = next(p for p in diff.plan or () if p.category == "channel")
    assert len(channel.opens) == 2 and diff.exit_status() == 1


def test_channel_removed_is_its_own_cause(tmp_path: Path) -> None:
    diff = diff_texts(tmp_path, topology(), topology(replace=NO_CHANNELS))
    path = only(diff, State.NEW, "MN-ISOLATION")
    assert kinds(path) == {("channel-removed", "CH-1")}


def test_excepted_now_is_not_fixed(tmp_path: Path) -> None:
    diff = diff_texts(tmp_path, topology(replace=NO_CHANNELS), topology())
    assert not diff.of_state(State.FIXED)
    change = only(diff, State.EXCEPTED_NOW)
    assert change.channel is not None
    assert (change.channel.id, change.channel.approved_by, change.channel.expires) == (
        "CH-1",
        "CISO",
        "2027-03-31",
    )
    assert kinds(change) == {("channel-added", "CH-1")}
    assert diff.exit_status() == 0
    text = render(diff, "text", "en")
    assert "EXCEPTED NOW (1)" in text
    assert "covered by CH-1 (approved by CISO, expires 2027-03-31, ticket SEC-2025-014)" in text
    assert "承認者 CISO、" not in text and "有効期限 2027-03-31" in render(diff, "text", "ja")


def test_zone_renamed_is_renamed_not_fixed_and_new(tmp_path: Path) -> None:
    renamed = topology(
        permits=FW40.replace("from: lg,", "from: lg-office,"),
        replace=(
            ("  lg:        {tier: lgwan", "  lg-office: {tier: lgwan"),
            ("{id: FW-10, from: lg,", "{id: FW-10, from: lg-office,"),
        ),
    )
    diff = diff_texts(tmp_path, topology(permits=FW40), renamed)
    change = only(diff, State.RENAMED)
    assert [(r.category, r.old, r.new) for r in change.renamed] == [("zone", "lg", "lg-office")]
    assert kinds(change) == {("zone-renamed", "lg-office")}
    assert not diff.of_state(State.NEW) and not diff.of_state(State.FIXED)
    # FW-10 names the zone by its new name: not a modified permit
    assert [(p.category, p.action, p.old_id, p.id) for p in diff.plan or ()] == [
        ("zone", "renamed", "lg", "lg-office")
    ]


def test_node_and_permit_renamed(tmp_path: Path) -> None:
    old = topology(permits=FW40)
    new = topology(
        permits=FW40.replace("FW-40", "FW-41").replace("to: inet-mail", "to: inet-mx"),
        replace=(("  inet-mail:    {role: server", "  inet-mx:      {role: server"),),
    )
    diff = diff_texts(tmp_path, old, new)
    change = only(diff, State.RENAMED)
    assert {(r.category, r.old, r.new) for r in change.renamed} == {("permit", "FW-40", "FW-41")}
    plan = {(p.category, p.action, p.old_id, p.id) for p in diff.plan or ()}
    assert plan == {
        ("node", "renamed", "inet-mail", "inet-mx"),
        ("permit", "renamed", "FW-40", "FW-41"),
    }
    assert "= permit FW-41 (fw-core): FW-40 → FW-41" in render(diff, "text", "en")


def test_rename_detection_can_be_turned_off(tmp_path: Path) -> None:
    old = write(tmp_path, "a.yaml", topology(permits=FW40))
    new = write(tmp_path, "b.yaml", topology(permits=FW40.replace("FW-40", "FW-41")))
    diff = compare(load_side(old, today=TODAY), load_side(new, today=TODAY), renames=False)
    # no rename: one permit removed and one added, the finding's opening moved
    change = only(diff, State.UPDATED)
    assert ("opening", "FW-40", "FW-41") in change.changes and not change.renamed
    assert {(p.action, p.id) for p in diff.plan or ()} == {("removed", "FW-40"), ("added", "FW-41")}


def test_no_renames_on_the_command_line(tmp_path: Path) -> None:
    old = write(tmp_path, "a.yaml", topology(permits=FW40))
    new = write(tmp_path, "b.yaml", topology(
        permits=FW40.replace("from: lg,", "from: lg-office,"),
        replace=(
            ("  lg:        {tier: lgwan", "  lg-office: {tier: lgwan"),
            ("{id: FW-10, from: lg,", "{id: FW-10, from: lg-office,"),
        ),
    ))  # fmt: skip
    args = ("diff", old, new, "--today", "2026-05-01", "--format", "json")
    code, out, _ = run(*args)
    data = json.loads(out)
    assert code == 0 and {f["state"] for f in data["findings"]} == {"renamed"}
    assert [z["id"] for z in data["plan_changes"]["zones"]["renamed"]] == ["lg-office"]
    code, out, _ = run(*args, "--no-renames")
    data = json.loads(out)
    # a path's identity is its cause (FW-40), not its zones: the finding stays, unchanged;
    # the plan shows one zone removed, one added, and the permits that name it modified
    assert code == 0 and [f["state"] for f in data["findings"]] == ["unchanged"]
    zones = data["plan_changes"]["zones"]
    assert [(z["id"], a) for a in ("removed", "added") for z in zones[a]] == [
        ("lg", "removed"),
        ("lg-office", "added"),
    ]
    assert zones["renamed"] == []
    assert {p["id"] for p in data["plan_changes"]["permits"]["modified"]} == {"FW-10", "FW-40"}


def test_a_renamed_bridge_is_matched_by_its_cause(tmp_path: Path) -> None:
    """A path's identity is its cause (issue 12): a bridging router renamed in the same change
    that adds a host, flipping the example pair from inet→lg to lg→inet, is still the same
    finding (renamed, count updated), not one fixed and one new. A finding that only passes
    through the router (its opening is a permit) names the rename too."""
    router = "  old-rtr:      {role: router, ip: [10.2.0.99, 10.3.0.99]}"
    renamed = router.replace("old-rtr:     ", "core-rtr:    ")
    host = "\n  aaa-lg:       {role: server, ip: 10.2.5.5}"
    diff = diff_texts(tmp_path, topology(nodes=router), topology(nodes=renamed + host))
    assert not diff.of_state(State.NEW) and not diff.of_state(State.FIXED)
    split = only(diff, State.UPDATED)
    assert split.finding.rule == "LG-INET-SPLIT"
    assert split.old is not None and split.new is not None
    assert (split.old.src_zone, split.new.src_zone) == ("inet", "lg")
    assert [(r.category, r.old, r.new) for r in split.renamed] == [("node", "old-rtr", "core-rtr")]
    assert kinds(split) == {("node-renamed", "core-rtr"), ("node-added", "aaa-lg")}
    isolation = only(diff, State.RENAMED)
    assert isolation.finding.rule == "MN-ISOLATION"
    assert kinds(isolation) == {("node-renamed", "core-rtr")}


def test_a_link_cause_is_matched_whatever_the_order_of_its_renamed_ends(tmp_path: Path) -> None:
    old = topology(links="  - [lgwan-rtr, inet-mail]")
    new = topology(
        links="  - [inet-mx, lgwan-rtr]",
        replace=(("  inet-mail:    {role: server", "  inet-mx:      {role: server"),),
    )
    diff = diff_texts(tmp_path, old, new)
    change = only(diff, State.RENAMED)
    assert change.new is not None and change.new.cause is not None
    assert change.new.cause.elements == ("inet-mx--lgwan-rtr",)
    assert [(r.category, r.old, r.new) for r in change.renamed] == [
        ("node", "inet-mail", "inet-mx")
    ]
    assert not diff.of_state(State.NEW) and not diff.of_state(State.FIXED)


OLD_RTR = "  old-rtr:      {role: router, ip: [10.2.0.99, 10.3.0.99]}"
INET = "  inet:      {tier: internet,       subnets: [10.3.0.0/16]}"
CAUSE_CASES = {
    "link-added": (
        topology(),
        topology(links="  - [lgwan-rtr, inet-mail]"),
        {("new", "LG-INET-SPLIT", ("link-added", "lgwan-rtr--inet-mail"))},
    ),
    "node-removed": (
        topology(nodes=OLD_RTR),
        topology(),
        {
            ("fixed", "LG-INET-SPLIT", ("node-removed", "old-rtr")),
            ("fixed", "MN-ISOLATION", ("node-removed", "old-rtr")),
        },
    ),
    "node-modified": (
        topology(nodes=OLD_RTR),
        topology(nodes=OLD_RTR.replace("10.3.0.99", "10.1.0.99")),
        {
            ("fixed", "LG-INET-SPLIT", ("node-modified", "old-rtr")),
            ("updated", "MN-ISOLATION", ("node-modified", "old-rtr")),
        },
    ),
    # the zones a bridging router joins are the finding's, though no route ends there
    "zone-modified": (
        topology(nodes=OLD_RTR),
        topology(nodes=OLD_RTR, replace=((INET, INET.replace("internet, ", "lgwan,    ")),)),
        {
            ("fixed", "LG-INET-SPLIT", ("zone-modified", "inet")),
            ("fixed", "MN-ISOLATION", ("zone-modified", "inet")),
        },
    ),
    "channel-modified": (
        topology(),
        topology(
            replace=(("    to: 198.18.200.10\n    service", "    to: 198.18.200.11\n    service"),)
        ),
        {("new", "MN-ISOLATION", ("channel-modified", "CH-1"))},
    ),
    "permit-renamed": (
        topology(permits=FW40),
        topology(permits=FW40.replace("FW-40", "FW-41")),
        {("renamed", "LG-INET-SPLIT", ("permit-renamed", "FW-41"))},
    ),
}


@pytest.mark.parametrize("case", sorted(CAUSE_CASES))
def test_each_plan_change_is_a_findings_cause(tmp_path: Path, case: str) -> None:
    old, new, expected = CAUSE_CASES[case]
    diff = diff_texts(tmp_path, old, new)
    got = {
        (c.state.value, c.finding.rule, cause)
        for c in diff.findings
        if c.state is not State.UNCHANGED
        for cause in kinds(c)
    }
    assert got == expected


def test_opening_moved_is_one_update_with_both_causes(tmp_path: Path) -> None:
    moved = "      - {id: FW-45, from: lg-term-01, to: inet-mail, service: smtp}"
    diff = diff_texts(tmp_path, topology(permits=FW40), topology(permits=moved))
    change = only(diff, State.UPDATED)
    assert ("opening", "FW-40", "FW-45") in change.changes
    # another cause, another identity: matched by the fallback, not by the fingerprint
    assert change.old is not None and change.new is not None
    assert change.old.fingerprint != change.new.fingerprint
    assert kinds(change) == {("permit-added", "FW-45"), ("permit-removed", "FW-40")}
    assert not diff.of_state(State.NEW) and not diff.of_state(State.FIXED)


def test_reordering_and_shifted_lines_change_nothing(tmp_path: Path) -> None:
    old = topology(permits=FW40)
    # the permits in another order, a comment that shifts every line, unrelated label edits
    reordered = topology(
        permits=FW40,
        replace=(
            ("segcheck: 1\n", "segcheck: 1\n# revised plan\n# (comments only)\n"),
            (
                "      - {id: FW-10, from: lg, to: inet-sbc-01, service: [rdp, ica]}\n"
                "      - {id: FW-30, from: mn-atena, to: 198.18.200.10, service: https}\n",
                "      - {id: FW-30, from: mn-atena, to: 198.18.200.10, service: https}\n"
                "      - {id: FW-10, from: lg, to: inet-sbc-01, service: [rdp, ica]}\n",
            ),
        ),
    )
    diff = diff_texts(tmp_path, old, reordered)
    assert states(diff) == [("unchanged", "LG-INET-SPLIT")] and diff.plan == ()


def test_policy_90_removed_from_the_fortigate_configuration(tmp_path: Path, repo_root) -> None:
    """topologies/alpha-fortigate.yaml: delete policy 90 from a copy of its configuration."""
    before = tmp_path / "before"
    after = tmp_path / "after"
    for side in (before, after):
        side.mkdir()
        shutil.copy(repo_root / "topologies" / "alpha-fortigate.yaml", side)
        shutil.copytree(repo_root / "topologies" / "configs", side / "configs")
    conf = after / "configs" / "fw-lg-inet.conf"
    text = conf.read_text(encoding="utf-8")
    edited = re.sub(r"\n    edit 90\n.*?\n    next", "", text, count=1, flags=re.S)
    assert edited != text and "edit 90" not in edited
    conf.write_text(edited, encoding="utf-8")

    old = str(before / "alpha-fortigate.yaml")
    new = str(after / "alpha-fortigate.yaml")
    diff = compare(load_side(old, today=TODAY), load_side(new, today=TODAY))
    assert states(diff) == [("fixed", "LG-INET-SPLIT")]  # fixed, nothing new, nothing else
    fixed = diff.findings[0]
    assert fixed.old is not None and fixed.old.permits == ("root/90",)
    assert kinds(fixed) == {("permit-removed", "root/90")}
    permits = [p for p in diff.plan or () if p.category == "permit"]
    assert [(p.action, p.id, p.owner, p.closes) for p in permits] == [
        ("removed", "root/90", "fw-lg-inet", (0,))
    ]
    code, out, err = run("diff", old, new, "--today", "2026-05-01", "--lang", "en")
    assert code == 0, err
    assert "- permit root/90 (fw-lg-inet)" in out and "closes 1 critical" in out
    assert "NEW (0)" in out and "FIXED (1)" in out
    # and back: restoring the policy opens the finding again (exit 1)
    code, out, _ = run("diff", new, old, "--today", "2026-05-01", "--lang", "en")
    assert code == 1 and "+ permit root/90 (fw-lg-inet)" in out and "opens 1 critical" in out


def test_both_topologies_are_judged_on_the_same_day(tmp_path: Path) -> None:
    """--today applies to both sides, so expiry alone is never a change."""
    old = write(tmp_path, "a.yaml", topology())
    new = write(tmp_path, "b.yaml", topology())
    code, out, _ = run("diff", old, new, "--today", "2027-06-01", "--lang", "en")
    # CH-1 expired on both sides: the same findings, unchanged
    assert code == 0 and "NEW (0)" in out and "unchanged: 2" in out


# slow: a 1,000-node town analysed three times; the fast run keeps the same contract on small
# topologies (test_node_and_permit_renamed, test_permit_added_opens_a_new_finding).
@pytest.mark.slow
def test_generated_town_renames_and_a_wide_permit(tmp_path: Path, repo_root) -> None:
    """A 1,000-node town with three hosts renamed: the plan says so and no finding moves.

    Renames change which equally small minimum cut the analysis picks; that is no change.
    """
    import importlib.util
    import json
    import random

    spec = importlib.util.spec_from_file_location(
        "topology_scale", repo_root / "benchmarks" / "topology_scale.py"
    )
    assert spec is not None and spec.loader is not None
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    data = scale.generate(1000)
    old = write(tmp_path, "old.json", json.dumps(data))
    nodes = data["nodes"]
    hosts = sorted(k for k, v in nodes.items() if v["role"] in ("terminal", "server"))
    for name in random.Random(7).sample(hosts, 3):
        nodes[name + "-new"] = nodes.pop(name)
    new = write(tmp_path, "new.json", json.dumps(data))
    diff = compare(load_side(old, today=TODAY), load_side(new, today=TODAY))
    assert diff.findings and {c.state for c in diff.findings} == {State.UNCHANGED}
    assert [(p.category, p.action) for p in diff.plan or ()] == [("node", "renamed")] * 3
    # A wide permit added: every finding it changes names it as the cause; cuts that only
    # swapped for another of the same size are no change (they would have no cause at all).
    fw = nodes["fw-lg-inet"]
    fw["permit"] = [*fw["permit"], {"id": "NEW-1", "from": "any", "to": "any", "service": "any"}]
    wider = write(tmp_path, "wider.json", json.dumps(data))
    diff = compare(load_side(new, today=TODAY), load_side(wider, today=TODAY))
    changed = [c for c in diff.findings if c.state is not State.UNCHANGED]
    assert changed and all(kinds(c) == {("permit-added", "NEW-1")} for c in changed)
