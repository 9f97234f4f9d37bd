"""What a location string is: local path, ``file://`` URI or remote URI.

Every layer asks here rather than testing ``"://" in text`` by hand.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "http", "https")
AZURE_SCHEMES = ("az", "abfs", "abfss")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def scheme_of(location: str | os.PathLike[str]) -> str | None:
    """The URI scheme in lower case (``s3``, ``file``, ...), or None for a plain path."""
    match = _SCHEME.match(os.fspath(location))
    return match.group(1).lower() if match else None


def has_scheme(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is a URI (``file://`` included) rather than a plain path."""
    return scheme_of(location) is not None


def is_remote(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names an object store or an HTTP server."""
    return scheme_of(location) in REMOTE_SCHEMES


def is_local(location: str | os.PathLike[str]) -> bool:
    """A plain path or a ``file://`` URI."""
    return scheme_of(location) in (None, "file")


def local_path(location: str | os.PathLike[str]) -> str:
    """The filesystem path of a plain path or a ``file://`` URI."""
    text = os.fspath(location)
    return unquote(urlparse(text).path) if scheme_of(text) == "file" else text


def file_uri(location: str | os.PathLike[str]) -> str:
    """A ``file://`` URI for a local path (absolute, percent-encoded); URIs pass through."""
    text = os.fspath(location)
    if has_scheme(text):
        return text
    return "file://" + quote(os.path.abspath(text))


def resolved_file_uri(location: str | os.PathLike[str]) -> str:
    """Like :func:`file_uri`, with symlinks resolved (for identity comparisons)."""
    text = os.fspath(location)
    return text if has_scheme(text) else Path(text).expanduser().resolve().as_uri()


def store_name(uri: str) -> str:
    """The last path component of a store URI (``a/b/plate.ome.zarr/`` -> name)."""
    path = urlparse(uri).path if has_scheme(uri) else uri
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def bucket_path(uri: str) -> str:
    """``bucket/key...`` for an object-store URI, as pyarrow filesystems name objects
    (``abfs://container@account.../path`` -> ``container/path``)."""
    parsed = urlparse(uri)
    return f"{parsed.netloc.split('@', 1)[0]}{parsed.path}"
