"""Where an image's pixels are: one level of one ``image_assets`` row.

Pixels are opened from the rows a scan already wrote, never by scanning again:
the row says the store, the array path of every level, the shape, the data
type and the axes. TIFF rows also name their files and the IFD or series that
holds the level.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Any

from iceberg_bioimage.errors import InputError, StoreNotFoundError
from iceberg_bioimage.io.paths import safe_key, within
from iceberg_bioimage.io.uri import local_path

ZARR_FAMILIES = ("ome-zarr", "zarr")
TIFF_FAMILIES = ("ome-tiff", "tiff")


@dataclass(frozen=True)
class ArraySource:
    """One level of one image: enough to open its pixels with any backend."""

    dataset_id: str
    image_id: str
    uri: str  # the store (Zarr) or the file (TIFF)
    kind: str  # "zarr" or "tiff"
    array_path: str  # Zarr: the level's array within the store; TIFF: the level's path
    level: int
    shape: tuple[int, ...]
    dtype: str
    axes: str  # lower-case axis names in order, e.g. "tczyx"
    zarr_format: int | None = None
    files: tuple[str, ...] = ()  # TIFF: the files holding the pixels
    ome: bool = False  # TIFF: an OME-TIFF image (axes always tczyx)
    channel_names: tuple[str, ...] = ()
    chunk_shape: tuple[int, ...] | None = None  # the read unit (inner chunk, tile), if known

    @property
    def chunk_yx(self) -> tuple[int, int] | None:
        """The read unit along y and x, when the scan knew it."""
        if not self.chunk_shape or len(self.chunk_shape) != len(self.axes):
            return None
        return (self.chunk_shape[self.axes.index("y")], self.chunk_shape[self.axes.index("x")])

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.uri, self.array_path, self.level)


def array_key(source: ArraySource) -> str:
    """The array's key inside its store, refused when it would leave it."""
    return safe_key(source.array_path) if source.array_path else ""


def local_array_folder(source: ArraySource) -> tuple[str, str]:
    """(the local store's folder, the array's key in it): the store must exist
    and the array's resolved folder (links followed) must stay inside it."""
    key = array_key(source)
    root = local_path(source.uri)
    if not os.path.isdir(root):
        raise StoreNotFoundError(f"{source.uri}: no such store")
    if not within(os.path.realpath(root), os.path.realpath(os.path.join(root, key))):
        raise InputError(f"{source.image_id}: array path {key!r} leaves the store")
    return root, key


def array_source(row: dict[str, Any], level: int = 0) -> ArraySource:
    """The pixels of ``row`` (an ``image_assets`` row) at pyramid ``level``."""
    family = row.get("format_family")
    levels = row.get("levels") or []
    if not 0 <= level < max(len(levels), 1):
        raise InputError(
            f"{row.get('image_id')}: level {level} does not exist (the image has "
            f"{len(levels)} level{'s' if len(levels) != 1 else ''})"
        )
    chosen = levels[level] if levels else None
    shape = tuple(chosen["shape"]) if chosen and chosen.get("shape") else tuple(row["shape"])
    axes = row.get("axes_order") or _default_axes(len(shape))
    if len(axes) != len(shape):
        raise InputError(f"{row.get('image_id')}: axes {axes!r} do not match shape {shape}")
    common = {
        "dataset_id": row["dataset_id"],
        "image_id": row["image_id"],
        "uri": row["uri"],
        "level": level,
        "shape": shape,
        "dtype": row["dtype"],
        "axes": axes.lower(),
        "channel_names": tuple(row.get("channel_names") or ()),
        "chunk_shape": _chunk_shape(chosen, row),
    }
    if family in ZARR_FAMILIES:
        base = row.get("image_path") or ""
        path = chosen["path"] if chosen else (row.get("array_path") or "")
        if chosen is not None:
            path = posixpath.join(base, path) if base else path
        return ArraySource(
            kind="zarr",
            array_path=path,
            zarr_format=(chosen or {}).get("zarr_format")
            or (3 if row.get("storage_variant") == "zarr-v3" else 2),
            **common,
        )
    if family in TIFF_FAMILIES:
        return ArraySource(
            kind="tiff",
            array_path=chosen["path"] if chosen else "ifd/0",
            files=tuple(row.get("source_files") or ()),
            ome=family == "ome-tiff",
            **common,
        )
    raise InputError(f"{row.get('image_id')}: no pixel reader for format {family!r}")


def _chunk_shape(level: dict[str, Any] | None, row: dict[str, Any]) -> tuple[int, ...] | None:
    chunk = (level or {}).get("chunk_shape") or (row.get("chunk_shape") if not level else None)
    return tuple(chunk) if chunk else None


def _default_axes(ndim: int) -> str:
    if ndim > 5:
        raise InputError(f"an array of {ndim} dimensions without axes names cannot be read")
    return "tczyx"[-ndim:]
