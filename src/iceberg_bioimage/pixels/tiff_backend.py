"""tifffile as a pixel backend: TIFF and OME-TIFF files (tiles or strips,
pyramids in SubIFDs, OME images spread over several files), read by region
through tifffile's Zarr view, so only the tiles or strips a region touches are
decoded."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import Any

import numpy as np

from iceberg_bioimage.errors import InputError, StoreNotFoundError
from iceberg_bioimage.io.uri import has_scheme, local_path
from iceberg_bioimage.pixels.base import Region, builtin, check_region, thread_map
from iceberg_bioimage.pixels.source import ArraySource


class TiffArray:
    """One series level of a TIFF file, in the row's axis order.

    tifffile squeezes axes of size 1 and may order OME axes differently from
    the row (TCZYX for OME-TIFF): each row axis is found by name in the file's
    axes, and axes the file does not have are added with size 1."""

    def __init__(self, source: ArraySource, tif: Any, array: Any, axes: str) -> None:
        self.source = source
        self._tif = tif
        self._array = array
        self._file_axes = axes  # lower-case, one letter per axis of ``array``
        self._order = [axes.index(a) for a in source.axes if a in axes]

    def read(self, region: Region) -> np.ndarray:
        region = check_region(self.source, region)
        wanted = dict(zip(self.source.axes, region, strict=True))
        data = np.asarray(self._array[tuple(wanted.get(a, slice(None)) for a in self._file_axes)])
        data = data.transpose(self._order)
        shape = [r.stop - r.start for r in region]
        return data.reshape(shape)

    def read_many(self, regions: Sequence[Region]) -> list[np.ndarray]:
        return thread_map(self.read, list(regions))

    def close(self) -> None:
        if self._tif is not None:
            self._tif.close()
            self._tif = None


class TiffBackend:
    name = "tifffile"
    rank = 20

    def available(self) -> bool:
        return True

    def supports(self, source: ArraySource) -> bool:
        return source.kind == "tiff"

    def open(self, source: ArraySource) -> TiffArray:
        import tifffile
        import zarr

        if not source.files:
            raise InputError(f"{source.image_id}: the image row names no TIFF file")
        tif = tifffile.TiffFile(_open_file(source.files[0]))
        try:
            series, level = _series_and_level(tif, source)
            axes = _file_axes(series.axes, source.axes)
            array = zarr.open_array(series.aszarr(level=level), mode="r")
        except BaseException:
            tif.close()
            raise
        return TiffArray(source, tif, array, axes)


def _open_file(location: str) -> Any:
    if not has_scheme(location) or location.startswith("file:"):
        path = local_path(location)
        if not os.path.isfile(path):
            raise StoreNotFoundError(f"{location}: no such file")
        return path  # TiffFile opens and closes it
    from iceberg_bioimage.io.resolve import open_store

    folder, name = posixpath.split(location.rstrip("/"))
    return open_store(folder).open_file(name)


def _series_and_level(tif: Any, source: ArraySource) -> tuple[Any, int]:
    """The tifffile series and level index the row's level path names."""
    parts = source.array_path.split("/")
    if parts[0] == "series" and len(parts) == 4:
        index, level = int(parts[1]), int(parts[3])
        if index >= len(tif.series) or level >= len(tif.series[index].levels):
            raise InputError(f"{source.image_id}: {source.array_path} is not in the file")
        return tif.series[index], level
    if parts[0] == "ifd":
        first = int(parts[1])
        for series in tif.series:
            if series.pages and getattr(series.pages[0], "index", None) == first:
                return series, source.level
        if len(tif.series) == 1:
            return tif.series[0], source.level
    raise InputError(f"{source.image_id}: no series of the file holds {source.array_path}")


def _file_axes(file_axes: str, row_axes: str) -> str:
    """The file's axes in the row's letters: tifffile's S (samples) stands for
    the row's c when the file has no C axis."""
    axes = file_axes.lower()
    if "s" in axes and "c" not in axes and "c" in row_axes:
        axes = axes.replace("s", "c")
    missing = [a for a in axes if a not in row_axes]
    if missing:
        raise InputError(f"file axes {file_axes} do not map onto the row's axes {row_axes}")
    return axes


@builtin("tifffile")
def _tifffile() -> TiffBackend:
    return TiffBackend()
