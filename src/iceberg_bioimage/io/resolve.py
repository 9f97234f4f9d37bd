"""Turn a user's path or URI into a :class:`Store`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from iceberg_bioimage.errors import StoreNotFoundError, UnsupportedStoreError
from iceberg_bioimage.io.base import Store
from iceberg_bioimage.io.local import LocalStore
from iceberg_bioimage.io.uri import is_remote, local_path, scheme_of


def open_store(uri: str | os.PathLike[str]) -> Store:
    """A store for a local path, a ``file://`` URI, or an object-store URI
    (``s3://``, ``gs://``, ``az://`` / ``abfs://``, ``http(s)://``)."""
    text = os.fspath(uri)
    scheme = scheme_of(text)
    if scheme is None:
        return LocalStore(Path(text).expanduser())
    if scheme == "file":
        return LocalStore(local_path(text))
    if is_remote(text):
        from iceberg_bioimage.io.remote import ObjectStoreStore

        return ObjectStoreStore(text)
    raise UnsupportedStoreError(f"{text}: unknown URI scheme '{scheme}://'")


def sharing_clients(uris: Iterable[str]) -> AbstractContextManager[None]:
    """For an operation over many stores: object stores under one bucket share
    one client (and its connections) until the operation ends."""
    if not any(is_remote(os.fspath(uri)) for uri in uris):
        return nullcontext()
    from iceberg_bioimage.io.remote import clients_shared

    return clients_shared()


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
