"""Every word the formatters print, in English and Japanese: one table.

A key without a prefix is shared: more than one format prints it with the same words. A key
with a format's prefix (`text.`, `md.`, `html.`, `junit.`, `import.`) is that format's own
wording; `labels(lang, "html")` gives html the shared words with its own laid over them, so a
format reads `t["path"]` whichever entry that is. Adding a language means adding a column
here (and `Lang`), not editing every formatter. Messages about the input (errors and
warnings) are the other table, segcheck.messages, which `Lang` comes from.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from ..messages import Lang
from ..model import ROLE_NAMES_JA, TIER_NAMES_JA, Role, Tier

__all__ = ["LABELS", "SCOPES", "TERMS", "VALUES", "Lang", "labels", "tier_word", "value_word"]


# key -> (English, Japanese)
TERMS: dict[str, tuple[str, str]] = {
    # Shared: the same words in more than one format.
    "absent": ("findings fixed since", "解消した指摘"),
    "cause": ("cause", "原因"),
    "closes": ("finding(s)", "件の指摘"),
    "disruptive": (
        "CAUTION, these also carry allowed traffic (nothing cheaper closes the finding):",
        "注意: 次は許可された通信も止める(より安価な是正がない):",
    ),
    "more_pairs": ("… {n} more zone pair(s)", "… ほかにゾーンの組 {n} 件"),
    "narrow_permits": (
        "narrow (they also carry allowed traffic) permits",
        "許可された通信も通すため絞り込む許可ルール",
    ),
    "plan": ("Fix plan", "是正計画"),
    "plan_head": (
        "{n} change(s) close {m} finding(s) about routes and forwarders",
        "{n} 件の変更で経路・転送の指摘 {m} 件をすべて解消",
    ),
    "plan_unverified": (
        "NOT verified: {r} path finding(s) remain after the changes",
        "未確認: 変更後も経路の指摘が {r} 件残る",
    ),
    "plan_verified": (
        "verified by checking the changed plan again",
        "変更後の構成を再検査して確認済み",
    ),
    "remove_nodes": ("remove node", "機器を撤去"),
    "remove_node": ("remove node", "機器を撤去"),
    "narrow_permit": (
        "narrow permit (it also carries allowed traffic)",
        "許可ルールを絞り込む(許可された通信も通すため)",
    ),
    "disruptive_item": (
        "CAUTION, carries allowed traffic (nothing cheaper closes it):",
        "注意: 許可された通信も止める(より安価な是正がない):",
    ),
    "routes": ("zone pairs", "ゾーンの組"),
    "channel_use": ("channel use observed in the captures", "キャプチャで観測した例外の利用"),
    "channel_unused": ("no flow used it", "利用した通信なし"),
    "conversations": ("conversations", "通信の組"),
    "grouped": (
        "{c} conversation(s) stand for {f} flow finding(s) (--group-by flow lists each flow)",
        "通信の指摘 {f} 件を通信の組 {c} 件にまとめて表示 (通信ごとの一覧は --group-by オプションで指定)",
    ),
    "baseline": ("Compared with the baseline", "比較基準との比較"),
    "channel": ("channel", "例外"),
    "expired": ("EXPIRED", "期限切れ"),
    "findings": ("Findings", "指摘事項"),
    "first_skipped": ("first at line", "最初は行"),
    "fix": ("fix", "是正"),
    "frame": ("frame", "フレーム"),
    "line": ("line", "行"),
    "pivot": ("id", "ID"),
    "device": ("device", "機器判定"),
    "generated": ("Generated", "作成日時"),
    "pairs": ("pairs", "組"),
    "path": ("path", "経路"),
    "permits": ("permits", "許可ルール"),
    "profile": ("Profile", "モデル"),
    "remove_link": ("remove link", "接続を削除"),
    "remove_links": ("remove links", "接続を削除"),
    "remove_permit": ("remove permit", "許可ルールを削除"),
    "remove_permits": ("remove permits", "許可ルールを削除"),
    "summary": ("Summary", "集計"),
    "tool": ("Tool", "ツール"),
    "topology": ("Topology", "構成"),
    # `segcheck check|scan` on a terminal (text.py).
    "text.absent": ("fixed since", "解消"),
    "text.baseline": ("baseline", "比較基準"),
    "text.byte_offset": ("byte offset", "バイト位置"),
    "text.check": ("check", "構成検査"),
    "text.clean": (
        "no findings: the three-tier separation holds",
        "指摘なし: 三層分離は保たれている",
    ),
    "text.disabled": ("disabled", "無効ルール"),
    "text.excepted": ("covered by channels", "例外により許可"),
    "text.finding": ("finding", "件"),
    "text.findings": ("findings", "件"),
    "flows": ("flows", "フロー"),
    "text.gating": ("new or escalated", "新規または重大化"),
    "text.incomplete": (
        "EVIDENCE INCOMPLETE: the findings stand, but their absence proves nothing",
        "証跡が不完全: 指摘は有効だが、指摘がないことは何も証明しない",
    ),
    "text.not_proven": (
        "no findings in what was seen: the three-tier separation is NOT proven",
        "確認できた範囲に指摘なし: 三層分離は証明されていない",
    ),
    "text.pkts": ("pkts", "パケット"),
    "text.plan": ("fix plan", "是正計画"),
    "text.profile": ("profile", "モデル"),
    "text.read": ("packets read", "読込パケット"),
    "text.read_records": ("records read", "読込レコード"),
    "text.permit_use": (
        "Permit use in the firewall logs (rule review)",
        "ファイアウォールログにおける許可ルールの利用状況 (棚卸し)",
    ),
    "text.flows_through": (
        "{flows} flows, {violations} forbidden, last {last}",
        "{flows} 件 (禁止 {violations} 件)、最終 {last}",
    ),
    "text.never_used": ("no flow in the logs", "ログに通信なし"),
    "text.drift": (
        "DRIFT: the devices do not run the configurations checked",
        "設定の乖離: 機器は検査した設定で動作していない",
    ),
    "text.unmatched": ("logged policies of no imported device", "取込設定のない機器のポリシー"),
    "text.report": ("report", "報告"),
    "text.scan": ("scan", "通信検査"),
    "text.skipped": ("skipped", "スキップ"),
    "text.stopped": ("stopped at", "停止位置"),
    "text.summary": ("summary", "集計"),
    "text.undefined": ("undefined objects", "未定義オブジェクト"),
    "text.unmapped": ("(no zone)", "(ゾーン外)"),
    "text.unrecognised": ("unrecognised lines", "未解釈行"),
    "text.unusable": (
        "EVIDENCE UNUSABLE: no traffic was seen in at least one capture",
        "証跡が使用不能: 通信が一つも確認できないキャプチャがある",
    ),
    # Markdown for a change request (markdown.py).
    "md.approver": ("approver", "承認者"),
    "md.channels": ("Channel register", "例外(特定通信)一覧"),
    "md.clean": (
        "No findings: the three-tier separation holds.",
        "指摘なし: 三層分離は保たれている。",
    ),
    "md.count": ("count", "件数"),
    "md.ends": ("example", "例"),
    "md.excepted": ("Covered by channels", "例外により許可された経路"),
    "md.expires": ("expires", "有効期限"),
    "md.from": ("from", "送信元"),
    "md.gaps_note": (
        "The findings stand, but what was not seen below means their absence proves nothing: the separation is **not proven**.",
        "指摘は有効だが、以下の未確認部分があるため、指摘がないことは何も証明しない: 三層分離は**証明されていない**。",
    ),
    "md.id": ("id", "ID"),
    "md.incomplete": ("Evidence incomplete", "証跡が不完全"),
    "md.inputs": ("Inputs", "入力"),
    "md.kind": ("kind", "種別"),
    "md.message": ("message", "内容"),
    "md.not_proven": (
        "No findings in what was seen: the three-tier separation is **not proven**.",
        "確認できた範囲に指摘なし: 三層分離は**証明されていない**。",
    ),
    "md.closes": ("findings", "指摘"),
    "md.pair": ("zones", "ゾーン"),
    "md.reason": ("reason", "理由"),
    "md.rule": ("rule", "ルール"),
    "md.rules": ("rules version", "ルール版"),
    "md.service": ("service", "サービス"),
    "md.severity": ("severity", "重大度"),
    "md.ticket": ("ticket", "申請番号"),
    "md.title": ("Three-tier separation check", "三層分離 構成検査"),
    "md.to": ("to", "宛先"),
    "md.unusable": ("Evidence unusable", "証跡が使用不能"),
    "md.where": ("where", "箇所"),
    "md.log_join": (
        "Firewall logs and imported configurations",
        "ファイアウォールログと取り込んだ設定",
    ),
    "md.drift": (
        "Drift: the devices do not run the configurations checked",
        "設定の乖離: 機器は検査した設定で動作していない",
    ),
    "md.permit_use": (
        "Permit use in the logs (rule review)",
        "ログにおける許可ルールの利用状況 (棚卸し)",
    ),
    "md.node": ("node", "機器"),
    "md.name": ("name", "名称"),
    "md.log_flows": ("flows", "通信数"),
    "md.log_forbidden": ("forbidden", "禁止"),
    "md.last_seen": ("last seen", "最終"),
    "md.never_used": ("never used in the logs", "ログで未使用"),
    "md.unmatched": ("Logged policies of no imported device", "取込設定のない機器のポリシー"),
    # report.html (html.py and templates/report.html.j2); kinds of matrix cells are keys too.
    "html.allow": ("allow", "許可"),
    "html.approver": ("Approver", "承認者"),
    "html.byte": ("byte", "バイト位置"),
    "html.captures": ("Captures", "キャプチャ"),
    "html.catalogue": ("Rule catalogue", "ルール一覧"),
    "html.channel": ("channel only", "例外のみ"),
    "html.channel_id": ("Channel", "例外"),
    "html.channels": ("Channel register (特定通信 and other exceptions)", "例外(特定通信)一覧"),
    "html.command": ("Command", "実行内容"),
    "html.count": ("Count", "件数"),
    "html.diagram": ("Topology diagram", "ネットワーク構成図"),
    "html.addresses": ("Ports and addresses", "ポートとアドレス"),
    "html.cause": ("Cause", "原因"),
    "html.conversation": ("Conversation", "通信の組"),
    "html.first_flow": ("first flow", "最初の通信"),
    "html.observed_use": ("Observed use", "観測した利用"),
    "html.seen": ("Seen", "観測期間"),
    "html.change": ("Change", "変更"),
    "html.closes": ("Findings closed", "解消する指摘"),
    "html.diagram_note": (
        "Tiers side by side: the My Number tier, the LGWAN-connected tier (the LGWAN under it), the Internet tier; external networks at the edges. Each zone is a box coloured by tier listing its hosts; forwarders stand between. Red: the causes of findings (a bridging forwarder, a link joining tiers, a firewall with its opening permits).",
        "系統を左右に並べて表示(マイナンバー利用事務系 | LGWAN接続系(下に LGWAN) | インターネット接続系、外部網は両端)。ゾーンは系統ごとに色分けした枠で機器を列挙し、転送機器はその間に置く。赤: 指摘の原因(系をまたぐ転送機器、系をまたぐ接続、経路を開く許可ルールを持つFW)。",
    ),
    "html.evidence_incomplete": (
        "Evidence incomplete: findings stand, but their absence proves nothing.",
        "証跡が不完全: 指摘は有効だが、指摘がないことは何も証明しない。",
    ),
    "html.evidence_unusable": (
        "Evidence unusable: no traffic was seen in at least one capture.",
        "証跡が使用不能: 通信が一つも確認できないキャプチャがある。",
    ),
    "html.example": ("Example", "例"),
    "html.excepted": ("Covered by channels", "例外により許可された経路・通信"),
    "html.expires": ("Expires", "有効期限"),
    "html.fires": ("Fires when", "検出条件"),
    "html.flow": ("Flow", "通信"),
    "html.flow_matrix": (
        "Zone-to-zone flows (flows / bytes)",
        "ゾーン間の通信 (フロー数 / バイト数)",
    ),
    "html.flow_matrix_note": (
        "Rows: initiator zone; columns: responder zone. Red: a violating or suspect flow.",
        "行: 開始側ゾーン、列: 応答側ゾーン。赤: 違反または疑いのある通信を含む。",
    ),
    "html.forbidden": ("forbidden", "禁止"),
    "html.from": ("From", "送信元"),
    "html.from_to": ("from \\ to", "開始 \\ 応答"),
    "html.id": ("ID", "ID"),
    "html.inputs": ("Inputs", "入力ファイル"),
    "html.imports": ("Firewall configurations read", "読み込んだファイアウォール設定"),
    "html.import_notes": ("What the import found", "取込で判明した事項"),
    "html.judged_on": ("Channel expiry judged on", "例外の期限判定日"),
    "html.juki-cs": ("juki-cs only", "住基CS経由のみ"),
    "html.kind": ("Kind", "種別"),
    "html.lang": ("en", "ja"),
    "html.matrix": ("Policy matrix by tier pair", "系統間の通信ポリシー"),
    "html.matrix_note": (
        "Rows: initiator tier; columns: responder tier. Red: a finding for this pair; blue: only paths or flows covered by a channel; green: allowed; grey: restricted, nothing found.",
        "行: 通信の開始側、列: 応答側。赤: 指摘あり、青: 例外(特定通信)による通信のみ、緑: 許可、灰: 制限あり・指摘なし。",
    ),
    "html.name": ("Name", "名称"),
    "html.no_channels": ("No channels declared.", "例外の登録なし。"),
    "html.no_diagram": ("Diagram not drawn", "構成図は作成されていない"),
    "html.no_expiry": ("no expiry", "期限なし"),
    "html.no_findings": ("No findings.", "指摘なし。"),
    "html.no_flows": ("No flows.", "通信なし。"),
    "html.node": ("Node", "機器"),
    "html.not_stopped": ("read to the end", "最後まで読込"),
    "html.packets_read": ("Packets read", "読込パケット"),
    "html.pkts": ("pkts", "パケット"),
    "html.packets_skipped": ("Packets skipped", "スキップ"),
    "html.records_read": ("Records read", "読込レコード"),
    "html.records_skipped": ("Records unreadable", "読込不能レコード"),
    "html.log_join": (
        "Firewall logs and imported configurations",
        "ファイアウォールログと取り込んだ設定",
    ),
    "html.drift": (
        "Drift: the devices do not run the configurations checked",
        "設定の乖離: 機器は検査した設定で動作していない",
    ),
    "html.permit_use": (
        "Permit use in the logs (rule review)",
        "ログにおける許可ルールの利用状況 (棚卸し)",
    ),
    "html.log_flows": ("Flows", "通信数"),
    "html.log_forbidden": ("Forbidden", "禁止"),
    "html.last_seen": ("Last seen", "最終"),
    "html.never_used": ("never used in the logs", "ログで未使用"),
    "html.path": ("Path", "パス"),
    "html.permits": ("Opening permits", "経路を開く許可ルール"),
    "html.reason": ("Reason", "理由"),
    "html.remediation": ("Remediation", "是正"),
    "html.routes": ("Zone pairs", "ゾーンの組"),
    "html.rule": ("Rule", "ルール"),
    "html.rules_version": ("Rules version", "ルール版"),
    "html.sanitized": ("sanitized only", "無害化経由のみ"),
    "html.service": ("Service", "サービス"),
    "html.severity": ("Severity", "重大度"),
    "html.sources": ("Sources", "根拠"),
    "html.status": ("Status", "状態"),
    "html.stopped_at": ("Stopped at", "停止位置"),
    "html.subtitle": (
        "Network separation (三層の対策) verified by segcheck",
        "segcheck によるネットワーク分離の検証結果",
    ),
    "html.ticket": ("Ticket", "申請番号"),
    "html.title": ("Three-tier separation: audit evidence", "三層の対策 監査資料"),
    "html.doc_author": ("Prepared by", "作成者"),
    "html.doc_reviewer": ("Reviewed by", "確認者"),
    "html.doc_revision": ("Revision", "版数"),
    "html.doc_date": ("Date", "日付"),
    "html.doc_control": ("Document control", "文書管理"),
    "html.page": ("Page", "ページ"),
    "html.exec_summary": ("Summary of causes", "指摘の原因(要約)"),
    "html.exec_cause": ("Cause", "原因"),
    "html.exec_findings": ("Findings", "指摘"),
    "html.exec_more": ("and {n} more causes (see Findings)", "ほか {n} 件の原因(指摘事項を参照)"),
    "html.to": ("To", "宛先"),
    "html.unmapped": ("(no zone)", "(ゾーン外)"),
    "html.valid": ("valid", "有効"),
    "html.verdict_clean": (
        "No findings at any severity: the three-tier separation holds.",
        "指摘なし: 三層分離は保たれている。",
    ),
    "html.verdict_findings": (
        "Findings were made: the separation does not hold as planned.",
        "指摘あり: 計画どおりの分離が保たれていない。",
    ),
    "html.verdict_not_proven": (
        "No findings in what was seen, but the evidence is incomplete: the three-tier separation is NOT proven.",
        "確認できた範囲に指摘はないが、証跡が不完全: 三層分離は証明されていない。",
    ),
    "html.where": ("Location", "箇所"),
    "html.witness": ("Witness path", "経路"),
    "html.zones": ("Zones", "ゾーン"),
    # JUnit witness lines (junit.py); `{…}` fields are filled in by the formatter.
    "junit.covered": ("covered by channel {channel}", "例外 {channel}"),
    "junit.fixed": ("fixed since the baseline", "比較基準から解消"),
    "junit.known": (
        "known since the baseline {path}: nothing new or escalated",
        "比較基準 {path} で既知: 新規・重大化なし",
    ),
    "junit.flow": ("flow", "通信"),
    "junit.frame_of": ("frame {frame} of {input}", "{input} のフレーム {frame}"),
    "junit.line_of": ("line {frame} of {input}", "{input} の {frame} 行目"),
    "junit.pairs": ("pairs", "組数"),
    # The note of a `scan --baseline` CSV row for a flow finding this run no longer has.
    "csv.fixed": (
        "in the baseline {path}, not seen in this run",
        "比較基準 {path} にあり、今回は観測されず",
    ),
    # `segcheck import` status comments (imports.py).
    "import.assumptions": ("assumptions (rules)", "仮定（ルール数）"),
    "import.context": ("context", "コンテキスト"),
    "import.disabled": ("disabled rules (skipped)", "無効なルール（対象外）"),
    "import.matches_nothing": (
        "accept rules matching no address behind their interfaces or zones",
        "インターフェース・ゾーンの先にあるアドレスに一致しない許可ルール",
    ),
    "import.no_address": (
        "no interface address found: add `ip:` before using this node",
        "インターフェースのアドレスが見つかりません: `ip:` を追加してください",
    ),
    "import.permits": ("accept rules allowing something", "通過を許可するルール"),
    "import.sha": ("SHA-256", "SHA-256"),
    "import.shadowed": (
        "accept rules fully covered by earlier denies",
        "先行する拒否ルールに完全に覆われた許可ルール",
    ),
    "import.status": ("import status", "取込状況"),
    "import.undefined": ("undefined objects", "未定義オブジェクト"),
    "import.unrecognised": ("unrecognised", "解釈できなかった行"),
    "import.unused": ("unused objects", "未使用オブジェクト"),
    "import.warnings": ("warnings", "警告"),
}

SCOPES = ("text", "md", "html", "junit", "csv", "import")

LABELS: dict[Lang, dict[str, str]] = {
    lang: {key: pair[column] for key, pair in TERMS.items()}
    for column, lang in enumerate((Lang.EN, Lang.JA))
}


@functools.cache
def _view(lang: Lang, scope: str) -> Mapping[str, str]:
    table = LABELS[lang]
    view = {key: text for key, text in table.items() if "." not in key}
    prefix = scope + "."
    view.update((key[len(prefix) :], text) for key, text in table.items() if key.startswith(prefix))
    return MappingProxyType(view)


def labels(lang: str, scope: str) -> Mapping[str, str]:
    """The words one format prints in a language: shared ones, its own laid over them."""
    if scope not in SCOPES:
        raise ValueError(f"unknown label scope {scope!r}")
    return _view(Lang.of(lang), scope)


# The values every format prints as words: group -> value -> (English, Japanese). English is
# the value itself (what JSON, SARIF and the goldens carry); Japanese is what a Japanese
# reader expects in its place (重大, not critical).
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "severity": {
        "critical": ("critical", "重大"),
        "high": ("high", "高"),
        "warning": ("warning", "警告"),
        "info": ("info", "情報"),
    },
    "state": {  # of a flow
        "established": ("established", "確立"),
        "attempted": ("attempted", "試行"),
        "unknown": ("unknown", "不明"),
    },
    "verdict": {
        "violation": ("violation", "違反"),
        "suspect": ("suspect", "疑い"),
        "unknown": ("unknown", "不明"),
        "permitted": ("permitted", "許可"),
        "sanitized": ("sanitized", "無害化"),
        "excepted": ("excepted", "例外"),
    },
    "kind": {  # of an input
        "topology": ("topology", "構成"),
        "config": ("config", "機器設定"),
        "pcap": ("pcap", "pcap"),
        "pcapng": ("pcapng", "pcapng"),
        "zeek-conn": ("zeek-conn", "Zeek conn.log"),
        "baseline": ("baseline", "比較基準"),
    },
    "status": {  # of an imported configuration
        "passed": ("passed", "取込完了"),
        "partly-recognised": ("partly-recognised", "一部のみ解釈"),
        "failed": ("failed", "取込失敗"),
    },
    "baseline": {  # a finding against --baseline
        "new": ("new", "新規"),
        "updated": ("updated", "変化"),
        "renamed": ("renamed", "名称変更"),
        "unchanged": ("unchanged", "変化なし"),
        "fixed": ("fixed", "解消"),
        "excepted-now": ("excepted-now", "例外で許可に変更"),
        "escalated": ("escalated", "重大化"),
    },
    "role": {  # of a node, as the diagram lists it
        role.value: (role.value, ROLE_NAMES_JA[role]) for role in Role
    },
    "command": {
        "check": ("check", "構成検査"),
        "scan": ("scan", "通信検査"),
        "report": ("report", "監査資料作成"),
    },
    "profile_name": {  # in a table or list under a "Profile" / 「モデル」 heading
        "alpha": ("alpha", "α"),
        "alpha-prime": ("alpha-prime", "α′"),
        "beta": ("beta", "β"),
        "beta-prime": ("beta-prime", "β′"),
    },
    "profile": {  # "profile alpha" / 「αモデル」 in running text
        "alpha": ("profile alpha", "αモデル"),
        "alpha-prime": ("profile alpha-prime", "α′モデル"),
        "beta": ("profile beta", "βモデル"),
        "beta-prime": ("profile beta-prime", "β′モデル"),
    },
}


def value_word(lang: str, group: str, value: str) -> str:
    """A value (`critical`) as a format prints it in `lang` (重大); unknown values as they are."""
    pair = VALUES[group].get(value)
    if pair is None:
        return value
    return pair[1] if Lang.of(lang) is Lang.JA else pair[0]


def tier_word(lang: str, tier: str | None) -> str:
    """A tier (`lgwan`) as a format prints it: the key in English, LGWAN接続系 in Japanese."""
    if tier is None:
        return ""
    if Lang.of(lang) is Lang.JA:
        try:
            return TIER_NAMES_JA[Tier(tier)]
        except ValueError:
            return tier
    return tier
