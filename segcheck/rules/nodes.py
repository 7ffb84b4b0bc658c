"""Rules about one node's own role, addresses and settings (docs/spec.md §3), one function each.

Each rule is a function `(node, tiers, topology) -> Iterator[Violation]`, tied to its rule id by
`@node_rule` and listed in `NODE_RULES`; `node_findings` runs them node by node, in that order,
and stamps each violation with the rule's id, severity, the node's line and a fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..addressing import AddressMap
from ..findings import Finding, Location, RuleId, Severity, SubjectEvidence, subject_fingerprint
from ..model import ROLE_NAMES_JA, TIER_NAMES_JA, IPRange, Node, Profile, Role, Tier, Topology
from ..policy import CellKind, cell, compensated
from ..settings import SETTINGS_BY_KEY, setting
from .base import Violation, make_finding
from .editions import ALPHA_PRIME_SINCE, at_least
from .ids import (
    GEN_NO_BRIDGING,
    INET_LOCAL_BREAKOUT,
    LG_INET_SANITIZED,
    LG_LGWAN_ONLY_UPLINK,
    LG_NO_INTERNET,
    LG_TELEWORK,
    LG_UPDATE_DIST,
    MN_JUKI_CS,
    MN_PHYSICAL_SEPARATION,
    MN_TERMINAL_CONTROLS,
    MN_UPDATE_DIST,
    MODEL_BETA_CONDITIONS,
)

NodeCheck = Callable[[Node, Sequence[Tier], Topology], Iterator[Violation]]


@dataclass(frozen=True, slots=True)
class NodeRule:
    """A node check and the rule it enforces."""

    rule: RuleId
    check: NodeCheck


def node_rule(rule: RuleId) -> Callable[[NodeCheck], NodeRule]:
    """Tie a node check to its rule id (it still has to be listed in `NODE_RULES`)."""

    def register(check: NodeCheck) -> NodeRule:
        return NodeRule(rule, check)

    return register


@node_rule(GEN_NO_BRIDGING)
def no_bridging(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """An endpoint (neither forwarder nor gateway) with addresses in two tiers bridges them."""
    if len(tiers) > 1 and not node.role.forwards and not node.role.gateway:
        names = ", ".join(t.value for t in tiers)
        yield Violation(
            f"node '{node.name}' ({node.role.value}) has addresses in several tiers: {names}",
            f"ノード '{node.name}'({node.role.value})が複数の系にアドレスを持つ: {names}",
        )


@node_rule(MN_TERMINAL_CONTROLS)
def terminal_controls(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """A My Number terminal needs device control (`usb_block`) and multi-factor auth (`mfa`)."""
    if node.role is not Role.TERMINAL or Tier.MYNUMBER not in tiers:
        return
    missing = [k for k in ("usb_block", "mfa") if node.settings.get(k) is not True]
    if missing:
        yield Violation(
            f"My Number terminal '{node.name}' lacks {' and '.join(missing)}",
            f"マイナンバー利用事務系端末 '{node.name}' に {'・'.join(missing)} がない",
        )


@node_rule(MODEL_BETA_CONDITIONS)
def beta_edr(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """Under beta and beta-prime, every Internet tier terminal needs EDR (`edr: true`)."""
    if (
        node.role is Role.TERMINAL
        and Tier.INTERNET in tiers
        and topology.profile in (Profile.BETA, Profile.BETA_PRIME)
        and node.settings.get("edr") is not True
    ):
        yield Violation(
            f"Internet tier terminal '{node.name}' has no EDR (edr: true), required under "
            f"the {topology.profile.value} model",
            f"インターネット接続系端末 '{node.name}' にEDR(edr: true)がない"
            f"({topology.profile.value}モデルの条件)",
        )


@node_rule(LG_INET_SANITIZED)
def screen_transfer(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """A screen-transfer gateway with clipboard, drive or printer redirection carries data."""
    if node.role is not Role.SCREEN_TRANSFER:
        return
    redirects = ("clipboard", "drive_redirect", "printer_redirect")
    on = [k for k in redirects if node.settings.get(k) is True]
    if on:
        yield Violation(
            f"screen-transfer gateway '{node.name}' has {', '.join(on)} on",
            f"画面転送 '{node.name}' で {'・'.join(on)} が有効",
        )


@node_rule(LG_INET_SANITIZED)
def mail_sanitizer(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """A mail sanitizer must turn HTML into text and have an attachments policy."""
    if node.role is not Role.MAIL_SANITIZER:
        return
    lacks = []
    if node.settings.get("html_to_text") is not True:
        lacks.append("html_to_text")
    if "attachments" not in node.settings:
        lacks.append("attachments policy")
    if lacks:
        yield Violation(
            f"mail sanitizer '{node.name}' lacks {' and '.join(lacks)}",
            f"メール無害化 '{node.name}' に {'・'.join(lacks)} の設定がない",
        )


@node_rule(LG_NO_INTERNET)
def local_breakout(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """An lbo-gateway is α′'s local breakout: under any other profile it is itself the finding
    (spec §1, amended by issue 12), whatever the cells of the paths through it say."""
    before = not at_least(topology.guideline, ALPHA_PRIME_SINCE)
    if _compensated_breakout(node, tiers, topology):
        return  # INET-LOCAL-BREAKOUT's: the Internet tier's, with its controls declared
    if node.role is Role.LBO_GATEWAY and before and topology.profile is Profile.ALPHA_PRIME:
        yield Violation(
            f"lbo-gateway '{node.name}' breaks out to the Internet locally, which the guideline "
            f"allows from {ALPHA_PRIME_SINCE} (α′); the topology follows {topology.guideline}",
            f"lbo-gateway '{node.name}' はインターネットへのローカルブレイクアウトであり、"
            f"{ALPHA_PRIME_SINCE}より前の版({topology.guideline})では認められない",
        )
    elif node.role is Role.LBO_GATEWAY and topology.profile is not Profile.ALPHA_PRIME:
        profile = topology.profile.value
        yield Violation(
            f"lbo-gateway '{node.name}' breaks out to the Internet locally, which only the "
            f"alpha-prime model allows (profile {profile})",
            f"lbo-gateway '{node.name}' はインターネットへのローカルブレイクアウトであり、"
            f"α′モデル以外では認められない(モデル {profile})",
        )


def _compensated_breakout(node: Node, tiers: Sequence[Tier], topology: Topology) -> bool:
    """An lbo-gateway of the Internet tier (not the LGWAN tier's) under declared controls."""
    return (
        node.role is Role.LBO_GATEWAY
        and Tier.INTERNET in tiers
        and Tier.LGWAN not in tiers
        and compensated(topology)
    )


@node_rule(INET_LOCAL_BREAKOUT)
def inet_breakout(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """An lbo-gateway of the Internet tier under the setting `inet_breakout_controls`
    declaring every compensating control (domain.md §9 Q3): the breakout past the security
    cloud is accepted as a warning that names its destinations and the controls, so that the
    report says what the acceptance rests on."""
    if not _compensated_breakout(node, tiers, topology):
        return
    to = ", ".join(map(str, node.allow_destinations)) or "none"
    controls = setting(topology.settings, "inet_breakout_controls")
    assert isinstance(controls, tuple)
    named = ", ".join(controls)
    named_ja = "・".join(SETTINGS_BY_KEY["inet_breakout_controls"].values_ja[c] for c in controls)
    yield Violation(
        f"lbo-gateway '{node.name}' breaks out of the Internet tier past the security cloud "
        f"to {to}, accepted with the compensating controls declared ({named})",
        f"LBO装置 '{node.name}' はセキュリティクラウドを経由せずインターネット接続系から "
        f"{to} へ接続する(宣言された補完的対策: {named_ja})",
    )


def segment_neighbours(node: Node, topology: Topology) -> dict[IPRange, list[Node]]:
    """Per subnet holding one of the node's addresses, the other nodes on it (an address in
    the subnet, or a `links:` entry joining them or joining the node to the subnet's zone)."""
    joined = {
        (link.b if link.a == node.name else link.a)
        for link in topology.links
        if node.name in (link.a, link.b)
    }
    out: dict[IPRange, list[Node]] = {}
    for zone in topology.zones.values():
        for subnet in zone.subnets:
            if not (any(subnet.contains(ip) for ip in node.addresses) or zone.name in joined):
                continue
            out[subnet] = [
                other
                for other in topology.nodes.values()
                if other is not node
                and (other.name in joined or any(subnet.contains(ip) for ip in other.addresses))
            ]
    return out


@node_rule(MN_JUKI_CS)
def juki_cs_firewalls(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """The 住基CS has a firewall on each side: every other node on a segment of either leg is a
    filtering forwarder, so nothing reaches the CS, or 住基ネット through it, unfiltered."""
    if node.role is not Role.JUKI_CS:
        return
    open_en: list[str] = []
    open_ja: list[str] = []
    for subnet, others in segment_neighbours(node, topology).items():
        loose = [o for o in others if not (o.role.forwards and o.filtering)]
        if not loose:
            continue
        tier = next(z.tier for z in topology.zones.values() if subnet in z.subnets)
        names = ", ".join(f"{o.name} ({o.role.value})" for o in loose)
        open_en.append(f"{subnet} ({tier.value}) with {names}")
        open_ja.append(f"{subnet}({TIER_NAMES_JA[tier]})に {names}")
    if open_en:
        yield Violation(
            f"juki-cs '{node.name}' shares a segment with nodes that are not firewalls, so no "
            f"firewall stands on that side of the CS: {'; '.join(open_en)}",
            f"住基CS '{node.name}' のセグメントにファイアウォール以外の機器があり、CSのその側に"
            f"FWがない: {'; '.join(open_ja)}",
            Severity.WARNING,
        )


def attached_tiers(node: Node, tiers: Sequence[Tier], topology: Topology) -> list[Tier]:
    """The tiers a node reaches directly: its addresses', and over `links:` a linked zone's or
    a linked node's addresses' tiers (a router cabled to an ISP's router has an uplink)."""
    out = list(tiers)
    for link in topology.links:
        if node.name not in (link.a, link.b):
            continue
        other = link.b if link.a == node.name else link.a
        found: list[Tier] = []
        if other in topology.zones:
            found.append(topology.zones[other].tier)
        elif other in topology.nodes:
            for ip in topology.nodes[other].addresses:
                zoned = [
                    z.tier
                    for z in topology.zones.values()
                    if any(subnet.contains(ip) for subnet in z.subnets)
                ]
                # a node address in no zone is global (the loader refuses any other)
                found.extend(zoned or [Tier.PUBLIC_INTERNET])
        out.extend(t for t in found if t not in out)
    return out


_UPLINK_TIERS = (Tier.GOV_CLOUD, Tier.JUKINET, Tier.SECURITY_CLOUD, Tier.PUBLIC_INTERNET)


@node_rule(LG_LGWAN_ONLY_UPLINK)
def lgwan_only_uplink(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """The LGWAN tier's only uplink is the LGWAN: a forwarder or gateway joining it to another
    external network is an uplink of its own, whatever its permits pass today. A government
    cloud link through a filtering forwarder is allowed (setting `lgwan_gov_cloud_link`), and
    so is a filtering forwarder's leg that another internal tier on it may use (a core
    firewall's security-cloud line serves the Internet tier); an lbo-gateway is α′'s
    breakout, judged by LG-NO-INTERNET."""
    if not (node.role.forwards or node.role.gateway) or node.role is Role.LBO_GATEWAY:
        return
    reached = attached_tiers(node, tiers, topology)
    if Tier.LGWAN not in reached:
        return
    extra = [t for t in _UPLINK_TIERS if t in reached]
    if node.filtering:
        # A core firewall serving several tiers: an external leg that another internal tier on
        # it may use (the Internet tier's security cloud line) is that tier's uplink.
        others = [t for t in reached if t.internal and t is not Tier.LGWAN]
        extra = [t for t in extra if all(cell(o, t).kind is CellKind.FORBIDDEN for o in others)]
    if (
        Tier.GOV_CLOUD in extra
        and node.filtering
        and setting(topology.settings, "lgwan_gov_cloud_link") == "filtered"
    ):
        extra.remove(Tier.GOV_CLOUD)
    if extra:
        names = ", ".join(t.value for t in extra)
        names_ja = "・".join(TIER_NAMES_JA[t] for t in extra)
        yield Violation(
            f"{node.role.value} '{node.name}' joins the LGWAN tier to {names}: the LGWAN tier's "
            "only external uplink is the LGWAN",
            f"{node.role.value} '{node.name}' がLGWAN接続系を{names_ja}に接続している"
            "(LGWAN接続系の外部接続はLGWANのみ)",
        )


@node_rule(MN_PHYSICAL_SEPARATION)
def shared_with_my_number(
    node: Node, tiers: Sequence[Tier], topology: Topology
) -> Iterator[Violation]:
    """A router or L3 switch with permits (ACLs) attached to the My Number tier and another
    internal tier: the tiers share the device and are separated only logically (VLANs, VRFs,
    ACLs), where physical separation gives the tier its own switches and meets the others at
    a firewall (domain.md §9 Q1). One that filters nothing separates nothing: its paths are
    MN-ISOLATION's. A warning unless the setting `mn_separation` asks for physical."""
    if not node.role.forwards or not node.filtering or node.role is Role.FIREWALL:
        return
    reached = attached_tiers(node, tiers, topology)
    others = [t for t in reached if t.internal and t is not Tier.MYNUMBER]
    if Tier.MYNUMBER not in reached or not others:
        return
    physical = setting(topology.settings, "mn_separation") == "physical"
    names = ", ".join(t.value for t in others)
    names_ja = "・".join(TIER_NAMES_JA[t] for t in others)
    yield Violation(
        f"{node.role.value} '{node.name}' is shared by the My Number tier and {names}: the "
        "tiers are separated only logically (VLANs, VRFs or ACLs on one device)"
        + ("; mn_separation: physical asks for the tier's own switches" if physical else ""),
        f"{ROLE_NAMES_JA[node.role]} '{node.name}' をマイナンバー利用事務系と{names_ja}が共用して"
        "いる(1台の装置上のVLAN・VRF・ACLによる論理分離)"
        + ("。設定 mn_separation: physical により専用の機器が必要" if physical else ""),
        None if physical else Severity.WARNING,
    )


def range_tiers(ranges: Sequence[IPRange], topology: Topology) -> set[Tier]:
    """Tiers of the zones the ranges overlap; the public Internet for a range in none."""
    out: set[Tier] = set()
    for rng in ranges:
        zoned = {z.tier for z in topology.zones.values() if any(rng.overlaps(n) for n in z.subnets)}
        out |= zoned or {Tier.PUBLIC_INTERNET}
    return out


_UPDATE_RULES = {Tier.MYNUMBER: MN_UPDATE_DIST, Tier.LGWAN: LG_UPDATE_DIST}
# Where an update server of a tier may take updates from (besides its own tier and media).
_UPSTREAM_OK = {
    Tier.MYNUMBER: {Tier.LGWAN, Tier.LGWAN_NETWORK},
    Tier.LGWAN: {Tier.LGWAN_NETWORK, Tier.INTERNET},  # the Internet tier: a pinned channel
}


def _update_server_problems(node: Node, tier: Tier, topology: Topology) -> list[str]:
    if not node.upstream and node.settings.get("offline_updates") is not True:
        return ["declares no upstream (a node, an address, or offline)"]
    bad = []
    for upstream in node.upstream:
        tiers = range_tiers(upstream.ranges, topology) - {tier}
        wrong = sorted(t.value for t in tiers - _UPSTREAM_OK[tier])
        if wrong:
            bad.append(f"upstream '{upstream.name}' is in {', '.join(wrong)}")
        elif Tier.INTERNET in tiers and not any(
            c.source.name == node.name
            and c.destination.is_single_host
            and set(c.destination.ranges) <= set(upstream.ranges)
            for c in topology.channels
        ):
            bad.append(
                f"upstream '{upstream.name}' is in the Internet tier without a pinned channel "
                "from the update server to it"
            )
    return bad


@node_rule(MN_UPDATE_DIST)
def mn_update_server(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """A My Number tier update server takes updates from a declared upstream in the LGWAN
    tier or on LGWAN (or offline media), never from an Internet-connected network."""
    yield from _update_server(node, tiers, topology, Tier.MYNUMBER)


@node_rule(LG_UPDATE_DIST)
def lg_update_server(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """An LGWAN tier update server takes updates from a declared upstream on LGWAN (LGWAN-ASP,
    the national platform), or from an Internet-tier server over a pinned channel."""
    yield from _update_server(node, tiers, topology, Tier.LGWAN)


def _update_server(
    node: Node, tiers: Sequence[Tier], topology: Topology, tier: Tier
) -> Iterator[Violation]:
    if node.role is not Role.UPDATE_SERVER or tier not in tiers:
        return
    problems = _update_server_problems(node, tier, topology)
    if problems:
        yield Violation(
            f"update server '{node.name}' ({tier.value}): {'; '.join(problems)}",
            f"更新配信サーバ '{node.name}'({TIER_NAMES_JA[tier]})の取得元に問題がある: "
            f"{'; '.join(problems)}",
        )


@node_rule(LG_TELEWORK)
def telework_gateway(node: Node, tiers: Sequence[Tier], topology: Topology) -> Iterator[Violation]:
    """A telework gateway gives screen transfer only: clipboard, drive and printer redirection
    off, multi-factor authentication on, and it stands on LGWAN or in the LGWAN tier (an
    LGWAN-ASP service, as the IPA 自治体テレワークシステム)."""
    if node.role is not Role.TELEWORK_GATEWAY:
        return
    lacks = [k for k in ("clipboard", "drive_redirect", "printer_redirect") if node.settings.get(k)]
    problems = [f"{k} on" for k in lacks]
    if node.settings.get("mfa") is not True:
        problems.append("no mfa")
    elsewhere = [t.value for t in tiers if t not in (Tier.LGWAN, Tier.LGWAN_NETWORK)]
    if elsewhere:
        problems.append(f"stands in {', '.join(elsewhere)}, not on LGWAN or in the LGWAN tier")
    if problems:
        yield Violation(
            f"telework gateway '{node.name}': {'; '.join(problems)} (screen transfer only, "
            "with multi-factor authentication)",
            f"テレワーク中継 '{node.name}' の設定に問題がある: {'; '.join(problems)}"
            "(画面転送のみ・多要素認証が必要)",
        )


NODE_RULES: tuple[NodeRule, ...] = (
    no_bridging,
    terminal_controls,
    beta_edr,
    screen_transfer,
    mail_sanitizer,
    local_breakout,
    inet_breakout,
    juki_cs_firewalls,
    lgwan_only_uplink,
    shared_with_my_number,
    mn_update_server,
    lg_update_server,
    telework_gateway,
)
"""Every node rule, in the order a node's findings are produced."""


def node_tiers(node: Node, addresses: AddressMap) -> list[Tier]:
    """The distinct tiers of a node's addresses, in a stable order."""
    tiers: list[Tier] = []
    for ip in node.addresses:
        tier = addresses.lookup(ip).tier
        if tier is not None and tier not in tiers:
            tiers.append(tier)
    return tiers


def node_findings(topology: Topology, addresses: AddressMap) -> Iterator[Finding]:
    """Findings about each node's own role, addresses and settings."""
    for node in topology.nodes.values():
        tiers = node_tiers(node, addresses)
        for rule in NODE_RULES:
            for violation in rule.check(node, tiers, topology):
                yield make_finding(
                    rule.rule,
                    violation.message,
                    violation.message_ja,
                    Location(topology.source.path, node.line),
                    severity=violation.severity,
                    src=node.name,
                    evidence=SubjectEvidence(node.name),
                    fingerprint=subject_fingerprint(rule.rule, node.name),
                )
