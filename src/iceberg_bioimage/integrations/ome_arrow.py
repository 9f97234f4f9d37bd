"""0.1.0's ``integrations.ome_arrow`` module (a re-export)."""

from iceberg_bioimage import (
    create_ome_arrow,
    create_ome_arrow_from_tiff,
    create_ome_arrow_from_zarr,
    open_ome_arrow_dataset,
    scan_ome_arrow,
    write_ome_arrow_dataset,
)

__all__ = [
    "create_ome_arrow",
    "create_ome_arrow_from_tiff",
    "create_ome_arrow_from_zarr",
    "open_ome_arrow_dataset",
    "scan_ome_arrow",
    "write_ome_arrow_dataset",
]
