"""Python's cyclic garbage collector, paused while a scan builds objects.

A scan creates hundreds of thousands of small acyclic objects (parsed JSON,
nodes, assets); the collector would walk them again and again and find
nothing to free. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Pause the collector for the block (restored only if it was running)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
