"""Verdicts on observed flows (spec §7): the same matrix, address map and channels as `check`.

Flows arrive from the capture readers (or Zeek logs) as plain records; each is judged once.
Address lookups are cached per distinct address in the AddressMap, so the cost is per flow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from .addressing import AddressInfo, AddressMap, Scope, parse_ip_text
from .findings import (
    Finding,
    FlowEvidence,
    JudgedFlow,
    Location,
    flow_fingerprint,
)
from .flowtypes import FlowLike
from .model import IP, Role
from .policy import Judgement, Outcome, Policy
from .rules import RULES_BY_ID, Severity
from .services import MAIL_SERVICES, SCREEN_TRANSFER_SERVICES, services_for

T = TypeVar("T")


def record_maker(cls: type[T]) -> Callable[..., T]:
    """A constructor for a frozen, slotted dataclass taking every field positionally.

    It fills the slots through their descriptors, skipping the frozen ``__init__`` (which sets
    each field through ``object.__setattr__``): about 2.5x faster, for the few records a scan
    builds per flow. Falls back to the class itself when that would not be equivalent.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    slots = getattr(cls, "__slots__", ())
    if hasattr(cls, "__post_init__") or tuple(f.name for f in fields) != tuple(slots):
        return cls
    names = [f"v{i}" for i in range(len(fields))]
    env: dict[str, object] = {"new": object.__new__, "cls": cls}
    body = [f"def make({', '.join(names)}):", "    obj = new(cls)"]
    for i, f in enumerate(fields):
        env[f"set{i}"] = cls.__dict__[f.name].__set__
        body.append(f"    set{i}(obj, v{i})")
    body.append("    return obj")
    exec("\n".join(body), env)  # unrolled: no per-field loop
    make: Callable[..., T] = env["make"]  # type: ignore[assignment]
    return make


_new_evidence = record_maker(FlowEvidence)
_new_row = record_maker(JudgedFlow)
_new_finding = record_maker(Finding)
_new_location = record_maker(Location)


def iso_time(epoch: float) -> str:
    """A capture timestamp as ISO 8601 UTC with microseconds."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


def evidence(flow: FlowLike) -> FlowEvidence:
    """The spec §6 `flow` record of a flow."""
    return _new_evidence(
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


def _parse_v4(text: str) -> IP | None:
    """Strict dotted-quad IPv4 without netaddr (captures print addresses this way)."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part.isdigit() or not part.isascii() or (len(part) > 1 and part[0] == "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = (value << 8) | octet
    return IP(4, value)


@dataclass(frozen=True, slots=True)
class _Addr:
    """Per distinct address text: its map entry and the strings every row repeats."""

    info: AddressInfo | None
    zone: str | None
    tier: str | None
    display: str | None
    label: str  # "display (tier)" as in messages


def _addr_record(info: AddressInfo | None, canonical: str | None = None) -> _Addr:
    """``canonical``: the address's own text when it is already in canonical form."""
    if info is None:
        return _Addr(None, None, None, None, "")
    tier = info.tier.value if info.tier else None
    display = info.node.name if info.node is not None else (canonical or info.display)
    return _Addr(
        info, info.zone.name if info.zone else None, tier, display, f"{display} ({tier or '?'})"
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    verdict: str
    judgement: Judgement | None
    service: str | None


_LOCAL, _UNMAPPED = Scope.LOCAL, Scope.UNMAPPED  # enum member access is slow in 3.11 loops
_VIOLATION, _EXCEPTED = Outcome.VIOLATION, Outcome.EXCEPTED
_WARNING = Severity.WARNING
_RANK = {Outcome.PERMITTED: 0, Outcome.SANITIZED: 0, Outcome.EXCEPTED: 1, Outcome.VIOLATION: 2}


class FlowJudge:
    """Judges flows against one policy; keeps per-address and per-port caches."""

    def __init__(self, policy: Policy, addresses: AddressMap) -> None:
        self.policy = policy
        self.addresses = addresses
        self.catalogue = policy.topology.services
        self._services: dict[tuple[str, int], tuple[str, ...]] = {}
        self._addrs: dict[str, _Addr] = {}
        self._verdicts: dict[tuple[str, str, str, int], _Verdict] = {}

    def info(self, text: str) -> AddressInfo | None:
        """Address map entry for an address in text form (None when it does not parse).

        Parsed once per distinct address: a capture repeats the same few hosts many times.
        """
        return self._addr(text).info

    def _addr(self, text: str) -> _Addr:
        try:
            return self._addrs[text]
        except KeyError:
            ip = _parse_v4(text)
            canonical = text if ip is not None else None  # strict dotted quad: str(ip) == text
            if ip is None:
                ip = parse_ip_text(text)
            rec = _addr_record(None if ip is None else self.addresses.lookup(ip), canonical)
            self._addrs[text] = rec
            return rec

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
        addr = self._addr
        verdicts = self._verdicts
        for flow in flows:
            s = addr(flow.src_ip)
            d = addr(flow.dst_ip)
            src, dst = s.info, d.info
            ev = evidence(flow)
            if src is None or dst is None:
                yield _row(ev, s, d, "unknown", None, None, None), None, False
                continue
            if src.scope is _LOCAL or dst.scope is _LOCAL:
                yield _row(ev, s, d, "local", None, None, None), None, False
                continue
            if src.scope is _UNMAPPED or dst.scope is _UNMAPPED:
                unmapped = [a for a in (src, dst) if a.scope is Scope.UNMAPPED]
                row = _row(ev, s, d, "unknown", "GEN-ZONE-ASSIGNED", None, None)
                which = ", ".join(str(a.ip) for a in unmapped)
                finding = self._finding(
                    flow,
                    ev,
                    s,
                    d,
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
            verdict = verdicts.get(vkey)
            if verdict is None:
                verdict = self.decide(src, dst, flow.proto, flow.dst_port)
                verdicts[vkey] = verdict
            judgement = verdict.judgement
            assert judgement is not None
            row = _row(
                ev, s, d, verdict.verdict, judgement.rule, judgement.channel, verdict.service
            )
            outcome = judgement.outcome
            if outcome is _VIOLATION or outcome is _EXCEPTED:
                assert judgement.rule is not None
                excepted = outcome is _EXCEPTED
                finding = self._finding(
                    flow,
                    ev,
                    s,
                    d,
                    judgement.rule,
                    judgement.channel,
                    verdict.service,
                    verdict.verdict,
                    *_message(s, d, flow, verdict, excepted),
                )
                yield row, finding, excepted
            else:
                yield row, None, False

    @staticmethod
    def _finding(
        flow: FlowLike,
        ev: FlowEvidence,
        s: _Addr,
        d: _Addr,
        rule: str,
        channel: str | None,
        service: str | None,
        verdict: str,
        message: str,
        message_ja: str,
    ) -> Finding:
        return _new_finding(
            rule,
            _WARNING if flow.state == "attempted" else RULES_BY_ID[rule].severity,
            message,
            message_ja,
            _new_location(flow.input, None, flow.first_frame),
            s.zone,  # src_zone
            d.zone,  # dst_zone
            s.tier,  # src_tier
            d.tier,  # dst_tier
            s.display,  # src
            d.display,  # dst
            service,
            1,  # count
            (),  # path
            (),  # permits
            None,  # remediation
            ev,  # flow
            None,  # node
            channel,
            flow_fingerprint(
                rule,
                flow.src_ip,
                flow.dst_ip,
                flow.proto,
                flow.dst_port,
                flow.vlan,
                flow.inner_vlan,
            ),
            verdict,
        )


_STATE_EN = {"attempted": " attempted"}


def _message(
    s: _Addr, d: _Addr, flow: FlowLike, verdict: _Verdict, excepted: bool
) -> tuple[str, str]:
    what = f"{flow.proto}/{flow.dst_port}" if flow.dst_port else flow.proto
    svc = f" ({verdict.service})" if verdict.service else ""
    pair = f"{s.label} -> {d.label}"
    if excepted:
        channel = verdict.judgement.channel if verdict.judgement else ""
        return (
            f"flow {pair} {what}{svc} covered by channel '{channel}'",
            f"通信 {pair} {what}{svc} は例外 '{channel}' で許可",
        )
    state = _STATE_EN.get(flow.state, "")
    state_ja = "(試行のみ)" if flow.state == "attempted" else ""
    if verdict.verdict == "suspect":
        return (
            f"suspect flow{state} {pair} {what}{svc}: "
            "a gateway's port, but the responder is not that gateway",
            f"疑わしい通信{state_ja} {pair} {what}{svc}"
            ": ゲートウェイのポートだが応答側はそのゲートウェイではない",
        )
    return f"flow{state} {pair} {what}{svc}", f"通信{state_ja} {pair} {what}{svc}"


def _row(
    ev: FlowEvidence,
    s: _Addr,
    d: _Addr,
    verdict: str,
    rule: str | None,
    channel: str | None,
    service: str | None,
) -> JudgedFlow:
    return _new_row(
        ev,
        s.zone,
        d.zone,
        s.tier,
        d.tier,
        s.display if s.display is not None else ev.src_ip,
        d.display if d.display is not None else ev.dst_ip,
        service,
        verdict,
        rule,
        channel,
    )
