"""Markdown (`check --format md`): the findings of a plan, to paste into a change request.

Everything from the topology is escaped for Markdown tables and inline text, so a node named
`|x|` or `<img>` can neither break the table nor inject HTML into the rendered request.
"""

from __future__ import annotations

import re

from ..findings import Evidence, Finding, Report, by_rule
from ..rules import RULES_BY_ID, RULES_VERSION

_LABELS = {
    "en": {
        "title": "Three-tier separation check",
        "topology": "Topology",
        "profile": "Profile",
        "generated": "Generated",
        "tool": "Tool",
        "rules": "rules version",
        "inputs": "Inputs",
        "kind": "kind",
        "summary": "Summary",
        "severity": "severity",
        "count": "count",
        "findings": "Findings",
        "clean": "No findings: the three-tier separation holds.",
        "not_proven": "No findings in what was seen: the three-tier separation is **not proven**.",
        "incomplete": "Evidence incomplete",
        "unusable": "Evidence unusable",
        "gaps_note": "The findings stand, but what was not seen below means their absence "
        "proves nothing: the separation is **not proven**.",
        "where": "where",
        "pair": "zones",
        "ends": "example",
        "path": "path",
        "permits": "permits",
        "fix": "fix",
        "remove_permit": "remove permit",
        "remove_link": "remove link",
        "excepted": "Covered by channels",
        "channel": "channel",
        "message": "message",
        "rule": "rule",
        "channels": "Channel register",
        "id": "id",
        "from": "from",
        "to": "to",
        "service": "service",
        "reason": "reason",
        "approver": "approver",
        "ticket": "ticket",
        "expires": "expires",
        "expired": "EXPIRED",
        "baseline": "Compared with the baseline",
        "absent": "findings fixed since",
    },
    "ja": {
        "title": "三層分離 構成検査",
        "topology": "構成",
        "profile": "モデル",
        "generated": "作成日時",
        "tool": "ツール",
        "rules": "ルール版",
        "inputs": "入力",
        "kind": "種別",
        "summary": "集計",
        "severity": "重大度",
        "count": "件数",
        "findings": "指摘事項",
        "clean": "指摘なし: 三層分離は保たれている。",
        "not_proven": "確認できた範囲に指摘なし: 三層分離は**証明されていない**。",
        "incomplete": "証跡が不完全",
        "unusable": "証跡が使用不能",
        "gaps_note": "指摘は有効だが、以下の未確認部分があるため、指摘がないことは何も証明しない: "
        "三層分離は**証明されていない**。",
        "where": "箇所",
        "pair": "ゾーン",
        "ends": "例",
        "path": "経路",
        "permits": "許可ルール",
        "fix": "是正",
        "remove_permit": "許可ルールを削除",
        "remove_link": "接続を削除",
        "excepted": "例外により許可された経路",
        "channel": "例外",
        "message": "内容",
        "rule": "ルール",
        "channels": "例外(特定通信)一覧",
        "id": "ID",
        "from": "送信元",
        "to": "宛先",
        "service": "サービス",
        "reason": "理由",
        "approver": "承認者",
        "ticket": "申請番号",
        "expires": "有効期限",
        "expired": "期限切れ",
        "baseline": "比較基準との比較",
        "absent": "解消した指摘",
    },
}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """Inline Markdown text: special characters escaped, line breaks flattened."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", flat)


def _where(f: Finding) -> str:
    loc = f.location
    if loc.frame is not None:
        return f"{loc.path}#{loc.frame}"
    return f"{loc.path}:{loc.line}" if loc.line is not None else loc.path


def _state(report: Report, finding: Finding, excepted: bool = False) -> str:
    """` [new]` and the like against --baseline, else empty."""
    if report.baseline is None:
        return ""
    state = report.baseline.state(finding, excepted)
    if not excepted and finding.fingerprint in report.baseline.escalated:
        state += ", escalated"
    return f" \\[{state}\\]"


def _finding(f: Finding, t: dict[str, str], lang: str, state: str = "") -> list[str]:
    out = [
        f"- **{f.severity.value}**{state} {md(f.text(lang))}",
        f"  - {t['where']}: {md(_where(f))}",
    ]
    if f.src_zone and f.dst_zone:
        service = f" ({md(f.service)})" if f.service else ""
        out.append(
            f"  - {t['pair']}: {md(f.src_zone)} ({md(f.src_tier)}) → "
            f"{md(f.dst_zone)} ({md(f.dst_tier)}); {t['ends']}: {md(f.src)} → {md(f.dst)}"
            f"{service} ×{f.count}"
        )
    if f.path:
        out.append(f"  - {t['path']}: {' → '.join(md(hop) for hop in f.path)}")
    if f.permits:
        out.append(f"  - {t['permits']}: {', '.join(md(p) for p in f.permits)}")
    rem = f.remediation
    if rem is not None and (rem.remove_permits or rem.remove_links):
        fixes = [f"{t['remove_permit']} {md(p)}" for p in rem.remove_permits]
        fixes += [f"{t['remove_link']} {md(link)}" for link in rem.remove_links]
        out.append(f"  - {t['fix']}: {'; '.join(fixes)}")
    if f.flow is not None:
        fl = f.flow
        out.append(
            f"  - {md(fl.proto)} {md(fl.src_ip)}:{fl.src_port} → {md(fl.dst_ip)}:{fl.dst_port} "
            f"{md(fl.state)}"
        )
    return out


def render(report: Report, lang: str = "en") -> str:
    """A Markdown summary: header, inputs, severity counts, findings by rule, channels."""
    t = _LABELS["ja" if lang == "ja" else "en"]
    topo = report.topology
    out = [
        f"# {t['title']}: {md(topo.name)}",
        "",
        f"- {t['topology']}: {md(topo.source.path)}",
        f"- {t['profile']}: {md(topo.profile.value)}",
        f"- {t['generated']}: {md(report.generated_at)}",
        f"- {t['tool']}: segcheck {md(report.tool_version)}, {t['rules']} {RULES_VERSION}",
        "",
        f"## {t['inputs']}",
        "",
        f"| {t['inputs']} | {t['kind']} | SHA-256 |",
        "|---|---|---|",
    ]
    out += [f"| {md(i.path)} | {md(i.kind)} | `{i.sha256}` |" for i in report.inputs]
    if report.gaps:
        heading = t["unusable" if report.evidence is Evidence.UNUSABLE else "incomplete"]
        out += ["", f"## {heading}", "", t["gaps_note"], ""]
        out += [f"- {md(gap.text(lang))}" for gap in report.gaps]
    out += ["", f"## {t['summary']}", "", f"| {t['severity']} | {t['count']} |", "|---|---|"]
    out += [f"| {sev} | {n} |" for sev, n in report.summary().items()]
    out += ["", f"## {t['findings']}", ""]
    if not report.findings:
        out += [t["clean"] if report.separation_proven else t["not_proven"], ""]
    for rule_id, group in by_rule(report.findings):
        rule = RULES_BY_ID[rule_id]
        out += [f"### {rule.id}: {md(rule.name(lang))}", ""]
        for f in group:
            out += _finding(f, t, lang, _state(report, f))
        out.append("")
    if report.excepted:
        out += [
            f"## {t['excepted']}",
            "",
            f"| {t['channel']} | {t['rule']} | {t['message']} |",
            "|---|---|---|",
        ]
        out += [
            f"| {md(f.channel)}{_state(report, f, True)} | {f.rule} | {md(f.text(lang))} |"
            for f in report.excepted
        ]
        out.append("")
    if report.baseline is not None:
        out += [f"## {t['baseline']}: {md(report.baseline.path)}", ""]
        out += [f"- {t['absent']}: {len(report.baseline.absent)}"]
        for f in report.baseline.absent:
            out += _finding(f, t, lang, " \\[fixed\\]")
        out.append("")
    if topo.channels:
        cols = ("id", "from", "to", "service", "reason", "approver", "ticket", "expires")
        out += [f"## {t['channels']}", "", "| " + " | ".join(t[c] for c in cols) + " |"]
        out.append("|" + "---|" * len(cols))
        for ch in sorted(topo.channels, key=lambda c: c.id):
            expires = ch.expires.isoformat() if ch.expires else ""
            if ch.expires is not None and report.today and expires < report.today:
                expires = f"**{t['expired']}** {expires}"
            cells = (
                md(ch.id),
                md(ch.source),
                md(ch.destination),
                md(", ".join(ch.services)),
                md(ch.reason),
                md(ch.approved_by),
                md(ch.ticket),
                expires,
            )
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)
