"""Issue 12, "Done when": a realistic α town with three classic mistakes (town-mistakes.yaml).

A maintenance router left across 基幹系サーバ and 情報系サーバ, an `any` permit from 情報系サーバ to
the Internet tier, and two channels between MN and LG hosts, one of them also reachable over the
router. Checked: one finding per cause, fixes naming the router or the permit and never an
attachment that allowed traffic needs, the channel keeping its approved route, honest endpoints,
fingerprints that survive unrelated edits, and a fix plan that leaves `check` clean.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from segcheck.addressing import AddressMap
from segcheck.findings import CauseKind, ChangeKind, Report
from segcheck.model import ANY_SERVICE, IP, Topology
from segcheck.policy import Outcome, Policy
from segcheck.report import render

from .helpers import TODAY, apply_plan, load_case, run
from .test_oracle import Oracle

INFRASTRUCTURE = ("lgwan-rtr", "kk-l3sw", "lg-l3sw", "inet-l3sw", "kk-fw", "bfw", "sc-rtr")


@pytest.fixture()
def town() -> dict[str, Any]:
    return load_case("town-mistakes.yaml")


def _paths(report: Report) -> list[Any]:
    return [f for f in report.findings if f.cause is not None]


def test_one_finding_per_cause(town: dict[str, Any], tmp_path: Path) -> None:
    report = run(town, tmp_path)
    found = {(f.rule, f.cause.kind, f.cause.elements) for f in _paths(report)}  # type: ignore[union-attr]
    assert found == {
        ("MN-ISOLATION", CauseKind.FORWARDER, ("hoshu-rtr",)),
        ("LG-INET-SPLIT", CauseKind.PERMITS, ("BFW-90",)),
    }
    assert len(report.findings) == 2  # nothing else: no MN-SPECIFIED-COMM, no node finding
    router = next(f for f in report.findings if f.rule == "MN-ISOLATION")
    pairs = {(r.src_zone, r.dst_zone) for r in router.routes}
    mn = {"基幹系コア", "基幹系端末", "基幹系サーバ"}
    lg = {"情報系コア", "情報系端末", "情報系サーバ"}
    # every zone pair and both directions the router joins, in one finding, with counts
    assert {(a, b) for a in mn for b in lg} | {(b, a) for a in mn for b in lg} <= pairs
    assert ("基幹系サーバ", "LGWAN") in pairs  # through the router, then the LGWAN router
    assert router.count == sum(r.count for r in router.routes)
    # "bridged by" names the router joining the tiers, not the switches on the way
    assert router.cause is not None and router.cause.zones == ("基幹系サーバ", "情報系サーバ")
    assert "hoshu-rtr" in router.message
    assert not any(name in router.message for name in ("kk-l3sw", "lg-l3sw"))
    assert router.location.line == town_line(tmp_path, "hoshu-rtr")


def town_line(tmp_path: Path, name: str) -> int:
    lines = (tmp_path / "t.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"{name}:"))


def test_fixes_name_the_router_or_the_permit(town: dict[str, Any], tmp_path: Path) -> None:
    report = run(town, tmp_path)
    for f in _paths(report):
        rem = f.remediation
        assert rem is not None and not rem.empty
        items = {*rem.remove_nodes, *rem.remove_links, *rem.remove_permits, *rem.narrow_permits}
        assert items <= {
            "hoshu-rtr",
            "hoshu-rtr--基幹系サーバ",
            "hoshu-rtr--情報系サーバ",
            "BFW-90",
        }
        assert not rem.disruptive
        assert not any(i.startswith(INFRASTRUCTURE) for i in items)
    router = next(f for f in report.findings if f.rule == "MN-ISOLATION")
    assert router.remediation is not None and router.remediation.remove_nodes == ("hoshu-rtr",)
    split = next(f for f in report.findings if f.rule == "LG-INET-SPLIT")
    # BFW-90 also lets the servers reach the screen-transfer host (sanitized): narrow it
    assert split.remediation is not None and split.remediation.narrow_permits == ("BFW-90",)


def test_the_channel_keeps_its_approved_route(town: dict[str, Any], tmp_path: Path) -> None:
    report = run(town, tmp_path)
    covered = {f.channel: f for f in report.excepted}
    assert set(covered) == {"CH-1", "CH-2"}
    assert covered["CH-2"].path == ("kk-tax", "kk-l3sw", "kk-fw", "lg-l3sw", "lg-link")
    assert covered["CH-2"].permits == ("KFW-20",)
    assert covered["CH-1"].permits == ("KFW-10", "LGW-30")
    assert "hoshu-rtr" not in covered["CH-1"].path
    # the same endpoints over the router: the cell's rule, with the router as cause
    router = next(f for f in report.findings if f.rule == "MN-ISOLATION")
    assert any(r.src == "kk-atena" and r.dst_zone == "LGWAN" for r in router.routes)
    assert not [f for f in report.findings if f.rule == "MN-SPECIFIED-COMM"]


def test_unassigned_addresses_are_said_as_such(town: dict[str, Any], tmp_path: Path) -> None:
    report = run(town, tmp_path)
    split = next(f for f in report.findings if f.rule == "LG-INET-SPLIT")
    border = next(r for r in split.routes if r.dst_zone == "インターネット系境界")
    assert border.dst == "10.30.30.0/24" and border.dst_unassigned
    assert "unassigned addresses of 10.30.30.0/24" in render(report, "text", "en")
    assert "10.30.30.0/24 の未登録アドレス" in render(report, "text", "ja")
    assert "10.30.30.2" not in render(report, "text", "en")


def test_fingerprints_survive_unrelated_edits(town: dict[str, Any], tmp_path: Path) -> None:
    before = {f.rule: f.fingerprint for f in run(town, tmp_path).findings}
    edited = copy.deepcopy(town)
    # a new zone behind the same switch, a host in it, and a service no permit named before in
    # an unrelated permit (it splits the services the findings list into other groups)
    edited["zones"]["情報系会議室"] = {"tier": "情報系", "subnets": ["10.20.30.0/24"]}
    edited["nodes"]["lg-l3sw"]["ip"].append("10.20.30.1")
    edited["nodes"]["lg-room-01"] = {"role": "terminal", "ip": "10.20.30.11"}
    edited["nodes"]["lgwan-rtr"]["permit"][1]["service"] = ["smtp", "ntp"]
    report = run(edited, tmp_path, "edited.yaml")
    assert {f.rule: f.fingerprint for f in report.findings} == before
    router = next(f for f in report.findings if f.rule == "MN-ISOLATION")
    assert ("基幹系サーバ", "情報系会議室") in {(r.src_zone, r.dst_zone) for r in router.routes}


def test_the_fix_plan_leaves_check_clean(town: dict[str, Any], tmp_path: Path) -> None:
    report = run(town, tmp_path)
    plan = report.plan
    assert plan is not None and plan.verified and plan.remaining == 0 and plan.findings == 2
    assert [(s.kind, s.target, s.node) for s in plan.steps] == [
        (ChangeKind.REMOVE_NODE, "hoshu-rtr", "hoshu-rtr"),
        (ChangeKind.NARROW_PERMIT, "BFW-90", "bfw"),
    ]
    assert not any(s.disruptive for s in plan.steps)
    text = render(report, "text", "en")
    assert text.index("fix plan: 2 change(s)") < text.index("LG-INET-SPLIT")
    assert "1. remove node hoshu-rtr" in text
    html = render(report, "html", "en")
    assert html.index('id="fix-plan"') < html.index('id="findings"')
    # applied step by step to the YAML, as an engineer would (the permit narrowed to what
    # the policy allows), then checked again
    fixed = apply_plan(town, report)
    assert "hoshu-rtr" not in fixed["nodes"]
    narrowed = [p for p in fixed["nodes"]["bfw"]["permit"] if p["id"].startswith("BFW-90-")]
    assert ("10.30.20.11", {"ica", "rdp"}) in [(p["to"], set(p["service"])) for p in narrowed]
    after = run(fixed, tmp_path, "fixed.yaml")
    assert after.findings == () and after.plan is None
    assert {f.channel for f in after.excepted} == {"CH-1", "CH-2"}
    # no change cut traffic the policy allows: every such flow between hosts that were
    # reachable before still is
    before_ok = allowed_reach(report.topology)
    after_ok = allowed_reach(after.topology)
    assert len(before_ok) > 500 and before_ok <= after_ok


def allowed_reach(topo: Topology) -> set[tuple[str, str, str]]:
    """(source node, destination node, service) of every flow between two endpoint hosts that
    the policy allows (or a channel covers) and some route of forwarders passes."""
    policy = Policy(topo, TODAY)
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    oracle = Oracle(topo, policy, addresses)
    hosts = [(n, ip) for n in topo.nodes.values() if not n.role.forwards for ip in n.addresses]
    services = sorted(s for s in topo.services if s != ANY_SERVICE)
    out = set()
    for src, s in hosts:
        for dst, d in hosts:
            if src is dst or s.version != d.version:
                continue
            for service in services:
                judged = policy.judge(addresses.lookup(s), addresses.lookup(d), service, path=True)
                if judged.outcome is Outcome.VIOLATION:
                    continue
                if _reaches(oracle, s, d, service):
                    out.add((src.name, dst.name, service))
    return out


def _reaches(oracle: Oracle, s: IP, d: IP, service: str) -> bool:
    goal = oracle.endpoint_segs(d)
    seen = set(oracle.endpoint_segs(s))
    todo = list(seen)
    while todo:
        seg = todo.pop()
        if seg in goal:
            return True
        for name, segs in oracle.fwd_segs.items():
            if seg in segs and oracle.passes(oracle.topo.nodes[name], s, d, service):
                todo.extend(segs - seen)
                seen |= segs
    return False


def test_permit_cubes_of_one_imported_rule_are_one_change(
    town: dict[str, Any], tmp_path: Path
) -> None:
    """An imported rule split into several permits by an earlier deny: one rule, one step."""
    table = (
        "No,送信元,宛先,サービス,動作\n"
        "10,10.20.10.0/24,10.30.20.11,rdp、ica,許可\n"
        "20,10.30.20.26,10.20.20.25,smtp,許可\n"
        "80,10.20.20.11,10.30.30.0/24,any,拒否\n"
        "90,10.20.20.0/24,10.30.0.0/16,any,許可\n"
    )
    (tmp_path / "bfw.csv").write_text(table, encoding="utf-8")
    data = copy.deepcopy(town)
    del data["nodes"]["hoshu-rtr"]
    bfw = data["nodes"]["bfw"]
    del bfw["permit"]
    bfw["config"] = {"file": "bfw.csv", "format": "csv"}
    report = run(data, tmp_path)
    permits = report.topology.nodes["bfw"].permits or ()
    assert sum(1 for p in permits if p.id == "90") > 1  # the deny cut rule 90 into cubes
    (split,) = _paths(report)
    assert split.cause is not None and split.cause.elements == ("90",)
    plan = report.plan
    assert plan is not None and plan.verified
    assert [(s.kind, s.target, s.node) for s in plan.steps] == [
        (ChangeKind.NARROW_PERMIT, "90", "bfw")
    ]


def test_plan_steps_are_ordered_by_the_findings_they_close(
    town: dict[str, Any], tmp_path: Path
) -> None:
    """A second leftover router with legs in 基幹系, 情報系 and the Internet tier: removing it
    closes five findings (its own three rules, and hoshu-rtr's MN-ISOLATION pairs it opens too)
    and comes first, before hoshu-rtr (two), which the name order alone would put first;
    applied, the plan leaves `check` clean."""
    town["nodes"]["old-rtr"] = {
        "role": "router",
        "ip": ["10.10.10.254", "10.20.10.254", "10.30.10.254"],
    }
    report = run(town, tmp_path)
    plan = report.plan
    assert plan is not None and plan.verified and plan.remaining == 0
    counts = [len(s.closes) for s in plan.steps]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[1]
    assert [(s.kind, s.target) for s in plan.steps[:2]] == [
        (ChangeKind.REMOVE_NODE, "old-rtr"),
        (ChangeKind.REMOVE_NODE, "hoshu-rtr"),
    ]
    assert not any(s.disruptive for s in plan.steps)
    text = render(report, "text", "en")
    assert "1. remove node old-rtr  [5 finding(s)]" in text
    after = run(apply_plan(town, report), tmp_path, "fixed.yaml")
    assert after.findings == ()
