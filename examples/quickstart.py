"""Quickstart: scan a plate, register it in the embedded catalog, check a profile table.

Run: python examples/quickstart.py [WORKDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import iceberg_bioimage as ib
from iceberg_bioimage.catalog.config import embedded_catalog
from iceberg_bioimage.samples import write_sample_plate, write_sample_profiles

workdir = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart").resolve()
plate = write_sample_plate(workdir / "plate.ome.zarr")
profiles = write_sample_profiles(workdir / "cells.csv")

summary = ib.summarize_store(plate)
print(
    f"{summary.dataset_id}: {summary.image_count} images in {summary.well_count} wells, "
    f"{', '.join(summary.storage_variants)}, channels {', '.join(summary.channel_names)}"
)

catalog = embedded_catalog(workdir / "catalog")  # the default catalog, kept inside workdir
registered = ib.register_store(plate, catalog, publish_chunks=True)
print(f"registered in {registered.catalog}: {registered.rows}")

report = ib.validate_microscopy_profile_table(profiles, profile_dataset_id=summary.dataset_id)
print(
    f"profile table joins by {report.strategy}; keys: "
    + ", ".join(f"{k}={r.column}" for k, r in report.keys.items() if r.column)
)
