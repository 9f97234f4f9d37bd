"""The store protocol every backend implements: reads for the scanners, the
few writes the warehouse needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from iceberg_bioimage.io.paths import is_plain_key, safe_key


@dataclass(frozen=True, slots=True)
class DirListing:
    """The direct children of a prefix: sub-prefixes and objects with sizes."""

    dirs: tuple[str, ...]
    files: dict[str, int]


class Store(Protocol):
    """A key space rooted at ``uri`` (a folder, a bucket prefix, an HTTP folder).

    Keys are ``/``-separated and relative to the root; ``""`` is the root.
    Reads never raise for a missing key (they return None or an empty
    listing); writes are whole-object and atomic. A store whose reads wait
    on a network may also offer ``read_ahead(keys)``: start reading keys that
    a later :meth:`get_many` will ask for (the scanner looks for it).
    """

    uri: str

    # -- reads ------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Bytes of every key, in order; None where the key does not exist."""
        ...

    def get_versioned(self, key: str) -> tuple[bytes | None, Any]:
        """The bytes of ``key`` (None when absent) and a version token for
        :meth:`put_if`."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes | None:
        """``length`` bytes of ``key`` from ``start`` (negative: from the end)."""
        ...

    def size(self, key: str) -> int | None:
        """The size of ``key`` in bytes; None when it does not exist."""
        ...

    def open_file(self, key: str) -> BinaryIO:
        """A seekable binary reader of ``key`` (for pyarrow and tifffile)."""
        ...

    def list_dir(self, prefix: str) -> DirListing:
        """Children of ``prefix``; empty when the prefix does not exist."""
        ...

    def list_sizes(self, prefix: str) -> tuple[list[str], list[int]]:
        """Every object under ``prefix`` (recursively): keys relative to the
        root, and their sizes in bytes as stored."""
        ...

    def exists(self) -> bool:
        """Whether the root itself exists."""
        ...

    def is_dir(self) -> bool:
        """Whether the root is a prefix (directory) rather than one object."""
        ...

    def arrow_location(self, key: str) -> tuple[Any, str]:
        """A pyarrow filesystem (None: the local one) and the path it knows ``key`` by."""
        ...

    # -- writes -----------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        """Write ``key`` whole; readers see the old bytes or the new ones."""
        ...

    def put_file(self, key: str, local: Path) -> None:
        """Store a local file as ``key``; the local file is consumed (moved or uploaded)."""
        ...

    def put_if(self, key: str, data: bytes, version: Any) -> None:
        """Write ``key`` only if it is unchanged since :meth:`get_versioned`
        returned ``version`` (None: only if it does not exist); otherwise
        raise :class:`~iceberg_bioimage.errors.ConcurrentWriteError`."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...


def join_key(*parts: str) -> str:
    """Join key parts with ``/``, ignoring empty parts; every part must be a
    safe relative key (:func:`~.paths.safe_key`), or :class:`UnsafePathError`."""
    joined = "/".join(filter(None, parts))
    if is_plain_key(joined):
        return joined
    return "/".join(key for key in map(safe_key, parts) if key)
