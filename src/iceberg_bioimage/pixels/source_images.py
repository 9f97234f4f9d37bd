"""Whole images (one level of each) as OME-Arrow rows, one batch per image."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.pixels.base import open_array
from iceberg_bioimage.pixels.crops import CropReport
from iceberg_bioimage.pixels.layout import channel_indices, file_of, physical, tczyx
from iceberg_bioimage.pixels.ome_struct import ImageMeta, ome_arrow_array
from iceberg_bioimage.pixels.source import array_source

SOURCE_IMAGE_LIMIT_BYTES = 2 * 2**30  # one image level read whole: above this, ask for a level


def iter_source_images(
    images: pa.Table,
    *,
    level: int = 0,
    channels: Sequence[str | int] | None = None,
    backend: str = "auto",
    report: CropReport | None = None,
    max_bytes: int = SOURCE_IMAGE_LIMIT_BYTES,
) -> Iterator[pa.RecordBatch]:
    """One row per image (labels skipped) with the chosen level's pixels."""
    report = report or CropReport()
    for row in images.to_pylist():
        if row.get("image_kind") == "label":
            continue
        chosen = min(level, max(len(row.get("levels") or []) - 1, 0))
        source = array_source(row, chosen)
        size = math.prod(source.shape) * np.dtype(source.dtype).itemsize
        if size > max_bytes:
            raise InputError(
                f"{row['image_id']}: level {chosen} holds {size / 2**30:.1f} GiB of pixels; "
                "ask for a smaller level (level=...)"
            )
        array = open_array(source, backend)
        try:
            data = tczyx(array.read(tuple(slice(None) for _ in source.shape)), source.axes)
        finally:
            array.close()
        names = list(row.get("channel_names") or [])
        names += [f"C{i}" for i in range(len(names), data.shape[1])]
        picked = channel_indices(channels, names, row["image_id"]) if "c" in source.axes else (0,)
        data = np.ascontiguousarray(data[:, list(picked)])
        labels = [names[i] for i in picked]
        image_id = _source_image_id(row, chosen, labels)
        meta = ImageMeta(
            tuple(labels), physical(row, source, "xyz"), row.get("physical_size_x_unit")
        )
        report.images += 1
        yield pa.RecordBatch.from_pydict(
            {
                "dataset_id": pa.array([row["dataset_id"]], pa.string()),
                "image_id": pa.array([row["image_id"]], pa.string()),
                "plate_id": pa.array([row.get("plate_id")], pa.string()),
                "well_id": pa.array([row.get("well_id")], pa.string()),
                "site_id": pa.array([row.get("site_id")], pa.int64()),
                "level": pa.array([chosen], pa.int32()),
                "channels": pa.array([labels], pa.list_(pa.string())),
                "source_uri": pa.array([source.uri], pa.string()),
                "array_path": pa.array([source.array_path], pa.string()),
                "Metadata_ImageID": pa.array([image_id], pa.string()),
                "source_image_column": pa.array([",".join(labels)], pa.string()),
                "source_image_file": pa.array([file_of(row)], pa.string()),
                "ome_arrow_image": ome_arrow_array([data], [image_id], [meta]),
            }
        )


def _source_image_id(row: dict[str, Any], level: int, labels: list[str]) -> str:
    what = [row["dataset_id"], row["image_id"], level, labels]
    return "img-" + hashlib.sha1(repr(what).encode()).hexdigest()[:32]
