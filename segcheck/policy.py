"""The policy matrix of spec §3 and the one judgement that `check` and `scan` both use.

`judge` decides one (initiator address, responder address, service) fact. Path analysis calls it
for the ends of every route it finds; capture scanning calls it for every flow. Keeping a single
judge is what makes a plan and the traffic it produces agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .addressing import AddressInfo
from .model import ANY_SERVICE, SECURITY_CLOUD_ROLES, Channel, Node, Profile, Role, Tier, Topology
from .services import DEFAULT_ACCEPTS, DEFAULT_DELIVERS


class CellKind(StrEnum):
    """What a cell of the matrix allows."""

    ALLOW = "allow"
    SANITIZED = "sanitized"  # only through a sanitizing gateway
    CHANNEL = "channel"  # only where a channel covers it
    JUKI_OR_CHANNEL = "juki-cs or channel"  # through a juki-cs gateway, or a channel
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: what it allows, and the rule that fires otherwise."""

    kind: CellKind
    rule: str | None = None


_T = Tier
_ORDER = (
    _T.MYNUMBER,
    _T.LGWAN,
    _T.INTERNET,
    _T.LGWAN_NETWORK,
    _T.JUKINET,
    _T.GOV_CLOUD,
    _T.SECURITY_CLOUD,
    _T.PUBLIC_INTERNET,
)
_A = Cell(CellKind.ALLOW)
_MNI = Cell(CellKind.CHANNEL, "MN-ISOLATION")
_MNX = Cell(CellKind.FORBIDDEN, "MN-NO-INTERNET")
_JUKI = Cell(CellKind.JUKI_OR_CHANNEL, "MN-ISOLATION")
_SPLIT_S = Cell(CellKind.SANITIZED, "LG-INET-SPLIT")
_SPLIT = Cell(CellKind.FORBIDDEN, "LG-INET-SPLIT")
_DENY = Cell(CellKind.FORBIDDEN, "GEN-DEFAULT-DENY")
_DENY_C = Cell(CellKind.CHANNEL, "GEN-DEFAULT-DENY")
_LGX = Cell(CellKind.FORBIDDEN, "LG-NO-INTERNET")
_EGR = Cell(CellKind.FORBIDDEN, "INET-EGRESS-VIA-CLOUD")

# Rows: initiator tier; columns: responder tier; both in _ORDER (MN LG IN LW JK GC SC PI).
_ROWS = {
    _T.MYNUMBER: (_A, _MNI, _MNX, _MNI, _JUKI, _MNI, _MNX, _MNX),
    _T.LGWAN: (_MNI, _A, _SPLIT_S, _A, _DENY, _DENY_C, _LGX, _LGX),
    _T.INTERNET: (_MNX, _SPLIT_S, _A, _SPLIT, _DENY, _DENY, _A, _EGR),
    _T.LGWAN_NETWORK: (_MNI, _A, _SPLIT, _A, _DENY, _DENY, _LGX, _LGX),
    _T.JUKINET: (_JUKI, _DENY, _DENY, _DENY, _A, _DENY, _DENY, _DENY),
    _T.GOV_CLOUD: (_MNI, _DENY_C, _DENY, _DENY, _DENY, _A, _DENY, _DENY),
    _T.SECURITY_CLOUD: (_MNX, _LGX, _A, _LGX, _DENY, _DENY, _A, _A),
    _T.PUBLIC_INTERNET: (_MNX, _LGX, _EGR, _LGX, _DENY, _DENY, _A, _A),
}

MATRIX: Mapping[tuple[Tier, Tier], Cell] = {
    (src, dst): cell for src, row in _ROWS.items() for dst, cell in zip(_ORDER, row, strict=True)
}
TIER_ORDER: tuple[Tier, ...] = _ORDER


def cell(src: Tier, dst: Tier) -> Cell:
    """The matrix cell for an initiator tier and a responder tier."""
    return MATRIX[(src, dst)]


class Outcome(StrEnum):
    """The verdict on one fact (spec §3, §7)."""

    PERMITTED = "permitted"
    SANITIZED = "sanitized"
    EXCEPTED = "excepted"
    VIOLATION = "violation"


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict, the rule (that fires, or that a channel holds off) and the channel."""

    outcome: Outcome
    rule: str | None = None
    channel: str | None = None


PERMITTED = Judgement(Outcome.PERMITTED)


def accepts(node: Node) -> tuple[str, ...]:
    """Services a gateway accepts: as declared, else the role's default."""
    return node.accepts or DEFAULT_ACCEPTS.get(node.role.value, ())


def delivers(node: Node) -> tuple[str, ...]:
    """Services a gateway delivers (re-originates): as declared, else the role's default."""
    return node.delivers or DEFAULT_DELIVERS.get(node.role.value, ())


def _service_in(service: str, names: tuple[str, ...]) -> bool:
    return ANY_SERVICE in names or service in names


class Policy:
    """The matrix applied to one topology on one day (channels expire against `today`)."""

    def __init__(self, topology: Topology, today: date) -> None:
        self.topology = topology
        self.today = today
        self.profile = topology.profile
        self.live_channels = tuple(c for c in topology.channels if not c.expired(today))
        self.expired_channels = tuple(c for c in topology.channels if c.expired(today))
        self._lbo_nodes = tuple(n for n in topology.nodes.values() if n.role is Role.LBO_GATEWAY)

    def covering_channel(self, src: AddressInfo, dst: AddressInfo, service: str) -> Channel | None:
        """The first live channel (register order) covering this initiator, responder, service."""
        for channel in self.live_channels:
            if (
                channel.source.matches(src.ip)
                and channel.destination.matches(dst.ip)
                and _service_in(service, channel.services)
            ):
                return channel
        return None

    def _endpoint_channel(self, src: AddressInfo, dst: AddressInfo) -> Channel | None:
        """A live channel between the same two ends, whatever the service or direction."""
        for channel in self.live_channels:
            forward = channel.source.matches(src.ip) and channel.destination.matches(dst.ip)
            reverse = channel.source.matches(dst.ip) and channel.destination.matches(src.ip)
            if forward or reverse:
                return channel
        return None

    def lbo_allows(self, dst: AddressInfo, lbo: Node | None = None) -> bool:
        """True under alpha-prime when an lbo-gateway (this one, or any) lists the destination."""
        if self.profile is not Profile.ALPHA_PRIME:
            return False
        candidates = (lbo,) if lbo is not None else self._lbo_nodes
        return any(
            r.contains(dst.ip)
            for node in candidates
            if node is not None
            for r in node.allow_destinations
        )

    def judge(
        self,
        src: AddressInfo,
        dst: AddressInfo,
        service: str,
        *,
        via_lbo: Node | None = None,
        path: bool = False,
    ) -> Judgement:
        """Judge one initiator → responder fact for one service name.

        `via_lbo` is the lbo-gateway a path crosses (path analysis knows it); for flows it is
        None and an alpha-prime allow-listed destination is assumed to go through the LBO.
        With `path=True` (a route that path analysis found) no lbo-gateway is assumed: the route
        went through `via_lbo` or through none.
        """
        src_tier, dst_tier = src.tier, dst.tier
        if src_tier is None or dst_tier is None or src_tier is dst_tier:
            return PERMITTED
        the_cell = MATRIX[(src_tier, dst_tier)]
        rule = the_cell.rule
        src_node, dst_node = src.node, dst.node

        if (
            src_tier is Tier.LGWAN
            and dst_tier is Tier.INTERNET
            and service == "smtp"
            and dst_node is not None
            and dst_node.role is Role.MAIL_RELAY
        ):
            # Outbound mail hand-off (spec §3): a warning of its own, not LG-INET-SPLIT.
            rule = "LG-OUTBOUND-DATA"
        elif the_cell.kind is CellKind.ALLOW:
            return PERMITTED
        elif (
            rule == "INET-EGRESS-VIA-CLOUD"
            and dst_node is not None
            and dst_node.role in SECURITY_CLOUD_ROLES
        ):
            # A security-cloud gateway at a global address in no zone still terminates the
            # flow: Internet-tier egress that ends there is what the rule asks for.
            return PERMITTED
        elif the_cell.kind is CellKind.SANITIZED:
            if (
                dst_node is not None
                and dst_node.role.sanitizing
                and _service_in(service, accepts(dst_node))
            ) or (
                src_node is not None
                and src_node.role.sanitizing
                and _service_in(service, delivers(src_node))
            ):
                return Judgement(Outcome.SANITIZED)
        elif the_cell.kind is CellKind.JUKI_OR_CHANNEL:
            if any(n is not None and n.role is Role.JUKI_CS for n in (src_node, dst_node)):
                return Judgement(Outcome.SANITIZED)
        elif (
            the_cell.kind is CellKind.FORBIDDEN
            and rule == "LG-NO-INTERNET"
            and src_tier is Tier.LGWAN
            and dst_tier is Tier.PUBLIC_INTERNET
            and (via_lbo is not None or (self._lbo_nodes and not path))
            and self.lbo_allows(dst, via_lbo)
        ):
            return PERMITTED

        if the_cell.kind is not CellKind.FORBIDDEN or rule == "LG-OUTBOUND-DATA":
            channel = self.covering_channel(src, dst, service)
            if channel is not None:
                return Judgement(Outcome.EXCEPTED, rule, channel.id)
            if rule == "MN-ISOLATION":
                pinned = self._endpoint_channel(src, dst)
                if pinned is not None:
                    # Between a channel's endpoints, on another service or the other way round.
                    return Judgement(Outcome.VIOLATION, "MN-SPECIFIED-COMM", pinned.id)
        return Judgement(Outcome.VIOLATION, rule)
