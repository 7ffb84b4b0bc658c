"""The rule catalogue (rules version 1, spec §3), declared as data.

Every rule cites the clauses it comes from, as an auditor can look them up: the published
information security policies of five municipalities (by title and clause, numbered as each
document prints it) and the sections of the 総務省 guideline that those policies follow. The
cited clauses' text is quoted in `segcheck/data/clauses.json` (see `clause_excerpt`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from .errors import UsageError

RULES_VERSION = "1"


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
        (the title an auditor searches for)."""
        if self.kind is DocumentKind.GUIDELINE:
            ja = f"{self.issuer_ja}「{self.title_ja}」"
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
            "",
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


class Severity(StrEnum):
    """Ordered severity; compare with `rank` (higher is worse)."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """3 for critical down to 0 for info."""
        return _RANK[self]


_RANK = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.WARNING: 1, Severity.INFO: 0}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: id, severity, names and the clauses it comes from."""

    id: str
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
        "MN-NO-INTERNET",
        Severity.CRITICAL,
        "My Number tier never reaches the Internet",
        "マイナンバー利用事務系とインターネットの完全分離",
        (*MN_CLAUSES, RESILIENCE),
        "A path or flow between the My Number tier and the Internet tier, the security cloud or "
        "the public Internet, in either direction. No channel can cover it.",
        "マイナンバー利用事務系とインターネット接続系・セキュリティクラウド・インターネットの間の"
        "経路または通信。例外(特定通信)でも許可できない。",
        "Remove the permits or links that open the path; the My Number tier must have no route "
        "to any Internet-connected network.",
        "経路を開いている許可ルールまたは接続を削除する。マイナンバー利用事務系からインターネット"
        "接続環境への経路を一切持たないこと。",
    ),
    Rule(
        "MN-ISOLATION",
        Severity.CRITICAL,
        "My Number tier isolation",
        "マイナンバー利用事務系の分離",
        (*MN_CLAUSES, RESILIENCE),
        "A path or flow between the My Number tier and the LGWAN tier, LGWAN, 住基ネット or the "
        "government cloud that no channel covers (住基ネット through a juki-cs gateway is allowed).",
        "マイナンバー利用事務系とLGWAN接続系・LGWAN・住基ネット・ガバメントクラウドの間で、"
        "特定通信として登録されていない経路または通信(住基CS経由の住基ネットは可)。",
        "Close the path, or declare it as a pinned channel (特定通信) with reason and approver.",
        "経路を閉じるか、理由と承認者を付けた特定通信(端末・ポート固定)として登録する。",
    ),
    Rule(
        "MN-SPECIFIED-COMM",
        Severity.HIGH,
        "Specified communication must be pinned",
        "特定通信の限定",
        # "原則として": exceptions exist and must be narrow. 狛江市 allows none, so is not cited.
        (
            *_cite(TOKOROZAWA, "6(3)①"),
            *_cite(OJIYA, "7(3)①"),
            *_cite(SAKAI, "第6条第3号ア"),
            RESILIENCE,
        ),
        "A channel touching the My Number tier that is not pinned to one host at each end and "
        "named services; in captures, a flow between a channel's endpoints on another service or "
        "in the other direction.",
        "マイナンバー利用事務系に関わる特定通信が、両端1台・サービス指定に限定されていない。"
        "キャプチャでは、特定通信の両端間で別サービスまたは逆方向の通信。",
        "Pin the channel to single hosts and named services.",
        "特定通信の両端を単一ホストに、サービスを個別に限定する。",
    ),
    Rule(
        "LG-INET-SPLIT",
        Severity.CRITICAL,
        "LGWAN / Internet path split",
        "通信経路の分割",
        (
            *_cite(TOKOROZAWA, "2(14)", "6(3)②"),
            *_cite(OJIYA, "2(12)", "7(3)②"),
            *_cite(SAKAI, "第6条第3号イ"),
            *_cite(KOMAE, "2(12)", "7(1)イ"),
            RESILIENCE,
        ),
        "A path or flow between the LGWAN tier (or LGWAN) and the Internet tier that is not "
        "sanitized: neither ending at a sanitizing gateway that accepts the service nor starting "
        "at one that delivers it.",
        "LGWAN接続系(またはLGWAN)とインターネット接続系の間の無害化されていない経路または通信"
        "(無害化装置・画面転送で終端されていない)。",
        "Route the crossing through a sanitizing gateway (screen transfer, mail or file "
        "sanitizer), or remove the permits that open it.",
        "画面転送・メール無害化・ファイル無害化を経由させるか、経路を開く許可ルールを削除する。",
    ),
    Rule(
        "LG-NO-INTERNET",
        Severity.CRITICAL,
        "LGWAN tier never reaches the Internet",
        "LGWAN接続系からのインターネット接続禁止",
        (
            *_cite(TOKOROZAWA, "2(12)", "6(3)②"),
            *_cite(OJIYA, "2(10)", "7(3)②"),
            *_cite(SAKAI, "第2条第9号", "第6条第3号イ"),
            *_cite(KOMAE, "2(10)", "7(1)イ"),
            RESILIENCE,
        ),
        "A path or flow between the LGWAN tier and the public Internet or the security cloud; "
        "under alpha-prime, through an lbo-gateway to one of its allow_destinations is allowed.",
        "LGWAN接続系とインターネット・セキュリティクラウドの間の経路または通信"
        "(α'モデルでローカルブレイクアウト装置経由の許可先は除く)。",
        "Remove the leftover route or permit; under α′ send cloud use through the lbo-gateway.",
        "残存経路や許可ルールを削除する。α'ではローカルブレイクアウト装置の許可先に限定する。",
    ),
    Rule(
        "INET-EGRESS-VIA-CLOUD",
        Severity.CRITICAL,
        "Internet egress through the security cloud",
        "自治体情報セキュリティクラウド経由のインターネット接続",
        (*INET_CLAUSES, RESILIENCE),
        "A path or flow between the Internet tier and the public Internet that does not end at "
        "a security-cloud gateway.",
        "インターネット接続系とインターネットの間で、自治体情報セキュリティクラウドを経由しない"
        "経路または通信。",
        "Remove the direct breakout; send Internet traffic through the security cloud.",
        "直接のインターネット出口を削除し、セキュリティクラウド経由に集約する。",
    ),
    Rule(
        "GEN-NO-BRIDGING",
        Severity.CRITICAL,
        "No bridging between tiers",
        "系間のブリッジ禁止",
        (
            *_cite(TOKOROZAWA, "2(14)"),
            *_cite(OJIYA, "2(12)"),
            *_cite(SAKAI, "第6条第3号イ"),
            *_cite(KOMAE, "2(12)"),
            RESILIENCE,
        ),
        "A node that is neither a forwarder nor a gateway has addresses in two tiers.",
        "転送装置・ゲートウェイ以外のノードが複数の系にアドレスを持つ(二重接続)。",
        "Give the node one tier, or model the device as the firewall or gateway it really is.",
        "ノードを一つの系に限定するか、実際の役割(FW・ゲートウェイ)として記述する。",
    ),
    Rule(
        "GEN-ZONE-ASSIGNED",
        Severity.HIGH,
        "Every address belongs to a zone",
        "全アドレスのゾーン割当て",
        (
            *_cite(TOKOROZAWA, "2(11)", "2(12)", "2(13)"),
            *_cite(OJIYA, "2(9)", "2(10)", "2(11)"),
            *_cite(SAKAI, "第2条第8号", "第2条第9号", "第2条第10号"),
            *_cite(KOMAE, "2(9)", "2(10)", "2(11)"),
        ),
        "A flow endpoint whose address is in no declared zone and is not global.",
        "通信の端点アドレスが、どのゾーンにも属さず、グローバルアドレスでもない。",
        "Add the subnet to the zone it belongs to, or find the unknown host.",
        "該当サブネットをゾーンに登録するか、未知の端末を特定する。",
    ),
    Rule(
        "GEN-DEFAULT-DENY",
        Severity.HIGH,
        "Default deny between tiers",
        "系間通信の原則禁止",
        (
            *_cite(TOKOROZAWA, "6(3)"),
            *_cite(OJIYA, "7(3)"),
            *_cite(SAKAI, "第6条第3号"),
            *_cite(KOMAE, "7(1)"),
            RESILIENCE,
        ),
        "Any other cross-tier path or flow the policy matrix forbids (e.g. lgwan to jukinet).",
        "ポリシー表で禁止されたその他の系間の経路または通信(例: LGWAN接続系から住基ネット)。",
        "Remove the permits or links that open the path, or declare a channel where allowed.",
        "経路を開く許可ルール・接続を削除するか、許される場合は例外として登録する。",
    ),
    Rule(
        "GEN-EXCEPTION-EXPIRED",
        Severity.HIGH,
        "Expired exception",
        "期限切れの例外",
        (EXCEPTIONS, *_cite(SAKAI, "第7条"), *_cite(AKISHIMA, "第9条")),
        "A channel past its expiry date; it then covers nothing.",
        "有効期限を過ぎた例外(特定通信等)。期限切れの例外は何も許可しない。",
        "Renew the approval with a new expiry, or remove the channel and the path it served.",
        "承認を更新して期限を延長するか、例外とその経路を削除する。",
    ),
    Rule(
        "LG-INET-SANITIZED",
        Severity.HIGH,
        "Sanitizing gateway settings",
        "無害化通信の設定",
        (
            *_cite(TOKOROZAWA, "2(15)"),
            *_cite(OJIYA, "2(13)"),
            *_cite(SAKAI, "第2条第11号"),
            *_cite(KOMAE, "2(13)"),
            RESILIENCE,
        ),
        "A gateway whose settings defeat sanitization: screen transfer with clipboard, drive or "
        "printer redirect on; mail sanitizer without html_to_text or an attachments policy.",
        "無害化を損なう設定のゲートウェイ(画面転送でクリップボード・ドライブ・プリンタ転送が有効、"
        "メール無害化でテキスト化または添付ファイル処理が未設定)。",
        "Turn the redirections off; enable HTML-to-text and an attachment policy.",
        "各種リダイレクトを無効にし、メール本文のテキスト化と添付ファイル処理を設定する。",
    ),
    Rule(
        "MN-TERMINAL-CONTROLS",
        Severity.HIGH,
        "My Number terminal controls",
        "マイナンバー利用事務系端末の対策",
        (*MN_CLAUSES, RESILIENCE),
        "A My Number tier terminal without usb_block: true and mfa: true "
        "(情報持ち出し不可設定, 多要素認証).",
        "マイナンバー利用事務系の端末に、情報持ち出し不可設定(usb_block)または多要素認証(mfa)がない。",
        "Enable device control against taking data out, and multi-factor authentication.",
        "端末からの情報持ち出し不可設定と多要素認証を導入する。",
    ),
    Rule(
        "MODEL-BETA-CONDITIONS",
        Severity.HIGH,
        "β model conditions",
        "βモデルの条件",
        (RESILIENCE,),
        "Under beta or beta-prime, an Internet tier terminal without edr: true.",
        "β・β'モデルで、インターネット接続系の端末にEDR(edr: true)がない。",
        "Deploy EDR on every Internet tier terminal, as the β model requires.",
        "βモデルの条件として、インターネット接続系の全端末にEDRを導入する。",
    ),
    Rule(
        "LG-OUTBOUND-DATA",
        Severity.WARNING,
        "Outbound mail hand-off",
        "LGWAN接続系からの外部送信",
        (*LG_CLAUSES, RESILIENCE),
        "An LGWAN tier to Internet tier path or flow on smtp to a mail-relay (outbound mail), "
        "not covered by a channel.",
        "LGWAN接続系からインターネット接続系のメール中継へのsmtp経路または通信(外部へのメール送信)で、"
        "例外として登録されていないもの。",
        "Declare the hand-off as a channel with its reason, or send mail from the Internet tier.",
        "理由を付けて例外として登録するか、インターネット接続系から送信する運用にする。",
    ),
)

RULES_BY_ID: Mapping[str, Rule] = {r.id: r for r in RULES}


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (case-insensitive); UsageError when there is none."""
    rule = RULES_BY_ID.get(rule_id.upper())
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
