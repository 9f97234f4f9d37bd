"""The one path-safety rule: a path taken from metadata, a manifest or a
collection names a place inside its root, or it is refused.

Keys are ``/``-separated and relative. A key is safe when it has no ``..``
segment, is not absolute (``/x``, ``C:\\x``, ``s3://x``), and holds no
backslash or control character; empty and ``.`` segments are dropped.
Symbolic links are the store's business (:class:`~.local.LocalStore` does
not follow one out of its root).
"""

from __future__ import annotations

import os
import re

from iceberg_bioimage.errors import UnsafePathError

_DRIVE = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


# Anything that needs a closer look: a leading or doubled slash, a trailing
# slash, "." or ".." segments, a drive, a scheme, a backslash or a control
# character. Plain keys (nearly all of them) pass with this one search.
_SUSPECT = re.compile(r"^/|//|/$|(?:^|/)\.\.?(?:/|$)|^[A-Za-z]:|://|[\x00-\x1f\x7f\\]")


def safe_key(path: str) -> str:
    """``path`` as a normalised key inside its root; :class:`UnsafePathError` if
    it would leave the root or is not a plain relative path."""
    if not path or _SUSPECT.search(path) is None:
        return path
    if path.startswith("/") or _DRIVE.match(path) or _SCHEME.match(path):
        raise UnsafePathError(f"{printable(path)}: an absolute path, not one inside the root")
    if _CONTROL.search(path):
        raise UnsafePathError(f"{printable(path)}: a path with a backslash or control character")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError(f"{printable(path)}: a path that climbs out of its root ('..')")
    return "/".join(parts)


def is_plain_key(path: str) -> bool:
    """A key that is already normalised and safe (the common case, one search)."""
    return _SUSPECT.search(path) is None


def is_safe_key(path: str) -> bool:
    try:
        safe_key(path)
    except UnsafePathError:
        return False
    return True


def within(folder: str, path: str) -> bool:
    """Whether the (already resolved) ``path`` is ``folder`` or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def printable(text: str, limit: int = 200) -> str:
    """Untrusted text for a message: control characters escaped, length bounded."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return shown.encode("unicode_escape").decode("ascii") if _CONTROL.search(shown) else shown
