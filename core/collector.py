"""Pausing Python's cyclic garbage collector around work that builds millions of objects it keeps.

A yearly report of 10,000 assets holds about two million small objects (rows read, figures, the
JSON every renderer reads) until it is done, and makes almost no reference cycles. The collector,
counting allocations, runs again and again while they are built, and each of its full passes walks
every one of them: a third of the report's time at full size (``bench/README.md``). Paused, the
objects are built once and the collector passes over them once, when it is resumed.

``collection_paused`` nests and may be used by several threads at once: the collector stays
paused until the last of them leaves, and is resumed only if it was running when the first came.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the collector was running when the first holder came


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration (reference counting still frees what
    is no longer used)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
