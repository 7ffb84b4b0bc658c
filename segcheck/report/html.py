"""report.html: one self-contained page of audit evidence, in Japanese or English.

This is the only module that imports jinja2. Autoescaping is on, so names, labels and reasons
from the topology or from packets always render as text. The page carries its CSS and the
diagram's SVG inline, has no script and links nothing outside itself, and prints to A4.
The view model is built here in Python; the template only lays it out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from ..findings import Finding, JudgedFlow, Report, by_rule
from ..flowtypes import is_log
from ..messages import localize
from ..model import Tier
from ..policy import TIER_ORDER, CellKind, cell
from ..rules import RULES, RULES_BY_ID, RULES_VERSION, citations
from ..rules.basis import basis
from . import diagram
from ._common import endpoint_text, endpoints, flow_at, flow_source, tier_label, where
from .conversations import ChannelUse, channel_use, presented
from .labels import Lang, labels, value_word

_BAD_VERDICTS = frozenset({"violation", "suspect"})


# No script, no fetch, no form, no <base>: only the page's own inline CSS (the <style> block
# and Graphviz's style attributes in the inline SVG). A name that slipped past escaping could
# not run or load anything. frame-ancestors is not honoured in a meta tag, so it is left out.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


@functools.cache  # compiling the template costs ~0.1 s of CPU; one environment keeps it
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("segcheck.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass
class _ZoneMatrix:
    zones: list[str]
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _where(f: Finding) -> str:
    return where(f.location, " #")


def matrix_tiers(report: Report) -> tuple[Tier, ...]:
    """The tiers of the matrix used: the built-in ones, then any the topology declares."""
    return (*TIER_ORDER, *report.topology.extra_tiers)


def _policy_matrix(report: Report, t: Mapping[str, str]) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], int] = {}
    covered: dict[tuple[str, str], int] = {}
    for target, facts in ((found, report.findings), (covered, report.excepted)):
        for f in facts:
            # a finding by cause counts once in every tier pair its routes span
            pairs = {(r.src_tier, r.dst_tier) for r in f.routes}
            if not pairs and f.src_tier and f.dst_tier:
                pairs = {(f.src_tier, f.dst_tier)}
            for key in pairs:
                target[key] = target.get(key, 0) + 1
    rows = []
    tiers = matrix_tiers(report)
    for src in tiers:
        cells = []
        for dst in tiers:
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


def _captures(report: Report, t: Mapping[str, str]) -> list[dict[str, Any]]:
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
                "log": is_log(cap.kind),
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


_IMPORT_IDS_SHOWN = 20  # a rule base may disable or shadow thousands: the page names a few
_IMPORT_LINES_SHOWN = 5


def _imports(report: Report, lang: str) -> list[dict[str, Any]]:
    """The import status of each firewall configuration the topology reads: what an auditor
    asks first (disabled and shadowed rules, undefined objects, assumptions taken)."""
    ti = labels(lang, "import")
    out = []
    for item in report.topology.imports:
        notes: list[str] = []
        for key in ("disabled", "shadowed", "matches_nothing"):
            ids: tuple[str, ...] = getattr(item, key)
            if ids:
                shown = ", ".join(ids[:_IMPORT_IDS_SHOWN])
                more = len(ids) - _IMPORT_IDS_SHOWN
                notes.append(
                    f"{ti[key]} ({len(ids)}): {shown}" + (f", … (+{more})" if more > 0 else "")
                )
        for key in ("unrecognised", "undefined", "unused", "warnings"):
            lines: tuple[str, ...] = getattr(item, key)
            if lines:
                more = len(lines) - _IMPORT_LINES_SHOWN
                notes.append(f"{ti[key]} ({len(lines)})" + (f", … (+{more})" if more > 0 else ""))
                notes.extend(localize(line, lang) for line in lines[:_IMPORT_LINES_SHOWN])
        if item.assumptions:
            shown = ", ".join(f"{k} {v}" for k, v in item.assumptions.items())
            notes.append(f"{ti['assumptions']}: {shown}")
        out.append(
            {
                "path": item.input.path,
                "where": f"{item.format} {ti['context']} {item.context}",
                "node": item.node,
                "status": value_word(lang, "status", item.status),
                "permits": item.permits,
                "notes": notes,
            }
        )
    return out


def _use_text(use: ChannelUse | None, t: Mapping[str, str]) -> str | None:
    """A channel's observed use in words; None when no capture was read."""
    if use is None:
        return None
    if not use.flows:
        return t["channel_unused"]
    return (
        f"{t['flows']} {use.flows} ({t['conversations']} {use.conversations}), "
        f"{t['pkts']} {use.packets}, {use.bytes} B, {use.first_seen} .. {use.last_seen}"
    )


def _conversation(f: Finding, t: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
    """The rows a conversation finding adds: totals, time span, first flow, ports and hosts."""
    ev = f.conversation
    if ev is None:
        return []
    first = f"{t['frame']} {ev.first_frame}"
    if ev.first_flow is not None:
        first = flow_at(ev.first_flow, t) + flow_source(ev.first_flow, t)
    return [
        (
            t["conversation"],
            f"{t['flows']} {ev.flows}, {t['pkts']} {ev.packets}, {ev.bytes} B, "
            + value_word(lang, "state", ev.state),
        ),
        (t["seen"], f"{ev.first_seen} .. {ev.last_seen} ({t['first_flow']}: {first})"),
        (
            t["addresses"],
            f"{', '.join(ev.ports)}: {', '.join(ev.src_ips)} → {', '.join(ev.dst_ips)}",
        ),
    ]


def _channels(report: Report, uses: tuple[ChannelUse, ...] = ()) -> list[dict[str, Any]]:
    by_id = {u.channel: u for u in uses}
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
                "use": by_id.get(ch.id),
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class DocumentControl:
    """The cover's document-control block (作成者, 確認者, 版数, 日付); what is not given is
    left blank, to be signed or stamped on paper."""

    author: str | None = None
    reviewer: str | None = None
    revision: str | None = None
    date: str | None = None


MAX_CAUSES = 8  # rows of the cover's summary of causes; the rest are counted


def css_string(text: str) -> Markup:
    """Text as the body of a CSS string: every character but letters and digits escaped, so
    no quote, backslash or `</style>` in a name can end the string or the style sheet."""
    return Markup(
        "".join(ch if ch.isalnum() and ch.isascii() else f"\\{ord(ch):06x}" for ch in text)
    )


def causes_of(report: Report, lang: str) -> dict:
    """The findings gathered by cause, worst first: what the first page says went wrong."""
    rows: dict[str, dict] = {}
    for f in sorted(report.findings, key=lambda f: -f.severity.rank):
        text = f.cause.text(lang) if f.cause is not None else f.text(lang)
        row = rows.setdefault(text, {"text": text, "severity": f.severity.value, "rules": [],
                                     "count": 0})  # fmt: skip
        row["count"] += 1
        if f.rule not in row["rules"]:
            row["rules"].append(f.rule)
    ordered = list(rows.values())
    for row in ordered:
        row["rules"] = ", ".join(row["rules"])
    return {"rows": ordered[:MAX_CAUSES], "more": max(0, len(ordered) - MAX_CAUSES)}


def context(
    report: Report,
    lang: str,
    svg: str | None,
    diagram_note: str | None,
    parts: list[tuple[str, str]] | None = None,
    flat: Report | None = None,
    document: DocumentControl | None = None,
) -> dict:
    """Everything the template shows, computed from the report alone (`flat`: the report
    before its flow findings were grouped into conversations, if they were)."""
    lang = Lang.of(lang)
    t = labels(lang, "html")
    flat = flat or report
    uses = channel_use(flat)
    grouped = None
    if flat is not report and flat.findings:
        grouped = t["grouped"].format(c=len(report.findings), f=len(flat.findings))
    groups = [
        {"rule": RULES_BY_ID[rule_id], "findings": list(items)}
        for rule_id, items in by_rule(report.findings)
    ]
    plan = None
    if report.plan is not None and report.plan.steps:
        p = report.plan
        plan = {
            "head": t["plan_head"].format(n=len(p.steps), m=p.findings),
            "verified": p.verified,
            "note": t["plan_verified"]
            if p.verified
            else t["plan_unverified"].format(r=p.remaining),
            "steps": [
                {"text": step.text(lang), "closes": len(step.closes), "bad": step.disruptive}
                for step in p.steps
            ],
        }
    return {
        "t": t,
        "lang": lang,
        "report": report,
        "topology": report.topology,
        "rules_version": RULES_VERSION,
        "csp": Markup(CONTENT_SECURITY_POLICY),  # a constant: its quotes need no escaping
        "summary": flat.summary(),
        "tiers": matrix_tiers(report),
        "matrix": _policy_matrix(report, t),
        "basis": basis(report.topology, lang),
        "svg": Markup(svg) if svg is not None else None,
        "parts": [(title, Markup(part)) for title, part in parts or ()],
        "plan": plan,
        "end_text": lambda name, unassigned: endpoint_text(name, unassigned, lang),
        "cause_text": lambda f: f.cause.text(lang),
        "fix_parts": lambda f: f.remediation.parts(lang),
        "diagram_note": None if diagram_note is None else localize(diagram_note, lang),
        "groups": groups,
        "captures": _captures(report, t),
        "imports": _imports(report, lang),
        "ti": labels(lang, "import"),
        "log_join": report.log_join or None,
        "drift_text": lambda d: d.text(lang),
        "unmatched_text": lambda u: localize(u, lang),
        "channels": _channels(report, uses),
        "observed": bool(uses),
        "use_text": lambda use: _use_text(use, t),
        "conversation": lambda f: _conversation(f, t, lang),
        "grouped": grouped,
        "rules": RULES,
        "where": _where,
        "endpoints": lambda f: endpoints(f, " → ", lang),
        "tier_label": lambda tier: tier_label(tier, lang),
        "rule_name": lambda rule: rule.name(lang),
        "citations": lambda rule: citations(rule, lang),
        "text": lambda f: f.text(lang),
        "state": lambda f, excepted=False: _state(report, f, excepted, lang),
        "word": lambda group, value: value_word(lang, group, value),
        "message": lambda text: localize(text, lang),
        "baseline": report.baseline,
        "doc": document or DocumentControl(),
        "causes": causes_of(report, lang),
        "page_css": css_string(t["page"]),
        "footer_css": css_string(f"{t['title']}: {report.topology.name}"),
    }


def _state(report: Report, finding: Finding, excepted: bool, lang: str) -> str:
    """`new`, `unchanged`… against --baseline (`escalated` added), else empty."""
    if report.baseline is None:
        return ""
    state = value_word(lang, "baseline", report.baseline.state(finding, excepted))
    if not excepted and finding.fingerprint in report.baseline.escalated:
        state += f", {value_word(lang, 'baseline', 'escalated')}"
    return state


def render_page(
    report: Report,
    lang: str = "en",
    svg: str | None = None,
    diagram_note: str | None = None,
    document: DocumentControl | None = None,
) -> str:
    """The page with a given diagram (already laid out) or a note saying why there is none."""
    template = _env().get_template("report.html.j2")
    flat = report
    report = presented(report)
    parts = None
    width = None if svg is None else diagram.svg_width(svg)
    if width is not None and width > diagram.A4_LEGIBLE_PT:
        try:  # too wide for A4: one diagram per tier keeps the labels legible
            parts = diagram.render_parts(report.topology, report.findings, lang)
        except diagram.DiagramError:
            parts = None
    return template.render(context(report, lang, svg, diagram_note, parts, flat, document))


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
