"""iceberg-bioimage: bioimaging stores as queryable, joinable tables."""

from iceberg_bioimage.scan import scan_store

__all__ = ["scan_store"]
__version__ = "0.2.0.dev0"
