"""Turn a user's path or URI into a :class:`Store`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from iceberg_bioimage.errors import StoreNotFoundError, UnsupportedStoreError
from iceberg_bioimage.io.base import Store
from iceberg_bioimage.io.local import LocalStore

_REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "http", "https")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def open_store(uri: str | os.PathLike[str]) -> Store:
    """A store for a local path, a ``file://`` URI, or an object-store URI
    (``s3://``, ``gs://``, ``az://`` / ``abfs://``, ``http(s)://``)."""
    text = os.fspath(uri)
    match = _SCHEME.match(text)
    if match is None:
        return LocalStore(Path(text).expanduser())
    scheme = match.group(1).lower()
    if scheme == "file":
        return LocalStore(unquote(urlparse(text).path))
    if scheme in _REMOTE_SCHEMES:
        from iceberg_bioimage.io.remote import ObjectStoreStore

        return ObjectStoreStore(text)
    raise UnsupportedStoreError(f"{text}: unknown URI scheme '{scheme}://'")


def store_name(uri: str) -> str:
    """The last path component of a store URI (``a/b/plate.ome.zarr/`` -> name)."""
    path = urlparse(uri).path if _SCHEME.match(uri) else uri
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def is_remote(uri: str | os.PathLike[str]) -> bool:
    match = _SCHEME.match(os.fspath(uri))
    return bool(match) and match.group(1).lower() in _REMOTE_SCHEMES


def require_local_folder(path: str | os.PathLike[str]) -> str:
    """``path`` as text if it is an existing local folder; else a clear error."""
    text = os.fspath(path)
    if os.path.isdir(text):
        return text
    if is_remote(text):
        raise UnsupportedStoreError(
            f"{text}: folders are walked on local disks only; pass remote stores one by one"
        )
    if os.path.exists(text):
        raise StoreNotFoundError(f"{text}: is a file, not a folder")
    raise StoreNotFoundError(f"{text}: no such directory")
