"""Tile rows of tiled TIFF levels: file, byte offset and byte count per tile.

Offsets and counts come from each plane's ``TileOffsets`` / ``TileByteCounts``
tags (read with tifffile, never the tiles themselves). OME-TIFF planes are
located through their ``TiffData`` blocks, so an image spanning several files
gets rows pointing into each of them; coordinates are (t, c, z, tile_y,
tile_x), the order of the asset's shape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage.chunks import grid
from iceberg_bioimage.chunks.rows import ChunkRows, LevelTarget
from iceberg_bioimage.errors import RemoteStoreError
from iceberg_bioimage.io import open_store
from iceberg_bioimage.io.uri import file_uri, has_scheme, is_remote, local_path
from iceberg_bioimage.models import ImageAsset
from iceberg_bioimage.scan.ome_xml import parse_ome_xml, plane_locations
from iceberg_bioimage.scan.tiff import COMPANION_SUFFIX, block_file


@dataclass(frozen=True, slots=True)
class _Plane:
    file: str  # absolute path
    ifd: int
    leading: tuple[int, ...]  # coordinates before (tile_y, tile_x)


def tiff_level_batches(
    asset: ImageAsset, level_index: int, *, batch_rows: int, encoded: bool = False
) -> Iterator[pa.RecordBatch]:
    """One row per tile of one pyramid level, grouped in bounded batches."""
    level = asset.levels[level_index]
    if level.chunk_shape is None:
        return
    source = asset.uri if is_remote(asset.uri) else local_path(asset.uri)
    root = source[: len(source) - len(asset.image_path)]
    subifd = int(level.path.rsplit("/", 1)[-1]) if "/subifd/" in level.path else None
    if asset.format_family == "ome-tiff":
        planes = _ome_planes(asset, source)
    else:
        planes = _series_planes(source, level.path)
    chunk_grid = (*level.shape[:-2], *grid.grid_shape(level.shape[-2:], level.chunk_shape[-2:]))
    pending: list[ChunkRows] = []
    count = 0
    with _OpenFiles() as files:
        for plane in planes:
            page = files.page(plane.file, plane.ifd, subifd)
            if page is None or not page.is_tiled:
                continue
            rows = _plane_rows(asset, level_index, root, plane, page)
            if pending and (rows.target != pending[0].target or count >= batch_rows):
                yield ChunkRows.concat(pending).to_batch(chunk_grid, encoded=encoded)
                pending, count = [], 0
            pending.append(rows)
            count += rows.count
    if pending:
        yield ChunkRows.concat(pending).to_batch(chunk_grid, encoded=encoded)


def _plane_rows(
    asset: ImageAsset, level_index: int, root: str, plane: _Plane, page: Any
) -> ChunkRows:
    tiles_y = -(-page.imagelength // page.tilelength)
    tiles_x = -(-page.imagewidth // page.tilewidth)
    offsets = np.asarray(page.dataoffsets, dtype=np.int64)
    counts = np.asarray(page.databytecounts, dtype=np.int64)
    per_plane = tiles_y * tiles_x
    samples = max(1, len(offsets) // per_plane)  # separate sample planes, if any
    tile = np.arange(len(offsets), dtype=np.int64) % per_plane
    leading = [np.full(len(offsets), value, dtype=np.int64) for value in plane.leading]
    if samples > 1 and len(leading) >= 4:  # (t, c, z): samples are channels
        leading[1] = leading[1] + np.arange(len(offsets), dtype=np.int64) // per_plane
    columns = [*leading, tile // tiles_x, tile % tiles_x]
    relative = (
        plane.file[len(root) :].lstrip("/")
        if plane.file.startswith(root)
        else os.path.relpath(plane.file, root).replace(os.sep, "/")
    )
    target = LevelTarget(
        dataset_id=asset.dataset_id,
        image_id=asset.image_id,
        uri=file_uri(plane.file),
        array_path=relative,
        level=level_index,
        shape=(),
        chunk_shape=(),
    )
    present = counts > 0
    return ChunkRows(
        target, "tile", columns, len(offsets), keys=grid.constant_strings(relative, len(offsets))
    ).with_sizes(
        pa.array(counts, mask=~present), pa.array(present), offsets=pa.array(offsets, mask=~present)
    )


def _ome_planes(asset: ImageAsset, source: str) -> list[_Plane]:
    document = parse_ome_xml(_ome_xml(source))
    image_id = (asset.metadata.get("ome") or {}).get("id")
    image = next((i for i in document.images if i.id == image_id), None)
    if image is None:
        return []
    planes = []
    for location in plane_locations(image):
        file = block_file(location.block, document, source)
        if file is None:  # a FileName outside the folder: refused when scanned
            continue
        if location.block is None and source.lower().endswith(COMPANION_SUFFIX):
            continue
        planes.append(_Plane(file, location.ifd, (location.t, location.c, location.z)))
    return planes


def _ome_xml(source: str) -> bytes | str:
    if source.lower().endswith(COMPANION_SUFFIX) and not has_scheme(source):
        with open(source, "rb") as handle:
            return handle.read()
    with open_tiff(source) as tif:
        return tif.pages.first.description


def _series_planes(source: str, level_path: str) -> list[_Plane]:
    """Planes of a plain TIFF series level (``series/<i>/level/<k>``)."""
    _, series_index, _, level_index = level_path.split("/")
    with open_tiff(source) as tif:
        series = tif.series[int(series_index)].levels[int(level_index)]
        leading_shape = tuple(series.shape[:-2])
        planes = []
        for index, page in enumerate(series.pages):
            if page is None:
                continue
            leading = np.unravel_index(index, leading_shape) if leading_shape else ()
            planes.append(_Plane(source, page.index, tuple(int(v) for v in leading)))
        return planes


class _OpenFiles:
    """TIFF files opened once each while their planes are read."""

    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    def __enter__(self) -> _OpenFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for tif in self._open.values():
            tif.close()

    def page(self, path: str, ifd: int, subifd: int | None) -> Any:
        import tifffile

        if path not in self._open:
            try:
                self._open[path] = open_tiff(path)
            except RemoteStoreError:
                raise
            except (OSError, tifffile.TiffFileError):
                self._open[path] = None
        tif = self._open[path]
        if tif is None:
            return None
        try:
            page = tif.pages[ifd]
            return page if subifd is None else page.pages[subifd]
        except (IndexError, KeyError, TypeError, ValueError):
            return None


def open_tiff(path: str) -> Any:
    """tifffile over a local path, or over byte ranges of a remote object."""
    import tifffile

    if has_scheme(path):
        return tifffile.TiffFile(open_store(path).open_file(""), name=os.path.basename(path))
    return tifffile.TiffFile(path)
