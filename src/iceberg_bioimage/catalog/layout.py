"""The layout of the image tables: rows hashed into a fixed number of buckets
by ``dataset_id`` (Iceberg's ``bucket[N]`` transform) and sorted by
``dataset_id, image_id`` within each file.

Whatever the number of stores, one commit adds at most ``BUCKETS`` files per
table (the identity partitioning of earlier releases added one file per
store), a read of one dataset touches one bucket's files, and the sorted rows
let Parquet statistics skip row groups inside them. Tables written with the
identity layout are evolved in place (Iceberg partition evolution: old files
keep their spec, new ones are bucketed) on their next write.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

if TYPE_CHECKING:
    from pyiceberg.table import Table, Transaction

T = TypeVar("T")

PARTITION_COLUMN = "dataset_id"
SORT_COLUMNS = ("dataset_id", "image_id")
BUCKET_FIELD = "dataset_id_bucket"
# Files per table per commit are at most BUCKETS (<= 64 asked for 100,000 stores);
# 16 keeps each bucket's file large enough at small catalogues too.
BUCKETS = int(os.environ.get("ICEBERG_BIOIMAGE_BUCKETS", "16"))


def lay_out(update: Table | Transaction, schema: pa.Schema) -> None:
    """Give a new (or identity-partitioned) table the bucketed layout."""
    from pyiceberg.transforms import BucketTransform, IdentityTransform

    if PARTITION_COLUMN not in schema.names:
        return
    spec = _spec_of(update)
    fields = {f.name: f for f in spec.fields}
    if BUCKET_FIELD not in fields:
        with update.update_spec() as change:
            for field in spec.fields:
                if isinstance(field.transform, IdentityTransform):
                    change.remove_field(field.name)
            change.add_field(PARTITION_COLUMN, BucketTransform(BUCKETS), BUCKET_FIELD)
    if _sort_order_of(update).is_unsorted:
        with update.update_sort_order() as order:
            for column in SORT_COLUMNS:
                if column in schema.names:
                    order.asc(column, _identity())


def needs_layout(table: Table) -> bool:
    """Whether a table still has the identity layout of earlier releases."""
    return BUCKET_FIELD not in {f.name for f in table.spec().fields} and any(
        f.name == PARTITION_COLUMN for f in table.schema().fields
    )


def sorted_rows(rows: pa.Table) -> pa.Table:
    keys = [(c, "ascending") for c in SORT_COLUMNS if c in rows.column_names]
    return rows.sort_by(keys) if keys and rows.num_rows > 1 else rows


def bucket_of(dataset_id: str, buckets: int = BUCKETS) -> int:
    """The bucket a dataset's rows live in (Iceberg's bucket hash)."""
    return _bucket_function(buckets)(dataset_id)


@functools.cache
def _bucket_function(buckets: int) -> Any:
    from pyiceberg.transforms import BucketTransform
    from pyiceberg.types import StringType

    return BucketTransform(buckets).transform(StringType())


def group_by_bucket(
    items: Iterable[T], dataset_id: Callable[[T], str] = str, buckets: int = BUCKETS
) -> dict[int, list[T]]:
    """``items`` grouped by the bucket of their dataset id, in their order."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(bucket_of(dataset_id(item), buckets), []).append(item)
    return groups


def data_file_path(location: str, bucket: int | None, suffix: str = "") -> str:
    """A new data file's path under a table ``location``, in its bucket's folder."""
    folder = f"{location.rstrip('/')}/data"
    if bucket is not None:
        folder += f"/{BUCKET_FIELD}={bucket}"
    return f"{folder}/{uuid.uuid4()}{suffix}.parquet"


def _identity() -> Any:
    from pyiceberg.transforms import IdentityTransform

    return IdentityTransform()


def _spec_of(update: Any) -> Any:
    metadata = getattr(update, "table_metadata", None)
    return metadata.spec() if metadata is not None else update.spec()


def _sort_order_of(update: Any) -> Any:
    metadata = getattr(update, "table_metadata", None)
    return metadata.sort_order() if metadata is not None else update.sort_order()
