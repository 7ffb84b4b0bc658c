"""Writing the packets of chosen flows to a new capture."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .model import Flow


def extract_packets(paths: Sequence[str | Path], flows: Iterable[Flow], out: str | Path) -> int:
    raise NotImplementedError
