"""0.1.0's module of result classes (a re-export; see :mod:`iceberg_bioimage.compat`)."""

from iceberg_bioimage import (
    ContractValidationResult,
    CytominingWarehouseResult,
    DatasetSummary,
    ImageAsset,
    RegistrationResult,
    ScanResult,
    WarehouseIngestResult,
    WarehouseManifest,
    WarehouseTableManifestEntry,
    WarehouseValidationResult,
)

__all__ = [
    "ContractValidationResult",
    "CytominingWarehouseResult",
    "DatasetSummary",
    "ImageAsset",
    "RegistrationResult",
    "ScanResult",
    "WarehouseIngestResult",
    "WarehouseManifest",
    "WarehouseTableManifestEntry",
    "WarehouseValidationResult",
]
