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

from iceberg_bioimage.api.catalog import (
    CompactReport,
    RegisterResult,
    catalog_info,
    catalog_table_history,
    catalog_table_to_arrow,
    compact_catalog_table,
    deregister_store,
    ingest_scan_results_to_catalog,
    ingest_scan_results_to_warehouse,
    ingest_stores_to_catalog,
    ingest_stores_to_warehouse,
    list_catalog_tables,
    load_catalog_table,
    publish_chunk_index,
    publish_image_assets,
    register_directory,
    register_profile_table,
    register_store,
    resolve_catalog,
)
from iceberg_bioimage.api.demo import run_demo
from iceberg_bioimage.api.pixels import (
    CropArrays,
    CropReport,
    available_backends,
    export_crops_to_cytomining_warehouse,
    export_source_images_to_cytomining_warehouse,
    image_crops,
    publish_crops_to_catalog,
    publish_source_images_to_catalog,
    read_crops,
    source_images,
)
from iceberg_bioimage.api.profiles import (
    join_catalog_image_assets_with_profiles,
    join_image_assets_with_profiles,
    join_profiles_with_scan_result,
    join_profiles_with_store,
    validate_microscopy_profile_table,
)
from iceberg_bioimage.api.report import ReportResult, write_report
from iceberg_bioimage.api.scan import (
    chunk_index_table,
    scan_as_arrow_table,
    summarize_scan_result,
    summarize_store,
    write_image_assets_parquet,
)
from iceberg_bioimage.api.warehouse import (
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
from iceberg_bioimage.profiles.io import read_profile_table
from iceberg_bioimage.profiles.join import join_profiles_with_chunk_index
from iceberg_bioimage.profiles.validate import validate_microscopy_profile_columns
from iceberg_bioimage.scan import scan_directory, scan_paths, scan_store
from iceberg_bioimage.tables import (
    image_assets_table,
    scan_result_as_arrow_table,
    write_table_parquet,
)
from iceberg_bioimage.warehouse import (
    load_warehouse_manifest,
    open_warehouse,
    validate_warehouse,
)
from iceberg_bioimage.warehouse.exports import ExportResult

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
