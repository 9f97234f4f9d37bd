"""Write local files so readers see the old file or the new one, never half of one.

The new content is written to a staging file beside the target and renamed
over it. Only a regular file (or nothing) is ever replaced: a device, a pipe
or a socket named as the output is refused. The result gets the mode a plain
``open`` would give (the user's umask), or keeps the mode of the file it
replaces. Staging files carry their writer's process id, so the next write to
the same target removes those a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from iceberg_bioimage.errors import InputError

_SUFFIX = ".staging"


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(staging_path)`` then rename the staging file over ``path``."""
    target = Path(path).expanduser().resolve()
    mode = _mode_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{target.parent}: cannot create the folder ({error.strerror})") from None
    _remove_abandoned(target)
    fd, staging = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=_SUFFIX, dir=target.parent
    )
    os.close(fd)
    try:
        write(staging)
        os.chmod(staging, mode)
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return target


def _mode_for(target: Path) -> int:
    """The mode the written file gets; refuses targets that are not regular files."""
    try:
        info = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # new (the folder is checked next)
        return 0o666 & ~_umask()
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{target}: is a folder; give a file name to write")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{target}: is not a regular file (a device or a pipe); not replaced")
    return stat.S_IMODE(info.st_mode)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _remove_abandoned(target: Path) -> None:
    """Staging files for ``target`` whose writer process is gone."""
    for staging in target.parent.glob(f".{target.name}.*{_SUFFIX}"):
        pid = staging.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                staging.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
