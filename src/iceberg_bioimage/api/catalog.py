"""Public Iceberg catalog functions: register, ingest, publish, deregister, read.

``catalog`` is anything :func:`~iceberg_bioimage.catalog.resolve_catalog`
accepts: a pyiceberg ``Catalog``, a catalog name, a CytoTable warehouse path,
or None for the embedded default. (Cytomining warehouse roots are another
thing: see :mod:`iceberg_bioimage.api.warehouse`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.compact import CompactReport, compact_table
from iceberg_bioimage.catalog.fanout import ingest_fanned_out
from iceberg_bioimage.catalog.register import (
    RegisterResult,
    ingest_scan_results_to_catalog,
    register_result,
)
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io import require_local_folder
from iceberg_bioimage.io.uri import resolved_file_uri
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.profiles.io import TableLike, named_table
from iceberg_bioimage.scan import scan_paths, scan_store, store_targets
from iceberg_bioimage.warehouse.identifiers import table_problem

if TYPE_CHECKING:
    from pyiceberg.table import Table

PathLike = str | os.PathLike[str]

__all__ = [
    "CompactReport",
    "RegisterResult",
    "catalog_info",
    "catalog_table_history",
    "catalog_table_to_arrow",
    "compact_catalog_table",
    "deregister_store",
    "ingest_scan_results_to_catalog",
    "ingest_scan_results_to_warehouse",
    "ingest_stores_to_catalog",
    "ingest_stores_to_warehouse",
    "list_catalog_tables",
    "load_catalog_table",
    "publish_chunk_index",
    "publish_image_assets",
    "register_directory",
    "register_profile_table",
    "register_store",
    "resolve_catalog",
]

resolve_catalog = cat.resolve_catalog
catalog_info = cat.catalog_info


def ingest_stores_to_catalog(
    uris: Iterable[PathLike], catalog: cat.CatalogLike = None, **options: Any
) -> RegisterResult:
    """Scan stores (or folders of stores) and publish them in one commit per
    table; ``options`` are those of :func:`ingest_scan_results_to_catalog`
    (``warnings`` aside), plus ``engine``: ``"threads"`` (default), ``"daft"``
    or ``"ray"`` to run the scans (and the writing of the data files) there.
    A store that cannot be scanned is a warning; the others are published."""
    engine = options.pop("engine", None) or "threads"
    namespace = options.get("namespace", DEFAULT_IMAGE_NAMESPACE)
    targets = store_targets([uris] if isinstance(uris, (str, os.PathLike)) else list(uris))
    with cat.opened_catalog(catalog, "publishing to", create=True) as resolved:
        outcome = ingest_fanned_out(
            resolved.catalog,
            targets,
            engine=engine,
            namespace=namespace,
            publish_chunks=options.get("publish_chunks", False),
            replace=options.get("replace", False),
            stat=options.get("stat", True),
            byte_ranges=options.get("byte_ranges", False),
        )
    result = register_result(resolved, namespace, outcome.report)
    result.warnings, result.uris = outcome.warnings, outcome.uris
    return result


def compact_catalog_table(
    catalog: cat.CatalogLike,
    table_name: str,
    *,
    expire_older_than: datetime | str | None = None,
    retain_last: int | None = None,
) -> CompactReport:
    """Rewrite a table's data files as one sorted file per dataset bucket (and
    fold files of an older layout in), expiring the snapshots older than
    ``expire_older_than`` or beyond the last ``retain_last`` on request, in
    one commit. Rows and the snapshots kept are untouched."""
    when = (
        datetime.fromisoformat(expire_older_than)
        if isinstance(expire_older_than, str)
        else expire_older_than
    )
    with cat.opened_catalog(catalog, "compacting in", create=False) as resolved:
        return compact_table(
            resolved.catalog, table_name, expire_older_than=when, retain_last=retain_last
        )


# The names these had when "warehouse" also meant the Iceberg catalog.
ingest_scan_results_to_warehouse = ingest_scan_results_to_catalog
ingest_stores_to_warehouse = ingest_stores_to_catalog


def register_store(
    uri: PathLike,
    catalog: cat.CatalogLike = None,
    *,
    dataset_id: str | None = None,
    **options: Any,
) -> RegisterResult:
    """Scan one store and publish it; registering it again replaces its rows.
    ``options`` are those of :func:`ingest_scan_results_to_catalog`
    (``namespace``, ``publish_chunks``, ``replace``, ``stat``, ``byte_ranges``)."""
    result = scan_store(uri, dataset_id=dataset_id)
    return ingest_scan_results_to_catalog([result], catalog, warnings=result.warnings, **options)


def register_directory(
    folder: PathLike, catalog: cat.CatalogLike = None, **options: Any
) -> RegisterResult:
    """Every store under ``folder``, scanned concurrently, published together."""
    require_local_folder(folder)
    return ingest_stores_to_catalog([folder], catalog, **options)


def publish_image_assets(
    results: Sequence[ScanResult],
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    replace: bool = False,
) -> RegisterResult:
    """Replace the ``image_assets`` rows of the datasets in ``results``."""
    return ingest_scan_results_to_catalog(results, catalog, namespace=namespace, replace=replace)


def publish_chunk_index(
    results: Sequence[ScanResult] | Iterable[PathLike],
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    stat: bool = True,
    byte_ranges: bool = False,
) -> RegisterResult:
    """Replace the ``chunk_index`` rows of the datasets in ``results`` (scan
    results, or store paths to scan)."""
    items = list(results)
    scan_results = [r for r in items if isinstance(r, ScanResult)]
    if len(scan_results) != len(items):
        scan_results = list(scan_paths(items).results)  # type: ignore[arg-type]
    report = cat.PublishReport()
    with cat.opened_catalog(catalog, "publishing to", create=True) as resolved:
        cat.publish_chunk_index(
            resolved.catalog,
            scan_results,
            namespace=namespace,
            stat=stat,
            byte_ranges=byte_ranges,
            report=report,
        )
    return register_result(resolved, namespace, report, (), scan_results)


def deregister_store(
    dataset_id_or_uri: str | PathLike,
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
) -> RegisterResult:
    """Remove a dataset's rows (by dataset id, or by the URI it was scanned from)."""
    text = os.fspath(dataset_id_or_uri)
    with cat.opened_catalog(catalog, "deregistering from") as resolved:
        ids = [text]
        if "/" in text or os.path.exists(text):
            uri = resolved_file_uri(text)
            ids = cat.dataset_ids_for_uri(resolved.catalog, uri, namespace=namespace) or [text]
        report = cat.deregister_datasets(resolved.catalog, ids, namespace=namespace)
    if not any(report.rows.values()):
        raise InputError(f"no dataset '{text}' is registered in {resolved.description}")
    return register_result(resolved, namespace, report)


def register_profile_table(
    table: TableLike,
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = "profiles",
    table_name: str | None = None,
    sqlite_table: str | None = None,
) -> RegisterResult:
    """Write a profile table (Arrow, or a Parquet / CSV / SQLite file) to
    ``profiles.<table>``; the name defaults to the file's (or SQLite table's).
    A table a Cytomining warehouse would refuse is registered with a warning
    saying why (an export from the catalog then leaves it out)."""
    data, table_name = named_table(table, table_name, sqlite_table=sqlite_table)
    with cat.opened_catalog(catalog, "publishing to", create=True) as resolved:
        report = cat.publish_profile_table(
            resolved.catalog, data, table_name=table_name, namespace=namespace
        )
    result = register_result(resolved, namespace, report)
    problem = table_problem(f"{namespace}.{table_name}", data)
    if problem and namespace == "profiles":
        result.warnings.append(f"cannot be exported to a Cytomining warehouse: {problem}")
    return result


def list_catalog_tables(catalog: cat.CatalogLike = None, namespace: str | None = None) -> list[str]:
    """Every table of a catalog as ``namespace.table``."""
    with cat.opened_catalog(catalog, "listing") as resolved:
        return cat.list_catalog_tables(resolved.catalog, namespace)


def load_catalog_table(catalog: cat.CatalogLike, table_name: str) -> Table:
    """A pyiceberg ``Table`` by ``namespace.table``."""
    with cat.opened_catalog(catalog) as resolved:
        return cat.load_catalog_table(resolved.catalog, table_name)


def catalog_table_to_arrow(
    catalog: cat.CatalogLike,
    table_name: str,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    snapshot_id: int | None = None,
    as_of: datetime | str | None = None,
) -> pa.Table:
    """A table's rows as Arrow, with column selection, a row filter and time travel."""
    with cat.opened_catalog(catalog) as resolved:
        return cat.catalog_table_to_arrow(
            resolved.catalog,
            table_name,
            columns=columns,
            where=where,
            snapshot_id=snapshot_id,
            as_of=as_of,
        )


def catalog_table_history(catalog: cat.CatalogLike, table_name: str) -> list[dict[str, Any]]:
    """A table's snapshots, oldest first (for ``snapshot_id`` / ``as_of`` time travel)."""
    with cat.opened_catalog(catalog) as resolved:
        return cat.table_history(resolved.catalog, table_name)
