"""Input errors and warnings in the user's language, with suggestions a user can act on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck import load_topology, parse_topology
from segcheck.cli import main
from segcheck.errors import TopologyError
from segcheck.messages import MESSAGES, PHRASES, close_names, localize, translate
from segcheck.model import Tier

from .test_loader import INVALID, INVALID_CASES

FIELD = re.compile(r"\{(\w+)\}")

# Enough of a topology for a line to be judged; each case adds one defect.
BASE = """segcheck: 1
zones:
  lg: {tier: lgwan, subnets: [10.2.0.0/16]}
  inet: {tier: internet, subnets: [10.3.0.0/16]}
nodes:
  情報系端末: {role: terminal, ip: 10.2.0.10}
  fw1:
    role: firewall
    ip: [10.2.0.1, 10.3.0.1]
    permit:
      - {id: P1, from: 情報系端末, to: inet, service: https}
"""


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.stderr


def error_of(text: str | bytes, name: str = "t.yaml") -> TopologyError:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(TopologyError) as info:
        parse_topology(raw, name)
    return info.value


# -- the catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize(("english", "japanese"), MESSAGES + PHRASES)
def test_each_translation_keeps_every_value(english: str, japanese: str) -> None:
    """A Japanese template shows every value its English one names, and no other."""
    # `{s}` is English grammar (the plural s), which Japanese has no use for
    assert set(FIELD.findall(english)) - {"s"} == set(FIELD.findall(japanese))


def test_every_invalid_topology_is_explained_in_japanese(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole invalid corpus: the catalogue knows every message, the CLI keeps file:line."""
    monkeypatch.chdir(repo_root)
    untranslated = []
    for name, (line, _) in sorted(INVALID_CASES.items()):
        path = f"{INVALID}/{name}"
        with pytest.raises(TopologyError) as info:
            load_topology(path)
        if translate(info.value.detail, "ja") is None:
            untranslated.append(f"{name}: {info.value.detail}")
            continue
        code, err = run(["check", path, "--lang", "ja"])
        assert code == 2
        assert err.startswith(f"エラー: {path}:{line}: "), err
        assert err.count("\n") == 1
    assert untranslated == []


LOADER_DEFECTS = {
    "role": BASE.replace("role: firewall", "role: firwall"),
    "tier": BASE.replace("tier: internet", "tier: インタネット接続系"),
    "key": BASE.replace("tier: lgwan, subnets", "tier: lgwan, subnet"),
    "service": BASE.replace("service: https", "service: htps"),
    "zone in permit": BASE.replace("to: inet", "to: inte"),
    "node in permit": BASE.replace("from: 情報系端末", "from: 情報系端未"),
    "port 3389": BASE.replace("service: https", "service: 3389"),
    "tcp/3389": BASE.replace("service: https", "service: tcp/3389"),
    "undeclared port": BASE.replace("service: https", "service: udp/5060"),
    "no ip": BASE.replace("    ip: [10.2.0.1, 10.3.0.1]\n", ""),
    "address in no zone": BASE.replace("10.2.0.10", "192.168.1.1"),
    "duplicate address": BASE.replace("10.3.0.1]", "10.2.0.10]"),
    "link": BASE + "links:\n  - [fw1, lgg]\n",
    "channel": BASE
    + "channels:\n  - {id: C1, from: 情報系端末, to: fw, service: rdp, reason: r}\n",
    "expiry": BASE + "channels:\n  - {id: C1, from: 情報系端末, to: fw1, service: rdp, reason: r, "
    "expires: 令和9年}\n",
    "profile": BASE.replace("segcheck: 1\n", "segcheck: 1\nprofile: alpah\n"),
    "label": BASE.replace("{tier: lgwan, ", "{label: [x], tier: lgwan, "),
    "port number": BASE.replace("zones:", "services:\n  sip: {udp: [70000]}\nzones:"),
    "permit list": BASE.replace("    permit:\n      - ", "    permit: "),
    "overlap": BASE.replace("10.3.0.0/16", "10.2.128.0/17"),
    "bidi": BASE.replace("zones:", 'name: "a\\u202eb"\nzones:'),
    "version 2": BASE.replace("segcheck: 1", "segcheck: 2"),
    "version 1.0": BASE.replace("segcheck: 1", "segcheck: 1.0"),
}


@pytest.mark.parametrize("case", sorted(LOADER_DEFECTS))
def test_loader_messages_have_japanese(case: str) -> None:
    error = error_of(LOADER_DEFECTS[case])
    japanese = translate(error.detail, "ja")
    assert japanese is not None, error.detail
    # Translated, not copied: no English sentence survives (names and keys may be ASCII).
    assert not re.search(r"\b(unknown|must|allowed|missing|not a|did you)\b", japanese)
    assert error.localized("ja") == f"{error.where}: {japanese}"
    assert error.localized("en") == str(error)


# -- did you mean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "english", "japanese"),
    [
        ("role", "did you mean 'firewall'?", "もしかして 'firewall' ですか？"),
        ("service", "did you mean 'https' or 'http'?", "もしかして 'https'、'http' ですか？"),
        ("key", "did you mean 'subnets'?", "もしかして 'subnets' ですか？"),
        ("zone in permit", "did you mean 'inet'?", "もしかして 'inet' ですか？"),
        ("node in permit", "did you mean '情報系端末'?", "もしかして '情報系端末' ですか？"),
        ("link", "did you mean 'lg'?", "もしかして 'lg' ですか？"),
        ("channel", "did you mean 'fw1'?", "もしかして 'fw1' ですか？"),
        ("profile", "did you mean 'alpha'?", "もしかして 'alpha' ですか？"),
        ("tier", "did you mean 'インターネット接続系'", "もしかして 'インターネット接続系'"),
    ],
)
def test_did_you_mean(case: str, english: str, japanese: str) -> None:
    error = error_of(LOADER_DEFECTS[case])
    assert str(error).endswith(english) or english in str(error)
    assert japanese in error.localized("ja")


def test_rpd_suggests_rdp() -> None:
    error = error_of(BASE.replace("service: https", "service: rpd"))
    assert str(error).endswith("unknown service 'rpd'; did you mean 'rdp'?")


def test_close_names_ignore_width_case_and_separators() -> None:
    assert close_names("ＦＩＲＥＷＡＬＬ", ["firewall", "router"]) == ["firewall"]
    assert close_names("L3_Switch", ["l3-switch", "router"]) == ["l3-switch"]
    assert close_names("zzz", ["firewall", "router"]) == []


@pytest.mark.parametrize(
    ("service", "english"),
    [
        ("3389", "the service 'rdp' covers tcp/3389"),
        ("tcp/3389", "the service 'rdp' covers tcp/3389"),
        ("TCP3389", "the service 'rdp' covers tcp/3389"),
        ("53/udp", "the service 'dns' covers udp/53"),
        ("udp/5060", "declare it under 'services:' (for example services: "),
    ],
)
def test_a_port_for_a_service_says_how_to_name_one(service: str, english: str) -> None:
    error = error_of(BASE.replace("service: https", f"service: {service}"))
    assert "a service is named, not written as a port" in str(error)
    assert english in str(error)
    assert "サービスはポート番号ではなく名前で書きます" in error.localized("ja")
    if "declare" in english:
        # The example it gives is a service definition that loads.
        example = re.search(r"services: (\{.*\}\})", str(error))
        assert example is not None
        fixed = BASE.replace("zones:", f"services: {example.group(1)}\nzones:").replace(
            f"service: {service}", "service: udp-5060"
        )
        parse_topology(fixed.encode(), "fixed.yaml")


# -- YAML that a Japanese editor typed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "english", "japanese"),
    [
        (
            "segcheck: 1\nzones:\n\tlg: {tier: lgwan, subnets: [10.2.0.0/16]}\n",
            3,
            "a tab in the indentation",
            "字下げにタブ文字があります",
        ),
        (
            "segcheck: 1\nzones:\n  lg:\n\u3000  tier: lgwan\n    subnets: [10.2.0.0/16]\n",
            4,
            "a full-width space (全角スペース, U+3000) in the indentation",
            "字下げに全角スペース（U+3000）があります",
        ),
        (
            "segcheck: 1\nzones:\n  lg:\n    tier:\u3000lgwan\n    subnets: [10.2.0.0/16]\n",
            4,
            "a full-width space (全角スペース, U+3000) after the colon",
            "コロンの後ろが全角スペース",
        ),
        (
            # The parser stops on line 3; the colon was typed on line 2.
            "segcheck: 1\nzones：\n  lg: {tier: lgwan, subnets: [10.2.0.0/16]}\n",
            2,
            "a full-width colon (：) after zones: YAML needs the ASCII colon; write 'zones: …'",
            "zones の後ろが全角コロン（：）です",
        ),
        (
            "segcheck: 1\nzones:\n  lg: {tier：lgwan, subnets: [10.2.0.0/16]}\n",
            3,
            "a full-width colon (：) after tier",
            "tier の後ろが全角コロン（：）です",
        ),
        (
            "segcheck：1\n",
            1,
            "a full-width colon (：) after segcheck",
            "segcheck の後ろが全角コロン（：）です",
        ),
    ],
)
def test_yaml_slips_on_their_real_line(text: str, line: int, english: str, japanese: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert english in error.detail
    assert japanese in error.localized("ja")


def test_a_full_width_space_inside_a_label_is_fine() -> None:
    parse_topology(
        BASE.replace("{tier: lgwan, ", "{label: 本庁舎\u30003階, tier: lgwan, ").encode()
    )


def test_a_cp932_file_is_told_to_be_saved_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "庁内.yaml"
    path.write_bytes(BASE.encode("cp932"))
    code, err = run(["check", str(path), "--lang", "ja"])
    assert code == 2
    assert err.startswith(f"エラー: {path}:6: ")
    assert "Shift_JIS（CP932）で保存されています。UTF-8 で保存し直してください" in err
    code, err = run(["check", str(path), "--lang", "en"])
    assert "the file is in Shift_JIS (CP932), not UTF-8: save it as UTF-8" in err


def test_a_utf16_file_is_told_to_be_saved_as_utf8() -> None:
    error = error_of(BASE.encode("utf-16"))
    assert error.detail == "the file is in UTF-16, not UTF-8: save it as UTF-8"
    assert "UTF-16 で保存されています" in error.localized("ja")


# -- forgiving names and versions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "tier"),
    [
        ("ＬＧＷＡＮ接続系", Tier.LGWAN),
        ("LGWAN系", Tier.LGWAN),
        ("lgwan系", Tier.LGWAN),
        ("LGWAN", Tier.LGWAN),
        ("マイナンバー系", Tier.MYNUMBER),
        ("基幹系", Tier.MYNUMBER),
        ("インターネット系", Tier.INTERNET),
        ("Internet", Tier.INTERNET),
        ("LGWAN_Network", Tier.LGWAN_NETWORK),
        ("Gov Cloud", Tier.GOV_CLOUD),
    ],
)
def test_tier_names_are_forgiving(written: str, tier: Tier) -> None:
    topology = parse_topology(BASE.replace("tier: lgwan", f"tier: {written}").encode())
    assert topology.zones["lg"].tier is tier


def test_unknown_tier_lists_the_japanese_names() -> None:
    error = error_of(BASE.replace("tier: lgwan", "tier: 公開系"))
    for name in ("マイナンバー利用事務系", "LGWAN接続系", "インターネット接続系"):
        assert name in str(error)
        assert name in error.localized("ja")


def test_version_one_quoted_is_read() -> None:
    topology = parse_topology(BASE.replace("segcheck: 1", "segcheck: '1'").encode())
    assert topology.zones["lg"].tier is Tier.LGWAN


@pytest.mark.parametrize("written", ["1.0", "'v1'", "'１'"])
def test_version_one_written_otherwise_is_explained(written: str) -> None:
    error = error_of(BASE.replace("segcheck: 1", f"segcheck: {written}"))
    assert "write 'segcheck: 1'" in error.detail
    assert "reads version 1 (reads" not in error.detail
    assert "'segcheck: 1' と書いてください" in error.localized("ja")


# -- the command line ---------------------------------------------------------------------------


def test_language_follows_the_locale(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(LOADER_DEFECTS["role"], encoding="utf-8")
    for env, start in (
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, "エラー: "),
        ({"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, "Error: "),
    ):
        code, err = run(["check", str(path)], env=env)
        assert code == 2 and err.startswith(start + f"{path}:8: "), err
    code, err = run(["check", str(path), "--lang", "en"], env={"LANG": "ja_JP.UTF-8"})
    assert err.startswith("Error: ")


def test_usage_errors_in_japanese(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(BASE, encoding="utf-8")
    code, err = run(["check", str(path), "--lang", "ja", "--today", "令和8年"])
    assert code == 2
    assert err == "エラー: --today '令和8年' が日付（YYYY-MM-DD）ではありません\n"
    code, err = run(["explain", "NO-SUCH-RULE", "--lang", "ja"])
    assert code == 2 and err.startswith("エラー: 不明なルール 'NO-SUCH-RULE'（既知のルール: ")


def test_capture_messages_are_translated_inside_their_frames() -> None:
    done = translate(
        "no readable Zeek conn.log entry (2 skipped; the first, line 3: entry before #fields)", "ja"
    )
    assert (
        done
        == "読める Zeek conn.log の行がありません（2 行をスキップ。最初は行 3: #fields より前に記録がある）"
    )
    assert translate("extracted 1 packets of 1 flow to v.pcap (pcap)", "ja") == (
        "違反フロー 1 件のパケット 1 個を v.pcap に抽出しました (pcap)"
    )
    # an operating system's own words stay as they are, inside a translated frame
    assert translate("cannot read: Permission denied", "ja") == "読み込めません: Permission denied"


def test_an_unknown_message_stays_english() -> None:
    assert localize("a message nobody wrote down", "ja") == "a message nobody wrote down"
    assert translate("a message nobody wrote down", "ja") is None


@pytest.mark.parametrize(
    ("args", "japanese"),
    [
        (["check", "t.yaml", "--nope"], "不明なオプション '--nope'"),
        (["check"], "引数 'TOPOLOGY' がありません"),
        (["chek", "t.yaml"], "不明なコマンド 'chek'。もしかして 'check' ですか？"),
        (["check", "t.yaml", "--format", "xls"], "'--format' の値が正しくありません: 'xls' は "),
        (["check", "a.yaml", "b.yaml"], "余分な引数があります (b.yaml)"),
        (["watch", "t.yaml", "d", "-o", "o.jsonl", "--poll", "abc"], "'abc' は数値ではありません"),
    ],
)
def test_click_usage_errors_in_japanese(args: list[str], japanese: str) -> None:
    """Mistyped options and arguments, which click itself reports, follow --lang too."""
    code, err = run([*args, "--lang", "ja"])
    assert code == 2
    assert err.startswith("エラー: ") and japanese in err, err
    assert "--help）" in err and err.count("\n") == 1
    assert not re.search(r"\b(Usage|Error|Missing|No such|Invalid|not one of|Got)\b", err)
    # English stays click's own, usage line and all
    code, err = run([*args, "--lang", "en"])
    assert code == 2 and err.startswith("Usage: ") and "\nError: " in err
