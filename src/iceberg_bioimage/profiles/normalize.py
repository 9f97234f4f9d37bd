"""Key normalisation for joins, applied to both sides the same way.

Key columns have few distinct values (a plate has at most a few thousand
wells), so each column is dictionary-encoded, its distinct values are
normalised in Python, and the result is taken back by index: cost O(rows)
in Arrow kernels plus O(distinct values) in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.identity import normalize_well_id


def normalize_wells(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``B03`` whether written ``B3``, ``b03``, ``B/3`` or ``B_03``; null otherwise."""
    return _by_dictionary(values, well, pa.string())


def normalize_sites(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Sites as int64 (``"3"``, ``3.0`` and ``3`` are the same site)."""
    if pa.types.is_integer(values.type):
        return _chunked(values.cast(pa.int64()))
    return _by_dictionary(values, site, pa.int64())


def normalize_text(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Plates and dataset ids as trimmed strings (numbers become their text)."""
    return _by_dictionary(values, text, pa.string())


def codes(
    values: pa.Array | pa.ChunkedArray, normalize: Callable[[Any], Any], reference: pa.Array
) -> np.ndarray:
    """Per row, the position of its normalised value in ``reference`` (-1 when
    absent or invalid), computed on the column's dictionary: no per-row strings."""
    cache: dict[Any, Any] = {}
    parts = []
    for chunk in _chunked(values).chunks:
        encoded, normalized = _normalized_dictionary(chunk, normalize, cache)
        per_value = pc.index_in(pa.array(normalized, reference.type), value_set=reference)
        lookup = pc.fill_null(per_value, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        parts.append(np.where(indices >= 0, lookup[np.maximum(indices, 0)], -1).astype(np.int32))
    return np.concatenate(parts) if parts else np.empty(0, np.int32)


def distinct_normalized(
    values: pa.Array | pa.ChunkedArray, normalize: Callable[[Any], Any]
) -> set[Any]:
    """The distinct normalised values of a column (from its dictionary)."""
    found: set[Any] = set()
    for chunk in _chunked(values).chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        found |= {normalize(v) for v in encoded.dictionary.to_pylist()}
    return found - {None}


def _by_dictionary(
    values: pa.Array | pa.ChunkedArray, normalize: Callable[[Any], Any], out_type: pa.DataType
) -> pa.ChunkedArray:
    cache: dict[Any, Any] = {}
    chunks = []
    for chunk in _chunked(values).chunks:
        encoded, normalized = _normalized_dictionary(chunk, normalize, cache)
        chunks.append(pa.array(normalized, out_type).take(encoded.indices))
    return pa.chunked_array(chunks, out_type)


def _normalized_dictionary(
    chunk: pa.Array, normalize: Callable[[Any], Any], cache: dict[Any, Any]
) -> tuple[pa.DictionaryArray, list[Any]]:
    """The chunk dictionary-encoded, and its distinct values normalised (cached
    across chunks)."""
    encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
    normalized = []
    for value in encoded.dictionary.to_pylist():
        if value not in cache:
            cache[value] = normalize(value)
        normalized.append(cache[value])
    return encoded, normalized


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def well(value: Any) -> str | None:
    return normalize_well_id(str(value)) if value is not None else None


def site(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    stripped = str(value).strip()
    return stripped or None
