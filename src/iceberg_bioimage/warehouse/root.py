"""Where a warehouse root lives, seen through the store layer.

A root is a local folder or an object-store prefix; the writer, the reader
and the validator reach it only through :class:`~iceberg_bioimage.io.Store`,
so the same code serves ``/data/warehouse`` and ``s3://bucket/warehouse``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io import Store, is_remote, open_store
from iceberg_bioimage.io.paths import is_safe_key, safe_key
from iceberg_bioimage.warehouse.spec import PART_SUFFIX


def root_location(root: str | os.PathLike[str]) -> str:
    """How a root is reported: an absolute folder, or the URI without a trailing slash."""
    text = os.fspath(root)
    if not text.strip():
        raise InputError("the warehouse root is empty: name a folder or an object-store URI")
    return text.rstrip("/") if is_remote(text) else str(Path(text).expanduser().resolve())


def open_root(root: str | os.PathLike[str]) -> Store:
    """The store of a warehouse root (which need not exist yet)."""
    location = root_location(root)
    if not is_remote(location) and os.path.exists(location) and not os.path.isdir(location):
        raise InputError(f"{location}: the warehouse root is a file, not a folder")
    return open_store(location)


def read_footer(store: Store, relative: str) -> pq.FileMetaData:
    with store.open_file(relative) as handle:
        return pq.read_metadata(handle)


def read_columns(store: Store, relative: str, columns: list[str]) -> pa.Table:
    with store.open_file(relative) as handle:
        return pq.read_table(handle, columns=columns)


def is_part_of(path: str, table_path: str) -> bool:
    """Whether ``path`` (from a manifest or a plan) is a data file inside the
    table's folder: a safe relative key under ``<namespace>/<table>/`` ending in
    ``.parquet``. Only such files are ever read or deleted for a table."""
    return (
        is_safe_key(path)
        and safe_key(path).startswith(table_path + "/")
        and path.endswith(PART_SUFFIX)
    )


def part_files(store: Store) -> list[str]:
    """Every ``*.parquet`` under ``<namespace>/<table>/`` (relative paths), hidden
    folders (staging) excluded."""
    keys, _ = store.list_sizes("")
    return sorted(
        k for k in keys if k.endswith(PART_SUFFIX) and k.count("/") >= 2 and not k.startswith(".")
    )
