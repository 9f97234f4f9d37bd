"""0.1.0's integrations package (a re-export; see :mod:`iceberg_bioimage.compat`)."""

from iceberg_bioimage import (
    CatalogScanOptions,
    catalog_table_to_arrow,
    create_duckdb_connection,
    create_ome_arrow,
    export_catalog_to_cytomining_warehouse,
    export_profiles_to_cytomining_warehouse,
    export_scan_result_to_cytomining_warehouse,
    export_store_to_cytomining_warehouse,
    export_table_to_cytomining_warehouse,
    join_catalog_image_assets_with_profiles,
    join_image_assets_with_profiles,
    list_catalog_tables,
    load_catalog_table,
    load_warehouse_manifest,
    query_metadata_table,
    scan_ome_arrow,
)

__all__ = [
    "CatalogScanOptions",
    "catalog_table_to_arrow",
    "create_duckdb_connection",
    "create_ome_arrow",
    "export_catalog_to_cytomining_warehouse",
    "export_profiles_to_cytomining_warehouse",
    "export_scan_result_to_cytomining_warehouse",
    "export_store_to_cytomining_warehouse",
    "export_table_to_cytomining_warehouse",
    "join_catalog_image_assets_with_profiles",
    "join_image_assets_with_profiles",
    "list_catalog_tables",
    "load_catalog_table",
    "load_warehouse_manifest",
    "query_metadata_table",
    "scan_ome_arrow",
]
