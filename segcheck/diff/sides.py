"""Turning what the user names into a diff side: a topology (checked here) or a result file."""

from __future__ import annotations

import hashlib
from datetime import date

from ..errors import InputError
from ..findings import Report
from ..loaders import yamldoc
from ..model import Topology
from .model import ChannelInfo, Side
from .reader import is_result, side_from_document


def channel_register(topology: Topology) -> dict[str, ChannelInfo]:
    """The channel register of a topology, by id."""
    return {
        c.id: ChannelInfo(
            c.id,
            c.approved_by,
            c.expires.isoformat() if c.expires is not None else None,
            c.ticket,
            c.reason,
        )
        for c in topology.channels
    }


def logged_devices(report: Report) -> frozenset[str]:
    """The devices whose firewall logs a run read: every imported permit of a logging device is
    in `log_join.permits`, and a drift names its device. Only there can a drift be fixed."""
    join = report.log_join
    if join is None:
        return frozenset()
    return frozenset({p.node for p in join.permits} | {d.node for d in join.drift})


def side_from_report(report: Report) -> Side:
    """A side from a run of `check` or `scan` made in this process."""
    topo = report.topology
    return Side(
        path=topo.source.path,
        sha256=topo.source.sha256,
        kind="topology" if report.command == "check" else "result",
        command="scan" if report.captures else "check",
        today=report.today,
        name=topo.name,
        profile=topo.profile.value,
        tool_version=report.tool_version,
        inputs=report.inputs,
        findings=report.findings,
        excepted=report.excepted,
        channels=channel_register(topo),
        evidence=report.evidence.value,
        gaps=report.gaps,
        topology=topo if report.command == "check" else None,
        drift=report.drift,
        logged=logged_devices(report),
    )


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return yamldoc.read_limited(path, stream)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a topology or result file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None


def read_result(path: str) -> Side:
    """A result file (`check`/`scan --format json`) as a side; InputError for anything else."""
    raw = _read(path)
    doc = yamldoc.load_document(path, raw)
    if not is_result(doc.data):
        raise InputError(path, _not_a_result(doc.data), doc.line(()))
    return side_from_document(doc, hashlib.sha256(raw).hexdigest())


def _not_a_result(data: object) -> str:
    if isinstance(data, dict) and "runs" in data and "version" in data:
        return "a SARIF log; give the JSON result (--format json, or findings.json)"
    if isinstance(data, dict) and "segcheck" in data:
        return "a topology, not a result file (--format json of check or scan)"
    return "not a result file of segcheck (no schema_version)"


def load_side(path: str, *, today: date | None = None) -> Side:
    """A topology (checked here with `today`) or a result JSON of `check` or `scan`."""
    from ..engine import check
    from ..loaders.topology import parse_topology

    raw = _read(path)
    doc = yamldoc.load_document(path, raw)
    if is_result(doc.data):
        return side_from_document(doc, hashlib.sha256(raw).hexdigest())
    if isinstance(doc.data, dict) and "runs" in doc.data and "version" in doc.data:
        raise InputError(path, _not_a_result(doc.data), doc.line(()))
    topology = parse_topology(raw, path)
    return side_from_report(check(topology, today=today, generated_at="-"))
