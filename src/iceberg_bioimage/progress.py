"""Progress of long work, reported to whoever listens (the CLI, when interactive).

Library code opens a task and advances it; without a listener this costs a
function call. The CLI installs a rich progress bar only when stderr is a
terminal, so scripts, pipes and CI never see one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Listener(Protocol):
    def start(self, name: str, total: int | None) -> object: ...

    def advance(self, handle: object, amount: int) -> None: ...

    def stop(self, handle: object) -> None: ...

    def notice(self, message: str) -> None: ...


_listener: Listener | None = None
_lock = threading.Lock()


@contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Send progress to ``listener`` while the block runs (None: nowhere)."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


def listening_now() -> bool:
    """Whether anyone listens (work may then report in finer steps)."""
    return _listener is not None


@contextmanager
def task(name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A unit of long work; the yielded function advances it (thread-safe)."""
    listener = _listener
    if listener is None:
        yield _ignore
        return
    handle = listener.start(name, total)

    def advance(amount: int = 1) -> None:
        with _lock:
            listener.advance(handle, amount)

    try:
        yield advance
    finally:
        listener.stop(handle)


def notice(message: str) -> None:
    """Tell the user what the work is waiting for (the CLI: one line on stderr)."""
    listener = _listener
    if listener is not None:
        listener.notice(message)


def _ignore(amount: int = 1) -> None:
    return None
