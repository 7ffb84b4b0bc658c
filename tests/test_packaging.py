"""pyproject.toml: one version source, and dependencies that say what they are for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import segcheck

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_version_is_written_once_in_segcheck_init() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "segcheck.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", segcheck.__version__)


def test_scapy_is_for_tests_and_examples_only() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "scapy" not in names(PYPROJECT["project"]["dependencies"])
    assert "scapy" in names(extras["test"]) and "scapy" in names(extras["examples"])
