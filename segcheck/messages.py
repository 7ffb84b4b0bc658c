"""Every message a user reads about their input or options, in English and Japanese.

The library raises its errors (segcheck.errors) with English text, and that text is the
message id, as in gettext: MESSAGES pairs each English template with its Japanese one, and
`translate` matches a formatted message against the templates and fills the Japanese one with
the same values. So every module (loader, capture readers, configuration importers, result
reader) keeps raising plain strings and none of them needs to know about languages; the CLI
translates once, at the edge. A message the catalogue does not know stays English (never
garbled); tests/test_messages.py runs every invalid input of the test corpus in Japanese and
fails on any message left untranslated.

A template's `{field}` matches any text, except where FIELD_PATTERNS narrows it. Fields named
`what…` are phrases that say where (PHRASES: "node 'fw1' permit 'p1' from"), fields named
`detail…` are whole messages: both are translated in turn. `{desc}` is one of DESCRIPTIONS.
Fields named `reason…` are translated when the catalogue knows them (an operating system's
`strerror` stays as it is). Every other field is a value from the input (a name, a number, a
path) and is kept as written.
The first template that matches, phrases and details included, wins: specific ones come first.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum


class Lang(StrEnum):
    """The languages of segcheck's messages and reports."""

    EN = "en"
    JA = "ja"

    @classmethod
    def of(cls, value: str | None) -> Lang:
        """`ja` for "ja", English for anything else (what every formatter has always done)."""
        return cls.JA if value == "ja" else cls.EN


# "Error:" and "Warning:" in front of a message on stderr.
PREFIXES: Mapping[str, tuple[str, str]] = {
    "error": ("Error", "エラー"),
    "warning": ("Warning", "警告"),
}

# What a value was instead of the expected kind (loader._describe).
DESCRIPTIONS: Mapping[str, str] = {
    "a mapping": "マッピング",
    "a list": "リスト",
    "empty": "空",
}

FIELD_PATTERNS: Mapping[str, str] = {
    "s": r"s?",
    "key": r"[A-Za-z_][A-Za-z0-9_-]*",
    "proto": r"tcp|udp",
    "n": r"[0-9]+",
    "m": r"[0-9]+",
    "line": r"[0-9]+",
    "limit": r"[0-9]+",
    "byte": r"[0-9]+",
    "kind": r"control|bidirectional control",
    "tier": r"[a-z-]+",
    "tier2": r"[a-z-]+",
    "frame": r"[0-9]+",
}

# Where a message points, as the loader composes it: "node 'fw1' permit 'p1' from".
# The ones that end in a word come first: "node 'fw1' permit 'p1' from" is the phrase of
# the permit, then "from" (never a permit whose id is "'p1' from").
PHRASES: list[tuple[str, str]] = [
    ("{what} subnet", "{what} のサブネット"),
    ("{what} address", "{what} のアドレス"),
    ("{what} service", "{what} のサービス"),
    ("{what} from", "{what} の from（送信元）"),
    ("{what} to", "{what} の to（宛先）"),
    ("{what} {key}", "{what} の {key}"),
    ("top level", "最上位"),
    ("name", "name"),
    ("profile", "profile"),
    ("services", "services"),
    ("zones", "zones"),
    ("nodes", "nodes"),
    ("links", "links"),
    ("channels", "channels"),
    ("service name", "サービス名"),
    ("zone name", "ゾーン名"),
    ("node name", "機器名"),
    ("service {name}: {proto} port", "サービス {name} の {proto} ポート"),
    ("service {name}", "サービス {name}"),
    ("zone {name}", "ゾーン {name}"),
    ("node {name} ({role})", "機器 {name}（{role}）"),
    ("node {name} config", "機器 {name} の config"),
    ("node {name} permit {id}", "機器 {name} の許可ルール {id}"),
    ("node {name} permit", "機器 {name} の許可ルール"),
    ("node {name}", "機器 {name}"),
    ("channel {name}", "例外 {name}"),
    ("link {n}", "接続 {n}"),
]

# (English, Japanese); grouped by the module that raises them.
MESSAGES: list[tuple[str, str]] = [
    # -- hints appended to another message -----------------------------------------------------
    ("{detail}; did you mean {suggestion}?", "{detail}。もしかして {suggestion} ですか？"),
    # -- files (loader, yamldoc, configuration readers, captures) ------------------------------
    ("no such file", "ファイルがありません"),
    ("is a directory, not a topology file", "フォルダです。構成ファイルを指定してください"),
    ("is a directory, not a configuration file", "フォルダです。設定ファイルを指定してください"),
    ("is a directory, not a capture", "フォルダです。キャプチャファイルを指定してください"),
    ("cannot read: {reason}", "読み込めません: {reason}"),
    (
        "file is larger than {n} bytes, the limit for a topology",
        "ファイルが {n} バイトを超えています（構成ファイルの上限）",
    ),
    ("file is not UTF-8 text", "ファイルが UTF-8 のテキストではありません"),
    (
        "the file is in Shift_JIS (CP932), not UTF-8: save it as UTF-8 "
        "(メモ帳: 名前を付けて保存 → 文字コード UTF-8)",
        "ファイルが Shift_JIS（CP932）で保存されています。UTF-8 で保存し直してください"
        "（メモ帳: 名前を付けて保存 → 文字コード UTF-8）",
    ),
    (
        "the file is in UTF-16, not UTF-8: save it as UTF-8",
        "ファイルが UTF-16 で保存されています。UTF-8 で保存し直してください",
    ),
    ("file is binary, not YAML or JSON", "バイナリファイルです。YAML でも JSON でもありません"),
    # -- YAML and JSON syntax (yamldoc) ---------------------------------------------------------
    ("invalid YAML: {problem}", "YAML の書式誤り: {problem}"),
    ("invalid JSON: {problem}", "JSON の書式誤り: {problem}"),
    (
        "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces",
        "字下げにタブ文字があります。YAML の字下げは半角スペースだけです。タブを半角スペースに"
        "置き換えてください",
    ),
    (
        "a full-width space (全角スペース, U+3000) in the indentation: YAML indents with "
        "ASCII spaces only; replace it with half-width spaces",
        "字下げに全角スペース（U+3000）があります。YAML の字下げは半角スペースだけです。"
        "半角スペースに置き換えてください",
    ),
    (
        "a full-width space (全角スペース, U+3000) after the colon: write 'key: value' with "
        "a half-width space",
        "コロンの後ろが全角スペース（U+3000）です。'キー: 値' のように半角スペースで区切って"
        "ください",
    ),
    (
        "a full-width colon (：) after {key}: YAML needs the ASCII colon; write '{key}: …'",
        "{key} の後ろが全角コロン（：）です。YAML では半角コロンが必要です。'{key}: …' と"
        "書いてください",
    ),
    ("the character {code} is not allowed in YAML", "文字 {code} は YAML では使えません"),
    ("nesting deeper than {n} levels", "入れ子が {n} 段より深くなっています"),
    (
        "YAML alias *{name} refers to a collection that holds it",
        "YAML のエイリアス *{name} が自分を含むコレクションを参照しています",
    ),
    (
        "YAML alias *{name} names no anchor",
        "YAML のエイリアス *{name} に対応するアンカーがありません",
    ),
    (
        "YAML aliases expand to more than {n} values (an alias bomb?); write the values out",
        "YAML のエイリアスが {n} 個を超える値に展開されます（エイリアス爆弾？）。値を直接"
        "書いてください",
    ),
    ("mapping keys must be plain names", "マッピングのキーは単純な名前にしてください"),
    (
        "expected a single YAML document, found several",
        "YAML 文書は一つだけにしてください（複数あります）",
    ),
    ("YAML merge keys (<<) are not supported", "YAML のマージキー（<<）は使えません"),
    ("unsupported YAML tag {tag}", "使えない YAML タグ {tag}"),
    ("malformed value {value}", "読めない値 {value}"),
    ("duplicate key {name}", "キー {name} が重複しています"),
    ("number with more than {n} digits", "{n} 桁を超える数値です"),
    ("invalid JSON: a value cannot be read", "JSON の書式誤り: 読めない値があります"),
    # -- the topology (loader) ------------------------------------------------------------------
    (
        "the file is empty; a topology is a mapping starting with 'segcheck: 1'",
        "ファイルが空です。構成ファイルは 'segcheck: 1' で始まるマッピングです",
    ),
    (
        "the top level must be a mapping, not {desc}",
        "最上位はマッピング（キー: 値）にしてください（{desc} になっています）",
    ),
    (
        "missing required key 'segcheck' (the format version, 1)",
        "必須のキー 'segcheck'（書式の版、1）がありません",
    ),
    (
        "unsupported format version {version} (this segcheck reads version 1: write 'segcheck: 1')",
        "書式の版 {version} には対応していません（この segcheck が読むのは版 1 です: "
        "'segcheck: 1' と書いてください）",
    ),
    (
        "unsupported format version {version} (this segcheck reads version 1)",
        "書式の版 {version} には対応していません（この segcheck が読むのは版 1 です）",
    ),
    ("missing required key 'zones'", "必須のキー 'zones' がありません"),
    (
        "{what} must be a mapping, not {desc}",
        "{what} はマッピングにしてください（{desc} になっています）",
    ),
    ("{what} must be text, not {desc}", "{what} は文字列にしてください（{desc} になっています）"),
    ("{what} must be a list", "{what} はリストにしてください"),
    (
        "{what}: unknown key {name} (allowed: {allowed})",
        "{what}: 不明なキー {name}（使えるキー: {allowed}）",
    ),
    (
        "{what} contains the {kind} character U+{code}",
        "{what} に{kind}文字 U+{code} が含まれています",
    ),
    (
        "{what} is {n} characters long (the limit is {limit})",
        "{what} が {n} 文字あります（上限は {limit} 文字）",
    ),
    ("{what}: {key} lists no service", "{what}: {key} にサービスがありません"),
    (
        "{what}: unknown service {name}: a service is named, not written as a port; the "
        "service {builtin} covers {ports}",
        "{what}: 不明なサービス {name}。サービスはポート番号ではなく名前で書きます。"
        "{ports} はサービス {builtin} に含まれます",
    ),
    (
        "{what}: unknown service {name}: a service is named, not written as a port; declare "
        "it under 'services:' (for example services: {{{example}: {{{proto}: [{port}]}}}}) "
        "and name it",
        "{what}: 不明なサービス {name}。サービスはポート番号ではなく名前で書きます。"
        "'services:' に定義して（例: services: {{{example}: {{{proto}: [{port}]}}}}）、"
        "その名前を書いてください",
    ),
    ("{what}: unknown service {name}", "{what}: 不明なサービス {name}"),
    (
        "unknown profile {name} (allowed: {allowed})",
        "不明なモデル {name}（使える値: {allowed}、または α, α′, β, β′）",
    ),
    (
        "service {name}: duplicate name (a built-in service)",
        "サービス {name}: 組み込みのサービスと同じ名前です",
    ),
    ("service {name}: icmp must be true or false", "サービス {name}: icmp は true か false です"),
    (
        "service {name}: names no tcp or udp port and no icmp",
        "サービス {name}: tcp/udp のポートも icmp もありません",
    ),
    (
        "{what} {value} is not a number from 1 to 65535 or a range like 8000-8079",
        "{what} {value} が 1〜65535 の数値でも 8000-8079 のような範囲でもありません",
    ),
    (
        "zone name {name} is reserved for the built-in zone of global addresses; declare "
        "public ranges under another name",
        "ゾーン名 {name} はグローバルアドレスの組み込みゾーン用に予約されています。公開アドレス"
        "の範囲は別の名前で宣言してください",
    ),
    (
        "{what}: missing required key {name}",
        "{what}: 必須のキー {name} がありません",
    ),
    (
        "{what}: unknown tier {name} (allowed: {allowed} or their Japanese names: {names})",
        "{what}: 不明な系統 {name}（使える値: {names}、または英語名 {allowed}）",
    ),
    (
        "{what}: unknown tier {name} (allowed: {allowed} or their Japanese names)",
        "{what}: 不明な系統 {name}（使える値: {allowed}、またはその日本語名）",
    ),
    ("{what}: 'subnets' lists no subnet", "{what}: 'subnets' にサブネットがありません"),
    (
        "{what}: subnet {subnet} ({tier}) overlaps {other} of zone {zone} ({tier2})",
        "{what}: サブネット {subnet}（{tier}）がゾーン {zone} の {other}（{tier2}）と重なって"
        "います",
    ),
    ("{what}: subnet {subnet} is listed twice", "{what}: サブネット {subnet} が二度書かれています"),
    (
        "{what}: subnet {subnet} is declared in zones {zone} and {zone2}",
        "{what}: サブネット {subnet} がゾーン {zone} と {zone2} の両方で宣言されています",
    ),
    ("{what}: name is already used by a zone", "{what}: 同じ名前のゾーンがあります"),
    (
        "{what}: unknown role {name} (allowed: {allowed})",
        "{what}: 不明な役割 {name}（使える値: {allowed}）",
    ),
    ("{what}: 'ip' lists no address", "{what}: 'ip' にアドレスがありません"),
    (
        "{what}: address {ip} is already used by node {node}",
        "{what}: アドレス {ip} は機器 {node} が使っています",
    ),
    (
        "{what}: address {ip} is in no zone and is not a global address; add its subnet to a zone",
        "{what}: アドレス {ip} はどのゾーンにも属さず、グローバルアドレスでもありません。"
        "そのサブネットをゾーンに追加してください",
    ),
    ("{what}: {key} must be true or false", "{what}: {key} は true か false です"),
    (
        "{what}: unknown attachments policy {name} (allowed: {allowed})",
        "{what}: 不明な添付ファイルの扱い {name}（使える値: {allowed}）",
    ),
    ("{what}: permit must be a list", "{what}: permit はリストにしてください"),
    (
        "{what}: unknown format {name} (allowed: {allowed})",
        "{what}: 不明な形式 {name}（使える値: {allowed}）",
    ),
    (
        "{what}: give one of vdom, vsys, context",
        "{what}: vdom, vsys, context のどれか一つを指定してください",
    ),
    ("{what}: {path}: nothing could be imported", "{what}: {path}: 何も取り込めませんでした"),
    (
        "{what}: {path} holds contexts {names}; say {wanted} (vdom/vsys/context)",
        "{what}: {path} には {names} のコンテキストがあります。{wanted} を指定してください"
        "（vdom/vsys/context）",
    ),
    (
        "permit id {id} of node {node} is already used by a hand-written permit",
        "機器 {node} の許可ルール ID {id} は手書きの許可ルールで使われています",
    ),
    (
        "{what}: {name} is a zone; name a node or an address",
        "{what}: {name} はゾーンです。機器かアドレスを指定してください",
    ),
    (
        "{what}: unknown zone or node {name} (expected a zone, a node, a CIDR or 'any')",
        "{what}: 不明なゾーンまたは機器 {name}（ゾーン、機器、CIDR、'any' のいずれか）",
    ),
    (
        "{what}: unknown node {name} (expected a node or an address)",
        "{what}: 不明な機器 {name}（機器かアドレスを指定してください）",
    ),
    ("{what}: an empty list selects nothing", "{what}: 空のリストは何も選びません"),
    ("{what}: duplicate permit id", "{what}: 許可ルール ID が重複しています"),
    ("links must be a list of [a, b] pairs", "links は [a, b] の組のリストにしてください"),
    (
        "{what}: must be a pair [a, b] of node or zone names",
        "{what}: 機器名かゾーン名の組 [a, b] にしてください",
    ),
    ("{what}: unknown node or zone {name}", "{what}: 不明な機器またはゾーン {name}"),
    (
        "{what}: joins two zones; a link joins a node to a node or a zone",
        "{what}: ゾーン同士をつないでいます。接続は機器と機器、または機器とゾーンをつなぎます",
    ),
    ("{what}: joins {name} to itself", "{what}: {name} を自分自身につないでいます"),
    ("{what}: duplicate link {a}--{b}", "{what}: 接続 {a}--{b} が重複しています"),
    ("channels must be a list", "channels はリストにしてください"),
    ("{what}: duplicate channel id", "{what}: 例外 ID が重複しています"),
    (
        "{what}: expiry {value} is not a date (YYYY-MM-DD)",
        "{what}: 有効期限 {value} が日付（YYYY-MM-DD）ではありません",
    ),
    # -- addresses (addressing) -----------------------------------------------------------------
    ("malformed address range {value}", "アドレス範囲 {value} が読めません"),
    ("malformed address or CIDR {value}", "アドレスまたは CIDR {value} が読めません"),
    ("malformed address {value}", "アドレス {value} が読めません"),
    (
        "CIDR {value} has host bits set (did you mean {cidr}?)",
        "CIDR {value} のホスト部が 0 ではありません（{cidr} のことですか？）",
    ),
    # -- options (cli, report, rules) -----------------------------------------------------------
    (
        "--today {value} is not a date (YYYY-MM-DD)",
        "--today {value} が日付（YYYY-MM-DD）ではありません",
    ),
    (
        "--timestamp {value} is not an ISO 8601 time",
        "--timestamp {value} が ISO 8601 の時刻ではありません",
    ),
    (
        "SOURCE_DATE_EPOCH {value} is not a Unix time",
        "SOURCE_DATE_EPOCH {value} が Unix 時刻ではありません",
    ),
    ("{path}: named by both -o and --extract", "{path}: -o と --extract の両方に指定されています"),
    (
        "give one of --vdom, --vsys, --context",
        "--vdom, --vsys, --context のどれか一つを指定してください",
    ),
    (
        "--strict: not every configuration imported with status 'passed'",
        "--strict: すべての設定が状態 'passed' で取り込めたわけではありません",
    ),
    ("unknown rule {name}; known rules: {known}", "不明なルール {name}（既知のルール: {known}）"),
    ("unknown format {name} (known: {known})", "不明な形式 {name}（既知の形式: {known}）"),
    (
        "{path}: is a symbolic link to nothing; name an existing folder",
        "{path}: リンク先のないシンボリックリンクです。存在するフォルダを指定してください",
    ),
    ("{path}: exists and is not a directory", "{path}: フォルダではないファイルが既にあります"),
    ("{path}: cannot write the report: {reason}", "{path}: 報告書を書き込めません: {reason}"),
    ("out of memory while reading the input", "入力の読込中にメモリが不足しました"),
    (
        "internal error ({reason}); please report it, and set SEGCHECK_DEBUG=1 for details",
        "内部エラー（{reason}）。報告をお願いします。詳細は SEGCHECK_DEBUG=1 を設定して確認"
        "できます",
    ),
    (
        "--pdf needs Chromium (apt-get install chromium), which was not found",
        "--pdf には Chromium が必要ですが、見つかりません (apt-get install chromium)",
    ),
    ("--pdf: {detail}", "--pdf: {detail}"),
    (
        "Chromium is not installed (apt-get install chromium)",
        "Chromium がありません (apt-get install chromium)",
    ),
    ("Chromium took longer than {n} s to print", "Chromium の印刷が {n} 秒を超えました"),
    ("Chromium failed: {reason}", "Chromium が失敗しました: {reason}"),
    ("cannot run Chromium ({path}): {reason}", "Chromium ({path}) を実行できません: {reason}"),
    (
        "{path}: render writes .svg or .png; name the output so",
        "{path}: render が書けるのは .svg か .png です。出力ファイル名の拡張子を .svg か .png に"
        "してください",
    ),
    (
        "Graphviz wrote no PNG image (is it built without PNG output?)",
        "Graphviz が PNG 画像を書きませんでした (PNG 出力なしでビルドされている？)",
    ),
    ("Graphviz took longer than {n} s to lay out", "Graphviz の配置が {n} 秒を超えました"),
    ("cannot run Graphviz ({path}): {reason}", "Graphviz ({path}) を実行できません: {reason}"),
    ("Graphviz failed: {reason}", "Graphviz が失敗しました: {reason}"),
    (
        "{detail}; report written without topology.svg",
        "{detail}。topology.svg なしで報告書を書き出しました",
    ),
    (
        "Graphviz is not installed: apt-get install graphviz",
        "Graphviz がありません: apt-get install graphviz",
    ),
    # -- outputs (outputs) ----------------------------------------------------------------------
    (
        "{path}: is an input; name another output file",
        "{path}: 入力ファイルです。別の出力ファイルを指定してください",
    ),
    # -- captures (capture) ---------------------------------------------------------------------
    (
        "nothing could be read: stopped at {where}: {reason}",
        "何も読めませんでした: {where} で停止: {reason}",
    ),
    (
        "no packet could be read: stopped at {where}: {reason}",
        "パケットを一つも読めませんでした: {where} で停止: {reason}",
    ),
    ("not a {kinds} (starts with {head})", "{kinds} ではありません（先頭 {head}）"),
    (
        "pcap file header cut short at byte offset {n} (24 bytes needed)",
        "pcap のファイルヘッダがバイト位置 {n} で切れています（24 バイト必要）",
    ),
    (
        "no readable Zeek conn.log entry ({n} skipped; the first, line {line}: {reason})",
        "読める Zeek conn.log の行がありません（{n} 行をスキップ。最初は行 {line}: {reason}）",
    ),
    (
        "{path}: nothing to extract: every input is a flow log (Zeek, Suricata, firewall or "
        "NetFlow), which holds flows but no packets (extract from the pcap or pcapng the log "
        "was made from)",
        "{path}: 抽出するものがありません: 入力はすべてフローのログ（Zeek、Suricata、ファイアウォール、"
        "NetFlow）で、フローはあってもパケットはありません（ログの元になった pcap か pcapng から"
        "抽出してください）",
    ),
    # Why a capture stopped (capture.records, capture.source), inside evidence gaps.
    ("file ends inside a record", "レコードの途中でファイルが終わっている"),
    ("file ends inside a block", "ブロックの途中でファイルが終わっている"),
    ("compressed stream ends early", "圧縮データが途中で終わっている"),
    (
        "corrupt compressed data at compressed byte {n}: {reason}",
        "圧縮データが壊れている（圧縮データのバイト位置 {n}: {reason}）",
    ),
    ("record length {n} exceeds limit {m}", "レコード長 {n} が上限 {m} を超えている"),
    ("bad section header byte-order magic", "セクションヘッダのバイト順マジックが不正"),
    ("bad block length {n}", "ブロック長 {n} が不正"),
    ("first block is not a section header", "最初のブロックがセクションヘッダではない"),
    (
        "block length mismatch (leading and trailing lengths differ)",
        "ブロック長の不一致（先頭と末尾の長さが異なる）",
    ),
    # What --extract wrote (capture.extract), and why a Zeek log entry was skipped (capture.zeek).
    (
        "extracted {n} packets of {m} flow{s} to {path} ({fmt})",
        "違反フロー {m} 件のパケット {n} 個を {path} に抽出しました ({fmt})",
    ),
    (
        "{path}: a Zeek log has no packets to extract ({n} flow{s} left out)",
        "{path}: Zeek のログには抽出するパケットがありません (フロー {n} 件は対象外)",
    ),
    ("line longer than {n} bytes", "行が {n} バイトを超えている"),
    ("JSON nested too deep", "JSON の入れ子が深すぎる"),
    ("JSON line is not an object", "JSON の行がオブジェクトではない"),
    ("{n} field{s} where #fields names {m}", "項目が {n} 個 (#fields では {m} 個)"),
    ("entry before #fields", "#fields より前に記録がある"),
    ("{key} {value} is not a whole number", "{key} {value} が整数ではない"),
    ("{key} {value} is out of range (0-{top})", "{key} {value} が範囲 (0-{top}) の外"),
    ("{key} is not set", "{key} が設定されていない"),
    ("ts {value} is not a time", "ts {value} が時刻ではない"),
    ("{key} {value} is not a number", "{key} {value} が数値ではない"),
    ("{key} {value} is out of range", "{key} {value} が範囲外"),
    (
        "proto {value} is not a protocol name or number (0-255)",
        "proto {value} がプロトコル名でも番号 (0-255) でもない",
    ),
    ("proto {value} is not a protocol name", "proto {value} がプロトコル名ではない"),
    ("{key} {value} is not an address", "{key} {value} がアドレスではない"),
    ("duration {value} ends beyond any capture", "duration {value} の終わりがありえない時刻"),
    # -- configurations (loaders.configs) -------------------------------------------------------
    (
        "unknown configuration format {name} (allowed: {allowed})",
        "不明な設定の形式 {name}（使える値: {allowed}）",
    ),
    ("larger than {n} MiB", "{n} MiB を超えています"),
    ("format {name} is not available in this build", "形式 {name} はこのビルドでは使えません"),
    (
        "no context {name} (the file holds: {names})",
        "コンテキスト {name} がありません（ファイルにあるもの: {names}）",
    ),
    ("empty configuration", "設定が空です"),
    (
        "binary data (NUL byte), not a configuration",
        "バイナリデータ（NUL バイト）で、設定ではありません",
    ),
    (
        "not UTF-8 text (PAN-OS writes UTF-8)",
        "UTF-8 のテキストではありません（PAN-OS は UTF-8 で書き出します）",
    ),
    ("not well-formed XML: {reason}", "XML の書式誤り: {reason}"),
    ("empty file: no policy table", "空のファイルです: ポリシー表がありません"),
    (
        "an Excel 97-2003 .xls workbook: save it as .xlsx or CSV",
        "Excel 97-2003 形式（.xls）のブックです。.xlsx か CSV で保存し直してください",
    ),
    (
        "reading .xlsx needs openpyxl: pip install 'segcheck[xlsx]' (or save as CSV)",
        ".xlsx を読むには openpyxl が必要です: pip install 'segcheck[xlsx]'（または CSV で保存）",
    ),
    ("not a readable .xlsx workbook: {reason}", "読める .xlsx ブックではありません: {reason}"),
    ("no sheet {name} (sheets: {names})", "シート {name} がありません（シート: {names}）"),
    ("not a readable CSV row: {reason}", "CSV の行として読めません: {reason}"),
    (
        "neither UTF-8 nor CP932 (Shift_JIS as Excel writes it): byte {where}",
        "UTF-8 でも CP932（Excel が書き出す Shift_JIS）でもありません: バイト位置 {where}",
    ),
    ("not UTF-8 after its BOM (byte {n})", "BOM の後が UTF-8 ではありません（バイト位置 {n}）"),
    ("not UTF-16 after its BOM (byte {n})", "BOM の後が UTF-16 ではありません（バイト位置 {n}）"),
    (
        "contains a NUL character: not a text table (a binary file?)",
        "NUL 文字を含んでいます: テキストの表ではありません（バイナリファイル？）",
    ),
    # -- IP address ledgers and their maps (loaders.ledger, segcheck init) ---------------------
    ("{n} row(s) cannot be mapped:", "{n} 行を取り込めません:"),
    ("no host name", "ホスト名がない"),
    ("the host name is also a zone's name", "ホスト名がゾーン名と同じ"),
    ("no IP address", "IPアドレスがない"),
    ("not an IP address", "IPアドレスではない"),
    (
        "情報系 is ambiguous (LGWAN接続系 or the Internet tier): map it in values.zone and "
        "list it under ambiguous_ok",
        "情報系はあいまい (LGWAN接続系かインターネット接続系か団体により異なる): values.zone で"
        "対応を書き、ambiguous_ok にも挙げてください",
    ),
    (
        "this 系統 value is not in the map's values.zone",
        "この系統の値が対応表の values.zone にない",
    ),
    (
        "this 種別 value is not in the map's values.role",
        "この種別の値が対応表の values.role にない",
    ),
    ("no 種別 and no defaults.role in the map", "種別がなく、対応表に defaults.role もない"),
    (
        "the 系統 says zone {zone} but the address is in zone {other}",
        "系統ではゾーン {zone} だが、アドレスはゾーン {other} にある",
    ),
    (
        "the 系統 says zone {zone} but the address is in no zone of the map",
        "系統ではゾーン {zone} だが、アドレスは対応表のどのゾーンにもない",
    ),
    (
        "the address is in no zone of the map and is not global",
        "アドレスが対応表のどのゾーンにもなく、グローバルアドレスでもない",
    ),
    ("the address is already {name}'s", "このアドレスは既に {name} のもの"),
    ("{name} has role {role} on another row", "{name} は別の行で役割 {role}"),
    ("is a directory, not a ledger", "フォルダです。台帳ファイルを指定してください"),
    ("not {encoding} text: byte {n}", "{encoding} のテキストではありません: バイト位置 {n}"),
    (
        "no header row naming an IP address column and one more (ホスト名, 系統, 種別…) in the "
        "first {n} rows{hint}",
        "最初の {n} 行に、IPアドレスの列と他の列 (ホスト名, 系統, 種別…) を示す見出し行が"
        "ありません{hint}",
    ),
    (
        "no header row naming an IP address column and one more (ホスト名, 系統, 種別…) in the "
        "first {n} rows",
        "最初の {n} 行に、IPアドレスの列と他の列 (ホスト名, 系統, 種別…) を示す見出し行が"
        "ありません",
    ),
    (
        "the header row names no host name column (ホスト名, 端末名, 機器名)",
        "見出し行にホスト名の列 (ホスト名, 端末名, 機器名) がありません",
    ),
    ("map: {detail}", "対応表: {detail}"),
    ("the first key must be 'segcheck-import: 1'", "最初のキーは 'segcheck-import: 1' です"),
    ("unknown key {name}", "不明なキー {name}"),
    ("unknown field {name}", "不明な項目 {name}"),
    ("only 'status' values can be skipped", "skip に書けるのは status の値だけです"),
    (
        "missing required key 'zones' (each zone with its tier and subnets)",
        "必須のキー 'zones' (各ゾーンの tier と subnets) がありません",
    ),
    ("zone {name}: unknown tier {tier}", "ゾーン {name}: 不明な系統 {tier}"),
    ("zone {name}: malformed subnet {value}", "ゾーン {name}: サブネット {value} が読めません"),
    (
        "zone {name}: missing required key 'subnets'",
        "ゾーン {name}: 必須のキー 'subnets' がありません",
    ),
    (
        "{entry}: {zone} is not a zone of 'zones:'",
        "{entry}: {zone} は 'zones:' のゾーンではありません",
    ),
    (
        "{entry} is ambiguous (LGWAN接続系 in some municipalities, the Internet tier in others): "
        "list it under 'ambiguous_ok' to map it",
        "{entry} はあいまいです (団体により LGWAN接続系またはインターネット接続系): 対応させるには "
        "'ambiguous_ok' に挙げてください",
    ),
    ("{entry}: unknown role {role}", "{entry}: 不明な役割 {role}"),
    ("unknown role {role}", "不明な役割 {role}"),
    ("{path} must be text or a list of text", "{path} は文字列か文字列のリストにしてください"),
    ("{path} must be a key: value mapping", "{path} はマッピング (キー: 値) にしてください"),
    ("--map goes with --from-ledger", "--map は --from-ledger と一緒に指定します"),
    ("--from-ledger needs --map MAP.yaml", "--from-ledger には --map MAP.yaml が必要です"),
    # -- result files read back (report.results, diff) ------------------------------------------
    (
        "unsupported schema_version {version} (this reads 1)",
        "schema_version {version} には対応していません（読めるのは 1）",
    ),
    (
        "the result was not made from {path} as it is now (its SHA-256 differs)",
        "この結果は現在の {path} から作られたものではありません（SHA-256 が異なります）",
    ),
    ("the summary does not count the findings", "summary が指摘の件数と合いません"),
    ("the evidence gaps do not follow from the inputs", "証跡の欠落（gaps）が入力と合いません"),
    ("unknown rule {name} (rules version 1)", "不明なルール {name}（ルール版 1）"),
    ("unknown severity {name}", "不明な重大度 {name}"),
    ("empty fingerprint", "fingerprint が空です"),
    ("{key} must be {kind_name}", "{key} は {kind_name} にしてください"),
    # -- the last resort: a place and a message ---------------------------------------------------
    ("{what}: {detail}", "{what}: {detail}"),
]


_TOKEN = re.compile(r"\{\{|\}\}|\{(\w+)\}")


class _Template:
    """One English template split into literal text and fields, with its Japanese one."""

    __slots__ = ("tokens", "target")

    def __init__(self, english: str, target: str) -> None:
        tokens: list[tuple[bool, str]] = []  # (is a field, literal text or field name)
        pos = 0
        for match in _TOKEN.finditer(english):  # `{{` and `}}` are literal braces
            literal = english[pos : match.start()] + ("" if match.group(1) else match.group()[0])
            if literal:
                if tokens and not tokens[-1][0]:
                    literal = tokens.pop()[1] + literal
                tokens.append((False, literal))
            if match.group(1):
                assert not tokens or not tokens[-1][0], f"two fields side by side: {english}"
                tokens.append((True, match.group(1)))
            pos = match.end()
        if english[pos:]:
            if tokens and not tokens[-1][0]:
                tokens.append((False, tokens.pop()[1] + english[pos:]))
            else:
                tokens.append((False, english[pos:]))
        self.tokens = tuple(tokens)
        self.target = target


@functools.cache
def _compiled(table: str) -> tuple[_Template, ...]:
    rows = PHRASES if table == "phrases" else MESSAGES
    return tuple(_Template(en, ja) for en, ja in rows)


def _value(name: str, value: str) -> str | None:
    """A field's value in Japanese: phrases and details translated, None if one cannot be."""
    pattern = FIELD_PATTERNS.get(name)
    if pattern is not None and re.fullmatch(pattern, value) is None:
        return None
    if name.startswith("what"):
        return _translate(value, "phrases")
    if name.startswith("detail"):
        return _translate(value, "messages")
    if name.startswith("reason"):  # often the operating system's words: translated if known
        return _translate(value, "messages") or value
    if name == "desc":
        return DESCRIPTIONS.get(value, value)
    if name == "suggestion":  # 'a' or 'b'
        return value.replace("' or '", "'、'")
    if name == "hint":  # " (read as cp932; if the headers are garbled, try --encoding …)"
        return re.sub(
            r" \(read as (\S+); if the headers are garbled, try (.+)\)",
            r"（\1 として読みました。見出しが文字化けしている場合は \2 を試してください）",
            value,
        )
    if name == "kinds":  # pcap, pcapng or Zeek conn.log
        return value.replace(", ", "、").replace(" or ", "、")
    return value


def _match(
    tokens: tuple[tuple[bool, str], ...], text: str, pos: int, values: dict[str, str]
) -> dict[str, str] | None:
    """Fields filled so that `tokens` spell `text` from `pos`, shortest values first, trying
    longer ones when a phrase or detail does not translate (`node 'a' permit 'b' from`)."""
    if not tokens:
        return values if pos == len(text) else None
    (is_field, body), rest = tokens[0], tokens[1:]
    if not is_field:
        return _match(rest, text, pos + len(body), values) if text.startswith(body, pos) else None
    if body in values:  # the same value again
        seen = values[f"\0{body}"]
        return _match(rest, text, pos + len(seen), values) if text.startswith(seen, pos) else None
    if not rest:
        ends = [len(text)] if pos < len(text) else []
    else:
        literal = rest[0][1]
        ends = []
        empty_ok = re.fullmatch(FIELD_PATTERNS.get(body, ".+"), "") is not None
        at = text.find(literal, pos if empty_ok else pos + 1)
        while at >= 0:
            ends.append(at)
            at = text.find(literal, at + 1)
    for end in ends:
        done = _value(body, text[pos:end])
        if done is None:
            continue
        found = _match(rest, text, end, {**values, body: done, f"\0{body}": text[pos:end]})
        if found is not None:
            return found
    return None


def _fill(template: _Template, text: str) -> str | None:
    """The Japanese of `text` if `template` matches it, its phrases and details included."""
    values = _match(template.tokens, text, 0, {})
    if values is None:
        return None
    # str.format would read braces in the values; the target's own `{{`/`}}` are literal.
    return _TOKEN.sub(lambda m: values[m.group(1)] if m.group(1) else m.group()[0], template.target)


@functools.lru_cache(maxsize=4096)
def _translate(text: str, table: str) -> str | None:
    for template in _compiled(table):
        done = _fill(template, text)
        if done is not None:
            return done
    return None


def translate(message: str, lang: str) -> str | None:
    """The Japanese of an English message, or None when the catalogue does not know it.

    English (`lang` other than "ja") is the message itself.
    """
    if Lang.of(lang) is Lang.EN:
        return message
    return _translate(message, "messages")


def localize(message: str, lang: str) -> str:
    """`message` in `lang`; a message the catalogue does not know stays as written."""
    done = translate(message, lang)
    return message if done is None else done


def prefix(kind: str, lang: str) -> str:
    """ "Error" or "Warning" (`kind` error|warning) in `lang`."""
    english, japanese = PREFIXES[kind]
    return japanese if Lang.of(lang) is Lang.JA else english


def _fold(text: str) -> str:
    """A name as a user may mistype it: width, case, `_`, `-` and spaces do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch not in "-_ \t")


def close_names(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates `word` was probably meant to be, best first (none when nothing is close).

    A candidate equal but for width, case or `_`/`-` comes first; then difflib's close
    matches, on the names as written and as folded (so `ＦＩＲＷＡＬＬ` finds `firewall`).
    """
    pool = sorted(set(candidates))
    folded: dict[str, list[str]] = {}
    for name in pool:
        folded.setdefault(_fold(name), []).append(name)
    key = _fold(word)
    found = [name for name in folded.get(key, []) if name != word]
    for match in difflib.get_close_matches(word, pool, n=limit, cutoff=0.6):
        if match not in found and match != word:
            found.append(match)
    for match in difflib.get_close_matches(key, sorted(folded), n=limit, cutoff=0.6):
        found.extend(n for n in folded[match] if n not in found and n != word)
    return found[:limit]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'x'?` to append to a message, or "" when no candidate is close."""
    found = close_names(word, candidates)
    if not found:
        return ""
    return f"; did you mean {' or '.join(repr(name) for name in found)}?"
