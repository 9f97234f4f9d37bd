"""tifffile's log lines, caught per scan instead of printed.

tifffile reports damage it works around (bad offsets, truncated pages) through
the ``tifffile`` logger. A scan turns those lines into its own warnings, so the
CLI prints them once, in its format, and a failed read can say why. Capture is
per thread: folders of TIFFs are scanned in parallel.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_sinks = threading.local()
_OBJECT_REPR = re.compile(r"^<[^>]*>\s*")
_install_lock = threading.Lock()
_installed = False


class _ToCurrentScan(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        sink: list[str] | None = getattr(_sinks, "messages", None)
        if sink is None:
            return True  # not inside a scan: leave tifffile's logging alone
        message = _OBJECT_REPR.sub("", record.getMessage()).strip()
        if message and message not in sink:
            sink.append(message)
        return False


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            logging.getLogger("tifffile").addFilter(_ToCurrentScan())
            _installed = True


@contextmanager
def tifffile_messages() -> Iterator[list[str]]:
    """Collect what tifffile logs on this thread while the block runs."""
    _install()
    previous = getattr(_sinks, "messages", None)
    _sinks.messages = messages = []
    try:
        yield messages
    finally:
        _sinks.messages = previous
