"""0.1.0's publishing package (a re-export; see :mod:`iceberg_bioimage.compat`)."""

from iceberg_bioimage import publish_chunk_index, publish_image_assets
from iceberg_bioimage.compat.helpers import scan_result_to_chunk_rows, scan_result_to_rows

__all__ = [
    "publish_chunk_index",
    "publish_image_assets",
    "scan_result_to_chunk_rows",
    "scan_result_to_rows",
]
