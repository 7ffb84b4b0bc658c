"""Firewall logs joined to the configurations the topology imports (issue 16, research §3.3).

A FortiGate or PAN-OS traffic log names the policy that decided each session (`<vdom>/<policyid>`,
`<vsys>/<rule name>`), and the configuration import names its rules the same way. When the
topology imports the logging device's configuration (a node's `config:`), each logged flow is
matched to that node's permit of the same id. That gives three things no capture gives:

- a violation *through permit X*: the flow's finding names the permit that let it through,
  evidence that the permit is in use (and the one to narrow or remove);
- drift between the device and the plan: the device accepted a flow by a policy the imported
  configuration does not have as an accept rule (absent or a deny rule, disabled, or shadowed by
  earlier denies), or one whose addresses or service that permit does not cover, or denied a
  flow by a policy the configuration has as a permit covering it. Then the configuration checked
  is not the one the device runs, and `check`'s verdicts about that device cannot be relied on;
- per permit, how many logged flows the device accepted through it, and when last: the rule
  review (棚卸し), where a permit never used in the log is a candidate for removal.

The device is found by format (FortiGate logs to `fortios` imports, PAN-OS to `panos`) and
context (the VDOM or vsys of the logged policy); among several such nodes, the one named as the
log's device (`devname`, PAN-OS Device Name), else the one that has the rule. A logged policy
that matches no imported device is listed as unmatched, never judged as drift.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .addressing import parse_ip_text
from .findings import Drift, Finding, FlowEvidence, JudgedFlow, LogJoin, PermitHits
from .model import ANY_SERVICE, ImportSummary, Permit, Topology
from .rules.ids import GEN_CONFIG_DRIFT

# The catalogued rule a drift is reported under (SARIF results; the registry test's "reached").
LOG_RULES = frozenset({GEN_CONFIG_DRIFT})

# Log kind -> the configuration format of the device that writes it.
LOG_FORMATS: Mapping[str, str] = {"fortigate-traffic": "fortios", "panos-traffic": "panos"}
ACCEPT, DENY = "accept", "deny"

_REASONS_EN = {
    "absent": "the imported configuration has no accept rule {rule}",
    "disabled": "rule {rule} is disabled in the imported configuration",
    "shadowed": "rule {rule} is shadowed by earlier deny rules in the imported configuration",
    "not-covered": "the imported rule {rule} does not cover this flow",
    "denied-by-permit": "the imported configuration has {rule} as an accept rule covering it",
}
_REASONS_JA = {
    "absent": "取り込んだ設定に許可ルール {rule} がない",
    "disabled": "取り込んだ設定ではルール {rule} は無効",
    "shadowed": "取り込んだ設定ではルール {rule} は先行する拒否ルールに覆われている",
    "not-covered": "取り込んだルール {rule} はこの通信を許可していない",
    "denied-by-permit": "取り込んだ設定では {rule} はこの通信を許可するルール",
}


@dataclass
class _Device:
    """One node whose imported configuration a log names."""

    node: str
    summary: ImportSummary
    permits: dict[str, list[Permit]]
    hits: dict[str, list[FlowEvidence]] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)


@dataclass
class _DriftAcc:
    node: str
    rule: str
    reason: str
    action: str
    flows: list[FlowEvidence] = field(default_factory=list)


class LogJoiner:
    """Matches judged log flows to imported permits; see the module docstring."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.devices: dict[str, _Device] = {}
        for item in topology.imports:
            node = topology.nodes.get(item.node)
            if node is None:
                continue
            permits: dict[str, list[Permit]] = {}
            for p in node.permits or ():
                permits.setdefault(p.id, []).append(p)
            self.devices[item.node] = _Device(item.node, item, permits)
        self.drift: dict[tuple[str, str, str], _DriftAcc] = {}
        self.unmatched: dict[str, int] = {}
        self.through: dict[int, tuple[str, Permit]] = {}  # id(flow evidence) -> node, permit
        self.logging: set[str] = set()  # nodes some log names

    def _device(self, kind: str, rule: str, observer: str | None) -> _Device | None:
        fmt = LOG_FORMATS.get(kind)
        context = rule.split("/", 1)[0]
        found = [
            d
            for d in self.devices.values()
            if d.summary.format == fmt and d.summary.context == context
        ]
        if len(found) > 1 and observer is not None:
            named = [d for d in found if d.node == observer]
            found = named or found
        if len(found) > 1:
            having = [d for d in found if rule in d.permits]
            found = having if len(having) == 1 else found
        if len(found) == 1:
            return found[0]
        what = f"{kind} policy {rule}"
        why = (
            f"{what}: no node imports a {fmt} configuration of context {context!r}"
            if not found
            else f"{what}: several nodes import context {context!r} "
            f"({', '.join(d.node for d in found)}) and the log names none of them"
        )
        self.unmatched[why] = self.unmatched.get(why, 0) + 1
        return None

    def _covers(self, permits: Sequence[Permit], flow: FlowEvidence) -> bool | None:
        """True when one of the rule's permits covers the flow, None when that cannot be told."""
        src, dst = parse_ip_text(flow.src_ip), parse_ip_text(flow.dst_ip)
        if src is None or dst is None:
            return None
        services = self.topology.services
        unknown = False
        for p in permits:
            if not (p.source.matches(src) and p.destination.matches(dst)):
                continue
            if ANY_SERVICE in p.services:
                return True
            for name in p.services:
                svc = services.get(name)
                if svc is None or flow.proto not in ("tcp", "udp", "icmp", "icmpv6"):
                    unknown = True
                elif svc.matches(flow.proto, flow.dst_port):
                    return True
        return None if unknown else False

    def add(self, row: JudgedFlow, kind: str, observer: str | None = None) -> None:
        """One judged flow of a log of `kind`."""
        flow = row.flow
        rule, action = flow.device_rule, flow.device_action
        if rule is None or action not in (ACCEPT, DENY) or kind not in LOG_FORMATS:
            return
        device = self._device(kind, rule, observer)
        if device is None:
            return
        self.logging.add(device.node)
        permits = device.permits.get(rule)
        summary = device.summary
        reason: str | None = None
        if action == ACCEPT:
            if permits is None:
                if rule in summary.disabled:
                    reason = "disabled"
                elif rule in summary.shadowed:
                    reason = "shadowed"
                else:
                    reason = "absent"
            else:
                device.hits.setdefault(rule, []).append(flow)
                if row.verdict in ("violation", "suspect"):
                    device.violations[rule] = device.violations.get(rule, 0) + 1
                    self.through[id(flow)] = (device.node, permits[0])
                if self._covers(permits, flow) is False:
                    reason = "not-covered"
        elif permits is not None and self._covers(permits, flow) is True:
            reason = "denied-by-permit"
        if reason is not None:
            key = (device.node, rule, reason)
            acc = self.drift.get(key)
            if acc is None:
                acc = self.drift[key] = _DriftAcc(device.node, rule, reason, action)
            acc.flows.append(flow)

    def result(self) -> LogJoin:
        permits: list[PermitHits] = []
        for node in sorted(self.logging):
            device = self.devices[node]
            for rule, items in device.permits.items():
                first = items[0]
                hits = device.hits.get(rule, [])
                where = None
                if first.file is not None:
                    where = f"{first.file}:{first.line if first.line is not None else first.xpath}"
                permits.append(
                    PermitHits(
                        node,
                        rule,
                        first.name,
                        where,
                        len(hits),
                        device.violations.get(rule, 0),
                        max((f.first_seen for f in hits), default=None),
                    )
                )
        drift = [_drift(acc) for acc in self.drift.values()]
        drift.sort(key=lambda d: (d.node, d.rule, d.reason))
        unmatched = tuple(
            f"{why} ({n} flow{'s' * (n != 1)})" for why, n in sorted(self.unmatched.items())
        )
        return LogJoin(tuple(permits), tuple(drift), unmatched)

    def annotate(self, findings: Iterable[Finding]) -> list[Finding]:
        """Findings of flows a device let through an imported permit, naming that permit."""
        out = []
        for f in findings:
            hit = self.through.get(id(f.evidence))
            if hit is None:
                out.append(f)
                continue
            node, permit = hit
            where = f" ({permit.file}:{permit.line})" if permit.file and permit.line else ""
            out.append(
                dataclasses.replace(
                    f,
                    message=f"{f.message}, through {node} permit {permit.id}{where}",
                    message_ja=f"{f.message_ja}、{node} の許可ルール {permit.id}{where} を通過",
                )
            )
        return out


def _drift(acc: _DriftAcc) -> Drift:
    example = acc.flows[0]
    n = len(acc.flows)
    verb = "accepted" if acc.action == ACCEPT else "denied"
    verb_ja = "許可" if acc.action == ACCEPT else "拒否"
    at = f"{example.input}:{example.line}"
    pivot = f", id {example.pivot}" if example.pivot else ""
    rule_en = _REASONS_EN[acc.reason].format(rule=acc.rule)
    rule_ja = _REASONS_JA[acc.reason].format(rule=acc.rule)
    return Drift(
        acc.node,
        acc.rule,
        acc.reason,
        acc.action,
        n,
        example,
        f"{acc.node}: the device {verb} {n} flow{'s' * (n != 1)} by policy {acc.rule}, but "
        f"{rule_en}: the configuration checked is not the one the device runs "
        f"(first: {at}{pivot}, {example.proto} {example.src_ip} -> {example.dst_ip}:"
        f"{example.dst_port})",
        f"{acc.node}: 機器はポリシー {acc.rule} で {n} 件の通信を{verb_ja}したが、{rule_ja}。"
        f"検査した設定は機器で動作している設定と異なる (最初: {at}{pivot}、{example.proto} "
        f"{example.src_ip} -> {example.dst_ip}:{example.dst_port})",
    )


def join_logs(
    topology: Topology,
    rows: Sequence[JudgedFlow],
    kinds: Mapping[str, str],
    findings: Sequence[Finding],
) -> tuple[LogJoin | None, list[Finding]]:
    """The join of the judged flows of firewall logs (input path -> kind in `kinds`) with the
    imported configurations; the findings, those through an imported permit naming it.
    None when no input is a firewall log or the topology imports no configuration."""
    if not topology.imports or not any(k in LOG_FORMATS for k in kinds.values()):
        return None, list(findings)
    joiner = LogJoiner(topology)
    for row in rows:
        kind = kinds.get(row.flow.input, "")
        if kind in LOG_FORMATS:
            joiner.add(row, kind, row.flow.device)
    return joiner.result(), joiner.annotate(findings)
