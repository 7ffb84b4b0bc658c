"""Reading a result file (`check`/`scan --format json`, `findings.json`) back into records.

`finding_from_dict` is the inverse of `report.json.finding_dict`: the JSON holds the
message in one language only, so both `message` and `message_ja` get that text. Every defect is
an InputError naming the file and the line of the offending value, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .. import yamldoc
from ..errors import InputError
from ..findings import (
    EvidenceGap,
    Finding,
    FlowEvidence,
    GapKind,
    Location,
    Remediation,
    RuleId,
)
from ..model import InputFile
from ..rules import RULES_BY_ID, Severity
from .model import ChannelInfo, Side

T = TypeVar("T")
Where = tuple[str | int, ...]

RESULT_SCHEMA = 1
CAPTURE_KINDS = frozenset({"pcap", "pcapng", "zeek-conn"})


class _Reader:
    """Typed access to a parsed document, every error located by line."""

    def __init__(self, doc: yamldoc.Document) -> None:
        self.doc = doc

    def fail(self, where: Where, message: str) -> InputError:
        return InputError(self.doc.path, message, self.doc.line(where))

    def get(self, data: Mapping[str, Any], key: str, where: Where, kind: type[T]) -> T:
        value = data.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail((*where, key), f"{key!r} must be {_KIND_NAMES[kind]}")
        return value

    def opt(self, data: Mapping[str, Any], key: str, where: Where, kind: type[T]) -> T | None:
        if data.get(key) is None:
            return None
        return self.get(data, key, where, kind)

    def strings(self, data: Mapping[str, Any], key: str, where: Where) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail((*where, key), f"{key!r} must be a list of strings")
        return tuple(value)

    def mapping(self, value: Any, where: Where, what: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} must be an object")
        return value

    def items(self, data: Mapping[str, Any], key: str, where: Where) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail((*where, key), f"{key!r} must be a list")
        return value

    def each(
        self, data: Mapping[str, Any], key: str, read: Callable[[Mapping[str, Any], Where], T]
    ) -> tuple[T, ...]:
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


def _flow(r: _Reader, data: Mapping[str, Any], where: Where) -> FlowEvidence:
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
    )


def _finding(r: _Reader, data: Mapping[str, Any], where: Where) -> Finding:
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
    remediation = None
    if data.get("remediation") is not None:
        rw = (*where, "remediation")
        rem = r.mapping(data["remediation"], rw, "remediation")
        remediation = Remediation(
            r.strings(rem, "remove_permits", rw), r.strings(rem, "remove_links", rw)
        )
    flow = None
    if data.get("flow") is not None:
        fw = (*where, "flow")
        flow = _flow(r, r.mapping(data["flow"], fw, "flow"), fw)
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise r.fail((*where, "count"), "'count' must be a whole number")
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
        count=count,
        path=r.strings(data, "path", where),
        permits=r.strings(data, "permits", where),
        remediation=remediation,
        flow=flow,
        node=r.opt(data, "node", where, str),
        channel=r.opt(data, "channel", where, str),
        fingerprint=fingerprint,
        verdict=r.opt(data, "verdict", where, str),
    )


def finding_from_dict(data: Mapping[str, Any], path: str = "<result>") -> Finding:
    """A Finding from one entry of `findings` or `excepted` (spec §6); InputError if malformed."""
    reader = _Reader(yamldoc.Document(path, data))
    return _finding(reader, data, ())


def _input(r: _Reader, data: Mapping[str, Any], where: Where) -> InputFile:
    return InputFile(
        r.get(data, "path", where, str),
        r.get(data, "kind", where, str),
        r.get(data, "sha256", where, str),
    )


def _channel(r: _Reader, data: Mapping[str, Any], where: Where) -> ChannelInfo:
    return ChannelInfo(
        r.get(data, "id", where, str),
        r.opt(data, "approved_by", where, str),
        r.opt(data, "expires", where, str),
        r.opt(data, "ticket", where, str),
        r.opt(data, "reason", where, str),
    )


def _gap(r: _Reader, data: Mapping[str, Any], where: Where) -> EvidenceGap:
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


def is_result(data: Any) -> bool:
    """True for a parsed result file (it has `schema_version`, a topology has `segcheck`)."""
    return isinstance(data, dict) and "schema_version" in data and "segcheck" not in data


def side_from_document(doc: yamldoc.Document, sha256: str) -> Side:
    """A diff side from a parsed result file (`schema_version` 1)."""
    r = _Reader(doc)
    data = r.mapping(doc.data, (), "a result file")
    version = data.get("schema_version")
    if version != RESULT_SCHEMA or isinstance(version, bool):
        raise r.fail(("schema_version",), f"unsupported schema_version {version!r} (this reads 1)")
    findings = r.each(data, "findings", lambda d, w: _finding(r, d, w))
    excepted = r.each(data, "excepted", lambda d, w: _finding(r, d, w))
    inputs = r.each(data, "inputs", lambda d, w: _input(r, d, w))
    if not inputs:
        raise r.fail(("inputs",), "a result names its inputs; this one names none")
    tool = r.mapping(data.get("tool", {}), ("tool",), "'tool'")
    topo = r.mapping(data.get("topology", {}), ("topology",), "'topology'")
    evidence = r.mapping(data.get("evidence", {}), ("evidence",), "'evidence'")
    channels = None
    if "channels" in data:  # the channel register (results written since the diff existed)
        register = r.each(data, "channels", lambda d, w: _channel(r, d, w))
        channels = {c.id: c for c in register}
    gaps: tuple[EvidenceGap, ...] = ()
    if evidence:
        gaps = tuple(
            _gap(r, r.mapping(g, ("evidence", "gaps", i), "gap"), ("evidence", "gaps", i))
            for i, g in enumerate(r.items(evidence, "gaps", ("evidence",)))
        )
    status = r.opt(evidence, "status", ("evidence",), str) or ("incomplete" if gaps else "complete")
    command = "scan" if any(i.kind in CAPTURE_KINDS for i in inputs) else "check"
    return Side(
        path=doc.path,
        sha256=sha256,
        kind="result",
        command=command,
        today=r.opt(data, "today", (), str) or "",
        name=r.opt(topo, "name", ("topology",), str) or "",
        profile=r.opt(topo, "profile", ("topology",), str) or "",
        tool_version=r.opt(tool, "version", ("tool",), str) or "",
        inputs=inputs,
        findings=findings,
        excepted=excepted,
        channels=channels,
        evidence=status,
        gaps=gaps,
    )
