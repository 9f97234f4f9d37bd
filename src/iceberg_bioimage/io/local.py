"""Local filesystem store: plain system calls, no per-read object overhead."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from iceberg_bioimage.io.base import DirListing


class LocalStore:
    """A directory (or a single file) on the local filesystem."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.uri = self.path.as_uri()
        self._root = os.fspath(self.path)
        self._prefix = self._root.rstrip(os.sep) + os.sep

    def _full(self, key: str) -> str:
        return self._prefix + key if key else self._root

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [_read_file(self._full(key)) for key in keys]

    def list_dir(self, prefix: str) -> DirListing:
        dirs: list[str] = []
        files: dict[str, int] = {}
        try:
            with os.scandir(self._full(prefix)) as entries:
                for entry in entries:
                    if entry.is_dir():
                        dirs.append(entry.name)
                    else:
                        files[entry.name] = entry.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            pass
        return DirListing(tuple(sorted(dirs)), files)

    def exists(self) -> bool:
        return self.path.exists()

    def is_dir(self) -> bool:
        return self.path.is_dir()


def _read_file(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks) if len(chunks) != 1 else chunks[0]
    except IsADirectoryError:
        return None
    finally:
        os.close(fd)
