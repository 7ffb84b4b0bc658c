"""Findings and reports: frozen, typed records that every formatter reads.

A `Finding` carries everything spec §6 puts in JSON; formatters own their wire format and
never reach back into the analysis. Fingerprints are stable across runs and plan revisions
(never a line number, never a client's ephemeral port), which a later `segcheck diff` relies on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import InputFile, Topology
from .rules import RULES_BY_ID, Severity


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: a topology line, or a capture frame."""

    path: str
    line: int | None = None
    frame: int | None = None


@dataclass(frozen=True, slots=True)
class Remediation:
    """The smallest set of permits or links whose removal closes every path of a finding."""

    remove_permits: tuple[str, ...] = ()
    remove_links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowEvidence:
    """The observed flow behind a capture finding (spec §6 `flow`)."""

    src_ip: str
    dst_ip: str
    proto: str
    src_port: int
    dst_port: int
    packets: int
    bytes: int
    first_frame: int
    first_seen: str
    input: str
    state: str
    vlan: int | None = None
    inner_vlan: int | None = None  # the second tag (QinQ); part of the flow key


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding (or, in `Report.excepted`, one fact a channel covers)."""

    rule: str
    severity: Severity
    message: str
    message_ja: str
    location: Location
    src_zone: str | None = None
    dst_zone: str | None = None
    src_tier: str | None = None
    dst_tier: str | None = None
    src: str | None = None
    dst: str | None = None
    service: str | None = None
    count: int = 1
    path: tuple[str, ...] = ()
    permits: tuple[str, ...] = ()
    remediation: Remediation | None = None
    flow: FlowEvidence | None = None
    node: str | None = None
    channel: str | None = None
    fingerprint: str = ""
    verdict: str | None = None  # scan: "violation" or "suspect"; None for topology findings

    def text(self, lang: str) -> str:
        """The message in `ja` or `en`."""
        return self.message_ja if lang == "ja" else self.message

    @property
    def sort_key(self) -> tuple[int, str, str, str, str, str, str, str]:
        """Severity (worst first), rule, zones, src, dst, then tie-breakers (spec §6)."""
        return (
            -self.severity.rank,
            self.rule,
            self.src_zone or "",
            self.dst_zone or "",
            self.src or "",
            self.dst or "",
            self.service or "",
            self.fingerprint,
        )


def fingerprint(*parts: object) -> str:
    """A short, stable hash of the identifying parts of a finding."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def path_fingerprint(
    rule: str,
    src_zone: str | None,
    dst_zone: str | None,
    opening: Iterable[str],
    service: str | None = None,
) -> str:
    """Fingerprint of a topology finding: rule, zone pair, opening permits or forwarders."""
    return fingerprint("path", rule, src_zone, dst_zone, ",".join(opening), service)


def flow_fingerprint(
    rule: str,
    src_ip: str,
    dst_ip: str,
    proto: str,
    dst_port: int,
    vlan: int | None,
    inner_vlan: int | None = None,
) -> str:
    """Fingerprint of a capture finding: never the client's ephemeral port."""
    if inner_vlan is None:  # untagged and single-tagged flows keep their original identity
        return fingerprint("flow", rule, src_ip, dst_ip, proto, dst_port, vlan)
    return fingerprint("flow", rule, src_ip, dst_ip, proto, dst_port, vlan, inner_vlan)


def subject_fingerprint(rule: str, subject: str) -> str:
    """Fingerprint of a finding about one node's settings or one channel."""
    return fingerprint("subject", rule, subject)


def make_finding(
    rule_id: str, message: str, message_ja: str, location: Location, **fields: object
) -> Finding:
    """A finding with the rule's own severity unless `severity` is given."""
    severity = fields.pop("severity", None) or RULES_BY_ID[rule_id].severity
    return Finding(rule_id, severity, message, message_ja, location, **fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    """Per capture input: what was read (spec §6 `inputs`)."""

    path: str
    kind: str
    sha256: str
    packets_read: int
    packets_skipped: int
    stopped_at: tuple[int, int, str] | None = None  # (byte offset, frame, reason)


@dataclass(frozen=True, slots=True)
class JudgedFlow:
    """One row of the flow table: the flow and its verdict (scan, csv format, zone matrix)."""

    flow: FlowEvidence
    src_zone: str | None
    dst_zone: str | None
    src_tier: str | None
    dst_tier: str | None
    src: str
    dst: str
    service: str | None
    verdict: str  # permitted | sanitized | excepted | violation | suspect | unknown | local
    rule: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run found; the only thing formatters read."""

    tool_version: str
    generated_at: str
    command: str  # "check" | "scan" | "report"
    topology: Topology
    inputs: tuple[InputFile, ...]
    findings: tuple[Finding, ...]
    excepted: tuple[Finding, ...] = ()
    captures: tuple[CaptureSummary, ...] = ()
    flows: tuple[JudgedFlow, ...] = field(default=())
    today: str = ""

    def summary(self) -> dict[str, int]:
        """Count of findings per severity (all four keys present)."""
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts


def by_rule(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by rule, rules in order of first appearance (worst severity first).

    One group per rule even when its flow findings differ in severity (attempts are warnings),
    so a rule is listed, and anchored in HTML, once.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule, []).append(finding)
    return list(groups.items())


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings in the deterministic order of spec §6."""
    return tuple(sorted(findings, key=lambda f: f.sort_key))


__all__ = [
    "CaptureSummary",
    "Finding",
    "FlowEvidence",
    "JudgedFlow",
    "Location",
    "Remediation",
    "Report",
    "by_rule",
    "flow_fingerprint",
    "make_finding",
    "path_fingerprint",
    "sorted_findings",
    "subject_fingerprint",
]
