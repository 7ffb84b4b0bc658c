"""Profile settings: the points domain.md §9 leaves open, each with the default it recommends.

A topology may set them under `settings:` (spec §2); a setting it does not name takes its
default. Each setting names the open question it answers and the rules it changes, so that an
auditor can see which reading of the sources a result depends on. Part of the model's
vocabulary: the loader validates against it and the rules read it; it imports nothing of
segcheck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SettingValue = bool | str | tuple[str, ...]

# The compensating controls domain.md asks of a local breakout (§4.5, α′'s declarations; §4.4
# and §9 Q3 ask the same of the Internet tier's): TLS inspection, with it tenant restriction,
# logging, and malware scanning of files taken from the cloud. The destination allow-list is
# the lbo-gateway's own `allow_destinations`.
INET_BREAKOUT_CONTROLS = ("tls_inspection", "tenant_restriction", "logging", "malware_scanning")


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its key, default, allowed values and what it decides."""

    key: str
    default: SettingValue
    allowed: tuple[SettingValue, ...]
    question: str  # the open question of domain.md §9 it answers ("Q6")
    rules: tuple[str, ...]  # ids of the rules whose judgement it changes
    doc_en: str
    doc_ja: str
    values_ja: Mapping[str, str]  # each allowed value as Japanese reports say it
    multiple: bool = False  # the value is a list of allowed items (kept in `allowed`'s order)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="lgwan_gov_cloud_link",
        default="filtered",
        allowed=("filtered", "forbidden"),
        question="Q6",
        rules=("LG-LGWAN-ONLY-UPLINK",),
        doc_en="Whether the LGWAN tier may have its own uplink to the government cloud: "
        "`filtered` (default: through a forwarder with permits, the declared link of "
        "domain.md §4.3) or `forbidden` (the LGWAN tier's only uplink is the LGWAN router).",
        doc_ja="LGWAN接続系がガバメントクラウドへの接続を持てるか: filtered(既定。許可ルールを持つ"
        "転送装置経由なら可)、forbidden(LGWAN接続ルータ以外の外部接続を認めない)。",
        values_ja={"filtered": "許可ルールのある装置経由なら可", "forbidden": "不可"},
    ),
    Setting(
        key="channel_mac_pinning",
        default="optional",
        allowed=("optional", "required"),
        question="§4.2 MN-SPECIFIED-COMM",
        rules=("MN-SPECIFIED-COMM",),
        doc_en="Whether a channel touching the My Number tier must pin its ends' MAC addresses "
        "(`from_mac`, `to_mac`): `optional` (default: pinned by address, service and "
        "direction; MACs checked in captures where given) or `required` (the guideline's "
        "pinning by IP and MAC where the path is L2-restricted).",
        doc_ja="マイナンバー利用事務系に関わる特定通信でMACアドレスの固定(from_mac・to_mac)を"
        "必須とするか: optional(既定。指定があればキャプチャで確認)、required(必須)。",
        values_ja={"optional": "任意", "required": "必須"},
    ),
    Setting(
        key="mn_isolation",
        default="channels",
        allowed=("channels", "absolute"),
        question="Q1",
        rules=("MN-ISOLATION",),
        doc_en="Whether the My Number tier's isolation admits exceptions: `channels` (default: "
        "isolated 「原則として」 as most policies write it, a live channel of the register "
        "covering its path or flow) or `absolute` (as 狛江市's policy writes it: no channel "
        "covers a path or flow between the My Number tier and the LGWAN tier, LGWAN or the "
        "government cloud).",
        doc_ja="マイナンバー利用事務系の分離に例外を認めるか: channels(既定。「原則として」分離し、"
        "台帳の特定通信に限り認める)、absolute(例外を認めない。特定通信も MN-ISOLATION として報告)。",
        values_ja={"channels": "特定通信に限り可", "absolute": "例外なし"},
    ),
    Setting(
        key="mn_separation",
        default="logical",
        allowed=("logical", "physical"),
        question="Q1",
        rules=("MN-PHYSICAL-SEPARATION",),
        doc_en="Whether the My Number tier must be physically separated from the other internal "
        "tiers (explainers read the guideline as 「原則物理的」; some designs separate by VLAN): "
        "`logical` (default: a router or L3 switch with ACLs shared with another internal tier "
        "is accepted and reported as a warning) or `physical` (such a shared device is a high "
        "finding: the tier has its own switches and cabling and meets the others only at a "
        "firewall).",
        doc_ja="マイナンバー利用事務系を他の庁内の系から物理的に分離することを求めるか: "
        "logical(既定。他の系と共用するルータ・L3スイッチによる論理分離を認め、警告とする)、"
        "physical(共用装置を指摘する。専用のスイッチ・配線とし、他の系とはFWでのみ接続)。",
        values_ja={"logical": "論理分離も可(警告)", "physical": "物理分離が必要"},
    ),
    Setting(
        key="lg_outbound_mail",
        default="warning",
        allowed=("warning", "forbidden", "allowed"),
        question="Q2",
        rules=("LG-OUTBOUND-DATA", "LG-INET-SPLIT"),
        doc_en="How outbound Internet mail handed from the LGWAN tier to an Internet-tier "
        "`mail-relay` is judged (the sources settle only inbound sanitization): `warning` "
        "(default: LG-OUTBOUND-DATA), `forbidden` (users send Internet mail from the "
        "screen-transfer session: LG-INET-SPLIT) or `allowed` (no finding).",
        doc_ja="LGWAN接続系からインターネット接続系のメール中継へのメール送信の扱い: warning(既定。"
        "LG-OUTBOUND-DATA の警告)、forbidden(画面転送で送信する運用: LG-INET-SPLIT)、"
        "allowed(指摘しない)。",
        values_ja={"warning": "警告", "forbidden": "不可", "allowed": "可"},
    ),
)

SETTINGS = (
    *SETTINGS,
    Setting(
        key="inet_breakout_controls",
        default=(),
        allowed=INET_BREAKOUT_CONTROLS,
        question="Q3",
        rules=("INET-LOCAL-BREAKOUT", "INET-EGRESS-VIA-CLOUD"),
        doc_en="The compensating controls the site declares for a local breakout of the "
        "Internet tier past the security cloud (domain.md §4.4 and §9 Q3, with the controls "
        "§4.5 asks of α′'s breakout): a list of `tls_inspection`, `tenant_restriction`, "
        "`logging`, `malware_scanning`. With all four, a path or flow from the Internet tier "
        "through an lbo-gateway of the Internet tier to one of its `allow_destinations` is "
        "INET-LOCAL-BREAKOUT, a warning, instead of INET-EGRESS-VIA-CLOUD; with fewer (default: "
        "none) nothing changes.",
        doc_ja="インターネット接続系のローカルブレイクアウト(セキュリティクラウドを経由しない"
        "接続)に講じた補完的対策: tls_inspection(TLS復号検査)、tenant_restriction(テナント"
        "制限)、logging(ログ取得)、malware_scanning(マルウェア検査)のリスト。4つすべてを"
        "宣言すると、インターネット接続系のLBO装置を経由して許可先へ向かう経路・通信は "
        "INET-EGRESS-VIA-CLOUD ではなく INET-LOCAL-BREAKOUT(警告)。足りなければ(既定: なし)"
        "変わらない。",
        values_ja={
            "tls_inspection": "TLS復号検査",
            "tenant_restriction": "テナント制限",
            "logging": "ログ取得",
            "malware_scanning": "マルウェア検査",
        },
        multiple=True,
    ),
)

SETTINGS_BY_KEY: Mapping[str, Setting] = {s.key: s for s in SETTINGS}


def setting(values: Mapping[str, SettingValue], key: str) -> SettingValue:
    """The value a topology gives a setting, else its default."""
    return values.get(key, SETTINGS_BY_KEY[key].default)


def effective(values: Mapping[str, SettingValue]) -> dict[str, SettingValue]:
    """Every setting with the value in force (the topology's, else the default), in order."""
    return {s.key: setting(values, s.key) for s in SETTINGS}
