"""No English inside Japanese output: every `--lang ja` output of the bundled examples, in every
human-readable format, is scanned for English words segcheck itself would print.

Names from the input (zones, nodes, services, permit ids, the topology's name) are ASCII and
stay as written; the list below holds only words of segcheck's own vocabulary, matched as
whole words (`lg-link` is a node, not the word "link"). JSON and SARIF are machine formats
whose values are enum keys by contract (spec §6) and are not scanned.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = sorted(p.stem for p in (ROOT / "topologies").glob("*.yaml"))
CAPTURED = ("alpha", "alpha-prime", "beta", "beta-prime", "four-tier")

# segcheck's own English: severities, states, verdicts, headings, units, statuses, profiles.
LEFTOVERS = """
critical high warning info established attempted violation suspect permitted sanitized
excepted finding findings alpha beta prime profile passed failed partly-recognised topology
config check scan pkts packets bytes flows flow frame zone zones node nodes channel channels
permit permits path fix remove narrow cause causes summary generated tool command inputs
input kind rules rule severity count unknown escalated unchanged fixed expired valid allow
forbidden skipped stopped read incomplete unusable proven clean source sources remediation
witness reason approver ticket expires status example from to the of and or is are not no
with without by via at in on for
""".split()
_WORD = re.compile(
    r"(?<![\w./:#@'-])("
    + "|".join(sorted(map(re.escape, LEFTOVERS), key=len, reverse=True))
    + r")(?![\w/:#@'-])",
    re.IGNORECASE,
)
# Whole phrases that must not appear either.
PHRASES = ("(no zone)", "service is 'any'", "モデル alpha", "モデル beta", "findings)")


def visible_text(text: str, fmt: str) -> str:
    """What a reader sees: markup, styles and the diagram's element ids taken away."""
    if fmt in ("html", "junit"):
        text = re.sub(r"<(style|script|title)\b.*?</\1>", " ", text, flags=re.S)
        text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        text = html.unescape(text)
    return text


def leftovers(text: str, names: set[str]) -> list[str]:
    found = []
    for line in text.splitlines():
        for match in _WORD.finditer(line):
            word = match.group(1)
            if (
                word.isupper() or word in names
            ):  # IN, MN: tier codes; or a name the input gave  # the input named something so: it stays as written
                continue
            found.append(f"{word!r} in: {line.strip()[:160]}")
    found += [f"{p!r}" for p in PHRASES if p in text]
    return found


def input_names(*paths: Path) -> set[str]:
    """Every ASCII word the inputs themselves hold (names, ids, labels)."""
    names: set[str] = set()
    for path in paths:
        if path.suffix in (".yaml", ".conf"):
            names.update(re.findall(r"[A-Za-z][\w-]*", path.read_text(encoding="utf-8")))
    return names - {"critical", "high", "warning", "info"}


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, [*args, "--lang", "ja"])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


CASES = [
    *((topo, fmt, False) for topo in TOPOLOGIES for fmt in ("text", "md", "html", "junit", "csv")),
    *((topo, fmt, True) for topo in CAPTURED for fmt in ("text", "html", "csv")),
]


@pytest.mark.parametrize(("topo", "fmt", "scan"), CASES)
def test_japanese_output_holds_no_english_words(topo: str, fmt: str, scan: bool) -> None:
    topology = ROOT / "topologies" / f"{topo}.yaml"
    args = [str(topology)]
    if scan:
        args = ["scan", *args, str(ROOT / "captures" / topo / f"{topo}.pcap")]
    else:
        args = ["check", *args]
    out = run([*args, "--format", fmt, "--today", "2026-11-22"])
    names = input_names(topology, *(ROOT / "topologies" / "configs").glob("*.conf"))
    assert leftovers(visible_text(out, fmt), names) == []


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scanner itself: it would catch each kind of leftover."""
    assert leftovers("[critical] 通信 a -> b 確立", set())
    assert leftovers("x (no zone)", set())
    assert leftovers("LG-INET-SPLIT 通信経路の分割 (1 findings)", set())
    assert not leftovers("lg-link (LGWAN接続系) -> inet: 確立, 7 パケット", {"inet"})


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_japanese_diff_holds_no_english_words(fmt: str) -> None:
    old, new = (ROOT / "topologies" / f"{name}.yaml" for name in ("alpha", "alpha-fortigate"))
    result = CliRunner().invoke(
        main,
        ["diff", str(old), str(new), "--format", fmt, "--today", "2026-11-22", "--lang", "ja"],
    )
    assert result.exit_code == 1, result.output
    names = input_names(old, new, *(ROOT / "topologies" / "configs").glob("*.conf"))
    assert leftovers(visible_text(result.stdout, fmt), names) == []
