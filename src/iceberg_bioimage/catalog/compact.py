"""Compaction: a table's data files rewritten as one sorted file per dataset
bucket, and old snapshots expired on request, in one commit.

Rows are read bucket by bucket through pyiceberg (schema evolution and
partition evolution included: files of the identity layout are folded into
the bucketed one), so memory holds one bucket at a time. The rewrite is one
``overwrite`` snapshot that removes the old files and adds the new ones;
snapshots are expired only when asked (``expire_older_than``,
``retain_last``), so time travel to the snapshots kept works as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from iceberg_bioimage.catalog.config import CatalogError
from iceberg_bioimage.catalog.layout import (
    BUCKET_FIELD,
    PARTITION_COLUMN,
    data_file_path,
    group_by_bucket,
    sorted_rows,
)
from iceberg_bioimage.catalog.read import load_catalog_table
from iceberg_bioimage.catalog.tables import WrittenFile, data_file

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


@dataclass
class CompactReport:
    table: str
    rows: int
    files_before: int
    files_after: int
    snapshots_expired: int
    snapshot_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def compact_table(
    catalog: Catalog,
    table_name: str,
    *,
    expire_older_than: datetime | None = None,
    retain_last: int | None = None,
) -> CompactReport:
    """Rewrite ``table_name``'s files (one per bucket, rows sorted) and expire
    the snapshots older than ``expire_older_than`` or beyond the last
    ``retain_last`` (the new one counted), all in one commit."""
    if retain_last is not None and retain_last < 1:
        raise CatalogError("retain_last must keep at least the current snapshot")
    table = load_catalog_table(catalog, table_name)
    live = [task.file for task in table.scan().plan_files()]
    before = sum(f.record_count for f in live)
    transaction = table.transaction()
    written: list[Any] = []
    if live and _needs_rewrite(table, live):
        written = _rewrite(table, transaction, live)
        rows = sum(f.record_count for f in written)
        if rows != before:  # never commit a rewrite that lost or doubled rows
            raise CatalogError(f"{table_name}: compaction read {rows} rows of {before}; aborted")
    expired = _expire(transaction, expire_older_than, retain_last)
    if written or expired:
        transaction.commit_transaction()
    table = load_catalog_table(catalog, table_name)
    snapshot = table.current_snapshot()
    return CompactReport(
        table=table_name,
        rows=before,
        files_before=len(live),
        files_after=len(written) if written else len(live),
        snapshots_expired=len(expired),
        snapshot_id=snapshot.snapshot_id if snapshot else None,
    )


def _needs_rewrite(table: Table, files: list[Any]) -> bool:
    """More than one file in a bucket, or files of an older layout."""
    spec_id = table.spec().spec_id
    if any(f.spec_id != spec_id for f in files):
        return True
    partitions = [tuple(f.partition) for f in files]
    return len(partitions) != len(set(partitions))


def _rewrite(table: Table, transaction: Any, live: list[Any]) -> list[Any]:
    from pyiceberg.expressions import AlwaysTrue, In
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    arrow_schema = schema_to_pyarrow(table.schema(), include_field_ids=True)
    bucketed = BUCKET_FIELD in {f.name for f in table.spec().fields}
    if bucketed:
        ids = table.scan(selected_fields=(PARTITION_COLUMN,)).to_arrow().column(PARTITION_COLUMN)
        groups: dict[int | None, Any] = {
            b: In(PARTITION_COLUMN, members)
            for b, members in group_by_bucket(sorted(set(ids.to_pylist()))).items()
        }
    else:
        groups = {None: AlwaysTrue()}
    new_files = []
    for bucket, row_filter in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0])):
        rows = sorted_rows(table.scan(row_filter=row_filter).to_arrow()).cast(arrow_schema)
        if not rows.num_rows:
            continue
        path = data_file_path(table.location(), bucket, "-compacted")
        with table.io.new_output(path).create(overwrite=True) as sink:
            pq.write_table(rows, sink, compression="zstd")
        new_files.append(data_file(table.io, transaction.table_metadata, WrittenFile(path, bucket)))
    with transaction.update_snapshot().overwrite() as rewrite:
        for old in live:
            rewrite.delete_data_file(old)
        for new in new_files:
            rewrite.append_data_file(new)
    return new_files


def _expire(transaction: Any, older_than: datetime | None, retain_last: int | None) -> list[int]:
    from pyiceberg.table.update.snapshot import ExpireSnapshots

    if older_than is None and retain_last is None:
        return []
    metadata = transaction.table_metadata
    snapshots = sorted(metadata.snapshots, key=lambda s: s.timestamp_ms)
    doomed = set()
    if older_than is not None:
        cutoff = older_than.timestamp() * 1000
        doomed |= {s.snapshot_id for s in snapshots if s.timestamp_ms < cutoff}
    if retain_last is not None:
        doomed |= {s.snapshot_id for s in snapshots[:-retain_last]}
    expire = ExpireSnapshots(transaction)
    protected = expire._get_protected_snapshot_ids()
    doomed -= protected
    if doomed:
        expire.by_ids(sorted(doomed)).commit()
    return sorted(doomed)
