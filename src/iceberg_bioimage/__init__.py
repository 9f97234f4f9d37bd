"""iceberg-bioimage: bioimaging stores as queryable, joinable tables.

``import iceberg_bioimage as ib`` gives the whole public API.
"""

from iceberg_bioimage import api
from iceberg_bioimage._version import __version__
from iceberg_bioimage.api import *  # noqa: F403  (the public functions, listed in api.__all__)
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

__all__ = [
    *api.__all__,
    "__version__",
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
]
