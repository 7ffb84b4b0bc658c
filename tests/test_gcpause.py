"""The cyclic collector is paused only where allowed: by the CLI, never behind a library caller.

A library running in someone else's process (a Dask worker, a service) must leave that
process's collector alone; the command line owns its process and allows the pauses.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import segcheck
from segcheck import engine
from segcheck.cli import main
from segcheck.flowjudge import FlowJudge
from segcheck.gcpause import allow_gc_pauses, paused, pauses_allowed
from segcheck.loaders.configs.fortios import parse_fortios

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = ROOT / "topologies" / "alpha.yaml"
CAPTURE = ROOT / "captures" / "alpha" / "alpha.pcap"
FORTIOS = ROOT / "topologies" / "configs" / "fw-lg-inet.conf"


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    assert gc.isenabled() and not pauses_allowed()
    yield
    assert gc.isenabled() and not pauses_allowed(), "a test left the collector changed"


def spy(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[bool]:
    """Record whether the collector was on each time `owner.name` ran."""
    seen: list[bool] = []
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return seen


def test_the_library_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    analysing = spy(monkeypatch, engine, "topology_findings")
    judging = spy(monkeypatch, FlowJudge, "judge_columns")
    segcheck.check(TOPOLOGY)
    segcheck.scan(TOPOLOGY, [CAPTURE])
    with paused():
        assert gc.isenabled()
    assert analysing == [True] and judging == [True]


def test_a_caller_may_allow_the_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    analysing = spy(monkeypatch, engine, "topology_findings")
    judging = spy(monkeypatch, FlowJudge, "judge_columns")
    with segcheck.allow_gc_pauses():
        segcheck.check(TOPOLOGY)
        segcheck.scan(TOPOLOGY, [CAPTURE])
        assert gc.isenabled()  # between the bulk phases the collector runs
    assert analysing == [False] and judging == [False]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["check", str(TOPOLOGY)], 0),  # the example plan is clean
        (["scan", str(TOPOLOGY), str(CAPTURE), "--format", "json"], 1),  # its capture is not
    ],
)
def test_the_command_line_pauses_the_collector(
    monkeypatch: pytest.MonkeyPatch, args: list[str], code: int
) -> None:
    analysing = spy(monkeypatch, engine, "topology_findings")
    judging = spy(monkeypatch, FlowJudge, "judge_columns")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    if args[0] == "check":
        assert analysing == [False] and judging == []
    else:
        assert analysing == [] and judging == [False]


def test_a_config_importer_pauses_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from segcheck.loaders.configs import fortios

    parsing = spy(monkeypatch, fortios, "_parse")
    data = FORTIOS.read_bytes()
    parse_fortios(FORTIOS, data, display_name="fw.conf")
    with allow_gc_pauses():
        parse_fortios(FORTIOS, data, display_name="fw.conf")
    assert parsing == [True, False]


def test_a_caller_who_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with allow_gc_pauses():
            with paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_pauses_and_an_error_restore_the_collector_once() -> None:
    with allow_gc_pauses(), pytest.raises(ValueError):
        with paused():
            with paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer pause still holds
            raise ValueError
    assert gc.isenabled()


def test_overlapping_pauses_in_two_threads() -> None:
    """The collector is process-wide: it comes back when the last pause ends, not the first."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with paused():
            second_in.set()
            first_out.wait(5)
            states["after the first ended"] = gc.isenabled()

    with allow_gc_pauses():
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert states == {"after the first ended": False}


def test_only_gcpause_switches_the_collector() -> None:
    """One helper: no other module of segcheck calls gc.disable or gc.enable."""
    call = re.compile(r"\bgc\.(?:disable|enable)\s*\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
        for path in sorted((ROOT / "segcheck").rglob("*.py"))
        if path.name != "gcpause.py"
        for text in [path.read_text(encoding="utf-8")]
        for m in call.finditer(text)
    ]
    assert offenders == []
