"""One array level's chunk rows, assembled into record batches of the schema."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from iceberg_bioimage.chunks import grid
from iceberg_bioimage.schema import (
    CHUNK_INDEX_CONSTANT_COLUMNS,
    CHUNK_INDEX_SCHEMA,
    dictionary_encoded,
)

ENCODED_SCHEMA = dictionary_encoded(CHUNK_INDEX_SCHEMA, CHUNK_INDEX_CONSTANT_COLUMNS)


@dataclass(frozen=True, slots=True)
class LevelTarget:
    """Everything needed to index one stored array (a pyramid level)."""

    dataset_id: str
    image_id: str
    uri: str
    array_path: str
    level: int
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    shard_shape: tuple[int, ...] | None = None
    key_encoding: str = "v2"
    separator: str = "."


@dataclass(frozen=True, slots=True)
class ChunkRows:
    """Columns of ``count`` rows for one target; sizes are null until known."""

    target: LevelTarget
    kind: str
    columns: list[np.ndarray]
    count: int
    keys: pa.Array
    byte_length: pa.Array | None = None
    exists: pa.Array | None = None
    byte_offset: pa.Array | None = None

    def with_sizes(
        self, lengths: pa.Array, exists: pa.Array, offsets: pa.Array | None = None
    ) -> ChunkRows:
        return replace(self, byte_length=lengths, exists=exists, byte_offset=offsets)

    @staticmethod
    def concat(parts: list[ChunkRows]) -> ChunkRows:
        """Rows of one target and kind, one after another."""
        first = parts[0]

        def combined(name: str, kind: pa.DataType) -> pa.Array | None:
            values = [getattr(p, name) for p in parts]
            if all(v is None for v in values):
                return None
            filled = [
                v if v is not None else pa.nulls(p.count, kind)
                for v, p in zip(values, parts, strict=True)
            ]
            return pa.concat_arrays(filled)

        return ChunkRows(
            target=first.target,
            kind=first.kind,
            columns=[np.concatenate(c) for c in zip(*(p.columns for p in parts), strict=True)],
            count=sum(p.count for p in parts),
            keys=pa.concat_arrays([p.keys for p in parts]),
            byte_length=combined("byte_length", pa.int64()),
            exists=combined("exists", pa.bool_()),
            byte_offset=combined("byte_offset", pa.int64()),
        )

    def to_batch(self, chunk_grid: tuple[int, ...], *, encoded: bool = False) -> pa.RecordBatch:
        """The rows in the canonical schema; ``encoded`` keeps per-array constant
        columns dictionary-encoded (for sinks that store them that way)."""
        target, count = self.target, self.count
        constant = grid.constant_dictionary if encoded else grid.constant_strings
        coords_json = (
            grid.join_coordinates(self.columns, chunk_grid, ", ", prefix="[", suffix="]")
            if self.columns
            else grid.constant_strings("[]", count)
        )
        arrays = [
            constant(target.dataset_id, count),
            constant(target.image_id, count),
            constant(target.uri, count),
            constant(target.array_path, count),
            pa.array(np.full(count, target.level, dtype=np.int32)),
            constant(self.kind, count),
            grid.coordinates_list(self.columns, count),
            coords_json,
            self.keys,
            self.byte_offset if self.byte_offset is not None else pa.nulls(count, pa.int64()),
            self.byte_length if self.byte_length is not None else pa.nulls(count, pa.int64()),
            self.exists if self.exists is not None else pa.nulls(count, pa.bool_()),
        ]
        return pa.RecordBatch.from_arrays(
            arrays, schema=ENCODED_SCHEMA if encoded else CHUNK_INDEX_SCHEMA
        )
