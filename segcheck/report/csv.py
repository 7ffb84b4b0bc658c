"""CSV tables for a spreadsheet: the whole flow table (`scan --format csv`, one row per judged
flow) or the findings (`check --format csv`, one row per finding, for the 監査調書).

Evidence that was not seen comes first, one row per gap: `verdict` names the gap
(`no-packets`, `stopped-early`, `nothing-to-separate`), `input` and `first_frame` say where, and
`note` says it in words; flow rows leave `note` empty. A flow with a finding carries its
`severity`, `rule_name` and `message` (in the report's language).

The columns are stable English keys in English; with `lang` ja the header row and the words in
the cells (severities, states, verdicts, tiers) are Japanese, for the people who read them in
Excel (machines should read `--lang en`, or JSON). The text is RFC 4180 with CRLF line ends;
the byte-order mark Excel needs to take it as UTF-8 is added by whoever writes the file
(`segcheck check|scan` does unless `--no-bom`).

With `--baseline` two columns follow: `baseline`, the state of the row's finding against the
earlier result (new, updated, renamed, unchanged, excepted-now, as JSON's `state`), and
`escalated` (true or false); rows without a finding leave them empty. The baseline's flow
findings this run no longer has come last, `baseline` `fixed`, with the baseline's data.

Cells come from packets and the topology, so a spreadsheet must never read one as a formula:
a cell beginning with = + - @, a tab or a carriage return gets a leading single quote (the
OWASP "CSV injection" guard).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter

from ..findings import Drift, Finding, FlowEvidence, JudgedFlow, Report
from ..loaders.ledger import Unmapped
from ..messages import localize
from ..rules import RULES_BY_ID
from ._common import FIX_KEYS, finding_facts, where
from .labels import labels, tier_word, value_word

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
    "inner_vlan",
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
    "severity",
    "rule",
    "rule_name",
    "channel",
    "pivot",  # a log's flow: the source system's id (Zeek uid, flow_id, sessionid)
    "device_action",  # a firewall log's own verdict (accept, deny)
    "device_rule",  # and the policy that made it (`<vdom>/<policyid>`)
    "message",  # the flow's finding in words
    "note",
)
BASELINE_COLUMNS = ("baseline", "escalated")  # with --baseline only
# check --format csv: one row per finding (and per path a channel covers), gaps first.
FINDING_COLUMNS = (
    "severity",
    "rule",
    "rule_name",
    "message",
    "location",
    "status",  # finding, excepted (covered by a channel), or the kind of an evidence gap
    "cause",
    "src_zone",
    "src_tier",
    "dst_zone",
    "dst_tier",
    "src",
    "dst",
    "service",
    "count",
    "path",
    "permits",
    "fix",
    "channel",
    "note",
)
# The header row in Japanese (--lang ja).
HEADERS_JA = {
    "input": "入力",
    "first_frame": "最初のフレーム",
    "first_seen": "最初の時刻",
    "proto": "プロトコル",
    "src_ip": "送信元IP",
    "src_port": "送信元ポート",
    "dst_ip": "宛先IP",
    "dst_port": "宛先ポート",
    "vlan": "VLAN",
    "inner_vlan": "内側VLAN",
    "packets": "パケット数",
    "bytes": "バイト数",
    "state": "状態",
    "src": "送信元",
    "dst": "宛先",
    "src_zone": "送信元ゾーン",
    "dst_zone": "宛先ゾーン",
    "src_tier": "送信元の系統",
    "dst_tier": "宛先の系統",
    "service": "サービス",
    "verdict": "判定",
    "severity": "重大度",
    "rule": "ルール",
    "rule_name": "ルール名",
    "channel": "例外",
    "pivot": "記録ID",
    "device_action": "機器の判定",
    "device_rule": "機器のルール",
    "message": "内容",
    "note": "備考",
    "baseline": "比較基準との比較",
    "escalated": "重大化",
    "location": "箇所",
    "status": "区分",
    "cause": "原因",
    "count": "組数",
    "path": "経路",
    "permits": "許可ルール",
    "fix": "是正",
}
GAPS_JA = {
    "no-packets": "通信なし",
    "stopped-early": "読込途中で停止",
    "nothing-to-separate": "分離対象なし",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, defused when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def header(columns: tuple[str, ...], lang: str) -> tuple[str, ...]:
    """The header row: the column keys, or their Japanese names."""
    if lang != "ja":
        return columns
    return tuple(HEADERS_JA[c] for c in columns)


def _rule_name(rule: str | None, lang: str) -> str | None:
    found = RULES_BY_ID.get(rule) if rule is not None else None  # type: ignore[call-overload]
    return None if found is None else found.name(lang)


def _row(row: JudgedFlow, finding: Finding | None = None) -> list[object]:
    """One flow row in English, as `render_flows` writes it column by column."""
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
        fl.inner_vlan,
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
        finding.severity.value if finding is not None else None,
        row.rule,
        _rule_name(row.rule, "en"),
        row.channel,
        fl.pivot,
        fl.device_action,
        fl.device_rule,
        finding.text("en") if finding is not None else None,
        None,
    ]


_FORMULA_START = re.compile("\0[=+\\-@\t\r]")  # in the distinct values joined by NULs
_QUOTED = '",\r\n'  # the csv writer quotes a cell holding one (QUOTE_MINIMAL, CRLF line ends)


def _encoded(value: str) -> str:
    """One cell as the csv writer writes it (quoted and doubled as RFC 4180 needs)."""
    return _quoted(value) if any(c in value for c in _QUOTED) else value


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _string_swaps(distinct: set[str]) -> dict[object, str]:
    """The distinct strings whose cell text differs from the string: defused or quoted.

    Decided on the joined column first (C-speed searches); only the values that hold a
    character found there are looked at (a NUL inside a value can only make a false alarm).
    """
    joined = "\0" + "\0".join(distinct)
    formulas: set[str] = set()
    if _FORMULA_START.search(joined):
        formulas.update(v for v in distinct if v.startswith(FORMULA_PREFIXES))
    quoted: set[str] = set()
    for c in _QUOTED:
        if c in joined:
            quoted.update([v for v in distinct if c in v])
    swap: dict[object, str] = {v: "'" + v for v in formulas}
    for v in quoted:
        swap[v] = _quoted(swap.get(v, v))
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
        assert distinct is not None
        distinct.discard(None)
        if not distinct or min(distinct) >= 0:  # type: ignore[type-var, operator]
            if type(None) not in kinds:
                return list(map(str, column))
            texts: dict[object, str] = {v: str(v) for v in distinct}
            texts[None] = ""
            return list(map(texts.__getitem__, column))
    if not kinds <= {str, type(None)}:
        column = [safe_cell(v) for v in column]
        distinct = set(column)
    assert distinct is not None
    empty = None in distinct
    distinct.discard(None)
    swap = _string_swaps(distinct)  # type: ignore[arg-type]
    if empty:
        swap[None] = ""
    if not swap:
        return column
    return list(map(swap.get, column, column))


def render(report: Report, lang: str = "en") -> str:
    """`check`: the findings table; otherwise the flow table (see the module docstring)."""
    if report.command == "check":
        return render_findings(report, lang)
    return render_flows(report, lang)


def _words(lang: str, group: str, column: list[object]) -> list[object]:
    """A column of values said as words in `lang` (重大 for critical in Japanese)."""
    if lang != "ja":
        return column
    return _mapped(column, lambda v: value_word(lang, group, str(v)))


def _tiers(lang: str, column: list[object]) -> list[object]:
    if lang != "ja":
        return column
    return _mapped(column, lambda v: tier_word(lang, str(v)))


def _mapped(column: Sequence[object], word: Callable[[object], object]) -> list[object]:
    """`word` of each value but None, asked once per distinct value."""
    words: dict[object, object] = {v: word(v) for v in set(column) - {None}}
    words[None] = None
    return list(map(words.__getitem__, column))


_value = attrgetter("value")


def _finder(findings: Sequence[Finding]) -> Callable[[list[FlowEvidence]], list[Finding | None]]:
    """For a run of flows, each one's finding, as ``{f.flow: f for f in findings}.get(flow)``
    gives it.

    A finding's evidence is its row's flow object (the judge makes one for both), so the
    flows are matched by identity, without hashing every field of 50k flows; that is the
    same answer unless some flow equals a finding's without being it, which needs the same
    input and first frame: only then is the run matched by equality.
    """
    own: dict[int, Finding] = {}
    keys: set[tuple[str, int]] = set()
    for f in findings:
        ev = f.evidence
        if type(ev) is FlowEvidence:
            own[id(ev)] = f  # the last of equal flows, as the dict by flow keeps
            keys.add((ev.input, ev.first_frame))
    unique = len(keys) == len(own)  # no two findings' flows could be equal
    by_flow: dict[FlowEvidence, Finding] = {}

    def find(flows: list[FlowEvidence]) -> list[Finding | None]:
        if unique:
            found = [own.get(id(flow)) for flow in flows]
            others = [
                (fl.input, fl.first_frame) for fl, f in zip(flows, found, strict=True) if f is None
            ]
            if keys.isdisjoint(others):
                return found
        if not by_flow:
            by_flow.update((f.flow, f) for f in findings if f.flow is not None)
        return [by_flow.get(flow) for flow in flows]

    return find


def render_flows(report: Report, lang: str = "en") -> str:
    """The flow table as RFC 4180 CSV (CRLF line ends), in the report's flow order.

    Built column by column: each distinct value is defused and encoded once, then the lines
    are joined, exactly the text ``csv.writer`` would write (it was 0.3 s for 50k flows).
    """
    return "".join(_flow_chunks(report, lang, None))


_RUN = 1 << 16  # flow rows per chunk of render_chunks


def render_chunks(report: Report, lang: str = "en") -> Iterator[str]:
    """:func:`render`'s text in chunks: a scan's flow table in runs of `_RUN` rows, each
    run's rows and columns made, written and dropped before the next (a cell's text depends
    on its value alone, so the runs join to the whole table's text); with a baseline, whose
    columns and rows are the whole table's, in one chunk, as is a check's table."""
    if report.command == "check":
        yield render_findings(report, lang)
    else:
        yield from _flow_chunks(report, lang, None if report.baseline is not None else _RUN)


def _runs(rows: Sequence[JudgedFlow], size: int | None) -> Iterator[Sequence[JudgedFlow]]:
    """The rows in runs of `size` (all at once for None); at least one run, maybe empty.
    A scan's lazily built rows (`Report.flows`) are made run by run."""
    if size is None or not rows:
        yield rows
        return
    runs: Callable[[int], Iterator[Sequence[JudgedFlow]]] | None = getattr(rows, "runs", None)
    if runs is not None:
        yield from runs(size)
        return
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _flow_chunks(report: Report, lang: str, size: int | None) -> Iterator[str]:
    find = _finder(report.findings)
    gaps: list[list[object]] = [[None] * len(COLUMNS) for _ in report.gaps]
    for cells, gap in zip(gaps, report.gaps, strict=True):
        cells[COLUMNS.index("input")] = gap.path
        cells[COLUMNS.index("first_frame")] = gap.frame
        kind = gap.kind.value
        cells[COLUMNS.index("verdict")] = GAPS_JA.get(kind, kind) if lang == "ja" else kind
        cells[COLUMNS.index("note")] = gap.text(lang)
    # Drift between a firewall log and its imported configuration: one row each, after the
    # gaps, at the log line of its first flow (segcheck.logjoin).
    gaps += [_drift_cells(d, lang) for d in report.drift]
    names: tuple[str, ...] = COLUMNS
    if report.baseline is not None:
        names += BASELINE_COLUMNS
    head: tuple[str, ...] | None = header(names, lang)
    for rows in _runs(report.flows, size):
        columns = _flow_columns(rows, find, lang)
        if head is not None:  # the first run: after the header, the gaps and drift
            columns = [[g[i] for g in gaps] + column for i, column in enumerate(columns)]
            if report.baseline is not None:
                _add_baseline(report, lang, columns, len(gaps))
        yield _table(head, columns)
        head = None


def _flow_columns(
    rows: Sequence[JudgedFlow],
    find: Callable[[list[FlowEvidence]], list[Finding | None]],
    lang: str,
) -> list[list[object]]:
    flows = [row.flow for row in rows]
    found = find(flows)
    rules: list[object] = [r.rule for r in rows]
    # one comprehension per column: slot reads in them are several times faster than attrgetter
    return [
        [f.input for f in flows],
        [f.first_frame for f in flows],
        [f.first_seen for f in flows],
        [f.proto for f in flows],
        [f.src_ip for f in flows],
        [f.src_port for f in flows],
        [f.dst_ip for f in flows],
        [f.dst_port for f in flows],
        [f.vlan for f in flows],
        [f.inner_vlan for f in flows],
        [f.packets for f in flows],
        [f.bytes for f in flows],
        _words(lang, "state", [f.state for f in flows]),
        [r.src for r in rows],
        [r.dst for r in rows],
        [r.src_zone for r in rows],
        [r.dst_zone for r in rows],
        _tiers(lang, [r.src_tier for r in rows]),
        _tiers(lang, [r.dst_tier for r in rows]),
        [r.service for r in rows],
        _words(lang, "verdict", [r.verdict for r in rows]),
        _words(lang, "severity", _mapped([f and f.severity for f in found], _value)),
        rules,
        _mapped(rules, lambda r: _rule_name(r, lang)),  # type: ignore[arg-type]
        [r.channel for r in rows],
        [f.pivot for f in flows],
        [f.device_action for f in flows],
        [f.device_rule for f in flows],
        [f and (f.message_ja if lang == "ja" else f.message) for f in found],
        [None] * len(rows),
    ]


def _table(head: tuple[str, ...] | None, columns: list[list[object]]) -> str:
    """The lines of the columns' rows, after the header line unless `head` is None."""
    texts = [_cells(c) for c in columns]
    lines = list(map(",".join, zip(*texts, strict=True)))
    if head is not None:
        lines.insert(0, ",".join(str(cell) for cell in _cells(list(head))))
    if lines:
        lines.append("")  # the last line ends too (no copy of the table to add it)
    return "\r\n".join(lines)


def _finding_cells(f: Finding, lang: str, status: str, t: dict[str, str]) -> dict[str, object]:
    facts = dict(finding_facts(f))
    fixes = [f"{t[key]} {', '.join(facts[key])}" for key in FIX_KEYS if key in facts]
    rule = RULES_BY_ID.get(f.rule)
    return {
        "severity": value_word(lang, "severity", f.severity.value),
        "rule": f.rule,
        "rule_name": rule.name(lang) if rule is not None else None,
        "message": f.text(lang),
        "location": where(f.location),
        "status": status,
        "cause": f.cause.text(lang) if f.cause is not None else None,
        "src_zone": f.src_zone,
        "src_tier": tier_word(lang, f.src_tier) or None,
        "dst_zone": f.dst_zone,
        "dst_tier": tier_word(lang, f.dst_tier) or None,
        "src": f.src,
        "dst": f.dst,
        "service": f.service,
        "count": f.count,
        "path": " > ".join(facts.get("path", ())) or None,
        "permits": ", ".join(facts.get("permits", ())) or None,
        "fix": "; ".join(fixes) or None,
        "channel": f.channel,
        "note": None,
    }


def render_findings(report: Report, lang: str = "en") -> str:
    """The findings of a check as RFC 4180 CSV: gaps, findings (worst first), then the paths
    that channels cover; with --baseline, each row's state and the findings fixed since."""
    t = dict(labels(lang, "text"))
    ja = lang == "ja"
    rows: list[dict[str, object]] = []
    for gap in report.gaps:
        kind = gap.kind.value
        rows.append({"status": GAPS_JA.get(kind, kind) if ja else kind, "note": gap.text(lang),
                     "location": gap.path})  # fmt: skip
    baseline = report.baseline
    for excepted, findings in ((False, report.findings), (True, report.excepted)):
        status = (
            value_word(lang, "verdict", "excepted") if excepted else ("指摘" if ja else "finding")
        )
        for f in findings:
            cells = _finding_cells(f, lang, status, t)
            if baseline is not None:
                escalated = not excepted and f.fingerprint in baseline.escalated
                cells["baseline"] = value_word(lang, "baseline", baseline.state(f, excepted))
                cells["escalated"] = _yes_no(escalated, lang)
            rows.append(cells)
    names: tuple[str, ...] = FINDING_COLUMNS
    if baseline is not None:
        names += BASELINE_COLUMNS
        for f in baseline.absent:
            cells = _finding_cells(f, lang, "", t)
            cells.update(status=None, baseline=value_word(lang, "baseline", "fixed"),
                         escalated=_yes_no(False, lang),
                         note=labels(lang, "csv")["fixed"].format(path=baseline.path))  # fmt: skip
            rows.append(cells)
    columns: list[list[object]] = [[row.get(name) for row in rows] for name in names]
    return _table(header(names, lang), columns)


def _yes_no(value: bool, lang: str) -> str:
    if lang == "ja":
        return "はい" if value else "いいえ"
    return "true" if value else "false"


def _drift_cells(d: Drift, lang: str) -> list[object]:
    """A drift's row, at the log line of its first flow."""
    cells: list[object] = [None] * len(COLUMNS)
    ex = d.example
    for name, value in (
        ("input", ex.input),
        ("first_frame", ex.first_frame),
        ("first_seen", ex.first_seen),
        ("proto", ex.proto),
        ("src_ip", ex.src_ip),
        ("src_port", ex.src_port),
        ("dst_ip", ex.dst_ip),
        ("dst_port", ex.dst_port),
        ("verdict", "設定の乖離" if lang == "ja" else "config-drift"),
        ("severity", value_word(lang, "severity", "high")),
        ("pivot", ex.pivot),
        ("device_action", d.action),
        ("device_rule", d.rule),
        ("note", d.text(lang)),
    ):
        cells[COLUMNS.index(name)] = value
    return cells


def _add_baseline(report: Report, lang: str, columns: list[list[object]], gaps: int) -> None:
    """The two baseline columns (a drift row's: new or unchanged), and a row for each flow
    finding and each drift the baseline alone has."""
    baseline = report.baseline
    assert baseline is not None
    drift: list[object] = [
        value_word(lang, "baseline", baseline.drift_state(d)) for d in report.drift
    ]
    gaps -= len(drift)  # the rows before the flows: evidence gaps, then drift
    states: dict[FlowEvidence, tuple[str, bool]] = {}
    for excepted, findings in ((False, report.findings), (True, report.excepted)):
        for f in findings:
            if f.flow is not None:
                escalated = not excepted and f.fingerprint in baseline.escalated
                states[f.flow] = (baseline.state(f, excepted), escalated)
    marks = [states.get(row.flow) for row in report.flows]
    no = _yes_no(False, lang)
    lead: list[object] = [None] * gaps
    columns.append(
        lead + drift + [value_word(lang, "baseline", m[0]) if m else None for m in marks]
    )
    columns.append(lead + [no] * len(drift) + [_yes_no(m[1], lang) if m else None for m in marks])
    note = labels(lang, "csv")["fixed"].format(path=baseline.path)
    for f in baseline.absent:
        fl = f.flow
        if fl is None:  # a path or setting finding: not a row of a flow table
            continue
        # the flow row of the baseline's finding, by column name; no verdict in this run
        cells = dict(zip(COLUMNS, _row(_absent_row(f, fl)), strict=True))
        cells.update(
            verdict=None,
            note=note,
            baseline=value_word(lang, "baseline", "fixed"),
            escalated=_yes_no(False, lang),
        )
        for column, name in zip(columns, COLUMNS + BASELINE_COLUMNS, strict=True):
            column.append(cells[name])
    fixed = value_word(lang, "baseline", "fixed")
    for d in baseline.absent_drift:  # the baseline's drift the logs no longer show
        for column, value in zip(columns, [*_drift_cells(d, lang), fixed, no], strict=True):
            column.append(value)


def _absent_row(finding: Finding, flow: FlowEvidence) -> JudgedFlow:
    f = finding
    return JudgedFlow(flow, f.src_zone, f.dst_zone, f.src_tier, f.dst_tier, f.src or "",
                      f.dst or "", f.service, "", f.rule, f.channel)  # fmt: skip


UNMAPPED_HEADER = {
    "en": ("source", "column", "value", "reason"),
    "ja": ("場所", "列", "値", "理由"),
}


def render_unmapped(rows: Sequence[Unmapped], lang: str = "en") -> str:
    """The ledger rows `segcheck init --from-ledger --allow-unmapped` left out, one a line
    (file:line or file!Sheet:row, the column, its value, why), for Excel: CRLF, the formula
    guard on every cell. A header alone says that no row was left out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(UNMAPPED_HEADER["ja" if lang == "ja" else "en"])
    for row in rows:
        writer.writerow(
            safe_cell(v) for v in (row.where, row.column, row.value, localize(row.reason, lang))
        )
    return out.getvalue()
