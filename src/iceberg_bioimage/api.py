"""The public functions: each a short composition of the layers below."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.models import DatasetSummary, DirectoryScan, ScanResult
from iceberg_bioimage.scan import scan_directory, scan_paths, scan_store
from iceberg_bioimage.tables import scan_result_as_arrow_table

__all__ = [
    "scan_as_arrow_table",
    "scan_directory",
    "scan_paths",
    "scan_result_as_arrow_table",
    "scan_store",
    "summarize_scan_result",
    "summarize_store",
    "write_image_assets_parquet",
]


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
    table = scan_result_as_arrow_table(results)
    return write_atomically(path, lambda staging: pq.write_table(table, staging))
