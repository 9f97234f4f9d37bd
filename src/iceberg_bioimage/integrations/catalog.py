"""0.1.0's ``integrations.catalog`` module (a re-export)."""

from iceberg_bioimage import (
    CatalogScanOptions,
    catalog_table_to_arrow,
    join_catalog_image_assets_with_profiles,
    list_catalog_tables,
    load_catalog_table,
)

__all__ = [
    "CatalogScanOptions",
    "catalog_table_to_arrow",
    "join_catalog_image_assets_with_profiles",
    "list_catalog_tables",
    "load_catalog_table",
]
