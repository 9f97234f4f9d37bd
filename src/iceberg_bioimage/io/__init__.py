"""Reading bytes and listing keys from a store URI.

Scanners only ever talk to a :class:`Store`. Reads are requested in batches
(``get_many``) so that a remote implementation can keep many requests in flight
while the local one stays a tight loop of system calls.
"""

from __future__ import annotations

from iceberg_bioimage.io.base import DirListing, Store, join_key
from iceberg_bioimage.io.resolve import open_store, store_name

__all__ = ["DirListing", "Store", "join_key", "open_store", "store_name"]
