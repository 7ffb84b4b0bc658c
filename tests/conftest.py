"""Shared by the test suite: paths into the repository, one Graphviz layout per diagram, and
the garbage collector's pace (both only make the suite cheaper; see each)."""

from __future__ import annotations

import gc
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Collect young garbage every 20,000 allocations instead of 700: a test process holds
    every test module and its data, and the default thresholds spent about 6 s of the fast
    run's CPU in the collector (2 s like this). Only when cycles are freed changes, never
    whether; segcheck's own pauses (`gcpause`) enable and disable, and leave these alone."""
    gc.set_threshold(20_000, 20, 20)


@pytest.fixture
def repo_root() -> Path:
    """The repository root (where `topologies/` and `tests/` live)."""
    return ROOT


@pytest.fixture
def topologies_dir() -> Path:
    """The bundled example topologies."""
    return ROOT / "topologies"


@pytest.fixture
def make_examples(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """captures/make_examples.py loaded as a module (it builds packets with scapy: skipped
    without it), registered in sys.modules for this test only: its dataclass looks itself up."""
    pytest.importorskip("scapy")
    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "captures" / "make_examples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_examples", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def _one_layout_per_diagram() -> Iterator[Callable[[str, str], bytes]]:
    """Graphviz lays out each distinct DOT text once per test process: a layout costs about
    35 ms of CPU, and the suite's HTML reports ask for ~250 of them, mostly repeats.

    Only `dot`'s answer is remembered: every test still builds the DOT text, and cleans and
    embeds the SVG. The key holds the executable, so a test that hides Graphviz (`find_dot`)
    still gets its error, and a failure is never remembered. A test of Graphviz itself (its
    determinism) asks for `real_dot` and lays out every time.
    """
    from segcheck.report import diagram

    real = diagram._run_dot
    layouts: dict[tuple[str, str, str], bytes] = {}

    def remembered(dot_text: str, fmt: str) -> bytes:
        executable = diagram.find_dot()
        if executable is None:
            return real(dot_text, fmt)
        key = (executable, fmt, dot_text)
        if key not in layouts:
            layouts[key] = real(dot_text, fmt)
        return layouts[key]

    diagram._run_dot = remembered
    yield real
    diagram._run_dot = real


@pytest.fixture
def real_dot(
    _one_layout_per_diagram: Callable[[str, str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graphviz runs for every layout in this test (see `_one_layout_per_diagram`)."""
    from segcheck.report import diagram

    monkeypatch.setattr(diagram, "_run_dot", _one_layout_per_diagram)
