"""Local filesystem store: plain system calls, no per-read object overhead."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from iceberg_bioimage.errors import ConcurrentWriteError, UnsafePathError
from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.io.base import DirListing
from iceberg_bioimage.io.paths import printable, safe_key, within


class LocalStore:
    """A directory (or a single file) on the local filesystem.

    Keys follow the one path rule (:func:`~.paths.safe_key`), and no symbolic
    link is followed out of the root: a read that would leave it is refused
    (recorded in ``refused``; ``get_many`` gives None for it), any other
    access raises :class:`UnsafePathError`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.uri = self.path.as_uri()
        self._root = os.fspath(self.path)
        self._prefix = self._root.rstrip(os.sep) + os.sep
        self._real_root = os.path.realpath(self._root)
        self._inside: set[str] = set()  # folders known not to lead out of the root
        self.refused: list[str] = []

    def _full(self, key: str) -> str:
        """The path of a key (its text checked); reads check links on the
        opened file, writes check the key's folders (:meth:`_for_write`)."""
        return self._prefix + safe_key(key) if key else self._root

    def _for_write(self, key: str) -> str:
        full = self._full(key)
        folder = full[len(self._prefix) :].rpartition("/")[0] if key else ""
        if folder and folder not in self._inside:
            self._check_folders(key, folder)
        return full

    def _check_folders(self, key: str, folder: str) -> None:
        """lstat each folder of ``key`` once; a symbolic link must stay inside."""
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix in self._inside:
                continue
            try:
                info = os.lstat(self._prefix + prefix)
            except OSError:
                return  # absent: nothing to follow
            if stat.S_ISLNK(info.st_mode):
                self._require_inside(key, self._prefix + prefix)
            self._inside.add(prefix)

    def _require_inside(self, key: str, path: str) -> str:
        real = os.path.realpath(path)
        if not within(self._real_root, real):
            raise UnsafePathError(f"{printable(key)}: a symbolic link out of the store")
        return real

    def _open(self, key: str) -> int | None:
        """A descriptor for reading ``key``'s file (None: absent or a directory),
        refused when the file really lies outside the root (a link anywhere on
        its path): one look at where the opened descriptor points. Opened
        without blocking, and refused unless a file or directory: reading a
        named pipe or a device would wait, or read, forever."""
        path = self._full(key)
        flags = os.O_RDONLY | os.O_NONBLOCK
        try:
            fd = os.open(path, flags | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            try:  # the file itself is a link
                fd = os.open(self._require_inside(key, path), flags)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        if not within(self._real_root, _opened_path(fd, path)):
            os.close(fd)
            raise UnsafePathError(f"{printable(key)}: a symbolic link out of the store")
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            os.close(fd)
            raise UnsafePathError(f"{printable(key)}: not a regular file (a pipe or a device)")
        return fd

    def _stat(self, key: str) -> os.stat_result | None:
        fd = self._open(key)
        if fd is None:
            return None
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        found: list[bytes | None] = []
        for key in keys:
            try:
                found.append(_read_all(self._open(key)))
            except UnsafePathError as error:
                self.refused.append(str(error))
                found.append(None)
        return found

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
                    if entry.is_symlink() and not within(
                        self._real_root, os.path.realpath(entry.path)
                    ):
                        self.refused.append(f"{key_prefix}{entry.name}: a link out of the store")
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, f"{key_prefix}{entry.name}/"))
                    else:
                        keys.append(key_prefix + entry.name)
                        sizes.append(entry.stat().st_size)
        return keys, sizes

    def read_range(self, key: str, start: int, length: int) -> bytes | None:
        fd = self._open(key)
        if fd is None:
            return None
        try:
            with open(fd, "rb") as handle:
                handle.seek(start, os.SEEK_END if start < 0 else os.SEEK_SET)
                return handle.read(length)
        except (IsADirectoryError, OSError):  # a folder; a seek before a short file's start
            return None

    def size(self, key: str) -> int | None:
        info = self._stat(key)
        return None if info is None else info.st_size

    def open_file(self, key: str) -> BinaryIO:
        fd = self._open(key)
        if fd is None:
            raise FileNotFoundError(self._full(key))
        return open(fd, "rb")

    def get_versioned(self, key: str) -> tuple[bytes | None, Any]:
        """The bytes and the version of the very file read (one open, no race
        with a replace between reading and asking for the version)."""
        fd = self._open(key)
        if fd is None:
            return None, None
        version = _version(os.fstat(fd))
        data = _read_all(fd)
        return data, (version if data is not None else None)

    def arrow_location(self, key: str) -> tuple[Any, str]:
        return None, self._full(key)

    # -- writes ----------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        write_atomically(self._for_write(key), lambda staging: Path(staging).write_bytes(data))

    def put_file(self, key: str, local: Path) -> None:
        target = Path(self._for_write(key))
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
        path = self._for_write(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        with exclusive(folder):
            current = _version(os.stat(path)) if os.path.exists(path) else None
            if current != version:
                raise ConcurrentWriteError(f"{path}: changed by another writer")
            self.put(key, data)

    def delete(self, key: str) -> None:
        path = Path(self._for_write(key))
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty

    def exists(self) -> bool:
        return self.path.exists()

    def is_dir(self) -> bool:
        return self.path.is_dir()


_HAS_PROC = os.path.isdir("/proc/self/fd")
_proc_fd_folder: int | None = None  # /proc/self/fd, held open by this process
_proc_lock = threading.Lock()


def _opened_path(fd: int, path: str) -> str:
    """Where an open descriptor's file really is (Linux: asked of /proc, one
    lookup in the process's descriptor folder, held open)."""
    if _HAS_PROC:
        try:
            folder = _proc_fd_folder if _proc_fd_folder is not None else _open_proc_fd_folder()
            return os.readlink(str(fd), dir_fd=folder)
        except OSError:
            pass
    return os.path.realpath(path)


def _open_proc_fd_folder() -> int:
    global _proc_fd_folder
    with _proc_lock:
        if _proc_fd_folder is None:
            _proc_fd_folder = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return _proc_fd_folder


def _forget_proc_fd_folder() -> None:
    """A forked child must not read its parent's descriptor folder."""
    global _proc_fd_folder
    if _proc_fd_folder is not None:
        with contextlib.suppress(OSError):
            os.close(_proc_fd_folder)
        _proc_fd_folder = None


os.register_at_fork(after_in_child=_forget_proc_fd_folder)


_FIRST_READ = 64 << 10


def _read_all(fd: int | None) -> bytes | None:
    """The whole file behind ``fd`` (closed after). A read of a regular file
    returns less than asked only at its end, so a metadata document (nearly
    always under 64 KiB) takes one read; a larger file is read again whole,
    into one buffer of its size (parts joined would hold it twice)."""
    if fd is None:
        return None
    try:
        first = os.read(fd, _FIRST_READ)
        if len(first) < _FIRST_READ:
            return first
        parts = [os.pread(fd, os.fstat(fd).st_size + 1, 0)]
        offset = len(parts[0])
        while chunk := os.pread(fd, 1 << 20, offset):  # it grew, or a read stopped short
            parts.append(chunk)
            offset += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    except IsADirectoryError:
        return None
    finally:
        os.close(fd)


def _version(info: os.stat_result) -> tuple[int, int, int]:
    """What changes whenever a file is replaced: inode, size and modification time."""
    return info.st_ino, info.st_size, info.st_mtime_ns


@contextlib.contextmanager
def exclusive(folder: str | os.PathLike[str]) -> Iterator[None]:
    """An exclusive advisory lock on a folder (no lock file left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
