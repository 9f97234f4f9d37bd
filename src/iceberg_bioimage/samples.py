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
