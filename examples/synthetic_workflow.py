"""A self-contained workflow on synthetic data: OME-Zarr plate + OME-TIFF ->
chunk index -> joined profiles -> validated Cytomining warehouse.

Run: python examples/synthetic_workflow.py [WORKDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import iceberg_bioimage as ib
from iceberg_bioimage.samples import (
    write_sample_ome_tiff,
    write_sample_plate,
    write_sample_profiles,
)

workdir = Path(sys.argv[1] if len(sys.argv) > 1 else "synthetic-workflow").resolve()
plate = ib.scan_store(write_sample_plate(workdir / "plate.ome.zarr"))
tiff = ib.scan_store(write_sample_ome_tiff(workdir / "image.ome.tiff"))
profiles = write_sample_profiles(workdir / "cells.csv")

chunks = ib.chunk_index_table(plate)
print(
    f"{plate.dataset_id}: {len(plate.image_assets)} images, {chunks.num_rows} chunks, "
    f"{sum(chunks.column('byte_length').to_pylist())} bytes stored"
)
print(
    f"{tiff.dataset_id}: {tiff.image_assets[0].shape} {tiff.image_assets[0].axes_order}, "
    f"{len(tiff.image_assets[0].levels)} levels"
)

root = workdir / "warehouse-root"
result = ib.export_scan_result_to_cytomining_warehouse(
    [plate, tiff], root, profiles=profiles, profile_dataset_id=plate.dataset_id
)
print(result.tables)
report = ib.validate_warehouse(root)
print("warehouse conforms" if report.valid else [str(f) for f in report.errors])
sys.exit(0 if report.valid else 1)
