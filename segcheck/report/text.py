"""Terminal output: findings grouped by rule, in English or Japanese."""

from __future__ import annotations

from ..findings import Evidence, Finding, Report, by_rule
from ..rules import RULES_BY_ID
from . import endpoints

_LABELS = {
    "en": {
        "check": "check",
        "scan": "scan",
        "report": "report",
        "profile": "profile",
        "path": "path",
        "permits": "permits",
        "fix": "fix",
        "remove_permits": "remove permits",
        "remove_links": "remove links",
        "pairs": "pairs",
        "findings": "findings",
        "excepted": "covered by channels",
        "channel": "channel",
        "summary": "summary",
        "clean": "no findings: the three-tier separation holds",
        "not_proven": "no findings in what was seen: the three-tier separation is NOT proven",
        "incomplete": "EVIDENCE INCOMPLETE: the findings stand, but their absence proves nothing",
        "unusable": "EVIDENCE UNUSABLE: no traffic was seen in at least one capture",
        "byte_offset": "byte offset",
        "read": "packets read",
        "skipped": "skipped",
        "first_skipped": "first at line",
        "stopped": "stopped at",
        "flows": "flows",
        "disabled": "disabled",
        "unrecognised": "unrecognised lines",
        "undefined": "undefined objects",
        "frame": "frame",
        "baseline": "baseline",
        "gating": "new or escalated",
        "absent": "fixed since",
    },
    "ja": {
        "check": "構成検査",
        "scan": "通信検査",
        "report": "報告",
        "profile": "モデル",
        "path": "経路",
        "permits": "許可ルール",
        "fix": "是正",
        "remove_permits": "許可ルールを削除",
        "remove_links": "接続を削除",
        "pairs": "組",
        "findings": "件",
        "excepted": "例外により許可",
        "channel": "例外",
        "summary": "集計",
        "clean": "指摘なし: 三層分離は保たれている",
        "not_proven": "確認できた範囲に指摘なし: 三層分離は証明されていない",
        "incomplete": "証跡が不完全: 指摘は有効だが、指摘がないことは何も証明しない",
        "unusable": "証跡が使用不能: 通信が一つも確認できないキャプチャがある",
        "byte_offset": "バイト位置",
        "read": "読込パケット",
        "skipped": "スキップ",
        "first_skipped": "最初は行",
        "stopped": "停止位置",
        "flows": "フロー",
        "disabled": "無効ルール",
        "unrecognised": "未解釈行",
        "undefined": "未定義オブジェクト",
        "frame": "フレーム",
        "baseline": "比較基準",
        "gating": "新規または重大化",
        "absent": "解消",
    },
}


def _where(f: Finding) -> str:
    loc = f.location
    if loc.frame is not None:
        return f"{loc.path}#{loc.frame}"
    if loc.line is not None:
        return f"{loc.path}:{loc.line}"
    return loc.path


def _zone(zone: str | None, tier: str | None) -> str:
    return f"{zone} ({tier})" if zone else "(no zone)"


def _finding_lines(f: Finding, lang: str, t: dict[str, str], state: str = "") -> list[str]:
    lines = [f"  {_where(f)}: [{f.severity.value}]{state} {f.text(lang)}"]
    ends = endpoints(f)
    if (f.src_zone or f.dst_zone) and ends is not None:
        pair = f"{_zone(f.src_zone, f.src_tier)} -> {_zone(f.dst_zone, f.dst_tier)}"
        count = f"  [{f.count} {t['pairs']}]" if f.count > 1 else ""
        svc = f"  {f.service}" if f.service else ""
        lines.append(f"      {pair}: {ends}{svc}{count}")
    if f.path:
        lines.append(f"      {t['path']}: {' > '.join(f.path)}")
    if f.permits:
        lines.append(f"      {t['permits']}: {', '.join(f.permits)}")
    if f.remediation and (f.remediation.remove_permits or f.remediation.remove_links):
        parts = []
        if f.remediation.remove_permits:
            parts.append(f"{t['remove_permits']} {', '.join(f.remediation.remove_permits)}")
        if f.remediation.remove_links:
            parts.append(f"{t['remove_links']} {', '.join(f.remediation.remove_links)}")
        lines.append(f"      {t['fix']}: {'; '.join(parts)}")
    if f.flow is not None:
        fl = f.flow
        vlan = f" vlan {fl.vlan}" if fl.vlan is not None else ""
        lines.append(
            f"      {fl.proto} {fl.src_ip}:{fl.src_port} -> {fl.dst_ip}:{fl.dst_port}{vlan} "
            f"{fl.state}, {fl.packets} pkts, {fl.bytes} B, {t['frame']} {fl.first_frame}"
        )
    if f.channel and f.flow is None and f.node is None:
        lines.append(f"      {t['channel']}: {f.channel}")
    return lines


def _state(report: Report, finding: Finding, excepted: bool = False) -> str:
    """` [new]` and the like under --baseline, else nothing."""
    if report.baseline is None:
        return ""
    state = report.baseline.state(finding, excepted)
    escalated = not excepted and finding.fingerprint in report.baseline.escalated
    return f" [{state}{', escalated' if escalated else ''}]"


def render(report: Report, lang: str = "en") -> str:
    """Human-readable report, grouped by rule (worst severity first)."""
    t = _LABELS["ja" if lang == "ja" else "en"]
    topo = report.topology
    out = [
        f"segcheck {report.tool_version} {t[report.command]}: {topo.name} "
        f"({topo.source.path}, {t['profile']} {topo.profile.value})"
    ]
    for cap in report.captures:
        stop = ""
        if cap.stopped_at is not None:
            offset, frame, reason = cap.stopped_at
            stop = f", {t['stopped']} {t['frame']} {frame}, {t['byte_offset']} {offset} ({reason})"
        first = ""
        if cap.first_skipped is not None:
            first = f" ({t['first_skipped']} {cap.first_skipped[0]}: {cap.first_skipped[1]})"
        out.append(
            f"  {cap.path} [{cap.kind}]: {t['read']} {cap.packets_read}, "
            f"{t['skipped']} {cap.packets_skipped}{first}{stop}"
        )
    for item in topo.imports:
        extra = "".join(
            f", {len(values)} {t[key]}"
            for key, values in (
                ("disabled", item.disabled),
                ("unrecognised", item.unrecognised),
                ("undefined", item.undefined),
            )
            if values
        )
        out.append(
            f"  {item.input.path} [{item.format} {item.context} -> {item.node}]: "
            f"{item.status}, {item.permits} {t['permits']}{extra}"
        )
    if report.flows:
        out.append(f"  {t['flows']}: {len(report.flows)}")
    out.append("")
    if report.gaps:
        out.append(t["unusable" if report.evidence is Evidence.UNUSABLE else "incomplete"])
        out.extend(f"  - {gap.text(lang)}" for gap in report.gaps)
        out.append("")
    if not report.findings:
        out.append(t["clean"] if report.separation_proven else t["not_proven"])
    for rule_id, group in by_rule(report.findings):
        items = list(group)
        rule = RULES_BY_ID[rule_id]
        out.append(f"{rule.id}  {rule.name(lang)}  ({len(items)} {t['findings']})")
        for f in items:
            out.extend(_finding_lines(f, lang, t, _state(report, f)))
        out.append("")
    if report.excepted:
        out.append(f"{t['excepted']}: {len(report.excepted)}")
        for f in report.excepted:
            state = _state(report, f, excepted=True)
            out.append(f"  {_where(f)}:{state} {f.channel}: {f.text(lang)}")
        out.append("")
    baseline = report.baseline
    if baseline is not None:
        gating = len(report.gating())
        out.append(
            f"{t['baseline']}: {baseline.path} ({t['gating']} {gating}, "
            f"{t['absent']} {len(baseline.absent)})"
        )
        for f in baseline.absent:
            out.append(f"  {_where(f)}: [{f.severity.value}] [fixed] {f.text(lang)}")
        out.append("")
    summary = report.summary()
    out.append(f"{t['summary']}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    return "\n".join(out) + "\n"
