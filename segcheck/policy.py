"""The policy matrix of spec §3 and the one judgement that `check` and `scan` both use.

`judge` decides one (initiator address, responder address, service) fact. Path analysis calls it
for the ends of every route it finds; capture scanning calls it for every flow. Keeping a single
judge is what makes a plan and the traffic it produces agree.

The matrix is one table (`_ROWS`). What the table cannot say is written as named exceptions,
each a function citing its clause of docs/spec.md §3: `outbound_mail`, `egress_ends_at_cloud`,
`sanitized`, `through_juki_cs`, `Policy.lbo_breakout` and `Policy.channel_cover`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .addressing import AddressInfo
from .findings import RuleId
from .model import ANY_SERVICE, SECURITY_CLOUD_ROLES, Channel, Node, Profile, Role, Tier, Topology
from .rules.editions import ALPHA_PRIME_SINCE, at_least
from .rules.ids import (
    GEN_DEFAULT_DENY,
    INET_EGRESS_VIA_CLOUD,
    INET_LOCAL_BREAKOUT,
    INET_MAIL_VIA_CLOUD,
    LG_DNS,
    LG_INET_SPLIT,
    LG_NO_INTERNET,
    LG_OUTBOUND_DATA,
    LG_TELEWORK,
    LG_UPDATE_DIST,
    MN_CHUKAN_VIA_LGWAN,
    MN_ISOLATION,
    MN_JUKI_CS,
    MN_NO_INTERNET,
    MN_SPECIFIED_COMM,
    MN_UPDATE_DIST,
)
from .rules.resolvers import is_public_resolver
from .services import DEFAULT_ACCEPTS, DEFAULT_DELIVERS, SCREEN_TRANSFER_SERVICES
from .settings import INET_BREAKOUT_CONTROLS, setting


class CellKind(StrEnum):
    """What a cell of the matrix allows."""

    ALLOW = "allow"
    SANITIZED = "sanitized"  # only through a sanitizing gateway
    CHANNEL = "channel"  # only where a channel covers it
    JUKI_CS = "juki-cs"  # through a juki-cs gateway only (MN-JUKI-CS; no channel covers it)
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: what it allows, and the rule that fires otherwise."""

    kind: CellKind
    rule: RuleId | None = None


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
_MNI = Cell(CellKind.CHANNEL, MN_ISOLATION)
_MNX = Cell(CellKind.FORBIDDEN, MN_NO_INTERNET)
_JUKI = Cell(CellKind.JUKI_CS, MN_JUKI_CS)
_SPLIT_S = Cell(CellKind.SANITIZED, LG_INET_SPLIT)
_SPLIT = Cell(CellKind.FORBIDDEN, LG_INET_SPLIT)
_DENY = Cell(CellKind.FORBIDDEN, GEN_DEFAULT_DENY)
_DENY_C = Cell(CellKind.CHANNEL, GEN_DEFAULT_DENY)
_LGX = Cell(CellKind.FORBIDDEN, LG_NO_INTERNET)
_EGR = Cell(CellKind.FORBIDDEN, INET_EGRESS_VIA_CLOUD)

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

_BUILTIN: dict[tuple[Tier, Tier], Cell] = {
    (src, dst): cell for src, row in _ROWS.items() for dst, cell in zip(_ORDER, row, strict=True)
}


def extra_cell(spec: str | None, other: Tier) -> Cell:
    """A cell of an extra tier's row or column as the topology writes it ("forbidden",
    "channel MN-ISOLATION", ...); unwritten: a channel with the My Number tier (its isolation,
    as for the LGWAN tier), forbidden with any other (GEN-DEFAULT-DENY)."""
    if spec is None:
        if other is Tier.MYNUMBER:
            return Cell(CellKind.CHANNEL, MN_ISOLATION)
        return Cell(CellKind.FORBIDDEN, GEN_DEFAULT_DENY)
    kind, _, rule = spec.partition(" ")
    the_kind = CellKind(kind)
    if the_kind is CellKind.ALLOW:
        return Cell(the_kind)
    default = MN_ISOLATION if other is Tier.MYNUMBER else GEN_DEFAULT_DENY
    return Cell(the_kind, RuleId(rule.strip()) if rule.strip() else default)


def _check_extra_rules(topology: Topology, tier: Tier) -> None:
    """An extra tier's cells name catalogued rules (the loader only sees their shape)."""
    from .errors import TopologyError
    from .rules.catalogue import RULES_BY_ID

    info = tier.extra
    assert info is not None
    for spec in (*info.row.values(), *info.column.values()):
        rule = spec.partition(" ")[2]
        if rule and rule not in RULES_BY_ID:
            known = ", ".join(sorted(RULES_BY_ID))
            raise TopologyError(
                topology.source.path,
                f"tier {info.key!r}: unknown rule {rule!r} (known rules: {known})",
                info.line,
            )


class _Matrix(Mapping[tuple[Tier, Tier], Cell]):
    """The built-in matrix of spec §3 (64 cells), and the cells of any extra tier a topology
    declares (issue 17), read from the tier itself: each declaration carries its own row and
    column, so every judgement, path search and report uses the matrix of its topology."""

    def __getitem__(self, key: tuple[Tier, Tier]) -> Cell:
        hit = _BUILTIN.get(key)
        if hit is not None:
            return hit
        src, dst = key
        if src is dst or (src == dst and src.extra is not None):
            return _A
        if src.extra is not None:
            return extra_cell(src.extra.row.get(dst.value), dst)
        if dst.extra is not None:
            return extra_cell(dst.extra.column.get(src.value), src)
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[Tier, Tier]]:
        return iter(_BUILTIN)

    def __len__(self) -> int:
        return len(_BUILTIN)


class _TierOrder(tuple[Tier, ...]):
    """The built-in tiers in the matrix's order; an extra tier ranks after them."""

    def index(self, tier: Tier, *args: object) -> int:
        try:
            return tuple.index(self, tier)
        except ValueError:
            if isinstance(tier, Tier) and tier.extra is not None:
                return len(self)
            raise


MATRIX: Mapping[tuple[Tier, Tier], Cell] = _Matrix()
TIER_ORDER: tuple[Tier, ...] = _TierOrder(_ORDER)


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
    rule: RuleId | None = None
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
        self.alpha_prime_edition = at_least(topology.guideline, ALPHA_PRIME_SINCE)
        for tier in topology.extra_tiers:
            _check_extra_rules(topology, tier)
        # profile settings (domain.md §9 Q1, Q2, Q3)
        self.mn_absolute = setting(topology.settings, "mn_isolation") == "absolute"
        self.outbound_mail = setting(topology.settings, "lg_outbound_mail")
        self.inet_breakout = compensated(topology)
        # lbo-gateways of the Internet tier, by name (INET-LOCAL-BREAKOUT)
        self.inet_lbos = {
            n.name: n for n in self._lbo_nodes if Tier.INTERNET in node_tiers(n, topology)
        }
        # LG-TELEWORK judges plans that declare telework (captures always: access is evidence)
        self.telework = any(n.role is Role.TELEWORK_GATEWAY for n in topology.nodes.values())
        # MN/LG-UPDATE-DIST, for the tiers that declare an update server: the services updates
        # travel on (wsus, and what the update servers take)
        servers = [n for n in topology.nodes.values() if n.role is Role.UPDATE_SERVER]
        self.update_tiers = (
            frozenset(
                zone.tier
                for n in servers
                for ip in n.addresses
                for zone in topology.zones.values()
                if any(subnet.contains(ip) for subnet in zone.subnets)
            )
            & _UPDATE_TIERS
        )
        self.update_services: frozenset[str] = frozenset(
            {"wsus", *(name for n in servers for name in accepts(n))} if servers else ()
        )

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
        """True under alpha-prime when an lbo-gateway (this one, or any) lists the destination;
        never when the topology follows a guideline edition before α′ (rules/editions.py)."""
        if self.profile is not Profile.ALPHA_PRIME or not self.alpha_prime_edition:
            return False
        candidates = (lbo,) if lbo is not None else self._lbo_nodes
        return any(
            r.contains(dst.ip)
            for node in candidates
            if node is not None
            for r in node.allow_destinations
        )

    def lbo_breakout(
        self, src: AddressInfo, dst: AddressInfo, via_lbo: Node | None, path: bool
    ) -> bool:
        """α′ local breakout (spec §3, "α′"): LGWAN → public Internet through an lbo-gateway to
        one of its `allow_destinations` is allowed, under `alpha-prime` only.

        A path names the lbo-gateway it crosses (`via_lbo`); a path through none breaks out
        nowhere. A flow does not say, so one to an allow-listed destination is taken to go
        through the lbo-gateway when the plan has one.
        """
        return (
            src.tier is Tier.LGWAN
            and dst.tier is Tier.PUBLIC_INTERNET
            and (via_lbo is not None or (bool(self._lbo_nodes) and not path))
            and self.lbo_allows(dst, via_lbo)
        )

    def inet_local_breakout(
        self, src: AddressInfo, dst: AddressInfo, via_lbo: Node | None, path: bool
    ) -> bool:
        """An Internet-tier local breakout with compensating controls (spec §3,
        INET-LOCAL-BREAKOUT; domain.md §9 Q3): Internet tier → public Internet through an
        lbo-gateway of the Internet tier to one of its `allow_destinations`, when the setting
        `inet_breakout_controls` declares every control. A path names the gateway it crosses;
        a flow to an allow-listed destination is taken to go through it (as for α′)."""
        if not self.inet_breakout or src.tier is not Tier.INTERNET:
            return False
        if dst.tier is not Tier.PUBLIC_INTERNET:
            return False
        if via_lbo is not None:
            gateways = [self.inet_lbos[via_lbo.name]] if via_lbo.name in self.inet_lbos else []
        elif path:
            return False
        else:
            gateways = list(self.inet_lbos.values())
        return any(r.contains(dst.ip) for n in gateways for r in n.allow_destinations)

    def channel_cover(
        self, src: AddressInfo, dst: AddressInfo, service: str, rule: RuleId
    ) -> Judgement:
        """A live channel covering the fact holds `rule` off (spec §3, "channel" cells).

        Where `rule` is MN-ISOLATION, a fact between the two ends of a live channel on another
        service or in the other direction is MN-SPECIFIED-COMM instead (spec §3
        MN-SPECIFIED-COMM: "a flow between a channel's endpoints on another service or in the
        other direction"); paths are judged the same way. Under `mn_isolation: absolute`
        (domain.md §9 Q1) no channel covers MN-ISOLATION.
        """
        if rule == MN_ISOLATION and self.mn_absolute:
            return Judgement(Outcome.VIOLATION, rule)  # mn_isolation: absolute (Q1)
        channel = self.covering_channel(src, dst, service)
        if channel is not None:
            return Judgement(Outcome.EXCEPTED, rule, channel.id)
        if rule == MN_ISOLATION:
            pinned = self._endpoint_channel(src, dst)
            if pinned is not None:
                return Judgement(Outcome.VIOLATION, MN_SPECIFIED_COMM, pinned.id)
        return Judgement(Outcome.VIOLATION, rule)

    def update_rule(
        self, src: AddressInfo, dst: AddressInfo, service: str, path: bool
    ) -> RuleId | None:
        """Update distribution (spec §3, MN-UPDATE-DIST / LG-UPDATE-DIST): the rule a fact on an
        update service breaks, if any. An `update-server` of the My Number or LGWAN tier takes
        updates from its tier or its declared `upstream` only, on any service it serves; any
        other host of the tier takes them on `wsus` (the one service that is only updates: a
        client's https is no update) from its tier (LGWAN-tier hosts also from LGWAN, LGWAN-ASP
        update services, and under α′ from an lbo-gateway's allow-listed destinations) and, in
        captures, from an `update-server` only. Only in a tier that declares an update
        server: without one the plan says nothing about where updates come from."""
        tier, dst_tier = src.tier, dst.tier
        if (
            service not in self.update_services
            or tier is None
            or dst_tier is None
            or tier not in self.update_tiers
        ):
            return None
        rule = MN_UPDATE_DIST if tier is Tier.MYNUMBER else LG_UPDATE_DIST
        node = src.node
        if node is not None and node.role is Role.UPDATE_SERVER:
            if dst.tier is tier or any(u.matches(dst.ip) for u in node.upstream):
                return None
            if path and (MATRIX[(tier, dst_tier)].kind is CellKind.ALLOW or self.lbo_allows(dst)):
                # what the plan opens to the whole tier (LGWAN; α′'s cloud destinations): only
                # a capture shows where the update server really takes its updates from
                return None
            return rule
        if service != "wsus":
            return None
        if dst.tier is not tier:
            if (tier, dst.tier) == (Tier.LGWAN, Tier.LGWAN_NETWORK) or self.lbo_allows(dst):
                return None  # LGWAN-ASP update services; α′'s declared cloud destinations
            return rule
        if not path and (dst.node is None or dst.node.role is not Role.UPDATE_SERVER):
            return rule
        return None

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

        The matrix judges (`cell_judgement`); then update distribution may forbid what the
        matrix allows or a channel excepts (never weakening a violation: a client fetching
        updates across a forbidden cell keeps that cell's rule).
        """
        judgement = self.cell_judgement(src, dst, service, via_lbo=via_lbo, path=path)
        if judgement.outcome is not Outcome.VIOLATION and self.update_services:
            rule = self.update_rule(src, dst, service, path)
            if rule is not None:
                return Judgement(Outcome.VIOLATION, rule)
        return judgement

    def cell_judgement(
        self,
        src: AddressInfo,
        dst: AddressInfo,
        service: str,
        *,
        via_lbo: Node | None = None,
        path: bool = False,
    ) -> Judgement:
        """Judge one fact by the matrix and its named exceptions.

        The cell of the two tiers decides, unless one of the named exceptions applies.
        `via_lbo` is the lbo-gateway a path crosses (path analysis knows it); for flows it is
        None and an alpha-prime allow-listed destination is assumed to go through the LBO.
        With `path=True` (a route that path analysis found) no lbo-gateway is assumed: the route
        went through `via_lbo` or through none.
        """
        src_tier, dst_tier = src.tier, dst.tier
        if src_tier is None or dst_tier is None or src_tier is dst_tier:
            return PERMITTED
        the_cell = MATRIX[(src_tier, dst_tier)]
        if chukan_beside_atena(src, dst):
            return Judgement(Outcome.VIOLATION, MN_CHUKAN_VIA_LGWAN)
        if (not path or self.telework) and remote_access_beside_telework(src, dst, service):
            return Judgement(Outcome.VIOLATION, LG_TELEWORK)
        if outbound_mail(src, dst, service) and self.outbound_mail != "forbidden":
            # forbidden: the cell's LG-INET-SPLIT (a mail relay sanitizes nothing)
            if self.outbound_mail == "allowed":
                return PERMITTED
            return self.channel_cover(src, dst, service, LG_OUTBOUND_DATA)
        if mail_beside_relay(src, dst, service, path):
            return self.channel_cover(src, dst, service, INET_MAIL_VIA_CLOUD)
        kind, rule = the_cell.kind, the_cell.rule
        if kind is CellKind.ALLOW or rule is None:
            return PERMITTED
        if kind is CellKind.FORBIDDEN:
            if egress_ends_at_cloud(rule, dst) or (
                rule == LG_NO_INTERNET and self.lbo_breakout(src, dst, via_lbo, path)
            ):
                return PERMITTED
            if rule == LG_NO_INTERNET and not path and public_name_resolution(src, dst, service):
                return Judgement(Outcome.VIOLATION, LG_DNS)
            if rule == INET_EGRESS_VIA_CLOUD and self.inet_local_breakout(src, dst, via_lbo, path):
                return Judgement(Outcome.VIOLATION, INET_LOCAL_BREAKOUT)
            return Judgement(Outcome.VIOLATION, rule)
        if kind is CellKind.JUKI_CS:
            # MN-JUKI-CS: only the 住基CS touches 住基ネット; a channel cannot stand in for it.
            if through_juki_cs(src, dst):
                return Judgement(Outcome.SANITIZED)
            return Judgement(Outcome.VIOLATION, rule)
        if kind is CellKind.SANITIZED and sanitized(src, dst, service):
            return Judgement(Outcome.SANITIZED)
        return self.channel_cover(src, dst, service, rule)


def compensated(topology: Topology) -> bool:
    """True when the setting `inet_breakout_controls` declares every compensating control."""
    declared = setting(topology.settings, "inet_breakout_controls")
    return isinstance(declared, tuple) and set(INET_BREAKOUT_CONTROLS) <= set(declared)


def node_tiers(node: Node, topology: Topology) -> set[Tier]:
    """The tiers of the zones holding a node's addresses."""
    return {
        zone.tier
        for ip in node.addresses
        for zone in topology.zones.values()
        if any(subnet.contains(ip) for subnet in zone.subnets)
    }


def outbound_mail(src: AddressInfo, dst: AddressInfo, service: str) -> bool:
    """Outbound mail hand-off (spec §3, LG-OUTBOUND-DATA): LGWAN tier → Internet tier on `smtp`
    to a `mail-relay` is a warning of its own, not LG-INET-SPLIT; a channel may cover it."""
    dst_node = dst.node
    return (
        src.tier is Tier.LGWAN
        and dst.tier is Tier.INTERNET
        and service == "smtp"
        and dst_node is not None
        and dst_node.role is Role.MAIL_RELAY
    )


def mail_beside_relay(src: AddressInfo, dst: AddressInfo, service: str, path: bool) -> bool:
    """Internet mail beside the cloud's relay (spec §3, INET-MAIL-VIA-CLOUD): `smtp` between
    the Internet tier and the security cloud whose security-cloud end is no `mail-relay`.

    A flow is judged whatever its cloud end: something there spoke smtp. A path only when the
    plan says a gateway of the cloud takes mail (accepts, or delivers, smtp): the cloud's
    other addresses (its undeclared services, and nodes that are no gateway, which path
    analysis does not tell apart from them) and a proxy or resolver taking no mail are not
    mail endpoints of the plan.
    """
    if service != "smtp":
        return False
    if src.tier is Tier.INTERNET and dst.tier is Tier.SECURITY_CLOUD:
        cloud, takes = dst.node, accepts
    elif src.tier is Tier.SECURITY_CLOUD and dst.tier is Tier.INTERNET:
        cloud, takes = src.node, delivers
    else:
        return False
    if cloud is not None and cloud.role is Role.MAIL_RELAY:
        return False
    if not path:
        return True
    return cloud is not None and cloud.role.gateway and _service_in(service, takes(cloud))


def public_name_resolution(src: AddressInfo, dst: AddressInfo, service: str) -> bool:
    """An LGWAN-tier host resolving names on the Internet (spec §3, LG-DNS, flows only): `dns`
    to the security cloud or the public Internet, or DNS over HTTPS (`https` on 443) to a
    well-known public resolver. The LGWAN tier resolves through LGWAN's DNS (domain.md §4.3).
    Paths keep LG-NO-INTERNET: a route open to the Internet is one finding, not one per use.
    """
    if src.tier is not Tier.LGWAN:
        return False
    if service == "dns":
        return True
    return service == "https" and is_public_resolver(dst.ip)


def chukan_beside_atena(src: AddressInfo, dst: AddressInfo) -> bool:
    """The 中間サーバー reached beside the 団体内統合宛名 (spec §3, MN-CHUKAN-VIA-LGWAN): a
    `chukan` node and an LGWAN-tier address, or a My Number address other than an `atena`'s,
    either way. The 中間サーバー channel crosses LGWAN but belongs to the 統合宛名 alone; no
    channel covers anything else."""
    for near, far in ((src, dst), (dst, src)):
        if near.node is not None and near.node.role is Role.CHUKAN:
            if far.tier is Tier.LGWAN:
                return True
            if far.tier is Tier.MYNUMBER and (far.node is None or far.node.role is not Role.ATENA):
                return True
    return False


def remote_access_beside_telework(src: AddressInfo, dst: AddressInfo, service: str) -> bool:
    """Remote access into the LGWAN tier beside a telework gateway (spec §3, LG-TELEWORK): from
    LGWAN, screen transfer (or ssh) into the LGWAN tier that does not start at a
    `telework-gateway`, or anything but screen transfer that does. The β model's screen
    transfer from the Internet tier is LG-INET-SPLIT's cell, not remote access."""
    if dst.tier is not Tier.LGWAN or src.tier is not Tier.LGWAN_NETWORK:
        return False
    node = src.node
    if node is not None and node.role is Role.TELEWORK_GATEWAY:
        return service not in SCREEN_TRANSFER_SERVICES
    return service in _REMOTE_ACCESS


_REMOTE_ACCESS = SCREEN_TRANSFER_SERVICES | {"ssh"}


def watched(src: Tier, dst: Tier, topology: Topology | None = None) -> bool:
    """True when some fact between these tiers can be a finding: the cell is not a plain
    allow, or a named exception judges facts of an allow cell (INET-MAIL-VIA-CLOUD; with the
    topology, MN-CHUKAN-VIA-LGWAN when it declares a 中間サーバー, LG-TELEWORK when it declares a
    telework gateway)."""
    if MATRIX[(src, dst)].kind is not CellKind.ALLOW or {src, dst} == _MAIL_TIERS:
        return True
    if topology is None or {src, dst} != _CHUKAN_TIERS:
        return False
    roles = {n.role for n in topology.nodes.values()}
    if (src, dst) == (Tier.LGWAN_NETWORK, Tier.LGWAN) and Role.TELEWORK_GATEWAY in roles:
        return True  # LG-TELEWORK: remote access from LGWAN beside the declared gateway
    return Role.CHUKAN in roles


_MAIL_TIERS = frozenset({Tier.INTERNET, Tier.SECURITY_CLOUD})
_UPDATE_TIERS = frozenset({Tier.MYNUMBER, Tier.LGWAN})
_CHUKAN_TIERS = frozenset({Tier.LGWAN, Tier.LGWAN_NETWORK})


def egress_ends_at_cloud(rule: RuleId, dst: AddressInfo) -> bool:
    """Internet tier egress that ends at a security-cloud gateway (spec §3,
    INET-EGRESS-VIA-CLOUD "does not end at a security-cloud gateway").

    A gateway at a global address in no zone is in the public-internet tier, yet it still
    terminates the flow: egress that ends there is what the rule asks for.
    """
    dst_node = dst.node
    return (
        rule == INET_EGRESS_VIA_CLOUD
        and dst_node is not None
        and dst_node.role in SECURITY_CLOUD_ROLES
    )


def sanitized(src: AddressInfo, dst: AddressInfo, service: str) -> bool:
    """A sanitized crossing (spec §3, "sanitized" cells and LG-INET-SPLIT): the flow ends at a
    sanitizing gateway that accepts its service, or starts at one that delivers it."""
    dst_node, src_node = dst.node, src.node
    return (
        dst_node is not None
        and dst_node.role.sanitizing
        and _service_in(service, accepts(dst_node))
    ) or (
        src_node is not None
        and src_node.role.sanitizing
        and _service_in(service, delivers(src_node))
    )


def through_juki_cs(src: AddressInfo, dst: AddressInfo) -> bool:
    """住基ネット through a `juki-cs` gateway (spec §3, MN ↔ JK cells and MN-JUKI-CS): either
    end being the gateway terminates the flow there."""
    return any(n is not None and n.role is Role.JUKI_CS for n in (src.node, dst.node))


EXCEPTION_RULES: frozenset[RuleId] = frozenset(
    {
        LG_OUTBOUND_DATA,
        MN_SPECIFIED_COMM,
        INET_MAIL_VIA_CLOUD,
        LG_DNS,
        MN_CHUKAN_VIA_LGWAN,
        MN_UPDATE_DIST,
        LG_UPDATE_DIST,
        LG_TELEWORK,
        INET_LOCAL_BREAKOUT,
    }
)
"""Rules the named exceptions judge by instead of the cell's own (`outbound_mail`,
`channel_cover`, `mail_beside_relay`, `public_name_resolution`, `chukan_beside_atena`,
`Policy.update_rule`, `remote_access_beside_telework`); with the cells' rules, every rule
`judge` can return."""
