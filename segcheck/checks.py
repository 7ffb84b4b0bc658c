"""Rules about one node's own settings or one channel, not about paths (spec §3).

GEN-NO-BRIDGING, MN-TERMINAL-CONTROLS, LG-INET-SANITIZED, MODEL-BETA-CONDITIONS,
GEN-EXCEPTION-EXPIRED, and the channel side of MN-SPECIFIED-COMM and MN-NO-INTERNET.
"""

from __future__ import annotations

from collections.abc import Iterator

from .addressing import AddressMap, Scope
from .findings import Finding, Location, make_finding, subject_fingerprint
from .model import ANY_SERVICE, IP, Channel, IPRange, Node, Profile, Role, Selector, Tier, Topology
from .policy import Policy

_MN_FORBIDDEN = {Tier.INTERNET, Tier.SECURITY_CLOUD, Tier.PUBLIC_INTERNET}


def node_tiers(node: Node, addresses: AddressMap) -> list[Tier]:
    """The distinct tiers of a node's addresses, in a stable order."""
    tiers: list[Tier] = []
    for ip in node.addresses:
        tier = addresses.lookup(ip).tier
        if tier is not None and tier not in tiers:
            tiers.append(tier)
    return tiers


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


def _node_finding(topology: Topology, rule: str, node: Node, en: str, ja: str) -> Finding:
    return make_finding(
        rule,
        en,
        ja,
        Location(topology.source.path, node.line),
        node=node.name,
        src=node.name,
        fingerprint=subject_fingerprint(rule, node.name),
    )


def _channel_finding(
    topology: Topology, rule: str, channel: Channel, en: str, ja: str, **extra: object
) -> Finding:
    return make_finding(
        rule,
        en,
        ja,
        Location(topology.source.path, channel.line),
        channel=channel.id,
        src=channel.source.name,
        dst=channel.destination.name,
        service=",".join(channel.services),
        fingerprint=subject_fingerprint(rule, channel.id),
        **extra,
    )


def node_findings(topology: Topology, addresses: AddressMap) -> Iterator[Finding]:
    """Findings about each node's own role, addresses and settings."""
    for node in topology.nodes.values():
        tiers = node_tiers(node, addresses)
        if len(tiers) > 1 and not node.role.forwards and not node.role.gateway:
            names = ", ".join(t.value for t in tiers)
            yield _node_finding(
                topology,
                "GEN-NO-BRIDGING",
                node,
                f"node '{node.name}' ({node.role.value}) has addresses in several tiers: {names}",
                f"ノード '{node.name}'({node.role.value})が複数の系にアドレスを持つ: {names}",
            )
        settings = node.settings
        if node.role is Role.TERMINAL and Tier.MYNUMBER in tiers:
            missing = [k for k in ("usb_block", "mfa") if settings.get(k) is not True]
            if missing:
                yield _node_finding(
                    topology,
                    "MN-TERMINAL-CONTROLS",
                    node,
                    f"My Number terminal '{node.name}' lacks {' and '.join(missing)}",
                    f"マイナンバー利用事務系端末 '{node.name}' に {'・'.join(missing)} がない",
                )
        if (
            node.role is Role.TERMINAL
            and Tier.INTERNET in tiers
            and topology.profile in (Profile.BETA, Profile.BETA_PRIME)
            and settings.get("edr") is not True
        ):
            yield _node_finding(
                topology,
                "MODEL-BETA-CONDITIONS",
                node,
                f"Internet tier terminal '{node.name}' has no EDR (edr: true), required under "
                f"the {topology.profile.value} model",
                f"インターネット接続系端末 '{node.name}' にEDR(edr: true)がない"
                f"({topology.profile.value}モデルの条件)",
            )
        if node.role is Role.SCREEN_TRANSFER:
            on = [
                k
                for k in ("clipboard", "drive_redirect", "printer_redirect")
                if settings.get(k) is True
            ]
            if on:
                yield _node_finding(
                    topology,
                    "LG-INET-SANITIZED",
                    node,
                    f"screen-transfer gateway '{node.name}' has {', '.join(on)} on",
                    f"画面転送 '{node.name}' で {'・'.join(on)} が有効",
                )
        if node.role is Role.MAIL_SANITIZER:
            lacks = []
            if settings.get("html_to_text") is not True:
                lacks.append("html_to_text")
            if "attachments" not in settings:
                lacks.append("attachments policy")
            if lacks:
                yield _node_finding(
                    topology,
                    "LG-INET-SANITIZED",
                    node,
                    f"mail sanitizer '{node.name}' lacks {' and '.join(lacks)}",
                    f"メール無害化 '{node.name}' に {'・'.join(lacks)} の設定がない",
                )


def channel_findings(policy: Policy, addresses: AddressMap) -> Iterator[Finding]:
    """Findings about the channel register itself."""
    topology = policy.topology
    for channel in topology.channels:
        if channel.expired(policy.today):
            yield _channel_finding(
                topology,
                "GEN-EXCEPTION-EXPIRED",
                channel,
                f"channel '{channel.id}' expired on {channel.expires} and covers nothing",
                f"例外 '{channel.id}' は {channel.expires} に期限切れで、何も許可しない",
            )
        src_tiers = selector_tiers(channel.source, topology, addresses)
        dst_tiers = selector_tiers(channel.destination, topology, addresses)
        ends = src_tiers | dst_tiers
        if Tier.MYNUMBER in ends and ends & _MN_FORBIDDEN:
            yield _channel_finding(
                topology,
                "MN-NO-INTERNET",
                channel,
                f"channel '{channel.id}' tries to open the My Number tier to an "
                "Internet-connected network; no channel can cover that",
                f"例外 '{channel.id}' はマイナンバー利用事務系とインターネット接続環境の通信を"
                "許可しようとしている(例外でも許可できない)",
            )
        elif Tier.MYNUMBER in ends and ends != {Tier.MYNUMBER}:
            loose = [
                f"{side} '{sel.name}' is wider than one host"
                for side, sel in (("from", channel.source), ("to", channel.destination))
                if not sel.is_single_host
            ]
            if ANY_SERVICE in channel.services:
                loose.append("service is 'any'")
            if loose:
                yield _channel_finding(
                    topology,
                    "MN-SPECIFIED-COMM",
                    channel,
                    f"channel '{channel.id}' touches the My Number tier but is not pinned: "
                    + "; ".join(loose),
                    f"例外 '{channel.id}' はマイナンバー利用事務系に関わるが限定されていない: "
                    + "; ".join(loose),
                )
