"""0.1.0's contract validation module (a re-export)."""

from iceberg_bioimage import (
    load_profile_column_aliases,
    validate_microscopy_profile_columns,
    validate_microscopy_profile_table,
    validate_warehouse_manifest,
)
from iceberg_bioimage.compat.helpers import (
    profile_column_aliases,
    raise_for_invalid_scan_result,
    resolve_microscopy_profile_columns,
    validate_scan_result,
)

__all__ = [
    "load_profile_column_aliases",
    "profile_column_aliases",
    "raise_for_invalid_scan_result",
    "resolve_microscopy_profile_columns",
    "validate_microscopy_profile_columns",
    "validate_microscopy_profile_table",
    "validate_scan_result",
    "validate_warehouse_manifest",
]
