"""Catalog-backed metadata joined to analysis rows, queried with DuckDB.

Registers a plate in an Iceberg catalog, joins a CellProfiler-style table to
the catalog's image_assets, exports both to a warehouse root and runs SQL over
it. Needs the duckdb extra. Run: python examples/catalog_duckdb.py [WORKDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import iceberg_bioimage as ib
from iceberg_bioimage.catalog.config import embedded_catalog
from iceberg_bioimage.samples import write_sample_plate, write_sample_profiles

workdir = Path(sys.argv[1] if len(sys.argv) > 1 else "catalog-duckdb").resolve()
plate = write_sample_plate(workdir / "plate.ome.zarr")
profiles = write_sample_profiles(workdir / "cells.csv")
catalog = embedded_catalog(workdir / "catalog")
ib.register_store(plate, catalog)

joined = ib.join_catalog_image_assets_with_profiles(catalog, profiles, profile_dataset_id="plate")
report = joined.report
print(f"joined {report.matched_rows} of {report.profile_rows} rows by {report.strategy}")

root = workdir / "warehouse-root"
ib.export_catalog_to_cytomining_warehouse(
    catalog, "images", root, profiles=profiles, profile_dataset_id="plate"
)
per_well = ib.query_metadata_table(
    root,
    "SELECT a.well_id, count(*) AS cells, round(avg(p.Cells_AreaShape_Area), 1) AS mean_area "
    "FROM profiles.joined_profiles p JOIN images.image_assets a "
    "ON p.Metadata_image_assets_dataset_id = a.dataset_id "
    "AND p.Metadata_image_assets_image_id = a.image_id "
    "GROUP BY a.well_id ORDER BY a.well_id",
)
for row in per_well.to_pylist():
    print(row)
