"""The diff for a terminal: sides, plan changes with their effect, findings by state."""

from __future__ import annotations

from ..report.labels import value_word
from .model import STATE_ORDER, Diff, Side, State
from .words import (
    ACTION_SIGNS,
    SIGNS,
    cause_text,
    detail,
    drift_sections,
    drift_where,
    effect,
    exit_line,
    labels,
    plan_detail,
    plan_title,
    short_hash,
    side_inputs,
    state_name,
    what,
    where,
)


def _side(label: str, side: Side, lang: str) -> str:
    if side.kind == "topology":
        kind = value_word(lang, "kind", "topology")
    elif lang == "ja":
        kind = f"{value_word(lang, 'command', side.command)}の結果"
    else:
        kind = f"{side.command} result"
    return f"{label}: {side.path} ({kind}, sha256 {short_hash(side.sha256)})"


def render(diff: Diff, lang: str = "en", *, show_unchanged: bool = False) -> str:
    """Human-readable diff; unchanged findings are counted unless `show_unchanged`."""
    t = labels(lang)
    out = [f"segcheck {diff.tool_version} diff"]
    for label, side in ((t["old"], diff.old), (t["new"], diff.new)):
        out.append(_side(label, side, lang))
        out += [f"  + {item}" for item in side_inputs(side, lang)]
    out += [
        f"{t['today']}: {diff.new.today}"
        + (f" ({t['old']} {diff.old.today})" if diff.old.today != diff.new.today else ""),
    ]
    out += [f"{t['note']}: {note}" for note in diff.notes]
    out.append("")
    if diff.plan is None:
        out.append(t["no_plan"])
    else:
        out.append(f"{t['plan']} ({len(diff.plan)})" if diff.plan else t["plan_none"])
        for plan_change in diff.plan:
            text = f"  {ACTION_SIGNS[plan_change.action]} {plan_title(plan_change, lang)}"
            described = plan_detail(plan_change, lang)
            if described:
                text += f": {described}"
            effects = effect(diff, plan_change, lang)
            if effects:
                text += f"  → {effects}"
            out.append(text)
    out.append("")
    for state in STATE_ORDER:
        items = diff.of_state(state)
        if state is State.UNCHANGED and not show_unchanged:
            out.append(t["unchanged_hidden"].format(n=len(items)))
            continue
        if not items and state is not State.NEW:
            continue
        out.append(f"{state_name(state, lang)} ({len(items)})")
        for change in items:
            causes = ", ".join(cause_text(c, lang) for c in change.causes)
            tag = f" ({t['escalated']})" if change.escalated else ""
            severity = value_word(lang, "severity", change.severity.value)
            line = f"  {SIGNS[state]} {severity}{tag} {what(change, lang)}"
            out.append(line + (f"  [{causes}]" if causes else ""))
            out += [f"      {item}" for item in detail(change, lang)]
            f = change.finding
            out.append(f"      {where(f)}: {f.text(lang)}")
    out += _drift(diff, lang, show_unchanged)
    out.append("")
    for gap in diff.new.gaps:
        out.append(f"{t['new']}: {gap.text(lang)}")
    out.append(exit_line(diff, lang))
    return "\n".join(out) + "\n"


def _drift(diff: Diff, lang: str, show_unchanged: bool) -> list[str]:
    """Drift between firewall logs and imported configurations, by state (results of scans of
    firewall logs only: nothing at all otherwise)."""
    if not diff.drift:
        return []
    t = labels(lang)
    out = ["", t["drift"]]
    for state, items in drift_sections(diff, show_unchanged):
        out.append(f"{state_name(state, lang)} ({len(items)})")
        for change in items:
            out.append(f"  {SIGNS[state]} {drift_where(change.drift)}: {change.drift.text(lang)}")
    if not show_unchanged:
        out.append(t["drift_hidden"].format(n=len(diff.drift_of_state(State.UNCHANGED))))
    return out
