"""``images.chunk_index``: one row per stored chunk, shard or tile.

Every sink (Parquet file, Iceberg table, warehouse) consumes the record
batches of :func:`scan_result_to_chunk_index`, which stay bounded in size
however many chunks an image has.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage import progress
from iceberg_bioimage.chunks.grid import chunk_count, grid_shape
from iceberg_bioimage.chunks.prefetch import prefetch
from iceberg_bioimage.chunks.rows import ENCODED_SCHEMA, LevelTarget
from iceberg_bioimage.chunks.small import SmallLevels, is_small
from iceberg_bioimage.chunks.tiff_tiles import tiff_level_batches
from iceberg_bioimage.chunks.zarr_chunks import zarr_level_batches
from iceberg_bioimage.io import join_key, open_store
from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.models import ImageAsset, ScanResult
from iceberg_bioimage.schema import CHUNK_INDEX_CONSTANT_COLUMNS, CHUNK_INDEX_SCHEMA

DEFAULT_BATCH_ROWS = 1 << 18  # ~60 MB of Arrow data per batch at most

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "chunk_index_as_table",
    "scan_result_to_chunk_index",
    "stream_chunk_index_parquet",
    "write_chunk_index_parquet",
]


def scan_result_to_chunk_index(
    result: ScanResult,
    *,
    stat: bool = True,
    byte_ranges: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    dictionary_encoded: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Chunk-index rows of every chunked array of every asset, in bounded batches.

    ``stat=False`` computes keys and coordinates from the chunk grid alone
    (sizes and ``exists`` null). ``byte_ranges=True`` gives sharded arrays one
    row per inner chunk with its offset and length from the shard index.
    ``dictionary_encoded=True`` keeps the per-array constant columns
    (``dataset_id``, ``image_id``, ``uri``, ``array_path``, ``chunk_kind``) as
    dictionary arrays: same values, far cheaper for columnar sinks.
    """
    yield from chunk_index_batches(
        [result],
        stat=stat,
        byte_ranges=byte_ranges,
        batch_rows=batch_rows,
        dictionary_encoded=dictionary_encoded,
    )


def chunk_index_batches(
    results: Iterable[ScanResult],
    *,
    stat: bool = True,
    byte_ranges: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    dictionary_encoded: bool = False,
) -> Iterator[pa.RecordBatch]:
    """:func:`scan_result_to_chunk_index` of several results; the levels of
    small arrays of all of them are gathered into shared batches."""
    small = SmallLevels(dictionary_encoded)
    for result in results:
        store = None
        for asset in result.image_assets:
            for level_index, level in enumerate(asset.levels):
                if level.chunk_shape is None:
                    continue  # not chunked (a striped TIFF): no rows
                if asset.format_family not in ("ome-zarr", "zarr"):
                    yield from tiff_level_batches(
                        asset, level_index, batch_rows=batch_rows, encoded=dictionary_encoded
                    )
                    continue
                target = _zarr_target(asset, level_index)
                if not stat and not byte_ranges and is_small(target):
                    small.add(target)  # keys from the grid alone: gathered
                    if small.rows >= batch_rows:
                        yield small.batch()
                        small = SmallLevels(dictionary_encoded)
                    continue
                if store is None and (stat or byte_ranges):  # keys alone need no store
                    store = open_store(result.uri)
                yield from zarr_level_batches(
                    store,
                    target,
                    stat=stat,
                    byte_ranges=byte_ranges,
                    batch_rows=batch_rows,
                    encoded=dictionary_encoded,
                )
    if small.rows:
        yield small.batch()


def expected_rows(results: Iterable[ScanResult], *, byte_ranges: bool = False) -> int:
    """How many chunk-index rows ``results`` give, from the grids alone (a
    progress total: stored objects, or inner chunks with ``byte_ranges``)."""
    total = 0
    for result in results:
        for asset in result.image_assets:
            for level in asset.levels:
                if level.chunk_shape is None:
                    continue
                unit = level.chunk_shape if byte_ranges else level.shard_shape or level.chunk_shape
                if len(unit) == len(level.shape):
                    total += chunk_count(grid_shape(level.shape, unit))
    return total


def chunk_index_as_table(results: Iterable[ScanResult], **options: object) -> pa.Table:
    """The whole chunk index of ``results`` as one table (small stores; large
    ones should stream :func:`scan_result_to_chunk_index` batches)."""
    return pa.Table.from_batches(list(chunk_index_batches(results, **options)), CHUNK_INDEX_SCHEMA)


def write_chunk_index_parquet(
    results: ScanResult | Iterable[ScanResult],
    path: str | os.PathLike[str],
    **options: object,
) -> tuple[Path, int]:
    """Stream chunk-index rows into one local Parquet file, written atomically.

    A scan without chunked arrays gives a file with the full schema and no
    rows, never a zero-column file. Returns the path and the row count.
    """
    results = [results] if isinstance(results, ScanResult) else list(results)
    rows = 0

    def write(staging: str) -> None:
        nonlocal rows
        rows = stream_chunk_index_parquet(staging, results, **options)

    return write_atomically(path, write), rows


def stream_chunk_index_parquet(
    where: str,
    results: Iterable[ScanResult],
    *,
    filesystem: Any = None,
    schema: pa.Schema = ENCODED_SCHEMA,
    overlap: bool = True,
    **options: object,
) -> int:
    """Write the chunk index of ``results`` to one Parquet file at ``where``
    (on ``filesystem`` if given), building the next batch while the previous
    one is written (``overlap=False``: one after the other, for callers that
    already run many writers at once). ``schema`` may add field metadata
    (Iceberg field ids) to the encoded chunk schema. Returns the number of rows."""
    rows = 0
    options["dictionary_encoded"] = True
    writer = pq.ParquetWriter(where, schema, filesystem=filesystem, **_PARQUET_OPTIONS)
    results = list(results)
    total = expected_rows(results, byte_ranges=bool(options.get("byte_ranges")))
    with writer, progress.task("chunk rows", total=total) as advance:
        batches_of = chunk_index_batches(results, **options)
        for batches in _coalesced(prefetch(batches_of) if overlap else batches_of):
            writer.write_table(pa.Table.from_batches(batches))
            written = sum(b.num_rows for b in batches)
            rows += written
            advance(written)
        writer.add_key_value_metadata(CHUNK_INDEX_SCHEMA.metadata)
    return rows


def _coalesced(batches: Iterable[pa.RecordBatch]) -> Iterator[list[pa.RecordBatch]]:
    """Small batches (the levels of many small arrays) gathered into groups of
    about ``DEFAULT_BATCH_ROWS`` rows: one Parquet write each, not one per level."""
    group: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        group.append(batch)
        size += batch.num_rows
        if size >= DEFAULT_BATCH_ROWS:
            yield group
            group, size = [], 0
    if group:
        yield group


# Per-array constants arrive dictionary-encoded; keys and JSON are unique per
# row, where a dictionary (or min/max statistics) only costs time.
# ``store_schema=False`` so readers see the canonical string columns, not the
# dictionary encoding.
_PARQUET_OPTIONS: dict[str, object] = {
    "compression": "snappy",
    "use_dictionary": list(CHUNK_INDEX_CONSTANT_COLUMNS),
    "write_statistics": [
        *CHUNK_INDEX_CONSTANT_COLUMNS,
        "level",
        "chunk_coords",
        "byte_offset",
        "byte_length",
        "exists",
    ],
    "store_schema": False,
}


def _zarr_target(asset: ImageAsset, level_index: int) -> LevelTarget:
    level = asset.levels[level_index]
    assert level.chunk_shape is not None
    return LevelTarget(
        dataset_id=asset.dataset_id,
        image_id=asset.image_id,
        uri=asset.uri,
        array_path=join_key(asset.image_path, level.path),
        level=level_index,
        shape=level.shape,
        chunk_shape=level.chunk_shape,
        shard_shape=level.shard_shape,
        key_encoding=level.chunk_key_encoding or "v2",
        separator=level.chunk_key_separator or ".",
    )
