"""Publishing scan results and profile tables to an Iceberg catalog.

``images.image_assets`` rows are appended through pyiceberg's writer;
``images.chunk_index`` rows are streamed by the chunk-index Parquet sink
straight into the table's data folder (one file per dataset bucket) and added
to the table in the same commit that removes the datasets' previous rows.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.catalog.layout import data_file_path, group_by_bucket
from iceberg_bioimage.catalog.tables import (
    DEFAULT_IMAGE_NAMESPACE,
    WrittenFile,
    commit_rows,
    dotted,
    identifier,
    load_existing,
)
from iceberg_bioimage.chunks import stream_chunk_index_parquet
from iceberg_bioimage.chunks.rows import ENCODED_SCHEMA
from iceberg_bioimage.errors import DatasetConflictError, InputError
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.schema import (
    CHUNK_INDEX,
    CHUNK_INDEX_SCHEMA,
    IMAGE_ASSETS,
    IMAGE_ASSETS_SCHEMA,
)
from iceberg_bioimage.tables import scan_result_as_arrow_table

if TYPE_CHECKING:  # pyiceberg itself is imported on first catalog use
    from pyiceberg.catalog import Catalog


@dataclass
class PublishReport:
    """What a publish did: rows written per table and the datasets replaced."""

    datasets: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    commits: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, rows: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.commits[table] = self.commits.get(table, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"datasets": self.datasets, "rows": self.rows, "commits": self.commits}


def publish_image_assets(
    catalog: Catalog,
    results: Sequence[ScanResult],
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    replace: bool = False,
    report: PublishReport | None = None,
) -> PublishReport:
    """Replace the ``image_assets`` rows of every dataset in ``results`` (one commit)."""
    report = report or PublishReport()
    ids = _dataset_ids(results)
    ident = identifier(namespace, IMAGE_ASSETS)
    check_dataset_uris(catalog, namespace, results, replace=replace)
    data = scan_result_as_arrow_table(results)
    commit_rows(catalog, ident, IMAGE_ASSETS_SCHEMA, ids, rows=data)
    report.datasets = sorted(set(report.datasets) | set(ids))
    report.add(dotted(ident), data.num_rows)
    return report


def image_assets_snapshot(catalog: Catalog, namespace: str) -> int | None:
    """The current snapshot of ``<namespace>.image_assets`` (None: no table or rows)."""
    table = load_existing(catalog, identifier(namespace, IMAGE_ASSETS))
    snapshot = table.current_snapshot() if table is not None else None
    return snapshot.snapshot_id if snapshot is not None else None


def restore_image_assets(
    catalog: Catalog, namespace: str, dataset_ids: Sequence[str], snapshot_id: int | None
) -> None:
    """Give ``dataset_ids`` back the ``image_assets`` rows they had at
    ``snapshot_id`` (none if None), in one commit; other datasets, and other
    writers' commits since, are untouched."""
    from pyiceberg.expressions import In

    ids = list(dataset_ids)
    ident = identifier(namespace, IMAGE_ASSETS)
    rows = None
    if snapshot_id is not None:
        table = catalog.load_table(ident)
        rows = table.scan(row_filter=In("dataset_id", ids), snapshot_id=snapshot_id).to_arrow()
    commit_rows(catalog, ident, IMAGE_ASSETS_SCHEMA, ids, rows=rows)


def publish_chunk_index(
    catalog: Catalog,
    results: Sequence[ScanResult],
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    stat: bool = True,
    byte_ranges: bool = False,
    report: PublishReport | None = None,
) -> PublishReport:
    """Replace the ``chunk_index`` rows of every dataset in ``results`` (one commit),
    streaming rows into one Parquet data file per dataset."""
    report = report or PublishReport()
    ids = _dataset_ids(results)
    ident = identifier(namespace, CHUNK_INDEX)
    written = _ChunkFiles(results, stat=stat, byte_ranges=byte_ranges)
    try:
        commit_rows(catalog, ident, CHUNK_INDEX_SCHEMA, ids, write_files=written)
    except BaseException:
        written.remove()  # never committed: nothing refers to them
        raise
    report.datasets = sorted(set(report.datasets) | set(ids))
    report.add(dotted(ident), written.rows)
    return report


class _ChunkFiles:
    """Writes one chunk-index data file per dataset bucket under a table
    location, through the table's own FileIO (local, S3, GCS, ... as the
    catalog is set up): a commit adds at most ``BUCKETS`` files."""

    def __init__(self, results: Sequence[ScanResult], *, stat: bool, byte_ranges: bool) -> None:
        self.results = results
        self.options = {"stat": stat, "byte_ranges": byte_ranges}
        self.rows = 0
        self.io: Any = None
        self.locations: list[str] = []

    def __call__(self, table_location: str, io: Any, iceberg_schema: Any) -> list[WrittenFile]:
        self.io = io
        schema = with_field_ids(ENCODED_SCHEMA, iceberg_schema)

        def write(sink: Any, results: list[ScanResult]) -> int:
            return stream_chunk_index_parquet(sink, results, schema=schema, **self.options)

        written, self.locations, self.rows = write_bucket_files(
            io, table_location, self.results, write
        )
        return written

    def remove(self) -> None:
        for location in self.locations:
            with contextlib.suppress(OSError, FileNotFoundError):
                self.io.delete(location)


def write_bucket_files(
    io: Any,
    table_location: str,
    results: Sequence[ScanResult],
    write: Callable[[Any, list[ScanResult]], int],
) -> tuple[list[WrittenFile], list[str], int]:
    """One data file per dataset bucket under ``table_location``, each filled by
    ``write(sink, results of that bucket)`` (which returns its row count).
    Returns the files that hold rows, every path written (empty files are
    deleted at once), and the rows."""
    dataset_id = attrgetter("dataset_id")
    written, locations, rows = [], [], 0
    groups = group_by_bucket(sorted(results, key=dataset_id), dataset_id)
    for bucket, members in sorted(groups.items()):
        location = data_file_path(table_location, bucket)
        with io.new_output(location).create(overwrite=True) as sink:
            count = write(sink, members)
        locations.append(location)
        if count:
            written.append(WrittenFile(location, bucket))
            rows += count
        else:
            io.delete(location)
    return written, locations, rows


def with_field_ids(schema: pa.Schema, iceberg_schema: Any) -> pa.Schema:
    """``schema`` with the Iceberg field id of every field (list elements
    included) in its Parquet metadata, so readers that resolve columns by id
    (Daft, Spark, Trino) find them. Types are kept as they are."""
    fields = []
    for arrow_field in schema:
        nested = iceberg_schema.find_field(arrow_field.name)
        if pa.types.is_list(arrow_field.type):
            element = arrow_field.type.value_field.with_metadata(
                _field_id(nested.field_type.element_id)
            )
            arrow_field = arrow_field.with_type(pa.list_(element))
        fields.append(arrow_field.with_metadata(_field_id(nested.field_id)))
    return pa.schema(fields, metadata=schema.metadata)


def _field_id(number: int) -> dict[bytes, bytes]:
    return {b"PARQUET:field_id": str(number).encode()}


def deregister_datasets(
    catalog: Catalog, dataset_ids: Sequence[str], *, namespace: str = DEFAULT_IMAGE_NAMESPACE
) -> PublishReport:
    """Remove every row of ``dataset_ids`` from the image tables (one commit each);
    the report's ``rows`` are the rows removed."""
    report = PublishReport(datasets=sorted(dataset_ids))
    for name, schema in ((IMAGE_ASSETS, IMAGE_ASSETS_SCHEMA), (CHUNK_INDEX, CHUNK_INDEX_SCHEMA)):
        ident = identifier(namespace, name)
        table = load_existing(catalog, ident)
        if table is None:
            continue
        removed = _count(table, dataset_ids)
        if removed:
            commit_rows(catalog, ident, schema, list(dataset_ids))
        report.add(dotted(ident), removed)
    return report


def dataset_ids_for_uri(
    catalog: Catalog, uri: str, *, namespace: str = DEFAULT_IMAGE_NAMESPACE
) -> list[str]:
    """Dataset ids registered from ``uri`` (the filter is pushed into the scan)."""
    from pyiceberg.expressions import EqualTo

    table = load_existing(catalog, identifier(namespace, IMAGE_ASSETS))
    if table is None:
        return []
    rows = table.scan(row_filter=EqualTo("dataset_uri", uri), selected_fields=("dataset_id",))
    return sorted(pc.unique(rows.to_arrow().column("dataset_id")).to_pylist())


def check_dataset_uris(
    catalog: Catalog, namespace: str, results: Sequence[ScanResult], *, replace: bool
) -> None:
    """A dataset id already registered from another URI is an error naming both."""
    _dataset_ids(results)
    check_dataset_pairs(
        catalog, namespace, [(r.dataset_id, r.uri) for r in results], replace=replace
    )


def check_dataset_pairs(
    catalog: Catalog, namespace: str, pairs: Sequence[tuple[str, str]], *, replace: bool
) -> None:
    """:func:`check_dataset_uris` for (dataset id, URI) pairs."""
    if replace:
        return
    table = load_existing(catalog, identifier(namespace, IMAGE_ASSETS))
    if table is None:
        return

    # Two columns of every row, filtered in Arrow: an Iceberg ``In`` filter of
    # thousands of ids costs seconds (it is evaluated per file and per value).
    ids = pa.array(sorted({dataset_id for dataset_id, _ in pairs}), pa.string())
    existing = table.scan(selected_fields=("dataset_id", "dataset_uri")).to_arrow()
    existing = existing.filter(pc.is_in(existing.column("dataset_id"), value_set=ids))
    found = existing.group_by(["dataset_id", "dataset_uri"]).aggregate([])  # one row per image
    registered = {row["dataset_id"]: row["dataset_uri"] for row in found.to_pylist()}
    for dataset_id, uri in pairs:
        old = registered.get(dataset_id)
        if old is not None and old != uri:
            raise DatasetConflictError(
                f"dataset '{dataset_id}' is already registered from {old}; "
                f"{uri} would replace it (use --replace, or --dataset-id to pick another id)"
            )


def _dataset_ids(results: Sequence[ScanResult]) -> list[str]:
    ids = [r.dataset_id for r in results]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise InputError(
            f"several stores have the dataset id {', '.join(duplicates)}; give each its own"
        )
    return ids


def _count(table: Any, dataset_ids: Sequence[str]) -> int:
    from pyiceberg.expressions import In

    scan = table.scan(
        row_filter=In("dataset_id", list(dataset_ids)), selected_fields=("dataset_id",)
    )
    return scan.to_arrow().num_rows


def publish_profile_table(
    catalog: Catalog, data: pa.Table, *, table_name: str, namespace: str = "profiles"
) -> PublishReport:
    """Write a profile table to ``<namespace>.<table_name>``, replacing its rows.

    Types Iceberg cannot store are rejected before anything is created; a new
    table is created together with its rows in one commit, so a failure leaves
    no empty table behind.
    """
    data = iceberg_compatible(data)
    ident = identifier(namespace, table_name)
    commit_rows(catalog, ident, data.schema, [], rows=data, partitioned=False, replace_all=True)
    report = PublishReport()
    report.add(dotted(ident), data.num_rows)
    return report


def publish_dataset_rows(
    catalog: Catalog, data: pa.Table, *, namespace: str, table_name: str
) -> PublishReport:
    """Replace the rows of the datasets in ``data`` (its ``dataset_id`` values)
    in ``<namespace>.<table_name>``, partitioned by dataset, in one commit."""
    data = iceberg_compatible(data)
    ident = identifier(namespace, table_name)
    ids = sorted({i for i in data.column("dataset_id").to_pylist() if i is not None})
    commit_rows(catalog, ident, data.schema, ids, rows=data)
    report = PublishReport()
    report.datasets = ids
    report.add(dotted(ident), data.num_rows)
    return report


def iceberg_compatible(data: pa.Table) -> pa.Table:
    """``data`` with columns Iceberg can store: all-null columns become strings,
    dictionaries their values; any other unsupported type is an input error
    naming the column."""
    from pyiceberg.catalog import Catalog as _Catalog

    columns, fields = [], []
    for column, arrow_field in zip(data.columns, data.schema, strict=True):
        if pa.types.is_null(arrow_field.type):
            arrow_field = arrow_field.with_type(pa.string())
        elif pa.types.is_dictionary(arrow_field.type):
            arrow_field = arrow_field.with_type(arrow_field.type.value_type)
        try:
            _Catalog._convert_schema_if_needed(pa.schema([arrow_field]))
        except Exception:
            raise InputError(
                f"column '{arrow_field.name}' has type {data.schema.field(arrow_field.name).type}, "
                "which an Iceberg table cannot store"
            ) from None
        columns.append(column.cast(arrow_field.type) if column.type != arrow_field.type else column)
        fields.append(arrow_field)
    return pa.table(columns, schema=pa.schema(fields, metadata=data.schema.metadata))
