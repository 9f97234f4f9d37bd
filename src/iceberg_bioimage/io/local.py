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

    def list_sizes(self, prefix: str) -> tuple[list[str], list[int]]:
        keys: list[str] = []
        sizes: list[int] = []
        pending = [(self._full(prefix), f"{prefix}/" if prefix else "")]
        while pending:
            folder, key_prefix = pending.pop()
            try:
                entries = os.scandir(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{key_prefix}{entry.name}/"))
                    else:
                        keys.append(key_prefix + entry.name)
                        sizes.append(entry.stat().st_size)
        return keys, sizes

    def read_range(self, key: str, start: int, length: int) -> bytes | None:
        try:
            with open(self._full(key), "rb") as handle:
                handle.seek(start, os.SEEK_END if start < 0 else os.SEEK_SET)
                return handle.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError:  # seeking before the start of a file shorter than the range
            return None

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
