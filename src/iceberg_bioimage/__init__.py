"""iceberg-bioimage: bioimaging stores as queryable, joinable tables.

``import iceberg_bioimage as ib`` gives the whole public API.
"""

from iceberg_bioimage.api import (
    run_demo,
    scan_as_arrow_table,
    scan_directory,
    scan_paths,
    scan_result_as_arrow_table,
    scan_store,
    summarize_scan_result,
    summarize_store,
    write_image_assets_parquet,
)
from iceberg_bioimage.errors import (
    EmptyStoreError,
    IcebergBioimageError,
    InputError,
    StoreNotFoundError,
    UnsupportedStoreError,
)
from iceberg_bioimage.models import (
    Axis,
    DatasetSummary,
    DirectoryScan,
    ImageAsset,
    ImageLevel,
    PhysicalSize,
    ScanResult,
    ScanWarning,
)
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA, SCHEMA_VERSION
from iceberg_bioimage.tables import image_assets_table

__version__ = "0.2.0.dev0"

__all__ = [
    "IMAGE_ASSETS_SCHEMA",
    "SCHEMA_VERSION",
    "Axis",
    "DatasetSummary",
    "DirectoryScan",
    "EmptyStoreError",
    "IcebergBioimageError",
    "ImageAsset",
    "ImageLevel",
    "InputError",
    "PhysicalSize",
    "ScanResult",
    "ScanWarning",
    "StoreNotFoundError",
    "UnsupportedStoreError",
    "image_assets_table",
    "run_demo",
    "scan_as_arrow_table",
    "scan_directory",
    "scan_paths",
    "scan_result_as_arrow_table",
    "scan_store",
    "summarize_scan_result",
    "summarize_store",
    "write_image_assets_parquet",
]
