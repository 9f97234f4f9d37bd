"""The public functions: each a short composition of the layers below."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage.api_catalog import (
    RegisterResult,
    catalog_table_history,
    catalog_table_to_arrow,
    deregister_store,
    ingest_scan_results_to_warehouse,
    ingest_stores_to_warehouse,
    list_catalog_tables,
    load_catalog_table,
    publish_chunk_index,
    publish_image_assets,
    register_directory,
    register_profile_table,
    register_store,
)
from iceberg_bioimage.api_profiles import (
    join_catalog_image_assets_with_profiles,
    join_image_assets_with_profiles,
    join_profiles_with_scan_result,
    join_profiles_with_store,
    validate_microscopy_profile_table,
)
from iceberg_bioimage.api_warehouse import (
    export_catalog_to_cytomining_warehouse,
    export_profiles_to_cytomining_warehouse,
    export_scan_result_to_cytomining_warehouse,
    export_store_to_cytomining_warehouse,
    export_table_to_cytomining_warehouse,
)
from iceberg_bioimage.chunks import scan_result_to_chunk_index, write_chunk_index_parquet
from iceberg_bioimage.duckdb_views import (
    attach_warehouse,
    create_duckdb_connection,
    query_metadata_table,
)
from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.models import DatasetSummary, DirectoryScan, ScanResult
from iceberg_bioimage.ome_arrow import (
    create_ome_arrow,
    ome_arrow_from_ome_zarr,
    ome_arrow_from_tiff,
    ome_arrow_to_numpy,
    read_ome_arrow_dataset,
    scan_ome_arrow,
    write_ome_arrow_dataset,
)
from iceberg_bioimage.profiles.contract import load_profile_column_aliases
from iceberg_bioimage.profiles.join import join_profiles_with_chunk_index
from iceberg_bioimage.profiles.validate import validate_microscopy_profile_columns
from iceberg_bioimage.samples import write_sample_plate
from iceberg_bioimage.scan import scan_directory, scan_paths, scan_store
from iceberg_bioimage.tables import image_assets_table, scan_result_as_arrow_table
from iceberg_bioimage.warehouse import (
    load_warehouse_manifest,
    open_warehouse,
    validate_warehouse,
)
from iceberg_bioimage.warehouse.exports import ExportResult

# The public functions; the package re-exports exactly these.
__all__ = [
    "ExportResult",
    "RegisterResult",
    "attach_warehouse",
    "catalog_table_history",
    "catalog_table_to_arrow",
    "chunk_index_table",
    "create_duckdb_connection",
    "create_ome_arrow",
    "deregister_store",
    "export_catalog_to_cytomining_warehouse",
    "export_profiles_to_cytomining_warehouse",
    "export_scan_result_to_cytomining_warehouse",
    "export_store_to_cytomining_warehouse",
    "export_table_to_cytomining_warehouse",
    "image_assets_table",
    "ingest_scan_results_to_warehouse",
    "ingest_stores_to_warehouse",
    "join_catalog_image_assets_with_profiles",
    "join_image_assets_with_profiles",
    "join_profiles_with_chunk_index",
    "join_profiles_with_scan_result",
    "join_profiles_with_store",
    "list_catalog_tables",
    "load_catalog_table",
    "load_profile_column_aliases",
    "load_warehouse_manifest",
    "ome_arrow_from_ome_zarr",
    "ome_arrow_from_tiff",
    "ome_arrow_to_numpy",
    "open_warehouse",
    "publish_chunk_index",
    "publish_image_assets",
    "query_metadata_table",
    "read_ome_arrow_dataset",
    "register_directory",
    "register_profile_table",
    "register_store",
    "run_demo",
    "scan_as_arrow_table",
    "scan_directory",
    "scan_ome_arrow",
    "scan_paths",
    "scan_result_as_arrow_table",
    "scan_result_to_chunk_index",
    "scan_store",
    "summarize_scan_result",
    "summarize_store",
    "validate_microscopy_profile_columns",
    "validate_microscopy_profile_table",
    "validate_warehouse",
    "write_chunk_index_parquet",
    "write_image_assets_parquet",
    "write_ome_arrow_dataset",
]


def summarize_scan_result(result: ScanResult) -> DatasetSummary:
    """A compact description of a scan: variants, plates, shapes, axes, warnings."""
    return DatasetSummary.from_scan_result(result)


def summarize_store(
    uri: str | os.PathLike[str], *, dataset_id: str | None = None
) -> DatasetSummary:
    """Scan a store and summarise it."""
    return summarize_scan_result(scan_store(uri, dataset_id=dataset_id))


def scan_as_arrow_table(uri: str | os.PathLike[str], *, dataset_id: str | None = None) -> pa.Table:
    """Scan a store and return its canonical ``image_assets`` table."""
    return scan_result_as_arrow_table(scan_store(uri, dataset_id=dataset_id))


def run_demo(workdir: str | os.PathLike[str]) -> dict[str, Any]:
    """The whole job on generated data, with nothing to configure.

    Writes an OME-Zarr 0.5 HCS plate (zarr-python), an OME-TIFF (tifffile) and
    a CellProfiler-style profile table; registers both image datasets (with
    their chunk index) in an embedded Iceberg catalog inside ``workdir``;
    exports a Cytomining warehouse root with the profiles joined to the plate;
    and validates it. Running it again replaces everything in place.
    """
    from iceberg_bioimage.catalog.config import embedded_catalog
    from iceberg_bioimage.samples import write_sample_ome_tiff, write_sample_profiles

    root = Path(workdir).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    plate = write_sample_plate(root / "demo-plate.ome.zarr")
    image = write_sample_ome_tiff(root / "demo-image.ome.tiff")
    profiles = write_sample_profiles(root / "cells.csv")
    results = [scan_store(plate), scan_store(image)]
    catalog = embedded_catalog(root / "catalog")
    registered = ingest_scan_results_to_warehouse(results, catalog, publish_chunks=True)
    warehouse = root / "warehouse-root"
    exported = export_scan_result_to_cytomining_warehouse(
        results, warehouse, profiles=profiles, profile_dataset_id=results[0].dataset_id
    )
    validation = validate_warehouse(warehouse)
    return {
        "workdir": str(root),
        "images": {"demo-plate": str(plate), "demo-image": str(image)},
        "profiles": str(profiles),
        "catalog": registered.catalog,
        "catalog_rows": registered.rows,
        "warehouse_root": str(warehouse),
        "warehouse_tables": exported.tables,
        "join": exported.join.to_dict() if exported.join else None,
        "valid": validation.valid,
        "findings": [str(f) for f in validation.findings],
        "summary": summarize_scan_result(results[0]).to_dict(),
    }


def write_image_assets_parquet(
    results: ScanResult | DirectoryScan | Iterable[ScanResult],
    path: str | os.PathLike[str],
) -> Path:
    """Write the ``image_assets`` rows of scan results to one Parquet file, atomically."""
    if isinstance(results, DirectoryScan):
        results = results.results
    table = scan_result_as_arrow_table(results)
    return write_atomically(path, lambda staging: pq.write_table(table, staging))


def chunk_index_table(
    result: ScanResult, *, stat: bool = True, byte_ranges: bool = False
) -> pa.Table:
    """The whole ``chunk_index`` of one scan as a table (for small stores; large
    ones should stream :func:`scan_result_to_chunk_index` batches)."""
    from iceberg_bioimage.schema import CHUNK_INDEX_SCHEMA

    batches = scan_result_to_chunk_index(result, stat=stat, byte_ranges=byte_ranges)
    return pa.Table.from_batches(list(batches), schema=CHUNK_INDEX_SCHEMA)
