"""Iceberg tables of the canonical schemas: create, evolve, and replace rows atomically.

Every write replaces the rows of the datasets it carries in a single
transaction (delete by ``dataset_id`` and append, one catalog commit), so
re-registering is idempotent and a reader never sees a dataset missing.
Commit conflicts with concurrent writers are retried with backoff on a fresh
copy of the table.
"""

from __future__ import annotations

import contextlib
import random
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.expressions import In
from pyiceberg.table import Table, Transaction

from iceberg_bioimage import __version__
from iceberg_bioimage.catalog.config import CatalogError
from iceberg_bioimage.schema import SCHEMA_VERSION, SCHEMA_VERSION_KEY, TABLE_KEY

PRODUCER = "iceberg-bioimage"
DEFAULT_IMAGE_NAMESPACE = "images"
PARTITION_COLUMN = "dataset_id"
_ATTEMPTS = 10

T = TypeVar("T")


def identifier(namespace: str, name: str) -> tuple[str, ...]:
    """``("images", "image_assets")`` from ``"images"`` and ``"image_assets"``;
    a dotted namespace is nested exactly as written, never more."""
    parts = tuple(p for p in namespace.split(".") if p)
    if not parts:
        raise CatalogError("the namespace is empty")
    return (*parts, name)


def dotted(ident: Sequence[str]) -> str:
    return ".".join(ident)


def ensure_namespace(catalog: Catalog, namespace: Sequence[str]) -> None:
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(tuple(namespace))


def table_properties(schema: pa.Schema) -> dict[str, str]:
    """What the table records about who wrote it and in which schema version."""
    metadata = schema.metadata or {}
    return {
        "iceberg_bioimage.producer": PRODUCER,
        "iceberg_bioimage.producer_version": __version__,
        "iceberg_bioimage.schema_version": metadata.get(
            SCHEMA_VERSION_KEY, SCHEMA_VERSION.encode()
        ).decode(),
        "iceberg_bioimage.table": metadata.get(TABLE_KEY, b"").decode(),
    }


def open_or_create(
    catalog: Catalog,
    ident: tuple[str, ...],
    schema: pa.Schema,
    *,
    partitioned: bool = True,
    create: bool = True,
) -> Table:
    """The table at ``ident``, created from ``schema`` if missing (one commit:
    schema, ``dataset_id`` partitioning and properties together), and evolved
    in place when ``schema`` has columns the table lacks."""
    try:
        table = catalog.load_table(ident)
    except NoSuchTableError:
        if not create:
            raise
        table = _create(catalog, ident, schema, partitioned)
    evolve(table, schema)
    return table


def _create(
    catalog: Catalog, ident: tuple[str, ...], schema: pa.Schema, partitioned: bool
) -> Table:
    ensure_namespace(catalog, ident[:-1])
    try:
        with catalog.create_table_transaction(
            ident, schema=schema, properties=table_properties(schema)
        ) as transaction:
            if partitioned and PARTITION_COLUMN in schema.names:
                with transaction.update_spec() as spec:
                    spec.add_identity(PARTITION_COLUMN)
    except TableAlreadyExistsError:
        pass  # a concurrent writer created it first
    except CommitFailedException:
        pass  # the same, seen by catalogs that report it at commit time
    return catalog.load_table(ident)


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


def replace_datasets(
    catalog: Catalog,
    ident: tuple[str, ...],
    schema: pa.Schema,
    dataset_ids: Sequence[str],
    write: Callable[[Transaction], None],
) -> Table:
    """One commit: delete the rows of ``dataset_ids``, ``write`` the new ones,
    and record the producer and schema version."""

    def attempt(table: Table) -> Table:
        transaction = table.transaction()
        if dataset_ids and table.current_snapshot() is not None:
            with warnings.catch_warnings():  # a first registration deletes nothing
                warnings.filterwarnings("ignore", "Delete operation did not match")
                transaction.delete(In(PARTITION_COLUMN, list(dataset_ids)))
        write(transaction)
        transaction.set_properties(table_properties(schema))
        return transaction.commit_transaction()

    return with_retry(lambda: catalog.load_table(ident), attempt)


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
    if isinstance(error, CommitFailedException):
        return True
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text


def load_existing(catalog: Catalog, ident: tuple[str, ...]) -> Table | None:
    try:
        return catalog.load_table(ident)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
