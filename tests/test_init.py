"""`segcheck init`: templates that load and check, and topologies from IP address ledgers."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck import load_topology, parse_topology
from segcheck.cli import main
from segcheck.engine import check
from segcheck.errors import InputError, TopologyError
from segcheck.loaders.ledger import LedgerError, Unmapped, import_ledger, read_map
from segcheck.loaders.template import PROFILES, template
from segcheck.model import Profile, Role, Tier
from segcheck.report.csv import render_unmapped

ROOT = Path(__file__).resolve().parents[1]
LEDGERS = ROOT / "tests" / "data" / "ledgers"
MAP = LEDGERS / "map.yaml"
FIXTURES = ("daicho-cp932.csv", "daicho-utf8-bom.csv", "daicho-utf16.tsv")
HEADER = "No,IPアドレス,ホスト名,系統,種別,利用部門,状態\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_template_loads_and_checks_clean(profile: str, tmp_path: Path) -> None:
    out = tmp_path / "town.yaml"
    code, _, err = run("init", "--profile", profile, "-o", str(out))
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert text == template(profile)
    assert "# 三層の対策" in text and f"profile: {profile}" in text  # commented, in Japanese
    report = check(out)
    assert report.topology.profile is Profile(profile)
    assert report.findings == () and report.separation_proven
    code, out_text, _ = run("check", str(out), "--lang", "ja")
    assert code == 0 and "指摘なし" in out_text


def test_templates_differ_where_the_models_do(tmp_path: Path) -> None:
    alpha, beta, prime = (
        parse_topology(template(p).encode()) for p in ("alpha", "beta", "alpha-prime")
    )
    assert alpha.nodes["lg-term-01"].role is Role.TERMINAL
    assert beta.nodes["inet-term-01"].settings == {"edr": True, "mfa": True}
    assert prime.nodes["lg-lbo"].role is Role.LBO_GATEWAY
    # the α′ breakout is a finding under α: the template is a real plan, not decoration
    wrong = template("alpha-prime").replace("profile: alpha-prime", "profile: alpha")
    path = tmp_path / "wrong.yaml"
    path.write_text(wrong, encoding="utf-8")
    assert {f.rule for f in check(path).findings} == {"LG-NO-INTERNET"}


# -- ledgers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_each_encoding_imports_and_checks(name: str, tmp_path: Path) -> None:
    out = tmp_path / "town.yaml"
    code, _, err = run(
        "init", "--from-ledger", str(LEDGERS / name), "--map", str(MAP), "-o", str(out)
    )
    assert code == 0, err
    topology = load_topology(out)
    assert set(topology.zones) == {"mn", "lg", "inet"}
    assert topology.zones["lg"].tier is Tier.LGWAN
    nodes = topology.nodes
    # CP932's ①, ㈱, 髙 and ～ survive (shift_jis would fail or turn ～ into 〜)
    assert "MN-PC①" in nodes and nodes["MN-PC①"].label == "住民課 ㈱髙橋システム保守"
    assert nodes["mn-db"].label == "情報政策課～基幹"
    # full-width digits read as an address; half-width katakana kept as written
    assert [str(ip) for ip in nodes["MN-PC①"].addresses] == ["10.1.10.11"]
    assert "ﾎｽﾄ-lg-01" in nodes
    # one host on two rows is one node with both addresses; 未使用 rows are skipped
    assert [str(ip) for ip in nodes["core-fw"].addresses] == ["10.1.0.1", "10.2.0.1"]
    assert nodes["core-fw"].role is Role.FIREWALL and nodes["lg-mfp"].role is Role.SERVER
    assert "lg-old" not in nodes
    text = out.read_text(encoding="utf-8")
    assert f"# {name}:7, 8" in text and "対象外 (状態) 1 行" in text
    code, _, _ = run("check", str(out))
    assert code == 1  # MN-PC① has no usb_block/mfa: the import does not invent settings


def test_same_ledger_in_three_encodings_gives_the_same_topology() -> None:
    texts = []
    for name in FIXTURES:
        text = import_ledger(str(LEDGERS / name), read_map(str(MAP))).text
        body = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        texts.append(body)
    assert texts[0] == texts[1] == texts[2]


def test_output_is_deterministic(tmp_path: Path) -> None:
    copy = tmp_path / "daicho.csv"
    shutil.copy(LEDGERS / "daicho-cp932.csv", copy)
    first = import_ledger(str(copy), read_map(str(MAP))).text
    assert import_ledger(str(copy), read_map(str(MAP))).text == first
    assert import_ledger(str(copy), read_map(str(MAP))).encoding == "cp932"


def ledger(tmp_path: Path, *rows: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "台帳.csv"
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode(encoding))
    return str(path)


def test_unmappable_rows_are_listed_never_dropped(tmp_path: Path) -> None:
    path = ledger(
        tmp_path,
        "1,10.1.10.11,ok-pc,基幹系,端末,住民課,使用中",
        "2,10.2.10.11,info-pc,情報系,端末,総務課,使用中",
        "3,10.001.001.010,octal-pc,基幹系,端末,,使用中",
        "4,10.2.10.12,drift-pc,基幹系,端末,,使用中",
        "5,172.16.0.1,lost-pc,,端末,,使用中",
        "6,10.1.10.11,twin-pc,基幹系,端末,,使用中",
        "7,10.3.10.11,odd-pc,インターネット系,プリンタ,,使用中",
        "8,10.3.10.12,,インターネット系,端末,,使用中",
    )
    with pytest.raises(LedgerError) as info:
        import_ledger(path, read_map(str(MAP)))
    listed = {u.where.rsplit(":", 1)[1]: u for u in info.value.rows}
    assert set(listed) == {"3", "4", "5", "6", "7", "8", "9"}
    assert listed["3"].column == "zone" and "情報系 is ambiguous" in listed["3"].reason
    assert listed["4"].value == "10.001.001.010" and listed["4"].reason == "not an IP address"
    assert "says zone 'mn' but the address is in zone 'lg'" in listed["5"].reason
    assert "in no zone of the map" in listed["6"].reason
    assert listed["7"].reason == "the address is already 'ok-pc''s"
    assert listed["8"].column == "role" and listed["8"].value == "プリンタ"
    assert listed["9"].reason == "no host name"
    assert info.value.line == 3
    code, _, err = run("init", "--from-ledger", path, "--map", str(MAP), "--lang", "ja")
    assert code == 2
    assert err.startswith(f"エラー: {path}:3: 7 行を取り込めません:\n")
    assert f"  {path}:3: zone=情報系: 情報系はあいまい" in err
    assert f"  {path}:4: ip=10.001.001.010: IPアドレスではない" in err
    assert "Traceback" not in err


def test_allow_unmapped_writes_the_rest_and_says_what_is_missing(tmp_path: Path) -> None:
    path = ledger(
        tmp_path,
        "1,10.1.10.11,ok-pc,基幹系,端末,住民課,使用中",
        "2,10.2.10.11,info-pc,情報系,端末,総務課,使用中",
    )
    out = tmp_path / "town.yaml"
    code, _, err = run(
        "init", "--from-ledger", path, "--map", str(MAP), "--allow-unmapped", "-o", str(out),
        "--lang", "en",
    )  # fmt: skip
    assert code == 0 and f"Warning: {path}:3: zone=情報系:" in err
    text = out.read_text(encoding="utf-8")
    assert "# 部分的: 取り込めなかった行 1 件" in text and "zone=情報系" in text
    assert set(load_topology(out).nodes) == {"ok-pc"}


def test_johokei_is_never_mapped_without_ambiguous_ok(tmp_path: Path) -> None:
    text = MAP.read_text(encoding="utf-8").replace(
        "    基幹系: mn\n", "    基幹系: mn\n    情報系: inet\n"
    )
    (tmp_path / "map.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as info:
        read_map(str(tmp_path / "map.yaml"))
    assert info.value.line == 12 and "情報系 is ambiguous" in info.value.detail
    ok = text + "ambiguous_ok: [情報系]\n"
    (tmp_path / "map.yaml").write_text(ok, encoding="utf-8")
    path = ledger(tmp_path, "1,10.3.10.11,info-pc,情報系,端末,総務課,使用中")
    topology = parse_topology(
        import_ledger(path, read_map(str(tmp_path / "map.yaml"))).text.encode()
    )
    assert [str(ip) for ip in topology.nodes["info-pc"].addresses] == ["10.3.10.11"]


def test_map_errors_name_their_line(tmp_path: Path) -> None:
    bad = MAP.read_text(encoding="utf-8").replace("    LGWAN系: lg\n", "    LGWAN系: lgg\n")
    (tmp_path / "map.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(TopologyError) as info:
        read_map(str(tmp_path / "map.yaml"))
    assert info.value.line == 13
    assert info.value.detail == "map: LGWAN系: 'lgg' is not a zone of 'zones:'; did you mean 'lg'?"
    assert "対応表: LGWAN系: 'lgg' は 'zones:' のゾーンではありません" in info.value.localized("ja")


def test_a_ledger_without_a_header_hints_at_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_ledger(str(path), read_map(str(MAP)))
    assert "try --encoding cp932" in info.value.detail
    assert "見出しが文字化けしている場合は" in info.value.localized("ja")


def test_a_ledger_in_no_known_encoding_names_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(HEADER.encode() + b"1,10.1.1.1,\x80\xff,,,,\n")
    with pytest.raises(InputError) as info:
        import_ledger(str(path), read_map(str(MAP)))
    assert info.value.line == 2 and "byte" in info.value.detail


def test_an_xlsx_ledger_cites_sheet_and_cell(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "ホスト一覧"
    sheet.append(["IPアドレス管理表"])
    sheet.append(HEADER.strip().split(","))
    sheet.append([1, "10.1.10.11", "mn-pc", "基幹系", "端末", "住民課", "使用中"])
    sheet.append([2, "10.2.10.11", "bad-pc", "謎系", "端末", "総務課", "使用中"])
    path = tmp_path / "台帳.xlsx"
    book.save(path)
    with pytest.raises(LedgerError) as info:
        import_ledger(str(path), read_map(str(MAP)))
    (row,) = info.value.rows
    assert row.where == f"{path}!ホスト一覧!D4" and row.value == "謎系"
    done = import_ledger(str(path), read_map(str(MAP)), allow_unmapped=True)
    assert "# 台帳.xlsx!ホスト一覧:3" in done.text
    assert set(parse_topology(done.text.encode()).nodes) == {"mn-pc"}


def test_init_refuses_a_map_without_a_ledger() -> None:
    code, _, err = run("init", "--map", str(MAP), "--lang", "ja")
    assert code == 2 and "--map は --from-ledger と一緒に指定します" in err


def test_report_lists_the_rows_left_out_for_excel(tmp_path: Path) -> None:
    path = ledger(
        tmp_path,
        "1,10.1.10.11,ok-pc,基幹系,端末,住民課,使用中",
        "2,10.2.10.11,info-pc,情報系,端末,総務課,使用中",
    )
    out, report = tmp_path / "town.yaml", tmp_path / "unmapped.csv"
    code, _, err = run(
        "init", "--from-ledger", path, "--map", str(MAP), "--allow-unmapped", "-o", str(out),
        "--report", str(report), "--lang", "ja",
    )  # fmt: skip
    assert code == 0, err
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")  # Excel: BOM and CRLF
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    assert rows[0] == ["場所", "列", "値", "理由"]
    assert rows[1][:3] == [f"{path}:3", "zone", "情報系"] and rows[1][3].startswith(
        "情報系はあいまい"
    )
    assert len(rows) == 2
    # a ledger's value never runs as a formula in Excel
    guarded = render_unmapped([Unmapped("d.csv:9", "name", "=1+1", "no host name")], "en")
    assert guarded == "source,column,value,reason\r\nd.csv:9,name,'=1+1,no host name\r\n"
    # without rows left out, the header alone says so; --no-bom gives plain UTF-8
    clean = ledger(tmp_path, "1,10.1.10.11,ok-pc,基幹系,端末,住民課,使用中")
    code, _, err = run(
        "init", "--from-ledger", clean, "--map", str(MAP), "-o", str(tmp_path / "b.yaml"),
        "--report", str(tmp_path / "none.csv"), "--no-bom", "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "none.csv").read_bytes() == b"source,column,value,reason\r\n"
    code, _, err = run("init", "--report", str(tmp_path / "x.csv"), "--lang", "ja")
    assert code == 2 and "--report は --from-ledger と一緒に指定します" in err
