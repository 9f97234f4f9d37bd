"""Scan results as Arrow tables in the canonical schemas."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.models import ImageAsset, ScanResult
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA


def image_assets_table(assets: Iterable[ImageAsset], dataset_uri: str | None = None) -> pa.Table:
    """Canonical ``image_assets`` rows, one per image, in the declared schema.

    ``dataset_uri`` is where the dataset was scanned from (default: each
    asset's own ``uri``).
    """
    return _table([_asset_row(asset, dataset_uri or asset.uri) for asset in assets])


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    columns = {name: [row.get(name) for row in rows] for name in IMAGE_ASSETS_SCHEMA.names}
    return pa.table(columns, schema=IMAGE_ASSETS_SCHEMA)


def scan_result_as_arrow_table(result: ScanResult | Iterable[ScanResult]) -> pa.Table:
    """The ``image_assets`` table of one scan result or several."""
    results = [result] if isinstance(result, ScanResult) else list(result)
    rows = [_asset_row(asset, r.uri) for r in results for asset in r.image_assets]
    return _table(rows)


# Columns whose value is the asset attribute of the same name (tuples -> lists).
_DIRECT = tuple(
    name for name in IMAGE_ASSETS_SCHEMA.names if name in ImageAsset.__dataclass_fields__
)


def _asset_row(asset: ImageAsset, dataset_uri: str) -> dict[str, Any]:
    row: dict[str, Any] = {name: _plain(getattr(asset, name)) for name in _DIRECT}
    row |= {
        "dataset_uri": dataset_uri,
        "ndim": len(asset.shape),
        "axes": [{"name": a.name, "type": a.type, "unit": a.unit} for a in asset.axes] or None,
        "axes_order": asset.axes_order,
        "level_count": len(asset.levels),
        "levels": [
            {
                "path": level.path,
                "shape": list(level.shape),
                "chunk_shape": _list(level.chunk_shape),
                "shard_shape": _list(level.shard_shape),
                "scale": _list(level.scale),
                "translation": _list(level.translation),
                "chunk_key_encoding": level.chunk_key_encoding,
                "chunk_key_separator": level.chunk_key_separator,
                "zarr_format": level.zarr_format,
            }
            for level in asset.levels
        ],
        "channel_count": asset.channel_count,
        "fill_value": _json_value(asset.fill_value),
        "shape_json": json.dumps(list(asset.shape)),
        "chunk_shape_json": json.dumps(list(asset.chunk_shape)) if asset.chunk_shape else None,
        "metadata_json": json.dumps(asset.metadata, default=str) if asset.metadata else None,
    }
    placement = asset.metadata.get("collection") if asset.metadata else None
    if isinstance(placement, dict):
        row |= {
            "collection_uri": dataset_uri,
            "collection_node_id": placement.get("node_id"),
            "collection_node_path": placement.get("node_path"),
            "collection_parent_id": placement.get("parent_id"),
            "collection_depth": placement.get("depth"),
        }
    for axis in ("x", "y", "z"):
        size = asset.physical_size(axis)
        row[f"physical_size_{axis}"] = size.size if size else None
        row[f"physical_size_{axis}_unit"] = size.unit if size else None
    return row


def _plain(value: Any) -> Any:
    """Tuples become lists; empty tuples become null (no value, not an empty list)."""
    if isinstance(value, tuple):
        return list(value) or None
    return value


def _list(values: tuple[Any, ...] | None) -> list[Any] | None:
    return None if values is None else list(values)


def _json_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))
    return json.dumps(value, default=str)


def write_table_parquet(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write an Arrow table to one Parquet file, atomically (readers see the old
    file or the new one)."""
    import pyarrow.parquet as pq

    return write_atomically(path, lambda staging: pq.write_table(table, staging))
