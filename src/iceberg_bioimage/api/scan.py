"""Public scan functions: stores to scan results, summaries and Arrow tables."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from iceberg_bioimage.chunks import chunk_index_as_table
from iceberg_bioimage.models import DatasetSummary, DirectoryScan, ScanResult
from iceberg_bioimage.scan import scan_store, scan_stores_for
from iceberg_bioimage.tables import scan_result_as_arrow_table, write_table_parquet


def summarize_scan_result(result: ScanResult) -> DatasetSummary:
    """A compact description of a scan: variants, plates, shapes, axes, warnings."""
    return DatasetSummary.from_scan_result(result)


def summarize_store(
    uri: str | os.PathLike[str], *, dataset_id: str | None = None
) -> DatasetSummary:
    """Scan a store and summarise it."""
    return summarize_scan_result(scan_store(uri, dataset_id=dataset_id))


def scan_as_arrow_table(uri: str | os.PathLike[str], *, dataset_id: str | None = None) -> pa.Table:
    """Scan a store and return its canonical ``image_assets`` table."""
    return scan_result_as_arrow_table(scan_store(uri, dataset_id=dataset_id))


def write_image_assets_parquet(
    results: ScanResult | DirectoryScan | Iterable[ScanResult],
    path: str | os.PathLike[str],
) -> Path:
    """Write the ``image_assets`` rows of scan results to one Parquet file, atomically."""
    if isinstance(results, DirectoryScan):
        results = results.results
    return write_table_parquet(scan_result_as_arrow_table(results), path)


def chunk_index_table(
    result: ScanResult | str | os.PathLike[str], *, stat: bool = True, byte_ranges: bool = False
) -> pa.Table:
    """The whole ``chunk_index`` of one scan (or of the stores at a path) as a
    table, for small stores; large ones should stream
    :func:`scan_result_to_chunk_index` batches."""
    if isinstance(result, ScanResult):
        results: Iterable[ScanResult] = [result]
    else:
        results = scan_stores_for(result, "index").results
    return chunk_index_as_table(results, stat=stat, byte_ranges=byte_ranges)
