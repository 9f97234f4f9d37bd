"""Publishing scan results and profile tables to an Iceberg catalog.

``images.image_assets`` rows are appended through pyiceberg's writer;
``images.chunk_index`` rows are streamed by the chunk-index Parquet sink
straight into the table's data folder (one file per dataset) and added to the
table in the same commit that removes the dataset's previous rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import TableAlreadyExistsError
from pyiceberg.expressions import In
from pyiceberg.table import Transaction

from iceberg_bioimage.catalog.config import CatalogError
from iceberg_bioimage.catalog.tables import (
    DEFAULT_IMAGE_NAMESPACE,
    dotted,
    ensure_namespace,
    identifier,
    load_existing,
    open_or_create,
    replace_datasets,
    table_properties,
    with_retry,
)
from iceberg_bioimage.chunks import stream_chunk_index_parquet
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.schema import (
    CHUNK_INDEX,
    CHUNK_INDEX_SCHEMA,
    IMAGE_ASSETS,
    IMAGE_ASSETS_SCHEMA,
)
from iceberg_bioimage.tables import scan_result_as_arrow_table


class DatasetConflictError(CatalogError):
    """A dataset id is already registered from somewhere else."""


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
    data = scan_result_as_arrow_table(results)
    open_or_create(catalog, ident, IMAGE_ASSETS_SCHEMA)
    check_dataset_uris(catalog, namespace, results, replace=replace)

    def write(transaction: Transaction) -> None:
        if data.num_rows:
            transaction.append(data)

    replace_datasets(catalog, ident, IMAGE_ASSETS_SCHEMA, ids, write)
    report.datasets = sorted(set(report.datasets) | set(ids))
    report.add(dotted(ident), data.num_rows)
    return report


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
    table = open_or_create(catalog, ident, CHUNK_INDEX_SCHEMA)
    filesystem, data_dir = _data_folder(table.location())
    files: list[str] = []
    rows = 0
    for result in results:
        path = f"{data_dir}/dataset_id={quote(result.dataset_id, safe='')}/{uuid.uuid4()}.parquet"
        filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
        written = stream_chunk_index_parquet(
            path, [result], filesystem=filesystem, stat=stat, byte_ranges=byte_ranges
        )
        if written:
            files.append(_location(table.location(), data_dir, path))
            rows += written
        else:
            filesystem.delete_file(path)

    def write(transaction: Transaction) -> None:
        if files:
            with _quiet_missing_statistics():
                transaction.add_files(files, check_duplicate_files=False)

    try:
        replace_datasets(catalog, ident, CHUNK_INDEX_SCHEMA, ids, write)
    except BaseException:
        for path in files:  # never committed: nothing refers to them
            filesystem.delete_file(_strip_scheme(path))
        raise
    report.datasets = sorted(set(report.datasets) | set(ids))
    report.add(dotted(ident), rows)
    return report


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
            replace_datasets(catalog, ident, schema, list(dataset_ids), lambda _tx: None)
        report.add(dotted(ident), removed)
    return report


def dataset_ids_for_uri(
    catalog: Catalog, uri: str, *, namespace: str = DEFAULT_IMAGE_NAMESPACE
) -> list[str]:
    table = load_existing(catalog, identifier(namespace, IMAGE_ASSETS))
    if table is None:
        return []
    rows = table.scan(selected_fields=("dataset_id", "dataset_uri")).to_arrow()
    return sorted({r["dataset_id"] for r in rows.to_pylist() if r["dataset_uri"] == uri})


def check_dataset_uris(
    catalog: Catalog, namespace: str, results: Sequence[ScanResult], *, replace: bool
) -> None:
    """A dataset id already registered from another URI is an error naming both."""
    if replace:
        return
    table = load_existing(catalog, identifier(namespace, IMAGE_ASSETS))
    if table is None:
        return
    ids = _dataset_ids(results)
    existing = table.scan(
        row_filter=In("dataset_id", ids), selected_fields=("dataset_id", "dataset_uri")
    ).to_arrow()
    registered = {row["dataset_id"]: row["dataset_uri"] for row in existing.to_pylist()}
    for result in results:
        old = registered.get(result.dataset_id)
        if old is not None and old != result.uri:
            raise DatasetConflictError(
                f"dataset '{result.dataset_id}' is already registered from {old}; "
                f"{result.uri} would replace it (use --replace, or --dataset-id to pick another id)"
            )


def _dataset_ids(results: Sequence[ScanResult]) -> list[str]:
    ids = [r.dataset_id for r in results]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(
            f"several stores have the dataset id {', '.join(duplicates)}; give each its own"
        )
    return ids


def _count(table: Any, dataset_ids: Sequence[str]) -> int:
    scan = table.scan(
        row_filter=In("dataset_id", list(dataset_ids)), selected_fields=("dataset_id",)
    )
    return scan.to_arrow().num_rows


def _data_folder(location: str) -> tuple[Any, str]:
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(location)
    return filesystem, f"{path.rstrip('/')}/data"


def _location(table_location: str, data_dir: str, path: str) -> str:
    """The URI of a data file, in the table location's scheme."""
    scheme = table_location.split("://", 1)[0] if "://" in table_location else ""
    if scheme == "file":
        return "file://" + path
    if scheme:
        return f"{scheme}://{path}"
    return path


def _strip_scheme(location: str) -> str:
    return location.split("://", 1)[1] if "://" in location else location


def publish_profile_table(
    catalog: Catalog, data: pa.Table, *, table_name: str, namespace: str = "profiles"
) -> PublishReport:
    """Write a profile table to ``<namespace>.<table_name>``, replacing its rows.

    Types Iceberg cannot store are rejected before anything is created; a new
    table is created together with its rows in one transaction, so a failure
    leaves no empty table behind.
    """
    data = iceberg_compatible(data)
    ident = identifier(namespace, table_name)
    report = PublishReport()
    if load_existing(catalog, ident) is None:
        ensure_namespace(catalog, ident[:-1])
        try:
            with catalog.create_table_transaction(
                ident, schema=data.schema, properties=table_properties(data.schema)
            ) as transaction:
                transaction.append(data)
            report.add(dotted(ident), data.num_rows)
            return report
        except TableAlreadyExistsError:
            pass  # created concurrently: replace its rows below
    open_or_create(catalog, ident, data.schema, partitioned=False)  # evolves new columns
    with_retry(lambda: catalog.load_table(ident), lambda fresh: fresh.overwrite(data))
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


class _MissingStatistics(logging.Filter):
    """pyiceberg logs a line per column without Parquet statistics; the chunk
    index leaves them out on purpose for its unique string columns."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "statistics missing" not in record.getMessage()


@contextmanager
def _quiet_missing_statistics() -> Iterator[None]:
    target = logging.getLogger("pyiceberg.io.pyarrow")
    quiet = _MissingStatistics()
    target.addFilter(quiet)
    try:
        yield
    finally:
        target.removeFilter(quiet)
