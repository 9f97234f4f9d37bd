"""Local filesystem store: plain system calls, no per-read object overhead."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from iceberg_bioimage.errors import ConcurrentWriteError
from iceberg_bioimage.io.atomic import write_atomically
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

    def size(self, key: str) -> int | None:
        try:
            return os.stat(self._full(key)).st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open_file(self, key: str) -> BinaryIO:
        return open(self._full(key), "rb")

    def get_versioned(self, key: str) -> tuple[bytes | None, Any]:
        path = self._full(key)
        data = _read_file(path)
        return data, (_version(path) if data is not None else None)

    def arrow_location(self, key: str) -> tuple[Any, str]:
        return None, self._full(key)

    # -- writes ----------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        write_atomically(self._full(key), lambda staging: Path(staging).write_bytes(data))

    def put_file(self, key: str, local: Path) -> None:
        target = Path(self._full(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            write_atomically(target, lambda staging: shutil.copyfile(local, staging))
            local.unlink(missing_ok=True)

    def put_if(self, key: str, data: bytes, version: Any) -> None:
        """Compare and replace under an exclusive lock on the key's folder, so
        two writers of this store cannot both pass the comparison."""
        path = self._full(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        with _exclusive(folder):
            current = _version(path) if os.path.exists(path) else None
            if current != version:
                raise ConcurrentWriteError(f"{path}: changed by another writer")
            self.put(key, data)

    def delete(self, key: str) -> None:
        path = Path(self._full(key))
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty

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


def _version(path: str) -> tuple[int, int, int]:
    """What changes whenever a file is replaced: inode, size and modification time."""
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns


@contextlib.contextmanager
def _exclusive(folder: str) -> Iterator[None]:
    """An exclusive advisory lock on a folder (no lock file left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
