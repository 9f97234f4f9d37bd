"""The public functions, one module per job, each a short composition of the
layers below; ``import iceberg_bioimage as ib`` re-exports exactly ``__all__``.

- ``scan``: stores to scan results, summaries, ``image_assets`` / ``chunk_index`` tables
- ``catalog``: Apache Iceberg catalogs (register, ingest, publish, read)
- ``profiles``: the join contract and joins of profile tables to images
- ``warehouse``: Cytomining warehouse roots (export, open, validate)
- ``pixels``: crops and source images as OME-Arrow, through pluggable array backends
- ``report``: one self-contained HTML page of a screen
- ``demo``: the whole job on generated data

No module here imports another one: what they share lives in the layers below.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module that defines it. Modules are imported on
# first use, so a command pays only for what it calls (``scan`` never loads
# pyiceberg, DuckDB or the pixel backends).
_SOURCES = {
    "CompactReport": "iceberg_bioimage.api.catalog",
    "RegisterResult": "iceberg_bioimage.api.catalog",
    "catalog_info": "iceberg_bioimage.api.catalog",
    "catalog_table_history": "iceberg_bioimage.api.catalog",
    "catalog_table_to_arrow": "iceberg_bioimage.api.catalog",
    "compact_catalog_table": "iceberg_bioimage.api.catalog",
    "deregister_store": "iceberg_bioimage.api.catalog",
    "ingest_scan_results_to_catalog": "iceberg_bioimage.api.catalog",
    "ingest_scan_results_to_warehouse": "iceberg_bioimage.api.catalog",
    "ingest_stores_to_catalog": "iceberg_bioimage.api.catalog",
    "ingest_stores_to_warehouse": "iceberg_bioimage.api.catalog",
    "list_catalog_tables": "iceberg_bioimage.api.catalog",
    "load_catalog_table": "iceberg_bioimage.api.catalog",
    "publish_chunk_index": "iceberg_bioimage.api.catalog",
    "publish_image_assets": "iceberg_bioimage.api.catalog",
    "register_directory": "iceberg_bioimage.api.catalog",
    "register_profile_table": "iceberg_bioimage.api.catalog",
    "register_store": "iceberg_bioimage.api.catalog",
    "resolve_catalog": "iceberg_bioimage.api.catalog",
    "run_demo": "iceberg_bioimage.api.demo",
    "CropArrays": "iceberg_bioimage.api.pixels",
    "CropReport": "iceberg_bioimage.api.pixels",
    "available_backends": "iceberg_bioimage.api.pixels",
    "export_crops_to_cytomining_warehouse": "iceberg_bioimage.api.pixels",
    "export_source_images_to_cytomining_warehouse": "iceberg_bioimage.api.pixels",
    "image_crops": "iceberg_bioimage.api.pixels",
    "publish_crops_to_catalog": "iceberg_bioimage.api.pixels",
    "publish_source_images_to_catalog": "iceberg_bioimage.api.pixels",
    "read_crops": "iceberg_bioimage.api.pixels",
    "source_images": "iceberg_bioimage.api.pixels",
    "join_catalog_image_assets_with_profiles": "iceberg_bioimage.api.profiles",
    "join_image_assets_with_profiles": "iceberg_bioimage.api.profiles",
    "join_profiles_with_scan_result": "iceberg_bioimage.api.profiles",
    "join_profiles_with_store": "iceberg_bioimage.api.profiles",
    "validate_microscopy_profile_table": "iceberg_bioimage.api.profiles",
    "ReportResult": "iceberg_bioimage.api.report",
    "write_report": "iceberg_bioimage.api.report",
    "chunk_index_table": "iceberg_bioimage.api.scan",
    "scan_as_arrow_table": "iceberg_bioimage.api.scan",
    "summarize_scan_result": "iceberg_bioimage.api.scan",
    "summarize_store": "iceberg_bioimage.api.scan",
    "write_image_assets_parquet": "iceberg_bioimage.api.scan",
    "export_catalog_to_cytomining_warehouse": "iceberg_bioimage.api.warehouse",
    "export_profiles_to_cytomining_warehouse": "iceberg_bioimage.api.warehouse",
    "export_scan_result_to_cytomining_warehouse": "iceberg_bioimage.api.warehouse",
    "export_store_to_cytomining_warehouse": "iceberg_bioimage.api.warehouse",
    "export_table_to_cytomining_warehouse": "iceberg_bioimage.api.warehouse",
    "scan_result_to_chunk_index": "iceberg_bioimage.chunks",
    "write_chunk_index_parquet": "iceberg_bioimage.chunks",
    "attach_warehouse": "iceberg_bioimage.duckdb_views",
    "create_duckdb_connection": "iceberg_bioimage.duckdb_views",
    "query_metadata_table": "iceberg_bioimage.duckdb_views",
    "create_ome_arrow": "iceberg_bioimage.ome_arrow",
    "ome_arrow_from_ome_zarr": "iceberg_bioimage.ome_arrow",
    "ome_arrow_from_tiff": "iceberg_bioimage.ome_arrow",
    "ome_arrow_to_numpy": "iceberg_bioimage.ome_arrow",
    "read_ome_arrow_dataset": "iceberg_bioimage.ome_arrow",
    "scan_ome_arrow": "iceberg_bioimage.ome_arrow",
    "write_ome_arrow_dataset": "iceberg_bioimage.ome_arrow",
    "load_profile_column_aliases": "iceberg_bioimage.profiles.contract",
    "read_profile_table": "iceberg_bioimage.profiles.io",
    "join_profiles_with_chunk_index": "iceberg_bioimage.profiles.join",
    "validate_microscopy_profile_columns": "iceberg_bioimage.profiles.validate",
    "scan_directory": "iceberg_bioimage.scan",
    "scan_paths": "iceberg_bioimage.scan",
    "scan_store": "iceberg_bioimage.scan",
    "image_assets_table": "iceberg_bioimage.tables",
    "scan_result_as_arrow_table": "iceberg_bioimage.tables",
    "write_table_parquet": "iceberg_bioimage.tables",
    "load_warehouse_manifest": "iceberg_bioimage.warehouse",
    "open_warehouse": "iceberg_bioimage.warehouse",
    "validate_warehouse": "iceberg_bioimage.warehouse",
    "ExportResult": "iceberg_bioimage.warehouse.exports",
}


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


__all__ = [
    "CompactReport",
    "CropArrays",
    "CropReport",
    "ExportResult",
    "RegisterResult",
    "ReportResult",
    "attach_warehouse",
    "available_backends",
    "catalog_info",
    "catalog_table_history",
    "catalog_table_to_arrow",
    "chunk_index_table",
    "compact_catalog_table",
    "create_duckdb_connection",
    "create_ome_arrow",
    "deregister_store",
    "export_catalog_to_cytomining_warehouse",
    "export_crops_to_cytomining_warehouse",
    "export_profiles_to_cytomining_warehouse",
    "export_scan_result_to_cytomining_warehouse",
    "export_source_images_to_cytomining_warehouse",
    "export_store_to_cytomining_warehouse",
    "export_table_to_cytomining_warehouse",
    "image_assets_table",
    "image_crops",
    "ingest_scan_results_to_catalog",
    "ingest_scan_results_to_warehouse",
    "ingest_stores_to_catalog",
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
    "publish_crops_to_catalog",
    "publish_image_assets",
    "publish_source_images_to_catalog",
    "query_metadata_table",
    "read_crops",
    "read_ome_arrow_dataset",
    "read_profile_table",
    "register_directory",
    "register_profile_table",
    "register_store",
    "resolve_catalog",
    "run_demo",
    "scan_as_arrow_table",
    "scan_directory",
    "scan_ome_arrow",
    "scan_paths",
    "scan_result_as_arrow_table",
    "scan_result_to_chunk_index",
    "scan_store",
    "source_images",
    "summarize_scan_result",
    "summarize_store",
    "validate_microscopy_profile_columns",
    "validate_microscopy_profile_table",
    "validate_warehouse",
    "write_chunk_index_parquet",
    "write_image_assets_parquet",
    "write_ome_arrow_dataset",
    "write_report",
    "write_table_parquet",
]
