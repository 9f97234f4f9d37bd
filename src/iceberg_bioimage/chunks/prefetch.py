"""Run a batch producer one step ahead of its consumer, on another thread.

Arrow kernels, numpy and the Parquet writer release the GIL, so building the
next batch overlaps with writing the previous one; the bounded queue keeps at
most ``depth`` batches in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order while a worker thread produces the next ones."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                buffer.put(item)
            buffer.put(_DONE)
        except BaseException as error:  # re-raised in the consumer
            buffer.put(error)

    worker = threading.Thread(target=produce, name="chunk-index-producer", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.01)
