"""Removing datasets' rows from a bucketed table, file by file.

pyiceberg's ``delete`` evaluates an ``In`` filter of every dataset id against
every file and row (seconds for a few thousand ids). The files of our tables
are grouped by dataset bucket, so most files of a re-registered bucket hold
only datasets being replaced: reading their ``dataset_id`` column decides it,
and such a file is dropped whole. A file mixing kept and replaced datasets is
rewritten with the kept rows. All of it is one ``overwrite`` snapshot of the
caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iceberg_bioimage.catalog.layout import BUCKET_FIELD, PARTITION_COLUMN, bucket_of


def remove_datasets(transaction: Any, table: Any, dataset_ids: Iterable[str]) -> int:
    """Stage the removal of every row of ``dataset_ids``; returns rows removed."""
    ids = set(dataset_ids)
    if not ids or table.current_snapshot() is None:
        return 0
    buckets = {bucket_of(i) for i in ids}
    spec = table.spec()
    bucket_position = next((i for i, f in enumerate(spec.fields) if f.name == BUCKET_FIELD), None)
    dropped, rewritten, removed = [], [], 0
    for task in table.scan().plan_files():
        data = task.file
        if (
            data.spec_id == spec.spec_id
            and bucket_position is not None
            and data.partition[bucket_position] not in buckets
        ):
            continue  # another bucket: none of these datasets
        present = _dataset_column(table.io, data.file_path)
        hits = pc.is_in(present, pa.array(sorted(ids), present.type))
        count = pc.sum(hits).as_py() or 0
        if not count:
            continue
        removed += count
        if count == len(present):
            dropped.append(data)
        else:
            rewritten.append((data, pc.invert(hits)))
    if not dropped and not rewritten:
        return 0
    replacements = [_kept_rows_file(table, transaction, d, keep) for d, keep in rewritten]
    with transaction.update_snapshot().overwrite() as change:
        for data in dropped + [d for d, _ in rewritten]:
            change.delete_data_file(data)
        for data in replacements:
            change.append_data_file(data)
    return removed


def _dataset_column(io: Any, path: str) -> pa.Array:
    with io.new_input(path).open() as stream:
        return pq.read_table(stream, columns=[PARTITION_COLUMN]).column(0).combine_chunks()


def _kept_rows_file(table: Any, transaction: Any, data: Any, keep: pa.Array) -> Any:
    """A new file with the rows of ``data`` that stay (the bucket's partition kept)."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    from iceberg_bioimage.catalog.tables import WrittenFile, data_file

    with table.io.new_input(data.file_path).open() as stream:
        rows = pq.read_table(stream).filter(keep)
    target = schema_to_pyarrow(table.schema(), include_field_ids=True)
    rows = _in_schema(rows, target)
    folder = data.file_path.rsplit("/", 1)[0]
    path = f"{folder}/{uuid.uuid4()}.parquet"
    with table.io.new_output(path).create(overwrite=True) as sink:
        pq.write_table(rows, sink, compression="zstd")
    bucket = bucket_of(rows.column(PARTITION_COLUMN)[0].as_py()) if rows.num_rows else None
    return data_file(table.io, transaction.table_metadata, WrittenFile(path, bucket))


def _in_schema(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` in the table's current schema (columns added since: null)."""
    columns = [
        rows.column(f.name).cast(f.type)
        if f.name in rows.column_names
        else pa.nulls(len(rows), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
