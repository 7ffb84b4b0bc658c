"""Findings and reports: frozen, typed records that every formatter reads.

A `Finding` carries everything spec §6 puts in JSON; formatters own their wire format and
never reach back into the analysis. Fingerprints are stable across runs and plan revisions
(never a line number, never a client's ephemeral port), which a later `segcheck diff` relies on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

from .model import InputFile, Topology

RuleId = NewType("RuleId", str)
"""A rule's id as the spec writes it (`MN-ISOLATION`); the constants are in `segcheck.rules`."""


class Severity(StrEnum):
    """Ordered severity; compare with `rank` (higher is worse)."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """3 for critical down to 0 for info."""
        return _RANK[self]


_RANK = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.WARNING: 1, Severity.INFO: 0}


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
class PathEvidence:
    """What shows a forbidden path of the plan (check): the witness, and what opens and closes it."""

    path: tuple[str, ...] = ()  # the witness, hop by hop (zones and nodes)
    permits: tuple[str, ...] = ()  # the permits that open it (none when a node bridges)
    remediation: Remediation | None = None
    count: int = 1  # pairs of endpoints the finding stands for


@dataclass(frozen=True, slots=True)
class SubjectEvidence:
    """A finding about one entry of the plan itself: a node's own settings or addresses, or a
    channel of the register (then named by `Finding.channel`, and `node` is None)."""

    node: str | None = None


# What a finding rests on: a path of the plan, an observed flow, or one node or channel.
FindingEvidence = PathEvidence | FlowEvidence | SubjectEvidence


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding (or, in `Report.excepted`, one fact a channel covers).

    The fields every finding has, then its `evidence`, one of three kinds; `path`, `permits`,
    `remediation`, `count`, `flow` and `node` read it for formatters (empty when the finding
    rests on another kind). `channel` is the channel that covers an excepted finding, or the
    register entry a channel finding is about.
    """

    rule: RuleId
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
    evidence: FindingEvidence = PathEvidence()
    channel: str | None = None
    fingerprint: str = ""
    verdict: str | None = None  # scan: "violation" or "suspect"; None for topology findings

    @property
    def path(self) -> tuple[str, ...]:
        """The witness path (a path finding), else empty."""
        ev = self.evidence
        return ev.path if type(ev) is PathEvidence else ()

    @property
    def permits(self) -> tuple[str, ...]:
        """The permits opening the path (a path finding), else empty."""
        ev = self.evidence
        return ev.permits if type(ev) is PathEvidence else ()

    @property
    def remediation(self) -> Remediation | None:
        """The smallest fix (a path finding), else None."""
        ev = self.evidence
        return ev.remediation if type(ev) is PathEvidence else None

    @property
    def count(self) -> int:
        """Pairs of endpoints the finding stands for: 1 but for a grouped path finding."""
        ev = self.evidence
        return ev.count if type(ev) is PathEvidence else 1

    @property
    def flow(self) -> FlowEvidence | None:
        """The observed flow (a capture finding), else None."""
        ev = self.evidence
        return ev if type(ev) is FlowEvidence else None

    @property
    def node(self) -> str | None:
        """The node whose own settings are at fault, else None."""
        ev = self.evidence
        return ev.node if type(ev) is SubjectEvidence else None

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
    rule: RuleId,
    src_zone: str | None,
    dst_zone: str | None,
    opening: Iterable[str],
    service: str | None = None,
) -> str:
    """Fingerprint of a topology finding: rule, zone pair, opening permits or forwarders."""
    return fingerprint("path", rule, src_zone, dst_zone, ",".join(opening), service)


def flow_fingerprint(
    rule: RuleId,
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


def subject_fingerprint(rule: RuleId, subject: str) -> str:
    """Fingerprint of a finding about one node's settings or one channel."""
    return fingerprint("subject", rule, subject)


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    """Per capture input: what was read (spec §6 `inputs`)."""

    path: str
    kind: str
    sha256: str
    packets_read: int
    packets_skipped: int
    stopped_at: tuple[int, int, str] | None = None  # (byte offset, frame, reason)
    compressed: bool = False  # gzip: the byte offset counts decompressed bytes
    flows: int | None = None  # flows read from it (None: not counted)
    first_skipped: tuple[int, str] | None = None  # Zeek: (line, why) of the first line skipped


class GapKind(StrEnum):
    """What kind of evidence a run did not see."""

    NO_PACKETS = "no-packets"  # a capture with no packet (or log entry) that could be analysed
    STOPPED_EARLY = "stopped-early"  # a capture read only up to damage
    NOTHING_TO_SEPARATE = "nothing-to-separate"  # a topology with fewer than two internal tiers


class Evidence(StrEnum):
    """How far a report's evidence goes: only `complete` evidence can prove the separation."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # findings stand, but their absence proves nothing
    UNUSABLE = "unusable"  # a capture held no packet at all: the run saw no traffic there


@dataclass(frozen=True, slots=True)
class EvidenceGap:
    """Something a run did not see, and why its report therefore cannot prove the separation."""

    kind: GapKind
    path: str  # the input concerned
    message: str
    message_ja: str
    frame: int | None = None  # stopped-early: the first frame not read
    byte_offset: int | None = None  # stopped-early: where reading stopped

    def text(self, lang: str) -> str:
        """The message in `ja` or `en`."""
        return self.message_ja if lang == "ja" else self.message


def topology_gaps(topology: Topology) -> tuple[EvidenceGap, ...]:
    """`nothing-to-separate` when the plan has fewer than two of the three internal tiers."""
    internal = sorted({z.tier.value for z in topology.zones.values() if z.tier.internal})
    if len(internal) >= 2:
        return ()
    path = topology.source.path
    if internal:
        en = f"the topology has zones in one internal tier only ({internal[0]})"
        ja = f"内部の系統のゾーンが {internal[0]} のみ"
    else:
        en, ja = "the topology has no zone in an internal tier", "内部の系統のゾーンがない"
    return (
        EvidenceGap(
            GapKind.NOTHING_TO_SEPARATE,
            path,
            f"{path}: nothing to separate: {en}; the three-tier separation needs zones in at "
            "least two of mynumber, lgwan and internet",
            f"{path}: 分離の対象なし: {ja}。三層分離の検証には mynumber・lgwan・internet のうち"
            "二系統以上のゾーンが必要",
        ),
    )


def capture_gaps(capture: CaptureSummary) -> tuple[EvidenceGap, ...]:
    """`no-packets` for a capture with nothing analysable, `stopped-early` for a damaged one."""
    path = capture.path
    if capture.packets_read - capture.packets_skipped <= 0 or capture.flows == 0:
        if capture.packets_read > capture.packets_skipped:  # read, but no IP flow in them
            en = f"{capture.packets_read} packets were read but none carried an IP flow"
            ja = f"{capture.packets_read} パケットを読み込んだが、IP 通信を含むものがない"
        elif capture.kind == "zeek-conn":
            en, ja = "the log holds no readable connection", "読み込めた接続記録がない"
        elif capture.packets_read:
            en = f"all {capture.packets_read} packets were skipped (link type or record unusable)"
            ja = f"全 {capture.packets_read} パケットが解析不能 (リンク種別または記録の破損)"
        else:
            en, ja = "the capture holds no packet", "キャプチャにパケットが一つもない"
        if capture.stopped_at is not None:
            offset, frame, reason = capture.stopped_at
            en += f" before reading stopped at frame {frame}, byte offset {offset} ({reason})"
            ja += f" (フレーム {frame}、バイト位置 {offset} で読込停止: {reason})"
        return (
            EvidenceGap(
                GapKind.NO_PACKETS,
                path,
                f"{path}: no traffic seen: {en}",
                f"{path}: 通信を確認できず: {ja}",
            ),
        )
    if capture.stopped_at is None:
        return ()
    offset, frame, reason = capture.stopped_at
    stream = " of the decompressed stream" if capture.compressed else ""
    stream_ja = " (展開後)" if capture.compressed else ""
    return (
        EvidenceGap(
            GapKind.STOPPED_EARLY,
            path,
            f"{path}: incomplete: reading stopped at frame {frame}, byte offset {offset}{stream} "
            f"({reason}); what follows, an unknown number of packets, was not analysed",
            f"{path}: 不完全: フレーム {frame}、バイト位置 {offset}{stream_ja} で読込停止 "
            f"({reason})。以降のパケット (件数不明) は解析されていない",
            frame,
            offset,
        ),
    )


def evidence_gaps(
    topology: Topology, captures: Iterable[CaptureSummary] = ()
) -> tuple[EvidenceGap, ...]:
    """Every gap of a run: the topology's, then each capture's in input order."""
    gaps = list(topology_gaps(topology))
    for capture in captures:
        gaps.extend(capture_gaps(capture))
    return tuple(gaps)


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
    rule: RuleId | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class BaselineInfo:
    """How a run compares with an earlier result (`check`/`scan --baseline RESULT.json`).

    States are keyed by fingerprint: `new`, `updated`, `renamed`, `unchanged` for findings,
    `excepted-now` for what a channel now covers. `absent` are the baseline's findings that
    this run no longer has (SARIF `absent`), with the baseline's data.
    """

    path: str
    sha256: str
    guid: str  # the baseline run's automationDetails.guid (SARIF baselineGuid)
    states: Mapping[str, str]
    excepted_states: Mapping[str, str]
    escalated: frozenset[str]  # fingerprints whose severity rose since the baseline
    absent: tuple[Finding, ...] = ()

    def state(self, finding: Finding, excepted: bool = False) -> str:
        """The state of one finding of the run (`new` when the baseline never had it)."""
        table = self.excepted_states if excepted else self.states
        return table.get(finding.fingerprint, "new")

    def gates(self, finding: Finding) -> bool:
        """True when the finding may fail the run: new, or escalated since the baseline."""
        return self.state(finding) == "new" or finding.fingerprint in self.escalated


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
    baseline: BaselineInfo | None = None  # set by `--baseline`: each finding's state
    # What was not seen, derived from the topology and the captures so that no report, however
    # built, can leave it out.
    gaps: tuple[EvidenceGap, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gaps", evidence_gaps(self.topology, self.captures))

    @property
    def evidence(self) -> Evidence:
        """`unusable` when a capture held nothing, `incomplete` for any other gap."""
        if any(g.kind is GapKind.NO_PACKETS for g in self.gaps):
            return Evidence.UNUSABLE
        return Evidence.INCOMPLETE if self.gaps else Evidence.COMPLETE

    @property
    def separation_proven(self) -> bool:
        """No finding at all on complete evidence: the only case a report says "holds"."""
        return not self.findings and not self.gaps

    def gating(self) -> tuple[Finding, ...]:
        """The findings that count for the exit status: with a baseline, only new or escalated
        ones (so an imperfect network can adopt segcheck and still block regressions)."""
        if self.baseline is None:
            return self.findings
        baseline = self.baseline
        return tuple(f for f in self.findings if baseline.gates(f))

    def summary(self) -> dict[str, int]:
        """Count of findings per severity (all four keys present)."""
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts


def by_rule(findings: Iterable[Finding]) -> list[tuple[RuleId, list[Finding]]]:
    """Findings grouped by rule, rules in order of first appearance (worst severity first).

    One group per rule even when its flow findings differ in severity (attempts are warnings),
    so a rule is listed, and anchored in HTML, once.
    """
    groups: dict[RuleId, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule, []).append(finding)
    return list(groups.items())


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings in the deterministic order of spec §6."""
    return tuple(sorted(findings, key=lambda f: f.sort_key))


__all__ = [
    "BaselineInfo",
    "CaptureSummary",
    "Evidence",
    "EvidenceGap",
    "Finding",
    "FindingEvidence",
    "FlowEvidence",
    "GapKind",
    "JudgedFlow",
    "Location",
    "PathEvidence",
    "Remediation",
    "Report",
    "RuleId",
    "Severity",
    "SubjectEvidence",
    "by_rule",
    "capture_gaps",
    "evidence_gaps",
    "flow_fingerprint",
    "path_fingerprint",
    "sorted_findings",
    "subject_fingerprint",
    "topology_gaps",
]
