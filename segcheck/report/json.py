"""JSON output, exactly the shape of spec §6 (schema_version 1).

The module is named after its format like the others; `import json` here is the standard
library's (imports are absolute), and siblings import this module as `from . import json as …`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, groupby
from operator import attrgetter
from typing import Any

from ..findings import BaselineInfo, Drift, Finding, FlowEvidence, LogJoin, Report
from ..model import Channel, ImportSummary
from ._common import (
    cause_dict,
    flow_dict,
    location_dict,
    plan_dict,
    remediation_dict,
    route_dict,
)
from .conversations import channel_use, channel_use_dict

SCHEMA_VERSION = 1


def finding_dict(finding: Finding, lang: str) -> dict[str, Any]:
    """One finding as spec §6 lays it out (plus `location`, and `verdict` for flows)."""
    is_flow = finding.flow is not None
    remediation = finding.remediation
    result: dict[str, Any] = {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "message": finding.text(lang),
        "fingerprint": finding.fingerprint,
        "src_zone": finding.src_zone,
        "dst_zone": finding.dst_zone,
        "src_tier": finding.src_tier,
        "dst_tier": finding.dst_tier,
        "src": finding.src,
        "dst": finding.dst,
        "service": finding.service,
        "count": finding.count,
        "path": None if is_flow else list(finding.path),
        "permits": None if is_flow else list(finding.permits),
        "remediation": None if remediation is None else remediation_dict(remediation),
        "flow": None,
        "node": finding.node,
        "channel": finding.channel,
        "location": location_dict(finding.location),
    }
    if finding.flow is not None:
        result["flow"] = flow_dict(finding.flow)
        result["verdict"] = finding.verdict
    if finding.cause is not None:
        result["cause"] = cause_dict(finding.cause)
        result["src_unassigned"] = finding.src_unassigned
        result["dst_unassigned"] = finding.dst_unassigned
        result["routes"] = [route_dict(r) for r in finding.routes]
    return result


def import_dict(item: ImportSummary) -> dict[str, Any]:
    """One imported firewall configuration: where it went and what the import found."""
    return {
        "node": item.node,
        "path": item.input.path,
        "sha256": item.input.sha256,
        "format": item.format,
        "context": item.context,
        "status": item.status,
        "permits": item.permits,
        "disabled": list(item.disabled),
        "shadowed": list(item.shadowed),
        "matches_nothing": list(item.matches_nothing),
        "unrecognised": list(item.unrecognised),
        "undefined": list(item.undefined),
        "unused": list(item.unused),
        "warnings": list(item.warnings),
        "assumptions": dict(item.assumptions),
    }


def channel_dict(channel: Channel) -> dict[str, Any]:
    """One entry of the channel register (what `diff` shows of a channel that covers a path)."""
    return {
        "id": channel.id,
        "from": channel.source.name,
        "to": channel.destination.name,
        "service": list(channel.services),
        "reason": channel.reason,
        "approved_by": channel.approved_by,
        "ticket": channel.ticket,
        "expires": channel.expires.isoformat() if channel.expires is not None else None,
    }


def _with_states(
    items: list[dict[str, Any]],
    findings: tuple[Finding, ...],
    baseline: BaselineInfo,
    excepted: bool,
) -> list[dict[str, Any]]:
    for item, finding in zip(items, findings, strict=True):
        state = baseline.state(finding, excepted)
        item["state"] = state
        item["baseline_state"] = _SARIF_STATES.get(state, "updated")
        item["escalated"] = finding.fingerprint in baseline.escalated and not excepted
    return items


_SARIF_STATES = {"new": "new", "unchanged": "unchanged", "absent": "absent"}


def baseline_dict(report: Report, lang: str) -> dict[str, Any] | None:
    """`--baseline`: the earlier result compared with, and its findings this run no longer has."""
    baseline = report.baseline
    if baseline is None:
        return None
    absent = [finding_dict(f, lang) for f in baseline.absent]
    for item in absent:
        item["state"] = "fixed"
        item["baseline_state"] = "absent"
        item["escalated"] = False
    gating = report.gating()
    result: dict[str, Any] = {
        "path": baseline.path,
        "sha256": baseline.sha256,
        "guid": baseline.guid,
        "gating": len(gating),
        "absent": absent,
    }
    if report.log_join is not None or baseline.absent_drift:  # a scan of firewall logs
        result["gating_drift"] = len(report.gating_drift())
        result["absent_drift"] = [
            {**drift_dict(d, lang), "state": "fixed", "baseline_state": "absent"}
            for d in baseline.absent_drift
        ]
    return result


def report_dict(report: Report, lang: str) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    return _report_dict(report, lang, _finding_dicts)


def _finding_dicts(report: Report, lang: str) -> tuple[Any, Any]:
    """`findings` and `excepted` as lists of finding dicts (with their baseline states)."""
    findings = [finding_dict(f, lang) for f in report.findings]
    excepted = [finding_dict(f, lang) for f in report.excepted]
    if report.baseline is not None:
        findings = _with_states(findings, report.findings, report.baseline, False)
        excepted = _with_states(excepted, report.excepted, report.baseline, True)
    return findings, excepted


def _report_dict(
    report: Report, lang: str, write_findings: Callable[[Report, str], tuple[Any, Any]]
) -> dict[str, Any]:
    captures = {c.path: c for c in report.captures}
    inputs = []
    for item in report.inputs:
        cap = captures.get(item.path) if item.kind != "topology" else None
        stopped = cap.stopped_at if cap is not None else None
        inputs.append(
            {
                "path": item.path,
                "kind": item.kind,
                "sha256": item.sha256,
                "packets_read": cap.packets_read if cap is not None else None,
                "packets_skipped": cap.packets_skipped if cap is not None else None,
                "stopped_at": None
                if stopped is None
                else {"byte_offset": stopped[0], "frame": stopped[1], "reason": stopped[2]},
                "first_skipped": None
                if cap is None or cap.first_skipped is None
                else {"line": cap.first_skipped[0], "reason": cap.first_skipped[1]},
            }
        )
    findings, excepted = write_findings(report, lang)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "segcheck", "version": report.tool_version},
        "generated_at": report.generated_at,
        "topology": {"name": report.topology.name, "profile": report.topology.profile.value},
        "today": report.today,
        "inputs": inputs,
        "imports": [import_dict(item) for item in report.topology.imports],
        "channels": [channel_dict(c) for c in report.topology.channels],
        "evidence": {
            "status": report.evidence.value,
            "separation_proven": report.separation_proven,
            "gaps": [
                {
                    "kind": gap.kind.value,
                    "input": gap.path,
                    "message": gap.text(lang),
                    "frame": gap.frame,
                    "byte_offset": gap.byte_offset,
                }
                for gap in report.gaps
            ],
        },
        "fix_plan": plan_dict(report.plan),
        "findings": findings,
        "excepted": excepted,
        "summary": report.summary(),
    }
    uses = channel_use(report)
    if uses:  # a capture was read: what each channel covered of it (domain.md §7)
        result["channel_use"] = [channel_use_dict(u) for u in uses]
    if report.baseline is not None:
        result["baseline"] = baseline_dict(report, lang)
    if report.log_join is not None:
        result["log_join"] = log_join_dict(report.log_join, lang, report.baseline)
    return result


def log_join_dict(join: LogJoin, lang: str, baseline: BaselineInfo | None = None) -> dict[str, Any]:
    """Firewall logs against imported configurations: use per permit (棚卸し) and drift (with
    `--baseline`, each drift's state, as findings have theirs)."""
    drift = [drift_dict(d, lang) for d in join.drift]
    if baseline is not None:
        for item, d in zip(drift, join.drift, strict=True):
            item["state"] = item["baseline_state"] = baseline.drift_state(d)
    return {
        "permits": [
            {
                "node": p.node,
                "rule": p.rule,
                "name": p.name,
                "where": p.where,
                "flows": p.flows,
                "violations": p.violations,
                "last_seen": p.last_seen,
            }
            for p in join.permits
        ],
        "drift": drift,
        "unmatched": list(join.unmatched),
    }


def drift_dict(d: Drift, lang: str) -> dict[str, Any]:
    """One drift, as `log_join.drift` holds it (and segcheck.diff.reader reads it back)."""
    return {
        "node": d.node,
        "rule": d.rule,
        "reason": d.reason,
        "action": d.action,
        "flows": d.flows,
        "message": d.text(lang),
        "example": flow_dict(d.example),
    }


_INDENT = 2
_encode_str = json.encoder.encode_basestring  # ensure_ascii=False: the C string encoder
_SCALARS: dict[object, str] = {None: "null", True: "true", False: "false"}


def _subtree(value: object, level: int) -> str:
    """``json.dumps`` of a value the fast writer does not handle, indented for its level."""
    text = json.dumps(value, ensure_ascii=False, indent=_INDENT)
    return text.replace("\n", "\n" + " " * (_INDENT * level))  # strings hold no raw newline


def _write(value: Any, level: int, out: list[str], strings: dict[str, str]) -> None:
    """Append ``value`` as ``json.dumps(..., ensure_ascii=False, indent=2)`` writes it.

    The standard library's pretty printer is its pure-Python, generator-based encoder (the C
    encoder does not indent): about 1 s for 25k findings. This writer appends pieces to one
    list, encodes each distinct string and each (level, key) prefix once, and hands anything
    but exact str/int/bool/None/dict/list/tuple (floats, subclasses, non-string keys) to
    ``json.dumps`` itself.
    """
    t = type(value)
    if t is str:
        enc = strings.get(value)
        if enc is None:
            enc = strings[value] = _encode_str(value)
        out.append(enc)
    elif value is None or t is bool:
        out.append(_SCALARS[value])
    elif t is int:
        out.append(int.__repr__(value))
    elif t is dict:
        d: dict[Any, Any] = value
        if not d:
            out.append("{}")
            return
        shape = (level, tuple(d))
        prefixes = _SHAPES.get(shape)
        if prefixes is None:
            if not all(type(k) is str for k in d):
                out.append(_subtree(d, level))
                return
            # '{\n  "key": ' for the first item, ',\n  "key": ' after, per key set and level.
            indent = "\n" + " " * (_INDENT * (level + 1))
            prefixes = [
                ("{" if i == 0 else ",") + indent + _encode_str(k) + ": " for i, k in enumerate(d)
            ]
            if len(_SHAPES) < 1024:
                _SHAPES[shape] = prefixes
        append = out.append
        for prefix, v in zip(prefixes, d.values(), strict=True):
            tv = type(v)
            if tv is str:
                enc = strings.get(v)
                if enc is None:
                    enc = strings[v] = _encode_str(v)
                append(prefix + enc)
            elif v is None or tv is bool:
                append(prefix + _SCALARS[v])
            elif tv is int:
                append(prefix + int.__repr__(v))
            else:
                append(prefix)
                _write(v, level + 1, out, strings)
        append(
            _CLOSERS[level][0] if level < len(_CLOSERS) else "\n" + " " * (_INDENT * level) + "}"
        )
    elif t is list or t is tuple:
        seq: list[Any] = value
        if not seq:
            out.append("[]")
        else:
            inner = "\n" + " " * (_INDENT * (level + 1))
            sep = "[" + inner
            for v in seq:
                out.append(sep)
                _write(v, level + 1, out, strings)
                sep = "," + inner
            out.append("\n" + " " * (_INDENT * level) + "]")
    elif t is _Streamed:
        out.append(value)  # its pieces are drawn when the text is written
    else:
        out.append(_subtree(value, level))


_SHAPES: dict[tuple[int, tuple[object, ...]], list[str]] = {}
_CLOSERS = [
    ("\n" + " " * (_INDENT * lv) + "}", "\n" + " " * (_INDENT * lv) + "]") for lv in range(16)
]


def pretty(value: Any, end: str = "") -> str:
    """Byte for byte ``json.dumps(value, ensure_ascii=False, indent=2) + end``, several times
    faster (SARIF uses it too; `end` saves copying tens of megabytes to add a newline)."""
    return "".join(pretty_pieces(value, end))


def pretty_pieces(value: Any, end: str = "") -> Iterator[str]:
    """`pretty`'s text in pieces, a `_Streamed` value's made only when drawn."""
    out: list[str] = []
    _write(value, 0, out, {})
    out.append(end)
    return _expanded(out)


def _expanded(out: list[str]) -> Iterator[str]:
    """The pieces `_write` gave, each `_Streamed` value's pieces in its place."""
    for piece in out:
        if type(piece) is str:
            yield piece
        else:
            streamed: _Streamed = piece  # type: ignore[assignment]
            yield from streamed.parts


class _Streamed:
    """A value written as ``pretty`` writes it at its level (the list of findings), whose
    pieces are made only when the output reaches it: :func:`render_chunks` writes each
    run of findings out before the next is made, so a scan of a million flow findings never
    holds their text at once."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[str]) -> None:
        self.parts = parts


FLOW_KEYS = (  # flow_dict's keys, which are FlowEvidence's field names
    "src_ip",
    "dst_ip",
    "proto",
    "src_port",
    "dst_port",
    "vlan",
    "inner_vlan",
    "packets",
    "bytes",
    "first_frame",
    "first_seen",
    "last_seen",
    "input",
    "state",
    "line",
    "pivot",
    "device_action",
    "device_rule",
    "device",
)
_HEAD_KEYS = (  # finding_dict's first keys; "message" is the language's, "count" always 1
    "rule",
    "severity",
    "message",
    "fingerprint",
    "src_zone",
    "dst_zone",
    "src_tier",
    "dst_tier",
    "src",
    "dst",
    "service",
)


def _flow_finding_getter(message: str) -> Callable[[Finding], tuple[Any, ...]]:
    """Every value a flow finding's dict holds but its fixed ones, in the dict's order."""
    return attrgetter(
        *(message if k == "message" else k for k in _HEAD_KEYS),
        *(f"evidence.{k}" for k in FLOW_KEYS),
        "channel",
        "location.path",
        "location.line",
        "location.frame",
        "verdict",
    )


_FLOW_FINDING_GETTERS = {
    "en": _flow_finding_getter("message"),
    "ja": _flow_finding_getter("message_ja"),
}
_FLOW_FINDING_VALUES = len(_HEAD_KEYS) + len(FLOW_KEYS) + 5


def _flow_finding_template(level: int) -> str:
    """``pretty(finding_dict(f))`` of a flow finding at `level`: a %s for each value the
    getter gives; `count` (1), `path`, `permits`, `remediation` and `node` (null) written."""
    i1 = "\n" + " " * (_INDENT * (level + 1))
    i2 = "\n" + " " * (_INDENT * (level + 2))

    def items(indent: str, keys: Sequence[str], value: str = "%s") -> list[str]:
        return [f"{indent}{_encode_str(k)}: {value}" for k in keys]

    flow = ",".join(items(i2, FLOW_KEYS))
    location = ",".join(items(i2, ("path", "line", "frame")))
    parts = [
        *items(i1, _HEAD_KEYS),
        *items(i1, ("count",), "1"),
        *items(i1, ("path", "permits", "remediation"), "null"),
        f"{i1}{_encode_str('flow')}: {{{flow}{i1}}}",
        *items(i1, ("node",), "null"),
        *items(i1, ("channel",)),
        f"{i1}{_encode_str('location')}: {{{location}{i1}}}",
        *items(i1, ("verdict",)),
    ]
    return "{" + ",".join(parts) + "\n" + " " * (_INDENT * level) + "}"


_FLOW_FINDING = _flow_finding_template(2)  # a finding in `findings` or `excepted`
_ITEM = ",\n" + " " * (_INDENT * 2)  # between two findings of the list
_BULK = 4096  # flow findings filled per template (bounds the pieces held)


def _flow_findings_text(run: Sequence[Finding], lang: str) -> str | None:
    """Flow findings as ``pretty`` writes them at level 2, joined by `_ITEM`; None when a
    value is not a plain scalar (the general writer then takes them)."""
    getter = _FLOW_FINDING_GETTERS["ja" if lang == "ja" else "en"]
    pieces = scalar_texts(list(chain.from_iterable(map(getter, run))))
    if pieces is None or len(pieces) != len(run) * _FLOW_FINDING_VALUES:
        return None
    return _ITEM.join([_FLOW_FINDING] * len(run)) % tuple(pieces)


def scalar_texts(values: list[Any]) -> list[object] | None:
    """What a ``%s`` of a `template` takes for each value, to read as ``pretty`` writes it: a
    string's JSON text, an int itself (``%s`` writes it as JSON does), ``null``; None when a
    value is something else (bool, float, a container: the general writer takes those).

    One ``encode_basestring`` call per string: a third of the time of the C encoder writing
    them all NUL-separated and splitting that again."""
    if not all(k in _INT_OR_NONE or issubclass(k, str) for k in set(map(type, values))):
        return None
    enc = _encode_str
    return [v if type(v) is int else "null" if v is None else enc(v) for v in values]


_INT_OR_NONE = frozenset((int, type(None)))


HOLE = _Streamed(("\0",))  # a value `template` leaves to be filled in


def pretty_at(value: Any, level: int) -> str:
    """``pretty(value)`` as written inside a container at `level` (indented for it)."""
    out: list[str] = []
    _write(value, level, out, {})
    return "".join(_expanded(out))


def template(value: Any, level: int) -> str:
    """`pretty_at` as a %-format: each `HOLE` in it a ``%s`` for a text of `scalar_texts`,
    any other ``%`` doubled."""
    return pretty_at(value, level).replace("%", "%%").replace("\0", "%s")  # no raw NUL in JSON


def _findings_parts(findings: Sequence[Finding], lang: str) -> Iterator[str]:
    """``findings`` as ``pretty`` writes the list of their finding dicts at level 1, in
    pieces of at most `_BULK` findings, each made when drawn.

    Flow findings (thousands in a scan) go in runs through one template (`scalar_texts`);
    any other finding, or a run holding a value that is not a plain scalar, through
    `finding_dict` and the general writer.
    """
    if not findings:
        yield "[]"
        return
    strings: dict[str, str] = {}

    def general(some: Sequence[Finding]) -> Iterator[str]:
        for f in some:
            out: list[str] = []
            _write(finding_dict(f, lang), 2, out, strings)
            yield "".join(out)

    def bulk(run: Sequence[Finding]) -> Iterator[str]:
        for start in range(0, len(run), _BULK):
            part = run[start : start + _BULK]
            text = _flow_findings_text(part, lang)
            if text is None:
                yield from general(part)
            else:
                yield text

    def items() -> Iterator[str]:
        flows = [type(ev) is FlowEvidence for ev in map(_evidence, findings)]
        if all(flows):
            yield from bulk(findings)
        else:  # a report of plan and flow findings: runs of flow findings in bulk
            start = 0
            for is_flow, group in groupby(flows):
                end = start + len(list(group))
                yield from (bulk if is_flow else general)(findings[start:end])
                start = end

    sep = "[\n" + " " * (_INDENT * 2)
    for item in items():
        yield sep
        yield item
        sep = _ITEM
    yield "\n" + " " * _INDENT + "]"


_evidence = attrgetter("evidence")


def _finding_texts(report: Report, lang: str) -> tuple[Any, Any]:
    """`findings` and `excepted`, written when the output reaches them (dicts when a baseline
    adds states)."""
    if report.baseline is not None:
        return _finding_dicts(report, lang)
    return (
        _Streamed(_findings_parts(report.findings, lang)),
        _Streamed(_findings_parts(report.excepted, lang)),
    )


_CHUNK = 1 << 20  # characters gathered before a chunk is handed on (a run of findings is one)


def _pieces(report: Report, lang: str) -> Iterator[str]:
    """The text in order: the head, each run of findings as it is made, then the rest."""
    return pretty_pieces(_report_dict(report, lang, _finding_texts), "\n")


def render_chunks(report: Report, lang: str = "en") -> Iterator[str]:
    """:func:`render` in chunks of about `_CHUNK` characters, each made when drawn (a writer
    holds one at a time); their concatenation is exactly :func:`render`'s text."""
    return chunked(_pieces(report, lang))


def chunked(pieces: Iterable[str]) -> Iterator[str]:
    """Pieces of text gathered into chunks of about `_CHUNK` characters."""
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            yield "".join(pending)
            pending, size = [], 0
    if pending:
        yield "".join(pending)


def render(report: Report, lang: str = "en") -> str:
    """Pretty, stable JSON (keys in spec order, UTF-8 kept readable).

    Byte for byte ``json.dumps(report_dict(...), ensure_ascii=False, indent=2) + "\\n"``;
    the findings are written straight from the report, not through their dicts.
    """
    return "".join(_pieces(report, lang))
