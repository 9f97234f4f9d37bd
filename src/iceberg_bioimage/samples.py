"""Small synthetic sample data for the demo, written with zarr-python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DEMO_ROWS = ("A", "B")
DEMO_COLUMNS = ("1", "2", "3")
DEMO_FIELDS = 2
DEMO_CHANNELS = ("DNA", "Mito")


def write_sample_plate(
    path: str | Path,
    *,
    name: str = "demo-plate",
    rows: tuple[str, ...] = DEMO_ROWS,
    columns: tuple[str, ...] = DEMO_COLUMNS,
    fields: int = DEMO_FIELDS,
    size: int = 64,
) -> Path:
    """An OME-Zarr 0.5 HCS plate: ``rows x columns`` wells, ``fields`` sites, 2 levels."""
    import zarr

    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    wells = [f"{r}/{c}" for r in rows for c in columns]
    root.attrs["ome"] = {
        "version": "0.5",
        "plate": {
            "name": name,
            "rows": [{"name": r} for r in rows],
            "columns": [{"name": c} for c in columns],
            "wells": [
                {"path": w, "rowIndex": rows.index(w[0]), "columnIndex": columns.index(w[2:])}
                for w in wells
            ],
            "field_count": fields,
        },
    }
    rng = np.random.default_rng(0)
    for well in wells:
        well_group = root.require_group(well)
        images = [{"path": str(f)} for f in range(fields)]
        well_group.attrs["ome"] = {"version": "0.5", "well": {"images": images}}
        for field in range(fields):
            image = well_group.require_group(str(field))
            image.attrs["ome"] = _image_metadata()
            data = rng.integers(0, 4096, (len(DEMO_CHANNELS), size, size), dtype="uint16")
            for level in range(2):
                step = 2**level
                image.create_array(
                    f"s{level}",
                    data=data[:, ::step, ::step],
                    chunks=(1, size // 2, size // 2),
                    dimension_names=["c", "y", "x"],
                )
    return Path(path)


def _image_metadata() -> dict[str, Any]:
    datasets = [
        {
            "path": f"s{level}",
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 0.65 * 2**level, 0.65 * 2**level]}
            ],
        }
        for level in range(2)
    ]
    window = {"min": 0, "max": 4095, "start": 0, "end": 4095}
    return {
        "version": "0.5",
        "multiscales": [
            {
                "name": "field",
                "axes": [
                    {"name": "c", "type": "channel"},
                    {"name": "y", "type": "space", "unit": "micrometer"},
                    {"name": "x", "type": "space", "unit": "micrometer"},
                ],
                "datasets": datasets,
            }
        ],
        "omero": {
            "channels": [
                {"label": n, "color": "FFFFFF", "window": window, "active": True}
                for n in DEMO_CHANNELS
            ]
        },
    }


def write_sample_ome_tiff(path: str | Path, *, size: int = 64) -> Path:
    """A tiled two-channel OME-TIFF with one SubIFD pyramid level, by tifffile."""
    import tifffile

    rng = np.random.default_rng(1)
    data = rng.integers(0, 4096, (len(DEMO_CHANNELS), size, size), dtype="uint16")
    metadata = {
        "axes": "CYX",
        "Name": "demo-image",
        "PhysicalSizeX": 0.65,
        "PhysicalSizeY": 0.65,
        "Channel": {"Name": list(DEMO_CHANNELS)},
    }
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(data, subifds=1, tile=(32, 32), metadata=metadata)
        tif.write(data[:, ::2, ::2], subfiletype=1, tile=(32, 32), metadata=None)
    return Path(path)


def write_sample_profiles(path: str | Path, *, plate: str = "demo-plate", objects: int = 3) -> Path:
    """A CellProfiler-style per-object table for the sample plate: wells written
    ``A1``, sites numbered from 1, as CellProfiler exports them."""
    import pyarrow as pa
    from pyarrow import csv

    rng = np.random.default_rng(2)
    rows = [
        (row, int(column), site, number)
        for row in DEMO_ROWS
        for column in DEMO_COLUMNS
        for site in range(1, DEMO_FIELDS + 1)
        for number in range(1, objects + 1)
    ]
    table = pa.table(
        {
            "Metadata_Plate": [plate] * len(rows),
            "Metadata_Well": [f"{r}{c}" for r, c, _, _ in rows],
            "Metadata_Site": [s for _, _, s, _ in rows],
            "ObjectNumber": [n for _, _, _, n in rows],
            "Cells_AreaShape_Area": rng.uniform(50, 500, len(rows)).round(1),
            "Cells_Intensity_MeanIntensity_DNA": rng.uniform(0, 1, len(rows)).round(4),
        }
    )
    csv.write_csv(table, path)
    return Path(path)
