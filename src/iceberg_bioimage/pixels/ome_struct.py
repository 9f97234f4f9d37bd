"""OME-Arrow image structs built from numpy arrays in bulk, decoded back, and
the Iceberg-safe form they are stored in inside an Iceberg table.

The struct is OME-Arrow's own layout (``type`` "ome.arrow", ``pixels_meta``,
``planes`` of flattened YX pixels, optional ``chunks``), so ome-arrow,
CytoDataFrame and CytoTable's readers take our rows unchanged; ``ome-arrow``
itself is not needed to write them. 8- and 16-bit unsigned pixels go into the
historical ``planes`` lists (uint16 values); other types into typed byte
chunks, one per plane, so every value round-trips bit-exactly.

Iceberg has no unsigned or 8/16-bit integers and no null type: the safe form
widens them (uint16 -> int32, uint32 -> int64, int16 -> int32) and drops the
null ``masks`` field; :func:`from_iceberg_safe` restores the exact struct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.errors import InputError

OME_ARROW_TAG = "ome.arrow"
OME_ARROW_VERSION = "0.1.0"  # the ome-arrow release whose struct layout this is
PLANE_DTYPES = ("uint8", "uint16", "bool")  # fit the planes' uint16 lists exactly

CHANNEL_TYPE = pa.struct(
    [
        pa.field("id", pa.string()),
        pa.field("name", pa.string()),
        pa.field("emission_um", pa.float32()),
        pa.field("excitation_um", pa.float32()),
        pa.field("illumination", pa.string()),
        pa.field("color_rgba", pa.uint32()),
    ]
)
PIXELS_META_TYPE = pa.struct(
    [
        pa.field("dimension_order", pa.string()),
        pa.field("type", pa.string()),
        pa.field("size_x", pa.int32()),
        pa.field("size_y", pa.int32()),
        pa.field("size_z", pa.int32()),
        pa.field("size_c", pa.int16()),
        pa.field("size_t", pa.int32()),
        *[pa.field(f"physical_size_{a}", pa.float32()) for a in "xyz"],
        *[pa.field(f"physical_size_{a}_unit", pa.string()) for a in "xyz"],
        pa.field("channels", pa.list_(CHANNEL_TYPE)),
    ]
)
CHUNK_GRID_TYPE = pa.struct(
    [
        pa.field("order", pa.string()),
        pa.field("chunk_t", pa.int32()),
        pa.field("chunk_c", pa.int16()),
        pa.field("chunk_z", pa.int32()),
        pa.field("chunk_y", pa.int32()),
        pa.field("chunk_x", pa.int32()),
        pa.field("chunk_order", pa.string()),
    ]
)
_POSITION = [
    pa.field("t", pa.int32()),
    pa.field("c", pa.int16()),
    pa.field("z", pa.int32()),
    pa.field("y", pa.int32()),
    pa.field("x", pa.int32()),
    pa.field("shape_z", pa.int32()),
    pa.field("shape_y", pa.int32()),
    pa.field("shape_x", pa.int32()),
]
LIST_CHUNK_TYPE = pa.struct([*_POSITION, pa.field("pixels", pa.list_(pa.uint16()))])
BYTE_CHUNK_TYPE = pa.struct(
    [
        *_POSITION,
        pa.field("dtype", pa.string()),
        pa.field("compression", pa.string()),
        pa.field("pixel_bytes", pa.large_binary()),
    ]
)
PLANE_TYPE = pa.struct(
    [
        pa.field("z", pa.int32()),
        pa.field("t", pa.int32()),
        pa.field("c", pa.int16()),
        pa.field("pixels", pa.list_(pa.uint16())),
    ]
)


def _image_type(chunk_type: pa.StructType) -> pa.StructType:
    return pa.struct(
        [
            pa.field("type", pa.string()),
            pa.field("version", pa.string()),
            pa.field("id", pa.string()),
            pa.field("name", pa.string()),
            pa.field("image_type", pa.string()),
            pa.field("acquisition_datetime", pa.timestamp("us")),
            pa.field("pixels_meta", PIXELS_META_TYPE),
            pa.field("chunk_grid", CHUNK_GRID_TYPE),
            pa.field("chunks", pa.list_(chunk_type)),
            pa.field("planes", pa.list_(PLANE_TYPE)),
            pa.field("masks", pa.null()),
        ]
    )


OME_ARROW_TYPE = _image_type(LIST_CHUNK_TYPE)  # pixels in planes
OME_ARROW_BYTES_TYPE = _image_type(BYTE_CHUNK_TYPE)  # pixels in typed byte chunks


@dataclass(frozen=True)
class ImageMeta:
    """What a struct says besides its pixels (shared by the crops of one image)."""

    channel_names: tuple[str, ...] = ()
    physical_size: tuple[float | None, float | None, float | None] = (None, None, None)  # x y z
    unit: str | None = None
    image_type: str = "image"


def struct_type_for(dtype: str) -> pa.StructType:
    """The struct layout that holds ``dtype`` pixels exactly."""
    return OME_ARROW_TYPE if dtype in PLANE_DTYPES else OME_ARROW_BYTES_TYPE


def ome_arrow_array(
    images: Sequence[np.ndarray] | np.ndarray,
    ids: Sequence[str],
    metas: Sequence[ImageMeta],
    *,
    struct_type: pa.StructType | None = None,
) -> pa.StructArray:
    """One OME-Arrow struct per TCZYX array, built column-wise (no per-pixel
    Python work). All arrays share a dtype; ``struct_type`` forces a layout."""
    if not len(images):
        return pa.array([], struct_type or OME_ARROW_TYPE)
    dtype = images[0].dtype
    if isinstance(images, np.ndarray):
        if images.ndim != 6:
            raise InputError("stacked OME-Arrow images are (n, t, c, z, y, x)")
    elif any(a.dtype != dtype or a.ndim != 5 for a in images):
        raise InputError("the arrays of one OME-Arrow column share one dtype and are TCZYX")
    struct_type = struct_type or struct_type_for(dtype.name)
    shapes = (
        np.tile(np.array(images.shape[1:], np.int64), (len(images), 1))
        if isinstance(images, np.ndarray)
        else np.array([a.shape for a in images], dtype=np.int64)
    )  # (n, 5): t c z y x
    planes_per = shapes[:, 0] * shapes[:, 1] * shapes[:, 2]
    plane_px = shapes[:, 3] * shapes[:, 4]
    t, c, z = _plane_positions(shapes)
    if struct_type == OME_ARROW_TYPE:
        values = _flat(images).astype(np.uint16, copy=False)
        pixels = _lists(np.repeat(plane_px, planes_per), pa.array(values, pa.uint16()))
        plane = pa.StructArray.from_arrays(
            [pa.array(z, pa.int32()), pa.array(t, pa.int32()), pa.array(c, pa.int16()), pixels],
            fields=list(PLANE_TYPE),
        )
        planes = _lists(planes_per, plane)
        chunks = pa.nulls(len(images), pa.list_(LIST_CHUNK_TYPE))
        grid = pa.nulls(len(images), CHUNK_GRID_TYPE)
    else:
        planes = _lists(np.zeros(len(images), np.int64), pa.array([], PLANE_TYPE))
        chunks, grid = _byte_chunks(images, shapes, planes_per, t, c, z, dtype)
    n = len(images)
    return pa.StructArray.from_arrays(
        [
            pa.array([OME_ARROW_TAG] * n, pa.string()),
            pa.array([OME_ARROW_VERSION] * n, pa.string()),
            pa.array(list(ids), pa.string()),
            pa.array(list(ids), pa.string()),
            pa.array([m.image_type for m in metas], pa.string()),
            pa.nulls(n, pa.timestamp("us")),
            _pixels_meta(shapes, dtype.name, metas),
            grid,
            chunks,
            planes,
            pa.nulls(n, pa.null()),
        ],
        fields=list(struct_type),
    )


def _flat(images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Every image's pixels one after another, copied once (views welcome)."""
    if isinstance(images, np.ndarray):  # already stacked: (n, t, c, z, y, x)
        return images.reshape(-1)
    if len({a.shape for a in images}) == 1:
        return np.stack(images).reshape(-1)
    return np.concatenate([a.reshape(-1) for a in images])


def _plane_positions(shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, c, z) of every plane of every image, planes in t, c, z order."""
    if len(shapes) and (shapes == shapes[0]).all():  # crops of one size: one grid, tiled
        one = np.indices(tuple(int(v) for v in shapes[0][:3])).reshape(3, -1)
        stacked = np.tile(one, (1, len(shapes)))
        return stacked[0], stacked[1], stacked[2]
    parts = [np.indices((st, sc, sz)).reshape(3, -1) for st, sc, sz, _, _ in shapes]
    stacked = np.concatenate(parts, axis=1) if parts else np.zeros((3, 0), np.int64)
    return stacked[0], stacked[1], stacked[2]


def _lists(lengths: np.ndarray, values: pa.Array) -> pa.ListArray:
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > np.iinfo(np.int32).max:
        raise InputError("more than 2^31 values in one OME-Arrow batch: use smaller batches")
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _byte_chunks(
    images: Sequence[np.ndarray] | np.ndarray,
    shapes: np.ndarray,
    planes_per: np.ndarray,
    t: np.ndarray,
    c: np.ndarray,
    z: np.ndarray,
    dtype: np.dtype,
) -> tuple[pa.ListArray, pa.StructArray]:
    """Each plane as typed bytes (one chunk per plane) and the chunk grid."""
    ys = np.repeat(shapes[:, 3], planes_per)
    xs = np.repeat(shapes[:, 4], planes_per)
    plane_bytes = [
        np.ascontiguousarray(p).tobytes() for a in images for p in a.reshape(-1, *a.shape[3:])
    ]
    total = len(plane_bytes)
    zeros = np.zeros(total, np.int32)
    chunk = pa.StructArray.from_arrays(
        [
            pa.array(t, pa.int32()),
            pa.array(c, pa.int16()),
            pa.array(z, pa.int32()),
            pa.array(zeros),
            pa.array(zeros),
            pa.array(np.ones(total, np.int32)),
            pa.array(ys.astype(np.int32)),
            pa.array(xs.astype(np.int32)),
            pa.array([dtype.str] * total, pa.string()),
            pa.array(["none"] * total, pa.string()),
            pa.array(plane_bytes, pa.large_binary()),
        ],
        fields=list(BYTE_CHUNK_TYPE),
    )
    n = len(images)
    grid = pa.StructArray.from_arrays(
        [
            pa.array(["TCZYX"] * n, pa.string()),
            pa.array(np.ones(n, np.int32)),
            pa.array(np.ones(n, np.int16)),
            pa.array(np.ones(n, np.int32)),
            pa.array(shapes[:, 3].astype(np.int32)),
            pa.array(shapes[:, 4].astype(np.int32)),
            pa.array(["ZYX"] * n, pa.string()),
        ],
        fields=list(CHUNK_GRID_TYPE),
    )
    return _lists(planes_per, chunk), grid


def _pixels_meta(shapes: np.ndarray, dtype: str, metas: Sequence[ImageMeta]) -> pa.StructArray:
    n = len(shapes)
    sizes = [m.physical_size for m in metas]
    units = [m.unit for m in metas]
    return pa.StructArray.from_arrays(
        [
            pa.array(["XYZCT" if s[2] > 1 else "XYCT" for s in shapes], pa.string()),
            pa.array([dtype] * n, pa.string()),
            pa.array(shapes[:, 4].astype(np.int32)),
            pa.array(shapes[:, 3].astype(np.int32)),
            pa.array(shapes[:, 2].astype(np.int32)),
            pa.array(shapes[:, 1].astype(np.int16)),
            pa.array(shapes[:, 0].astype(np.int32)),
            *[pa.array([s[i] for s in sizes], pa.float32()) for i in range(3)],
            *[pa.array(units, pa.string()) for _ in range(3)],
            _channels(shapes[:, 1], metas),
        ],
        fields=list(PIXELS_META_TYPE),
    )


def _channels(counts: np.ndarray, metas: Sequence[ImageMeta]) -> pa.ListArray:
    """Each image's channel list. The structs are built once per distinct
    (metadata, channel count) and repeated by index: a batch of crops shares
    one metadata, and building a struct per crop and channel was a tenth of
    a crop batch's time."""
    counts = counts.astype(np.int64)
    first: dict[tuple[int, int], int] = {}  # (metadata, count) -> its first struct
    built: list[dict[str, str]] = []
    starts = np.empty(len(counts), np.int64)
    for k, (meta, count) in enumerate(zip(metas, counts.tolist(), strict=True)):
        start = first.get((id(meta), count))
        if start is None:
            start = first[(id(meta), count)] = len(built)
            built += [{"id": f"Channel:0:{i}", "name": _channel_name(meta, i)}
                      for i in range(count)]  # fmt: skip
        starts[k] = start
    ends = np.cumsum(counts)
    within = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - counts, counts)
    values = pa.array(built, CHANNEL_TYPE).take(pa.array(np.repeat(starts, counts) + within))
    return _lists(counts, values)


def _channel_name(meta: ImageMeta, index: int) -> str:
    return meta.channel_names[index] if index < len(meta.channel_names) else f"C{index}"


# -- decoding ---------------------------------------------------------------
def ome_arrow_to_arrays(column: pa.Array | pa.ChunkedArray) -> list[np.ndarray]:
    """The TCZYX numpy array of every struct in ``column``, in its stored dtype."""
    if isinstance(column, pa.ChunkedArray):
        return [a for chunk in column.chunks for a in ome_arrow_to_arrays(chunk)]
    out: list[np.ndarray] = []
    metas = column.field("pixels_meta")
    sizes = {k: pc.struct_field(metas, k).to_numpy(zero_copy_only=False) for k in _SIZE_KEYS}
    types = pc.struct_field(metas, "type").to_pylist()
    has_chunks = "pixel_bytes" in str(column.type.field("chunks").type)
    for i in range(len(column)):
        if not column[i].is_valid:
            out.append(None)  # type: ignore[arg-type]
            continue
        shape = tuple(int(sizes[k][i]) for k in _SIZE_KEYS)
        dtype = np.dtype(types[i] or "uint16")
        if has_chunks and column.field("chunks")[i].is_valid and len(column.field("chunks")[i]):
            out.append(_from_byte_chunks(column.field("chunks")[i], shape, dtype))
        else:
            out.append(_from_planes(column.field("planes")[i], shape, dtype))
    return out


_SIZE_KEYS = ("size_t", "size_c", "size_z", "size_y", "size_x")


def _from_planes(planes: pa.Scalar, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    values = planes.values
    data = np.zeros(shape, dtype)
    if values is None or not len(values):
        return data
    t = values.field("t").to_numpy()
    c = values.field("c").to_numpy()
    z = values.field("z").to_numpy()
    pixels = values.field("pixels").flatten().to_numpy().reshape(len(values), *shape[3:])
    data[t, c, z] = pixels.astype(dtype, copy=False)
    return data


def _from_byte_chunks(chunks: pa.Scalar, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    data = np.zeros(shape, dtype)
    for chunk in chunks.values.to_pylist():
        if chunk["compression"] not in (None, "", "none"):
            raise InputError(f"OME-Arrow chunks compressed with {chunk['compression']}")
        part = np.frombuffer(chunk["pixel_bytes"], np.dtype(chunk["dtype"]))
        z0, y0, x0 = chunk["z"], chunk["y"], chunk["x"]
        block = part.reshape(chunk["shape_z"], chunk["shape_y"], chunk["shape_x"])
        data[
            chunk["t"],
            chunk["c"],
            z0 : z0 + block.shape[0],
            y0 : y0 + block.shape[1],
            x0 : x0 + block.shape[2],
        ] = block
    return data


# -- the Iceberg-safe form ---------------------------------------------------
_WIDER = {
    pa.uint8(): pa.int32(),
    pa.uint16(): pa.int32(),
    pa.int8(): pa.int32(),
    pa.int16(): pa.int32(),
    pa.uint32(): pa.int64(),
}


def iceberg_safe_type(type_: pa.DataType) -> pa.DataType:
    """``type_`` with every field Iceberg can store: narrow and unsigned integers
    widened, null fields dropped (large binary stays: Iceberg reads it as binary)."""
    if pa.types.is_struct(type_):
        return pa.struct(
            [f.with_type(iceberg_safe_type(f.type)) for f in type_ if not pa.types.is_null(f.type)]
        )
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return pa.list_(iceberg_safe_type(type_.value_type))
    return _WIDER.get(type_, type_)


def to_iceberg_safe(array: pa.Array) -> pa.Array:
    return cast_nested(array, iceberg_safe_type(array.type))


def from_iceberg_safe(array: pa.Array, type_: pa.DataType) -> pa.Array:
    """The exact OME-Arrow ``type_`` back from its Iceberg-safe form."""
    return cast_nested(array, type_)


def cast_nested(array: pa.Array, type_: pa.DataType) -> pa.Array:
    """``array`` as ``type_``: struct fields matched by name (missing ones null),
    lists element-wise, leaves cast (checked: no value may overflow)."""
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([cast_nested(c, type_) for c in array.chunks], type_)
    if array.type == type_:
        return array
    if pa.types.is_struct(type_):
        children = [
            cast_nested(array.field(f.name), f.type)
            if array.type.get_field_index(f.name) >= 0
            else pa.nulls(len(array), f.type)
            for f in type_
        ]
        return pa.StructArray.from_arrays(
            children, fields=list(type_), mask=array.is_null() if array.null_count else None
        )
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        values = cast_nested(array.flatten(), type_.value_type)
        offsets = array.offsets
        if array.offset or len(array.values) != len(array.flatten()):
            offsets = pc.subtract(offsets, offsets[0])
        list_type = pa.LargeListArray if pa.types.is_large_list(type_) else pa.ListArray
        return list_type.from_arrays(
            offsets, values, mask=array.is_null() if array.null_count else None
        )
    return pc.cast(array, type_)
