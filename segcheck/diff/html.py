"""The diff as one self-contained HTML page (no script, no outside link), ja or en.

Built with the standard library's escaping: every text from the inputs goes through `esc`,
so a name like `<img onerror=…>` renders as text. The page carries the same Content-Security-
Policy as report.html.
"""

from __future__ import annotations

from html import escape

from ..report.html import CONTENT_SECURITY_POLICY
from ..report.labels import value_word
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

_CSS = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:.9em}
.verdict{font-weight:bold;padding:.5em;border-left:6px solid #888}
.fail{border-color:#c62828;background:#fdecea}.ok{border-color:#2e7d32;background:#edf7ed}
.gap{border-color:#ef6c00;background:#fff4e5}
.sev{font-weight:bold;text-transform:uppercase;font-size:.8em;padding:0 .3em}
.critical{color:#b71c1c}.high{color:#e65100}.warning{color:#8d6e00}.info{color:#555}
li{margin:.35em 0}.sub{color:#555;font-size:.92em}.cause{color:#1a237e}
@media print{body{margin:0}}
"""


def esc(value: object) -> str:
    """Text from the inputs, escaped for HTML (quotes too)."""
    return escape("" if value is None else str(value), quote=True)


def _side_row(label: str, old: Side, new: Side, get: str) -> str:
    return f"<tr><th>{esc(label)}</th><td>{esc(getattr(old, get))}</td><td>{esc(getattr(new, get))}</td></tr>"


def render(diff: Diff, lang: str = "en", *, show_unchanged: bool = False) -> str:
    """The page: sides, verdict, counts, plan changes, findings by state."""
    t = labels(lang)
    old, new = diff.old, diff.new
    status = diff.exit_status()
    verdict_class = "fail" if status == 1 else "gap" if status == 2 else "ok"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"ja" if lang == "ja" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CONTENT_SECURITY_POLICY)}">',
        f'<meta name="generator" content="segcheck {esc(diff.tool_version)}">',
        f"<title>{esc(t['title'])}: {esc(new.name or new.path)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(t['title'])}: {esc(new.name or new.path)}</h1>",
        "<table>",
        f"<tr><th></th><th>{esc(t['old'])}</th><th>{esc(t['new'])}</th></tr>",
        _side_row(t["inputs"], old, new, "path"),
        f"<tr><th>{esc(t['kind'])}</th><td>{esc(value_word(lang, 'kind', old.kind))}</td>"
        f"<td>{esc(value_word(lang, 'kind', new.kind))}</td></tr>",
        f"<tr><th>SHA-256</th><td><code>{esc(old.sha256)}</code></td>"
        f"<td><code>{esc(new.sha256)}</code></td></tr>",
        _side_row(t["today"], old, new, "today"),
        f"<tr><th>{esc(t['read'])}</th><td>{'<br>'.join(esc(i) for i in side_inputs(old, lang))}</td>"
        f"<td>{'<br>'.join(esc(i) for i in side_inputs(new, lang))}</td></tr>",
        "</table>",
        f'<p class="sub">{esc(t["generated"])}: {esc(diff.generated_at)}</p>',
    ]
    out += [f'<p class="sub">{esc(t["note"])}: {esc(n)}</p>' for n in diff.notes]
    out += [f'<p class="verdict gap">{esc(g.text(lang))}</p>' for g in new.gaps]
    out.append(f'<p class="verdict {verdict_class}">{esc(exit_line(diff, lang))}</p>')
    sevs = [s.value for s in Severity]
    out += [f"<h2>{esc(t['summary'])}</h2>", "<table>", "<tr><th>" + esc(t["state"]) + "</th>"]
    out[-1] += "".join(f"<th>{esc(value_word(lang, 'severity', s))}</th>" for s in sevs)
    if diff.drift:  # a column only where there is drift (other diffs keep their bytes)
        out[-1] += f"<th>{esc(t['drift_column'])}</th>"
    out[-1] += "</tr>"
    summary, drift = diff.summary(), diff.drift_summary()
    for state in STATE_ORDER:
        row = summary[state.value]
        cells = "".join(f"<td>{row[s]}</td>" for s in sevs)
        cells += f"<td>{drift[state.value]}</td>" if diff.drift else ""
        out.append(f"<tr><th>{esc(state_name(state, lang))}</th>{cells}</tr>")
    out += ["</table>", f"<h2>{esc(t['plan'])}</h2>"]
    if diff.plan is None:
        out.append(f"<p>{esc(t['no_plan'])}</p>")
    elif not diff.plan:
        out.append(f"<p>{esc(t['plan_none'])}</p>")
    else:
        out.append(
            f"<table><tr><th></th><th>{esc(t['change'])}</th><th>{esc(t['detail'])}</th>"
            f"<th>{esc(t['effect'])}</th></tr>"
        )
        for plan_change in diff.plan:
            out.append(
                f"<tr><td>{esc(ACTION_SIGNS[plan_change.action])}</td>"
                f"<td>{esc(plan_title(plan_change, lang))}</td>"
                f"<td>{esc(plan_detail(plan_change, lang))}</td>"
                f"<td>{esc(effect(diff, plan_change, lang))}</td></tr>"
            )
        out.append("</table>")
    for state in STATE_ORDER:
        items = diff.of_state(state)
        if state is State.UNCHANGED and not show_unchanged:
            out.append(f"<p>{esc(t['unchanged_hidden'].format(n=len(items)))}</p>")
            continue
        if not items:
            continue
        out += [
            f'<h2 id="{state.value}">{esc(state_name(state, lang))} ({len(items)})</h2>',
            "<ul>",
        ]
        for change in items:
            sev = change.severity.value
            escalated = f" ({esc(t['escalated'])})" if change.escalated else ""
            causes = ", ".join(cause_text(c, lang) for c in change.causes)
            cause_html = (
                f' <span class="cause">[{esc(t["cause"])}: {esc(causes)}]</span>' if causes else ""
            )
            out.append(
                f'<li><span class="sev {sev}">{esc(value_word(lang, "severity", sev))}</span>'
                f"{escalated} "
                f"{esc(what(change, lang))}{cause_html}"
            )
            subs = [esc(item) for item in detail(change, lang)]
            f = change.finding
            subs.append(f"{esc(where(f))}: {esc(f.text(lang))}")
            out += [f'<div class="sub">{s}</div>' for s in subs]
            out.append("</li>")
        out.append("</ul>")
    out += _drift(diff, lang, show_unchanged)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _drift(diff: Diff, lang: str, show_unchanged: bool) -> list[str]:
    """Drift by state, after the findings (nothing when neither side has any)."""
    if not diff.drift:
        return []
    t = labels(lang)
    out = [f'<h2 id="drift">{esc(t["drift"])}</h2>']
    for state, items in drift_sections(diff, show_unchanged):
        out += [f'<h3 id="drift-{state.value}">{esc(state_name(state, lang))} ({len(items)})</h3>']
        out.append("<ul>")
        out += [
            f'<li><span class="sev high">{esc(value_word(lang, "severity", "high"))}</span> '
            f"{esc(c.drift.text(lang))}"
            f'<div class="sub">{esc(drift_where(c.drift))}</div></li>'
            for c in items
        ]
        out.append("</ul>")
    if not show_unchanged:
        out.append(
            f"<p>{esc(t['drift_hidden'].format(n=len(diff.drift_of_state(State.UNCHANGED))))}</p>"
        )
    return out
