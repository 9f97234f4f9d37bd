"""Chunk rows of one Zarr array: keys as the Zarr specs define them, sizes as stored.

Zarr v2 keys join the coordinates with the array's ``dimension_separator``; Zarr
v3 ``default`` keys are ``c`` + separator + coordinates (``c`` alone for a 0-d
array) and v3 ``v2`` keys are v2 keys. Sizes come from one recursive listing
of the array's prefix, matched to the computed keys with a hash lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.chunks import grid
from iceberg_bioimage.chunks.rows import ChunkRows, LevelTarget
from iceberg_bioimage.io import Store, join_key

_MISSING = np.uint64(2**64 - 1)  # shard index entry of an absent inner chunk


def zarr_level_batches(
    store: Store,
    target: LevelTarget,
    *,
    stat: bool,
    byte_ranges: bool,
    batch_rows: int,
    encoded: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Record batches of at most ``batch_rows`` rows for one array."""
    if target.shard_shape is not None and byte_ranges:
        yield from _inner_chunk_batches(store, target, batch_rows, encoded)
        return
    outer = target.shard_shape or target.chunk_shape
    chunk_grid = grid.grid_shape(target.shape, outer)
    total = grid.chunk_count(chunk_grid)
    listing = _listing(store, target.array_path) if stat and total else None
    kind = chunk_kind(target)
    for start in range(0, total, batch_rows):
        stop = min(total, start + batch_rows)
        columns = grid.coordinates(chunk_grid, start, stop)
        keys = _keys(target, columns, chunk_grid, stop - start)
        rows = ChunkRows(target, kind, columns, stop - start, keys=keys)
        if listing is not None:
            rows = rows.with_sizes(*_match(keys, listing))
        yield rows.to_batch(chunk_grid, encoded=encoded)


def _keys(
    target: LevelTarget, columns: list[np.ndarray], chunk_grid: tuple[int, ...], rows: int
) -> pa.Array:
    """Storage keys (relative to the store root) of the chunks at ``columns``."""
    v3_default = target.key_encoding == "default"
    if not columns:  # 0-d array: its single chunk
        return grid.constant_strings(join_key(target.array_path, "c" if v3_default else "0"), rows)
    return grid.join_coordinates(columns, chunk_grid, target.separator, prefix=key_prefix(target))


def key_prefix(target: LevelTarget) -> str:
    """What every chunk key of the array starts with, before its coordinates."""
    prefix = f"{target.array_path}/" if target.array_path else ""
    if target.key_encoding == "default":
        prefix += "c" + target.separator
    return prefix


def chunk_kind(target: LevelTarget) -> str:
    """``shard`` for a sharded array's stored objects, else ``chunk``."""
    return "shard" if target.shard_shape is not None else "chunk"


@dataclass(frozen=True, slots=True)
class _Listing:
    keys: pa.Array
    sizes: pa.Array


def _listing(store: Store, prefix: str) -> _Listing:
    keys, sizes = store.list_sizes(prefix)
    return _Listing(pa.array(keys, pa.string()), pa.array(sizes, pa.int64()))


def _match(keys: pa.Array, listing: _Listing) -> tuple[pa.Array, pa.Array]:
    """(byte_length, exists) of computed keys, by a hash lookup in the listing."""
    positions = pc.index_in(keys, value_set=listing.keys)
    return listing.sizes.take(positions), pc.is_valid(positions)


# -- sharded arrays with byte ranges ---------------------------------------
@dataclass(frozen=True, slots=True)
class _ShardIndex:
    location: str  # "end" or "start"
    size: int  # bytes
    byte_order: str  # "<" or ">"


def _inner_chunk_batches(
    store: Store, target: LevelTarget, batch_rows: int, encoded: bool
) -> Iterator[pa.RecordBatch]:
    """One row per inner chunk: the shard's key, and offset/length from its index."""
    assert target.shard_shape is not None
    index = _shard_index_layout(store, target)
    per_shard = tuple(s // c for s, c in zip(target.shard_shape, target.chunk_shape, strict=True))
    inner_grid = grid.grid_shape(target.shape, target.chunk_shape)
    shard_grid = grid.grid_shape(target.shape, target.shard_shape)
    inner_in_shard = grid.coordinates(per_shard, 0, grid.chunk_count(per_shard))
    pending: list[ChunkRows] = []
    pending_rows = 0
    for shard in range(grid.chunk_count(shard_grid)):
        shard_coords = grid.coordinates(shard_grid, shard, shard + 1)
        key = _keys(target, shard_coords, shard_grid, 1)[0].as_py()
        columns = [
            inner + int(outer[0]) * step
            for inner, outer, step in zip(inner_in_shard, shard_coords, per_shard, strict=True)
        ]
        inside = np.ones(len(columns[0]) if columns else 1, dtype=bool)
        for column, limit in zip(columns, inner_grid, strict=True):
            inside &= column < limit  # edge shards hold chunks past the array's end
        columns = [c[inside] for c in columns]
        count = int(inside.sum())
        offsets, lengths = _read_shard_index(store, key, index, len(inside))
        rows = ChunkRows(target, "inner", columns, count, keys=grid.constant_strings(key, count))
        if offsets is None:
            rows = rows.with_sizes(pa.nulls(count, pa.int64()), pa.array(np.zeros(count, bool)))
        else:
            offsets, lengths = offsets[inside], lengths[inside]
            present = offsets != _MISSING
            rows = rows.with_sizes(
                pa.array(lengths.astype(np.int64), mask=~present),
                pa.array(present),
                offsets=pa.array(offsets.astype(np.int64), mask=~present),
            )
        pending.append(rows)
        pending_rows += count
        if pending_rows >= batch_rows:
            yield ChunkRows.concat(pending).to_batch(inner_grid, encoded=encoded)
            pending, pending_rows = [], 0
    if pending:
        yield ChunkRows.concat(pending).to_batch(inner_grid, encoded=encoded)


def _shard_index_layout(store: Store, target: LevelTarget) -> _ShardIndex:
    """Where a shard's index is and how big: from the array's ``zarr.json``."""
    raw = store.get_many([join_key(target.array_path, "zarr.json")])[0]
    codecs = json.loads(raw or b"{}").get("codecs") or []
    sharding = next((c for c in codecs if c.get("name") == "sharding_indexed"), {})
    config = sharding.get("configuration") or {}
    index_codecs = config.get("index_codecs") or [{"name": "bytes"}, {"name": "crc32c"}]
    checksum = 4 if any(c.get("name") == "crc32c" for c in index_codecs) else 0
    endian = next(
        (
            (c.get("configuration") or {}).get("endian", "little")
            for c in index_codecs
            if c.get("name") == "bytes"
        ),
        "little",
    )
    per_shard = grid.chunk_count(
        tuple(s // c for s, c in zip(target.shard_shape or (), target.chunk_shape, strict=True))
    )
    return _ShardIndex(
        location=config.get("index_location", "end"),
        size=16 * per_shard + checksum,
        byte_order="<" if endian == "little" else ">",
    )


def _read_shard_index(
    store: Store, key: str, index: _ShardIndex, entries: int
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    start = -index.size if index.location == "end" else 0
    raw = store.read_range(key, start, index.size)
    if raw is None or len(raw) < 16 * entries:
        return None, None
    table = np.frombuffer(raw[: 16 * entries], dtype=f"{index.byte_order}u8").reshape(entries, 2)
    return table[:, 0], table[:, 1]
