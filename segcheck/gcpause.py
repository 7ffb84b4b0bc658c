"""Pausing Python's cyclic garbage collector during segcheck's bulk phases, when allowed.

Loading a plan, importing a firewall configuration, analysing paths, judging flows and
rendering all allocate hundreds of thousands of small objects and make almost no reference
cycles; each full collection meanwhile walks every live object again, which costs a third to
half of those phases on large inputs. Pausing the collector around them is safe for the
command line, which owns its process. A library may be running inside someone else's process
(a Dask worker, a web service), whose collector is not segcheck's to switch off: so the pauses
are opt-in. `segcheck.cli` allows them for the whole command; a library caller may do the same
with ``with allow_gc_pauses(): ...``.

The collector is process-wide, so the bookkeeping is too: nested and concurrent pauses are
counted, the collector is switched back on when the last one ends, and only if it was on
before the first began (a caller who turned it off keeps it off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_allowed = 0  # how many `allow_gc_pauses` blocks are open
_paused = 0  # how many `paused` blocks are open while allowed
_restore = False  # whether the first of them found the collector on


@contextmanager
def allow_gc_pauses() -> Iterator[None]:
    """Let segcheck pause the cyclic collector in its bulk phases while this block runs."""
    global _allowed
    with _lock:
        _allowed += 1
    try:
        yield
    finally:
        with _lock:
            _allowed -= 1


def pauses_allowed() -> bool:
    """Whether a `paused` block would switch the collector off now."""
    return _allowed > 0


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for this block if pauses are allowed; else change nothing."""
    global _paused, _restore
    with _lock:
        if not _allowed:
            active = False
        else:
            active = True
            if _paused == 0:
                _restore = gc.isenabled()
                gc.disable()
            _paused += 1
    try:
        yield
    finally:
        if active:
            with _lock:
                _paused -= 1
                if _paused == 0 and _restore:
                    gc.enable()
