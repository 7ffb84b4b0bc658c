"""Shared helpers for path-analysis tests: write a topology dict, check it, apply a remediation."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from segcheck.addressing import parse_cidr, parse_ip
from segcheck.engine import check
from segcheck.findings import Finding, Remediation, Report

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
