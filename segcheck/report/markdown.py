"""Markdown (`check --format md`): the findings of a plan, to paste into a change request.

Everything from the topology is escaped for Markdown tables and inline text, so a node named
`|x|` or `<img>` can neither break the table nor inject HTML into the rendered request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..findings import Evidence, Finding, Report, by_rule
from ..messages import localize
from ..rules import RULES_BY_ID, RULES_VERSION
from ..rules.basis import basis
from ._common import FIX_KEYS, ONE_FIX, endpoint_text, finding_facts, flow_source, where
from .labels import labels, tier_word, value_word

_JOIN = {"path": " → ", "permits": ", "}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


# An underscore inside a word is never emphasis (CommonMark): `lgwan_gov_cloud_link` as is.
_INTRAWORD = re.compile(r"(?<=\w)\\_(?=\w)")


def md(text: object) -> str:
    """Inline Markdown text: special characters escaped, line breaks flattened."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", flat)


def _state(report: Report, finding: Finding, lang: str, excepted: bool = False) -> str:
    """` [new]` and the like against --baseline, else empty."""
    if report.baseline is None:
        return ""
    state = value_word(lang, "baseline", report.baseline.state(finding, excepted))
    if not excepted and finding.fingerprint in report.baseline.escalated:
        state += f", {value_word(lang, 'baseline', 'escalated')}"
    return f" \\[{state}\\]"


def _finding(f: Finding, t: Mapping[str, str], lang: str, state: str = "") -> list[str]:
    out = [
        f"- **{value_word(lang, 'severity', f.severity.value)}**{state} {md(f.text(lang))}",
        f"  - {t['where']}: {md(where(f.location))}",
    ]
    if f.cause is not None:
        out.append(f"  - {t['cause']}: {md(f.cause.text(lang))}")
    if f.routes:  # a finding by cause: every zone pair it spans
        out.append(f"  - {t['routes']}:")
        for r in f.routes:
            src = endpoint_text(r.src, r.src_unassigned, lang)
            dst = endpoint_text(r.dst, r.dst_unassigned, lang)
            out.append(
                f"    - {md(r.src_zone)} ({md(tier_word(lang, r.src_tier))}) → {md(r.dst_zone)} "
                f"({md(tier_word(lang, r.dst_tier))}): {md(src)} → {md(dst)} ({md(r.service)}) "
                f"×{r.count}"
            )
    elif f.src_zone and f.dst_zone:
        service = f" ({md(f.service)})" if f.service else ""
        out.append(
            f"  - {t['pair']}: {md(f.src_zone)} ({md(tier_word(lang, f.src_tier))}) → "
            f"{md(f.dst_zone)} ({md(tier_word(lang, f.dst_tier))}); "
            f"{t['ends']}: {md(f.src)} → {md(f.dst)}"
            f"{service} ×{f.count}"
        )
    fixes: list[str] = []
    for key, items in finding_facts(f):
        if key in FIX_KEYS:
            fixes += (f"{t[ONE_FIX[key]]} {md(item)}" for item in items)
        else:
            out.append(f"  - {t[key]}: {_JOIN[key].join(md(item) for item in items)}")
    if fixes:
        out.append(f"  - {t['fix']}: {'; '.join(fixes)}")
    if f.flow is not None:
        fl = f.flow
        out.append(
            f"  - {md(fl.proto)} {md(fl.src_ip)}:{fl.src_port} → {md(fl.dst_ip)}:{fl.dst_port} "
            f"{md(value_word(lang, 'state', fl.state))}{md(flow_source(fl, t)) if fl.line is not None else ''}"
        )
    return out


def _log_join(report: Report, t: Mapping[str, str], lang: str) -> list[str]:
    """Firewall logs against imported configurations: drift, then use per permit (棚卸し)."""
    join = report.log_join
    if not join:
        return []
    out = [f"## {t['log_join']}", ""]
    if join.drift:
        out += [f"### {t['drift']}", ""]
        baseline = report.baseline  # under --baseline: [new] or [unchanged], as findings
        for d in join.drift:
            state = ""
            if baseline is not None:
                state = f"\\[{value_word(lang, 'baseline', baseline.drift_state(d))}\\] "
            out.append(f"- {state}{md(d.text(lang))}")
        out.append("")
    if join.permits:
        cols = ("node", "rule", "name", "where", "log_flows", "log_forbidden", "last_seen")
        out += [f"### {t['permit_use']}", "", "| " + " | ".join(t[c] for c in cols) + " |"]
        out.append("|" + "---|" * len(cols))
        for p in join.permits:
            cells = (
                md(p.node),
                md(p.rule),
                md(p.name),
                md(p.where),
                str(p.flows),
                str(p.violations),
                md(p.last_seen) if p.last_seen else t["never_used"],
            )
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    if join.unmatched:
        out += [f"### {t['unmatched']}", ""]
        out += [f"- {md(localize(u, lang))}" for u in join.unmatched]
        out.append("")
    return out


def render(report: Report, lang: str = "en") -> str:
    """A Markdown summary: header, inputs, severity counts, findings by rule, channels."""
    t = labels(lang, "md")
    topo = report.topology
    out = [
        f"# {t['title']}: {md(topo.name)}",
        "",
        f"- {t['topology']}: {md(topo.source.path)}",
        f"- {t['profile']}: {md(value_word(lang, 'profile_name', topo.profile.value))}",
        f"- {t['generated']}: {md(report.generated_at)}",
        f"- {t['tool']}: segcheck {md(report.tool_version)}, {t['rules']} {RULES_VERSION}",
        *(f"- {label}: {_INTRAWORD.sub('_', md(text))}" for label, text in basis(topo, lang)),
        "",
        f"## {t['inputs']}",
        "",
        f"| {t['inputs']} | {t['kind']} | SHA-256 |",
        "|---|---|---|",
    ]
    out += [
        f"| {md(i.path)} | {md(value_word(lang, 'kind', i.kind))} | `{i.sha256}` |"
        for i in report.inputs
    ]
    if report.gaps:
        heading = t["unusable" if report.evidence is Evidence.UNUSABLE else "incomplete"]
        out += ["", f"## {heading}", "", t["gaps_note"], ""]
        out += [f"- {md(gap.text(lang))}" for gap in report.gaps]
    out += ["", f"## {t['summary']}", "", f"| {t['severity']} | {t['count']} |", "|---|---|"]
    out += [f"| {value_word(lang, 'severity', sev)} | {n} |" for sev, n in report.summary().items()]
    plan = report.plan
    if plan is not None and plan.steps:
        note = (
            t["plan_verified"] if plan.verified else t["plan_unverified"].format(r=plan.remaining)
        )
        head = t["plan_head"].format(n=len(plan.steps), m=plan.findings)
        out += ["", f"## {t['plan']}", "", f"{head} ({note})", ""]
        for i, step in enumerate(plan.steps, 1):
            out.append(f"{i}. {md(step.text(lang))} ({t['closes']}: {len(step.closes)})")
    out += ["", f"## {t['findings']}", ""]
    if not report.findings:
        out += [t["clean"] if report.separation_proven else t["not_proven"], ""]
    for rule_id, group in by_rule(report.findings):
        rule = RULES_BY_ID[rule_id]
        out += [f"### {rule.id}: {md(rule.name(lang))}", ""]
        for f in group:
            out += _finding(f, t, lang, _state(report, f, lang))
        out.append("")
    if report.excepted:
        out += [
            f"## {t['excepted']}",
            "",
            f"| {t['channel']} | {t['rule']} | {t['message']} |",
            "|---|---|---|",
        ]
        out += [
            f"| {md(f.channel)}{_state(report, f, lang, True)} | {f.rule} | {md(f.text(lang))} |"
            for f in report.excepted
        ]
        out.append("")
    if report.baseline is not None:
        out += [f"## {t['baseline']}: {md(report.baseline.path)}", ""]
        absent = len(report.baseline.absent) + len(report.baseline.absent_drift)
        out += [f"- {t['absent']}: {absent}"]
        for f in report.baseline.absent:
            out += _finding(f, t, lang, f" \\[{value_word(lang, 'baseline', 'fixed')}\\]")
        for d in report.baseline.absent_drift:  # drift the logs no longer show
            out += [f"- \\[{value_word(lang, 'baseline', 'fixed')}\\] {md(d.text(lang))}"]
        out.append("")
    out += _log_join(report, t, lang)
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
