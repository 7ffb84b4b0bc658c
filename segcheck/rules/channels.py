"""Rules about the channel register itself (docs/spec.md §3), one function each.

Each rule is a function `(channel, ends, today) -> Iterator[Violation]`, where `ends` holds
every (from tier, to tier) pair the channel's endpoints reach into (a two-legged gateway at one
end gives one pair per leg: the channel is judged by the address pairs it names, not by the
union of its ends' tiers); `@channel_rule` ties it to its rule id and `CHANNEL_RULES` lists it. The flow side of MN-SPECIFIED-COMM (a flow between a channel's endpoints on another
service) is a matrix exception in `Policy.judge`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from ..addressing import AddressMap, Scope, parse_ip
from ..findings import Finding, Location, RuleId, Severity, SubjectEvidence, subject_fingerprint
from ..model import ANY_SERVICE, IP, Channel, IPRange, Node, Role, Selector, Tier, Topology
from ..policy import Policy
from ..settings import setting
from .base import Violation, make_finding
from .ids import (
    GEN_EXCEPTION_EXPIRED,
    MN_CHUKAN_VIA_LGWAN,
    MN_JUKI_CS,
    MN_NO_INTERNET,
    MN_SPECIFIED_COMM,
)


@dataclass(frozen=True, slots=True)
class Ends:
    """The (from tier, to tier) pairs a channel names, and the nodes its ends are (if any)."""

    pairs: frozenset[tuple[Tier, Tier]]
    source: Node | None = None
    destination: Node | None = None
    require_mac: bool = False  # setting channel_mac_pinning: required

    def with_my_number(self) -> set[Tier]:
        """The other tiers of the pairs between the My Number tier and another."""
        out: set[Tier] = set()
        for a, b in self.pairs:
            if (a is Tier.MYNUMBER) != (b is Tier.MYNUMBER):
                out.add(b if a is Tier.MYNUMBER else a)
        return out


ChannelCheck = Callable[[Channel, Ends, date], Iterator[Violation]]


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """A channel check and the rule it enforces."""

    rule: RuleId
    check: ChannelCheck


def channel_rule(rule: RuleId) -> Callable[[ChannelCheck], ChannelRule]:
    """Tie a channel check to its rule id (it still has to be listed in `CHANNEL_RULES`)."""

    def register(check: ChannelCheck) -> ChannelRule:
        return ChannelRule(rule, check)

    return register


_MN_FORBIDDEN = frozenset({Tier.INTERNET, Tier.SECURITY_CLOUD, Tier.PUBLIC_INTERNET})


@channel_rule(GEN_EXCEPTION_EXPIRED)
def expired(channel: Channel, ends: Ends, today: date) -> Iterator[Violation]:
    """A channel past its expiry covers nothing; the register still lists it."""
    if channel.expired(today):
        yield Violation(
            f"channel '{channel.id}' expired on {channel.expires} and covers nothing",
            f"例外 '{channel.id}' は {channel.expires} に期限切れで、何も許可しない",
        )


@channel_rule(MN_NO_INTERNET)
def opens_my_number_to_internet(channel: Channel, ends: Ends, today: date) -> Iterator[Violation]:
    """No channel can open the My Number tier to an Internet-connected network."""
    if ends.with_my_number() & _MN_FORBIDDEN:
        yield Violation(
            f"channel '{channel.id}' tries to open the My Number tier to an "
            "Internet-connected network; no channel can cover that",
            f"例外 '{channel.id}' はマイナンバー利用事務系とインターネット接続環境の通信を"
            "許可しようとしている(例外でも許可できない)",
        )


@channel_rule(MN_SPECIFIED_COMM)
def not_pinned(channel: Channel, ends: Ends, today: date) -> Iterator[Violation]:
    """A channel touching the My Number tier names one host at each end and named services.

    A channel that tries to reach the Internet is MN-NO-INTERNET instead, not both.
    """
    others = ends.with_my_number()
    if not others or others & _MN_FORBIDDEN:
        return
    sides = (("from", "送信元", channel.source), ("to", "宛先", channel.destination))
    wide = [(side, side_ja, sel) for side, side_ja, sel in sides if not sel.is_single_host]
    loose = [f"{side} '{sel.name}' is wider than one host" for side, _, sel in wide]
    loose_ja = [f"{side_ja} '{sel.name}' が1台に限定されていない" for _, side_ja, sel in wide]
    if ANY_SERVICE in channel.services:
        loose.append("service is 'any'")
    if ends.require_mac and not (channel.from_macs and channel.to_macs):
        loose.append("no MAC address pinned at each end (channel_mac_pinning: required)")
        loose_ja.append("サービスが 'any'(すべて)")
    if loose:
        yield Violation(
            f"channel '{channel.id}' touches the My Number tier but is not pinned: "
            + "; ".join(loose),
            f"例外 '{channel.id}' はマイナンバー利用事務系に関わるが限定されていない: "
            + "、".join(loose_ja),
        )


@channel_rule(MN_JUKI_CS)
def juki_without_cs(channel: Channel, ends: Ends, today: date) -> Iterator[Violation]:
    """No channel can let a My Number host other than the 住基CS reach 住基ネット (or back).

    A channel to the CS itself names the CS's 住基ネット leg too; the CS terminates it.
    """
    cs = [end is not None and end.role is Role.JUKI_CS for end in (ends.source, ends.destination)]
    for pair in ((Tier.MYNUMBER, Tier.JUKINET), (Tier.JUKINET, Tier.MYNUMBER)):
        if pair in ends.pairs and not any(cs):
            yield Violation(
                f"channel '{channel.id}' tries to join 住基ネット and a My Number tier host "
                "other than the 住基CS (juki-cs); no channel can cover that",
                f"例外 '{channel.id}' は住基CS以外のマイナンバー利用事務系の機器と住基ネットの"
                "通信を許可しようとしている(例外でも許可できない)",
            )
            return


@channel_rule(MN_CHUKAN_VIA_LGWAN)
def chukan_without_atena(channel: Channel, ends: Ends, today: date) -> Iterator[Violation]:
    """The 中間サーバー channel is the 団体内統合宛名's: a channel joining a `chukan` node to
    anything else of the My Number or LGWAN tier cannot be approved."""
    for near, far, far_tiers in (
        (ends.source, ends.destination, {b for _, b in ends.pairs}),
        (ends.destination, ends.source, {a for a, _ in ends.pairs}),
    ):
        if near is None or near.role is not Role.CHUKAN:
            continue
        atena = far is not None and far.role is Role.ATENA
        if Tier.LGWAN in far_tiers or (Tier.MYNUMBER in far_tiers and not atena):
            yield Violation(
                f"channel '{channel.id}' joins the 中間サーバー '{near.name}' to a host other "
                "than the 団体内統合宛名 (atena); no channel can cover that",
                f"例外 '{channel.id}' は中間サーバー '{near.name}' を団体内統合宛名以外の機器と"
                "接続しようとしている(例外でも許可できない)",
            )
            return


CHANNEL_RULES: tuple[ChannelRule, ...] = (
    expired,
    opens_my_number_to_internet,
    not_pinned,
    juki_without_cs,
    chukan_without_atena,
)
"""Every channel rule, in the order a channel's findings are produced."""


def selector_tiers(selector: Selector, topology: Topology, addresses: AddressMap) -> set[Tier]:
    """Every tier a channel endpoint can reach into: any zone its ranges overlap, and the
    public Internet when a range holds a global address."""
    tiers: set[Tier] = set()
    for rng in selector.ranges:
        for zone in topology.zones.values():
            if any(rng.overlaps(subnet) for subnet in zone.subnets):
                tiers.add(zone.tier)
        if _holds_global(rng, addresses):
            tiers.add(Tier.PUBLIC_INTERNET)
    return tiers


# The largest non-global blocks (10/8 for IPv4, fc00::/7 for IPv6): a wider range must also
# hold global addresses.
_LARGEST_NON_GLOBAL = {4: 1 << 24, 6: 1 << 121}


def _holds_global(rng: IPRange, addresses: AddressMap) -> bool:
    if rng.size > _LARGEST_NON_GLOBAL[rng.version]:
        return True
    return any(
        addresses.lookup(IP(rng.version, value)).scope is Scope.PUBLIC
        for value in {rng.first, rng.last}
    )


def _node_of(selector: Selector, topology: Topology, addresses: AddressMap) -> Node | None:
    """The node a channel end names: by name, or as the owner of the one address it names."""
    node = topology.nodes.get(selector.name)
    if node is not None or not selector.is_single_host:
        return node
    rng = selector.ranges[0]
    return addresses.lookup(IP(rng.version, rng.first)).node


def channel_findings(policy: Policy, addresses: AddressMap) -> Iterator[Finding]:
    """Findings about the channel register, channel by channel in register order."""
    topology = policy.topology
    for channel in topology.channels:
        sources = selector_tiers(channel.source, topology, addresses)
        destinations = selector_tiers(channel.destination, topology, addresses)
        ends = Ends(
            frozenset((a, b) for a in sources for b in destinations),
            _node_of(channel.source, topology, addresses),
            _node_of(channel.destination, topology, addresses),
            setting(topology.settings, "channel_mac_pinning") == "required",
        )
        for rule in CHANNEL_RULES:
            for violation in rule.check(channel, ends, policy.today):
                yield make_finding(
                    rule.rule,
                    violation.message,
                    violation.message_ja,
                    Location(topology.source.path, channel.line),
                    severity=violation.severity,
                    src=channel.source.name,
                    dst=channel.destination.name,
                    service=",".join(channel.services),
                    evidence=SubjectEvidence(),
                    channel=channel.id,
                    fingerprint=subject_fingerprint(rule.rule, channel.id),
                )


Pair = tuple[str, str]  # (source address, destination address) of packets


def pinned_pairs(policy: Policy) -> set[Pair]:
    """Every (from address, to address) of the live channels that pin a MAC."""
    pairs: set[Pair] = set()
    for channel in policy.live_channels:
        if channel.mac_pinned:
            for a in channel.source.ranges:
                for b in channel.destination.ranges:
                    if a.size == 1 and b.size == 1 and a.version == b.version:
                        pairs.add((str(IP(a.version, a.first)), str(IP(b.version, b.first))))
    return pairs


def mac_pin_findings(
    policy: Policy,
    input_path: str,
    packets: bool,
    macs: Mapping[Pair, Mapping[str, int]],
    unseen: Mapping[Pair, int],
    flows: Iterable[Pair],
) -> Iterator[Finding]:
    """MN-SPECIFIED-COMM on MAC pins (issue 17): packets between a pinned channel's ends whose
    source MAC is not pinned for their sender; and, as `info`, a pinned channel whose packets
    in this input could not be checked (a flow log, or a link type without MAC addresses)."""
    seen_flows = set(flows)
    for channel in policy.live_channels:
        if not channel.mac_pinned:
            continue
        pins = ", ".join(channel.from_macs + channel.to_macs)

        def ends(pair: Pair, channel: Channel = channel) -> tuple[str, ...] | None:
            s, d = (parse_ip(x) for x in pair)
            if channel.source.matches(s) and channel.destination.matches(d):
                return channel.from_macs
            if channel.source.matches(d) and channel.destination.matches(s):
                return channel.to_macs
            return None

        for pair in sorted(macs):
            allowed = ends(pair)
            if not allowed:
                continue
            for mac, frame in sorted(macs[pair].items(), key=lambda kv: kv[1]):
                if mac in allowed:
                    continue
                yield make_finding(
                    MN_SPECIFIED_COMM,
                    f"packets {pair[0]} -> {pair[1]} on channel '{channel.id}' carry source MAC "
                    f"{mac}; the channel pins {', '.join(allowed)}",
                    f"例外 '{channel.id}' の通信 {pair[0]} → {pair[1]} の送信元MACが {mac}"
                    f"(登録は {', '.join(allowed)})",
                    Location(input_path, None, frame),
                    src=pair[0],
                    dst=pair[1],
                    evidence=SubjectEvidence(),
                    channel=channel.id,
                    fingerprint=subject_fingerprint(
                        MN_SPECIFIED_COMM, f"{channel.id} {pair[0]} {pair[1]} {mac}"
                    ),
                )
        mine = [p for p in seen_flows | set(unseen) if ends(p) is not None]
        missing = sum(unseen.get(p, 0) for p in mine)
        if mine and (not packets or missing):
            why = (
                "the input is a flow log, which holds no link-layer addresses"
                if not packets
                else f"{missing} of its packets carry no link-layer source address"
            )
            why_ja = (
                "入力がフローログでリンク層アドレスを含まない"
                if not packets
                else f"{missing} パケットに送信元のリンク層アドレスがない"
            )
            yield make_finding(
                MN_SPECIFIED_COMM,
                f"the MAC pins of channel '{channel.id}' ({pins}) were not checked in "
                f"{input_path}: {why}",
                f"例外 '{channel.id}' のMAC固定({pins})を {input_path} で確認できない: {why_ja}",
                Location(input_path),
                severity=Severity.INFO,
                evidence=SubjectEvidence(),
                channel=channel.id,
                fingerprint=subject_fingerprint(
                    MN_SPECIFIED_COMM, f"{channel.id} unchecked {input_path}"
                ),
            )
