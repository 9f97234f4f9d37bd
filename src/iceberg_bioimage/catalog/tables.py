"""Iceberg tables of the canonical schemas: create, evolve, and replace rows atomically.

Every write replaces the rows of the datasets it carries in a single
transaction (delete by ``dataset_id`` and append, one catalog commit), so
re-registering is idempotent and a reader never sees a dataset missing.
Commit conflicts with concurrent writers are retried with backoff on a fresh
copy of the table.
"""

from __future__ import annotations

import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from iceberg_bioimage._version import __version__
from iceberg_bioimage.catalog.config import CatalogError
from iceberg_bioimage.catalog.layout import (
    BUCKET_FIELD,
    PARTITION_COLUMN,
    lay_out,
    needs_layout,
    sorted_rows,
)
from iceberg_bioimage.catalog.replace import remove_datasets
from iceberg_bioimage.schema import SCHEMA_VERSION, SCHEMA_VERSION_KEY, TABLE_KEY

if TYPE_CHECKING:  # pyiceberg itself is imported on first catalog use
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction

PRODUCER = "iceberg-bioimage"
DEFAULT_IMAGE_NAMESPACE = "images"
_ATTEMPTS = 10

T = TypeVar("T")


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def identifier(namespace: str, name: str) -> tuple[str, ...]:
    """``("images", "image_assets")`` from ``"images"`` and ``"image_assets"``;
    a dotted namespace is nested exactly as written, never more."""
    parts = tuple(p for p in namespace.split(".") if p)
    if not parts:
        raise CatalogError("the namespace is empty")
    if not name or "." in name:
        raise CatalogError(
            f"table name {name!r} must be non-empty and without dots; "
            "give the namespace separately (--namespace)"
        )
    unusable = [p for p in (*parts, name) if not _NAME.fullmatch(p)]
    if unusable:
        raise CatalogError(
            f"{unusable[0]!r} cannot name a namespace or table: "
            "use letters, digits, '_' and '-' (not first)"
        )
    return (*parts, name)


def dotted(ident: Sequence[str]) -> str:
    return ".".join(ident)


def ensure_namespace(catalog: Catalog, namespace: Sequence[str]) -> None:
    """Create the namespace unless it exists (another writer may create it at
    the same moment: then its creation is ours too)."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    try:
        catalog.create_namespace(tuple(namespace))
    except NamespaceAlreadyExistsError:
        pass
    except Exception:
        if not catalog.namespace_exists(tuple(namespace)):
            raise


# Column statistics in the manifests only where reads filter: the keys. Every
# other column's bounds would cost manifest size and commit time for nothing.
_STATISTICS_COLUMNS = ("dataset_id", "image_id", "level")


def table_properties(schema: pa.Schema) -> dict[str, str]:
    """What the table records about who wrote it and in which schema version,
    and which columns get statistics (the keys reads filter on)."""
    metadata = schema.metadata or {}
    keys = [c for c in _STATISTICS_COLUMNS if c in schema.names]
    metrics = {"write.metadata.metrics.default": "none"} | {
        f"write.metadata.metrics.column.{c}": "full" for c in keys
    }
    return {
        **metrics,
        "iceberg_bioimage.producer": PRODUCER,
        "iceberg_bioimage.producer_version": __version__,
        "iceberg_bioimage.schema_version": metadata.get(
            SCHEMA_VERSION_KEY, SCHEMA_VERSION.encode()
        ).decode(),
        "iceberg_bioimage.table": metadata.get(TABLE_KEY, b"").decode(),
    }


def evolve(table: Table, schema: pa.Schema) -> None:
    """Add the columns of ``schema`` the table lacks (null for existing rows)."""
    existing = {field.name for field in table.schema().fields}
    missing = [field.with_nullable(True) for field in schema if field.name not in existing]
    if not missing:
        return

    def add(fresh: Table) -> None:
        current = {field.name for field in fresh.schema().fields}
        still_missing = pa.schema([f for f in missing if f.name not in current])
        if len(still_missing):
            with fresh.update_schema() as update:
                update.union_by_name(still_missing)

    with_retry(lambda: table.refresh(), add)
    table.refresh()


@dataclass(frozen=True)
class WrittenFile:
    """A data file written for a table before its commit, and its partition
    (the dataset bucket; None for an unpartitioned table)."""

    path: str
    bucket: int | None


def commit_rows(
    catalog: Catalog,
    ident: tuple[str, ...],
    schema: pa.Schema,
    dataset_ids: Sequence[str],
    *,
    rows: pa.Table | None = None,
    write_files: Callable[[str, Any, Any], list[WrittenFile]] | None = None,
    partitioned: bool = True,
    replace_all: bool = False,
) -> None:
    """Replace the rows of ``dataset_ids`` with ``rows`` and/or the data files
    ``write_files(table_location, file_io, iceberg_schema)`` writes, in one
    commit (the schema gives the field ids the files must carry).

    ``replace_all`` replaces every row instead (tables without ``dataset_id``).
    A missing table is created in that same commit (schema, layout,
    properties and data together), so a failed write leaves no empty table.
    Files are written once, before the commit; on a lost race or a commit
    conflict the commit is retried with the same files. Tables with a
    ``dataset_id`` are bucketed by it (:mod:`.layout`); rows are sorted.
    """
    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError
    from pyiceberg.expressions import AlwaysTrue, In
    from pyiceberg.io import load_file_io

    rows = sorted_rows(rows) if rows is not None else None
    table = load_existing(catalog, ident)
    files: list[WrittenFile] = []
    if table is None:
        ensure_namespace(catalog, ident[:-1])
        creating = create_table_transaction(catalog, ident, schema)
        if partitioned:
            lay_out(creating, schema)
        location = creating.table_metadata.location
        io = load_file_io(catalog.properties, location)
        files = write_files(location, io, creating.table_metadata.schema()) if write_files else []
        try:
            _add(creating, rows, files, io)
            creating.commit_transaction()
            return
        except (TableAlreadyExistsError, CommitFailedException):
            table = catalog.load_table(ident)  # created concurrently: replace below
    else:
        evolve(table, schema)
        if partitioned and needs_layout(table):
            with_retry(lambda: catalog.load_table(ident), lambda fresh: lay_out(fresh, schema))
            table = catalog.load_table(ident)
        files = (  # through the table's own IO
            write_files(table.location(), table.io, table.schema()) if write_files else []
        )

    def attempt(fresh: Table) -> Table:
        transaction = fresh.transaction()
        if replace_all and fresh.current_snapshot() is not None:
            transaction.delete(AlwaysTrue())
        elif dataset_ids and fresh.current_snapshot() is not None:
            if BUCKET_FIELD in {f.name for f in fresh.spec().fields}:
                remove_datasets(transaction, fresh, dataset_ids)
            else:
                with warnings.catch_warnings():  # a first registration deletes nothing
                    warnings.filterwarnings("ignore", "Delete operation did not match")
                    transaction.delete(In(PARTITION_COLUMN, list(dataset_ids)))
        transaction.set_properties(table_properties(schema))  # before the files' statistics
        _add(transaction, rows, files, fresh.io)
        return transaction.commit_transaction()

    with_retry(lambda: catalog.load_table(ident), attempt)


def create_table_transaction(
    catalog: Catalog, ident: tuple[str, ...], schema: pa.Schema
) -> Transaction:
    """A transaction creating ``ident`` together with its first rows.

    pyiceberg stages new tables of SQL catalogs through a helper that takes
    two-part identifiers only, though the catalog itself stores nested
    namespaces (as their dotted name): there the namespace is passed as that
    one dotted part. Any other catalog without nested namespaces says so.
    """
    from pyiceberg.catalog.sql import SqlCatalog

    properties = table_properties(schema)
    if len(ident) > 2 and isinstance(catalog, SqlCatalog):
        ident = (dotted(ident[:-1]), ident[-1])
    return catalog.create_table_transaction(ident, schema=schema, properties=properties)


def _add(
    transaction: Transaction, rows: pa.Table | None, files: list[WrittenFile], io: Any
) -> None:
    if rows is not None and rows.num_rows:
        transaction.append(rows)
    if files:
        with _quiet_missing_statistics():
            data_files = [data_file(io, transaction.table_metadata, f) for f in files]
            with transaction._append_snapshot_producer({}) as append:  # pyiceberg's add_files
                for entry in data_files:
                    append.append_data_file(entry)


def data_file(io: Any, metadata: Any, written: WrittenFile) -> Any:
    """A written Parquet file as an Iceberg data file of the table's current
    spec, its partition given (pyiceberg cannot infer a bucket from statistics)."""
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
        parquet_path_to_id_mapping,
    )
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    source = io.new_input(written.path)
    with source.open() as stream:
        parquet = pq.read_metadata(stream)
    schema = metadata.schema()
    statistics = data_file_statistics_from_parquet_metadata(
        parquet_metadata=parquet,
        stats_columns=compute_statistics_plan(schema, metadata.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(schema),
    )
    spec = metadata.spec()
    partition = Record(written.bucket) if spec.fields and written.bucket is not None else Record()
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=written.path,
        file_format=FileFormat.PARQUET,
        partition=partition,
        file_size_in_bytes=len(source),
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **statistics.to_serialized_dict(),
    )


class _MissingStatistics(logging.Filter):
    """pyiceberg logs a line per column without Parquet statistics; data files
    may leave them out on purpose (unique string columns)."""

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


def with_retry(load: Callable[[], Any], attempt: Callable[[Any], T]) -> T:
    """Run ``attempt`` on a freshly loaded table, retrying commit conflicts and
    locked databases with exponential backoff and jitter."""
    for number in range(_ATTEMPTS):
        try:
            return attempt(load())
        except Exception as error:
            if number == _ATTEMPTS - 1 or not _retryable(error):
                raise
            time.sleep(min(2.0, 0.05 * 2**number) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _retryable(error: Exception) -> bool:
    """Conflicts another writer caused: a lost commit race, or (for row-level
    replaces) files it added that our delete must see; retried on a fresh table."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    if isinstance(error, (CommitFailedException, ValidationException)):
        return True
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text


def load_existing(catalog: Catalog, ident: tuple[str, ...]) -> Table | None:
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table(ident)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
