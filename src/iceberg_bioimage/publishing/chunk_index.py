"""0.1.0's ``chunk_index`` publishing module (a re-export)."""

from iceberg_bioimage import publish_chunk_index
from iceberg_bioimage.compat.helpers import delete_dataset_rows as delete_dataset_chunk_index
from iceberg_bioimage.compat.helpers import scan_result_to_chunk_rows

__all__ = ["delete_dataset_chunk_index", "publish_chunk_index", "scan_result_to_chunk_rows"]
