"""JSON output, exactly the shape of spec §6 (schema_version 1)."""

from __future__ import annotations

import json
from typing import Any

from ..findings import Finding, Report

SCHEMA_VERSION = 1


def finding_dict(finding: Finding, lang: str) -> dict[str, Any]:
    """One finding as spec §6 lays it out (plus `location`, and `verdict` for flows)."""
    is_flow = finding.flow is not None
    remediation = finding.remediation
    result: dict[str, Any] = {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.text(lang),
        "fingerprint": finding.fingerprint,
        "src_zone": finding.src_zone,
        "dst_zone": finding.dst_zone,
        "src_tier": finding.src_tier,
        "dst_tier": finding.dst_tier,
        "src": finding.src,
        "dst": finding.dst,
        "service": finding.service,
        "count": finding.count,
        "path": None if is_flow else list(finding.path),
        "permits": None if is_flow else list(finding.permits),
        "remediation": None
        if remediation is None
        else {
            "remove_permits": list(remediation.remove_permits),
            "remove_links": list(remediation.remove_links),
        },
        "flow": None,
        "node": finding.node,
        "channel": finding.channel,
        "location": {
            "path": finding.location.path,
            "line": finding.location.line,
            "frame": finding.location.frame,
        },
    }
    if finding.flow is not None:
        f = finding.flow
        result["flow"] = {
            "src_ip": f.src_ip,
            "dst_ip": f.dst_ip,
            "proto": f.proto,
            "src_port": f.src_port,
            "dst_port": f.dst_port,
            "vlan": f.vlan,
            "inner_vlan": f.inner_vlan,
            "packets": f.packets,
            "bytes": f.bytes,
            "first_frame": f.first_frame,
            "first_seen": f.first_seen,
            "input": f.input,
            "state": f.state,
        }
        result["verdict"] = finding.verdict
    return result


def report_dict(report: Report, lang: str) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    captures = {c.path: c for c in report.captures}
    inputs = []
    for item in report.inputs:
        cap = captures.get(item.path) if item.kind != "topology" else None
        stopped = cap.stopped_at if cap is not None else None
        inputs.append(
            {
                "path": item.path,
                "kind": item.kind,
                "sha256": item.sha256,
                "packets_read": cap.packets_read if cap is not None else None,
                "packets_skipped": cap.packets_skipped if cap is not None else None,
                "stopped_at": None
                if stopped is None
                else {"byte_offset": stopped[0], "frame": stopped[1], "reason": stopped[2]},
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "segcheck", "version": report.tool_version},
        "generated_at": report.generated_at,
        "topology": {"name": report.topology.name, "profile": report.topology.profile.value},
        "today": report.today,
        "inputs": inputs,
        "findings": [finding_dict(f, lang) for f in report.findings],
        "excepted": [finding_dict(f, lang) for f in report.excepted],
        "summary": report.summary(),
    }


def render(report: Report, lang: str = "en") -> str:
    """Pretty, stable JSON (keys in spec order, UTF-8 kept readable)."""
    return json.dumps(report_dict(report, lang), ensure_ascii=False, indent=2) + "\n"
