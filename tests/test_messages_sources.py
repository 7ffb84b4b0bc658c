"""Messages from the configuration importers, the capture and log readers and `watch`, in
Japanese: every message their source can raise has a Japanese line in segcheck.messages, and
every message the test corpus makes them say comes out in Japanese under `--lang ja`.

The source sweep reads the modules' syntax tree: each literal message handed to an error or
an import issue (an f-string is a template whose values are filled with samples) must be
known to the catalogue, so a message added without its Japanese fails here, by name.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.errors import SegcheckError
from segcheck.loaders.configs.importer import import_config
from segcheck.messages import localize, localize_located, translate

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "segcheck"
SOURCES = sorted(
    [
        *(PACKAGE / "loaders" / "configs").glob("*.py"),
        *(PACKAGE / "capture").glob("*.py"),
        PACKAGE / "watch.py",
        PACKAGE / "loaders" / "ledger.py",
    ]
)
# call -> position of the message among its arguments
CALLS = {
    "issue": 1,
    "_once": 2,
    "ConfigError": 1,
    "CaptureError": 1,
    "InputError": 1,
    "TopologyError": 1,
    "UsageError": 0,
    "BadRecord": 0,
    "NeedsTimezone": 0,
    "_Refused": 0,
    "_bad": 2,
}
# names a message is built in before it is raised
ASSIGNED = {"message", "problem", "why"}
SAMPLES = ("7", "x7", "tcp", "no such file")
# Templates whose values come from a fixed set of phrases the samples cannot guess.
PHRASE_VALUES = {
    "\0: not understood: \0; \0": [
        ("r1", "meta mark == 1", "its drop is ignored (never hides a path)"),
        ("r1", "meta mark == 1", "its accepts are kept with this condition ignored (widened)"),
    ],
    "\0: enabled value \0 not understood: taken as \0": [
        ("No 1", "'x'", "enabled"),
        ("No 1", "'x'", "disabled"),
    ],
    "\0: \0": [("No 1", "'10.0.0.1/8' has host bits set: read as 10.0.0.0/8")],
}


def _template(node: ast.expr) -> list[str] | None:
    """The message as literal pieces with None where a value goes; None if not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            else:
                out.append("\0")
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def source_messages() -> list[tuple[str, str]]:
    """(module:line, template with \\0 for each value) of every literal message."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            message: ast.expr | None = None
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func).rsplit(".", 1)[-1]
                at = CALLS.get(name)
                if at is not None and len(node.args) > at:
                    message = node.args[at]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ASSIGNED for t in node.targets
            ):
                message = node.value
            if message is None:
                continue
            pieces = _template(message)
            if pieces is None or not "".join(p for p in pieces if p != "\0").strip():
                continue
            found.append((f"{path.relative_to(ROOT)}:{node.lineno}", "".join(pieces)))
    return found


def known(template: str) -> bool:
    """Whether the catalogue knows the message for some sample values."""
    holes = template.count("\0")
    combos = itertools.product(SAMPLES, repeat=holes) if holes <= 4 else [("x7",) * holes]
    special = PHRASE_VALUES.get(template)
    for values in special or combos:  # a fixed set: every phrase of it must be known
        ok = translate(fill(template, values), "ja") is not None
        if special and not ok:
            return False
        if ok and not special:
            return True
    return bool(special)


def fill(template: str, values: tuple[str, ...]) -> str:
    text = template
    for value in values:
        text = text.replace("\0", value, 1)
    return text


def test_every_message_the_sources_can_raise_has_japanese() -> None:
    messages = source_messages()
    assert len(messages) > 250  # the sweep reads what it should
    missing = [f"{where}: {text!r}" for where, text in messages if not known(text)]
    assert missing == []


def test_the_sweep_would_catch_a_message_without_japanese() -> None:
    assert not known("a wholly new message about \0")
    assert known("cannot run nfdump: \0")


# -- the importers on the test corpus -----------------------------------------------------------

CONFIGS = ROOT / "tests" / "data" / "configs"
CORPUS = sorted(
    (fmt, path)
    for fmt, pattern in (
        ("fortios", "fortios/**/*"),
        ("panos", "panos/*"),
        ("nftables", "nftables/*.json"),
    )
    for path in CONFIGS.glob(pattern)
    if path.is_file() and path.suffix not in (".md", ".py", ".yaml") and "LICENSE" not in path.name
)
POLICY_TABLE = (
    "No,送信元,宛先,サービス,動作,有効\n"
    "1,10.0.0.0/8,10.1.0.1/16,tcp/443,許可,有効\n"
    "1,10.0.0.0/8,10.1.0.0/16,99999,許可,はい?\n"
    ",serverX,10.1.0.0/16,443,拒否,有効\n"
    "3,10.0.0.0/8,10.1.0.0/16,nosuchsvc,かもしれない,有効\n"
)


def import_lines(path: Path, fmt: str) -> list[str]:
    lines = []
    for result in import_config(str(path), fmt):
        summary = result.summary
        for key in ("unrecognised", "undefined", "unused", "warnings"):
            lines.extend(getattr(summary, key))
    return lines


def test_every_import_issue_of_the_corpus_is_in_japanese(tmp_path: Path) -> None:
    table = tmp_path / "policy.csv"
    table.write_text(POLICY_TABLE, encoding="utf-8")
    untranslated, seen = [], 0
    for fmt, path in [*CORPUS, ("csv", table)]:
        for line in import_lines(path, fmt):
            seen += 1
            done = localize_located(line, "ja")
            place = line.split(": ", 1)[0]
            if done == line or not done.startswith(place + ": "):
                untranslated.append(line)
    assert seen > 300
    assert untranslated == []


def test_import_status_on_stderr_is_in_japanese() -> None:
    path = str(CONFIGS / "fortios" / "batfish" / "firewall_policy_warn")
    runs = {
        lang: CliRunner().invoke(main, ["import", "fortios", path, "--lang", lang])
        for lang in ("en", "ja")
    }
    listed = {
        lang: [line for line in run.stderr.splitlines() if line.startswith("    ")]
        for lang, run in runs.items()
    }
    assert len(listed["ja"]) == len(listed["en"]) > 20
    for english, japanese in zip(listed["en"], listed["ja"], strict=True):
        assert japanese != english
        assert japanese.split(": ", 1)[0] == english.split(": ", 1)[0]  # file:line kept
    assert any("のインターフェースでもゾーンでもありません" in line for line in listed["ja"])


BAD_CONFIGS = [
    ("fortios", b"\x00\x01\x02binary"),
    ("fortios", b"hello world\n"),
    ("panos", b""),
    ("panos", b"<foo/>"),
    ("panos", b"<config><devices>"),
    ("panos", b"hello\n"),
    ("panos", b"junk\n<config/>"),
    ("panos", b'<!DOCTYPE x [<!ENTITY e "x">]><config>&e;</config>'),
    ("nftables", b"table inet filter {\n}\n"),
    ("nftables", b"{"),
    ("nftables", b'{"a": 1}'),
    ("nftables", b'{"nftables": [\xff]}'),
    ("csv", b""),
    ("csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
    ("csv", b"a,b\n1,2\n"),
    ("csv", b"a\x00b\n"),
]


@pytest.mark.parametrize(("fmt", "raw"), BAD_CONFIGS)
def test_an_unreadable_configuration_is_explained_in_japanese(
    tmp_path: Path, fmt: str, raw: bytes
) -> None:
    path = tmp_path / "bad.conf"
    path.write_bytes(raw)
    result = CliRunner().invoke(main, ["import", fmt, str(path), "--lang", "ja"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"エラー: {path}"), result.stderr
    with pytest.raises(SegcheckError) as info:
        import_config(str(path), fmt)
    assert translate(info.value.detail, "ja") is not None, info.value.detail  # type: ignore[attr-defined]


# -- the log readers and watch ------------------------------------------------------------------

GOOD_FORTIGATE = (
    'logid="0000000013" date=2026-11-22 time=10:00:00 eventtime=1795000000 type="traffic" '
    'subtype="forward" srcip=10.0.0.1 dstip=10.1.0.1 proto=6 action="accept"\n'
)
BAD_LOGS = {
    "fortigate.log": (
        GOOD_FORTIGATE + GOOD_FORTIGATE.replace('"accept"', '"wink"'),
        "トラフィックログの動作ではない",
    ),
    "fortigate-old.log": (
        GOOD_FORTIGATE
        + 'date=2026-11-22 time=10:00:00 type="traffic" src=10.0.0.1 dst=10.1.0.1 status=accept\n',
        "FortiOS 4 以前の記録",
    ),
    "eve.json": (
        '{"event_type": "flow", "timestamp": "yesterday", "src_ip": "10.0.0.1", "dest_ip": '
        '"10.1.0.1", "proto": "TCP", "flow": {}}\n',
        "時刻ではない",
    ),
    "eve-noflow.json": (
        '{"event_type": "flow", "timestamp": "2026-11-22T10:00:00+0900", "src_ip": "10.0.0.1",'
        ' "dest_ip": "10.1.0.1", "proto": "TCP"}\n',
        "flow オブジェクトのない flow イベント",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_LOGS))
def test_a_skipped_log_record_is_explained_in_japanese(tmp_path: Path, name: str) -> None:
    text, words = BAD_LOGS[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["scan", str(ROOT / "topologies" / "alpha.yaml"), str(path), "--lang", "ja"],
    )
    shown = result.stdout + result.stderr
    assert words in shown, shown
    assert not re.search(r"\b(is not|no \w+ object|older record)\b", shown), shown


def test_a_log_that_needs_a_time_zone_says_so_in_japanese(tmp_path: Path) -> None:
    path = tmp_path / "fortigate.log"
    path.write_text(
        GOOD_FORTIGATE.replace("eventtime=1795000000 ", ""),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["scan", str(ROOT / "topologies" / "alpha.yaml"), str(path), "--lang", "ja"]
    )
    assert result.exit_code == 2
    assert "--tz で機器のタイムゾーンを指定してください" in result.stderr, result.stderr


def test_an_input_of_no_known_kind_lists_the_kinds_in_japanese(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"hello\n")
    result = CliRunner().invoke(
        main, ["scan", str(ROOT / "topologies" / "alpha.yaml"), str(path), "--lang", "ja"]
    )
    assert result.exit_code == 2
    assert "トラフィックログ" in result.stderr and "traffic log" not in result.stderr


def test_watch_errors_are_in_japanese(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "missing"
    result = CliRunner().invoke(
        main,
        [
            "watch",
            str(ROOT / "topologies" / "alpha.yaml"),
            str(not_a_folder),
            "-o",
            str(tmp_path / "out.jsonl"),
            "--once",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == f"エラー: {not_a_folder}: フォルダではありません\n"
    assert localize(f"{tmp_path}: cannot list: Permission denied", "ja").endswith(
        "一覧を読めません: Permission denied"
    )
