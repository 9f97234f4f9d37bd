"""0.1.0's ``image_assets`` publishing module (a re-export)."""

from iceberg_bioimage import publish_image_assets
from iceberg_bioimage.compat.helpers import delete_dataset_rows as delete_dataset_image_assets
from iceberg_bioimage.compat.helpers import publish_profile_table, scan_result_to_rows

__all__ = [
    "delete_dataset_image_assets",
    "publish_image_assets",
    "publish_profile_table",
    "scan_result_to_rows",
]
