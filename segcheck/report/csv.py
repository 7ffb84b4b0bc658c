"""CSV export of the whole flow table (`scan --format csv`): one row per judged flow.

Evidence that was not seen comes first, one row per gap: `verdict` names the gap
(`no-packets`, `stopped-early`, `nothing-to-separate`), `input` and `first_frame` say where, and
`note` says it in words; flow rows leave `note` empty.

With `--baseline` two columns follow: `baseline`, the state of the row's finding against the
earlier result (new, updated, renamed, unchanged, excepted-now, as JSON's `state`), and
`escalated` (true or false); rows without a finding leave them empty. The baseline's flow
findings this run no longer has come last, `baseline` `fixed`, with the baseline's data.

Cells come from packets and the topology, so a spreadsheet must never read one as a formula:
a cell beginning with = + - @, a tab or a carriage return gets a leading single quote (the
OWASP "CSV injection" guard). Headers are stable English keys whatever the language.
"""

from __future__ import annotations

import csv
import io
import re

from ..findings import Finding, FlowEvidence, JudgedFlow, Report
from .labels import labels

COLUMNS = (
    "input",
    "first_frame",
    "first_seen",
    "proto",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "vlan",
    "packets",
    "bytes",
    "state",
    "src",
    "dst",
    "src_zone",
    "dst_zone",
    "src_tier",
    "dst_tier",
    "service",
    "verdict",
    "rule",
    "channel",
    "pivot",  # a log's flow: the source system's id (Zeek uid, flow_id, sessionid)
    "device_action",  # a firewall log's own verdict (accept, deny)
    "device_rule",  # and the policy that made it (`<vdom>/<policyid>`)
    "note",
)
BASELINE_COLUMNS = ("baseline", "escalated")  # with --baseline only
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, defused when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _row(row: JudgedFlow) -> list[object]:
    fl = row.flow
    return [
        fl.input,
        fl.first_frame,
        fl.first_seen,
        fl.proto,
        fl.src_ip,
        fl.src_port,
        fl.dst_ip,
        fl.dst_port,
        fl.vlan,
        fl.packets,
        fl.bytes,
        fl.state,
        row.src,
        row.dst,
        row.src_zone,
        row.dst_zone,
        row.src_tier,
        row.dst_tier,
        row.service,
        row.verdict,
        row.rule,
        row.channel,
        fl.pivot,
        fl.device_action,
        fl.device_rule,
        None,
    ]


_FORMULA_START = re.compile("\n[=+\\-@\t\r]")


def _encoded(value: str) -> str:
    """One cell as the csv writer writes it (quoted and doubled as RFC 4180 needs)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([value, ""])
    return out.getvalue()[:-3]  # drop the "," of the empty second cell and the line end


def _string_swaps(distinct: set[str]) -> dict[object, str]:
    """The distinct strings whose cell text differs from the string: defused or quoted.

    Decided on the joined column first (C speed); only a column with a suspect value is
    looked at value by value.
    """
    swap: dict[object, str] = {}
    joined = "\n" + "\n".join(distinct)
    if _FORMULA_START.search(joined):  # a value may start like a formula (or hold "\n=")
        for v in distinct:
            if v.startswith(FORMULA_PREFIXES):
                swap[v] = "'" + v
    plain = "".join(distinct)
    if not plain.isprintable() or "," in plain or '"' in plain:
        for v in distinct:
            text = swap.get(v, v)
            if not text.isprintable() or "," in text or '"' in text:
                swap[v] = _encoded(text)
    return swap


def _cells(column: list[object]) -> list[object]:
    """The column's cells as the csv writer writes :func:`safe_cell` of each value.

    Each distinct value is handled once: None is an empty cell, a non-negative int its
    ``str``, a string is kept unless it needs defusing or quoting. Any other cell type goes
    through :func:`safe_cell` cell by cell first.
    """
    try:
        distinct = set(column)
    except TypeError:  # an unhashable cell
        distinct = None
    kinds = set(map(type, distinct)) if distinct is not None else {object}
    if kinds <= {int, type(None)}:
        ints = distinct - {None}  # type: ignore[operator]
        if not ints or min(ints) >= 0:
            if type(None) not in kinds:
                return list(map(str, column))
            return ["" if v is None else str(v) for v in column]
    if not kinds <= {str, type(None)}:
        column = [safe_cell(v) for v in column]
        distinct = set(column)
    strings: set[str] = distinct - {None}  # type: ignore[operator, assignment]
    swap = _string_swaps(strings)
    if None in distinct:  # type: ignore[operator]
        swap[None] = ""
    if not swap:
        return column
    get = swap.get
    return [get(v, v) for v in column]


def render(report: Report, lang: str = "en") -> str:
    """The flow table as RFC 4180 CSV (CRLF line ends), in the report's flow order.

    Built column by column: each distinct value is defused and encoded once, then the lines
    are joined, exactly the text ``csv.writer`` would write (it was 0.3 s for 50k flows).
    """
    rows = report.flows
    flows = [row.flow for row in rows]
    gaps: list[list[object]] = [[None] * len(COLUMNS) for _ in report.gaps]
    for cells, gap in zip(gaps, report.gaps, strict=True):
        cells[COLUMNS.index("input")] = gap.path
        cells[COLUMNS.index("first_frame")] = gap.frame
        cells[COLUMNS.index("verdict")] = gap.kind.value
        cells[COLUMNS.index("note")] = gap.text(lang)
    columns: list[list[object]] = [
        [f.input for f in flows],
        [f.first_frame for f in flows],
        [f.first_seen for f in flows],
        [f.proto for f in flows],
        [f.src_ip for f in flows],
        [f.src_port for f in flows],
        [f.dst_ip for f in flows],
        [f.dst_port for f in flows],
        [f.vlan for f in flows],
        [f.packets for f in flows],
        [f.bytes for f in flows],
        [f.state for f in flows],
        [r.src for r in rows],
        [r.dst for r in rows],
        [r.src_zone for r in rows],
        [r.dst_zone for r in rows],
        [r.src_tier for r in rows],
        [r.dst_tier for r in rows],
        [r.service for r in rows],
        [r.verdict for r in rows],
        [r.rule for r in rows],
        [r.channel for r in rows],
        [f.pivot for f in flows],
        [f.device_action for f in flows],
        [f.device_rule for f in flows],
        [None] * len(rows),
    ]
    columns = [[g[i] for g in gaps] + column for i, column in enumerate(columns)]
    header: tuple[str, ...] = COLUMNS
    if report.baseline is not None:
        header += BASELINE_COLUMNS
        _add_baseline(report, lang, columns, len(gaps))
    texts = [_cells(c) for c in columns]
    lines = [",".join(header), *map(",".join, zip(*texts, strict=True))]
    return "\r\n".join(lines) + "\r\n"


def _add_baseline(report: Report, lang: str, columns: list[list[object]], gaps: int) -> None:
    """The two baseline columns, and a row for each flow finding the baseline alone has."""
    baseline = report.baseline
    assert baseline is not None
    states: dict[FlowEvidence, tuple[str, bool]] = {}
    for excepted, findings in ((False, report.findings), (True, report.excepted)):
        for f in findings:
            if f.flow is not None:
                escalated = not excepted and f.fingerprint in baseline.escalated
                states[f.flow] = (baseline.state(f, excepted), escalated)
    marks = [states.get(row.flow) for row in report.flows]
    columns.append([None] * gaps + [m[0] if m else None for m in marks])
    columns.append([None] * gaps + [("true" if m[1] else "false") if m else None for m in marks])
    note = labels(lang, "csv")["fixed"].format(path=baseline.path)
    for f in baseline.absent:
        fl = f.flow
        if fl is None:  # a path or setting finding: not a row of a flow table
            continue
        # the flow row of the baseline's finding, by column name; no verdict in this run
        cells = dict(zip(COLUMNS, _row(_absent_row(f, fl)), strict=True))
        cells.update(verdict=None, note=note, baseline="fixed", escalated="false")
        for column, name in zip(columns, COLUMNS + BASELINE_COLUMNS, strict=True):
            column.append(cells[name])


def _absent_row(finding: Finding, flow: FlowEvidence) -> JudgedFlow:
    f = finding
    return JudgedFlow(flow, f.src_zone, f.dst_zone, f.src_tier, f.dst_tier, f.src or "",
                      f.dst or "", f.service, "", f.rule, f.channel)  # fmt: skip
