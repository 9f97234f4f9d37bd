"""A metadata-only HCS plate (no chunk files), written as spec JSON.

384 wells x 9 fields x 4 levels = 3,456 images and 13,824 arrays: the size of a
real high-content screening plate. Writing the JSON directly keeps generation to
seconds; zarr-python reads the result (the benchmark's baseline proves it).
"""

from __future__ import annotations

import json
import string
from pathlib import Path

ROWS = string.ascii_uppercase[:16]
COLUMNS = [str(c) for c in range(1, 25)]


def _dump(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def _multiscales(levels: int, version: str | None) -> list[dict]:
    axes = [
        {"name": "c", "type": "channel"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    datasets = [
        {
            "path": str(i),
            "coordinateTransformations": [
                {"type": "scale", "scale": [1, 0.65 * 2**i, 0.65 * 2**i]}
            ],
        }
        for i in range(levels)
    ]
    entry = {"axes": axes, "datasets": datasets, "name": "image"}
    return [entry | ({"version": version} if version else {})]


def _shape(level: int) -> list[int]:
    return [3, 2160 >> level, 2560 >> level]


def write_plate(root: Path, zarr_format: int, fields: int = 9, levels: int = 4) -> Path:
    wells = [f"{r}/{c}" for r in ROWS for c in COLUMNS]
    plate = {
        "name": "bench-plate",
        "rows": [{"name": r} for r in ROWS],
        "columns": [{"name": c} for c in COLUMNS],
        "wells": [
            {"path": w, "rowIndex": ROWS.index(w[0]), "columnIndex": COLUMNS.index(w[2:])}
            for w in wells
        ],
        "field_count": fields,
    }
    well = {"images": [{"path": str(f)} for f in range(fields)]}
    omero = {"channels": [{"label": n, "color": "FFFFFF"} for n in ("DNA", "ER", "Mito")]}
    if zarr_format == 2:
        group, attrs = {"zarr_format": 2}, ".zattrs"
        _dump(root / ".zgroup", group)
        _dump(root / attrs, {"plate": plate | {"version": "0.4"}})
        for row in ROWS:
            _dump(root / row / ".zgroup", group)
        for w in wells:
            _dump(root / w / ".zgroup", group)
            _dump(root / w / attrs, {"well": well | {"version": "0.4"}})
            for f in range(fields):
                image = root / w / str(f)
                _dump(image / ".zgroup", group)
                _dump(image / attrs, {"multiscales": _multiscales(levels, "0.4"), "omero": omero})
                for level in range(levels):
                    _dump(image / str(level) / ".zarray", _zarray(level))
        return root

    def v3_group(attrs: dict) -> dict:
        return {"zarr_format": 3, "node_type": "group", "attributes": attrs}

    _dump(root / "zarr.json", v3_group({"ome": {"version": "0.5", "plate": plate}}))
    for row in ROWS:
        _dump(root / row / "zarr.json", v3_group({}))
    for w in wells:
        _dump(root / w / "zarr.json", v3_group({"ome": {"version": "0.5", "well": well}}))
        for f in range(fields):
            image = root / w / str(f)
            ome = {"version": "0.5", "multiscales": _multiscales(levels, None), "omero": omero}
            _dump(image / "zarr.json", v3_group({"ome": ome}))
            for level in range(levels):
                _dump(image / str(level) / "zarr.json", _v3_array(level))
    return root


def _zarray(level: int) -> dict:
    return {
        "zarr_format": 2,
        "shape": _shape(level),
        "chunks": [1, 1080, 1280],
        "dtype": "<u2",
        "compressor": {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1, "blocksize": 0},
        "fill_value": 0,
        "filters": None,
        "order": "C",
        "dimension_separator": "/",
    }


def _v3_array(level: int) -> dict:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": _shape(level),
        "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 1080, 1280]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
        ],
        "dimension_names": ["c", "y", "x"],
        "attributes": {},
    }
