"""Reading catalog tables: listing, Arrow scans with filters, time travel, history."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from iceberg_bioimage.catalog.config import CatalogError
from iceberg_bioimage.errors import InputError

if TYPE_CHECKING:  # pyiceberg itself is imported on first catalog use
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def list_catalog_tables(catalog: Catalog, namespace: str | None = None) -> list[str]:
    """Every table as ``namespace.table``, in every namespace (or one)."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    namespaces = [tuple(namespace.split("."))] if namespace else _all_namespaces(catalog, ())
    found = []
    for parts in namespaces:
        try:
            found += [".".join(ident) for ident in catalog.list_tables(parts)]
        except NoSuchNamespaceError:
            if namespace:
                raise CatalogError(f"namespace '{namespace}' does not exist") from None
    return sorted(found)


def _all_namespaces(catalog: Catalog, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
    from pyiceberg.exceptions import NoSuchNamespaceError

    found = []
    for child in catalog.list_namespaces(parent):
        child = tuple(child)
        if child == parent:
            continue
        found.append(child)
        with contextlib.suppress(NoSuchNamespaceError, NotImplementedError):
            found += _all_namespaces(catalog, child)
    return sorted(set(found))


def load_catalog_table(catalog: Catalog, table_name: str) -> Table:
    """The table ``namespace.table``; a clear error when it does not exist."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    parts = tuple(p for p in table_name.split(".") if p)
    if len(parts) < 2:
        raise InputError(f"table '{table_name}' must be written as <namespace>.<table>")
    try:
        return catalog.load_table(parts)
    except (NoSuchTableError, NoSuchNamespaceError):
        raise CatalogError(f"table '{table_name}' does not exist in the catalog") from None


def catalog_table_to_arrow(
    catalog: Catalog,
    table_name: str,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    snapshot_id: int | None = None,
    as_of: datetime | str | None = None,
) -> pa.Table:
    """Rows of a table as Arrow: ``columns`` to select, ``where`` an Iceberg row
    filter (``"dataset_id = 'plate1' AND site_id < 2"``), and a snapshot id or a
    timestamp (the table as it was then) for time travel."""
    table = load_catalog_table(catalog, table_name)
    if as_of is not None:
        snapshot_id = _snapshot_at(table, as_of)
    if snapshot_id is not None and table.snapshot_by_id(snapshot_id) is None:
        raise InputError(f"table '{table_name}' has no snapshot {snapshot_id}")
    options: dict[str, Any] = {"snapshot_id": snapshot_id}
    if columns:
        unknown = [c for c in columns if c not in {f.name for f in table.schema().fields}]
        if unknown:
            raise InputError(f"table '{table_name}' has no column {', '.join(unknown)}")
        options["selected_fields"] = tuple(columns)
    if where:
        options["row_filter"] = _parse_filter(where)
    try:
        rows = table.scan(**options).to_arrow()
        return rows.select(list(columns)) if columns else rows  # in the order asked
    except (ValueError, TypeError) as error:
        if where:
            raise InputError(f"cannot apply filter {where!r}: {error}") from None
        raise


def _parse_filter(where: str) -> Any:
    from pyiceberg.expressions.parser import parse

    try:
        return parse(where)
    except Exception as error:  # pyparsing's ParseException: a long grammar dump
        column = getattr(error, "col", None)
        near = f" near column {column}" if column else ""
        example = "well_id = 'B03' AND site_id < 2"
        raise InputError(f"cannot parse filter {where!r}{near}; write it like {example}") from None


def _snapshot_at(table: Table, when: datetime | str) -> int:
    try:
        moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    except ValueError:
        raise InputError(
            f"a time must be ISO 8601, like 2026-01-31T12:00:00 (UTC unless given), not {when!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    snapshot = table.snapshot_as_of_timestamp(int(moment.timestamp() * 1000))
    if snapshot is None:
        raise InputError(f"the table has no snapshot at or before {moment.isoformat()}")
    return snapshot.snapshot_id


def table_history(catalog: Catalog, table_name: str) -> list[dict[str, Any]]:
    """Snapshots of a table, oldest first: id, time, operation, summary."""
    table = load_catalog_table(catalog, table_name)
    rows = []
    for entry in table.history():
        snapshot = table.snapshot_by_id(entry.snapshot_id)
        summary = snapshot.summary if snapshot is not None else None
        rows.append(
            {
                "snapshot_id": entry.snapshot_id,
                "timestamp": datetime.fromtimestamp(entry.timestamp_ms / 1000, UTC).isoformat(),
                "operation": summary.operation.value if summary is not None else None,
                "summary": dict(summary.additional_properties) if summary is not None else {},
            }
        )
    return rows


def catalog_table_batches(catalog: Catalog, table_name: str) -> Iterator[pa.RecordBatch]:
    """Stream a large table of plain types (the chunk index) batch by batch."""
    yield from load_catalog_table(catalog, table_name).scan().to_arrow_batch_reader()
