"""The levels of small arrays (a few chunks each: metadata-only stores,
thumbnails, label pyramids' last levels) gathered into one record batch.

Building a batch costs a dozen Arrow calls whatever its size, which dominates
when a level has two chunks. Levels whose keys come from the grid alone (no
listing, no shard index) are collected here and written as one batch: their
per-array constants become dictionary indices, their strings are formatted
in Python (cheaper than kernels at this size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from iceberg_bioimage.chunks import grid
from iceberg_bioimage.chunks.rows import ENCODED_SCHEMA, LevelTarget
from iceberg_bioimage.chunks.zarr_chunks import chunk_kind, key_prefix
from iceberg_bioimage.schema import CHUNK_INDEX_SCHEMA

SMALL_LEVEL = 64  # chunks; at most this many makes a level "small"


def is_small(target: LevelTarget) -> bool:
    outer = target.shard_shape or target.chunk_shape
    count = grid.chunk_count(grid.grid_shape(target.shape, outer))
    return 0 < count <= SMALL_LEVEL and len(outer) > 0


@dataclass
class SmallLevels:
    """Rows of many small levels, collected until :meth:`batch` is asked for."""

    encoded: bool
    targets: list[LevelTarget] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    coords_json: list[str] = field(default_factory=list)
    coords: list[np.ndarray] = field(default_factory=list)  # flattened, row-major
    ndims: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.keys)

    def add(self, target: LevelTarget) -> None:
        outer = target.shard_shape or target.chunk_shape
        chunk_grid = grid.grid_shape(target.shape, outer)
        positions = np.indices(chunk_grid).reshape(len(chunk_grid), -1).T  # C order
        listed = positions.tolist()
        self.keys += grid.format_rows(listed, target.separator, key_prefix(target))
        self.coords_json += grid.format_rows(listed, ", ", "[", "]")
        self.coords.append(positions.ravel())
        self.targets.append(target)
        self.counts.append(len(listed))
        self.ndims.append(len(chunk_grid))
        self.kinds.append(chunk_kind(target))

    def batch(self) -> pa.RecordBatch:
        counts = np.asarray(self.counts, np.int64)
        rows = int(counts.sum())
        which = np.repeat(np.arange(len(self.targets), dtype=np.int32), counts)
        ndims = np.repeat(np.asarray(self.ndims, np.int64), counts)
        offsets = np.zeros(rows + 1, np.int32)
        np.cumsum(ndims, out=offsets[1:])
        coordinates = pa.ListArray.from_arrays(
            pa.array(offsets), pa.array(np.concatenate(self.coords), pa.int64())
        )
        arrays = [
            self._per_array([t.dataset_id for t in self.targets], which),
            self._per_array([t.image_id for t in self.targets], which),
            self._per_array([t.uri for t in self.targets], which),
            self._per_array([t.array_path for t in self.targets], which),
            pa.array(np.repeat(np.asarray([t.level for t in self.targets], np.int32), counts)),
            self._per_array(self.kinds, which),
            coordinates,
            pa.array(self.coords_json, pa.string()),
            pa.array(self.keys, pa.string()),
            pa.nulls(rows, pa.int64()),
            pa.nulls(rows, pa.int64()),
            pa.nulls(rows, pa.bool_()),
        ]
        schema = ENCODED_SCHEMA if self.encoded else CHUNK_INDEX_SCHEMA
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _per_array(self, values: list[str], which: np.ndarray) -> pa.Array:
        dictionary = pa.DictionaryArray.from_arrays(pa.array(which), pa.array(values, pa.string()))
        return dictionary if self.encoded else dictionary.cast(pa.string())
