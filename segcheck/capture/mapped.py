"""Arrays in their own anonymous memory maps, for long-lived or growing data.

A large numpy array normally comes from malloc, and below glibc's (self-raising) mmap threshold
of up to 32 MB it comes from the heap: arrays that outlive a batch (a flow table's columns, a
tap ledger) then pin the freed temporaries around them, and a 5M-flow capture kept ~350 MB of
such holes resident. An array in its own map goes back to the system when it is freed, and
pages never written (a table's spare capacity) never become resident.
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

MAPPED_MIN_BYTES = 1 << 20  # below this, malloc's heap is the better place


def mapped_empty(n: int, dtype: Any) -> np.ndarray:
    """``np.empty(n, dtype)``, in its own anonymous map when it is large."""
    dt = np.dtype(dtype)
    nbytes = n * dt.itemsize
    if nbytes < MAPPED_MIN_BYTES:
        return np.empty(n, dtype=dt)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dt, count=n)
