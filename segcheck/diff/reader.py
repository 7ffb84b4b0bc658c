"""Reading a result file (`check`/`scan --format json`, `findings.json`) back into records.

The records themselves are read by `segcheck.report.results` (the inverse of
`report/json.py`); this module makes a diff side of them. Every defect is an InputError naming
the file and the line of the offending value, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..findings import Drift, EvidenceGap
from ..loaders import yamldoc
from ..report.results import (
    CAPTURE_KINDS,
    RESULT_SCHEMA,
    ResultReader,
    Where,
    finding_from_dict,
    read_finding,
    read_flow,
    read_gap,
    read_input,
)
from .model import ChannelInfo, Side

__all__ = ["CAPTURE_KINDS", "finding_from_dict", "is_result", "side_from_document"]


def _channel(r: ResultReader, data: Mapping[str, Any], where: Where) -> ChannelInfo:
    return ChannelInfo(
        r.get(data, "id", where, str),
        r.opt(data, "approved_by", where, str),
        r.opt(data, "expires", where, str),
        r.opt(data, "ticket", where, str),
        r.opt(data, "reason", where, str),
    )


def _drift(r: ResultReader, data: Mapping[str, Any], where: Where) -> Drift:
    """One `log_join.drift` item; a result holds its message in one language only."""
    message = r.get(data, "message", where, str)
    example = r.mapping(data.get("example"), (*where, "example"), "'example'")
    return Drift(
        r.get(data, "node", where, str),
        r.get(data, "rule", where, str),
        r.get(data, "reason", where, str),
        r.get(data, "action", where, str),
        r.get(data, "flows", where, int),
        read_flow(r, example, (*where, "example")),
        message,
        message,
    )


def _drifts(r: ResultReader, data: Mapping[str, Any]) -> tuple[Drift, ...]:
    """The drift of a scan of firewall logs (none in results written before it was kept)."""
    if data.get("log_join") is None:
        return ()
    join = r.mapping(data["log_join"], ("log_join",), "'log_join'")
    return tuple(
        _drift(r, r.mapping(item, ("log_join", "drift", i), "drift"), ("log_join", "drift", i))
        for i, item in enumerate(r.items(join, "drift", ("log_join",)))
    )


def _logged(r: ResultReader, data: Mapping[str, Any], drift: tuple[Drift, ...]) -> frozenset[str]:
    """The devices whose logs the scan read: those of `log_join.permits` (every imported permit
    of a logging device) and of its drift (as `with_baseline` knows them of a run)."""
    if data.get("log_join") is None:
        return frozenset()
    join = r.mapping(data["log_join"], ("log_join",), "'log_join'")
    where = ("log_join", "permits")
    nodes = {
        r.get(r.mapping(item, (*where, i), "permit"), "node", (*where, i), str)
        for i, item in enumerate(r.items(join, "permits", ("log_join",)))
    }
    return frozenset(nodes | {d.node for d in drift})


def is_result(data: Any) -> bool:
    """True for a parsed result file (it has `schema_version`, a topology has `segcheck`)."""
    return isinstance(data, dict) and "schema_version" in data and "segcheck" not in data


def side_from_document(doc: yamldoc.Document, sha256: str) -> Side:
    """A diff side from a parsed result file (`schema_version` 1)."""
    r = ResultReader(doc)
    data = r.mapping(doc.data, (), "a result file")
    version = data.get("schema_version")
    if version != RESULT_SCHEMA or isinstance(version, bool):
        raise r.fail(("schema_version",), f"unsupported schema_version {version!r} (this reads 1)")
    findings = r.each(data, "findings", lambda d, w: read_finding(r, d, w))
    excepted = r.each(data, "excepted", lambda d, w: read_finding(r, d, w))
    inputs = r.each(data, "inputs", lambda d, w: read_input(r, d, w))
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
            read_gap(r, r.mapping(g, ("evidence", "gaps", i), "gap"), ("evidence", "gaps", i))
            for i, g in enumerate(r.items(evidence, "gaps", ("evidence",)))
        )
    status = r.opt(evidence, "status", ("evidence",), str) or ("incomplete" if gaps else "complete")
    command = "scan" if any(i.kind in CAPTURE_KINDS for i in inputs) else "check"
    drift = _drifts(r, data)
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
        drift=drift,
        logged=_logged(r, data, drift),
    )
