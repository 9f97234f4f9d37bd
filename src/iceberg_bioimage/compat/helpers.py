"""0.1.0's helpers that today's API has no name for, each a few lines over it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import iceberg_bioimage as ib
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.profiles.contract import BUILTIN_ALIASES, resolve_keys


def scan_result_to_rows(scan_result: ib.ScanResult) -> list[dict[str, object]]:
    """The ``image_assets`` rows of a scan, as dictionaries."""
    return ib.scan_result_as_arrow_table(scan_result).to_pylist()


def scan_result_to_chunk_rows(scan_result: ib.ScanResult) -> list[dict[str, object]]:
    """The ``chunk_index`` rows of a scan, as dictionaries."""
    return ib.chunk_index_table(scan_result).to_pylist()


def publish_profile_table(arrow_table: Any, catalog: Any, namespace: str, table_name: str) -> int:
    """Write a profile table to ``<namespace>.<table_name>``; the rows written."""
    result = ib.register_profile_table(
        arrow_table, catalog, namespace=namespace, table_name=table_name
    )
    return int(result)


def delete_dataset_rows(catalog: Any, namespace: str, table_name: str, dataset_id: str) -> None:
    """Remove a dataset's rows. Today a dataset leaves both image tables
    together (chunk rows never outlive their image rows)."""
    del table_name  # always the canonical image tables now
    ib.deregister_store(dataset_id, catalog, namespace=namespace)


def validate_scan_result(scan_result: ib.ScanResult) -> list[str]:
    """What is wrong with a scan: no assets, and every warning it raised."""
    problems = [] if scan_result.image_assets else ["the scan found no image assets"]
    return problems + [str(w) for w in scan_result.warnings]


def raise_for_invalid_scan_result(scan_result: ib.ScanResult) -> None:
    problems = validate_scan_result(scan_result)
    if problems:
        raise InputError("; ".join(problems))


def resolve_microscopy_profile_columns(
    columns: Iterable[str], *, alias_map: Mapping[str, Iterable[str]] | None = None
) -> dict[str, str | None]:
    """The column each contract key resolves to (None when absent)."""
    return {key: found.column for key, found in resolve_keys(list(columns), alias_map).items()}


def profile_column_aliases() -> Mapping[str, tuple[str, ...]]:
    """The built-in aliases of each contract key."""
    return dict(BUILTIN_ALIASES)
