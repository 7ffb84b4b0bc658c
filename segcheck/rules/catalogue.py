"""The rule catalogue (rules version 2, docs/spec.md §3), declared as data.

Every rule cites the clauses it comes from, as an auditor can look them up: the published
information security policies of five municipalities (by title and clause, numbered as each
document prints it) and the sections of the 総務省 guideline that those policies follow, by the
guideline's title, edition and section heading. The cited policy clauses' text is quoted in
`segcheck/data/clauses.json` (see `clause_excerpt`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from ..errors import UsageError
from ..findings import RuleId, Severity
from .ids import (
    GEN_CONFIG_DRIFT,
    GEN_DEFAULT_DENY,
    GEN_EXCEPTION_EXPIRED,
    GEN_NO_BRIDGING,
    GEN_ZONE_ASSIGNED,
    INET_EGRESS_VIA_CLOUD,
    INET_LOCAL_BREAKOUT,
    INET_MAIL_VIA_CLOUD,
    INET_MONITORING,
    LG_DNS,
    LG_INET_SANITIZED,
    LG_INET_SPLIT,
    LG_LGWAN_ONLY_UPLINK,
    LG_NO_INTERNET,
    LG_OUTBOUND_DATA,
    LG_TELEWORK,
    LG_UPDATE_DIST,
    MN_CHUKAN_VIA_LGWAN,
    MN_ISOLATION,
    MN_JUKI_CS,
    MN_NO_INTERNET,
    MN_PHYSICAL_SEPARATION,
    MN_SPECIFIED_COMM,
    MN_TERMINAL_CONTROLS,
    MN_UPDATE_DIST,
    MODEL_BETA_CONDITIONS,
)

RULES_VERSION = "2"


class DocumentKind(StrEnum):
    """A municipality's own policy, or the national guideline that policies follow."""

    POLICY = "policy"
    GUIDELINE = "guideline"


@dataclass(frozen=True, slots=True)
class Document:
    """A published document that rules cite."""

    id: str
    kind: DocumentKind
    title_ja: str
    title_en: str
    issuer_ja: str
    issuer_en: str
    edition: str  # the date or revision the document prints ("令和8年1月改定"); "" if none

    def title(self, lang: str) -> str:
        """The full title: Japanese under `ja`; under `en`, English with the Japanese beside it
        (the title an auditor searches for). The guideline's edition is part of its title: its
        sections move between editions."""
        if self.kind is DocumentKind.GUIDELINE:
            ja = f"{self.issuer_ja}「{self.title_ja}」{self.edition}"
            return ja if lang == "ja" else f"{self.issuer_en}, {self.title_en} ({ja})"
        return self.title_ja if lang == "ja" else f"{self.title_en} ({self.title_ja})"

    def short(self, lang: str) -> str:
        """The issuer, as a short name in compact listings."""
        if self.kind is DocumentKind.GUIDELINE:
            return "総務省ガイドライン" if lang == "ja" else "MIC guideline"
        return self.issuer_ja if lang == "ja" else self.issuer_en


TOKOROZAWA, OJIYA, AKISHIMA, SAKAI, KOMAE, MIC = (
    "tokorozawa-council",
    "ojiya",
    "akishima",
    "sakai",
    "komae",
    "mic-guideline",
)

DOCUMENTS: Mapping[str, Document] = {
    d.id: d
    for d in (
        Document(
            TOKOROZAWA,
            DocumentKind.POLICY,
            "所沢市議会情報セキュリティ基本方針",
            "Tokorozawa City Council Information Security Basic Policy",
            "所沢市議会",
            "Tokorozawa City Council",
            "",
        ),
        Document(
            OJIYA,
            DocumentKind.POLICY,
            "小千谷市情報セキュリティポリシー基本方針",
            "Ojiya City Information Security Policy: Basic Policy",
            "小千谷市",
            "Ojiya City",
            "令和8年1月改定",
        ),
        Document(
            AKISHIMA,
            DocumentKind.POLICY,
            "昭島市の執行機関等におけるサイバーセキュリティ基本方針",
            "Akishima City Cybersecurity Basic Policy for its Executive Agencies",
            "昭島市",
            "Akishima City",
            "",
        ),
        Document(
            SAKAI,
            DocumentKind.POLICY,
            "堺市情報セキュリティ基本規程",
            "Sakai City Basic Regulations on Information Security",
            "堺市",
            "Sakai City",
            "令和5年4月1日施行",
        ),
        Document(
            KOMAE,
            DocumentKind.POLICY,
            "狛江市情報セキュリティ基本方針",
            "Komae City Information Security Basic Policy",
            "狛江市",
            "Komae City",
            "平成16年11月10日規則第41号、令和元年10月7日規則第58号改正",
        ),
        Document(
            MIC,
            DocumentKind.GUIDELINE,
            "地方公共団体における情報セキュリティポリシーに関するガイドライン",
            "Guidelines on Information Security Policies of Local Governments",
            "総務省",
            "Ministry of Internal Affairs and Communications (MIC)",
            # The edition the catalogue follows (α′ first appears in it); the topology's
            # `guideline:` names the edition a site follows (see rules/editions.py).
            "令和6年10月版",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Source:
    """One cited clause: a document and the clause as that document numbers it.

    The guideline is cited by section heading (its numbering differs between editions);
    `clause_en` then gives the heading in English.
    """

    document: str
    clause: str
    clause_en: str = ""

    @property
    def doc(self) -> Document:
        """The cited document."""
        return DOCUMENTS[self.document]

    def clause_text(self, lang: str) -> str:
        """The clause reference, in English where the document has one."""
        if lang != "ja" and self.clause_en:
            return f"{self.clause_en} ({self.clause})"
        return self.clause

    def cite(self, lang: str) -> str:
        """A full citation: the document's title and the clause."""
        return _join(self.doc.title(lang), self.clause_text(lang))


@dataclass(frozen=True, slots=True)
class Excerpt:
    """The quoted text of one clause (its heading, if it has one, and its body)."""

    heading: str
    text: str


@cache
def _excerpts() -> dict[str, dict[str, Excerpt]]:
    raw = json.loads(resources.files("segcheck").joinpath("data/clauses.json").read_text("utf-8"))
    return {
        doc_id: {label: Excerpt(c["heading"], c["text"]) for label, c in doc["clauses"].items()}
        for doc_id, doc in raw["documents"].items()
    }


def clause_excerpt(source: Source) -> Excerpt | None:
    """The quoted text of a cited clause; None for the guideline, which is cited by heading."""
    return _excerpts().get(source.document, {}).get(source.clause)


def _cite(document: str, *clauses: str) -> tuple[Source, ...]:
    return tuple(Source(document, clause) for clause in clauses)


# The guideline sections the policies follow (the policies repeat their headings).
RESILIENCE = Source(
    MIC,
    "「情報システム全体の強靱性の向上」",
    "section “Strengthening the resilience of information systems as a whole”",
)
EXCEPTIONS = Source(MIC, "「例外措置」", "section “Exceptional measures”")

# Operations: the policies' clause on monitoring the information systems (運用).
OPERATIONS_CLAUSES = (
    *_cite(TOKOROZAWA, "6(7)"),
    *_cite(OJIYA, "7(7)"),
    *_cite(AKISHIMA, "第7条第5号"),
    *_cite(SAKAI, "第6条第7号"),
    *_cite(KOMAE, "7(5)"),
)

# Technical measures: the policies' clause naming malware countermeasures (不正プログラム対策).
TECHNICAL_CLAUSES = (
    *_cite(TOKOROZAWA, "6(6)"),
    *_cite(OJIYA, "7(6)"),
    *_cite(AKISHIMA, "第7条第4号"),
    *_cite(SAKAI, "第6条第6号"),
)
MALWARE = Source(MIC, "「不正プログラム対策」", "section “Countermeasures against malware”")
ACCESS_CONTROL = Source(MIC, "「アクセス制御」", "section “Access control”")

# The three-tier measures, tier by tier, in each policy.
MN_CLAUSES = (
    *_cite(TOKOROZAWA, "6(3)①"),
    *_cite(OJIYA, "7(3)①"),
    *_cite(SAKAI, "第6条第3号ア"),
    *_cite(KOMAE, "7(1)ア"),
)
LG_CLAUSES = (
    *_cite(TOKOROZAWA, "6(3)②"),
    *_cite(OJIYA, "7(3)②"),
    *_cite(SAKAI, "第6条第3号イ"),
    *_cite(KOMAE, "7(1)イ"),
)
INET_CLAUSES = (
    *_cite(TOKOROZAWA, "6(3)③"),
    *_cite(OJIYA, "7(3)③"),
    *_cite(SAKAI, "第6条第3号ウ"),
    *_cite(KOMAE, "7(1)ウ"),
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: id, severity, names and the clauses it comes from.

    Where it fires: a matrix cell (`segcheck/policy.py`), a matrix exception in `Policy.judge`,
    a node or channel rule (`rules/nodes.py`, `rules/channels.py`), or the flow judge
    (`segcheck/flowjudge.py`); `segcheck explain ID` prints this entry.
    """

    id: RuleId
    severity: Severity
    name_en: str
    name_ja: str
    sources: tuple[Source, ...]
    summary_en: str
    summary_ja: str
    remedy_en: str
    remedy_ja: str

    def name(self, lang: str) -> str:
        """The rule's name in `ja` or `en`."""
        return self.name_ja if lang == "ja" else self.name_en

    def summary(self, lang: str) -> str:
        """When the rule fires, in `ja` or `en`."""
        return self.summary_ja if lang == "ja" else self.summary_en

    def remedy(self, lang: str) -> str:
        """How to mend a finding, in `ja` or `en`."""
        return self.remedy_ja if lang == "ja" else self.remedy_en


RULES: tuple[Rule, ...] = (
    Rule(
        id=MN_NO_INTERNET,
        severity=Severity.CRITICAL,
        name_en="My Number tier never reaches the Internet",
        name_ja="マイナンバー利用事務系とインターネットの完全分離",
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A path or flow between the My Number tier and the Internet tier, the security cloud or "
        "the public Internet, in either direction. No channel can cover it.",
        summary_ja="マイナンバー利用事務系とインターネット接続系・セキュリティクラウド・インターネットの間の"
        "経路または通信。例外(特定通信)でも許可できない。",
        remedy_en="Remove the permits or links that open the path; the My Number tier must have no route "
        "to any Internet-connected network.",
        remedy_ja="経路を開いている許可ルールまたは接続を削除する。マイナンバー利用事務系からインターネット"
        "接続環境への経路を一切持たないこと。",
    ),
    Rule(
        id=MN_ISOLATION,
        severity=Severity.CRITICAL,
        name_en="My Number tier isolation",
        name_ja="マイナンバー利用事務系の分離",
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A path or flow between the My Number tier and the LGWAN tier, LGWAN or the "
        "government cloud that no channel covers (住基ネット: see MN-JUKI-CS); under "
        "mn_isolation: absolute, any such path or flow.",
        summary_ja="マイナンバー利用事務系とLGWAN接続系・LGWAN・ガバメントクラウドの間で、"
        "特定通信として登録されていない経路または通信(住基ネットは MN-JUKI-CS)。設定により"
        "例外を認めない場合は、登録の有無によらずすべて。",
        remedy_en="Close the path, or declare it as a pinned channel (特定通信) with reason and approver.",
        remedy_ja="経路を閉じるか、理由と承認者を付けた特定通信(端末・ポート固定)として登録する。",
    ),
    Rule(
        id=MN_SPECIFIED_COMM,
        severity=Severity.HIGH,
        name_en="Specified communication must be pinned",
        name_ja="特定通信の限定",
        # "原則として": exceptions exist and must be narrow. 狛江市 allows none, so is not cited.
        sources=(
            *_cite(TOKOROZAWA, "6(3)①"),
            *_cite(OJIYA, "7(3)①"),
            *_cite(SAKAI, "第6条第3号ア"),
            RESILIENCE,
        ),
        summary_en="A channel touching the My Number tier that is not pinned to one host at each end and "
        "named services (and MACs, under channel_mac_pinning: required); in captures, a flow "
        "between a channel's endpoints on another service or in the other direction, or a "
        "packet of a MAC-pinned channel from another MAC (as info: pins that an input could "
        "not show).",
        summary_ja="マイナンバー利用事務系に関わる特定通信が、両端1台・サービス指定(設定によりMAC"
        "アドレスも)に限定されていない。キャプチャでは、特定通信の両端間で別サービスまたは逆方向"
        "の通信、MACを固定した特定通信で別のMACアドレスから送られたパケット(情報: 入力から"
        "確認できない固定)。",
        remedy_en="Pin the channel to single hosts and named services.",
        remedy_ja="特定通信の両端を単一ホストに、サービスを個別に限定する。",
    ),
    Rule(
        id=LG_INET_SPLIT,
        severity=Severity.CRITICAL,
        name_en="LGWAN / Internet path split",
        name_ja="通信経路の分割",
        sources=(
            *_cite(TOKOROZAWA, "2(14)", "6(3)②"),
            *_cite(OJIYA, "2(12)", "7(3)②"),
            *_cite(SAKAI, "第6条第3号イ"),
            *_cite(KOMAE, "2(12)", "7(1)イ"),
            RESILIENCE,
        ),
        summary_en="A path or flow between the LGWAN tier (or LGWAN) and the Internet tier that is not "
        "sanitized: neither ending at a sanitizing gateway that accepts the service nor starting "
        "at one that delivers it.",
        summary_ja="LGWAN接続系(またはLGWAN)とインターネット接続系の間の無害化されていない経路または通信"
        "(無害化装置・画面転送で終端されていない)。",
        remedy_en="Route the crossing through a sanitizing gateway (screen transfer, mail or file "
        "sanitizer), or remove the permits that open it.",
        remedy_ja="画面転送・メール無害化・ファイル無害化を経由させるか、経路を開く許可ルールを削除する。",
    ),
    Rule(
        id=LG_NO_INTERNET,
        severity=Severity.CRITICAL,
        name_en="LGWAN tier never reaches the Internet",
        name_ja="LGWAN接続系からのインターネット接続禁止",
        sources=(
            *_cite(TOKOROZAWA, "2(12)", "6(3)②"),
            *_cite(OJIYA, "2(10)", "7(3)②"),
            *_cite(SAKAI, "第2条第9号", "第6条第3号イ"),
            *_cite(KOMAE, "2(10)", "7(1)イ"),
            RESILIENCE,
        ),
        summary_en="A path or flow between the LGWAN tier and the public Internet or the security cloud; "
        "under alpha-prime, through an lbo-gateway to one of its allow_destinations is allowed.",
        summary_ja="LGWAN接続系とインターネット・セキュリティクラウドの間の経路または通信"
        "(α'モデルでローカルブレイクアウト装置経由の許可先は除く)。",
        remedy_en="Remove the leftover route or permit; under α′ send cloud use through the lbo-gateway.",
        remedy_ja="残存経路や許可ルールを削除する。α'ではローカルブレイクアウト装置の許可先に限定する。",
    ),
    Rule(
        id=INET_EGRESS_VIA_CLOUD,
        severity=Severity.CRITICAL,
        name_en="Internet egress through the security cloud",
        name_ja="自治体情報セキュリティクラウド経由のインターネット接続",
        sources=(*INET_CLAUSES, RESILIENCE),
        summary_en="A path or flow between the Internet tier and the public Internet that does not end at "
        "a security-cloud gateway.",
        summary_ja="インターネット接続系とインターネットの間で、自治体情報セキュリティクラウドを経由しない"
        "経路または通信。",
        remedy_en="Remove the direct breakout; send Internet traffic through the security cloud.",
        remedy_ja="直接のインターネット出口を削除し、セキュリティクラウド経由に集約する。",
    ),
    Rule(
        id=GEN_NO_BRIDGING,
        severity=Severity.CRITICAL,
        name_en="No bridging between tiers",
        name_ja="系間のブリッジ禁止",
        sources=(
            *_cite(TOKOROZAWA, "2(14)"),
            *_cite(OJIYA, "2(12)"),
            *_cite(SAKAI, "第6条第3号イ"),
            *_cite(KOMAE, "2(12)"),
            RESILIENCE,
        ),
        summary_en="A node that is neither a forwarder nor a gateway has addresses in two tiers.",
        summary_ja="転送装置・ゲートウェイ以外のノードが複数の系にアドレスを持つ(二重接続)。",
        remedy_en="Give the node one tier, or model the device as the firewall or gateway it really is.",
        remedy_ja="ノードを一つの系に限定するか、実際の役割(FW・ゲートウェイ)として記述する。",
    ),
    Rule(
        id=GEN_ZONE_ASSIGNED,
        severity=Severity.HIGH,
        name_en="Every address belongs to a zone",
        name_ja="全アドレスのゾーン割当て",
        sources=(
            *_cite(TOKOROZAWA, "2(11)", "2(12)", "2(13)"),
            *_cite(OJIYA, "2(9)", "2(10)", "2(11)"),
            *_cite(SAKAI, "第2条第8号", "第2条第9号", "第2条第10号"),
            *_cite(KOMAE, "2(9)", "2(10)", "2(11)"),
        ),
        summary_en="A flow endpoint whose address is in no declared zone and is not global.",
        summary_ja="通信の端点アドレスが、どのゾーンにも属さず、グローバルアドレスでもない。",
        remedy_en="Add the subnet to the zone it belongs to, or find the unknown host.",
        remedy_ja="該当サブネットをゾーンに登録するか、未知の端末を特定する。",
    ),
    Rule(
        id=GEN_DEFAULT_DENY,
        severity=Severity.HIGH,
        name_en="Default deny between tiers",
        name_ja="系間通信の原則禁止",
        sources=(
            *_cite(TOKOROZAWA, "6(3)"),
            *_cite(OJIYA, "7(3)"),
            *_cite(SAKAI, "第6条第3号"),
            *_cite(KOMAE, "7(1)"),
            RESILIENCE,
        ),
        summary_en="Any other cross-tier path or flow the policy matrix forbids (e.g. lgwan to jukinet).",
        summary_ja="ポリシー表で禁止されたその他の系間の経路または通信(例: LGWAN接続系から住基ネット)。",
        remedy_en="Remove the permits or links that open the path, or declare a channel where allowed.",
        remedy_ja="経路を開く許可ルール・接続を削除するか、許される場合は例外として登録する。",
    ),
    Rule(
        id=GEN_EXCEPTION_EXPIRED,
        severity=Severity.HIGH,
        name_en="Expired exception",
        name_ja="期限切れの例外",
        sources=(EXCEPTIONS, *_cite(SAKAI, "第7条"), *_cite(AKISHIMA, "第9条")),
        summary_en="A channel past its expiry date; it then covers nothing.",
        summary_ja="有効期限を過ぎた例外(特定通信等)。期限切れの例外は何も許可しない。",
        remedy_en="Renew the approval with a new expiry, or remove the channel and the path it served.",
        remedy_ja="承認を更新して期限を延長するか、例外とその経路を削除する。",
    ),
    Rule(
        id=LG_INET_SANITIZED,
        severity=Severity.HIGH,
        name_en="Sanitizing gateway settings",
        name_ja="無害化通信の設定",
        sources=(
            *_cite(TOKOROZAWA, "2(15)"),
            *_cite(OJIYA, "2(13)"),
            *_cite(SAKAI, "第2条第11号"),
            *_cite(KOMAE, "2(13)"),
            RESILIENCE,
        ),
        summary_en="A gateway whose settings defeat sanitization: screen transfer with clipboard, drive or "
        "printer redirect on; mail sanitizer without html_to_text or an attachments policy.",
        summary_ja="無害化を損なう設定のゲートウェイ(画面転送でクリップボード・ドライブ・プリンタ転送が有効、"
        "メール無害化でテキスト化または添付ファイル処理が未設定)。",
        remedy_en="Turn the redirections off; enable HTML-to-text and an attachment policy.",
        remedy_ja="各種リダイレクトを無効にし、メール本文のテキスト化と添付ファイル処理を設定する。",
    ),
    Rule(
        id=MN_TERMINAL_CONTROLS,
        severity=Severity.HIGH,
        name_en="My Number terminal controls",
        name_ja="マイナンバー利用事務系端末の対策",
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A My Number tier terminal without usb_block: true and mfa: true "
        "(情報持ち出し不可設定, 多要素認証).",
        summary_ja="マイナンバー利用事務系の端末に、情報持ち出し不可設定(usb_block)または多要素認証(mfa)がない。",
        remedy_en="Enable device control against taking data out, and multi-factor authentication.",
        remedy_ja="端末からの情報持ち出し不可設定と多要素認証を導入する。",
    ),
    Rule(
        id=MODEL_BETA_CONDITIONS,
        severity=Severity.HIGH,
        name_en="β model conditions",
        name_ja="βモデルの条件",
        sources=(RESILIENCE,),
        summary_en="Under beta or beta-prime, an Internet tier terminal without edr: true.",
        summary_ja="β・β'モデルで、インターネット接続系の端末にEDR(edr: true)がない。",
        remedy_en="Deploy EDR on every Internet tier terminal, as the β model requires.",
        remedy_ja="βモデルの条件として、インターネット接続系の全端末にEDRを導入する。",
    ),
    Rule(
        id=LG_OUTBOUND_DATA,
        severity=Severity.WARNING,
        name_en="Outbound mail hand-off",
        name_ja="LGWAN接続系からの外部送信",
        sources=(*LG_CLAUSES, RESILIENCE),
        summary_en="An LGWAN tier to Internet tier path or flow on smtp to a mail-relay (outbound mail), "
        "not covered by a channel (lg_outbound_mail: forbidden makes it LG-INET-SPLIT, allowed "
        "no finding).",
        summary_ja="LGWAN接続系からインターネット接続系のメール中継へのsmtp経路または通信(外部へのメール送信)で、"
        "例外として登録されていないもの(設定により LG-INET-SPLIT とし、または指摘しない)。",
        remedy_en="Declare the hand-off as a channel with its reason, or send mail from the Internet tier.",
        remedy_ja="理由を付けて例外として登録するか、インターネット接続系から送信する運用にする。",
    ),
    # -- rules version 2 (issue 17) ----------------------------------------------------------
    Rule(
        id=MN_JUKI_CS,
        severity=Severity.HIGH,
        name_en="住基ネット only through the 住基CS",
        name_ja="住基ネットへの接続は住基CS経由に限定",
        # The seeds isolate the My Number tier "in principle"; 住基ネット is the exception the
        # guideline names, and only the CS (with a firewall on each side) may make it.
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A path or flow between 住基ネット and a My Number tier host other than a juki-cs "
        "gateway, either way (no channel can cover it); a channel naming such a pair; as a warning, "
        "a juki-cs whose My Number or 住基ネット leg shares a segment with anything but a "
        "filtering forwarder (no firewall on that side).",
        summary_ja="住基CS以外のマイナンバー利用事務系の機器と住基ネットの間の経路または通信(双方向、"
        "例外でも許可できない)、そのような例外の登録。また警告として、住基CSのいずれかの側の"
        "セグメントにファイアウォール以外の機器がある(CSの両側にFWがない)。",
        remedy_en="Let only the 住基CS reach 住基ネット, with a firewall on each side of the CS; "
        "remove other routes and channels to 住基ネット.",
        remedy_ja="住基ネットへの通信を住基CSに限定し、CSの内側・外側にそれぞれファイアウォールを置く。"
        "他の経路・例外は削除する。",
    ),
    Rule(
        id=LG_LGWAN_ONLY_UPLINK,
        severity=Severity.HIGH,
        name_en="The LGWAN tier's only uplink is the LGWAN",
        name_ja="LGWAN接続系の外部接続はLGWANのみ",
        # The tier is defined as the systems connected to LGWAN; a second way out is a second
        # network, whatever its permits pass today (a leftover ISP line, domain.md §4.3).
        sources=(
            *_cite(TOKOROZAWA, "2(12)", "6(3)②"),
            *_cite(OJIYA, "2(10)", "7(3)②"),
            *_cite(SAKAI, "第2条第9号", "第6条第3号イ"),
            *_cite(KOMAE, "2(10)", "7(1)イ"),
            RESILIENCE,
        ),
        summary_en="A forwarder or gateway (an lbo-gateway aside) joining the LGWAN tier to 住基ネット, "
        "the security cloud or the public Internet, by its addresses or its links; to the "
        "government cloud only when it filters nothing, or always under the setting "
        "lgwan_gov_cloud_link: forbidden. A firewall's leg that another internal tier on it may "
        "use (a core firewall's security cloud line) is that tier's.",
        summary_ja="LGWAN接続系を住基ネット・セキュリティクラウド・インターネットに接続する転送装置"
        "またはゲートウェイ(ローカルブレイクアウト装置を除く)。ガバメントクラウドへの接続は、"
        "許可ルールのない装置の場合、または設定 lgwan_gov_cloud_link で禁止した場合。"
        "複数の系を収容するFWで、他の系が使える外部接続(インターネット接続系のセキュリティクラウド"
        "回線)は対象外。",
        remedy_en="Remove the extra uplink (a leftover ISP line, a shortcut to another network); "
        "reach other networks over LGWAN or through the declared tiers.",
        remedy_ja="LGWAN以外の外部接続(移行時の残存回線等)を撤去し、他のネットワークへはLGWANまたは"
        "定められた系を経由する。",
    ),
    Rule(
        id=INET_MONITORING,
        severity=Severity.WARNING,
        name_en="Internet egress is monitored",
        name_ja="インターネット接続の不正通信監視",
        sources=(*INET_CLAUSES, *OPERATIONS_CLAUSES, RESILIENCE),
        summary_en="A security-cloud gateway (proxy, mail relay, DNS resolver) that the Internet tier "
        "reaches and that reaches the public Internet, where neither leg crosses a node with "
        "monitoring: true (IDS/IPS, sandbox, SIEM feed) and the gateway itself is not one.",
        summary_ja="インターネット接続系から到達でき、インターネットへ通信するセキュリティクラウドの"
        "ゲートウェイ(プロキシ・メール中継・DNS)で、その経路にも自身にも監視機能"
        "(monitoring: true。IDS/IPS、サンドボックス、SIEM連携)がないもの。",
        remedy_en="Put the egress through a monitoring device (the security cloud's IDS/IPS or "
        "sandbox) and declare it with monitoring: true.",
        remedy_ja="セキュリティクラウドのIDS/IPS・サンドボックス等の監視機器を経由させ、"
        "monitoring: true として記述する。",
    ),
    Rule(
        id=INET_MAIL_VIA_CLOUD,
        severity=Severity.HIGH,
        name_en="Internet mail through the security cloud's relay",
        name_ja="インターネットメールはセキュリティクラウドのメール中継を経由",
        sources=(*INET_CLAUSES, RESILIENCE),
        summary_en="A path or flow on smtp between the Internet tier and the security cloud whose "
        "security-cloud end is not a mail-relay: mail handed to, or received from, anything "
        "but the cloud's mail relay (smtp straight to the public Internet is "
        "INET-EGRESS-VIA-CLOUD).",
        summary_ja="インターネット接続系とセキュリティクラウドの間のsmtpの経路または通信で、"
        "クラウド側がメール中継(mail-relay)でないもの(インターネットとの直接のsmtpは "
        "INET-EGRESS-VIA-CLOUD)。",
        remedy_en="Send and receive Internet mail only through the security cloud's mail relay "
        "(MX and smarthost); close smtp to other cloud addresses.",
        remedy_ja="インターネットメールの送受信をセキュリティクラウドのメール中継(MX・"
        "スマートホスト)に限定し、それ以外へのsmtpを閉じる。",
    ),
    Rule(
        id=LG_DNS,
        severity=Severity.CRITICAL,
        name_en="LGWAN tier resolves names on the Internet",
        name_ja="LGWAN接続系からインターネットの名前解決",
        # LG-NO-INTERNET's form for name resolution, reported apart in captures: DNS through
        # the Internet is the leftover that most often survives a split (domain.md §4.3).
        sources=(
            *_cite(TOKOROZAWA, "2(12)", "6(3)②"),
            *_cite(OJIYA, "2(10)", "7(3)②"),
            *_cite(SAKAI, "第2条第9号", "第6条第3号イ"),
            *_cite(KOMAE, "2(10)", "7(1)イ"),
            RESILIENCE,
        ),
        summary_en="In captures, an LGWAN tier host resolving names through the Internet: dns to "
        "the security cloud or the public Internet, or DNS over HTTPS (443) to a well-known "
        "public resolver (8.8.8.8, 1.1.1.1, 9.9.9.9, ...). The LG-NO-INTERNET finding of such a "
        "flow, named for what it is; paths stay LG-NO-INTERNET.",
        summary_ja="キャプチャで、LGWAN接続系の機器がインターネットで名前解決している: セキュリティ"
        "クラウドまたはインターネットへのDNS、または既知の公開リゾルバ(8.8.8.8、1.1.1.1、"
        "9.9.9.9等)へのDNS over HTTPS(443)。LG-NO-INTERNETに当たる通信のうち名前解決のもの"
        "(経路はLG-NO-INTERNETのまま)。",
        remedy_en="Point the host (and any forwarder) at the LGWAN-tier DNS server, which forwards to "
        "LGWAN's DNS; block DNS and known DoH resolvers from the LGWAN tier.",
        remedy_ja="端末・DNSフォワーダの参照先をLGWAN接続系のDNS(LGWANのDNSへ転送)にし、LGWAN接続系"
        "からのDNSと既知のDoHリゾルバへの通信を遮断する。",
    ),
    Rule(
        id=MN_CHUKAN_VIA_LGWAN,
        severity=Severity.HIGH,
        name_en="中間サーバー only from the 団体内統合宛名",
        name_ja="中間サーバーへの接続は団体内統合宛名に限定",
        # The one My Number exception that crosses LGWAN; the seeds' "原則として" allows it,
        # and nothing else may ride on it (domain.md §4.2).
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A path or flow, either way, between a chukan node (中間サーバー) and an LGWAN tier "
        "address or a My Number tier address that is not an atena node's (団体内統合宛名); no "
        "channel covers it, and a channel naming such a pair is itself reported. In plans, also "
        "a route from an atena node to a chukan node that bypasses the boundary firewall (a "
        "filtering forwarder on the My Number tier's edge) or the LGWAN router (a forwarder "
        "joining the LGWAN tier to LGWAN, not the My Number tier), named hop by hop.",
        summary_ja="中間サーバー(chukan)と、LGWAN接続系のアドレスまたは団体内統合宛名(atena)以外の"
        "マイナンバー利用事務系のアドレスの間の経路または通信(双方向)。例外でも許可できず、"
        "そのような例外の登録も指摘する。構成では、団体内統合宛名から中間サーバーへの経路で"
        "境界FW(マイナンバー利用事務系の境界のフィルタリング装置)またはLGWAN接続ルータ"
        "(LGWAN接続系をLGWANに接続する装置)を通らないものも、経路を示して指摘する。",
        remedy_en="Pin the LGWAN router's and the boundary firewall's rules to 団体内統合宛名 ↔ "
        "中間サーバー; keep LGWAN-tier hosts off the 中間サーバー (its own segment or VLAN).",
        remedy_ja="LGWAN接続ルータと境界FWのルールを団体内統合宛名と中間サーバーの間に限定し、"
        "LGWAN接続系の機器から中間サーバーに到達できないようにする(専用セグメント・VLAN)。",
    ),
    Rule(
        id=MN_UPDATE_DIST,
        severity=Severity.HIGH,
        name_en="My Number tier updates from a declared update server",
        name_ja="マイナンバー利用事務系の更新プログラム配信",
        sources=(*MN_CLAUSES, *TECHNICAL_CLAUSES, RESILIENCE, MALWARE),
        summary_en="A My Number tier update-server with no upstream, or one outside the LGWAN tier "
        "and LGWAN (offline media allowed); a path or flow of it on an update service to "
        "anything but its tier and its upstream; a My Number host fetching wsus outside its "
        "tier, or in captures from a host that is no update-server. A channel does not make "
        "such a fetch compliant; a forbidden cell keeps its own rule.",
        summary_ja="マイナンバー利用事務系の更新配信サーバ(update-server)に取得元(upstream)がない、"
        "またはLGWAN接続系・LGWAN以外(オフライン媒体は可)にある。更新配信サーバが自系と取得元以外"
        "から更新サービスで取得する経路・通信。マイナンバー利用事務系の機器が系外から、"
        "キャプチャでは更新配信サーバ以外からwsusで取得する通信。",
        remedy_en="Declare the update server's upstream (an LGWAN-tier WSUS, LGWAN-ASP, or offline) "
        "and let My Number hosts take updates from the update server only.",
        remedy_ja="更新配信サーバの取得元(LGWAN接続系のWSUS、LGWAN-ASP、またはオフライン)を定め、"
        "マイナンバー利用事務系の機器は更新配信サーバからのみ取得させる。",
    ),
    Rule(
        id=LG_UPDATE_DIST,
        severity=Severity.WARNING,
        name_en="LGWAN tier updates from a declared update server",
        name_ja="LGWAN接続系の更新プログラム配信",
        sources=(*LG_CLAUSES, *TECHNICAL_CLAUSES, RESILIENCE, MALWARE),
        summary_en="An LGWAN tier update-server with no upstream, or one outside LGWAN and the "
        "Internet tier, or in the Internet tier without a pinned channel to it; a path or flow "
        "of it on an update service to anything but its tier and its upstream; an LGWAN host "
        "fetching wsus outside its tier and LGWAN, or in captures from a host that is no "
        "update-server.",
        summary_ja="LGWAN接続系の更新配信サーバに取得元がない、LGWAN・インターネット接続系以外にある、"
        "またはインターネット接続系にあって固定した例外がない。更新配信サーバが自系と取得元以外から"
        "取得する経路・通信。LGWAN接続系の機器が自系・LGWAN以外から、キャプチャでは更新配信サーバ"
        "以外からwsusで取得する通信。",
        remedy_en="Take LGWAN-tier updates from LGWAN-ASP or the national platform over LGWAN, or "
        "from an Internet-tier WSUS over a pinned channel; clients from the update server.",
        remedy_ja="LGWAN-ASPや国の配信基盤からLGWAN経由で、またはインターネット接続系のWSUSから"
        "固定した例外で取得し、端末は更新配信サーバから取得させる。",
    ),
    Rule(
        id=LG_TELEWORK,
        severity=Severity.HIGH,
        name_en="Telework into the LGWAN tier by screen transfer only",
        name_ja="LGWAN接続系へのテレワークは画面転送のみ",
        # Screen transfer is the policies' own example of safe communication (無害化通信).
        sources=(
            *_cite(TOKOROZAWA, "2(15)", "6(6)"),
            *_cite(OJIYA, "2(13)", "7(6)"),
            *_cite(SAKAI, "第2条第11号", "第6条第6号"),
            *_cite(KOMAE, "2(13)"),
            *_cite(AKISHIMA, "第7条第4号"),
            ACCESS_CONTROL,
        ),
        summary_en="Remote access into the LGWAN tier from LGWAN (screen transfer or ssh) that does "
        "not start at a telework-gateway, or anything but screen transfer that does (flows; "
        "paths when the plan declares a telework-gateway); a "
        "telework-gateway with clipboard, drive or printer redirection on, without mfa: true, "
        "or standing outside LGWAN and the LGWAN tier.",
        summary_ja="LGWANからLGWAN接続系へのリモートアクセス(画面転送・ssh)でテレワーク中継"
        "(telework-gateway)を起点としないもの、またはテレワーク中継からの画面転送以外の通信"
        "(経路はテレワーク中継を記述した構成のみ)。"
        "クリップボード・ドライブ・プリンタの転送が有効、多要素認証(mfa)がない、またはLGWAN・"
        "LGWAN接続系の外にあるテレワーク中継。",
        remedy_en="Terminate remote access on a declared telework gateway (LGWAN-ASP) giving screen "
        "transfer only, with redirections off and multi-factor authentication.",
        remedy_ja="リモートアクセスを画面転送のみのテレワーク中継(LGWAN-ASP)で終端し、各種転送を"
        "無効にして多要素認証を必須にする。",
    ),
    Rule(
        id=GEN_CONFIG_DRIFT,
        severity=Severity.HIGH,
        name_en="Device configuration differs from the one checked",
        name_ja="機器の設定と検査した設定の乖離",
        # Checking that what runs is what was approved is the policies' compliance check
        # (遵守状況の確認/検証), in operations and in audit.
        sources=(*OPERATIONS_CLAUSES, *_cite(SAKAI, "第7条"), *_cite(AKISHIMA, "第9条")),
        summary_en="A firewall's own traffic log shows a policy the imported configuration does "
        "not have as it ran: a flow accepted by a rule that is absent, disabled, shadowed or "
        "does not cover it, or denied by a rule that permits it. Verdicts about that device "
        "then rest on a configuration it does not run.",
        summary_ja="ファイアウォール自身の通信ログが、取り込んだ設定にない動作を示す(設定にない・"
        "無効・先行ルールに覆われた・対象外のルールによる許可、または許可ルールによる拒否)。"
        "その機器についての判定は、機器が実際には動かしていない設定に基づくことになる。",
        remedy_en="Export the configuration the device runs now and check it again; bring the "
        "device or the approved configuration back in line through change control.",
        remedy_ja="機器が現在動かしている設定を取り出して再検査し、変更管理を通じて機器または承認済み"
        "の設定を一致させる。",
    ),
    Rule(
        id=MN_PHYSICAL_SEPARATION,
        severity=Severity.HIGH,
        name_en="My Number tier physically separated",
        name_ja="マイナンバー利用事務系の物理的分離",
        # The policies isolate the tier 「原則として」 without saying how; explainers read the
        # guideline as physical separation, some prefectures' designs use VLANs (domain.md §9
        # Q1). The setting mn_separation chooses; logical separation is a warning by default.
        sources=(*MN_CLAUSES, RESILIENCE),
        summary_en="A router or L3 switch with permits (ACLs), not a firewall, attached by its "
        "addresses or its links: to the My Number tier and to another internal tier: the tiers "
        "share a device and are separated only logically (VLANs, VRFs, ACLs on a shared "
        "switch). A warning under the default mn_separation: logical; under physical, high. "
        "One that filters nothing bridges the tiers (MN-ISOLATION).",
        summary_ja="ファイアウォール以外の許可ルール(ACL)を持つルータ・L3スイッチが、アドレスまたは "
        "links: でマイナンバー利用事務系と他の庁内の系の両方に接続している(装置を共用し、VLAN・"
        "VRF・ACLによる論理分離にとどまる)。設定 mn_separation が既定(logical)なら警告、"
        "physical なら高。フィルタしない装置は系をつなぐもの(MN-ISOLATION)。",
        remedy_en="Give the My Number tier its own switches and cabling, meeting the other tiers "
        "only at the boundary firewall; where logical separation is the accepted design, keep "
        "mn_separation: logical and record the decision.",
        remedy_ja="マイナンバー利用事務系に専用のスイッチ・配線を用意し、他の系とは境界FWでのみ"
        "接続する。論理分離を採用する場合は mn_separation: logical のまま、その判断を記録する。",
    ),
    Rule(
        id=INET_LOCAL_BREAKOUT,
        severity=Severity.WARNING,
        name_en="Internet-tier local breakout with compensating controls",
        name_ja="補完的対策を講じたインターネット接続系のローカルブレイクアウト",
        # The policies aggregate the Internet tier's traffic in the security cloud; no source
        # permits a breakout past it, vendors describe one under controls (domain.md §9 Q3):
        # accepted only as a warning, with the controls the site declares.
        sources=(*INET_CLAUSES, RESILIENCE),
        summary_en="Under the setting inet_breakout_controls declaring every compensating "
        "control (tls_inspection, tenant_restriction, logging, malware_scanning): a path or "
        "flow from the Internet tier through an lbo-gateway of the Internet tier to one of its "
        "allow_destinations (otherwise INET-EGRESS-VIA-CLOUD), and the gateway itself, named "
        "with its destinations and the controls declared.",
        summary_ja="設定 inet_breakout_controls で補完的対策(TLS復号検査・テナント制限・ログ取得・"
        "マルウェア検査)をすべて宣言した場合の、インターネット接続系からインターネット接続系の"
        "LBO装置を経由して許可先へ向かう経路・通信(宣言がなければ INET-EGRESS-VIA-CLOUD)、"
        "およびその装置(許可先と宣言した対策を示す)。",
        remedy_en="Keep the breakout to the allow-listed destinations with the declared controls "
        "in force and reviewed, or send the traffic through the security cloud.",
        remedy_ja="許可先に限ったブレイクアウトとし、宣言した対策の運用を確認する。または"
        "セキュリティクラウド経由に戻す。",
    ),
)

RULES_BY_ID: Mapping[RuleId, Rule] = {r.id: r for r in RULES}


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (case-insensitive); UsageError when there is none."""
    rule = RULES_BY_ID.get(RuleId(rule_id.upper()))
    if rule is None:
        known = ", ".join(sorted(RULES_BY_ID))
        raise UsageError(f"unknown rule {rule_id!r}; known rules: {known}")
    return rule


def citations(rule: Rule, lang: str) -> list[str]:
    """The rule's sources, one line per document: its full title and the cited clauses."""
    grouped: dict[str, list[str]] = {}
    for source in rule.sources:
        grouped.setdefault(source.document, []).append(source.clause_text(lang))
    return [_join(DOCUMENTS[doc].title(lang), ", ".join(cl)) for doc, cl in grouped.items()]


def short_citations(rule: Rule, lang: str) -> str:
    """The rule's sources on one line, documents by short name (`segcheck rules`)."""
    grouped: dict[str, list[str]] = {}
    for source in rule.sources:
        grouped.setdefault(source.document, []).append(source.clause)
    return "; ".join(
        _join(DOCUMENTS[doc].short(lang), ", ".join(cl)) for doc, cl in grouped.items()
    )


def _join(name: str, clauses: str) -> str:
    # Japanese writes a 「quoted heading」 straight after the name; English keeps the space.
    if clauses.startswith("「") and not name[-1].isascii():
        return f"{name}{clauses}"
    return f"{name} {clauses}"
