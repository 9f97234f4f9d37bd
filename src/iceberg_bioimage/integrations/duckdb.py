"""0.1.0's ``integrations.duckdb`` module (a re-export)."""

from iceberg_bioimage import (
    create_duckdb_connection,
    join_image_assets_with_profiles,
    query_metadata_table,
)

__all__ = [
    "create_duckdb_connection",
    "join_image_assets_with_profiles",
    "query_metadata_table",
]
