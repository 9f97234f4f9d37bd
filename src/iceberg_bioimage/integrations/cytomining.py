"""0.1.0's ``integrations.cytomining`` module (a re-export)."""

from iceberg_bioimage import (
    export_catalog_to_cytomining_warehouse,
    export_profiles_to_cytomining_warehouse,
    export_scan_result_to_cytomining_warehouse,
    export_store_to_cytomining_warehouse,
    export_table_to_cytomining_warehouse,
    load_warehouse_manifest,
)

__all__ = [
    "export_catalog_to_cytomining_warehouse",
    "export_profiles_to_cytomining_warehouse",
    "export_scan_result_to_cytomining_warehouse",
    "export_store_to_cytomining_warehouse",
    "export_table_to_cytomining_warehouse",
    "load_warehouse_manifest",
]
