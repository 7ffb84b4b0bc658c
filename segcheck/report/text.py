"""Terminal output: findings grouped by rule, in English or Japanese."""

from __future__ import annotations

from collections.abc import Mapping

from ..findings import ConversationEvidence, Evidence, Finding, FixPlan, Report, by_rule
from ..flowtypes import is_log
from ..messages import localize
from ..rules import RULES_BY_ID
from ..rules.basis import basis
from ._common import (
    FIX_KEYS,
    endpoint_text,
    endpoints,
    finding_facts,
    flow_at,
    flow_source,
    where,
)
from .conversations import channel_use, presented
from .labels import labels, tier_word, value_word

_JOIN = {"path": " > ", "permits": ", "}
MAX_ROUTES = 24  # zone pairs listed per finding; the rest are counted


def _zone(zone: str | None, tier: str | None, lang: str, t: Mapping[str, str]) -> str:
    return f"{zone} ({tier_word(lang, tier)})" if zone else t["unmapped"]


def _finding_lines(f: Finding, lang: str, t: Mapping[str, str], state: str = "") -> list[str]:
    severity = value_word(lang, "severity", f.severity.value)
    lines = [f"  {where(f.location)}: [{severity}]{state} {f.text(lang)}"]
    if f.cause is not None:
        lines.append(f"      {t['cause']}: {f.cause.text(lang)}")
    if f.routes:  # a finding by cause: every zone pair it spans, the first with its route
        for r in f.routes[:MAX_ROUTES]:
            pair = (
                f"{_zone(r.src_zone, r.src_tier, lang, t)} -> "
                f"{_zone(r.dst_zone, r.dst_tier, lang, t)}"
            )
            ends = (
                f"{endpoint_text(r.src, r.src_unassigned, lang)} -> "
                f"{endpoint_text(r.dst, r.dst_unassigned, lang)}"
            )
            lines.append(f"      {pair}: {ends}  {r.service}  [{r.count} {t['pairs']}]")
        if len(f.routes) > MAX_ROUTES:
            lines.append("      " + t["more_pairs"].format(n=len(f.routes) - MAX_ROUTES))
    elif f.conversation is not None:  # its hosts and service are in the message
        if f.src_zone or f.dst_zone:
            lines.append(
                f"      {_zone(f.src_zone, f.src_tier, lang, t)} -> "
                f"{_zone(f.dst_zone, f.dst_tier, lang, t)}"
            )
    else:
        plain = endpoints(f, lang=lang)
        if (f.src_zone or f.dst_zone) and plain is not None:
            pair = (
                f"{_zone(f.src_zone, f.src_tier, lang, t)} -> "
                f"{_zone(f.dst_zone, f.dst_tier, lang, t)}"
            )
            count = f"  [{f.count} {t['pairs']}]" if f.count > 1 else ""
            svc = f"  {f.service}" if f.service else ""
            lines.append(f"      {pair}: {plain}{svc}{count}")
    fixes = []
    for key, items in finding_facts(f):
        if key in FIX_KEYS:
            fixes.append(f"{t[key]} {', '.join(items)}")
        else:
            lines.append(f"      {t[key]}: {_JOIN[key].join(items)}")
    if fixes:
        lines.append(f"      {t['fix']}: {'; '.join(fixes)}")
    if f.flow is not None:
        fl = f.flow
        vlan = f" vlan {fl.vlan}" if fl.vlan is not None else ""
        lines.append(
            f"      {fl.proto} {fl.src_ip}:{fl.src_port} -> {fl.dst_ip}:{fl.dst_port}{vlan} "
            f"{value_word(lang, 'state', fl.state)}, {fl.packets} {t['pkts']}, {fl.bytes} B, {flow_at(fl, t)}{flow_source(fl, t)}"
        )
    if f.conversation is not None:
        lines.extend(conversation_lines(f, f.conversation, t, lang))
    if f.channel and f.flow is None and f.conversation is None and f.node is None:
        lines.append(f"      {t['channel']}: {f.channel}")
    return lines


MAX_ADDRESSES = 4  # addresses listed per host of a conversation; more are counted


def _addresses(ips: tuple[str, ...]) -> str:
    shown = ", ".join(ips[:MAX_ADDRESSES])
    return shown + (f" +{len(ips) - MAX_ADDRESSES}" if len(ips) > MAX_ADDRESSES else "")


def _first(ev: ConversationEvidence, t: Mapping[str, str]) -> str:
    """Where the first flow was seen (a log's line, pivot and device verdict too)."""
    if ev.first_flow is None:
        return f"{t['frame']} {ev.first_frame}"
    return flow_at(ev.first_flow, t) + flow_source(ev.first_flow, t)


def conversation_lines(
    f: Finding, ev: ConversationEvidence, t: Mapping[str, str], lang: str
) -> list[str]:
    """A conversation's totals, time span and first frame; then its addresses, when a host is a
    node (its name alone does not say which of its addresses talked)."""
    lines = [
        f"      {t['flows']} {ev.flows}, {t['pkts']} {ev.packets}, {ev.bytes} B, "
        f"{value_word(lang, 'state', ev.state)}, {ev.first_seen} .. {ev.last_seen}, "
        f"{_first(ev, t)}"
    ]
    if ev.src_ips != (f.src,) or ev.dst_ips != (f.dst,):
        lines.append(f"      {_addresses(ev.src_ips)} -> {_addresses(ev.dst_ips)}")
    return lines


def _state(report: Report, finding: Finding, lang: str, excepted: bool = False) -> str:
    """` [new]` and the like under --baseline, else nothing."""
    if report.baseline is None:
        return ""
    state = value_word(lang, "baseline", report.baseline.state(finding, excepted))
    escalated = not excepted and finding.fingerprint in report.baseline.escalated
    more = f", {value_word(lang, 'baseline', 'escalated')}" if escalated else ""
    return f" [{state}{more}]"


def plan_lines(plan: FixPlan, lang: str, t: Mapping[str, str]) -> list[str]:
    """The fix plan: a head line, then one numbered line per change."""
    head = t["plan_head"].format(n=len(plan.steps), m=plan.findings)
    note = t["plan_verified"] if plan.verified else t["plan_unverified"].format(r=plan.remaining)
    out = [f"{t['plan']}: {head} ({note})"]
    for i, step in enumerate(plan.steps, 1):
        out.append(f"  {i}. {step.text(lang)}  [{len(step.closes)} {t['closes']}]")
    return out


def _log_join_lines(report: Report, lang: str, t: Mapping[str, str]) -> list[str]:
    """Firewall logs against imported configurations: drift first, then use per permit."""
    join = report.log_join
    if not join:
        return []
    out: list[str] = []
    baseline = report.baseline
    if join.drift:
        out.append(f"{t['drift']}:")
        for d in join.drift:
            state = ""  # under --baseline: [new] or [unchanged], as findings show theirs
            if baseline is not None:
                state = f"[{value_word(lang, 'baseline', baseline.drift_state(d))}] "
            out.append(f"  - {state}{d.text(lang)}")
        out.append("")
    if join.permits:
        out.append(f"{t['permit_use']}:")
        for p in join.permits:
            name = f" {p.name}" if p.name else ""
            use = (
                t["flows_through"].format(flows=p.flows, violations=p.violations, last=p.last_seen)
                if p.flows
                else t["never_used"]
            )
            at = f" ({p.where})" if p.where else ""
            out.append(f"  {p.node} {p.rule}{name}{at}: {use}")
        out.append("")
    if join.unmatched:
        out.append(f"{t['unmatched']}:")
        out.extend(f"  - {localize(u, lang)}" for u in join.unmatched)
        out.append("")
    return out


def render(report: Report, lang: str = "en") -> str:
    """Human-readable report, grouped by rule (worst severity first); flow findings as
    conversations unless the report is grouped by flow."""
    t = labels(lang, "text")
    flat = report
    report = presented(report)
    topo = report.topology
    out = [
        f"segcheck {report.tool_version} {t[report.command]}: {topo.name} "
        f"({topo.source.path}, {value_word(lang, 'profile', topo.profile.value)})"
    ]
    out.extend(f"  {label}: {text}" for label, text in basis(topo, lang))
    for cap in report.captures:
        stop = ""
        if cap.stopped_at is not None:
            offset, frame, reason = cap.stopped_at
            stop = (
                f", {t['stopped']} {t['frame']} {frame}, {t['byte_offset']} {offset} "
                f"({localize(reason, lang)})"
            )
        first = ""
        if cap.first_skipped is not None:
            line, why = cap.first_skipped
            first = f" ({t['first_skipped']} {line}: {localize(why, lang)})"
        out.append(
            f"  {cap.path} [{cap.kind}]: {t['read_records' if is_log(cap.kind) else 'read']} "
            f"{cap.packets_read}, "
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
            f"{value_word(lang, 'status', item.status)}, {item.permits} {t['permits']}{extra}"
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
    if report.plan is not None and report.plan.steps:
        out.extend(plan_lines(report.plan, lang, t))
        out.append("")
    if report is not flat and flat.findings:
        out.append(t["grouped"].format(c=len(report.findings), f=len(flat.findings)))
        out.append("")
    for rule_id, group in by_rule(report.findings):
        items = list(group)
        rule = RULES_BY_ID[rule_id]
        count = t["finding" if len(items) == 1 else "findings"]
        out.append(f"{rule.id}  {rule.name(lang)}  ({len(items)} {count})")
        for f in items:
            out.extend(_finding_lines(f, lang, t, _state(report, f, lang)))
        out.append("")
    if report.excepted:
        out.append(f"{t['excepted']}: {len(report.excepted)}")
        for f in report.excepted:
            state = _state(report, f, lang, excepted=True)
            out.append(f"  {where(f.location)}:{state} {f.channel}: {f.text(lang)}")
        out.append("")
    uses = channel_use(flat)
    if uses:
        out.append(f"{t['channel_use']}:")
        for use in uses:
            if not use.flows:
                out.append(f"  {use.channel}: {t['channel_unused']}")
                continue
            out.append(
                f"  {use.channel}: {t['flows']} {use.flows} ({t['conversations']} "
                f"{use.conversations}), {t['pkts']} {use.packets}, {use.bytes} B, "
                f"{use.first_seen} .. {use.last_seen}"
            )
        out.append("")
    baseline = report.baseline
    if baseline is not None:
        gating = len(report.gating()) + len(report.gating_drift())  # what fails the run
        absent = len(baseline.absent) + len(baseline.absent_drift)
        out.append(
            f"{t['baseline']}: {baseline.path} ({t['gating']} {gating}, {t['absent']} {absent})"
        )
        for f in baseline.absent:
            severity = value_word(lang, "severity", f.severity.value)
            fixed = value_word(lang, "baseline", "fixed")
            out.append(f"  {where(f.location)}: [{severity}] [{fixed}] {f.text(lang)}")
        for d in baseline.absent_drift:  # drift the baseline had that the logs no longer show
            fixed = value_word(lang, "baseline", "fixed")
            out.append(f"  - [{fixed}] {d.text(lang)}")
        out.append("")
    out.extend(_log_join_lines(report, lang, t))
    summary = flat.summary()  # findings, not conversations: as JSON and the exit status count
    out.append(
        f"{t['summary']}: "
        + ", ".join(f"{value_word(lang, 'severity', k)} {v}" for k, v in summary.items())
    )
    return "\n".join(out) + "\n"
