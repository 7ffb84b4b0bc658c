"""The diff in Markdown, to paste into a change request (変更申請) or a CAB ticket.

Everything from the inputs is escaped (report.markdown.md), so names cannot break a table or
inject HTML into the rendered ticket.
"""

from __future__ import annotations

from ..report.labels import value_word
from ..report.markdown import md
from ..rules import Severity
from .model import STATE_ORDER, Diff, Side, State
from .words import (
    ACTION_SIGNS,
    cause_text,
    detail,
    drift_sections,
    drift_where,
    effect,
    exit_line,
    labels,
    plan_detail,
    plan_title,
    side_inputs,
    state_name,
    what,
    where,
)


def render(diff: Diff, lang: str = "en", *, show_unchanged: bool = False) -> str:
    """Header table of both sides, the verdict, counts, plan changes, findings by state."""
    t = labels(lang)
    old, new = diff.old, diff.new
    out = [
        f"# {t['title']}: {md(new.name or new.path)}",
        "",
        f"| | {t['old']} | {t['new']} |",
        "|---|---|---|",
        f"| {t['inputs']} | {md(old.path)} | {md(new.path)} |",
        f"| {t['kind']} | {_kind(old, lang)} | {_kind(new, lang)} |",
        f"| SHA-256 | `{old.sha256}` | `{new.sha256}` |",
        f"| {t['today']} | {md(old.today)} | {md(new.today)} |",
        f"| {t['read']} | {'<br>'.join(md(i) for i in side_inputs(old, lang))} "
        f"| {'<br>'.join(md(i) for i in side_inputs(new, lang))} |",
        "",
        f"- {t['generated']}: {md(diff.generated_at)}, segcheck {md(diff.tool_version)}",
    ]
    out += [f"- {t['note']}: {md(note)}" for note in diff.notes]
    out += [f"- {md(gap.text(lang))}" for gap in new.gaps]
    out += ["", f"**{t['verdict']}**: {md(exit_line(diff, lang))}", ""]
    sevs = [s.value for s in Severity]
    heads = [value_word(lang, "severity", s) for s in sevs]
    if diff.drift:  # a column only where there is drift (other diffs keep their bytes)
        heads.append(t["drift_column"])
    out += [f"## {t['summary']}", "", f"| {t['state']} | " + " | ".join(heads) + " |"]
    out.append("|---|" + "---|" * len(heads))
    summary, drift = diff.summary(), diff.drift_summary()
    for state in STATE_ORDER:
        cells = [str(summary[state.value][s]) for s in sevs]
        cells += [str(drift[state.value])] if diff.drift else []
        out.append(f"| {state_name(state, lang)} | " + " | ".join(cells) + " |")
    out += ["", f"## {t['plan']}", ""]
    if diff.plan is None:
        out += [md(t["no_plan"]), ""]
    elif not diff.plan:
        out += [t["plan_none"], ""]
    else:
        out += [
            f"| | {t['change']} | {t['detail']} | {t['effect']} |",
            "|---|---|---|---|",
        ]
        for plan_change in diff.plan:
            sign = md(ACTION_SIGNS[plan_change.action])
            out.append(
                f"| {sign} | {md(plan_title(plan_change, lang))} | {md(plan_detail(plan_change, lang))} "
                f"| {md(effect(diff, plan_change, lang))} |"
            )
        out.append("")
    for state in STATE_ORDER:
        items = diff.of_state(state)
        if state is State.UNCHANGED and not show_unchanged:
            out += [md(t["unchanged_hidden"].format(n=len(items))), ""]
            continue
        if not items:
            continue
        out += [f"## {state_name(state, lang)} ({len(items)})", ""]
        for change in items:
            escalated = f" ({t['escalated']})" if change.escalated else ""
            severity = value_word(lang, "severity", change.severity.value)
            line = f"- **{severity}**{escalated} {md(what(change, lang))}"
            if change.causes:
                causes = ", ".join(md(cause_text(c, lang)) for c in change.causes)
                line += f" — {t['cause']}: {causes}"
            out.append(line)
            out += [f"  - {md(item)}" for item in detail(change, lang)]
            f = change.finding
            out.append(f"  - {t['where']}: {md(where(f))}: {md(f.text(lang))}")
        out.append("")
    out += _drift(diff, lang, show_unchanged)
    return "\n".join(out)


def _drift(diff: Diff, lang: str, show_unchanged: bool) -> list[str]:
    """Drift by state, after the findings (nothing when neither side has any)."""
    if not diff.drift:
        return []
    t = labels(lang)
    out = [f"## {md(t['drift'])}", ""]
    for state, items in drift_sections(diff, show_unchanged):
        out += [f"### {state_name(state, lang)} ({len(items)})", ""]
        out += [f"- {md(drift_where(c.drift))}: {md(c.drift.text(lang))}" for c in items]
        out.append("")
    if not show_unchanged:
        out += [md(t["drift_hidden"].format(n=len(diff.drift_of_state(State.UNCHANGED)))), ""]
    return out


def _kind(side: Side, lang: str) -> str:
    """`topology (check)`, or 構成 (構成検査)."""
    kind = value_word(lang, "kind", side.kind)
    return f"{kind} ({value_word(lang, 'command', side.command)})"
