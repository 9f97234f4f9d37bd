"""Per-object crops and whole source images as OME-Arrow rows, streamed.

Profile rows are matched to their images with the join's lookup (image id,
plate/well/site or CellProfiler file names), grouped by image, and each image
is opened once. Per image the reads are planned: the union window of its crops
read once, or each crop's region read concurrently, whichever touches fewer
stored chunks. Batches are yielded per image (bounded in rows), so a plate is
never held in memory.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.pixels.base import PixelArray, open_array
from iceberg_bioimage.pixels.geometry import Geometry, crop_windows, object_geometry
from iceberg_bioimage.pixels.layout import channel_indices, file_of, physical, tczyx
from iceberg_bioimage.pixels.ome_struct import ImageMeta, ome_arrow_array, struct_type_for
from iceberg_bioimage.pixels.source import ArraySource, array_source
from iceberg_bioimage.profiles.join import match_profile_rows

EDGES = ("pad", "clip")
UNION_LIMIT_BYTES = 256 * 2**20  # a union window larger than this is read crop by crop


@dataclass(frozen=True)
class CropOptions:
    """How to cut crops. ``size`` (height, width) centres each crop on its
    object; None cuts bounding boxes where the profiles have them, else 64x64.
    ``edge``: "pad" fills pixels outside the image with ``fill_value`` (every
    crop the same size); "clip" keeps only the part inside the image."""

    size: tuple[int, int] | None = None
    channels: tuple[str | int, ...] | None = None
    level: int = 0
    backend: str = "auto"
    edge: str = "pad"
    fill_value: int = 0
    compartment: str | None = None
    center_columns: tuple[str, str] | None = None
    bbox_columns: tuple[str, str, str, str] | None = None
    batch_rows: int = 1024


@dataclass
class CropReport:
    crops: int = 0
    images: int = 0
    skipped_rows: int = 0
    reads: dict[str, int] = field(default_factory=lambda: {"union": 0, "regions": 0})
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Source:
    """One image that gives channels to a crop: its row, the channels taken
    from it (indices on its c axis; None: the whole image is one channel) and
    their labels."""

    row: int
    channel_indices: tuple[int, ...] | None
    labels: tuple[str, ...]


def iter_image_crops(
    profiles: pa.Table,
    images: pa.Table,
    options: CropOptions,
    report: CropReport,
    *,
    alias_map: Any = None,
    profile_dataset_id: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Crop batches for every profile row that matched an image with a position."""
    if options.edge not in EDGES:
        raise InputError(f"edge must be one of {', '.join(EDGES)}, not {options.edge!r}")
    match = match_profile_rows(
        images, profiles, alias_map=alias_map, profile_dataset_id=profile_dataset_id
    )
    report.warnings += match.warnings
    matched = (match.positions >= 0).any() or any((r >= 0).any() for r in match.channels.values())
    if not matched:
        raise InputError("the profiles match no image: " + "; ".join(match.warnings))
    geometry = object_geometry(
        profiles,
        compartment=options.compartment,
        center_columns=options.center_columns,
        bbox_columns=options.bbox_columns,
    )
    rows = match.images.to_pylist()
    job = _Job(
        profiles=profiles,
        carried=_carried_columns(profiles, geometry),
        geometry=geometry,
        rows=rows,
        size=options.size if options.size or geometry.box is not None else (64, 64),
        options=options,
        report=report,
    )
    for sources, members in _groups(match, rows, options, report).items():
        yield from _crop_group(job, sources, members)


def _groups(
    match: Any, rows: list[dict[str, Any]], options: CropOptions, report: CropReport
) -> dict[tuple[_Source, ...], list[int]]:
    """Profile rows grouped by the images (and channels) their crops come from."""
    groups: dict[tuple[_Source, ...], list[int]] = {}
    cache: dict[tuple[int, ...], tuple[_Source, ...] | None] = {}
    if match.channels:
        wanted = _wanted_labels(match.channels, options.channels)
        per_row = np.stack([match.channels[label] for label in wanted], axis=1)
    else:
        per_row = match.positions[:, None]
        wanted = []
    for index, key in enumerate(map(tuple, per_row.tolist())):
        if key not in cache:
            cache[key] = _sources(key, wanted, rows, options)
        sources = cache[key]
        if sources is None:
            report.skipped_rows += 1
            continue
        groups.setdefault(sources, []).append(index)
    return groups


def _wanted_labels(channels: dict[str, np.ndarray], chosen: Sequence[Any] | None) -> list[str]:
    """The channel files asked for, by name or index (the rule of image channels)."""
    labels = sorted(channels)
    return [labels[i] for i in channel_indices(chosen, labels, "the channel files")]


def _sources(
    key: tuple[int, ...], labels: list[str], rows: list[dict[str, Any]], options: CropOptions
) -> tuple[_Source, ...] | None:
    if any(r < 0 for r in key):
        return None
    if labels:  # one image file per channel: each is one channel of the crop
        return tuple(_Source(r, None, (label,)) for r, label in zip(key, labels, strict=True))
    row = rows[key[0]]
    axes = (row.get("axes_order") or "").lower()
    names = list(row.get("channel_names") or [])
    if "c" not in axes:
        if options.channels:
            raise InputError(f"{row['image_id']} has no channel axis to choose channels from")
        return (_Source(key[0], None, (names[0] if names else "C0",)),)
    count = int(row["shape"][axes.index("c")])
    names += [f"C{i}" for i in range(len(names), count)]
    indices = channel_indices(options.channels, names, row["image_id"])
    return (_Source(key[0], indices, tuple(names[i] for i in indices)),)


def _carried_columns(profiles: pa.Table, geometry: Geometry) -> list[str]:
    """Profile columns every crop row keeps: identifiers, never features."""
    keep = [c for c in profiles.column_names if c.startswith(("Metadata_", "Image_Metadata_"))]
    for name in ("ImageNumber", "ObjectNumber", "TableNumber"):
        if name in profiles.column_names:
            keep.append(name)
    if geometry.compartment:
        number = f"{geometry.compartment}_Number_Object_Number"
        if number in profiles.column_names:
            keep.append(number)
    return [c for c in dict.fromkeys(keep) if c not in _OWN_COLUMNS]


@dataclass(frozen=True)
class _Job:
    """What every image's crops of one call share."""

    profiles: pa.Table
    carried: list[str]  # profile columns every crop row keeps
    geometry: Geometry
    rows: list[dict[str, Any]]  # the image rows the match refers to
    size: tuple[int, int] | None
    options: CropOptions
    report: CropReport


def _crop_group(
    job: _Job, sources: tuple[_Source, ...], members: list[int]
) -> Iterator[pa.RecordBatch]:
    """The crops of the profile rows (``members``) of one image (or channel set)."""
    rows, options, report = job.rows, job.options, job.report
    first = rows[sources[0].row]
    arrays = [
        open_array(array_source(rows[s.row], options.level), options.backend) for s in sources
    ]
    try:
        scale = _scale(first, arrays[0].source)
        windows, placed = crop_windows(_subset(job.geometry, members), job.size, scale)
        report.skipped_rows += int((~placed).sum())
        members = [m for m, ok in zip(members, placed, strict=True) if ok]
        windows = windows[placed]
        if not members:
            return
        report.images += 1
        for start in range(0, len(members), options.batch_rows):
            part = slice(start, start + options.batch_rows)
            crops, boxes = _cut(arrays, sources, windows[part], options, report)
            report.crops += len(crops)
            yield _crop_batch(job, sources, arrays, members[part], crops, boxes)
    finally:
        for array in arrays:
            array.close()


def _subset(geometry: Geometry, members: list[int]) -> Geometry:
    index = np.asarray(members, np.int64)
    return Geometry(
        geometry.compartment,
        geometry.center_x[index],
        geometry.center_y[index],
        None if geometry.box is None else geometry.box[index],
        geometry.columns,
        None if geometry.object_number is None else geometry.object_number[index],
    )


def _scale(row: dict[str, Any], source: ArraySource) -> tuple[float, float]:
    """Level-0 pixels per pixel of the source's level, along y and x."""
    axes = source.axes
    full = row["shape"]
    return (
        full[axes.index("y")] / source.shape[axes.index("y")],
        full[axes.index("x")] / source.shape[axes.index("x")],
    )


def _cut(
    arrays: list[PixelArray],
    sources: tuple[_Source, ...],
    windows: np.ndarray,
    options: CropOptions,
    report: CropReport,
) -> tuple[list[np.ndarray], np.ndarray]:
    """TCZYX crops (channels of every source side by side) and the boxes read."""
    per_source = [
        _cut_one(a, s, windows, options, report) for a, s in zip(arrays, sources, strict=True)
    ]
    boxes = per_source[0][1]
    parts = [p[0] for p in per_source]
    if all(isinstance(p, np.ndarray) for p in parts):  # stacked crops of one size
        return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)), boxes
    crops = [np.concatenate([p[i] for p in parts], axis=1) for i in range(len(windows))]
    return crops, boxes


def _cut_one(
    array: PixelArray,
    source: _Source,
    windows: np.ndarray,
    options: CropOptions,
    report: CropReport,
) -> tuple[list[np.ndarray], np.ndarray]:
    meta = array.source
    ys, xs = meta.shape[meta.axes.index("y")], meta.shape[meta.axes.index("x")]
    clipped = np.stack(
        [
            np.clip(windows[:, 0], 0, ys),
            np.clip(windows[:, 1], 0, ys),
            np.clip(windows[:, 2], 0, xs),
            np.clip(windows[:, 3], 0, xs),
        ],
        axis=1,
    )
    channel = _channel_slice(meta, source)
    if _union_is_cheaper(meta, clipped):
        report.reads["union"] += 1
        y0, y1 = int(clipped[:, 0].min()), int(clipped[:, 1].max())
        x0, x1 = int(clipped[:, 2].min()), int(clipped[:, 3].max())
        block = array.read(_region(meta, channel, y0, y1, x0, x1))
        stacked = _gathered(block, meta.axes, clipped, windows, source, channel, (y0, x0))
        if stacked is not None:
            return stacked, windows
        pieces = [
            _take(block, meta.axes, b[0] - y0, b[1] - y0, b[2] - x0, b[3] - x0) for b in clipped
        ]
    else:
        report.reads["regions"] += 1
        pieces = array.read_many([_region(meta, channel, *map(int, b)) for b in clipped])
    crops = [
        _finish(tczyx(p, meta.axes), source, channel, w, b, options)
        for p, w, b in zip(pieces, windows, clipped, strict=True)
    ]
    return crops, (clipped if options.edge == "clip" else windows)


def _gathered(
    block: np.ndarray,
    axes: str,
    clipped: np.ndarray,
    windows: np.ndarray,
    source: _Source,
    channel: slice | None,
    origin: tuple[int, int],
) -> np.ndarray | None:
    """Every crop at once, (n, t, c, z, h, w), by one gather from the block:
    when all crops have one size, lie inside the image and take the channels
    as read. None otherwise (the crop-by-crop path handles the rest)."""
    heights, widths = windows[:, 1] - windows[:, 0], windows[:, 3] - windows[:, 2]
    inside = (clipped == windows).all()
    same = (heights == heights[0]).all() and (widths == widths[0]).all()
    wanted = source.channel_indices
    as_read = (
        channel is None
        or wanted is None
        or list(wanted) == list(range(channel.start, channel.stop))
    )
    if not (inside and same and as_read) or len(windows) < 2:
        return None
    data = tczyx(block, axes)
    height, width = int(heights[0]), int(widths[0])
    out = np.empty((len(windows), *data.shape[:3], height, width), data.dtype)
    tops = (windows[:, 0] - origin[0]).tolist()
    lefts = (windows[:, 2] - origin[1]).tolist()
    for i, (top, left) in enumerate(zip(tops, lefts, strict=True)):  # one copy per crop
        out[i] = data[..., top : top + height, left : left + width]
    return out


def _channel_slice(meta: ArraySource, source: _Source) -> slice | None:
    if source.channel_indices is None or "c" not in meta.axes:
        return None
    return slice(min(source.channel_indices), max(source.channel_indices) + 1)


def _region(meta: ArraySource, channel: slice | None, y0: int, y1: int, x0: int, x1: int) -> tuple:
    region = []
    for axis in meta.axes:
        if axis == "y":
            region.append(slice(y0, max(y1, y0)))
        elif axis == "x":
            region.append(slice(x0, max(x1, x0)))
        elif axis == "c" and channel is not None:
            region.append(channel)
        else:
            region.append(slice(None))
    return tuple(region)


def _take(block: np.ndarray, axes: str, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    index = [slice(None)] * block.ndim
    index[axes.index("y")] = slice(y0, max(y1, y0))
    index[axes.index("x")] = slice(x0, max(x1, x0))
    return block[tuple(index)]


def _finish(
    piece: np.ndarray,
    source: _Source,
    channel: slice | None,
    window: np.ndarray,
    box: np.ndarray,
    options: CropOptions,
) -> np.ndarray:
    if channel is not None and source.channel_indices is not None:
        wanted = [i - channel.start for i in source.channel_indices]
        if wanted != list(range(piece.shape[1])):  # a subset or another order
            piece = piece[:, wanted]
    height, width = int(window[1] - window[0]), int(window[3] - window[2])
    if options.edge == "clip" or piece.shape[3:] == (height, width):
        return piece  # a view: the OME-Arrow builder copies the pixels once
    out = np.full((*piece.shape[:3], height, width), options.fill_value, piece.dtype)
    top, left = int(box[0] - window[0]), int(box[2] - window[2])
    out[..., top : top + piece.shape[3], left : left + piece.shape[4]] = piece
    return out


def _union_is_cheaper(meta: ArraySource, boxes: np.ndarray) -> bool:
    """Whether reading the union window once touches no more stored chunks than
    reading each box (a chunk two crops share is decoded twice that way)."""
    y0, y1 = boxes[:, 0].min(), boxes[:, 1].max()
    x0, x1 = boxes[:, 2].min(), boxes[:, 3].max()
    itemsize = np.dtype(meta.dtype).itemsize
    others = math.prod(s for a, s in zip(meta.axes, meta.shape, strict=True) if a not in "yx")
    if (y1 - y0) * (x1 - x0) * itemsize * others > UNION_LIMIT_BYTES:
        return False
    chunk = meta.chunk_yx or (64, 64)

    def touched(a0: Any, a1: Any, b0: Any, b1: Any) -> Any:
        rows = np.maximum((a1 - 1) // chunk[0] - a0 // chunk[0] + 1, 0)
        cols = np.maximum((b1 - 1) // chunk[1] - b0 // chunk[1] + 1, 0)
        return rows * cols

    each = touched(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]).sum()
    return bool(touched(y0, y1, x0, x1) <= each)


# -- the batch --------------------------------------------------------------
_OWN_COLUMNS = (
    "dataset_id",
    "image_id",
    "plate_id",
    "well_id",
    "site_id",
    "compartment",
    "object_number",
    "center_x",
    "center_y",
    "crop_y_min",
    "crop_y_max",
    "crop_x_min",
    "crop_x_max",
    "level",
    "channels",
    "source_uri",
    "array_path",
    "crop_id",
    "Metadata_ObjectID",
    "Metadata_ImageCropID",
    "source_image_column",
    "source_image_file",
    "source_bbox_x_min",
    "source_bbox_x_max",
    "source_bbox_y_min",
    "source_bbox_y_max",
    "ome_arrow_image",
)


def _crop_batch(
    job: _Job,
    sources: tuple[_Source, ...],
    arrays: list[PixelArray],
    members: list[int],
    crops: list[np.ndarray] | np.ndarray,
    boxes: np.ndarray,
) -> pa.RecordBatch:
    profiles, carried, geometry, rows, options = (
        job.profiles, job.carried, job.geometry, job.rows, job.options
    )  # fmt: skip
    n = len(members)
    first = rows[sources[0].row]
    meta = arrays[0].source
    labels = [label for s in sources for label in s.labels]
    index = np.asarray(members, np.int64)
    numbers = None if geometry.object_number is None else geometry.object_number[index]
    cx, cy = geometry.center_x[index], geometry.center_y[index]
    object_ids = _object_ids(first, geometry.compartment, numbers, cx, cy)
    crop_ids = _crop_ids(object_ids, boxes, options.level, labels)
    files = [file_of(rows[s.row]) for s in sources]
    image_meta = ImageMeta(
        channel_names=tuple(labels),
        physical_size=physical(first, meta, "xyz"),
        unit=first.get("physical_size_x_unit"),
    )
    dtype = crops[0].dtype.name
    payload = ome_arrow_array(crops, crop_ids, [image_meta] * n, struct_type=struct_type_for(dtype))
    columns: dict[str, pa.Array] = {
        c: profiles.column(c).take(pa.array(index)).combine_chunks() for c in carried
    }
    repeat = lambda value, type_: pa.array([value] * n, type_)  # noqa: E731
    own = {
        "dataset_id": repeat(first["dataset_id"], pa.string()),
        "image_id": repeat(first["image_id"], pa.string()),
        "plate_id": repeat(first.get("plate_id"), pa.string()),
        "well_id": repeat(first.get("well_id"), pa.string()),
        "site_id": repeat(first.get("site_id"), pa.int64()),
        "compartment": repeat(geometry.compartment, pa.string()),
        "object_number": pa.array(numbers, pa.float64()).cast(pa.int64())
        if numbers is not None and np.isfinite(numbers).all()
        else pa.nulls(n, pa.int64()),
        "center_x": pa.array(cx, pa.float64()),
        "center_y": pa.array(cy, pa.float64()),
        "crop_y_min": pa.array(boxes[:, 0], pa.int64()),
        "crop_y_max": pa.array(boxes[:, 1], pa.int64()),
        "crop_x_min": pa.array(boxes[:, 2], pa.int64()),
        "crop_x_max": pa.array(boxes[:, 3], pa.int64()),
        "level": repeat(options.level, pa.int32()),
        "channels": repeat(labels, pa.list_(pa.string())),
        "source_uri": repeat(meta.uri, pa.string()),
        "array_path": repeat(meta.array_path, pa.string()),
        "crop_id": pa.array(crop_ids, pa.string()),
        # CytoTable's names for the same facts, so its readers work unchanged
        "Metadata_ObjectID": pa.array(object_ids, pa.string()),
        "Metadata_ImageCropID": pa.array(crop_ids, pa.string()),
        "source_image_column": repeat(",".join(labels), pa.string()),
        "source_image_file": repeat(";".join(files), pa.string()),
        "source_bbox_x_min": pa.array(boxes[:, 2], pa.int64()),
        "source_bbox_x_max": pa.array(boxes[:, 3], pa.int64()),
        "source_bbox_y_min": pa.array(boxes[:, 0], pa.int64()),
        "source_bbox_y_max": pa.array(boxes[:, 1], pa.int64()),
        "ome_arrow_image": payload,
    }
    columns.update(own)
    return pa.RecordBatch.from_pydict(columns)


# Ids hash the text of a list of plain Python values, written out: the same
# text as repr() of that list, built once per batch where it can be, and never
# numpy's repr of a scalar (numpy 2 writes np.float64(1.5) where 1.x wrote 1.5).
def _object_ids(
    row: dict[str, Any],
    compartment: str | None,
    numbers: np.ndarray | None,
    cx: np.ndarray,
    cy: np.ndarray,
) -> list[str]:
    """``obj-`` + hash of [dataset, image, compartment, object number] (or the
    centre, to a thousandth of a pixel, for rows without a finite number)."""
    head = f"[{row['dataset_id']!r}, {row['image_id']!r}, {compartment!r}, "
    finite = np.isfinite(numbers) if numbers is not None else np.zeros(len(cx), bool)
    tails = [
        f"{int(number)!r}]" if ok else f"{round(x, 3)!r}, {round(y, 3)!r}]"
        for number, ok, x, y in zip(
            numbers.tolist() if numbers is not None else [None] * len(cx),
            finite.tolist(), cx.tolist(), cy.tolist(), strict=True,
        )
    ]  # fmt: skip
    return ["obj-" + _digest(head + tail) for tail in tails]


def _crop_ids(object_ids: list[str], boxes: np.ndarray, level: int, labels: list[str]) -> list[str]:
    """``crop-`` + hash of [object id, box, level, channel labels]."""
    tail = f", {int(level)!r}, {list(labels)!r}]"
    return [
        f"crop-{_digest(f'[{object_id!r}, {box!r}{tail}')}"
        for object_id, box in zip(object_ids, boxes.astype(np.int64).tolist(), strict=True)
    ]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:32]
