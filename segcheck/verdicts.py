"""Verdicts on observed flows (spec §7): the same matrix, address map and channels as `check`.

Flows arrive from the capture readers (or Zeek logs) as plain records; each is judged once.
Address lookups are cached per distinct address in the AddressMap, so the cost is per flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from .addressing import AddressInfo, AddressMap, Scope, parse_ip_text
from .findings import (
    Finding,
    FlowEvidence,
    JudgedFlow,
    Location,
    flow_fingerprint,
    make_finding,
)
from .flowtypes import FlowLike
from .model import Role
from .policy import Judgement, Outcome, Policy
from .rules import Severity
from .services import MAIL_SERVICES, SCREEN_TRANSFER_SERVICES, services_for


def iso_time(epoch: float) -> str:
    """A capture timestamp as ISO 8601 UTC with microseconds."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


def evidence(flow: FlowLike) -> FlowEvidence:
    """The spec §6 `flow` record of a flow."""
    return FlowEvidence(
        flow.src_ip,
        flow.dst_ip,
        flow.proto,
        flow.src_port,
        flow.dst_port,
        flow.packets,
        flow.bytes,
        flow.first_frame,
        iso_time(flow.first_seen),
        flow.input,
        flow.state,
        flow.vlan,
        flow.inner_vlan,
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    verdict: str
    judgement: Judgement | None
    service: str | None


_RANK = {Outcome.PERMITTED: 0, Outcome.SANITIZED: 0, Outcome.EXCEPTED: 1, Outcome.VIOLATION: 2}


class FlowJudge:
    """Judges flows against one policy; keeps per-address and per-port caches."""

    def __init__(self, policy: Policy, addresses: AddressMap) -> None:
        self.policy = policy
        self.addresses = addresses
        self.catalogue = policy.topology.services
        self._services: dict[tuple[str, int], tuple[str, ...]] = {}
        self._infos: dict[str, AddressInfo | None] = {}
        self._verdicts: dict[tuple[str, str, str, int], _Verdict] = {}

    def info(self, text: str) -> AddressInfo | None:
        """Address map entry for an address in text form (None when it does not parse).

        Parsed once per distinct address: a capture repeats the same few hosts many times.
        """
        try:
            return self._infos[text]
        except KeyError:
            ip = parse_ip_text(text)
            info = None if ip is None else self.addresses.lookup(ip)
            self._infos[text] = info
            return info

    def services(self, proto: str, port: int) -> tuple[str, ...]:
        """Service names for a protocol and responder port (cached)."""
        key = (proto, port)
        names = self._services.get(key)
        if names is None:
            names = services_for(self.catalogue, proto, port)
            self._services[key] = names
        return names

    def decide(self, src: AddressInfo, dst: AddressInfo, proto: str, port: int) -> _Verdict:
        """The verdict for one flow between two mapped addresses."""
        names = self.services(proto, port)
        best: tuple[Judgement, str | None] | None = None
        # The most favourable reading of the port wins (443 is https; 3389 is rdp).
        for name in names or ("(other)",):
            judgement = self.policy.judge(src, dst, name)
            if best is None or _RANK[judgement.outcome] < _RANK[best[0].outcome]:
                best = (judgement, None if name == "(other)" else name)
        assert best is not None
        judgement, service = best
        if judgement.outcome is Outcome.VIOLATION:
            dst_node = dst.node
            gateway_port = set(names) & (SCREEN_TRANSFER_SERVICES | MAIL_SERVICES)
            if gateway_port and (
                dst_node is None
                or not (dst_node.role.sanitizing or dst_node.role is Role.MAIL_RELAY)
            ):
                return _Verdict("suspect", judgement, service)
            return _Verdict("violation", judgement, service)
        return _Verdict(judgement.outcome.value, judgement, service)

    def judge_flows(
        self, flows: Iterable[FlowLike]
    ) -> Iterator[tuple[JudgedFlow, Finding | None, bool]]:
        """Each flow's table row and, for violations or covered flows, its finding.

        The boolean is True when the finding belongs to `excepted` rather than `findings`.
        """
        for flow in flows:
            src = self.info(flow.src_ip)
            dst = self.info(flow.dst_ip)
            ev = evidence(flow)
            if src is None or dst is None:
                yield self._row(ev, src, dst, "unknown", None, None, None), None, False
                continue
            if Scope.LOCAL in (src.scope, dst.scope):
                yield self._row(ev, src, dst, "local", None, None, None), None, False
                continue
            unmapped = [a for a in (src, dst) if a.scope is Scope.UNMAPPED]
            if unmapped:
                row = self._row(ev, src, dst, "unknown", "GEN-ZONE-ASSIGNED", None, None)
                which = ", ".join(str(a.ip) for a in unmapped)
                finding = self._finding(
                    flow,
                    ev,
                    src,
                    dst,
                    "GEN-ZONE-ASSIGNED",
                    None,
                    None,
                    "unknown",
                    f"address {which} is in no declared zone",
                    f"アドレス {which} はどのゾーンにも属さない",
                )
                yield row, finding, False
                continue
            # Flows differing only in the client port share one verdict.
            vkey = (flow.src_ip, flow.dst_ip, flow.proto, flow.dst_port)
            verdict = self._verdicts.get(vkey)
            if verdict is None:
                verdict = self.decide(src, dst, flow.proto, flow.dst_port)
                self._verdicts[vkey] = verdict
            judgement = verdict.judgement
            assert judgement is not None
            row = self._row(
                ev, src, dst, verdict.verdict, judgement.rule, judgement.channel, verdict.service
            )
            if judgement.outcome is Outcome.VIOLATION or judgement.outcome is Outcome.EXCEPTED:
                assert judgement.rule is not None
                excepted = judgement.outcome is Outcome.EXCEPTED
                finding = self._finding(
                    flow,
                    ev,
                    src,
                    dst,
                    judgement.rule,
                    judgement.channel,
                    verdict.service,
                    verdict.verdict,
                    *self._message(src, dst, flow, verdict, excepted),
                )
                yield row, finding, excepted
            else:
                yield row, None, False

    def _message(
        self, src: AddressInfo, dst: AddressInfo, flow: FlowLike, verdict: _Verdict, excepted: bool
    ) -> tuple[str, str]:
        what = f"{flow.proto}/{flow.dst_port}" if flow.dst_port else flow.proto
        svc = f" ({verdict.service})" if verdict.service else ""
        pair = (
            f"{src.display} ({src.tier.value if src.tier else '?'}) -> "
            f"{dst.display} ({dst.tier.value if dst.tier else '?'})"
        )
        state = {"attempted": " attempted", "established": "", "unknown": ""}.get(flow.state, "")
        state_ja = "(試行のみ)" if flow.state == "attempted" else ""
        if excepted:
            channel = verdict.judgement.channel if verdict.judgement else ""
            return (
                f"flow {pair} {what}{svc} covered by channel '{channel}'",
                f"通信 {pair} {what}{svc} は例外 '{channel}' で許可",
            )
        suspect = verdict.verdict == "suspect"
        en = f"{'suspect ' if suspect else ''}flow{state} {pair} {what}{svc}"
        ja = f"{'疑わしい' if suspect else ''}通信{state_ja} {pair} {what}{svc}"
        if suspect:
            en += ": a gateway's port, but the responder is not that gateway"
            ja += ": ゲートウェイのポートだが応答側はそのゲートウェイではない"
        return en, ja

    @staticmethod
    def _row(
        ev: FlowEvidence,
        src: AddressInfo | None,
        dst: AddressInfo | None,
        verdict: str,
        rule: str | None,
        channel: str | None,
        service: str | None,
    ) -> JudgedFlow:
        return JudgedFlow(
            ev,
            src.zone.name if src and src.zone else None,
            dst.zone.name if dst and dst.zone else None,
            src.tier.value if src and src.tier else None,
            dst.tier.value if dst and dst.tier else None,
            src.display if src else ev.src_ip,
            dst.display if dst else ev.dst_ip,
            service,
            verdict,
            rule,
            channel,
        )

    @staticmethod
    def _finding(
        flow: FlowLike,
        ev: FlowEvidence,
        src: AddressInfo,
        dst: AddressInfo,
        rule: str,
        channel: str | None,
        service: str | None,
        verdict: str,
        message: str,
        message_ja: str,
    ) -> Finding:
        severity = Severity.WARNING if flow.state == "attempted" else None
        return make_finding(
            rule,
            message,
            message_ja,
            Location(flow.input, frame=flow.first_frame),
            severity=severity,
            src_zone=src.zone.name if src.zone else None,
            dst_zone=dst.zone.name if dst.zone else None,
            src_tier=src.tier.value if src.tier else None,
            dst_tier=dst.tier.value if dst.tier else None,
            src=src.display,
            dst=dst.display,
            service=service,
            flow=ev,
            channel=channel,
            fingerprint=flow_fingerprint(
                rule,
                flow.src_ip,
                flow.dst_ip,
                flow.proto,
                flow.dst_port,
                flow.vlan,
                flow.inner_vlan,
            ),
            verdict=verdict,
        )
