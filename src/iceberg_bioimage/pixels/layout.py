"""What every pixel table shares: channel choice, axis order, file and pixel-size facts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.pixels.source import ArraySource


def channel_indices(chosen: Sequence[Any] | None, names: list[str], image: str) -> tuple[int, ...]:
    if not chosen:
        return tuple(range(len(names)))
    lowered = {n.lower(): i for i, n in enumerate(names)}
    picked = []
    for item in chosen:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            index = int(item)
            if not 0 <= index < len(names):
                raise InputError(f"{image}: channel index {index} is out of range")
        elif str(item).lower() in lowered:
            index = lowered[str(item).lower()]
        else:
            raise InputError(f"{image}: channel {item!r} is not among {', '.join(names)}")
        picked.append(index)
    return tuple(picked)


def tczyx(data: np.ndarray, axes: str) -> np.ndarray:
    unknown = [a for a in axes if a not in "tczyx"]
    if unknown:
        raise InputError(f"axes {axes!r}: only t, c, z, y and x can be cropped")
    order = [axes.index(a) for a in "tczyx" if a in axes]
    data = data.transpose(order)
    shape = [data.shape[order.index(axes.index(a))] if a in axes else 1 for a in "tczyx"]
    return data.reshape(shape)


def file_of(row: dict[str, Any]) -> str:
    files = row.get("source_files") or []
    return files[0] if files else row["uri"]


def physical(row: dict[str, Any], meta: ArraySource, axes: str) -> tuple[float | None, ...]:
    """Pixel sizes at the source's level (level 0 scaled by the downsampling)."""
    sizes = []
    for axis in axes:
        size = row.get(f"physical_size_{axis}")
        if size is not None and axis in meta.axes and row.get("shape"):
            full = row["shape"][meta.axes.index(axis)]
            size = size * full / meta.shape[meta.axes.index(axis)]
        sizes.append(size)
    return tuple(sizes)
