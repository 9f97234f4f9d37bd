"""Public catalog functions: register, ingest, publish, deregister, read.

``catalog`` is anything :func:`~iceberg_bioimage.catalog.resolve_catalog`
accepts: a pyiceberg ``Catalog``, a catalog name, a CytoTable warehouse path,
or None for the embedded default.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io.resolve import require_local_folder
from iceberg_bioimage.io.uri import resolved_file_uri
from iceberg_bioimage.models import ScanResult, ScanWarning
from iceberg_bioimage.scan import scan_paths, scan_store

if TYPE_CHECKING:
    from pyiceberg.table import Table

PathLike = str | os.PathLike[str]


@dataclass
class RegisterResult:
    """What a registration did, and where."""

    catalog: str
    catalog_created: bool
    namespace: str
    datasets: list[str]
    rows: dict[str, int]
    commits: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "catalog_created": self.catalog_created,
            "namespace": self.namespace,
            "datasets": self.datasets,
            "rows": self.rows,
            "commits": self.commits,
            "warnings": self.warnings,
        }


def ingest_scan_results_to_warehouse(
    results: Sequence[ScanResult],
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    publish_chunks: bool = False,
    replace: bool = False,
    stat: bool = True,
    byte_ranges: bool = False,
    warnings: Iterable[ScanWarning] = (),
) -> RegisterResult:
    """Publish scan results: one commit per table whatever their number."""
    report = cat.PublishReport()
    with cat.opened_catalog(catalog, "publishing to") as resolved:
        cat.publish_image_assets(
            resolved.catalog, results, namespace=namespace, replace=replace, report=report
        )
        if publish_chunks:
            cat.publish_chunk_index(
                resolved.catalog,
                results,
                namespace=namespace,
                stat=stat,
                byte_ranges=byte_ranges,
                report=report,
            )
    return _result(resolved, namespace, report, warnings, results)


def ingest_stores_to_warehouse(
    uris: Iterable[PathLike], catalog: cat.CatalogLike = None, **options: Any
) -> RegisterResult:
    """Scan stores (or folders of stores) and publish them in one commit per
    table; ``options`` are those of :func:`ingest_scan_results_to_warehouse`."""
    scanned = scan_paths(list(uris))
    if not scanned.results:
        raise InputError(
            f"nothing to ingest: {scanned.errors[0] if scanned.errors else 'no stores'}"
        )
    return ingest_scan_results_to_warehouse(
        scanned.results, catalog, warnings=scanned.warnings, **options
    )


def register_store(
    uri: PathLike,
    catalog: cat.CatalogLike = None,
    *,
    dataset_id: str | None = None,
    **options: Any,
) -> RegisterResult:
    """Scan one store and publish it; registering it again replaces its rows.
    ``options`` are those of :func:`ingest_scan_results_to_warehouse`
    (``namespace``, ``publish_chunks``, ``replace``, ``stat``, ``byte_ranges``)."""
    result = scan_store(uri, dataset_id=dataset_id)
    return ingest_scan_results_to_warehouse([result], catalog, warnings=result.warnings, **options)


def register_directory(
    folder: PathLike, catalog: cat.CatalogLike = None, **options: Any
) -> RegisterResult:
    """Every store under ``folder``, scanned concurrently, published together."""
    require_local_folder(folder)
    return ingest_stores_to_warehouse([folder], catalog, **options)


def publish_image_assets(
    results: Sequence[ScanResult],
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    replace: bool = False,
) -> RegisterResult:
    """Replace the ``image_assets`` rows of the datasets in ``results``."""
    return ingest_scan_results_to_warehouse(results, catalog, namespace=namespace, replace=replace)


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
    with cat.opened_catalog(catalog, "publishing to") as resolved:
        cat.publish_chunk_index(
            resolved.catalog,
            scan_results,
            namespace=namespace,
            stat=stat,
            byte_ranges=byte_ranges,
            report=report,
        )
    return _result(resolved, namespace, report, (), scan_results)


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
    return _result(resolved, namespace, report, (), ())


def register_profile_table(
    table: pa.Table | PathLike,
    catalog: cat.CatalogLike = None,
    *,
    namespace: str = "profiles",
    table_name: str | None = None,
    sqlite_table: str | None = None,
) -> RegisterResult:
    """Write a profile table (Arrow, or a Parquet / CSV / SQLite file) to
    ``profiles.<table>``; the name defaults to the file's (or SQLite table's)."""
    from iceberg_bioimage.api_profiles import named_table

    data, table_name = named_table(table, table_name, sqlite_table=sqlite_table)
    with cat.opened_catalog(catalog, "publishing to") as resolved:
        report = cat.publish_profile_table(
            resolved.catalog, data, table_name=table_name, namespace=namespace
        )
    return _result(resolved, namespace, report, (), ())


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
    with cat.opened_catalog(catalog) as resolved:
        return cat.table_history(resolved.catalog, table_name)


def _result(
    resolved: cat.ResolvedCatalog,
    namespace: str,
    report: cat.PublishReport,
    warnings: Iterable[ScanWarning],
    results: Iterable[ScanResult],
) -> RegisterResult:
    notes = [str(w) for w in warnings] or [str(w) for r in results for w in r.warnings]
    return RegisterResult(
        catalog=resolved.description,
        catalog_created=resolved.created,
        namespace=namespace,
        datasets=report.datasets,
        rows=report.rows,
        commits=report.commits,
        warnings=notes,
    )
