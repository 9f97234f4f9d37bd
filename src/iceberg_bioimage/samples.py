"""Synthetic sample data: the demo's plate (zarr-python), OME-TIFF (tifffile)
and profile table, and metadata-only screen plates for the benchmarks, all
from one set of OME-NGFF document builders."""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
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
    wells = well_paths(rows, columns)
    root.attrs["ome"] = {"version": "0.5", "plate": plate_document(name, rows, columns, fields)}
    rng = np.random.default_rng(0)
    for well in wells:
        well_group = root.require_group(well)
        images = [{"path": str(f)} for f in range(fields)]
        well_group.attrs["ome"] = {"version": "0.5", "well": {"images": images}}
        for field in range(fields):
            image = well_group.require_group(str(field))
            image.attrs["ome"] = {
                "version": "0.5",
                "multiscales": multiscales(2),
                "omero": omero(DEMO_CHANNELS),
            }
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


# -- OME-NGFF documents, shared by the demo plate and the benchmark plates -------
def well_paths(rows: Sequence[str], columns: Sequence[str]) -> list[str]:
    return [f"{r}/{c}" for r in rows for c in columns]


def plate_document(
    name: str, rows: Sequence[str], columns: Sequence[str], fields: int
) -> dict[str, Any]:
    """The ``plate`` attributes of an HCS plate with every well present."""
    return {
        "name": name,
        "rows": [{"name": r} for r in rows],
        "columns": [{"name": c} for c in columns],
        "wells": [
            {"path": f"{r}/{c}", "rowIndex": row, "columnIndex": column}
            for row, r in enumerate(rows)
            for column, c in enumerate(columns)
        ],
        "field_count": fields,
    }


def multiscales(
    levels: int, *, prefix: str = "s", name: str = "field", version: str | None = None
) -> list[dict[str, Any]]:
    """One ``c, y, x`` multiscale, each level half the size of the one before."""
    datasets = [
        {
            "path": f"{prefix}{level}",
            "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 0.65 * 2**level, 0.65 * 2**level]}
            ],
        }
        for level in range(levels)
    ]
    entry = {
        "name": name,
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": datasets,
    }
    return [entry | ({"version": version} if version else {})]


def omero(channels: Sequence[str]) -> dict[str, Any]:
    """Channel names and (as the NGFF schema requires) display windows."""
    window = {"min": 0, "max": 4095, "start": 0, "end": 4095}
    return {
        "channels": [
            {"label": n, "color": "FFFFFF", "window": window, "active": True} for n in channels
        ]
    }


def array_metadata(
    shape: Sequence[int], chunks: Sequence[int], zarr_format: int = 3
) -> dict[str, Any]:
    """A uint16 ``c, y, x`` array's metadata document (``zarr.json`` or ``.zarray``)."""
    if zarr_format == 2:
        return {
            "zarr_format": 2,
            "shape": list(shape),
            "chunks": list(chunks),
            "dtype": "<u2",
            "compressor": {
                "id": "blosc",
                "cname": "zstd",
                "clevel": 5,
                "shuffle": 1,
                "blocksize": 0,
            },
            "fill_value": 0,
            "filters": None,
            "order": "C",
            "dimension_separator": "/",
        }
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
        ],
        "dimension_names": ["c", "y", "x"],
        "attributes": {},
    }


SCREEN_ROWS = tuple(string.ascii_uppercase[:16])
SCREEN_COLUMNS = tuple(str(c) for c in range(1, 25))


def write_metadata_plate(
    root: str | Path,
    zarr_format: int = 3,
    *,
    rows: Sequence[str] = SCREEN_ROWS,
    columns: Sequence[str] = SCREEN_COLUMNS,
    fields: int = 9,
    levels: int = 4,
    channels: Sequence[str] = ("DNA", "ER", "Mito"),
    consolidated: bool = False,
) -> Path:
    """A metadata-only HCS plate (no chunk files), written as spec JSON: by
    default 384 wells x 9 fields x 4 levels, the size of a real screen, in
    seconds. Zarr v2 gives OME-NGFF 0.4, v3 gives 0.5; ``consolidated`` adds
    consolidated metadata as zarr-python writes it (v2 ``.zmetadata``, v3
    inline in the root ``zarr.json``). Every document is schema-valid."""
    root = Path(root)
    documents = _plate_documents(
        zarr_format,
        plate_document("bench-plate", rows, columns, fields),
        {"images": [{"path": str(f)} for f in range(fields)]},
        omero(channels),
        [
            array_metadata(
                (len(channels), 2160 >> level, 2560 >> level), (1, 1080, 1280), zarr_format
            )
            for level in range(levels)
        ],
        rows,
    )
    if consolidated and zarr_format == 2:
        documents[".zmetadata"] = {"zarr_consolidated_format": 1, "metadata": dict(documents)}
    elif consolidated:
        inner = {key.rpartition("/")[0]: doc for key, doc in documents.items() if "/" in key}
        documents["zarr.json"]["consolidated_metadata"] = {
            "kind": "inline",
            "must_understand": False,
            "metadata": inner,
        }
    for key, document in documents.items():
        _dump(root / key, document)
    return root


def _plate_documents(
    zarr_format: int,
    plate: dict[str, Any],
    well: dict[str, Any],
    channels: dict[str, Any],
    arrays: list[dict[str, Any]],
    rows: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Every metadata document of a plate, by key: Zarr v2 with OME-NGFF 0.4
    (each object versioned) or Zarr v3 with 0.5 (all under ``ome``)."""

    def ome(**content: Any) -> dict[str, Any]:
        if zarr_format == 2:
            versioned = ("plate", "well")
            return {k: v | {"version": "0.4"} if k in versioned else v for k, v in content.items()}
        return {"ome": {"version": "0.5", **content}}

    version = "0.4" if zarr_format == 2 else None
    scales = multiscales(len(arrays), prefix="", name="image", version=version)
    groups = {"": ome(plate=plate)} | {row: {} for row in rows}
    levels: dict[str, dict[str, Any]] = {}
    for entry in plate["wells"]:
        groups[entry["path"]] = ome(well=well)
        for field_index in range(len(well["images"])):
            image = f"{entry['path']}/{field_index}"
            groups[image] = ome(multiscales=scales, omero=channels)
            levels |= {f"{image}/{level}": array for level, array in enumerate(arrays)}
    return _zarr_documents(zarr_format, groups, levels)


def _zarr_documents(
    zarr_format: int, groups: dict[str, dict[str, Any]], arrays: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The files of a Zarr hierarchy: groups (path -> attributes) and arrays
    (path -> array metadata document)."""
    documents: dict[str, dict[str, Any]] = {}
    for path, attributes in groups.items():
        prefix = f"{path}/" if path else ""
        if zarr_format == 2:
            documents[f"{prefix}.zgroup"] = {"zarr_format": 2}
            if attributes:
                documents[f"{prefix}.zattrs"] = attributes
        else:
            group = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
            documents[f"{prefix}zarr.json"] = group
    name = ".zarray" if zarr_format == 2 else "zarr.json"
    documents |= {f"{path}/{name}": document for path, document in arrays.items()}
    return documents


def write_metadata_image(root: str | Path, *, levels: int = 2) -> Path:
    """A metadata-only OME-NGFF 0.5 image (one multiscale, no chunk files)."""
    root = Path(root)
    scales = multiscales(levels, prefix="", name="image")
    arrays = {
        str(level): array_metadata((3, 2160 >> level, 2560 >> level), (1, 1080, 1280))
        for level in range(levels)
    }
    groups = {"": {"ome": {"version": "0.5", "multiscales": scales}}}
    for key, document in _zarr_documents(3, groups, arrays).items():
        _dump(root / key, document)
    return root


def _dump(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


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
