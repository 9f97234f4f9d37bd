"""Apache Iceberg catalogs: configuration, publishing, reading."""

from iceberg_bioimage.catalog.config import (
    CatalogError,
    CatalogLike,
    ResolvedCatalog,
    catalog_errors,
    catalog_info,
    opened_catalog,
    resolve_catalog,
)
from iceberg_bioimage.catalog.publish import (
    DatasetConflictError,
    PublishReport,
    dataset_ids_for_uri,
    deregister_datasets,
    publish_chunk_index,
    publish_image_assets,
    publish_profile_table,
)
from iceberg_bioimage.catalog.read import (
    catalog_table_batches,
    catalog_table_to_arrow,
    list_catalog_tables,
    load_catalog_table,
    table_history,
)

__all__ = [
    "CatalogError",
    "CatalogLike",
    "DatasetConflictError",
    "PublishReport",
    "ResolvedCatalog",
    "catalog_errors",
    "catalog_info",
    "catalog_table_batches",
    "catalog_table_to_arrow",
    "dataset_ids_for_uri",
    "deregister_datasets",
    "list_catalog_tables",
    "load_catalog_table",
    "opened_catalog",
    "publish_chunk_index",
    "publish_image_assets",
    "publish_profile_table",
    "resolve_catalog",
    "table_history",
]
