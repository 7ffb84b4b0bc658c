"""What users notice at the terminal: a summary line for -o, colours on a terminal only,
examples in --help, shell completion, `render` to SVG or PNG."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck import cli
from segcheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
FORTIGATE = str(ROOT / "topologies" / "alpha-fortigate.yaml")  # one critical finding
ALPHA = str(ROOT / "topologies" / "alpha.yaml")  # clean
ANSI = "\x1b["
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


def run(*args: str, env: dict[str, str] | None = None, color: bool = False) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, color=color)
    return result.exit_code, result.stdout, result.stderr


def test_output_to_a_file_says_one_line_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "result.txt"
    code, stdout, stderr = run("check", FORTIGATE, "-o", str(out), "--lang", "ja")
    assert code == 1 and stdout == ""
    assert stderr == f"{out} に書き出しました (指摘 1 件: 重大 1)\n"
    code, _, stderr = run("check", ALPHA, "-o", str(out), "--lang", "en")
    assert code == 0 and stderr == f"wrote {out} (no findings)\n"
    code, stdout, stderr = run("check", ALPHA, "--lang", "en")  # to stdout: nothing more
    assert stderr == "" and stdout


def test_colours_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    _, coloured, _ = run("check", FORTIGATE, "--lang", "ja", color=True)
    assert ANSI in coloured and "\x1b[31m\x1b[1m[重大]" in coloured
    # NO_COLOR, a file, another format, or no terminal: plain
    _, plain, _ = run("check", FORTIGATE, "--lang", "ja", env={"NO_COLOR": "1"}, color=True)
    assert ANSI not in plain and "[重大]" in plain
    _, json_out, _ = run("check", FORTIGATE, "--format", "json", color=True)
    assert ANSI not in json_out
    out = tmp_path / "r.txt"
    run("check", FORTIGATE, "-o", str(out), color=True)
    assert ANSI not in out.read_text(encoding="utf-8")
    monkeypatch.setattr(cli, "_is_terminal", lambda: False)
    _, piped, _ = run("check", FORTIGATE, color=True)
    assert ANSI not in piped


def test_colourise_marks_severities_and_verdicts() -> None:
    text = "LG-INET-SPLIT  x  (1 finding)\n  a:1: [critical] y\n指摘なし: 三層分離は保たれている\n"
    done = cli.colourise(text)
    assert done.count("\x1b[0m") == 3 and cli.colourise("plain line") == "plain line"


@pytest.mark.parametrize("command", [[], ["check"], ["scan"], ["report"], ["init"], ["render"]])
def test_help_has_examples(command: list[str]) -> None:
    code, out, _ = run(*command, "--help")
    assert code == 0 and "Examples:" in out and "segcheck " in out.split("Examples:")[1]


@pytest.mark.parametrize(
    ("shell", "mark"), [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")]
)
def test_shell_completion_scripts(shell: str, mark: str) -> None:
    result = CliRunner().invoke(
        main, [], prog_name="segcheck", env={"_SEGCHECK_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0 and mark in result.stdout and "segcheck" in result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_SEGCHECK_COMPLETE={shell}_source segcheck" in readme


@needs_dot
def test_render_writes_png_or_svg_by_name(tmp_path: Path) -> None:
    png, svg = tmp_path / "town.png", tmp_path / "town.svg"
    assert run("render", ALPHA, "-o", str(png))[0] == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert run("render", ALPHA, "-o", str(svg))[0] == 0
    assert svg.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))


def test_render_refuses_other_formats(tmp_path: Path) -> None:
    out = tmp_path / "town.jpg"
    code, _, err = run("render", ALPHA, "-o", str(out), "--lang", "ja")
    assert code == 2 and not out.exists()
    assert (
        err
        == f"エラー: {out}: render が書けるのは .svg か .png です。出力ファイル名の拡張子を .svg か .png にしてください\n"
    )
