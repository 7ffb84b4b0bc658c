"""Words and one-line descriptions shared by the diff renderers (text, Markdown, HTML)."""

from __future__ import annotations

from ..findings import Drift, Finding
from ..report.labels import value_word
from ..rules import Severity
from .identity import kind_of
from .model import Cause, Diff, DriftChange, FindingChange, PlanChange, Side, State

SIGNS = {
    State.NEW: "+",
    State.UPDATED: "~",
    State.RENAMED: "=",
    State.EXCEPTED_NOW: "±",
    State.FIXED: "-",
    State.UNCHANGED: " ",
}
ACTION_SIGNS = {"added": "+", "removed": "-", "modified": "~", "renamed": "="}

STATE_NAMES = {
    "en": {
        State.NEW: "NEW",
        State.UPDATED: "UPDATED",
        State.RENAMED: "RENAMED",
        State.EXCEPTED_NOW: "EXCEPTED NOW",
        State.FIXED: "FIXED",
        State.UNCHANGED: "UNCHANGED",
    },
    "ja": {
        State.NEW: "新規",
        State.UPDATED: "変化",
        State.RENAMED: "名称変更",
        State.EXCEPTED_NOW: "例外で許可に変更",
        State.FIXED: "解消",
        State.UNCHANGED: "変化なし",
    },
}

_CATEGORIES_JA = {
    "permit": "許可ルール",
    "link": "接続",
    "channel": "例外",
    "node": "ノード",
    "zone": "ゾーン",
    "service": "サービス",
    "profile": "モデル",
    "import": "設定取込",
}
_ACTIONS_JA = {"added": "追加", "removed": "削除", "modified": "変更", "renamed": "名称変更"}
_SPECIAL_JA = {
    "channel-expired": "例外の期限切れ",
    "settings-changed": "設定変更",
    "traffic-seen": "新たに観測",
    "traffic-gone": "観測されず",
    "traffic-changed": "観測内容の変化",
    "plan-changed": "入力の変更",
    "unknown": "原因不明",
}

LABELS = {
    "en": {
        "title": "Change review",
        "old": "old",
        "new": "new",
        "today": "today",
        "plan": "plan changes",
        "no_plan": "no plan view: a side is a result file (diff two topologies for it)",
        "plan_none": "no plan change",
        "findings": "findings",
        "opens": "opens",
        "closes": "closes",
        "touches": "changes",
        "pairs": "pairs",
        "via": "via",
        "eg": "e.g.",
        "node": "node",
        "channel": "channel",
        "covered": "covered by",
        "approved": "approved by",
        "expires": "expires",
        "ticket": "ticket",
        "was_covered": "was covered by",
        "renamed": "renamed",
        "occurrences": "flows",
        "unchanged_hidden": "unchanged: {n} (--show-unchanged lists them)",
        "exit_fail": "exit 1: {n} new or escalated finding(s) at or above {sev}",
        "exit_ok": "exit 0: no new or escalated finding at or above {sev}",
        "exit_drift": "exit 1: {n} new or escalated finding(s) at or above {sev}, {d} new drift "
        "(a device not running the configuration checked counts as high)",
        "drift": "DRIFT: firewall logs against the imported configurations",
        "drift_hidden": "unchanged drift: {n} (--show-unchanged lists them)",
        "exit_gap": "exit 2: NEW's evidence is incomplete; nothing new was seen, but that proves nothing",
        "exit_unusable": "exit 2: NEW's evidence is unusable (a capture with no traffic)",
        "escalated": "escalated",
        "note": "note",
        "verdict": "Verdict",
        "summary": "Summary",
        "drift_column": "config drift",
        "state": "state",
        "change": "change",
        "id": "id",
        "detail": "detail",
        "effect": "effect",
        "cause": "cause",
        "finding": "finding",
        "where": "where",
        "inputs": "inputs",
        "kind": "kind",
        "generated": "generated",
        "none": "none",
        "read": "also read",
    },
    "ja": {
        "title": "変更審査",
        "old": "変更前",
        "new": "変更後",
        "today": "判定日",
        "plan": "構成の変更",
        "no_plan": "構成の変更は表示できない: 一方が結果ファイル (二つの構成ファイルを比べると表示)",
        "plan_none": "構成の変更なし",
        "findings": "指摘",
        "opens": "新規",
        "closes": "解消",
        "touches": "変化",
        "pairs": "組",
        "via": "経由",
        "eg": "例",
        "node": "ノード",
        "channel": "例外",
        "covered": "許可する例外",
        "approved": "承認者",
        "expires": "有効期限",
        "ticket": "申請番号",
        "was_covered": "以前の例外",
        "renamed": "名称変更",
        "occurrences": "フロー",
        "unchanged_hidden": "変化なし: {n} 件 (--show-unchanged で一覧)",
        "exit_fail": "終了コード 1: {sev} 以上の新規または重大化した指摘が {n} 件",
        "exit_ok": "終了コード 0: {sev} 以上の新規または重大化した指摘なし",
        "exit_drift": "終了コード 1: {sev} 以上の新規または重大化した指摘が {n} 件、新たな設定の乖離が "
        "{d} 件 (検査した設定で動作していない機器は「高」として扱う)",
        "drift": "設定の乖離: ファイアウォールログと取込設定",
        "drift_hidden": "変化のない設定の乖離: {n} 件 (--show-unchanged で一覧)",
        "exit_gap": "終了コード 2: 変更後の証跡が不完全 (新たな指摘はないが、何も証明しない)",
        "exit_unusable": "終了コード 2: 変更後の証跡が使用不能 (通信のないキャプチャ)",
        "escalated": "重大化",
        "note": "注記",
        "verdict": "判定",
        "summary": "集計",
        "drift_column": "設定の乖離",
        "state": "状態",
        "change": "変更",
        "id": "ID",
        "detail": "内容",
        "effect": "影響",
        "cause": "原因",
        "finding": "指摘",
        "where": "箇所",
        "inputs": "入力",
        "kind": "種別",
        "generated": "作成日時",
        "none": "なし",
        "read": "その他の入力",
    },
}


_FIELDS_JA = {
    "from": "送信元",
    "to": "宛先",
    "service": "サービス",
    "name": "名前",
    "tier": "系",
    "subnets": "サブネット",
    "label": "表示名",
    "role": "役割",
    "addresses": "アドレス",
    "settings": "設定",
    "accepts": "受付サービス",
    "delivers": "配送サービス",
    "allow_destinations": "許可宛先",
    "reason": "理由",
    "approved_by": "承認者",
    "ticket": "申請番号",
    "expires": "有効期限",
    "file": "ファイル",
    "format": "形式",
    "context": "コンテキスト",
    "status": "状態",
    "disabled": "無効ルール",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "profile": "モデル",
    "severity": "重大度",
    "count": "端点の組",
    "occurrences": "フロー数",
    "state": "状態",
    "opening": "許可経路",
    "cause": "原因",
    "remediation": "是正",
    "channel": "例外",
}


def field_name(name: str, lang: str) -> str:
    """A field of a plan object or finding, in a language."""
    return _FIELDS_JA.get(name, name) if lang == "ja" else name


def labels(lang: str) -> dict[str, str]:
    """The label table of a language (`ja`, else English)."""
    return LABELS["ja" if lang == "ja" else "en"]


def state_name(state: State, lang: str) -> str:
    """A state's heading in a language."""
    return STATE_NAMES["ja" if lang == "ja" else "en"][state]


def cause_name(kind: str, lang: str) -> str:
    """`permit-added` as the reviewer reads it (`permit-added`, or 許可ルール追加)."""
    if lang != "ja":
        return kind
    if kind in _SPECIAL_JA:
        return _SPECIAL_JA[kind]
    category, _, action = kind.partition("-")
    return _CATEGORIES_JA.get(category, category) + _ACTIONS_JA.get(action, action)


def cause_text(cause: Cause, lang: str) -> str:
    """One cause: its name and subject."""
    name = cause_name(cause.kind, lang)
    return f"{name} {cause.subject}" if cause.subject else name


def category_name(category: str, lang: str) -> str:
    """A plan category (`permit`, or 許可ルール)."""
    return _CATEGORIES_JA.get(category, category) if lang == "ja" else category


def what(change: FindingChange, lang: str) -> str:
    """The finding in one line: rule, where it opens and an example."""
    t = labels(lang)
    f = change.finding
    kind = kind_of(f)
    if kind == "node":
        return f"{f.rule} {t['node']} {f.node}"
    if kind == "channel":
        return f"{f.rule} {t['channel']} {f.channel}"
    if kind == "flow":
        fl = f.flow
        assert fl is not None
        port = f"/{fl.dst_port}" if fl.dst_port else ""
        zones = f" ({f.src_zone or '?'}→{f.dst_zone or '?'})"
        count = max(change.new_count, change.old_count)
        times = f" ×{count} {t['occurrences']}" if count > 1 else ""
        return f"{f.rule} {f.src}→{f.dst} {fl.proto}{port} {fl.state}{zones}{times}"
    opening = ", ".join(f.permits) if f.permits else " > ".join(f.path[1:-1]) or "-"
    pairs = f" ({f.count} {t['pairs']})" if f.count != 1 else ""
    return (
        f"{f.rule} {f.src_zone}→{f.dst_zone} {t['via']} {opening} {f.service or ''} "
        f"{t['eg']} {f.src}→{f.dst}{pairs}"
    ).replace("  ", " ")


def where(finding: Finding) -> str:
    """file:line, or capture#frame."""
    loc = finding.location
    if loc.frame is not None:
        return f"{loc.path}#{loc.frame}"
    return f"{loc.path}:{loc.line}" if loc.line is not None else loc.path


def drift_where(drift: Drift) -> str:
    """The log line of a drift's first flow (file:line)."""
    example = drift.example
    return f"{example.input}:{example.line}" if example.line is not None else example.input


def drift_sections(diff: Diff, show_unchanged: bool) -> list[tuple[State, tuple[DriftChange, ...]]]:
    """Drift by state as every human format lists it: new, fixed, then unchanged when shown
    (as findings: unchanged ones are only counted unless `show_unchanged`)."""
    states = (State.NEW, State.FIXED, *((State.UNCHANGED,) if show_unchanged else ()))
    return [(s, diff.drift_of_state(s)) for s in states if diff.drift_of_state(s)]


def detail(change: FindingChange, lang: str) -> list[str]:
    """The lines under a finding: what changed, renames, the channel, the message."""
    t = labels(lang)
    out: list[str] = []
    if change.changes:
        out.append(
            "; ".join(
                f"{field_name(k, lang)} {a or '-'} → {b or '-'}" for k, a, b in change.changes
            )
        )
    if change.renamed:
        out.append(
            f"{t['renamed']}: "
            + ", ".join(
                f"{category_name(r.category, lang)} {r.old} → {r.new}" for r in change.renamed
            )
        )
    if change.channel is not None:
        ch = change.channel
        parts = [f"{t['approved']} {ch.approved_by}" if ch.approved_by else ""]
        parts.append(f"{t['expires']} {ch.expires}" if ch.expires else "")
        parts.append(f"{t['ticket']} {ch.ticket}" if ch.ticket else "")
        extra = ", ".join(p for p in parts if p)
        out.append(f"{t['covered']} {ch.id}" + (f" ({extra})" if extra else ""))
    if change.was_excepted:
        out.append(f"{t['was_covered']} {change.was_excepted}")
    return out


def effect(diff: Diff, change: PlanChange, lang: str) -> str:
    """`opens 1 critical; closes 2 high` for one plan change (empty when it did nothing)."""
    t = labels(lang)
    parts = []
    for key, indices in (("opens", change.opens), ("closes", change.closes),
                         ("touches", change.touches)):  # fmt: skip
        if not indices:
            continue
        counts: dict[Severity, int] = {}
        for j in indices:
            sev = diff.findings[j].severity
            counts[sev] = counts.get(sev, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: -kv[0].rank)
        parts.append(
            f"{t[key]} "
            + ", ".join(f"{n} {value_word(lang, 'severity', sev.value)}" for sev, n in ordered)
        )
    return "; ".join(parts)


def side_inputs(side: Side, lang: str = "en") -> list[str]:
    """The inputs a side read besides the file named (configurations, captures, topology)."""
    return [
        f"{i.path} ({value_word(lang, 'kind', i.kind)}, sha256 {short_hash(i.sha256)})"
        for i in side.inputs
        if not (i.path == side.path and i.sha256 == side.sha256)
    ]


def short_hash(value: str) -> str:
    """The first 12 hex digits of a SHA-256, for text that a person reads."""
    return value[:12] + "…" if len(value) > 12 else value


def plan_detail(change: PlanChange, lang: str) -> str:
    """What a plan change is: the object added or removed, or the fields that changed."""
    if change.action == "modified" or change.action == "renamed":
        fields = "; ".join(
            f"{field_name(k, lang)} {_short(k, a) or '-'} → {_short(k, b) or '-'}"
            for k, a, b in change.fields
        )
        if change.action == "renamed":
            head = f"{change.old_id} → {change.id}"
            return f"{head}; {fields}" if fields else head
        return fields
    described = change.after if change.action == "added" else change.before
    return ", ".join(
        f"{field_name(k, lang)} {value_word(lang, 'status', v) if k == 'status' else v}"
        for k, v in described
        if v
    )


def _short(field: str, value: str) -> str:
    return short_hash(value) if field == "sha256" else value


def plan_title(change: PlanChange, lang: str) -> str:
    """`permit root/90 (fw-lg-inet)`."""
    owner = f" ({change.owner})" if change.owner else ""
    return f"{category_name(change.category, lang)} {change.id}{owner}"


def exit_line(diff: Diff, lang: str) -> str:
    """What the exit status is and why."""
    t = labels(lang)
    failing = diff.failing()
    if diff.new.evidence == "unusable":
        return t["exit_unusable"]
    drift = diff.failing_drift()
    if drift:
        return t["exit_drift"].format(
            n=len(failing), d=len(drift), sev=value_word(lang, "severity", diff.fail_on.value)
        )
    if failing:
        return t["exit_fail"].format(
            n=len(failing), sev=value_word(lang, "severity", diff.fail_on.value)
        )
    if diff.exit_status() == 2:
        return t["exit_gap"]
    return t["exit_ok"].format(sev=value_word(lang, "severity", diff.fail_on.value))
