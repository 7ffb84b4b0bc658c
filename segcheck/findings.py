"""Findings and reports: frozen, typed records that every formatter reads.

A `Finding` carries everything spec §6 puts in JSON; formatters own their wire format and
never reach back into the analysis. Fingerprints are stable across runs and plan revisions
(never a line number, never a client's ephemeral port), which a later `segcheck diff` relies on.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import NewType

from .flowtypes import is_log
from .messages import localize
from .model import ROLE_NAMES_JA, InputFile, Role, Topology

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
    """The cheapest set of changes that closes every route of a finding (issue 12).

    - `remove_permits`: permits that carry nothing the policy allows;
    - `narrow_permits`: permits that also carry allowed traffic: narrow them so that they no
      longer pass the finding's flows (removing them would break the allowed ones);
    - `remove_nodes`: forwarders every attachment of which is cut (a leftover router);
    - `remove_links`: declared `links:` entries and forwarder attachments `node--zone`;
    - `disruptive`: the items of `remove_links` that also carry traffic the policy allows,
      chosen only because nothing cheaper closes the finding.
    """

    remove_permits: tuple[str, ...] = ()
    remove_links: tuple[str, ...] = ()
    narrow_permits: tuple[str, ...] = ()
    remove_nodes: tuple[str, ...] = ()
    disruptive: tuple[str, ...] = ()
    owners: tuple[tuple[str, str], ...] = ()  # (node, permit id) of every permit named

    @property
    def empty(self) -> bool:
        """True when there is nothing to change (no finite cut exists)."""
        return not (
            self.remove_permits or self.remove_links or self.narrow_permits or self.remove_nodes
        )

    def parts(self, lang: str) -> list[str]:
        """The changes in words, one phrase per kind (disruptive items marked)."""
        ja = lang == "ja"
        out: list[str] = []
        if self.remove_nodes:
            names = ", ".join(self.remove_nodes)
            out.append(f"機器を撤去 {names}" if ja else f"remove node {names}")
        if self.remove_permits:
            names = ", ".join(self.remove_permits)
            out.append(f"許可ルールを削除 {names}" if ja else f"remove permits {names}")
        if self.narrow_permits:
            names = ", ".join(self.narrow_permits)
            out.append(
                f"許可ルールを絞り込む {names}(許可された通信も通しているため)"
                if ja
                else f"narrow permits {names} (they also carry allowed traffic)"
            )
        if self.remove_links:
            mark = "(注意: 許可された通信も止まる)" if ja else " (CAUTION: carries allowed traffic)"
            names = ", ".join(
                f"{n}{mark}" if n in self.disruptive else n for n in self.remove_links
            )
            out.append(f"接続を削除 {names}" if ja else f"remove links {names}")
        return out


class CauseKind(StrEnum):
    """What opens a path finding (its identity, with the rule)."""

    FORWARDER = "forwarder"  # a forwarder that filters nothing, joining two tiers' segments
    LINK = "link"  # a declared `links:` entry joining two tiers
    PERMITS = "permits"  # the chain of permits (an lbo-gateway by its name) opening the route


@dataclass(frozen=True, slots=True)
class Cause:
    """The tier-joining element, or the chain of permits, that a path finding stands for.

    `elements`: the forwarder's or link's name, or the permit ids in route order; `zones`: for a
    forwarder or link, the zones of the two tiers it joins on the example route; `lbo`: the
    lbo-gateway a permit chain crosses, if any.
    """

    kind: CauseKind
    elements: tuple[str, ...]
    zones: tuple[str, ...] = ()
    role: str | None = None  # the forwarder's role

    def key(self) -> tuple[str, ...]:
        """The identity of the cause (what fingerprints hash)."""
        return (self.kind.value, *self.elements)

    def text(self, lang: str) -> str:
        """The cause in words: what opens or bridges the finding's routes."""
        names = ", ".join(self.elements)
        joined = " / ".join(self.zones)
        ja = lang == "ja"
        if self.kind is CauseKind.PERMITS:
            if not self.elements:
                return "同一セグメント(許可ルールなし)" if ja else "a shared segment"
            return f"許可: {names}" if ja else f"opened by {names}"
        if self.kind is CauseKind.LINK:
            if ja:
                return f"系をまたぐ接続 {names}" + (f"({joined})" if joined else "")
            return f"link {names} joining two tiers" + (f" ({joined})" if joined else "")
        role = f"{self.role} " if self.role else ""
        if ja:
            if self.role is not None and self.role in ROLE_NAMES_JA:
                role = f"{ROLE_NAMES_JA[Role(self.role)]} "
            return f"ブリッジ: {role}{names}" + (f"({joined} をつないでいる)" if joined else "")
        return f"bridged by {role}{names}" + (f" joining {joined}" if joined else "")


def endpoint_text(name: str | None, unassigned: bool, lang: str) -> str:
    """An example endpoint: a node or address as is, unassigned addresses said as such."""
    if name is None:
        return ""
    if not unassigned:
        return name
    return f"{name} の未登録アドレス" if lang == "ja" else f"unassigned addresses of {name}"


@dataclass(frozen=True, slots=True)
class RouteGroup:
    """One zone pair (and direction) of a path finding: an example route and a count."""

    src_zone: str
    dst_zone: str
    src_tier: str
    dst_tier: str
    src: str
    dst: str
    service: str
    count: int
    path: tuple[str, ...]
    src_unassigned: bool = False  # `src` names the unassigned addresses of a subnet
    dst_unassigned: bool = False


class ChangeKind(StrEnum):
    """One change of a fix plan."""

    REMOVE_NODE = "remove-node"
    REMOVE_PERMIT = "remove-permit"
    NARROW_PERMIT = "narrow-permit"
    REMOVE_ATTACHMENT = "remove-attachment"
    REMOVE_LINK = "remove-link"


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One change of the fix plan and the findings whose remediation it is part of."""

    kind: ChangeKind
    target: str  # node name, permit id, attachment `node--zone` or link name
    node: str | None  # the permit's owner, or the node of an attachment
    closes: tuple[str, ...]  # fingerprints of the findings it helps close, in report order
    disruptive: bool = False  # also breaks traffic the policy allows

    def text(self, lang: str) -> str:
        """The change in words."""
        ja = lang == "ja"
        kind, target, node = self.kind, self.target, self.node
        if kind is ChangeKind.REMOVE_NODE:
            text = f"機器 {target} を撤去" if ja else f"remove node {target}"
        elif kind is ChangeKind.REMOVE_PERMIT:
            at = f"{node} の" if ja and node else ""
            text = (
                f"{at}許可ルール {target} を削除"
                if ja
                else f"remove permit {target}" + (f" ({node})" if node else "")
            )
        elif kind is ChangeKind.NARROW_PERMIT:
            at = f"{node} の" if ja and node else ""
            text = (
                f"{at}許可ルール {target} を絞り込む(許可された通信も通しているため)"
                if ja
                else f"narrow permit {target}"
                + (f" ({node})" if node else "")
                + ": it also carries allowed traffic"
            )
        elif kind is ChangeKind.REMOVE_ATTACHMENT:
            text = f"接続 {target} を外す" if ja else f"remove attachment {target}"
        else:
            text = f"リンク {target} を削除" if ja else f"remove link {target}"
        if self.disruptive:
            text += (
                "(注意: 許可された通信も止まる)"
                if ja
                else " (CAUTION: also breaks traffic the policy allows)"
            )
        return text


@dataclass(frozen=True, slots=True)
class FixPlan:
    """One short list of changes that together close every path finding (issue 12).

    `verified`: applying every step to the topology and checking it again found no path
    finding left; `remaining`: path findings left by that re-check (0 when verified).
    """

    steps: tuple[PlanStep, ...]
    verified: bool
    remaining: int = 0
    findings: int = 0  # how many findings the plan closes


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
    # A flow read from a log: the line of its first record (`first_frame` then holds it too),
    # the source system's id of the flow (Zeek uid, Suricata flow_id, FortiGate sessionid,
    # PAN-OS session id), and a firewall's own verdict and policy (`<vdom>/<policyid>`).
    line: int | None = None
    pivot: str | None = None
    device_action: str | None = None
    device_rule: str | None = None
    device: str | None = None  # the device that logged it (FortiGate devname, PAN-OS name)
    last_seen: str = ""  # the flow's last packet ("" in results written before it was kept)


@dataclass(frozen=True, slots=True)
class ConversationEvidence:
    """The flow findings one conversation stands for (scan, issue 12): those sharing rule,
    initiator host, responder host, service (else protocol and port), state and channel.

    `first_frame` and `input` are the first flow's (earliest `first_seen`, then input and
    frame), `first_flow` that flow; `ports` lists the distinct `proto/port` the flows used,
    `src_ips` / `dst_ips` the hosts' addresses seen.
    """

    flows: int
    packets: int
    bytes: int
    first_seen: str
    last_seen: str
    first_frame: int
    input: str
    state: str
    ports: tuple[str, ...]
    src_ips: tuple[str, ...]
    dst_ips: tuple[str, ...]
    first_flow: FlowEvidence | None = None  # the first flow itself (a log's line, pivot…)


@dataclass(frozen=True, slots=True)
class PathEvidence:
    """What shows a forbidden path of the plan (check): the witness, and what opens and closes it."""

    path: tuple[str, ...] = ()  # the witness, hop by hop (zones and nodes)
    permits: tuple[str, ...] = ()  # the permits that open it (none when a node bridges)
    remediation: Remediation | None = None
    count: int = 1  # pairs of endpoints the finding stands for
    cause: Cause | None = None  # what opens the finding's routes: its identity (issue 12)
    routes: tuple[RouteGroup, ...] = ()  # every zone pair and direction it spans
    src_unassigned: bool = False  # `src` names the unassigned addresses of a subnet
    dst_unassigned: bool = False


@dataclass(frozen=True, slots=True)
class SubjectEvidence:
    """A finding about one entry of the plan itself: a node's own settings or addresses, or a
    channel of the register (then named by `Finding.channel`, and `node` is None)."""

    node: str | None = None


# What a finding rests on: a path of the plan, an observed flow (or a conversation of them),
# or one node or channel.
FindingEvidence = PathEvidence | FlowEvidence | ConversationEvidence | SubjectEvidence


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
    def cause(self) -> Cause | None:
        """What opens the routes of a path finding (its identity), else None."""
        ev = self.evidence
        return ev.cause if type(ev) is PathEvidence else None

    @property
    def routes(self) -> tuple[RouteGroup, ...]:
        """Every zone pair and direction a path finding spans, else empty."""
        ev = self.evidence
        return ev.routes if type(ev) is PathEvidence else ()

    @property
    def src_unassigned(self) -> bool:
        """True when `src` names the unassigned addresses of a subnet (a path finding)."""
        ev = self.evidence
        return type(ev) is PathEvidence and ev.src_unassigned

    @property
    def dst_unassigned(self) -> bool:
        """True when `dst` names the unassigned addresses of a subnet (a path finding)."""
        ev = self.evidence
        return type(ev) is PathEvidence and ev.dst_unassigned

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
    def conversation(self) -> ConversationEvidence | None:
        """The observed flows a conversation finding groups (scan, grouped), else None."""
        ev = self.evidence
        return ev if type(ev) is ConversationEvidence else None

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
        return sort_keys((self,))[0]


def fingerprint(*parts: object) -> str:
    """A short, stable hash of the identifying parts of a finding."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def path_fingerprint(rule: RuleId, cause: Cause, channel: str | None = None) -> str:
    """Fingerprint of a path finding: its rule and its cause (issue 12).

    Never the zone pairs, examples, services or counts: a change elsewhere in the plan (a new
    zone behind the same router, one more service in a permit) keeps the finding's identity.
    `channel` is given only for MN-SPECIFIED-COMM, which is about a channel; a path a channel
    covers keeps the identity it has once the channel expires.
    """
    return fingerprint("path", rule, *cause.key(), *((channel,) if channel else ()))


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
    # fingerprint("flow", rule, src_ip, dst_ip, proto, dst_port, vlan[, inner_vlan]) spelt
    # out: one per flow finding, so the generic join is worth saving
    head, mid = _flow_fingerprint_parts(rule, proto, dst_port)
    text = f"{head}{src_ip!s}\x1f{dst_ip!s}{mid}{_vlan_part(vlan, inner_vlan)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def flow_fingerprints(
    groups: Sequence[tuple[RuleId, str, int]],
    group_of: Iterable[int],
    src_ips: Iterable[str],
    dst_ips: Iterable[str],
    vlans: Sequence[int | None],
    inner_vlans: Sequence[int | None],
) -> list[str]:
    """:func:`flow_fingerprint` of many flows at once: flow ``i`` has the (rule, protocol,
    destination port) of ``groups[group_of[i]]``, the parts of the text those share made once."""
    parts = [_flow_fingerprint_parts(*g) for g in groups]
    heads = [h for h, _ in parts]
    mids = [m for _, m in parts]
    if vlans.count(None) == len(vlans) and inner_vlans.count(None) == len(inner_vlans):
        texts = [
            f"{heads[g]}{s!s}\x1f{d!s}{mids[g]}"
            for g, s, d in zip(group_of, src_ips, dst_ips, strict=True)
        ]
    else:
        texts = [
            f"{heads[g]}{s!s}\x1f{d!s}{mids[g]}{_vlan_part(v, iv)}"
            for g, s, d, v, iv in zip(group_of, src_ips, dst_ips, vlans, inner_vlans, strict=True)
        ]
    sha256 = hashlib.sha256
    return [sha256(t.encode("utf-8")).hexdigest()[:32] for t in texts]


def _flow_fingerprint_parts(rule: RuleId, proto: str, dst_port: int) -> tuple[str, str]:
    """The text of a flow fingerprint before the source address and between the destination
    address and the VLANs."""
    return f"flow\x1f{rule!s}\x1f", f"\x1f{proto!s}\x1f{dst_port!s}\x1f"


def _vlan_part(vlan: int | None, inner_vlan: int | None) -> str:
    text = "" if vlan is None else str(vlan)
    if inner_vlan is not None:  # untagged and single-tagged flows keep their original identity
        text += f"\x1f{inner_vlan!s}"
    return text


def conversation_fingerprint(
    rule: RuleId,
    src_zone: str | None,
    src: str | None,
    dst_zone: str | None,
    dst: str | None,
    what: str,
    state: str,
    channel: str | None,
) -> str:
    """Fingerprint of a conversation: its rule, hosts (with their zones), service or port,
    state and covering channel; never an address a host used or a count."""
    return fingerprint("conversation", rule, src_zone, src, dst_zone, dst, what, state, channel)


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
    joined: int = 0  # flows beyond `--max-flows` listed per address class and service instead


class GapKind(StrEnum):
    """What kind of evidence a run did not see."""

    NO_PACKETS = "no-packets"  # a capture with no packet (or log entry) that could be analysed
    STOPPED_EARLY = "stopped-early"  # a capture read only up to damage
    NOTHING_TO_SEPARATE = "nothing-to-separate"  # a topology with fewer than two internal tiers
    FLOWS_JOINED = "flows-joined"  # flows beyond --max-flows kept per address class, service


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
        if is_log(capture.kind):
            n, bad = capture.packets_read, capture.packets_skipped
            en = f"the log holds no readable connection record ({n} records read, {bad} unreadable"
            ja = f"読み込めた接続記録がない (読込 {n} 件、読込不能 {bad} 件"
            if capture.first_skipped is not None:
                line, why = capture.first_skipped
                en += f"; the first unreadable, line {line}: {why}"
                ja += f"、最初の読込不能は {line} 行目: {localize(why, 'ja')}"
            en, ja = en + ")", ja + ")"
        elif capture.packets_read > capture.packets_skipped:  # read, but no IP flow in them
            en = f"{capture.packets_read} packets were read but none carried an IP flow"
            ja = f"{capture.packets_read} パケットを読み込んだが、IP 通信を含むものがない"
        elif capture.packets_read:
            en = f"all {capture.packets_read} packets were skipped (link type or record unusable)"
            ja = f"全 {capture.packets_read} パケットが解析不能 (リンク種別または記録の破損)"
        else:
            en, ja = "the capture holds no packet", "キャプチャにパケットが一つもない"
        if capture.stopped_at is not None:
            offset, frame, reason = capture.stopped_at
            en += f" before reading stopped at frame {frame}, byte offset {offset} ({reason})"
            ja += f" (フレーム {frame}、バイト位置 {offset} で読込停止: {localize(reason, 'ja')})"
        return (
            EvidenceGap(
                GapKind.NO_PACKETS,
                path,
                f"{path}: no traffic seen: {en}",
                f"{path}: 通信を確認できず: {ja}",
            ),
        )
    joined = _joined_gap(capture)
    if capture.stopped_at is None:
        return joined
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
            f"({localize(reason, 'ja')})。以降のパケット (件数不明) は解析されていない",
            frame,
            offset,
        ),
        *joined,
    )


def _joined_gap(capture: CaptureSummary) -> tuple[EvidenceGap, ...]:
    """`flows-joined`: past `--max-flows`, flows were judged per address class and service."""
    if not capture.joined:
        return ()
    n = capture.joined
    return (
        EvidenceGap(
            GapKind.FLOWS_JOINED,
            capture.path,
            f"{capture.path}: {n} flows beyond the --max-flows cap were judged and listed per "
            "address class (zone, node, channel ends) and service, each shown with the "
            "smallest address of its class (client port 0, counters summed): their own "
            "addresses, client ports and states were not kept",
            f"{capture.path}: --max-flows の上限を超えた {n} フローはアドレス区分 (ゾーン・"
            "ノード・例外通信の端点) とサービスの単位で判定・集計し、区分内で最小のアドレスで"
            "示した (クライアントポート 0、カウンタは合算)。フローごとのアドレス、クライアント"
            "ポートと状態は保持していない",
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
    # Drift (segcheck.logjoin) by `Drift.key`: the baseline's drift keys, and its drift this
    # run no longer shows. A baseline written before drift was kept has none: every drift new.
    drift_known: frozenset[str] = frozenset()
    absent_drift: tuple[Drift, ...] = ()

    def state(self, finding: Finding, excepted: bool = False) -> str:
        """The state of one finding of the run (`new` when the baseline never had it)."""
        table = self.excepted_states if excepted else self.states
        return table.get(finding.fingerprint, "new")

    def gates(self, finding: Finding) -> bool:
        """True when the finding may fail the run: new, or escalated since the baseline."""
        return self.state(finding) == "new" or finding.fingerprint in self.escalated

    def drift_state(self, drift: Drift) -> str:
        """`unchanged` when the baseline had the same drift (device, rule, reason, action),
        else `new`; only a new drift fails the run."""
        return "unchanged" if drift.key in self.drift_known else "new"


@dataclass(frozen=True, slots=True)
class PermitHits:
    """One imported permit (a device rule) and the logged flows the device let through it:
    the rule review (棚卸し) a firewall log makes possible. Zero flows: never used in the log."""

    node: str
    rule: str  # the device's rule id, as imported and as logged (`root/12`, `vsys1/Web`)
    name: str | None  # the device's name or comment for the rule
    where: str | None  # file:line (or XPath) of the rule in the configuration
    flows: int  # log flows the device accepted through it
    violations: int  # of those, flows the policy forbids (each is also a finding)
    last_seen: str | None  # ISO 8601 time of the latest of those flows


@dataclass(frozen=True, slots=True)
class Drift:
    """A firewall log that disagrees with the configuration imported for the same device."""

    node: str
    rule: str  # the device's policy as logged
    reason: str  # absent | disabled | shadowed | not-covered | denied-by-permit
    action: str  # the device's verdict in the log (accept, deny)
    flows: int
    example: FlowEvidence  # the first such flow: its input, line and pivot key
    message: str
    message_ja: str

    def text(self, lang: str) -> str:
        """The message in `ja` or `en`."""
        return self.message_ja if lang == "ja" else self.message

    @property
    def key(self) -> str:
        """What a drift is across runs: the device, its policy and how they disagree, not the
        log line that showed it first (SARIF partialFingerprints, `--baseline`)."""
        return f"{self.node}\x00{self.rule}\x00{self.reason}\x00{self.action}"


@dataclass(frozen=True, slots=True)
class LogJoin:
    """Firewall logs matched to the configurations the topology imports (segcheck.logjoin)."""

    permits: tuple[PermitHits, ...] = ()  # every imported permit of a logging device
    drift: tuple[Drift, ...] = ()
    unmatched: tuple[str, ...] = ()  # why some logged policies matched no imported device

    def __bool__(self) -> bool:
        return bool(self.permits or self.drift or self.unmatched)


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
    flows: Sequence[JudgedFlow] = field(default=())  # a tuple, or built when first read
    today: str = ""
    baseline: BaselineInfo | None = None  # set by `--baseline`: each finding's state
    plan: FixPlan | None = None  # check: the changes that close every path finding
    log_join: LogJoin | None = None  # scan of firewall logs against imported configurations
    # scan: how text, SARIF and HTML list flow findings: "conversation" (grouped, see
    # segcheck.report.conversations) or "flow" (each); JSON and CSV always keep every flow.
    group_by: str = "conversation"
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
        """No finding at all on complete evidence: the only case a report says "holds".

        Never with drift between a firewall's log and its imported configuration: the
        configuration checked is then not the one the device runs."""
        drift = self.log_join is not None and bool(self.log_join.drift)
        return not self.findings and not self.gaps and not drift

    def gating(self) -> tuple[Finding, ...]:
        """The findings that count for the exit status: with a baseline, only new or escalated
        ones (so an imperfect network can adopt segcheck and still block regressions)."""
        if self.baseline is None:
            return self.findings
        baseline = self.baseline
        return tuple(f for f in self.findings if baseline.gates(f))

    @property
    def drift(self) -> tuple[Drift, ...]:
        """The drift of a scan of firewall logs (segcheck.logjoin); none otherwise."""
        return self.log_join.drift if self.log_join is not None else ()

    def gating_drift(self) -> tuple[Drift, ...]:
        """The drift that counts for the exit status: with a baseline, only new drift."""
        drift = self.drift
        if self.baseline is None:
            return drift
        baseline = self.baseline
        return tuple(d for d in drift if baseline.drift_state(d) == "new")

    def summary(self) -> dict[str, int]:
        """Count of findings per severity (all four keys present)."""
        counts = {s.value: 0 for s in Severity}
        for severity, n in Counter(map(_severity_of, self.findings)).items():
            counts[severity.value] += n  # one count per severity, not a lookup per finding
        return counts


_severity_of = attrgetter("severity")


def by_rule(findings: Iterable[Finding]) -> list[tuple[RuleId, list[Finding]]]:
    """Findings grouped by rule, rules in order of first appearance (worst severity first).

    One group per rule even when its flow findings differ in severity (attempts are warnings),
    so a rule is listed, and anchored in HTML, once.
    """
    groups: dict[RuleId, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule, []).append(finding)
    return list(groups.items())


def sort_keys(findings: Iterable[Finding]) -> list[tuple[int, str, str, str, str, str, str, str]]:
    """Each finding's :attr:`Finding.sort_key`: the one definition of the order of spec §6,
    for many findings at once (a comprehension: a third of the property's cost a finding)."""
    rank = _RANK
    return [
        (
            -rank[f.severity],
            f.rule,
            f.src_zone or "",
            f.dst_zone or "",
            f.src or "",
            f.dst or "",
            f.service or "",
            f.fingerprint,
        )
        for f in findings
    ]


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings in the deterministic order of spec §6 (:func:`sort_keys`; equal keys keep
    their order)."""
    found = findings if isinstance(findings, list | tuple) else list(findings)
    joined = _joined_sort_keys(found)
    if joined is not None:
        order = sorted(range(len(found)), key=joined.__getitem__)
    else:
        keys = sort_keys(found)
        order = sorted(range(len(found)), key=keys.__getitem__)
    return tuple(map(found.__getitem__, order))


def _joined_sort_keys(findings: Sequence[Finding]) -> list[str] | None:
    """:func:`sort_keys` as one string each, in the same order: the severity as one digit,
    then the fields joined by NUL, which sorts before any other character, so a field that
    is a prefix of another sorts first, as in the tuple. Comparing strings costs half of
    comparing tuples. None when a field holds a NUL (then the tuples)."""
    rank = _RANK
    keys = [
        f"{3 - rank[f.severity]}{f.rule}\0{f.src_zone or ''}\0{f.dst_zone or ''}\0"
        f"{f.src or ''}\0{f.dst or ''}\0{f.service or ''}\0{f.fingerprint}"
        for f in findings
    ]
    if "".join(keys).count("\0") != 6 * len(keys):
        return None
    return keys


__all__ = [
    "BaselineInfo",
    "CaptureSummary",
    "Cause",
    "CauseKind",
    "ChangeKind",
    "ConversationEvidence",
    "FixPlan",
    "PlanStep",
    "RouteGroup",
    "Evidence",
    "EvidenceGap",
    "Drift",
    "Finding",
    "FindingEvidence",
    "FlowEvidence",
    "GapKind",
    "JudgedFlow",
    "Location",
    "LogJoin",
    "PathEvidence",
    "PermitHits",
    "Remediation",
    "Report",
    "RuleId",
    "Severity",
    "SubjectEvidence",
    "by_rule",
    "capture_gaps",
    "evidence_gaps",
    "conversation_fingerprint",
    "flow_fingerprint",
    "flow_fingerprints",
    "path_fingerprint",
    "sort_keys",
    "sorted_findings",
    "subject_fingerprint",
    "endpoint_text",
    "topology_gaps",
]
