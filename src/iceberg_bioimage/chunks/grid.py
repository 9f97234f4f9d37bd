"""Chunk grids as Arrow columns, built with numpy and Arrow kernels.

No per-chunk Python: coordinates come from ``np.unravel_index`` over a range of
linear chunk indices, and strings (keys, the JSON view) from a ``take`` per
dimension into a small cached vocabulary followed by one element-wise join.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.errors import MetadataError

INT64_MAX = 2**63 - 1


def grid_shape(shape: Sequence[int], chunks: Sequence[int]) -> tuple[int, ...]:
    """Chunks per dimension (edge chunks included); 0 where a dimension is empty."""
    return tuple(
        -(-size // chunk) if chunk else 0 for size, chunk in zip(shape, chunks, strict=True)
    )


def chunk_count(grid: Sequence[int]) -> int:
    """How many chunks a grid holds; an error when that does not fit int64."""
    count = math.prod(int(size) for size in grid)
    if count > INT64_MAX:
        raise MetadataError(f"a chunk grid of {count:.3g} chunks is beyond 2**63 - 1")
    return count


def coordinates(grid: Sequence[int], start: int, stop: int) -> list[np.ndarray]:
    """Grid coordinates of chunks ``start`` .. ``stop`` (C order), one array per dim."""
    if not grid:
        return []
    return list(np.unravel_index(np.arange(start, stop, dtype=np.int64), tuple(grid)))


def coordinates_list(columns: list[np.ndarray], rows: int) -> pa.ListArray:
    """Per-row coordinate lists (``list<int64>``) without building Python lists."""
    ndim = len(columns)
    values = np.stack(columns, axis=1).ravel() if ndim else np.empty(0, np.int64)
    offsets = np.arange(0, rows * ndim + 1, ndim if ndim else 1, dtype=np.int32)
    if not ndim:
        offsets = np.zeros(rows + 1, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.int64()))


# Batches of at most this many rows (the levels of small arrays) format their
# strings in Python: below it, the kernels' per-call cost dominates.
_SMALL_BATCH = 64
# Dimensions with at most this many chunks get a cached vocabulary of their
# decimal coordinates; longer ones are formatted per batch, so memory follows
# the batch size whatever the grid's.
_VOCABULARY_LIMIT = 1 << 16


@lru_cache(maxsize=256)
def _vocabulary(size: int, prefix: str, suffix: str) -> pa.StringArray:
    return pa.array([f"{prefix}{i}{suffix}" for i in range(size)], pa.string())


def _decimal(column: np.ndarray, size: int, prefix: str, suffix: str) -> pa.Array:
    """``prefix + str(c) + suffix`` for each coordinate of one dimension."""
    if size <= _VOCABULARY_LIMIT:
        return _vocabulary(size, prefix, suffix).take(pa.array(column))
    text = pc.cast(pa.array(column), pa.string())
    if prefix or suffix:
        text = pc.binary_join_element_wise(prefix, text, suffix, "")
    return text


def format_rows(
    rows: Iterable[Sequence[int]], separator: str, prefix: str = "", suffix: str = ""
) -> list[str]:
    """``prefix + c0 + separator + c1 ... + suffix`` for a few rows, in Python."""
    return [prefix + separator.join(map(str, row)) + suffix for row in rows]


def join_coordinates(
    columns: list[np.ndarray],
    grid: Sequence[int],
    separator: str,
    *,
    prefix: str = "",
    suffix: str = "",
) -> pa.Array:
    """``prefix + c0 + separator + c1 ... + suffix`` for every row, in one join.

    The prefix and suffix are folded into the (small, cached) decimal
    vocabularies of the first and last dimension, so each row costs one
    ``take`` per dimension and a single element-wise join.
    """
    if columns and len(columns[0]) <= _SMALL_BATCH:  # a few chunks: formatting is cheaper
        rows = zip(*(column.tolist() for column in columns), strict=True)
        return pa.array(format_rows(rows, separator, prefix, suffix), pa.string())
    last = len(columns) - 1
    parts = [
        _decimal(column, int(size), prefix if d == 0 else "", suffix if d == last else "")
        for d, (column, size) in enumerate(zip(columns, grid, strict=True))
    ]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, separator)


def constant_strings(value: str, rows: int) -> pa.StringArray:
    """``rows`` copies of ``value`` as a string array, built from two buffers."""
    data = value.encode()
    offsets = np.arange(0, (rows + 1) * len(data), len(data) or 1, dtype=np.int32)[: rows + 1]
    if not data:
        offsets = np.zeros(rows + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data * rows))


def constant_dictionary(value: str, rows: int) -> pa.DictionaryArray:
    """``rows`` copies of ``value``, dictionary-encoded (one string, zero indices)."""
    return pa.DictionaryArray.from_arrays(_zeros(rows), pa.array([value], pa.string()))


@lru_cache(maxsize=64)
def _zeros(rows: int) -> pa.Array:
    return pa.array(np.zeros(rows, dtype=np.int32))
