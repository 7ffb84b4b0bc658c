"""`segcheck init`: a commented Japanese topology to start from, one per profile.

The template is a small municipality as the guideline draws it (マイナンバー利用事務系,
LGWAN接続系, インターネット接続系, LGWAN and the security cloud outside), laid out for the
chosen model: under α/α′ staff work in the LGWAN tier and reach the Internet through screen
transfer; under β/β′ they work in the Internet tier and reach the LGWAN tier through VDI, with
EDR and MFA on their terminals; α′ adds a local breakout gateway. Every template loads and
checks clean as written (tests/test_init.py), so a user changes a working plan, one line at a
time, instead of debugging an empty file. Addresses are private or documentation ranges.
"""

from __future__ import annotations

from ..model import Profile

PROFILES = tuple(p.value for p in Profile)

_HEAD = """\
# segcheck 構成ファイル (segcheck init --profile {profile} で作成)
#
# 三層の対策 ({model}) のひな形です。自団体の構成に合わせて書き換え、
#   segcheck check {{このファイル}} --lang ja
# で検査してください。書式は docs/spec.md §2 にあります。
# ・キーと値は「キー: 値」(半角コロンと半角スペース)。字下げは半角スペースのみ (タブ・全角スペース不可)。
# ・ファイルは UTF-8 で保存してください (Shift_JIS は読めません)。
# ・アドレスはすべて例です (10.x は庁内、198.18.0.0/16 などは文書用の範囲)。
segcheck: 1                          # 書式の版 (必須、常に 1)
name: ○○市 庁内ネットワーク          # 報告書に載る名前
profile: {profile}                   # モデル: alpha, alpha-prime, beta, beta-prime

# --- ゾーン: サブネットとその系統 (tier) -------------------------------------------------------
# 系統は mynumber/lgwan/internet などの英語名でも、マイナンバー利用事務系/LGWAN接続系/
# インターネット接続系 などの日本語名でも書けます。同じ系統の中ではゾーンを分けても構いません。
zones:
  mn:                                # マイナンバー利用事務系
    tier: マイナンバー利用事務系
    label: 基幹系 業務LAN
    subnets: [10.1.0.0/16]
  lg:                                # LGWAN接続系
    tier: LGWAN接続系
    label: LGWAN接続系 業務LAN
    subnets: [10.2.0.0/16]
  inet:                              # インターネット接続系
    tier: インターネット接続系
    label: インターネット接続系
    subnets: [10.3.0.0/16]
  lgwan:                             # 庁外: 総合行政ネットワーク
    tier: 総合行政ネットワーク
    subnets: [198.18.0.0/16]
  sec-cloud:                         # 庁外: 自治体情報セキュリティクラウド
    tier: 自治体情報セキュリティクラウド
    subnets: [192.0.2.0/24]
{extra_zones}
# --- サービス: 組み込み (rdp, ica, blast, https, smtp, dns など) に足すもの ----------------------
# ポート番号はサービス名で書きます。例: 業務システム独自の TCP 9443 を使う場合
services:
  gyomu-app: {{tcp: [9443]}}

# --- 機器 (ノード): 役割 (role) と IP アドレス ----------------------------------------------
# role: terminal (端末), server (サーバ), router, l3-switch, firewall, screen-transfer (画面転送),
#       mail-sanitizer (メール無害化), file-sanitizer (ファイル無害化), cloud-proxy など。
# 転送機器 (firewall, router, l3-switch) の permit: は、その機器が通す通信です (上から順に評価)。
nodes:
  # マイナンバー利用事務系: 端末は持ち出し不可設定 (usb_block) と多要素認証 (mfa) が必要
  mn-term-01: {{role: terminal, ip: 10.1.10.11, usb_block: true, mfa: true, label: 住民課 端末}}
  mn-app:     {{role: server, ip: 10.1.20.10, label: 基幹業務システム}}
  mn-l3sw:    {{role: l3-switch, ip: [10.1.0.254, 10.1.10.1, 10.1.20.1], label: 基幹系 L3スイッチ}}
{nodes}
  # 系間ファイアウォール: 三つの系統をつなぐ唯一の機器
  fw-core:
    role: firewall
    label: 系間FW
    ip: [10.1.0.1, 10.2.0.1, 10.3.0.1]
    permit:
{permits}
  # 庁外への出口
  lgwan-rtr:
    role: router
    label: LGWAN 接続ルータ
    ip: [10.2.0.254, 198.18.0.2]
    permit:                          # permit: を書いた転送機器は、書いた通信だけを通す
      - {{id: LGW-10, from: lg, to: lgwan, service: any}}           # LGWAN接続系 → LGWAN
      - {{id: LGW-20, from: lgwan, to: lg-mail, service: smtp}}     # LGWAN メールの受信
  sc-rtr:    {{role: router, ip: [10.3.0.254, 192.0.2.1], label: セキュリティクラウド接続ルータ}}
  sc-proxy:  {{role: cloud-proxy, ip: 192.0.2.10, accepts: [http-proxy, https], label: セキュリティクラウド プロキシ}}
{extra_nodes}
# --- 接続 (任意): 同じサブネットに属さない機器同士を結ぶ線 --------------------------------------
links: []

# --- 例外 (特定通信): 系統をまたぐ通信を、承認のうえで認めるもの -------------------------------
# 例外に載せた経路は指摘ではなく「例外により許可」として報告されます。有効期限を過ぎると指摘になります。
channels: []
#  - id: CH-1
#    from: mn-app                  # 機器 1 台
#    to: 198.18.200.10             # 中間サーバー (例)
#    service: https
#    reason: 中間サーバーへの副本登録
#    approved_by: CISO
#    ticket: SEC-2026-001
#    expires: 2027-03-31
"""

_ALPHA_NODES = """\
  # LGWAN接続系: 職員の主な業務端末
  lg-term-01: {role: terminal, ip: 10.2.10.11, label: 総務課 端末}
  lg-mail:    {role: server, ip: 10.2.20.25, label: LGWAN メールサーバ}
  # インターネット接続系: 画面転送とメール無害化
  inet-sbc-01:
    role: screen-transfer
    label: 画面転送サーバ (インターネット閲覧用)
    ip: 10.3.10.11
    accepts: [rdp, ica]
    clipboard: false                 # クリップボード転送を禁止
    drive_redirect: false            # ドライブ転送を禁止
    printer_redirect: false          # プリンタ転送を禁止
  inet-mailsan:
    role: mail-sanitizer
    label: メール無害化装置
    ip: 10.3.20.26
    delivers: [smtp]
    html_to_text: true
    attachments: delete
"""

_ALPHA_PERMITS = """\
      - {id: FW-10, from: lg, to: inet-sbc-01, service: [rdp, ica]}    # 画面転送
      - {id: FW-20, from: inet-mailsan, to: lg-mail, service: smtp}    # 無害化したメール"""

_BETA_NODES = """\
  # インターネット接続系: 職員の主な業務端末 (β: EDR と多要素認証が必要)
  inet-term-01: {role: terminal, ip: 10.3.10.11, edr: true, mfa: true, label: 総務課 端末}
  inet-mailsan:
    role: mail-sanitizer
    label: メール無害化装置
    ip: 10.3.20.26
    delivers: [smtp]
    html_to_text: true
    attachments: delete
  # LGWAN接続系: 画面転送 (VDI) で使う
  lg-vdi-01:
    role: screen-transfer
    label: 画面転送 (VDI)
    ip: 10.2.70.11
    accepts: [blast, ica]
    clipboard: false
    drive_redirect: false
    printer_redirect: false
  lg-mail: {role: server, ip: 10.2.20.25, label: LGWAN メールサーバ}
"""

_BETA_PERMITS = """\
      - {id: FW-10, from: inet, to: lg-vdi-01, service: [blast, ica]}  # 画面転送 (VDI)
      - {id: FW-20, from: inet-mailsan, to: lg-mail, service: smtp}    # 無害化したメール"""

_LBO_ZONES = """\
  internet:                          # 庁外: インターネット (LBO の宛先)
    tier: インターネット
    subnets: [203.0.113.0/24]
"""

_LBO_NODES = """\
  # α′: LGWAN接続系から特定の SaaS だけに直接出るローカルブレイクアウト装置
  lg-lbo:
    role: lbo-gateway
    label: ローカルブレイクアウト装置
    ip: [10.2.0.5, 203.0.113.5]
    allow_destinations:
      - 203.0.113.64/26              # 業務 SaaS (例)
"""

_MODELS = {
    "alpha": "αモデル",
    "alpha-prime": "α′モデル",
    "beta": "βモデル",
    "beta-prime": "β′モデル",
}


def template(profile: str = "alpha") -> str:
    """The commented Japanese topology for a profile (alpha, alpha-prime, beta, beta-prime)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    beta = profile.startswith("beta")
    lbo = profile == "alpha-prime"
    return _HEAD.format(
        profile=profile,
        model=_MODELS[profile],
        extra_zones=_LBO_ZONES if lbo else "",
        nodes=(_BETA_NODES if beta else _ALPHA_NODES).rstrip("\n"),
        permits=_BETA_PERMITS if beta else _ALPHA_PERMITS,
        extra_nodes=_LBO_NODES if lbo else "",
    )
