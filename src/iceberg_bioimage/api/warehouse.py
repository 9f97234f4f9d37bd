"""Public Cytomining warehouse functions: exports to warehouse roots (Parquet +
manifest), and reading and checking them. (Iceberg catalogs are another
thing: see :mod:`iceberg_bioimage.api.catalog`.)"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.profiles.io import Aliases, TableLike, as_table, named_table, resolve_aliases
from iceberg_bioimage.scan import scan_store, scan_stores_for
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA
from iceberg_bioimage.warehouse import exports, spec
from iceberg_bioimage.warehouse.exports import ExportResult
from iceberg_bioimage.warehouse.identifiers import inferred_profile_level, table_problem
from iceberg_bioimage.warehouse.writer import TableWrite

PathLike = str | os.PathLike[str]


def export_scan_result_to_cytomining_warehouse(
    result: ScanResult | Sequence[ScanResult],
    warehouse_root: PathLike,
    *,
    profiles: TableLike | None = None,
    profile_dataset_id: str | None = None,
    alias_map: Aliases = None,
    mode: str = "overwrite",
    include_chunks: bool = True,
    how: str = "left",
    profile_level: str | None = None,
    compartment: str | None = None,
    keep_unmatched: bool = False,
) -> ExportResult:
    """Write ``images.image_assets``, ``images.chunk_index`` and, given profiles,
    ``profiles.joined_profiles`` (one transaction)."""
    results = [result] if isinstance(result, ScanResult) else list(result)
    return exports.export_scan_results(
        results,
        warehouse_root,
        profiles=as_table(profiles) if profiles is not None else None,
        profile_dataset_id=profile_dataset_id,
        alias_map=resolve_aliases(alias_map),
        mode=mode,
        include_chunks=include_chunks,
        how=how,
        keep_unmatched=keep_unmatched,
        profile_level=profile_level,
        compartment=compartment,
    )


def export_store_to_cytomining_warehouse(
    store: PathLike | Iterable[PathLike],
    warehouse_root: PathLike,
    *,
    dataset_id: str | None = None,
    **options: Any,
) -> ExportResult:
    """Scan a store (or stores, or folders of them) and export it to a warehouse root."""
    if isinstance(store, (str, os.PathLike)) and dataset_id is not None:
        results = [scan_store(store, dataset_id=dataset_id)]
    else:
        results = list(scan_stores_for(store, "export").results)
    exported = export_scan_result_to_cytomining_warehouse(results, warehouse_root, **options)
    exported.warnings += [str(w) for r in results for w in r.warnings]
    return exported


def export_catalog_to_cytomining_warehouse(
    catalog: cat.CatalogLike,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    warehouse_root: PathLike = "warehouse-root",
    *,
    profiles: TableLike | None = None,
    profile_dataset_id: str | None = None,
    alias_map: Aliases = None,
    mode: str = "overwrite",
    include_chunks: bool = True,
    include_other_tables: bool = True,
    how: str = "left",
    profile_level: str | None = None,
    compartment: str | None = None,
    keep_unmatched: bool = False,
) -> ExportResult:
    """Materialise a catalog's image tables (``<namespace>.image_assets`` /
    ``chunk_index``) and, with ``include_other_tables``, its other tables in
    the canonical namespaces (a CytoTable warehouse's ``profiles.joined_profiles``,
    ``images.image_crops``, ``images.source_images``) into a warehouse root."""
    profile_table = as_table(profiles) if profiles is not None else None
    with cat.opened_catalog(catalog) as resolved:
        names = cat.list_catalog_tables(resolved.catalog)
        image_table = f"{namespace}.image_assets"
        assets = (
            cat.catalog_table_to_arrow(resolved.catalog, image_table)
            if image_table in names
            else IMAGE_ASSETS_SCHEMA.empty_table()
        )
        chunks = None
        if include_chunks and f"{namespace}.chunk_index" in names:
            chunks = cat.catalog_table_batches(resolved.catalog, f"{namespace}.chunk_index")
        extra, skipped = [], []
        if image_table not in names:
            skipped.append(f"{image_table} not found in {resolved.description}")
        if include_other_tables:
            own = {image_table, f"{namespace}.chunk_index"}
            for name in names:
                if name in own:
                    continue
                if profile_table is not None and name == spec.CANONICAL_TABLES["joined_profiles"]:
                    skipped.append(f"{name} not exported: the joined profiles given replace it")
                    continue
                write = _catalog_table_write(resolved.catalog, name, mode, resolved.description)
                if write is None:
                    skipped.append(f"{name} not exported: not in a canonical namespace")
                elif (problem := _profile_problem(write)) is not None:
                    skipped.append(f"{name} not exported: {problem}")
                else:
                    extra.append(write)
        if image_table not in names and not extra:
            raise cat.CatalogError(
                f"nothing to export: {image_table} is not in {resolved.description} "
                f"(its tables: {', '.join(names) or 'none'}; --namespace names another)"
            )
        result = exports.export_image_tables(
            assets,
            chunks,
            warehouse_root,
            extra=extra,
            source_ref=f"{resolved.description}:{namespace}",
            profiles=profile_table,
            profile_dataset_id=profile_dataset_id,
            alias_map=resolve_aliases(alias_map),
            mode=mode,
            how=how,
            keep_unmatched=keep_unmatched,
            profile_level=profile_level,
            compartment=compartment,
        )
    result.warnings += skipped
    return result


def _catalog_table_write(catalog: Any, name: str, mode: str, description: str) -> TableWrite | None:
    """A catalog table placed in a warehouse root by its identifier's role; None
    where no rule places it. Read whole: pyiceberg 0.12's batch reader fails on
    the OME-Arrow struct columns CytoTable writes (unsigned 32-bit fields)."""
    role = spec.role_of_catalog_table(name)
    if role is None:
        return None
    data = cat.catalog_table_to_arrow(catalog, name)
    return exports.table_write(
        data,
        table_name=name,
        role=role,
        mode=mode,
        source_type="iceberg",
        source_ref=f"{description}:{name}",
        profile_level=(
            inferred_profile_level(data.column_names) if role in spec.PROFILE_ROLES else None
        ),
    )


def _profile_problem(write: TableWrite) -> str | None:
    """Why a profile table from a catalog cannot go into a warehouse root."""
    if write.role not in spec.PROFILE_ROLES or not isinstance(write.data, pa.Table):
        return None
    return table_problem(write.table_name, write.data, write.profile_level, write.join_keys)


def export_profiles_to_cytomining_warehouse(
    profiles: TableLike,
    warehouse_root: PathLike,
    *,
    table_name: str | None = None,
    profile_dataset_id: str | None = None,
    alias_map: Aliases = None,
    role: str | None = None,
    namespace: str | None = None,
    mode: str = "append",
    profile_level: str | None = None,
    compartment: str | None = None,
    source_ref: str | None = None,
    sqlite_table: str | None = None,
) -> ExportResult:
    """Add a profile table (pycytominer, CytoTable, ...) or a QC table (coSMicQC)
    to a warehouse root, keys resolved through the join contract."""
    data, table_name = named_table(profiles, table_name, sqlite_table=sqlite_table)
    write, notes = exports.profile_table_write(
        data,
        table_name=table_name,
        profile_dataset_id=profile_dataset_id,
        alias_map=resolve_aliases(alias_map),
        role=role,
        namespace=namespace,
        mode=mode,
        profile_level=profile_level,
        compartment=compartment,
        source_ref=source_ref or (None if isinstance(profiles, pa.Table) else os.fspath(profiles)),
    )
    return exports.commit(warehouse_root, [write], warnings=notes)


def export_table_to_cytomining_warehouse(
    table: TableLike,
    warehouse_root: PathLike,
    *,
    table_name: str,
    role: str,
    join_keys: Sequence[str] = (),
    source_type: str | None = None,
    source_ref: str | None = None,
    profile_level: str | None = None,
    compartment: str | None = None,
    namespace: str | None = None,
    mode: str = "append",
    role_description: str | None = None,
) -> ExportResult:
    """Add any table under an explicit role (embeddings, annotations, reports, QC
    summaries, ...); project-specific roles need ``role_description``. Roles
    that may live in several namespaces default to ``embeddings`` (embeddings)
    or ``profiles`` (others) when ``namespace`` is not given, with a warning."""
    notes: list[str] = []
    write = exports.table_write(
        as_table(table),
        table_name=table_name,
        role=role,
        namespace=namespace,
        mode=mode,
        join_keys=join_keys,
        source_type=source_type,
        source_ref=source_ref,
        profile_level=profile_level,
        compartment=compartment,
        role_description=role_description,
        notes=notes,
    )
    return exports.commit(warehouse_root, [write], warnings=notes)
