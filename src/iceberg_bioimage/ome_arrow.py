"""OME-Arrow helpers (optional: ``pip install 'iceberg-bioimage[ome-arrow]'``).

OME-Arrow stores image pixels and their OME metadata as Arrow structs, so
images can travel in the same tables as profiles (CytoTable writes them in
``images.image_crops``). These helpers create payloads from arrays, TIFF and
OME-Zarr, describe payloads without decoding pixels, and read and write
OME-Arrow datasets. The ``ome-arrow`` package is imported only when one of
them is called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.errors import InputError, MissingDependencyError, StoreNotFoundError


def _ome_arrow() -> Any:
    try:
        import ome_arrow
    except ImportError:
        raise MissingDependencyError("ome-arrow", "ome-arrow", "OME-Arrow helpers") from None
    return ome_arrow


def create_ome_arrow(
    data: Any,
    *,
    dim_order: str = "TCZYX",
    image_id: str | None = None,
    channel_names: Sequence[str] | None = None,
    physical_size_x: float = 1.0,
    physical_size_y: float = 1.0,
    physical_size_z: float = 1.0,
    physical_size_unit: str = "µm",
) -> pa.StructScalar:
    """An OME-Arrow payload from a numpy array whose axes are ``dim_order``."""
    return _ome_arrow().from_numpy(
        data,
        dim_order=dim_order,
        image_id=image_id,
        channel_names=channel_names,
        physical_size_x=physical_size_x,
        physical_size_y=physical_size_y,
        physical_size_z=physical_size_z,
        physical_size_unit=physical_size_unit,
    )


def ome_arrow_from_tiff(
    path: str | os.PathLike[str], *, image_id: str | None = None
) -> pa.StructScalar:
    """An OME-Arrow payload read from a TIFF / OME-TIFF file."""
    _require(path)
    return _ome_arrow().from_tiff(os.fspath(path), image_id=image_id)


def ome_arrow_from_ome_zarr(
    path: str | os.PathLike[str], *, image_id: str | None = None
) -> pa.StructScalar:
    """An OME-Arrow payload read from an OME-Zarr image."""
    _require(path)
    return _ome_arrow().from_ome_zarr(os.fspath(path), image_id=image_id)


def ome_arrow_to_numpy(payload: pa.StructScalar | dict[str, Any]) -> Any:
    """The pixels of a payload as a TCZYX numpy array."""
    return _ome_arrow().to_numpy(payload)


def scan_ome_arrow(
    source: pa.StructScalar | pa.Table | str | os.PathLike[str], *, column: str | None = None
) -> pa.Table:
    """Describe OME-Arrow payloads without decoding pixels: one row per payload
    with its id, name, shape (TCZYX), pixel type and channel names.

    ``source`` is a payload, an Arrow table, or a Parquet file; ``column``
    names the struct column (default: the first OME-Arrow-shaped one).
    """
    _ome_arrow()  # the helpers belong to the extra, even when only metadata is read
    if isinstance(source, pa.StructScalar):
        payloads: Any = pa.array([source.as_py()], type=source.type)
    else:
        table = source if isinstance(source, pa.Table) else _read_parquet(source, column)
        payloads = table.column(column or _payload_column(table))
    ids = pc.struct_field(payloads, "id").to_pylist()
    names = pc.struct_field(payloads, "name").to_pylist()
    metas = pc.struct_field(payloads, "pixels_meta").to_pylist()  # metadata only, no pixels
    rows = [_describe(i, n, m) for i, n, m in zip(ids, names, metas, strict=True)]
    return pa.Table.from_pylist(rows, schema=_DESCRIPTION_SCHEMA)


def write_ome_arrow_dataset(
    images: Sequence[pa.StructScalar], path: str | os.PathLike[str], **options: Any
) -> Any:
    """Write payloads as an OME-Arrow dataset; returns ome-arrow's chunking choice."""
    return _ome_arrow().write_ome_arrow_dataset(list(images), os.fspath(path), **options)


def read_ome_arrow_dataset(path: str | os.PathLike[str]) -> Any:
    """Open an OME-Arrow dataset (lazy: pixels are read when asked for)."""
    _require(path)
    return _ome_arrow().OMEArrowDataset(os.fspath(path))


_DESCRIPTION_SCHEMA = pa.schema(
    [
        pa.field("image_id", pa.string()),
        pa.field("name", pa.string()),
        pa.field("shape", pa.list_(pa.int64())),
        pa.field("dim_order", pa.string()),
        pa.field("pixel_type", pa.string()),
        pa.field("channel_names", pa.list_(pa.string())),
        pa.field("physical_size_x", pa.float64()),
        pa.field("physical_size_unit", pa.string()),
    ]
)


def _describe(image_id: Any, name: Any, pixels: dict[str, Any] | None) -> dict[str, Any]:
    pixels = pixels or {}
    channels = pixels.get("channels") or []
    sizes = [pixels.get(f"size_{a}") for a in "tczyx"]
    return {
        "image_id": image_id,
        "name": name,
        "shape": [int(s) for s in sizes] if all(s is not None for s in sizes) else None,
        "dim_order": pixels.get("dimension_order"),
        "pixel_type": pixels.get("type"),
        "channel_names": [c.get("name") for c in channels if isinstance(c, dict)],
        "physical_size_x": pixels.get("physical_size_x"),
        "physical_size_unit": pixels.get("physical_size_x_unit"),
    }


def _payload_column(table: pa.Table) -> str:
    for field in table.schema:
        if pa.types.is_struct(field.type) and field.type.get_field_index("pixels_meta") >= 0:
            return field.name
    raise InputError("no OME-Arrow column (a struct with pixels_meta) in the table")


def _read_parquet(path: str | os.PathLike[str], column: str | None) -> pa.Table:
    import pyarrow.parquet as pq

    _require(path)
    schema = pq.read_schema(path)
    name = column or _payload_column(pa.table({f.name: pa.array([], f.type) for f in schema}))
    # only the metadata fields of the payload column are read from disk
    parts = ("id", "name", "pixels_meta")
    try:
        flat = pq.read_table(path, columns=[f"{name}.{part}" for part in parts])
    except (pa.ArrowInvalid, KeyError):
        return pq.read_table(path, columns=[name])
    payload = pa.StructArray.from_arrays(
        [flat.column(part).combine_chunks() for part in parts], names=list(parts)
    )
    return pa.table({name: payload})


def _require(path: str | os.PathLike[str]) -> None:
    if not os.path.exists(path):
        raise StoreNotFoundError(f"{os.fspath(path)}: no such file or directory")
