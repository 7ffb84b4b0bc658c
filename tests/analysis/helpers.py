"""Shared helpers for path-analysis tests: write a topology dict, check it, apply a remediation."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from segcheck.addressing import AddressMap, parse_cidr, parse_ip
from segcheck.engine import check
from segcheck.findings import ChangeKind, Finding, Remediation, Report
from segcheck.model import ANY_SERVICE
from segcheck.policy import Outcome, Policy

TODAY = date(2026, 6, 1)
CASES = Path(__file__).resolve().parent.parent / "data" / "topologies" / "cases"
ALPHA_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "topologies" / "alpha.yaml",
    CASES / "alpha.yaml",
)


def load_case(name: str) -> dict[str, Any]:
    """The YAML data of a case topology."""
    with open(CASES / name, encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def run(data: dict[str, Any], tmp_path: Path, name: str = "t.yaml", today: date = TODAY) -> Report:
    """Write a topology dict as YAML and check it."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return check(path, today=today)


def facts(report: Report) -> set[tuple[str, str | None, str | None]]:
    """(rule, src, dst) of every finding."""
    return {(f.rule, f.src, f.dst) for f in report.findings}


def find(report: Report, rule: str, src: str | None = None, dst: str | None = None) -> Finding:
    """The finding of a rule with a route between these example ends, else AssertionError."""
    hits = [
        f
        for f in report.findings
        if f.rule == rule
        and any(
            (src is None or r.src == src) and (dst is None or r.dst == dst)
            for r in (f.routes or [f])  # type: ignore[attr-defined]
        )
    ]
    assert hits, f"no {rule} {src}->{dst} in {[(f.rule, f.src, f.dst) for f in report.findings]}"
    return hits[0]


def by_cause(report: Report, rule: str, *elements: str) -> Finding:
    """The one finding of a rule whose cause names exactly these elements."""
    hits = [
        f
        for f in report.findings
        if f.rule == rule and f.cause is not None and f.cause.elements == elements
    ]
    assert len(hits) == 1, [(f.rule, f.cause) for f in report.findings]
    return hits[0]


def zone_pairs(finding: Finding) -> set[tuple[str, str]]:
    """Every (source zone, destination zone) a path finding spans."""
    return {(r.src_zone, r.dst_zone) for r in finding.routes}


def _in_zone(data: dict[str, Any], ip_text: str, zone: str) -> bool:
    ip = parse_ip(ip_text)
    if zone == "public-internet":
        zones = [z for z in data["zones"].values() if z["tier"] == "public-internet"]
        declared = [z for z in data["zones"].values()]
        inside_declared = any(
            parse_cidr(str(s)).contains(ip) for z in declared for s in z["subnets"]
        )
        return not inside_declared or any(
            parse_cidr(str(s)).contains(ip) for z in zones for s in z["subnets"]
        )
    return any(parse_cidr(str(s)).contains(ip) for s in data["zones"][zone]["subnets"])


def apply_remediation(data: dict[str, Any], fix: Finding | Remediation) -> dict[str, Any]:
    """A copy of the topology with a finding's remediation (or a bare one) applied.

    Permits are deleted (a permit to narrow too: it must stop passing the finding's flows); a
    node to remove is deleted with the links naming it; an item `a--b` deletes the `links:`
    entry joining a and b (either way round) and, where one of them is a node and the other a
    zone, the node's addresses in that zone.
    """
    remediation = fix.remediation if isinstance(fix, Finding) else fix
    assert remediation is not None
    out = copy.deepcopy(data)
    for name in remediation.remove_nodes:
        del out["nodes"][name]
        out["links"] = [p for p in out.get("links") or [] if name not in (p[0], p[1])]
    drop = set(remediation.remove_permits) | set(remediation.narrow_permits)
    for node in out["nodes"].values():
        if "permit" in node:
            node["permit"] = [p for p in node["permit"] or [] if p["id"] not in drop]
    for item in remediation.remove_links:
        a, b = item.split("--", 1)
        links = out.get("links") or []
        out["links"] = [pair for pair in links if {str(pair[0]), str(pair[1])} != {a, b}]
        zones = set(out["zones"]) | {"public-internet"}
        for node_name, zone in ((a, b), (b, a)):
            if node_name in out["nodes"] and zone in zones and zone not in out["nodes"]:
                node = out["nodes"][node_name]
                ips = node["ip"] if isinstance(node["ip"], list) else [node["ip"]]
                kept = [ip for ip in ips if not _in_zone(out, str(ip), zone)]
                if kept:
                    node["ip"] = kept
                else:  # its last attachment: the node goes
                    del out["nodes"][node_name]
                    out["links"] = [
                        p for p in out.get("links") or [] if node_name not in (p[0], p[1])
                    ]
    return out


def apply_plan(data: dict[str, Any], report: Report, today: date = TODAY) -> dict[str, Any]:
    """A copy of the topology with every step of the report's fix plan made, as an engineer
    would: nodes, permits, attachments and links removed; a permit to narrow replaced by one
    permit per destination endpoint it reaches, on the services the policy allows from every
    endpoint its `from` holds (what it passes beyond that is the finding's)."""
    plan = report.plan
    assert plan is not None
    out = copy.deepcopy(data)
    for step in plan.steps:
        if step.kind is ChangeKind.REMOVE_NODE:
            out = apply_remediation(out, Remediation(remove_nodes=(step.target,)))
        elif step.kind in (ChangeKind.REMOVE_LINK, ChangeKind.REMOVE_ATTACHMENT):
            out = apply_remediation(out, Remediation(remove_links=(step.target,)))
        else:
            owners = [step.node] if step.node else list(out["nodes"])
            for owner in owners:
                node = out["nodes"].get(owner)
                if node is None or "permit" not in node:
                    continue
                old = [p for p in node["permit"] or [] if str(p["id"]) == step.target]
                kept = [p for p in node["permit"] or [] if str(p["id"]) != step.target]
                if old and step.kind is ChangeKind.NARROW_PERMIT:
                    kept += _narrowed(report, owner, old[0], today)
                node["permit"] = kept
    return out


def _narrowed(
    report: Report, owner: str, entry: dict[str, Any], today: date
) -> list[dict[str, Any]]:
    """The permit `entry` of `owner` cut down to its destinations and services that every
    endpoint of its `from` may reach (its `from` is kept as written)."""
    topo = report.topology
    pid = str(entry["id"])
    policy = Policy(topo, today)
    lookup = AddressMap(topo.zones.values(), topo.nodes.values()).lookup
    endpoints = [
        (node.name, ip) for node in topo.nodes.values() if not node.role.forwards
        for ip in node.addresses
    ]  # fmt: skip
    named = [s for s in topo.services if s != ANY_SERVICE]
    out: list[dict[str, Any]] = []
    for n, permit in enumerate(p for p in topo.nodes[owner].permits or () if p.id == pid):
        sources = [ip for _, ip in endpoints if permit.source.matches(ip)]
        services = named if permit.any_service else list(permit.services)
        for name, d in endpoints:
            if not permit.destination.matches(d) or d in sources:
                continue
            keep = [
                s
                for s in services
                if all(
                    policy.judge(lookup(x), lookup(d), s, path=True).outcome
                    is not Outcome.VIOLATION
                    for x in sources
                    if x.version == d.version
                )
            ]
            if keep and sources:
                out.append(
                    {
                        "id": f"{pid}-{n}-{name}",
                        "from": entry["from"],
                        "to": str(d),
                        "service": keep,
                    }
                )
    return out
