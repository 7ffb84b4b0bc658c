"""Fixtures shared by the test suite (kept minimal: paths into the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The repository root (where `topologies/` and `tests/` live)."""
    return ROOT


@pytest.fixture
def topologies_dir() -> Path:
    """The bundled example topologies."""
    return ROOT / "topologies"
