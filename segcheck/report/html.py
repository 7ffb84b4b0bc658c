"""report.html: one self-contained page of audit evidence, in Japanese or English.

This is the only module that imports jinja2. Autoescaping is on, so names, labels and reasons
from the topology or from packets always render as text. The page carries its CSS and the
diagram's SVG inline, has no script and links nothing outside itself, and prints to A4.
The view model is built here in Python; the template only lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from ..findings import Finding, JudgedFlow, Report, by_rule
from ..model import TIER_NAMES_JA, Tier
from ..policy import TIER_ORDER, CellKind, cell
from ..rules import RULES, RULES_BY_ID, RULES_VERSION, citations
from . import diagram, endpoints

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "title": "Three-tier separation: audit evidence",
        "subtitle": "Network separation (三層の対策) verified by segcheck",
        "topology": "Topology",
        "profile": "Profile",
        "generated": "Generated",
        "judged_on": "Channel expiry judged on",
        "tool": "Tool",
        "rules_version": "Rules version",
        "command": "Command",
        "inputs": "Inputs",
        "path": "Path",
        "kind": "Kind",
        "summary": "Summary",
        "severity": "Severity",
        "count": "Count",
        "verdict_clean": "No findings at any severity: the three-tier separation holds.",
        "verdict_findings": "Findings were made: the separation does not hold as planned.",
        "verdict_not_proven": "No findings in what was seen, but the evidence is incomplete: "
        "the three-tier separation is NOT proven.",
        "evidence_incomplete": "Evidence incomplete: findings stand, but their absence proves "
        "nothing.",
        "evidence_unusable": "Evidence unusable: no traffic was seen in at least one capture.",
        "matrix": "Policy matrix by tier pair",
        "matrix_note": "Rows: initiator tier; columns: responder tier. Red: a finding for this "
        "pair; blue: only paths or flows covered by a channel; green: allowed; grey: restricted, "
        "nothing found.",
        "from_to": "from \\ to",
        "allow": "allow",
        "sanitized": "sanitized only",
        "channel": "channel only",
        "juki-cs or channel": "juki-cs or channel",
        "forbidden": "forbidden",
        "diagram": "Topology diagram",
        "diagram_note": "Zones are clusters coloured by tier; forwarders are hexagons. Red "
        "edges and nodes are the witness paths of findings.",
        "no_diagram": "Diagram not drawn",
        "findings": "Findings",
        "no_findings": "No findings.",
        "where": "Location",
        "zones": "Zones",
        "example": "Example",
        "service": "Service",
        "pairs": "pairs",
        "witness": "Witness path",
        "baseline": "Compared with the baseline",
        "absent": "findings fixed since",
        "permits": "Opening permits",
        "remediation": "Remediation",
        "remove_permits": "remove permits",
        "remove_links": "remove links",
        "flow": "Flow",
        "frame": "frame",
        "node": "Node",
        "channel_id": "Channel",
        "excepted": "Covered by channels",
        "captures": "Captures",
        "packets_read": "Packets read",
        "packets_skipped": "Packets skipped",
        "first_skipped": "first at line",
        "stopped_at": "Stopped at",
        "not_stopped": "read to the end",
        "flow_matrix": "Zone-to-zone flows (flows / bytes)",
        "flow_matrix_note": "Rows: initiator zone; columns: responder zone. Red: a violating "
        "or suspect flow.",
        "unmapped": "(no zone)",
        "no_flows": "No flows.",
        "channels": "Channel register (特定通信 and other exceptions)",
        "no_channels": "No channels declared.",
        "id": "ID",
        "from": "From",
        "to": "To",
        "reason": "Reason",
        "approver": "Approver",
        "ticket": "Ticket",
        "expires": "Expires",
        "status": "Status",
        "expired": "EXPIRED",
        "valid": "valid",
        "no_expiry": "no expiry",
        "catalogue": "Rule catalogue",
        "rule": "Rule",
        "name": "Name",
        "fires": "Fires when",
        "sources": "Sources",
        "byte": "byte",
    },
    "ja": {
        "lang": "ja",
        "title": "三層の対策 監査資料",
        "subtitle": "segcheck によるネットワーク分離の検証結果",
        "topology": "構成",
        "profile": "モデル",
        "generated": "作成日時",
        "judged_on": "例外の期限判定日",
        "tool": "ツール",
        "rules_version": "ルール版",
        "command": "実行内容",
        "inputs": "入力ファイル",
        "path": "パス",
        "kind": "種別",
        "summary": "集計",
        "severity": "重大度",
        "count": "件数",
        "verdict_clean": "指摘なし: 三層分離は保たれている。",
        "verdict_findings": "指摘あり: 計画どおりの分離が保たれていない。",
        "verdict_not_proven": "確認できた範囲に指摘はないが、証跡が不完全: 三層分離は証明されていない。",
        "evidence_incomplete": "証跡が不完全: 指摘は有効だが、指摘がないことは何も証明しない。",
        "evidence_unusable": "証跡が使用不能: 通信が一つも確認できないキャプチャがある。",
        "matrix": "系統間の通信ポリシー",
        "matrix_note": "行: 通信の開始側、列: 応答側。赤: 指摘あり、青: 例外(特定通信)による通信のみ、"
        "緑: 許可、灰: 制限あり・指摘なし。",
        "from_to": "開始 \\ 応答",
        "allow": "許可",
        "sanitized": "無害化経由のみ",
        "channel": "例外のみ",
        "juki-cs or channel": "住基CS経由または例外",
        "forbidden": "禁止",
        "diagram": "ネットワーク構成図",
        "diagram_note": "ゾーンは系統ごとに色分けした枠、転送機器は六角形。赤い線と機器は指摘の経路。",
        "no_diagram": "構成図は作成されていない",
        "findings": "指摘事項",
        "no_findings": "指摘なし。",
        "where": "箇所",
        "zones": "ゾーン",
        "example": "例",
        "service": "サービス",
        "pairs": "組",
        "witness": "経路",
        "baseline": "比較基準との比較",
        "absent": "解消した指摘",
        "permits": "経路を開く許可ルール",
        "remediation": "是正",
        "remove_permits": "許可ルールを削除",
        "remove_links": "接続を削除",
        "flow": "通信",
        "frame": "フレーム",
        "node": "機器",
        "channel_id": "例外",
        "excepted": "例外により許可された経路・通信",
        "captures": "キャプチャ",
        "packets_read": "読込パケット",
        "packets_skipped": "スキップ",
        "first_skipped": "最初は行",
        "stopped_at": "停止位置",
        "not_stopped": "最後まで読込",
        "flow_matrix": "ゾーン間の通信 (フロー数 / バイト数)",
        "flow_matrix_note": "行: 開始側ゾーン、列: 応答側ゾーン。赤: 違反または疑いのある通信を含む。",
        "unmapped": "(ゾーン外)",
        "no_flows": "通信なし。",
        "channels": "例外(特定通信)一覧",
        "no_channels": "例外の登録なし。",
        "id": "ID",
        "from": "送信元",
        "to": "宛先",
        "reason": "理由",
        "approver": "承認者",
        "ticket": "申請番号",
        "expires": "有効期限",
        "status": "状態",
        "expired": "期限切れ",
        "valid": "有効",
        "no_expiry": "期限なし",
        "catalogue": "ルール一覧",
        "rule": "ルール",
        "name": "名称",
        "fires": "検出条件",
        "sources": "根拠",
        "byte": "バイト位置",
    },
}

_BAD_VERDICTS = frozenset({"violation", "suspect"})


# No script, no fetch, no form, no <base>: only the page's own inline CSS (the <style> block
# and Graphviz's style attributes in the inline SVG). A name that slipped past escaping could
# not run or load anything. frame-ancestors is not honoured in a meta tag, so it is left out.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("segcheck.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def tier_label(tier: Tier | str | None, lang: str) -> str:
    """A tier as the page names it (Japanese name under `ja`)."""
    if tier is None:
        return ""
    tier = Tier(tier)
    return TIER_NAMES_JA[tier] if lang == "ja" else tier.value


@dataclass
class _ZoneMatrix:
    zones: list[str]
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _where(f: Finding) -> str:
    loc = f.location
    if loc.frame is not None:
        return f"{loc.path} #{loc.frame}"
    return f"{loc.path}:{loc.line}" if loc.line is not None else loc.path


def _policy_matrix(report: Report, t: dict[str, str]) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], int] = {}
    covered: dict[tuple[str, str], int] = {}
    for target, facts in ((found, report.findings), (covered, report.excepted)):
        for f in facts:
            if f.src_tier and f.dst_tier:
                key = (f.src_tier, f.dst_tier)
                target[key] = target.get(key, 0) + 1
    rows = []
    for src in TIER_ORDER:
        cells = []
        for dst in TIER_ORDER:
            the_cell = cell(src, dst)
            key = (src.value, dst.value)
            if key in found:
                css = "violation"
            elif key in covered:
                css = "excepted"
            elif the_cell.kind is CellKind.ALLOW:
                css = "allow"
            else:
                css = "restricted"
            cells.append(
                {
                    "kind": t[the_cell.kind.value],
                    "rule": the_cell.rule or "",
                    "css": css,
                    "found": found.get(key, 0),
                    "covered": covered.get(key, 0),
                }
            )
        rows.append({"tier": src, "cells": cells})
    return rows


def _zone_key(report: Report, zone: str | None) -> tuple[int, int, str]:
    if zone is None:
        return (1, 0, "")
    try:
        return (0, TIER_ORDER.index(report.topology.zone_tier(zone)), zone)
    except KeyError:
        return (0, len(TIER_ORDER), zone)


def _flow_matrix(report: Report, flows: list[JudgedFlow], unmapped: str) -> _ZoneMatrix:
    names = {z for row in flows for z in (row.src_zone, row.dst_zone)}
    ordered = sorted(names, key=lambda z: _zone_key(report, z))
    matrix = _ZoneMatrix([z if z is not None else unmapped for z in ordered])
    for row in flows:
        key = (row.src_zone or unmapped, row.dst_zone or unmapped)
        entry = matrix.cells.setdefault(key, {"flows": 0, "bytes": 0, "bad": False})
        entry["flows"] += 1
        entry["bytes"] += row.flow.bytes
        entry["bad"] = entry["bad"] or row.verdict in _BAD_VERDICTS
    return matrix


def _captures(report: Report, t: dict[str, str]) -> list[dict[str, Any]]:
    by_input: dict[str, list[JudgedFlow]] = {}
    for row in report.flows:
        by_input.setdefault(row.flow.input, []).append(row)
    out = []
    for cap in report.captures:
        flows = by_input.pop(cap.path, [])
        out.append(
            {
                "path": cap.path,
                "kind": cap.kind,
                "sha256": cap.sha256,
                "read": cap.packets_read,
                "skipped": cap.packets_skipped,
                "first_skipped": cap.first_skipped,
                "stopped": cap.stopped_at,
                "flows": len(flows),
                "matrix": _flow_matrix(report, flows, t["unmapped"]),
            }
        )
    for path in sorted(by_input):  # flows whose input is not a listed capture (defensive)
        flows = by_input[path]
        out.append(
            {
                "path": path,
                "kind": "",
                "sha256": "",
                "read": None,
                "skipped": None,
                "first_skipped": None,
                "stopped": None,
                "flows": len(flows),
                "matrix": _flow_matrix(report, flows, t["unmapped"]),
            }
        )
    return out


def _channels(report: Report) -> list[dict[str, Any]]:
    rows = []
    for ch in sorted(report.topology.channels, key=lambda c: c.id):
        expires = ch.expires.isoformat() if ch.expires is not None else ""
        rows.append(
            {
                "id": ch.id,
                "from": str(ch.source),
                "to": str(ch.destination),
                "service": ", ".join(ch.services),
                "reason": ch.reason,
                "approver": ch.approved_by or "",
                "ticket": ch.ticket or "",
                "expires": expires,
                "expired": bool(expires and report.today and expires < report.today),
                "line": ch.line,
            }
        )
    return rows


def context(report: Report, lang: str, svg: str | None, diagram_note: str | None) -> dict:
    """Everything the template shows, computed from the report alone."""
    lang = "ja" if lang == "ja" else "en"
    t = LABELS[lang]
    groups = [
        {"rule": RULES_BY_ID[rule_id], "findings": list(items)}
        for rule_id, items in by_rule(report.findings)
    ]
    return {
        "t": t,
        "lang": lang,
        "report": report,
        "topology": report.topology,
        "rules_version": RULES_VERSION,
        "csp": Markup(CONTENT_SECURITY_POLICY),  # a constant: its quotes need no escaping
        "summary": report.summary(),
        "tiers": TIER_ORDER,
        "matrix": _policy_matrix(report, t),
        "svg": Markup(svg) if svg is not None else None,
        "diagram_note": diagram_note,
        "groups": groups,
        "captures": _captures(report, t),
        "channels": _channels(report),
        "rules": RULES,
        "where": _where,
        "endpoints": lambda f: endpoints(f, " → "),
        "tier_label": lambda tier: tier_label(tier, lang),
        "rule_name": lambda rule: rule.name(lang),
        "citations": lambda rule: citations(rule, lang),
        "text": lambda f: f.text(lang),
        "state": lambda f, excepted=False: _state(report, f, excepted),
        "baseline": report.baseline,
    }


def _state(report: Report, finding: Finding, excepted: bool) -> str:
    """`new`, `unchanged`… against --baseline (`escalated` added), else empty."""
    if report.baseline is None:
        return ""
    state = report.baseline.state(finding, excepted)
    if not excepted and finding.fingerprint in report.baseline.escalated:
        state += ", escalated"
    return state


def render_page(
    report: Report, lang: str = "en", svg: str | None = None, diagram_note: str | None = None
) -> str:
    """The page with a given diagram (already laid out) or a note saying why there is none."""
    template = _env().get_template("report.html.j2")
    return template.render(context(report, lang, svg, diagram_note))


def diagram_for(report: Report, lang: str) -> tuple[str | None, str | None]:
    """The report's diagram as SVG, or None and the reason it could not be drawn."""
    try:
        return diagram.render_svg(report.topology, report.findings, lang), None
    except diagram.DiagramError as exc:
        return None, str(exc)


def render(report: Report, lang: str = "en") -> str:
    """report.html (`--format html`); without Graphviz, a note replaces the diagram."""
    svg, note = diagram_for(report, lang)
    return render_page(report, lang, svg, note)
