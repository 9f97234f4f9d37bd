"""Write local files so readers see the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from iceberg_bioimage.errors import InputError


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(staging_path)`` then rename the staging file over ``path``."""
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise InputError(f"{target}: is a folder; give a file name to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{target.parent}: cannot create the folder ({error.strerror})") from None
    fd, staging = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    os.close(fd)
    try:
        write(staging)
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return target
