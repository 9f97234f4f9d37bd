"""Fixture stores written by third-party writers (ome-zarr-py, zarr-python)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from ome_zarr import format as ome_format
from ome_zarr import writer as ome_writer

FORMATS = {"0.4": ome_format.FormatV04(), "0.5": ome_format.FormatV05()}


def _channel(name: str) -> dict[str, Any]:
    window = {"min": 0, "max": 65535, "start": 0, "end": 65535}
    return {"label": name, "color": "FFFFFF", "window": window, "active": True}


def _group(path: Path, version: str) -> zarr.Group:
    return zarr.open_group(str(path), mode="a", zarr_format=FORMATS[version].zarr_format)


def write_image(
    group: zarr.Group,
    *,
    version: str,
    shape: tuple[int, ...] = (2, 32, 32),
    axes: str = "cyx",
    levels: int = 2,
    channel_names: tuple[str, ...] = ("DAPI", "GFP"),
    pixel_size: float = 0.65,
    label: str | None = None,
) -> None:
    """An OME-NGFF image (optionally with one label image) written by ome-zarr-py."""
    fmt = FORMATS[version]
    data = np.arange(np.prod(shape), dtype="uint16").reshape(shape)
    spatial = {a: pixel_size for a in axes if a in "yx"}
    ome_writer.write_image(
        data,
        group,
        axes=list(axes),
        fmt=fmt,
        scale_factors=[2] * (levels - 1),
        scale=spatial | {a: 1.0 for a in axes if a not in spatial},
        axes_units={a: "micrometer" for a in axes if a in "zyx"},
        storage_options={
            "chunks": tuple(
                min(16, n) if a in "yx" else 1 for a, n in zip(axes, shape, strict=True)
            )
        },
        omero={"channels": [_channel(n) for n in channel_names]},
    )
    if label is not None:
        yx = shape[-2:]
        ome_writer.write_labels(
            (np.arange(np.prod(yx)) % 5).astype("uint32").reshape(yx),
            group,
            name=label,
            fmt=fmt,
            axes=["y", "x"],
            scale_factors=[2] * (levels - 1),
        )


def write_plate(
    path: Path,
    *,
    version: str = "0.4",
    rows: str = "AB",
    columns: tuple[str, ...] = ("1", "2", "3"),
    fields: int = 2,
    name: str | None = "test-plate",
    label_wells: tuple[str, ...] = ("A/1",),
    acquisitions: list[dict[str, Any]] | None = None,
) -> Path:
    """An HCS plate: rows x columns wells, ``fields`` images each, labels where asked."""
    root = _group(path, version)
    wells = [f"{r}/{c}" for r in rows for c in columns]
    ome_writer.write_plate_metadata(
        root,
        list(rows),
        list(columns),
        wells,
        fmt=FORMATS[version],
        name=name,
        acquisitions=acquisitions,
        field_count=fields,
    )
    for well in wells:
        well_group = root.require_group(well)
        ome_writer.write_well_metadata(
            well_group, [str(i) for i in range(fields)], fmt=FORMATS[version]
        )
        for field in range(fields):
            image = well_group.require_group(str(field))
            write_image(
                image,
                version=version,
                label="cells" if (well in label_wells and field == 0) else None,
            )
    return path


def write_single_image(path: Path, *, version: str = "0.5", **kwargs: Any) -> Path:
    write_image(_group(path, version), version=version, **kwargs)
    return path


def write_legacy_image(path: Path, version: str) -> Path:
    """OME-NGFF 0.1 / 0.2 / 0.3 (metadata by the spec, arrays by zarr-python)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    shape = (1, 2, 3, 32, 32)
    for level in range(2):
        root.create_array(
            str(level),
            shape=(*shape[:-2], 32 >> level, 32 >> level),
            chunks=(1, 1, 1, 16, 16),
            dtype="uint8",
            chunk_key_encoding={"name": "v2", "separator": "/" if version == "0.3" else "."},
        )
    multiscale: dict[str, Any] = {"version": version, "datasets": [{"path": "0"}, {"path": "1"}]}
    if version == "0.3":
        multiscale["axes"] = ["t", "c", "z", "y", "x"]
    root.attrs["multiscales"] = [multiscale]
    return path


def write_bioformats2raw(path: Path, series: int = 2) -> Path:
    """bioformats2raw layout: a root marker, an OME group listing series, one image each."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    ome_group = root.require_group("OME")
    ome_group.attrs["series"] = [str(i) for i in range(series)]
    for index in range(series):
        write_image(root.require_group(str(index)), version="0.4", channel_names=(f"ch{index}",))
    return path


def write_sharded_v3(path: Path) -> Path:
    """A plain Zarr v3 sharded array written by zarr-python."""
    array = zarr.create_array(
        str(path),
        shape=(4, 64, 64),
        chunks=(1, 16, 16),
        shards=(2, 32, 32),
        dtype="float32",
        dimension_names=["z", "y", "x"],
        fill_value=float("nan"),
    )
    array[:] = 1.0
    return path


def write_plain_v2_group(path: Path, *, consolidated: bool = False) -> Path:
    """A plain Zarr v2 group with two arrays ('.' and '/' separators)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    dotted = root.create_array("dotted", shape=(10, 10), chunks=(5, 5), dtype="int16")
    dotted[:] = 3
    nested = root.require_group("nested")
    slashed = nested.create_array(
        "slashed",
        shape=(8,),
        chunks=(4,),
        dtype=">f8",
        chunk_key_encoding={"name": "v2", "separator": "/"},
    )
    slashed[:] = 1.5
    slashed.attrs["_ARRAY_DIMENSIONS"] = ["t"]
    if consolidated:
        zarr.consolidate_metadata(str(path), zarr_format=2)
    return path


def consolidate(path: Path) -> Path:
    zarr.consolidate_metadata(str(path))
    return path


def edit_json(path: Path, edit: Any) -> None:
    """Rewrite one metadata document in place."""
    document = json.loads(path.read_text())
    path.write_text(json.dumps(edit(document)))
