"""The topology model: typed, immutable records shared by every analysis and formatter.

Nothing here does I/O or imports a heavy library. Addresses are kept as integers with their IP
version, so lookups and comparisons never go back through a parser.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from socket import inet_ntoa


class Tier(StrEnum):
    """The class a zone belongs to: three internal tiers and five external networks."""

    MYNUMBER = "mynumber"
    LGWAN = "lgwan"
    INTERNET = "internet"
    LGWAN_NETWORK = "lgwan-network"
    JUKINET = "jukinet"
    GOV_CLOUD = "gov-cloud"
    SECURITY_CLOUD = "security-cloud"
    PUBLIC_INTERNET = "public-internet"

    @property
    def short(self) -> str:
        """The two-letter key of spec §3's matrix (MN, LG, IN, ...); an extra tier's key."""
        return _TIER_SHORT.get(self) or self.value

    @property
    def internal(self) -> bool:
        """True for the municipality's own tiers: the three, and any extra one it declares."""
        return self in (Tier.MYNUMBER, Tier.LGWAN, Tier.INTERNET) or self.extra is not None

    @property
    def extra(self) -> ExtraTier | None:
        """What a topology declared of its extra tier (issue 17); None for the built-in ones."""
        info: ExtraTier | None = getattr(self, "_extra_info", None)
        return info

    @classmethod
    def declare_extra(cls, info: ExtraTier) -> Tier:
        """A site's extra internal tier (issue 17), as a member of its own: `is` and `==`
        behave as for the built-in tiers, `Tier(key)` finds the one declared last (reports),
        `parse_tier` never does. Each declaration is a new object carrying its row and column
        of the policy matrix, so two topologies declaring one name differently (a diff) keep
        their own."""
        member = str.__new__(cls, info.key)
        member._name_ = info.key.upper()
        member._value_ = info.key
        member._extra_info = info  # type: ignore[attr-defined]
        _EXTRA_TIERS[info.key] = member
        return member

    @classmethod
    def _missing_(cls, value: object) -> Tier | None:
        return _EXTRA_TIERS.get(value) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class ExtraTier:
    """A site's extra internal tier (e.g. 内部情報系 of a four-tier design, issue 17): its key,
    label and its row (`row`: to each tier, as initiator) and column (`column`: from each
    tier) of the policy matrix, as written: tier key -> cell ("allow", "sanitized",
    "channel" or "forbidden", optionally followed by the rule that fires)."""

    key: str
    label: str
    row: Mapping[str, str]
    column: Mapping[str, str]
    line: int | None = None


_EXTRA_TIERS: dict[str, Tier] = {}


_TIER_SHORT = {
    Tier.MYNUMBER: "MN",
    Tier.LGWAN: "LG",
    Tier.INTERNET: "IN",
    Tier.LGWAN_NETWORK: "LW",
    Tier.JUKINET: "JK",
    Tier.GOV_CLOUD: "GC",
    Tier.SECURITY_CLOUD: "SC",
    Tier.PUBLIC_INTERNET: "PI",
}

# spec §1: Japanese names accepted wherever a tier is written. 情報系 means `lgwan` only
# (domain.md §3.1: before 2015 it meant LGWAN + Internet; mapping it to Internet would be wrong).
TIER_ALIASES: Mapping[str, Tier] = {
    "マイナンバー利用事務系": Tier.MYNUMBER,
    "個人番号利用事務系": Tier.MYNUMBER,
    "基幹系": Tier.MYNUMBER,
    "マイナンバー系": Tier.MYNUMBER,
    "個人番号系": Tier.MYNUMBER,
    "LGWAN接続系": Tier.LGWAN,
    "総合行政ネットワーク接続系": Tier.LGWAN,
    "LGWAN系": Tier.LGWAN,
    "情報系": Tier.LGWAN,
    "インターネット接続系": Tier.INTERNET,
    "インターネット系": Tier.INTERNET,
    "総合行政ネットワーク": Tier.LGWAN_NETWORK,
    "住基ネット": Tier.JUKINET,
    "ガバメントクラウド": Tier.GOV_CLOUD,
    "自治体情報セキュリティクラウド": Tier.SECURITY_CLOUD,
    "インターネット": Tier.PUBLIC_INTERNET,
}


class _TierNames(dict[Tier, str]):
    """Japanese tier names; an extra tier is named by its label."""

    def __missing__(self, tier: Tier) -> str:
        info = tier.extra if isinstance(tier, Tier) else None
        if info is None:
            raise KeyError(tier)
        return info.label or info.key


TIER_NAMES_JA: Mapping[Tier, str] = _TierNames(
    {
        Tier.MYNUMBER: "マイナンバー利用事務系",
        Tier.LGWAN: "LGWAN接続系",
        Tier.INTERNET: "インターネット接続系",
        Tier.LGWAN_NETWORK: "総合行政ネットワーク",
        Tier.JUKINET: "住基ネット",
        Tier.GOV_CLOUD: "ガバメントクラウド",
        Tier.SECURITY_CLOUD: "自治体情報セキュリティクラウド",
        Tier.PUBLIC_INTERNET: "インターネット",
    }
)


def fold_tier_name(text: str) -> str:
    """A tier name as users write it, folded: full width (ＬＧＷＡＮ接続系), case, `_`, `-`
    and spaces do not matter, as with profiles."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch not in "-_" and not ch.isspace())


_TIERS_FOLDED: Mapping[str, Tier] = {
    **{fold_tier_name(alias): tier for alias, tier in TIER_ALIASES.items()},
    **{fold_tier_name(tier.value): tier for tier in Tier},
}


def parse_tier(text: str) -> Tier | None:
    """Return the tier named by an English key or a Japanese alias, or None."""
    builtin = Tier._value2member_map_.get(text)  # never a declared extra tier
    if isinstance(builtin, Tier):
        return builtin
    return TIER_ALIASES.get(text) or _TIERS_FOLDED.get(fold_tier_name(text))


class Role(StrEnum):
    """What a node does; decides whether it forwards, terminates or sanitizes."""

    TERMINAL = "terminal"
    SERVER = "server"
    ROUTER = "router"
    L3_SWITCH = "l3-switch"
    FIREWALL = "firewall"
    LBO_GATEWAY = "lbo-gateway"
    SCREEN_TRANSFER = "screen-transfer"
    MAIL_SANITIZER = "mail-sanitizer"
    FILE_SANITIZER = "file-sanitizer"
    JUKI_CS = "juki-cs"
    CLOUD_PROXY = "cloud-proxy"
    MAIL_RELAY = "mail-relay"
    DNS_RESOLVER = "dns-resolver"
    # rules version 2 (issue 17): endpoints that rules judge by their role
    ATENA = "atena"  # 団体内統合宛名システム (My Number tier)
    CHUKAN = "chukan"  # 中間サーバー (on LGWAN)
    UPDATE_SERVER = "update-server"  # 更新プログラム・パターン配信 (WSUS, AV)
    TELEWORK_GATEWAY = "telework-gateway"  # テレワーク中継 (LGWAN-ASP): screen transfer only

    @property
    def forwards(self) -> bool:
        """True for roles that carry traffic between their segments."""
        return self in FORWARDER_ROLES

    @property
    def gateway(self) -> bool:
        """True for endpoints that terminate a flow and re-originate it."""
        return self in GATEWAY_ROLES

    @property
    def sanitizing(self) -> bool:
        """True for the gateways that make an LGWAN/Internet crossing sanitized."""
        return self in SANITIZING_ROLES

    @property
    def judged_alone(self) -> bool:
        """True for roles a rule judges by: every such node is told apart from its zone's
        other addresses (gateways, and the endpoints of rules version 2)."""
        return self in GATEWAY_ROLES or self in ROLE_JUDGED_ENDPOINTS


# How Japanese reports name a role (the diagram, a bridging forwarder).
ROLE_NAMES_JA: Mapping[Role, str] = {
    Role.TERMINAL: "端末",
    Role.SERVER: "サーバ",
    Role.ROUTER: "ルータ",
    Role.L3_SWITCH: "L3スイッチ",
    Role.FIREWALL: "FW",
    Role.LBO_GATEWAY: "LBO装置",
    Role.SCREEN_TRANSFER: "画面転送",
    Role.MAIL_SANITIZER: "メール無害化",
    Role.FILE_SANITIZER: "ファイル無害化",
    Role.JUKI_CS: "住基CS",
    Role.CLOUD_PROXY: "クラウドプロキシ",
    Role.MAIL_RELAY: "メール中継",
    Role.DNS_RESOLVER: "DNS",
    Role.ATENA: "団体内統合宛名",
    Role.CHUKAN: "中間サーバー",
    Role.UPDATE_SERVER: "更新配信",
    Role.TELEWORK_GATEWAY: "テレワーク中継",
}


FORWARDER_ROLES = frozenset({Role.ROUTER, Role.L3_SWITCH, Role.FIREWALL, Role.LBO_GATEWAY})
SANITIZING_ROLES = frozenset({Role.SCREEN_TRANSFER, Role.MAIL_SANITIZER, Role.FILE_SANITIZER})
SECURITY_CLOUD_ROLES = frozenset({Role.CLOUD_PROXY, Role.MAIL_RELAY, Role.DNS_RESOLVER})
GATEWAY_ROLES = SANITIZING_ROLES | SECURITY_CLOUD_ROLES | {Role.JUKI_CS, Role.TELEWORK_GATEWAY}
ROLE_JUDGED_ENDPOINTS = frozenset({Role.ATENA, Role.CHUKAN, Role.UPDATE_SERVER})


class Profile(StrEnum):
    """The network model of the municipality (domain.md §4.5)."""

    ALPHA = "alpha"
    ALPHA_PRIME = "alpha-prime"
    BETA = "beta"
    BETA_PRIME = "beta-prime"


@dataclass(frozen=True, slots=True, order=True)
class IP:
    """One IPv4 or IPv6 address as (version, integer)."""

    version: int
    value: int

    def __str__(self) -> str:
        return _address_text(self.version, self.value)


@dataclass(frozen=True, slots=True, order=True)
class IPRange:
    """An inclusive range of addresses of one version (a CIDR or a single address)."""

    version: int
    first: int
    last: int

    @classmethod
    def single(cls, ip: IP) -> IPRange:
        """The range holding exactly one address."""
        return cls(ip.version, ip.value, ip.value)

    def contains(self, ip: IP) -> bool:
        """True when the address lies in this range."""
        return self.version == ip.version and self.first <= ip.value <= self.last

    def overlaps(self, other: IPRange) -> bool:
        """True when the two ranges share an address."""
        return (
            self.version == other.version and self.first <= other.last and other.first <= self.last
        )

    @property
    def size(self) -> int:
        """Number of addresses in the range."""
        return self.last - self.first + 1

    def __str__(self) -> str:
        first = _address_text(self.version, self.first)
        if self.first == self.last:
            return first
        size = self.last - self.first + 1
        if size & (size - 1) == 0 and self.first % size == 0:
            bits = 32 if self.version == 4 else 128
            return f"{first}/{bits - size.bit_length() + 1}"
        return f"{first}-{_address_text(self.version, self.last)}"


def _address_text(version: int, value: int) -> str:
    """An address as ipaddress writes it; IPv4 through inet_ntoa (the same dotted quad, ten
    times faster: an imported rule base prints hundreds of thousands of addresses)."""
    if version == 4 and 0 <= value <= 0xFFFFFFFF:
        return inet_ntoa(value.to_bytes(4, "big"))
    if version == 4:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value))


ANY_SERVICE = "any"


@dataclass(frozen=True, slots=True)
class Service:
    """A named service: TCP and UDP ports, or ICMP; `any` matches everything."""

    name: str
    tcp: frozenset[int] = frozenset()
    udp: frozenset[int] = frozenset()
    icmp: bool = False
    line: int | None = None

    def matches(self, proto: str, port: int) -> bool:
        """True when a flow of this protocol to this responder port is this service."""
        if self.name == ANY_SERVICE:
            return True
        if proto == "tcp":
            return port in self.tcp
        if proto == "udp":
            return port in self.udp
        if proto in ("icmp", "icmpv6"):
            return self.icmp
        return False


class SelectorKind(StrEnum):
    """What a permit or channel endpoint names."""

    ANY = "any"
    ZONE = "zone"
    NODE = "node"
    CIDR = "cidr"


@dataclass(frozen=True, slots=True)
class Selector:
    """A permit's or channel's `from` / `to`: a zone, a node, a CIDR or `any`, resolved."""

    kind: SelectorKind
    name: str
    ranges: tuple[IPRange, ...] = ()

    def matches(self, ip: IP) -> bool:
        """True when the address is selected."""
        if self.kind is SelectorKind.ANY:
            return True
        return any(r.contains(ip) for r in self.ranges)

    @property
    def is_single_host(self) -> bool:
        """True when the selector names exactly one host (pinned, as 特定通信 requires)."""
        if self.kind is SelectorKind.NODE:
            return True
        return self.kind is SelectorKind.CIDR and len(self.ranges) == 1 and self.ranges[0].size == 1

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Permit:
    """One rule of a filtering forwarder: traffic it lets through (stateful)."""

    id: str
    owner: str
    source: Selector
    destination: Selector
    services: tuple[str, ...]
    line: int | None = None
    # Imported from a firewall configuration: the file the line refers to (as given, relative to
    # the working directory), an XPath where the format has one, the device's rule name, and
    # the assumptions the import took (unresolvable objects, NAT, App-ID; see loaders/configs).
    file: str | None = None
    xpath: str | None = None
    name: str | None = None
    assumptions: tuple[str, ...] = ()

    @property
    def any_service(self) -> bool:
        """True when the permit does not restrict the service."""
        return ANY_SERVICE in self.services


@dataclass(frozen=True, slots=True)
class Zone:
    """A named set of subnets in one tier."""

    name: str
    tier: Tier
    subnets: tuple[IPRange, ...]
    label: str | None = None
    line: int | None = None
    builtin: bool = False


PUBLIC_INTERNET_ZONE = Zone("public-internet", Tier.PUBLIC_INTERNET, (), builtin=True)


@dataclass(frozen=True, slots=True)
class Node:
    """A host or device with one or more addresses."""

    name: str
    role: Role
    addresses: tuple[IP, ...]
    label: str | None = None
    line: int | None = None
    permits: tuple[Permit, ...] | None = None
    allow_destinations: tuple[IPRange, ...] = ()
    accepts: tuple[str, ...] = ()
    delivers: tuple[str, ...] = ()
    settings: Mapping[str, bool | str] = field(default_factory=dict)
    # update-server (issue 17): where it takes updates from (`offline: true` in settings: media)
    upstream: tuple[Selector, ...] = ()

    @property
    def filtering(self) -> bool:
        """True for forwarders that pass only what they allow (not a plain router)."""
        if self.role in (Role.FIREWALL, Role.LBO_GATEWAY):
            return True
        return self.role.forwards and self.permits is not None


@dataclass(frozen=True, slots=True)
class Link:
    """An explicit adjacency between two nodes, or a node and a zone."""

    a: str
    b: str
    line: int | None = None

    @property
    def name(self) -> str:
        """How remediation names the link."""
        return f"{self.a}--{self.b}"


@dataclass(frozen=True, slots=True)
class Channel:
    """A declared, approved exception (特定通信 and the like)."""

    id: str
    source: Selector
    destination: Selector
    services: tuple[str, ...]
    reason: str
    approved_by: str | None = None
    ticket: str | None = None
    expires: date | None = None
    line: int | None = None
    # MAC pinning (issue 17; the guideline pins 特定通信 by IP and MAC): the link-layer source
    # addresses each end's packets may carry where they are captured, lower-case xx:xx:...
    from_macs: tuple[str, ...] = ()
    to_macs: tuple[str, ...] = ()

    @property
    def mac_pinned(self) -> bool:
        """True when the channel pins either end's MAC address."""
        return bool(self.from_macs or self.to_macs)

    def expired(self, today: date) -> bool:
        """True when the channel is past its expiry date and so covers nothing."""
        return self.expires is not None and self.expires < today


@dataclass(frozen=True, slots=True)
class InputFile:
    """An input identified for the auditor: its path as given and its SHA-256."""

    path: str
    kind: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What importing one firewall configuration for one node gave (the import status report)."""

    node: str
    input: InputFile
    format: str
    context: str
    status: str  # passed, partly-recognised, failed
    permits: int  # accept rules that still allow something
    disabled: tuple[str, ...] = ()  # rule ids skipped because disabled
    shadowed: tuple[str, ...] = ()  # accept rules fully covered by earlier denies
    unrecognised: tuple[str, ...] = ()  # "file:line: text" of what the parser did not take
    undefined: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # NAT/VIP, unknown interfaces, other parser warnings
    assumptions: Mapping[str, int] = field(default_factory=dict)  # assumption -> rule count
    # accept rules matching no address behind their interfaces/zones (no deny is the cause)
    matches_nothing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    """A loaded, validated topology. Mappings are keyed by name and must not be mutated."""

    source: InputFile
    name: str
    profile: Profile
    zones: Mapping[str, Zone]
    services: Mapping[str, Service]
    nodes: Mapping[str, Node]
    links: tuple[Link, ...]
    channels: tuple[Channel, ...]
    imports: tuple[ImportSummary, ...] = ()  # firewall configurations read for permits
    # profile settings (rules/settings.py), as the topology gives them: absent keys take defaults
    settings: Mapping[str, bool | str | tuple[str, ...]] = field(default_factory=dict)
    # extra internal tiers the topology declares (`tiers:`, issue 17), in declaration order
    extra_tiers: tuple[Tier, ...] = ()
    # the edition of the 総務省 guideline the site follows (`guideline:`), e.g. 令和6年10月版
    guideline: str | None = None

    @property
    def inputs(self) -> tuple[InputFile, ...]:
        """The topology and every configuration it imports, each once, in reading order."""
        seen: dict[str, InputFile] = {self.source.path: self.source}
        for item in self.imports:
            seen.setdefault(item.input.path, item.input)
        return tuple(seen.values())

    def zone_tier(self, zone_name: str) -> Tier:
        """The tier of a zone, the built-in public Internet included."""
        if zone_name == PUBLIC_INTERNET_ZONE.name:
            return Tier.PUBLIC_INTERNET
        return self.zones[zone_name].tier


# Characters XML 1.0 cannot carry, even escaped (SVG, SARIF viewers, JUnit): the loader refuses
# them in every name and text of a topology, and JUnit replaces any that reach it from packets.
# XML 1.0's Char production, negated: the code points outside it (compiled in ~0.4 ms; the
# same class written as the allowed ranges takes ~5 ms at every start-up)
NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """The text with characters XML 1.0 forbids replaced by U+FFFD."""
    return NOT_XML_TEXT.sub("\ufffd", text)
