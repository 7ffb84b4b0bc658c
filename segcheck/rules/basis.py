"""What a result rests on besides the rules themselves (issue 17), for every report's header:
the guideline edition followed and the rules that depend on it, the profile settings in force,
and the policy matrix used (built-in, or with the topology's extra tiers)."""

from __future__ import annotations

from ..model import TIER_NAMES_JA, Topology
from ..settings import SETTINGS, setting
from .editions import CATALOGUE_EDITION, DEPENDENCIES, at_least

_LABELS = {
    "guideline": ("Guideline edition", "ガイドラインの版"),
    "depends": ("Rules depending on the edition", "版に依存するルール"),
    "settings": ("Profile settings", "プロファイル設定"),
    "matrix": ("Policy matrix", "通信ポリシー"),
}


def basis(topology: Topology, lang: str) -> list[tuple[str, str]]:
    """(label, text) pairs in `lang`: edition, dependent rules, settings, matrix."""
    ja = lang == "ja"
    out: list[tuple[str, str]] = []

    def label(key: str) -> str:
        return _LABELS[key][1 if ja else 0]

    followed = topology.guideline
    if followed:
        text = f"{followed}(構成ファイルの指定)" if ja else f"{followed} (declared by the topology)"
    else:
        text = (
            f"指定なし(ルールは{CATALOGUE_EDITION}に基づく)"
            if ja
            else f"not declared (the rules follow {CATALOGUE_EDITION})"
        )
    out.append((label("guideline"), text))
    parts = []
    for dep in DEPENDENCIES:
        applies = at_least(followed, dep.since)
        if ja:
            state = (
                "指定の版に含まれる"
                if applies
                else "指定の版にないため認めない"
                if dep.judged
                else "指定の版にない(記録のみ)"
            )
            parts.append(f"{dep.rule}: {dep.what_ja}({dep.since}以降、{state})")
        else:
            state = (
                "in the edition followed"
                if applies
                else "withheld: not in the edition followed"
                if dep.judged
                else "not in the edition followed (noted only)"
            )
            parts.append(f"{dep.rule}: {dep.what_en} ({dep.since} on; {state})")
    out.append((label("depends"), "; ".join(parts)))
    values = []
    for s in SETTINGS:
        value = setting(topology.settings, s.key)
        if isinstance(value, tuple):  # a list setting: its items, or none
            items = [s.values_ja.get(v, v) for v in value] if ja else list(value)
            shown = ("・" if ja else ", ").join(items) or ("なし" if ja else "none")
        else:
            shown = s.values_ja.get(str(value), str(value)) if ja else str(value)
        given = s.key in topology.settings
        if ja:
            values.append(f"{s.key} = {shown}({'指定' if given else '既定'})")
        else:
            values.append(f"{s.key} = {shown} ({'set' if given else 'default'})")
    out.append((label("settings"), "; ".join(values)))
    if topology.extra_tiers:
        names = ", ".join(f"{t.value} ({TIER_NAMES_JA[t]})" for t in topology.extra_tiers)
        text = (
            f"組込み(仕様 §3)に、構成ファイルが定める系 {names} の行と列を追加"
            if ja
            else f"built-in (spec §3), with the row and column the topology writes for {names}"
        )
    else:
        text = "組込み(仕様 §3)" if ja else "built-in (spec §3)"
    out.append((label("matrix"), text))
    return out
