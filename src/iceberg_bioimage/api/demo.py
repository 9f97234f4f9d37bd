"""The whole job on generated data, with nothing to configure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from iceberg_bioimage.catalog.config import embedded_catalog
from iceberg_bioimage.catalog.register import ingest_scan_results_to_catalog
from iceberg_bioimage.models import DatasetSummary
from iceberg_bioimage.profiles.io import read_profile_table
from iceberg_bioimage.samples import (
    write_sample_ome_tiff,
    write_sample_plate,
    write_sample_profiles,
)
from iceberg_bioimage.scan import scan_store
from iceberg_bioimage.warehouse.exports import export_scan_results
from iceberg_bioimage.warehouse.validate import validate_warehouse


def run_demo(workdir: str | os.PathLike[str]) -> dict[str, Any]:
    """Writes an OME-Zarr 0.5 HCS plate (zarr-python), an OME-TIFF (tifffile) and
    a CellProfiler-style profile table; registers both image datasets (with
    their chunk index) in an embedded Iceberg catalog inside ``workdir``;
    exports a Cytomining warehouse root with the profiles joined to the plate;
    and validates it. Running it again replaces everything in place.
    """
    root = Path(workdir).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    plate = write_sample_plate(root / "demo-plate.ome.zarr")
    image = write_sample_ome_tiff(root / "demo-image.ome.tiff")
    profiles = write_sample_profiles(root / "cells.csv")
    results = [scan_store(plate), scan_store(image)]
    registered = ingest_scan_results_to_catalog(
        results, embedded_catalog(root / "catalog"), publish_chunks=True
    )
    warehouse = root / "warehouse-root"
    exported = export_scan_results(
        results,
        warehouse,
        profiles=read_profile_table(profiles),
        profile_dataset_id=results[0].dataset_id,
    )
    validation = validate_warehouse(warehouse)
    return {
        "workdir": str(root),
        "images": {"demo-plate": str(plate), "demo-image": str(image)},
        "profiles": str(profiles),
        "catalog": registered.catalog,
        "catalog_rows": registered.rows,
        "warehouse_root": str(warehouse),
        "warehouse_tables": exported.tables,
        "join": exported.join.to_dict() if exported.join else None,
        "valid": validation.valid,
        "findings": [str(f) for f in validation.findings],
        "summary": DatasetSummary.from_scan_result(results[0]).to_dict(),
    }
