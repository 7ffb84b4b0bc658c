"""Scan findings as conversations, and the observed use of each channel (issue 12, item 5).

A capture of a busy network gives one finding per flow: tens of thousands of lines for a few
host pairs and services. Text, SARIF and HTML list *conversations* instead: the flow findings
sharing rule, initiator host, responder host (each with its zone), service (else protocol and
port), state and covering channel, with the flow count, packets, bytes, first and last seen and
the first flow's frame. JSON and CSV keep every flow, and `--group-by flow` lists them all
everywhere. A conversation is a `Finding` whose evidence is a `ConversationEvidence`, so the
formatters list it like any other finding.

Per channel, `channel_use` counts the flows the channel covered (domain.md §7: the auditor's
"capture-based counts per declared channel"); a channel no flow used is listed with zero.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..findings import (
    BaselineInfo,
    ConversationEvidence,
    Finding,
    FlowEvidence,
    Report,
    sorted_findings,
)
from ..flowjudge import FLOW_RULES, record_maker
from ..gcpause import paused
from .labels import tier_word

GROUP_BY = ("conversation", "flow")  # --group-by choices, the default first
MAX_PORTS = 8  # distinct proto/port listed per conversation; more are counted


def _what(flow: FlowEvidence) -> str:
    """`tcp/443`, or the protocol alone for a portless one."""
    return f"{flow.proto}/{flow.dst_port}" if flow.dst_port else flow.proto


def _key(f: Finding, flow: FlowEvidence) -> tuple[object, ...]:
    what = f.service if f.service is not None else _what(flow)
    return (f.rule, f.severity, f.verdict, f.src_zone, f.src, f.dst_zone, f.dst, what,
            flow.state, f.channel)  # fmt: skip


@functools.cache
def _tier(tier: str | None, lang: str) -> str:
    return tier_word(lang, tier) if tier else "?"


def _messages(first: Finding, ev: ConversationEvidence, excepted: bool) -> tuple[str, str]:
    """The conversation in words (en, ja)."""
    ports = ", ".join(ev.ports)
    what = f"{ports} ({first.service})" if first.service else ports
    src, dst, src_tier, dst_tier = first.src, first.dst, first.src_tier, first.dst_tier
    pair = f"{src} ({_tier(src_tier, 'en')}) -> {dst} ({_tier(dst_tier, 'en')})"
    pair_ja = f"{src} ({_tier(src_tier, 'ja')}) -> {dst} ({_tier(dst_tier, 'ja')})"
    n = ev.flows
    flows_en = f"{n} flow" if n == 1 else f"{n} flows"
    flows_ja = f"{n} フロー"
    if excepted:
        return (
            f"{pair} {what} covered by channel '{first.channel}': {flows_en}",
            f"通信 {pair_ja} {what} は例外 '{first.channel}' で許可: {flows_ja}",
        )
    if first.rule in FLOW_RULES:  # about the addresses (no zone): say so first
        return (
            f"{first.message}: {pair} {what}: {flows_en}",
            f"{first.message_ja}: 通信 {pair_ja} {what}: {flows_ja}",
        )
    attempted = ev.state == "attempted"
    state_en = " (attempted only)" if attempted else ""
    state_ja = "(試行のみ)" if attempted else ""
    if first.verdict == "suspect":
        return (
            f"suspect conversation {pair} {what}{state_en}: {flows_en}; "
            "a gateway's port, but the responder is not that gateway",
            f"疑わしい通信{state_ja} {pair_ja} {what}: {flows_ja}"
            "。ゲートウェイのポートだが応答側はそのゲートウェイではない",
        )
    return (
        f"conversation {pair} {what}{state_en}: {flows_en}",
        f"通信{state_ja} {pair_ja} {what}: {flows_ja}",
    )


class _Acc:
    """A conversation being gathered: its first finding and running totals."""

    __slots__ = ("first", "flow", "flows", "packets", "bytes", "last_seen", "ports", "src_ips",
                 "dst_ips", "members")  # fmt: skip

    def __init__(self, first: Finding, flow: FlowEvidence) -> None:
        self.first = first
        self.flow = flow  # the first flow: earliest first_seen, then input and frame
        self.flows = 0
        self.packets = 0
        self.bytes = 0
        self.last_seen = ""
        self.ports: dict[str, None] = {}
        self.src_ips: dict[str, None] = {}
        self.dst_ips: dict[str, None] = {}
        self.members: list[str] = []  # member fingerprints (a baseline's states need them)


def _gather(findings: Iterable[Finding], members: bool) -> tuple[list[Finding], list[_Acc]]:
    """Findings that are no flow (kept as they are) and the conversations of the flow ones."""
    others: list[Finding] = []
    groups: dict[tuple[object, ...], _Acc] = {}
    get = groups.get
    for f in findings:
        flow = f.evidence
        if type(flow) is not FlowEvidence:
            others.append(f)
            continue
        svc = f.service
        what = svc if svc is not None else _what(flow)
        key = (f.rule, f.severity, f.verdict, f.src_zone, f.src, f.dst_zone, f.dst, what,
               flow.state, f.channel)  # fmt: skip
        acc = get(key)
        if acc is None:
            acc = groups[key] = _Acc(f, flow)
        else:
            seen, old = flow.first_seen, acc.flow
            if seen < old.first_seen or (
                seen == old.first_seen
                and (flow.input, flow.first_frame) < (old.input, old.first_frame)
            ):
                acc.first, acc.flow = f, flow
        acc.flows += 1
        acc.packets += flow.packets
        acc.bytes += flow.bytes
        last = flow.last_seen or flow.first_seen
        if last > acc.last_seen:
            acc.last_seen = last
        acc.ports[what if svc is None else _what(flow)] = None
        acc.src_ips[flow.src_ip] = None
        acc.dst_ips[flow.dst_ip] = None
        if members:
            acc.members.append(f.fingerprint)
    return others, list(groups.values())


_new_finding = record_maker(Finding)
_new_conversation = record_maker(ConversationEvidence)


def _finding(acc: _Acc, excepted: bool) -> Finding:
    first, flow = acc.first, acc.flow
    ports = sorted(acc.ports) if len(acc.ports) > 1 else list(acc.ports)
    if len(ports) > MAX_PORTS:
        ports = [*ports[:MAX_PORTS], f"+{len(ports) - MAX_PORTS}"]
    src_ips, dst_ips = acc.src_ips, acc.dst_ips
    ev = _new_conversation(
        acc.flows,
        acc.packets,
        acc.bytes,
        flow.first_seen,
        acc.last_seen,
        flow.first_frame,
        flow.input,
        flow.state,
        tuple(ports),
        tuple(sorted(src_ips) if len(src_ips) > 1 else src_ips),
        tuple(sorted(dst_ips) if len(dst_ips) > 1 else dst_ips),
        flow,
    )
    what = first.service if first.service is not None else _what(flow)
    message, message_ja = _messages(first, ev, excepted)
    return _new_finding(
        first.rule,
        first.severity,
        message,
        message_ja,
        first.location,
        first.src_zone,
        first.dst_zone,
        first.src_tier,
        first.dst_tier,
        first.src,
        first.dst,
        first.service,
        ev,
        first.channel,
        _fingerprint(first, what, flow.state),
        first.verdict,
    )


def _fingerprint(first: Finding, what: str, state: str) -> str:
    """`conversation_fingerprint` of the conversation, inlined (one per conversation)."""
    text = "\x1f".join(
        (
            "conversation",
            first.rule,
            first.src_zone or "",
            first.src or "",
            first.dst_zone or "",
            first.dst or "",
            what,
            state,
            first.channel or "",
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def conversations(findings: Iterable[Finding], excepted: bool = False) -> tuple[Finding, ...]:
    """The findings with every flow finding replaced by its conversation, in spec §6 order."""
    others, groups = _gather(findings, members=False)
    return sorted_findings([*others, *(_finding(acc, excepted) for acc in groups)])


def _state(states: Sequence[str]) -> str:
    """A conversation's state against a baseline, from its flows' states: `new` as soon as
    one flow is (a new host address, port or VLAN between the two), else the state they share,
    else `updated`."""
    if "new" in states:
        return "new"
    first = states[0]
    return first if all(s == first for s in states) else "updated"


def _baseline(
    baseline: BaselineInfo,
    found: list[tuple[Finding, list[str]]],
    covered: list[tuple[Finding, list[str]]],
) -> BaselineInfo:
    """The baseline's states keyed by conversation; its absent flows grouped, leaving out
    conversations that still have flows in this run."""
    states = dict(baseline.states)
    excepted_states = dict(baseline.excepted_states)
    escalated = set(baseline.escalated)
    for conv, members in found:
        states[conv.fingerprint] = _state([baseline.states.get(m, "new") for m in members])
        if any(m in baseline.escalated for m in members):
            escalated.add(conv.fingerprint)
    for conv, members in covered:
        excepted_states[conv.fingerprint] = _state(
            [baseline.excepted_states.get(m, "new") for m in members]
        )
    present = {conv.fingerprint for conv, _ in (*found, *covered)}
    absent = [f for f in conversations(baseline.absent) if f.fingerprint not in present]
    return replace(
        baseline,
        states=states,
        excepted_states=excepted_states,
        escalated=frozenset(escalated),
        absent=tuple(absent),
    )


def _with_members(findings: Iterable[Finding], excepted: bool) -> list[tuple[Finding, list[str]]]:
    others, groups = _gather(findings, members=True)
    out = [(f, [f.fingerprint]) for f in others]
    out.extend((_finding(acc, excepted), acc.members) for acc in groups)
    return out


def presented(report: Report) -> Report:
    """The report as text, SARIF and HTML list it: flow findings grouped into conversations
    unless `report.group_by` is "flow" (the report itself when there is nothing to group)."""
    if report.group_by == "flow" or not any(
        type(f.evidence) is FlowEvidence for f in (*report.findings, *report.excepted)
    ):
        return report
    # Tens of thousands of new records and no reference cycle: with the collector on, each
    # collection would walk every flow of the scan again (grouping took 2-3x as long).
    with paused():
        return _presented(report)


def _presented(report: Report) -> Report:
    baseline = report.baseline
    if baseline is None:
        return replace(
            report,
            findings=conversations(report.findings),
            excepted=conversations(report.excepted, excepted=True),
        )
    found = _with_members(report.findings, False)
    covered = _with_members(report.excepted, True)
    return replace(
        report,
        findings=sorted_findings(f for f, _ in found),
        excepted=sorted_findings(f for f, _ in covered),
        baseline=_baseline(baseline, found, covered),
    )


@dataclass(frozen=True, slots=True)
class ChannelUse:
    """How much observed traffic one channel of the register covered."""

    channel: str
    flows: int
    packets: int
    bytes: int
    first_seen: str | None
    last_seen: str | None
    conversations: int  # distinct (initiator, responder, service) it covered


def channel_use(report: Report) -> tuple[ChannelUse, ...]:
    """Per channel of the topology (in id order), the flows it covered in the report's
    captures; empty when the report read no capture."""
    if not report.captures:
        return ()
    totals: dict[str, list[int]] = {}
    seen: dict[str, list[str]] = {}
    pairs: dict[str, set[tuple[object, ...]]] = {}
    for f in report.excepted:
        flow = f.evidence
        if type(flow) is not FlowEvidence or f.channel is None:
            continue
        t = totals.setdefault(f.channel, [0, 0, 0])
        t[0] += 1
        t[1] += flow.packets
        t[2] += flow.bytes
        first, last = flow.first_seen, flow.last_seen or flow.first_seen
        span = seen.setdefault(f.channel, [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
        pairs.setdefault(f.channel, set()).add(_key(f, flow))
    out = []
    for ch in sorted(report.topology.channels, key=lambda c: c.id):
        flows, packets, nbytes = totals.get(ch.id, (0, 0, 0))
        used = seen.get(ch.id)
        out.append(
            ChannelUse(
                ch.id,
                flows,
                packets,
                nbytes,
                used[0] if used else None,
                used[1] if used else None,
                len(pairs.get(ch.id, ())),
            )
        )
    return tuple(out)


def channel_use_dict(use: ChannelUse) -> dict[str, object]:
    """One channel's observed use (JSON `channel_use`, SARIF run properties)."""
    return {
        "channel": use.channel,
        "flows": use.flows,
        "conversations": use.conversations,
        "packets": use.packets,
        "bytes": use.bytes,
        "first_seen": use.first_seen,
        "last_seen": use.last_seen,
    }


__all__ = [
    "GROUP_BY",
    "ChannelUse",
    "channel_use",
    "channel_use_dict",
    "conversations",
    "presented",
]
