"""Reading a result (`check`/`scan --format json`, `findings.json`) back into frozen records.

This is the inverse of `report/json.py`, for `segcheck diff`, baselines and anything else that
keeps results: `finding_from_dict` gives back a `Finding`, `report_from_dict` a whole `Report`.
A result holds each message in one language only, so a finding read back has that text in
both `message` and `message_ja`. A result does not hold the topology (zones, channels,
imports), so `report_from_dict` takes the topology the result was made from, and refuses
another revision (by its SHA-256). Whatever a Report derives (evidence gaps, summary) is
derived again and must agree with what the result says. Every defect is an InputError naming
the file and the line of the offending value, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from ..errors import InputError
from ..findings import (
    CaptureSummary,
    Cause,
    CauseKind,
    ChangeKind,
    EvidenceGap,
    Finding,
    FindingEvidence,
    FixPlan,
    FlowEvidence,
    GapKind,
    Location,
    PathEvidence,
    PlanStep,
    Remediation,
    Report,
    RouteGroup,
    RuleId,
    Severity,
    SubjectEvidence,
    capture_gaps,
)
from ..flowtypes import INPUT_KINDS
from ..loaders.yamldoc import Document
from ..model import InputFile, Topology
from ..rules import RULES_BY_ID

T = TypeVar("T")
Where = tuple[str | int, ...]

RESULT_SCHEMA = 1
CAPTURE_KINDS = INPUT_KINDS


class ResultReader:
    """Typed access to a parsed result, every error located by line."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fail(self, where: Where, message: str) -> InputError:
        """An InputError at the line of the value at `where`."""
        return InputError(self.doc.path, message, self.doc.line(where))

    def get(self, data: Mapping[str, Any], key: str, where: Where, kind: type[T]) -> T:
        """A required value of one type."""
        value = data.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail((*where, key), f"{key!r} must be {_KIND_NAMES[kind]}")
        return value

    def opt(self, data: Mapping[str, Any], key: str, where: Where, kind: type[T]) -> T | None:
        """An optional value (missing or null: None)."""
        if data.get(key) is None:
            return None
        return self.get(data, key, where, kind)

    def strings(self, data: Mapping[str, Any], key: str, where: Where) -> tuple[str, ...]:
        """A list of strings (missing or null: empty)."""
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail((*where, key), f"{key!r} must be a list of strings")
        return tuple(value)

    def mapping(self, value: Any, where: Where, what: str) -> Mapping[str, Any]:
        """An object."""
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} must be an object")
        return value

    def items(self, data: Mapping[str, Any], key: str, where: Where) -> list[Any]:
        """A list (missing: empty)."""
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail((*where, key), f"{key!r} must be a list")
        return value

    def each(
        self, data: Mapping[str, Any], key: str, read: Callable[[Mapping[str, Any], Where], T]
    ) -> tuple[T, ...]:
        """Every object of a top-level list, read by `read(item, where)`."""
        return tuple(
            read(self.mapping(item, (key, i), f"{key}[{i}]"), (key, i))
            for i, item in enumerate(self.items(data, key, ()))
        )


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def read_flow(r: ResultReader, data: Mapping[str, Any], where: Where) -> FlowEvidence:
    """A finding's `flow`."""
    return FlowEvidence(
        r.get(data, "src_ip", where, str),
        r.get(data, "dst_ip", where, str),
        r.get(data, "proto", where, str),
        r.get(data, "src_port", where, int),
        r.get(data, "dst_port", where, int),
        r.get(data, "packets", where, int),
        r.get(data, "bytes", where, int),
        r.get(data, "first_frame", where, int),
        r.get(data, "first_seen", where, str),
        r.get(data, "input", where, str),
        r.get(data, "state", where, str),
        r.opt(data, "vlan", where, int),
        r.opt(data, "inner_vlan", where, int),
        r.opt(data, "line", where, int),
        r.opt(data, "pivot", where, str),
        r.opt(data, "device_action", where, str),
        r.opt(data, "device_rule", where, str),
        r.opt(data, "device", where, str),
        r.opt(data, "last_seen", where, str) or "",
    )


def _evidence(r: ResultReader, data: Mapping[str, Any], where: Where) -> FindingEvidence:
    """The evidence a finding rests on: a flow, a node, else a path (or a channel entry)."""
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise r.fail((*where, "count"), "'count' must be a whole number")
    remediation = None
    if data.get("remediation") is not None:
        rw = (*where, "remediation")
        rem = r.mapping(data["remediation"], rw, "remediation")
        owners = rem.get("permit_nodes") or {}
        if not isinstance(owners, Mapping):
            raise r.fail((*rw, "permit_nodes"), "'permit_nodes' must be a mapping")
        remediation = Remediation(
            r.strings(rem, "remove_permits", rw),
            r.strings(rem, "remove_links", rw),
            r.strings(rem, "narrow_permits", rw),
            r.strings(rem, "remove_nodes", rw),
            r.strings(rem, "disruptive", rw),
            tuple(
                sorted(
                    (node, str(pid))
                    for pid in owners
                    for node in r.strings(owners, str(pid), (*rw, "permit_nodes"))
                )
            ),
        )
    cause = _cause(r, data, where)
    path, permits = r.strings(data, "path", where), r.strings(data, "permits", where)
    node = r.opt(data, "node", where, str)
    if data.get("flow") is not None:
        fw = (*where, "flow")
        evidence: FindingEvidence = read_flow(r, r.mapping(data["flow"], fw, "flow"), fw)
        other = "a flow finding"
    elif node is not None:
        evidence, other = SubjectEvidence(node), "a finding about a node"
    elif (
        path
        or permits
        or remediation is not None
        or cause is not None
        or count != 1
        or data.get("channel") is None
    ):
        return PathEvidence(
            path,
            permits,
            remediation,
            count,
            cause,
            _routes(r, data, where),
            bool(data.get("src_unassigned", False)),
            bool(data.get("dst_unassigned", False)),
        )
    else:  # an entry of the channel register: nothing but the channel
        evidence, other = SubjectEvidence(), "a finding about a channel"
    for key, value in (("path", path), ("permits", permits), ("remediation", remediation)):
        if value:
            raise r.fail((*where, key), f"{other} has no {key!r}")
    if count != 1:
        raise r.fail((*where, "count"), f"{other} stands for one pair ('count' 1)")
    if node is not None and not isinstance(evidence, SubjectEvidence):
        raise r.fail((*where, "node"), f"{other} names no 'node'")
    return evidence


def _cause(r: ResultReader, data: Mapping[str, Any], where: Where) -> Cause | None:
    """A path finding's cause (issue 12), if the result has one."""
    if data.get("cause") is None:
        return None
    cw = (*where, "cause")
    c = r.mapping(data["cause"], cw, "cause")
    try:
        kind = CauseKind(r.get(c, "kind", cw, str))
    except ValueError:
        raise r.fail((*cw, "kind"), "unknown cause kind") from None
    return Cause(
        kind, r.strings(c, "elements", cw), r.strings(c, "zones", cw), r.opt(c, "role", cw, str)
    )


def _routes(r: ResultReader, data: Mapping[str, Any], where: Where) -> tuple[RouteGroup, ...]:
    """The zone pairs of a path finding by cause."""
    items = data.get("routes") or []
    if not isinstance(items, list):
        raise r.fail((*where, "routes"), "'routes' must be a list")
    out = []
    for i, item in enumerate(items):
        w = (*where, "routes", i)
        g = r.mapping(item, w, "route")
        out.append(
            RouteGroup(
                r.get(g, "src_zone", w, str),
                r.get(g, "dst_zone", w, str),
                r.get(g, "src_tier", w, str),
                r.get(g, "dst_tier", w, str),
                r.get(g, "src", w, str),
                r.get(g, "dst", w, str),
                r.get(g, "service", w, str),
                r.get(g, "count", w, int),
                r.strings(g, "path", w),
                bool(g.get("src_unassigned", False)),
                bool(g.get("dst_unassigned", False)),
            )
        )
    return tuple(out)


def read_finding(r: ResultReader, data: Mapping[str, Any], where: Where) -> Finding:
    """One entry of `findings` or `excepted`."""
    rule = r.get(data, "rule", where, str)
    if rule not in RULES_BY_ID:
        raise r.fail((*where, "rule"), f"unknown rule {rule!r} (rules version 1)")
    severity_text = r.get(data, "severity", where, str)
    try:
        severity = Severity(severity_text)
    except ValueError:
        raise r.fail((*where, "severity"), f"unknown severity {severity_text!r}") from None
    message = r.get(data, "message", where, str)
    fingerprint = r.get(data, "fingerprint", where, str)
    if not fingerprint:
        raise r.fail((*where, "fingerprint"), "empty fingerprint")
    loc_data = data.get("location")
    location = Location("")
    if loc_data is not None:
        loc = r.mapping(loc_data, (*where, "location"), "location")
        lw = (*where, "location")
        location = Location(
            r.get(loc, "path", lw, str), r.opt(loc, "line", lw, int), r.opt(loc, "frame", lw, int)
        )
    return Finding(
        RuleId(rule),  # checked against the catalogue above
        severity,
        message,
        message,
        location,
        src_zone=r.opt(data, "src_zone", where, str),
        dst_zone=r.opt(data, "dst_zone", where, str),
        src_tier=r.opt(data, "src_tier", where, str),
        dst_tier=r.opt(data, "dst_tier", where, str),
        src=r.opt(data, "src", where, str),
        dst=r.opt(data, "dst", where, str),
        service=r.opt(data, "service", where, str),
        evidence=_evidence(r, data, where),
        channel=r.opt(data, "channel", where, str),
        fingerprint=fingerprint,
        verdict=r.opt(data, "verdict", where, str),
    )


def read_input(r: ResultReader, data: Mapping[str, Any], where: Where) -> InputFile:
    """One entry of `inputs`, as a file and its digest."""
    return InputFile(
        r.get(data, "path", where, str),
        r.get(data, "kind", where, str),
        r.get(data, "sha256", where, str),
    )


def read_gap(r: ResultReader, data: Mapping[str, Any], where: Where) -> EvidenceGap:
    """One entry of `evidence.gaps`."""
    kind_text = r.get(data, "kind", where, str)
    try:
        kind = GapKind(kind_text)
    except ValueError:
        raise r.fail((*where, "kind"), f"unknown evidence gap {kind_text!r}") from None
    message = r.get(data, "message", where, str)
    return EvidenceGap(
        kind,
        r.get(data, "input", where, str),
        message,
        message,
        r.opt(data, "frame", where, int),
        r.opt(data, "byte_offset", where, int),
    )


def finding_from_dict(data: Mapping[str, Any], path: str = "<result>") -> Finding:
    """A Finding from one entry of `findings` or `excepted` (spec §6); InputError if malformed."""
    return read_finding(ResultReader(Document(path, data)), data, ())


def _capture(r: ResultReader, data: Mapping[str, Any], where: Where) -> CaptureSummary | None:
    """What a capture input's entry says was read (None for a topology or configuration)."""
    read = r.opt(data, "packets_read", where, int)
    if read is None:
        return None
    stopped = None
    if data.get("stopped_at") is not None:
        sw = (*where, "stopped_at")
        stop = r.mapping(data["stopped_at"], sw, "'stopped_at'")
        stopped = (
            r.get(stop, "byte_offset", sw, int),
            r.get(stop, "frame", sw, int),
            r.get(stop, "reason", sw, str),
        )
    first = None
    if data.get("first_skipped") is not None:
        fw = (*where, "first_skipped")
        item = r.mapping(data["first_skipped"], fw, "'first_skipped'")
        first = (r.get(item, "line", fw, int), r.get(item, "reason", fw, str))
    return CaptureSummary(
        r.get(data, "path", where, str),
        r.get(data, "kind", where, str),
        r.get(data, "sha256", where, str),
        read,
        r.get(data, "packets_skipped", where, int),
        stopped,
        first_skipped=first,
    )


def _same_gap(ours: EvidenceGap, theirs: EvidenceGap) -> bool:
    return (ours.kind, ours.path, ours.frame, ours.byte_offset) == (
        theirs.kind,
        theirs.path,
        theirs.frame,
        theirs.byte_offset,
    ) and theirs.message in (ours.message, ours.message_ja)


def _captures_as_read(
    r: ResultReader, captures: list[CaptureSummary], said: list[EvidenceGap]
) -> tuple[CaptureSummary, ...]:
    """The captures with what their entries leave out (gzip, flows counted) taken from the
    gaps the result states: each capture's gaps, derived again, must then be those."""
    out = []
    for capture in captures:
        theirs = [gap for gap in said if gap.path == capture.path]
        if any(gap.kind is GapKind.NO_PACKETS for gap in theirs):
            capture = replace(capture, flows=0)  # read, but nothing to analyse
        candidates = (capture, replace(capture, compressed=True))
        for candidate in candidates:
            ours = capture_gaps(candidate)
            if len(ours) == len(theirs) and all(map(_same_gap, ours, theirs)):
                out.append(candidate)
                break
        else:
            raise r.fail(("evidence", "gaps"), f"the evidence gaps of {capture.path} do not "
                         "follow from what the result says was read")  # fmt: skip
    return tuple(out)


def _plan(r: ResultReader, top: Mapping[str, Any]) -> FixPlan | None:
    """The fix plan of a `check` result (issue 12), if it has one."""
    if top.get("fix_plan") is None:
        return None
    pw: Where = ("fix_plan",)
    plan = r.mapping(top["fix_plan"], pw, "'fix_plan'")
    steps = []
    for i, item in enumerate(r.items(plan, "steps", pw)):
        sw = (*pw, "steps", i)
        step = r.mapping(item, sw, "step")
        try:
            kind = ChangeKind(r.get(step, "action", sw, str))
        except ValueError:
            raise r.fail((*sw, "action"), "unknown fix plan action") from None
        steps.append(
            PlanStep(
                kind,
                r.get(step, "target", sw, str),
                r.opt(step, "node", sw, str),
                r.strings(step, "findings", sw),
                bool(step.get("disruptive", False)),
            )
        )
    return FixPlan(
        tuple(steps),
        bool(plan.get("verified", False)),
        r.get(plan, "remaining", pw, int),
        r.get(plan, "findings", pw, int),
    )


def report_from_dict(data: Any, topology: Topology, path: str = "<result>") -> Report:
    """The Report a result was rendered from, given the topology it was made from.

    What a result leaves out comes back empty: the flow table (`flows`; CSV and HTML show it,
    JSON does not), how many flows each capture made, and the `--baseline` comparison. `command` is `scan` when an input is a
    capture, else `check` (JSON does not tell `check` from `report`).
    """
    doc = data if isinstance(data, Document) else Document(path, data)
    r = ResultReader(doc)
    top = r.mapping(doc.data, (), "a result")
    version = top.get("schema_version")
    if version != RESULT_SCHEMA or isinstance(version, bool):
        raise r.fail(("schema_version",), f"unsupported schema_version {version!r} (this reads 1)")
    inputs = r.each(top, "inputs", lambda d, w: read_input(r, d, w))
    made_from = [item for item in inputs if item.kind == "topology"]
    if not made_from or made_from[0].sha256 != topology.source.sha256:
        raise r.fail(
            ("inputs",),
            f"the result was not made from {topology.source.path} as it is now "
            "(its SHA-256 differs)",
        )
    tool = r.mapping(top.get("tool", {}), ("tool",), "'tool'")
    evidence = r.mapping(top.get("evidence", {}), ("evidence",), "'evidence'")
    said = [
        read_gap(r, r.mapping(g, ("evidence", "gaps", i), "gap"), ("evidence", "gaps", i))
        for i, g in enumerate(r.items(evidence, "gaps", ("evidence",)))
    ]
    captures = [
        c
        for i, item in enumerate(r.items(top, "inputs", ()))
        if (c := _capture(r, r.mapping(item, ("inputs", i), "input"), ("inputs", i))) is not None
    ]
    report = Report(
        r.get(tool, "version", ("tool",), str),
        r.get(top, "generated_at", (), str),
        "scan" if any(i.kind in CAPTURE_KINDS for i in inputs) else "check",
        topology,
        inputs,
        r.each(top, "findings", lambda d, w: read_finding(r, d, w)),
        r.each(top, "excepted", lambda d, w: read_finding(r, d, w)),
        _captures_as_read(r, captures, said),
        today=r.opt(top, "today", (), str) or "",
        plan=_plan(r, top),
    )
    if len(report.gaps) != len(said) or not all(map(_same_gap, report.gaps, said)):
        raise r.fail(("evidence", "gaps"), "the evidence gaps do not follow from the inputs")
    if top.get("summary") != report.summary():
        raise r.fail(("summary",), "the summary does not count the findings")
    return report
