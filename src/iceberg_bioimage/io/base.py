"""The store protocol every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DirListing:
    """The direct children of a prefix: sub-prefixes and objects with sizes."""

    dirs: tuple[str, ...]
    files: dict[str, int]


class Store(Protocol):
    """A read-only view of a key space rooted at ``uri``.

    Keys are ``/``-separated and relative to the root; ``""`` is the root.
    """

    uri: str

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Bytes of every key, in order; None where the key does not exist."""
        ...

    def list_dir(self, prefix: str) -> DirListing:
        """Children of ``prefix``; empty when the prefix does not exist."""
        ...

    def list_sizes(self, prefix: str) -> tuple[list[str], list[int]]:
        """Every object under ``prefix`` (recursively): keys relative to the
        root, and their sizes in bytes as stored."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes | None:
        """``length`` bytes of ``key`` from ``start`` (negative: from the end)."""
        ...

    def exists(self) -> bool:
        """Whether the root itself exists."""
        ...

    def is_dir(self) -> bool:
        """Whether the root is a prefix (directory) rather than one object."""
        ...


def join_key(*parts: str) -> str:
    """Join key parts with ``/``, ignoring empty parts."""
    return "/".join(part.strip("/") for part in parts if part and part.strip("/"))
