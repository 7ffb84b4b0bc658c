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

# The input kinds as a message names them (capture.sources titles), where they hold English.
SOURCE_TITLES: Mapping[str, str] = {
    "FortiGate traffic log": "FortiGate トラフィックログ",
    "PAN-OS traffic log": "PAN-OS トラフィックログ",
    "nfdump CSV/JSON output": "nfdump の CSV/JSON 出力",
    "nfcapd file (through nfdump)": "nfcapd ファイル (nfdump 経由)",
}

FIELD_PATTERNS: Mapping[str, str] = {
    "s": r"s?",
    "key": r"[A-Za-z_][A-Za-z0-9_.-]*",
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
    # click's own usage errors (cli.SegcheckGroup), as click 8 words them
    (
        "No such option '{name}'. Did you mean '{other}'?",
        "不明なオプション '{name}'。もしかして '{other}' ですか？",
    ),
    ("No such option '{name}'.", "不明なオプション '{name}'"),
    ("No such option: {name}", "不明なオプション {name}"),
    (
        "No such command '{name}'. Did you mean '{other}'?",
        "不明なコマンド '{name}'。もしかして '{other}' ですか？",
    ),
    ("No such command '{name}'.", "不明なコマンド '{name}'"),
    ("Missing command.", "コマンドがありません"),
    ("Missing argument '{name}'.", "引数 '{name}' がありません"),
    ("Missing option '{name}'.", "オプション '{name}' がありません"),
    ("Option '{name}' requires an argument.", "オプション '{name}' には値が必要です"),
    ("Got unexpected extra argument ({args})", "余分な引数があります ({args})"),
    ("Got unexpected extra arguments ({args})", "余分な引数があります ({args})"),
    ("Invalid value for '{name}': {reason}", "'{name}' の値が正しくありません: {reason}"),
    ("{value} is not one of {choices}.", "{value} は {choices} のどれでもありません"),
    ("{value} is not a valid float.", "{value} は数値ではありません"),
    ("{value} is not a valid float range.", "{value} は数値ではありません"),
    ("{value} is not a valid integer range.", "{value} は整数ではありません"),
    ("{value} is not a valid integer.", "{value} は整数ではありません"),
    ("{value} is not in the range {limits}.", "{value} は範囲 {limits} の外です"),
    ("Directory {path} is a file.", "{path} はフォルダではなくファイルです"),
    ("File {path} is a directory.", "{path} はファイルではなくフォルダです"),
    ("Path {path} does not exist.", "{path} がありません"),
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
    # -- log-config join (logjoin.py): log lines no imported configuration explains -----------
    (
        "{device} policy {rule}: no node imports a {fmt} configuration of context {context} "
        "({n} flow{s})",
        "{device} ポリシー {rule}: コンテキスト {context} の {fmt} 設定を取り込む機器がありません"
        "（フロー {n} 件）",
    ),
    (
        "{device} policy {rule}: several nodes import context {context} ({nodes}) and the log "
        "names none of them ({n} flow{s})",
        "{device} ポリシー {rule}: コンテキスト {context} を取り込む機器が複数 ({nodes}) あり、"
        "ログはどれとも示していません（フロー {n} 件）",
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
    # -- traffic logs and flow exports (capture: fortigate_log, panos_log, suricata_eve,
    # nfdump, logflow): why a record was skipped, and why a file could not be read at all
    ("more than {n} inputs in one scan", "一度の scan の入力が {n} 個を超えています"),
    ("the directory holds no file to read", "フォルダに読むファイルがありません"),
    ("no file matches this pattern", "このパターンに一致するファイルがありません"),
    ("line {n}: {detail}", "{n} 行目: {detail}"),
    ("line longer than 1 MiB", "行が 1 MiB を超えている"),
    ("no key=value pair", "key=value の組がない"),
    ("no type= (not a FortiGate log record)", "type= がない (FortiGate のログの記録ではない)"),
    ("eventtime {value} is not an epoch", "eventtime {value} が Unix 時刻ではない"),
    ("no eventtime and no date/time", "eventtime も date/time もない"),
    ("date {value} is not YYYY-MM-DD", "date {value} が YYYY-MM-DD ではない"),
    ("time {value} is not HH:MM:SS", "time {value} が HH:MM:SS ではない"),
    ("tz {value} is not an offset (+0900)", "tz {value} が時差 (+0900) ではない"),
    (
        "date/time are the device's local time and the record has no eventtime or tz: give the "
        "device's zone with --tz (for example --tz Asia/Tokyo)",
        "date/time は機器の現地時刻で、記録に eventtime も tz もありません。--tz で機器の"
        "タイムゾーンを指定してください (例: --tz Asia/Tokyo)",
    ),
    (
        "Generated Time is the firewall's local time and the record has no High Resolution "
        "Timestamp (PAN-OS 10.0 and later): give the firewall's zone with --tz (for example "
        "--tz Asia/Tokyo)",
        "Generated Time はファイアウォールの現地時刻で、記録に High Resolution Timestamp "
        "(PAN-OS 10.0 以降) がありません。--tz でファイアウォールのタイムゾーンを指定してください "
        "(例: --tz Asia/Tokyo)",
    ),
    ("date/time {date} {time}: {reason}", "date/time {date} {time} が読めない: {reason}"),
    (
        "a FortiOS 4 or older record (src=/dst=/status=) is not read",
        "FortiOS 4 以前の記録 (src=/dst=/status=) は読まない",
    ),
    ("{key} {value} is not a traffic-log action", "{key} {value} がトラフィックログの動作ではない"),
    ("column 4 {value} is not a log type", "4 列目 {value} がログの種類ではない"),
    (
        "{n} columns where a TRAFFIC record has at least {m}",
        "列が {n} 個 (TRAFFIC の記録には少なくとも {m} 個必要)",
    ),
    (
        "Generated Time {value} is not YYYY/MM/DD HH:MM:SS",
        "Generated Time {value} が YYYY/MM/DD HH:MM:SS ではない",
    ),
    ("Generated Time {value}: {reason}", "Generated Time {value} が読めない: {reason}"),
    (
        "High Resolution Timestamp {value} is not a time",
        "High Resolution Timestamp {value} が時刻ではない",
    ),
    ("not JSON ({reason})", "JSON ではない ({reason})"),
    ("not a JSON object", "JSON のオブジェクトではない"),
    ("{key} {value} is not a time", "{key} {value} が時刻ではない"),
    ("{key} {value} has no offset", "{key} {value} に時差がない"),
    ("{key} {value} is not hex TCP flags", "{key} {value} が 16 進の TCP フラグではない"),
    ("flags {value} are not TCP flags", "flags {value} が TCP フラグではない"),
    ("duration {value} is not seconds", "duration {value} が秒数ではない"),
    ("vlan {value} is not a list of VLAN ids", "vlan {value} が VLAN ID のリストではない"),
    ("flow event without a flow object", "flow オブジェクトのない flow イベント"),
    ("netflow event without a netflow object", "netflow オブジェクトのない netflow イベント"),
    ("flow_id {value} is not a flow id", "flow_id {value} がフロー ID ではない"),
    ("a record before the CSV header", "CSV の見出しより前に記録がある"),
    ("{n} columns where the header names more", "列が {n} 個 (見出しの列より少ない)"),
    (
        "{key} {value} is not a protocol name or number (0-255)",
        "{key} {value} がプロトコル名でも番号 (0-255) でもない",
    ),
    ("no {key}", "{key} がない"),
    (
        "the nfdump CSV header has no {names} column",
        "nfdump の CSV の見出しに {names} の列がありません",
    ),
    (
        "a gzip-compressed nfcapd file: gunzip it for nfdump",
        "gzip で圧縮された nfcapd ファイルです。nfdump で読むには gunzip で展開してください",
    ),
    (
        "an nfcapd file: reading it needs nfdump 1.7 or later (apt install nfdump)",
        "nfcapd ファイルです。読むには nfdump 1.7 以降が必要です (apt install nfdump)",
    ),
    (
        "an nfcapd file: nfdump {version} is older than 1.7.0 (not supported)",
        "nfcapd ファイルです。nfdump {version} は 1.7.0 より古く、対応していません",
    ),
    ("nfdump did not finish within an hour", "nfdump が 1 時間以内に終わりませんでした"),
    ("cannot run nfdump: {reason}", "nfdump を実行できません: {reason}"),
    ("nfdump could not read it ({reason})", "nfdump が読めませんでした ({reason})"),
    # -- packets written out (capture.extract) ----------------------------------------------
    (
        "{path}: frame {frame} names no valid interface; cannot extract it",
        "{path}: フレーム {frame} のインターフェースが正しくないため抽出できません",
    ),
    (
        "{path}: the packets span more than 584 years; cannot extract them",
        "{path}: パケットの時刻が 584 年を超える幅にわたるため抽出できません",
    ),
    (
        "{path}: the packets have several link types ({types}) and a pcap file holds one; name "
        "the output .pcapng",
        "{path}: パケットのリンク種別が複数 ({types}) ありますが、pcap ファイルには一つしか"
        "入りません。出力を .pcapng にしてください",
    ),
    (
        "{path}: {name} frame {frame} has a timestamp ({when}) that a pcap file cannot hold "
        "(before 1970 or after 2106); name the output .pcapng",
        "{path}: {name} のフレーム {frame} の時刻 ({when}) は pcap ファイルに書けません "
        "(1970 年より前か 2106 年より後)。出力を .pcapng にしてください",
    ),
    # -- segcheck watch (watch) ---------------------------------------------------------------
    ("{path}: is not a folder", "{path}: フォルダではありません"),
    ("{path}: cannot list: {reason}", "{path}: 一覧を読めません: {reason}"),
    ("{path}: cannot write: {reason}", "{path}: 書き込めません: {reason}"),
    ("{path}: is not a regular file", "{path}: 通常のファイルではありません"),
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
    ("--report goes with --from-ledger", "--report は --from-ledger と一緒に指定します"),
    ("--from-ledger needs --map MAP.yaml", "--from-ledger には --map MAP.yaml が必要です"),
    # -- what the configuration importers say about a file (loaders.configs): import status ---
    # The importers' words for objects (policy, addrgrp, service custom, vsys, chain) are the
    # device's own configuration keywords and stay as written, as names do.
    # FortiOS (fortios)
    (
        "binary data, not a FortiOS configuration text (an encrypted backup? export it "
        "unencrypted, or use `show full-configuration`)",
        "バイナリデータで、FortiOS の設定テキストではありません（暗号化されたバックアップ？"
        "暗号化せずに書き出すか、`show full-configuration` を使ってください）",
    ),
    (
        "no FortiOS configuration found (expected `config …` / `edit` / `set` blocks as "
        "`show full-configuration` or a backup writes them)",
        "FortiOS の設定が見つかりません（`show full-configuration` やバックアップが書き出す "
        "`config …` / `edit` / `set` のブロックを想定しています）",
    ),
    ("a backslash ends the line", "行末がバックスラッシュです"),
    ("a quote opens inside a word", "語の途中で引用符が始まっています"),
    ("a quoted value is not closed on its line", "引用符で囲んだ値がその行で閉じていません"),
    (
        "a quoted value is not closed before the end of the file",
        "引用符で囲んだ値がファイルの終わりまで閉じていません",
    ),
    (
        "a quoted value runs over the line {n} ({text})",
        "引用符で囲んだ値が {n} 行目にまたがっています（{text}）",
    ),
    ("{detail}; read as: {words}", "{detail}。次のように読みました: {words}"),
    (
        "the file ends inside `config {path}` (no closing `end`)",
        "`config {path}` の途中でファイルが終わっています（閉じる `end` がありません）",
    ),
    ("`config` without a name", "`config` に名前がありません"),
    ("`edit` outside a `config` block", "`config` ブロックの外に `edit` があります"),
    ("`edit` without a name", "`edit` に名前がありません"),
    (
        "`edit` takes one name; extra words ignored: {words}",
        "`edit` に書ける名前は一つです。余分な語は無視しました: {words}",
    ),
    ("`end` without an open `config` block", "`end` に対応する `config` ブロックがありません"),
    ("`next` outside an `edit` entry", "`edit` の外に `next` があります"),
    ("`{cmd}` outside a `config` block", "`config` ブロックの外に `{cmd}` があります"),
    ("`{cmd}` without a key", "`{cmd}` にキーがありません"),
    ("`edit {name}` is not closed by `next`", "`edit {name}` が `next` で閉じられていません"),
    (
        "`{setting}` is set again: line {n} overrides line {m} ({old})",
        "`{setting}` が再設定されています: {n} 行目が {m} 行目（{old}）を上書きします",
    ),
    ("CLI prompt line ignored: {words}", "CLI のプロンプト行を無視しました: {words}"),
    ("unknown statement: {words}", "不明な文: {words}"),
    ("cannot {command}: no such entry", "{command} を実行できません: その項目がありません"),
    (
        "cannot {command}: {name} already exists",
        "{command} を実行できません: {name} は既にあります",
    ),
    (
        "cannot {command}: {name} is not a policy id",
        "{command} を実行できません: {name} はポリシー ID ではありません",
    ),
    ("cannot {command}: the name is too long", "{command} を実行できません: 名前が長すぎます"),
    ("cannot {command}: nested too deep", "{command} を実行できません: 入れ子が深すぎます"),
    ("malformed `move`: {words}", "`move` の書式誤り: {words}"),
    ("malformed `{cmd}`: {words}", "`{cmd}` の書式誤り: {words}"),
    ("{subject}: unknown setting `{setting}`", "{subject}: 不明な設定 `{setting}`"),
    (
        "{subject} (replaced at line {n}) is not an interface or zone of VDOM {vdom} (it belongs "
        "to VDOM {other})",
        "{subject}（{n} 行目で置き換え）は VDOM {vdom} のインターフェースでもゾーンでもありません"
        "（VDOM {other} のものです）",
    ),
    (
        "{subject} (replaced at line {n}) is not an interface or zone of VDOM {vdom}",
        "{subject}（{n} 行目で置き換え）は VDOM {vdom} のインターフェースでもゾーンでもありません",
    ),
    (
        "{subject} is not an interface or zone of VDOM {vdom} (it belongs to VDOM {other})",
        "{subject} は VDOM {vdom} のインターフェースでもゾーンでもありません（VDOM {other} の"
        "ものです）",
    ),
    (
        "{subject} is not an interface or zone of VDOM {vdom}",
        "{subject} は VDOM {vdom} のインターフェースでもゾーンでもありません",
    ),
    (
        "zone {name}: interface {member} is not an interface of VDOM {vdom} (it belongs to "
        "VDOM {other})",
        "zone {name}: interface {member} は VDOM {vdom} のインターフェースではありません"
        "（VDOM {other} のものです）",
    ),
    (
        "zone {name}: interface {member} is not an interface of VDOM {vdom}",
        "zone {name}: interface {member} は VDOM {vdom} のインターフェースではありません",
    ),
    (
        "zone {name}: interface {member} is already in zone {other}",
        "zone {name}: interface {member} は既に zone {other} に入っています",
    ),
    ("zone {name} has an interface's name", "zone {name} がインターフェースと同じ名前です"),
    ("zone {name} has no interfaces", "zone {name} にインターフェースがありません"),
    (
        "interface {name}: address {address} of {owner} is not an IPv4 address and mask",
        "interface {name}: {owner} のアドレス {address} が IPv4 のアドレスとマスクではありません",
    ),
    ("interface {name}: bad IPv6 {address}", "interface {name}: IPv6 {address} が読めません"),
    (
        "interface {name} is assigned to VDOM {vdom}, which this configuration does not define",
        "interface {name} は VDOM {vdom} に割り当てられていますが、この設定にその VDOM の定義が"
        "ありません",
    ),
    (
        "static route {name}: destination {dest} cannot be resolved offline; route ignored",
        "static route {name}: 宛先 {dest} はオフラインでは解決できません。このルートは無視しました",
    ),
    (
        "static route {name}: SD-WAN zone {zone} has no member interfaces",
        "static route {name}: SD-WAN ゾーン {zone} にメンバーのインターフェースがありません",
    ),
    (
        "static route {name}: bad destination {dest}",
        "static route {name}: 宛先 {dest} が読めません",
    ),
    (
        "{table} route {name} has no device; ignored",
        "{table} route {name} に device がありません。無視しました",
    ),
    ("address group cycle: {cycle}", "アドレスグループの循環: {cycle}"),
    ("service group cycle: {cycle}", "サービスグループの循環: {cycle}"),
    (
        "address groups nested deeper than {n} (at {name})",
        "アドレスグループの入れ子が {n} 段を超えています（{name}）",
    ),
    (
        "service groups nested deeper than {n} (at {name})",
        "サービスグループの入れ子が {n} 段を超えています（{name}）",
    ),
    ("not an address and mask", "アドレスとマスクではありません"),
    ("not an address range ({lo}-{hi})", "アドレス範囲ではありません（{lo}-{hi}）"),
    ("address {name}: {detail}", "address {name}: {detail}"),
    (
        "service {name} is not defined in VDOM {vdom}: the FortiOS factory default is assumed "
        "({services})",
        "service {name} は VDOM {vdom} に定義がありません。FortiOS の工場出荷時の定義"
        "（{services}）とみなしました",
    ),
    (
        "service group {name} is not defined in VDOM {vdom}: the FortiOS factory default is "
        "assumed ({services})",
        "service group {name} は VDOM {vdom} に定義がありません。FortiOS の工場出荷時の定義"
        "（{services}）とみなしました",
    ),
    (
        "service group {name}: member {member} is not defined",
        "service group {name}: メンバー {member} の定義がありません",
    ),
    (
        "service {name} has no port range: it matches nothing",
        "service {name} にポート範囲がありません。何にも一致しません",
    ),
    (
        "service {name}: port range {item} is not dst[-dst][:src[-src]]",
        "service {name}: ポート範囲 {item} が dst[-dst][:src[-src]] の形ではありません",
    ),
    (
        "service {name}: protocol-number {number}",
        "service {name}: protocol-number {number} は読めません",
    ),
    (
        "service {name}: protocol {protocol} is not modelled",
        "service {name}: プロトコル {protocol} はモデル化していません",
    ),
    (
        "{subject}: {pid} is not a FortiOS policy id (0-{top})",
        "{subject}: {pid} は FortiOS のポリシー ID（0-{top}）ではありません",
    ),
    ("{subject} is disabled (status disable)", "{subject} は無効です（status disable）"),
    (
        "{subject}: action {action} is not modelled; taken as accept",
        "{subject}: action {action} はモデル化していません。accept とみなしました",
    ),
    (
        "{subject} translates source addresses (nat enable): addresses beyond the firewall are "
        "not modelled",
        "{subject} は送信元アドレスを変換します（nat enable）。ファイアウォールの先のアドレスは"
        "モデル化していません",
    ),
    (
        "{subject}: {setting} mixes `any` with other names",
        "{subject}: {setting} に `any` と他の名前が混在しています",
    ),
    (
        "{subject}: {setting4}-negate and {setting6}-negate differ; the side is not modelled "
        "exactly",
        "{subject}: {setting4}-negate と {setting6}-negate が異なります。この側は正確には"
        "モデル化していません",
    ),
    (
        "{subject}: destination {name} is a virtual IP ({ext} → {mapped}); matched on its "
        "external address, the translation is not modelled",
        "{subject}: 宛先 {name} はバーチャル IP（{ext} → {mapped}）です。外部アドレスで照合し、"
        "変換はモデル化していません",
    ),
    (
        "{subject}: {setting} {name} is associated with interface {bound}, not with {names}",
        "{subject}: {setting} {name} が関連付けられているインターフェースは {bound} で、{names} "
        "ではありません",
    ),
    (
        "{subject}: service {name} is not defined in VDOM {vdom}",
        "{subject}: service {name} は VDOM {vdom} に定義がありません",
    ),
    (
        "{subject}: {setting} {name} is not defined in VDOM {vdom}",
        "{subject}: {setting} {name} は VDOM {vdom} に定義がありません",
    ),
    ("{subject} (VDOM {vdom}) is not used", "{subject}（VDOM {vdom}）は使われていません"),
    (
        "{subject} (VDOM {vdom}) is not modelled ({why}): the traffic it allows is not checked",
        "{subject}（VDOM {vdom}）はモデル化していません（{why}）。これが許可する通信は検査して"
        "いません",
    ),
    (
        "central SNAT (VDOM {vdom}) is not modelled",
        "central SNAT（VDOM {vdom}）はモデル化していません",
    ),
    # PAN-OS (panos, panos_tree)
    (
        "XML root <{tag}> is not a PAN-OS configuration (<config>, or an API <response> "
        "holding one)",
        "XML のルート <{tag}> は PAN-OS の設定ではありません（<config>、またはそれを含む API の "
        "<response> を指定してください）",
    ),
    (
        "XML entity declaration {name}: a DOCTYPE declaring entities is refused (PAN-OS never "
        "writes one)",
        "XML のエンティティ宣言 {name}: エンティティを宣言する DOCTYPE は受け付けません"
        "（PAN-OS は書き出しません）",
    ),
    ("XML external entity reference refused", "XML の外部エンティティ参照は受け付けません"),
    (
        "neither PAN-OS XML nor set/brace commands (first line: {text})",
        "PAN-OS の XML でも set / 波括弧のコマンドでもありません（1 行目: {text}）",
    ),
    (
        "XML starts at line {n}: remove the lines before it",
        "XML が {n} 行目から始まっています。その前の行を削除してください",
    ),
    ("{subject} entry without a name", "{subject} の項目に名前がありません"),
    ("security rule without a name", "名前のないセキュリティルールがあります"),
    (
        "{subject}: {obj} {name} defined twice (the first is used)",
        "{subject}: {obj} {name} が二度定義されています（最初の定義を使います）",
    ),
    (
        "device group {name}: parent-dg cycle through {parent}",
        "device group {name}: parent-dg が {parent} を通って循環しています",
    ),
    (
        "{subject}: rule name {name} used in both the {base} and the {other} rulebase (both "
        "kept, with the same id)",
        "{subject}: ルール名 {name} が {base} と {other} の両方のルールベースで使われています"
        "（両方とも同じ ID で残します）",
    ),
    (
        "{subject}: interzone-default allows and intrazone-default denies; segcheck takes both "
        "as allow (a default cannot depend on the zone pair)",
        "{subject}: interzone-default が許可、intrazone-default が拒否です。segcheck は両方を"
        "許可とみなします（既定の動作はゾーンの組によって変えられません）",
    ),
    (
        "NAT rule {name} (disabled) is not modelled: security rules are matched on the addresses "
        "and zones they are written with",
        "NAT ルール {name}（無効）はモデル化していません。セキュリティルールは書かれたとおりの"
        "アドレスとゾーンで照合します",
    ),
    (
        "NAT rule {name} is not modelled: security rules are matched on the addresses and zones "
        "they are written with",
        "NAT ルール {name} はモデル化していません。セキュリティルールは書かれたとおりのアドレスと"
        "ゾーンで照合します",
    ),
    (
        "{name}: unknown action {action} (the factory default is kept)",
        "{name}: 不明な action {action}（工場出荷時の既定のままにします）",
    ),
    (
        "{subject} has no action (PAN-OS default 'allow' taken)",
        "{subject} に action がありません（PAN-OS の既定 'allow' とみなしました）",
    ),
    (
        "{subject}: unknown action {action} (taken as allow, so no path is hidden)",
        "{subject}: 不明な action {action}（経路を隠さないよう allow とみなしました）",
    ),
    ("{subject} is disabled", "{subject} は無効です"),
    (
        "{subject}: field {tag} not understood (taken as a condition segcheck cannot see)",
        "{subject}: 項目 {tag} を解釈できません（segcheck から見えない条件とみなしました）",
    ),
    (
        "{subject}: unknown rule-type {value} (universal taken)",
        "{subject}: 不明な rule-type {value}（universal とみなしました）",
    ),
    (
        "{subject} has no '{side}' zone (any taken)",
        "{subject} に '{side}' のゾーンがありません（any とみなしました）",
    ),
    (
        "{subject}: {value} rule with zone 'any' in a context without zone definitions (taken as "
        "universal)",
        "{subject}: ゾーン定義のないコンテキストでゾーン 'any' の {value} ルールです（universal と"
        "みなしました）",
    ),
    (
        "{subject}: intrazone rule with different from and to zones is never matched (PAN-OS "
        "refuses it); skipped",
        "{subject}: from と to のゾーンが異なる intrazone ルールは一致しません（PAN-OS は受け付け"
        "ません）。読み飛ばしました",
    ),
    (
        "{subject} has no {side} (nothing resolvable)",
        "{subject} に {side} がありません（解決できるものがありません）",
    ),
    (
        "{subject} has no service (nothing resolvable)",
        "{subject} に service がありません（解決できるものがありません）",
    ),
    ("{subject}: address {value} is not defined", "{subject}: address {value} の定義がありません"),
    ("{subject}: service {value} is not defined", "{subject}: service {value} の定義がありません"),
    ("{subject}: zone {zone} is not defined", "{subject}: zone {zone} の定義がありません"),
    (
        "{subject}: member {member} is not defined",
        "{subject}: メンバー {member} の定義がありません",
    ),
    (
        "{subject} contains itself (cycle ignored)",
        "{subject} が自分自身を含んでいます（循環は無視しました）",
    ),
    (
        "{subject}: groups nested over {n} deep",
        "{subject}: グループの入れ子が {n} 段を超えています",
    ),
    ("{subject}: malformed ip-netmask {value}", "{subject}: ip-netmask {value} が読めません"),
    ("{subject}: malformed ip-range {value}", "{subject}: ip-range {value} が読めません"),
    ("{subject}: malformed port {value}", "{subject}: port {value} が読めません"),
    ("{subject} has no value", "{subject} に値がありません"),
    (
        "{subject}: no tcp, udp or sctp protocol",
        "{subject}: tcp、udp、sctp のどのプロトコルもありません",
    ),
    ("{subject}: no port", "{subject}: ポートがありません"),
    (
        "{subject}: source-port {value} is not modelled (allow rules match any source port; "
        "deny rules do not deny this service)",
        "{subject}: source-port {value} はモデル化していません（許可ルールは任意の送信元ポートに"
        "一致し、拒否ルールはこのサービスを拒否しません）",
    ),
    (
        "{subject} is used by no rule, interface or route",
        "{subject} はどのルール、インターフェース、ルートにも使われていません",
    ),
    (
        "{subject}: interface {name} is in zones {zone} and {other} (the first is used)",
        "{subject}: interface {name} がゾーン {zone} と {other} の両方にあります（最初のものを使います）",
    ),
    (
        "{subject}: zone {zone} names interface {name}, which is not defined",
        "{subject}: zone {zone} が interface {name} を挙げていますが、その定義がありません",
    ),
    (
        "{subject}: interface {name} address {value} is not defined",
        "{subject}: interface {name} のアドレス {value} の定義がありません",
    ),
    (
        "{subject}: interface {name} address {value} is not an ip-netmask address object",
        "{subject}: interface {name} のアドレス {value} は ip-netmask のアドレスオブジェクトでは"
        "ありません",
    ),
    ("static route {name} has no destination", "static route {name} に宛先がありません"),
    (
        "static route {name}: destination {dest} not resolvable",
        "static route {name}: 宛先 {dest} を解決できません",
    ),
    (
        "static route {name} to {dest}: no interface known (next-vr, FQDN or an unconnected "
        "next hop); the route is not used",
        "static route {name}（宛先 {dest}）: インターフェースが分かりません（next-vr、FQDN、"
        "または直結していないネクストホップ）。このルートは使いません",
    ),
    # nftables (nftables)
    (
        "nft's text format, not JSON: export with `nft -j list ruleset`",
        "nft のテキスト形式で、JSON ではありません。`nft -j list ruleset` で書き出してください",
    ),
    ("not JSON: {problem} (column {n})", "JSON ではありません: {problem}（{n} 桁目）"),
    (
        'not `nft -j list ruleset` output: no top-level {{"nftables": [...]}}',
        '`nft -j list ruleset` の出力ではありません: 最上位に {{"nftables": [...]}} がありません',
    ),
    ("not UTF-8 (byte offset {n})", "UTF-8 ではありません（バイト位置 {n}）"),
    ("JSON nested too deeply", "JSON の入れ子が深すぎます"),
    ("not an nftables object: {value}", "nftables のオブジェクトではありません: {value}"),
    ("{subject}: not an object: {value}", "{subject}: オブジェクトではありません: {value}"),
    (
        "table {family} {name} is dormant: not imported",
        "table {family} {name} は休止中（dormant）のため取り込みません",
    ),
    (
        "{subject}: rule of a chain the ruleset does not define",
        "{subject}: ルールセットに定義のないチェーンのルールです",
    ),
    ("{subject}: NAT is not modelled", "{subject}: NAT はモデル化していません"),
    ("{subject}: {family} family not imported", "{subject}: {family} ファミリーは取り込みません"),
    (
        "{subject}: filters traffic to or from the firewall itself, not transit traffic; not "
        "imported",
        "{subject}: ファイアウォール自身との通信を扱うチェーンで、通過する通信ではないため取り込み"
        "ません",
    ),
    (
        "{subject}: not imported (a drop there only narrows transit traffic)",
        "{subject}: 取り込みません（そこでの drop は通過する通信を狭めるだけです）",
    ),
    (
        "no forward base chain: this ruleset does not filter transit traffic",
        "forward のベースチェーンがありません。このルールセットは通過する通信を絞りません",
    ),
    (
        "{count} forward base chains ({names}): read as one list in priority order, an accept "
        "in an earlier chain taken as final (can only widen)",
        "forward のベースチェーンが {count} 個あります（{names}）。優先度順の一つのリストとして"
        "読み、前のチェーンの accept を最終とみなしました（広げる方向にだけ働きます）",
    ),
    (
        "no forward chain sees {family}: {family} transit traffic is not filtered by this "
        "ruleset (the import judges only what its chains see)",
        "{family} を見る forward チェーンがありません。{family} の通過する通信はこのルールセットで"
        "絞られません（取り込みはチェーンが見るものだけを判定します）",
    ),
    ("{subject}: rule without an expression list", "{subject}: 式のリストのないルールです"),
    ("{subject}: NAT statement, not modelled", "{subject}: NAT の文はモデル化していません"),
    (
        "{subject}: not understood: {reason_expr}; its accepts are kept with this condition "
        "ignored (widened)",
        "{subject}: 解釈できません: {reason_expr}。この条件を無視して accept を残しました"
        "（広げる方向）",
    ),
    (
        "{subject}: not understood: {reason_expr}; its drop is ignored (never hides a path)",
        "{subject}: 解釈できません: {reason_expr}。この drop は無視しました（経路を隠すことは"
        "ありません）",
    ),
    # what nftables could not evaluate, inside the two above (nft's own words stay)
    (
        "{left} {op} set @{name} (its content changes at run time)",
        "{left} {op} set @{name} (内容が実行時に変わる)",
    ),
    (
        "{left} {op} set @{name} that the table does not define",
        "{left} {op} set @{name} (テーブルに定義がない)",
    ),
    (
        "jump to chain {name} that the table does not define",
        "テーブルに定義のないチェーン {name} への jump",
    ),
    ("jump to base chain {name}", "ベースチェーン {name} への jump"),
    (
        "jumps nested deeper than {n} (or a loop) at chain {name}",
        "チェーン {name} で jump の入れ子が {n} 段を超えている (またはループ)",
    ),
    ("verdict queue (user space decides)", "verdict queue (ユーザー空間が判定する)"),
    (
        "{subject}: drop after a conditional return whose condition cannot be subtracted "
        "exactly; ignored (never hides a path)",
        "{subject}: 条件付き return の後の drop で、その条件を正確に差し引けません。無視しました"
        "（経路を隠すことはありません）",
    ),
    (
        "{subject}: drop on {names}, which the model does not distinguish; ignored (never "
        "hides a path)",
        "{subject}: {names} での drop は、モデルでは区別できません。無視しました（経路を隠すこと"
        "はありません）",
    ),
    (
        "{subject}: drop limited to interfaces ({names}) whose addresses the ruleset does not "
        "give; ignored (never hides a path)",
        "{subject}: インターフェース（{names}）に限った drop ですが、ルールセットにそのアドレスが"
        "ありません。無視しました（経路を隠すことはありません）",
    ),
    # policy tables (table)
    (
        "header map: unknown field {name} (fields: {names})",
        "見出しの対応: 不明な項目 {name}（項目: {names}）",
    ),
    (
        "no sheet holds a policy table (a header row naming 送信元 and 宛先)",
        "ポリシー表のあるシートがありません（送信元と宛先を示す見出し行）",
    ),
    (
        "no header row naming 送信元 and 宛先 (or Source and Destination) in the first {n} "
        "rows; map your headers with a header map",
        "最初の {n} 行に、送信元と宛先（または Source と Destination）を示す見出し行がありません。"
        "見出しの対応表で見出しを対応させてください",
    ),
    (
        "no action column (動作): every row is taken as an allow (a permit list)",
        "動作の列がありません。すべての行を許可とみなしました（許可リスト）",
    ),
    ("row without a No: its id is {rid}", "No のない行です。ID は {rid} とします"),
    ("No {rid} repeats the rule at {where}", "No {rid} は {where} のルールと重複しています"),
    ("port {value} out of range 0-65535", "ポート {value} が範囲 0-65535 の外です"),
    ("{header} cell is empty", "{header} の欄が空です"),
    (
        "{value} has host bits set: read as {cidr}",
        "{value} のホスト部が 0 ではありません。{cidr} として読みました",
    ),
    (
        "{subject}: {detail}; the allow is widened to any service",
        "{subject}: {detail}。この許可は任意のサービスに広げました",
    ),
    (
        "{subject}: {detail}; the allow is widened to any",
        "{subject}: {detail}。この許可は any に広げました",
    ),
    ("{subject}: {detail}; the deny is ignored", "{subject}: {detail}。この拒否は無視しました"),
    (
        "{subject}: action {value} not understood: taken as an allow (never hides a path)",
        "{subject}: 動作 {value} を解釈できません。許可とみなしました（経路を隠すことはありません）",
    ),
    (
        "{subject}: enabled value {value} not understood: taken as enabled",
        "{subject}: 有効/無効の値 {value} を解釈できません。有効とみなしました",
    ),
    (
        "{subject}: enabled value {value} not understood: taken as disabled",
        "{subject}: 有効/無効の値 {value} を解釈できません。無効とみなしました",
    ),
    (
        "{subject}: deny limited to interfaces ({names}) whose addresses the table does not "
        "give; ignored (never hides a path)",
        "{subject}: インターフェース（{names}）に限った拒否ですが、表にそのアドレスがありません。"
        "無視しました（経路を隠すことはありません）",
    ),
    (
        "{subject}: {name} is not an address: a name the table does not define (unresolved: "
        "an allow matches everything behind its interface, a deny nothing)",
        "{subject}: {name} はアドレスではなく、表に定義のない名前です（未解決: 許可はそのインター"
        "フェースの先すべてに一致し、拒否は何にも一致しません）",
    ),
    (
        "{subject}: port {value} without a protocol is not used in a deny",
        "{subject}: プロトコルのないポート {value} は拒否には使いません",
    ),
    (
        "{subject}: port {value} without a protocol: TCP and UDP",
        "{subject}: プロトコルのないポート {value}: TCP と UDP とみなしました",
    ),
    (
        "{subject}: service {name} is not in the catalogue (an allow takes any service, a deny "
        "only the services it names)",
        "{subject}: サービス {name} は一覧にありません（許可は任意のサービス、拒否は名前の挙がった"
        "サービスだけとみなします）",
    ),
    (
        "{subject}: {value} has host bits set: read as {cidr}",
        "{subject}: {value} のホスト部が 0 ではありません。{cidr} として読みました",
    ),
    (
        "{subject}: {setting} {name} is not defined",
        "{subject}: {setting} {name} の定義がありません",
    ),
    # every importer (permits)
    # the generic forms, after every specific one
    ("{subject} has no members", "{subject} にメンバーがありません"),
    ("{subject} has no {setting}", "{subject} に {setting} がありません"),
    (
        "interface or zone {name} is not defined; taken to reach every address",
        "インターフェースまたはゾーン {name} の定義がありません。すべてのアドレスに届くとみなしました",
    ),
    # a log value a reader could not take, with Python's reason (logflow): after the importers'
    # "zone z: …", which it would otherwise read
    ("{key} {value}: {reason}", "{key} {value} が読めない: {reason}"),
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
    if name == "kinds":  # pcap, pcapng or Zeek conn.log (capture.sources titles)
        for english, japanese in SOURCE_TITLES.items():
            value = value.replace(english, japanese)
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


def localize_located(text: str, lang: str) -> str:
    """`place: message` with the message in `lang`, the place (a path, `file:line`, an xpath)
    kept as written: the message is taken from the leftmost `: ` after which the catalogue
    knows it (a place may hold colons; a message may hold `: ` too)."""
    if Lang.of(lang) is Lang.EN:
        return text
    at = text.find(": ")
    while at >= 0:
        done = translate(text[at + 2 :], lang)
        if done is not None:
            return f"{text[:at]}: {done}"
        at = text.find(": ", at + 1)
    return localize(text, lang)


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
