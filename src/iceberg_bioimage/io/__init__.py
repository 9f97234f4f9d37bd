"""Bytes, listings and writes at a store URI: one :class:`Store` protocol for
local folders, object stores (S3, GCS, Azure) and HTTP.

Scanners request reads in batches (``get_many``) so that a remote
implementation keeps many requests in flight while the local one stays a
tight loop of system calls; the warehouse writes through the same protocol
(``put_file``, ``put_if``, ``delete``). Which client settings a scheme gets
is decided in ``settings``; what a location string is, in ``uri``.
"""

from __future__ import annotations

from iceberg_bioimage.io.base import DirListing, Store, join_key
from iceberg_bioimage.io.resolve import open_store, require_local_folder
from iceberg_bioimage.io.uri import file_uri, has_scheme, is_remote, store_name

__all__ = [
    "DirListing",
    "Store",
    "file_uri",
    "has_scheme",
    "is_remote",
    "join_key",
    "open_store",
    "require_local_folder",
    "store_name",
]
