"""Public profile functions: contract validation and joins to images."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.chunks import chunk_index_as_table
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.profiles.io import Aliases, TableLike, as_table, resolve_aliases
from iceberg_bioimage.profiles.join import JoinResult, join_profiles_with_chunk_index
from iceberg_bioimage.profiles.join import join_image_assets_with_profiles as _join
from iceberg_bioimage.profiles.validate import ContractReport, validate_microscopy_profile_columns
from iceberg_bioimage.scan import scan_stores_for
from iceberg_bioimage.tables import scan_result_as_arrow_table

PathLike = str | os.PathLike[str]


def validate_microscopy_profile_table(
    table: TableLike,
    *,
    alias_map: Aliases = None,
    profile_dataset_id: str | None = None,
    sqlite_table: str | None = None,
) -> ContractReport:
    """Check a profile table (Arrow or a file) against the join contract."""
    columns = as_table(table, sqlite_table=sqlite_table).column_names
    return validate_microscopy_profile_columns(
        columns, alias_map=resolve_aliases(alias_map), profile_dataset_id=profile_dataset_id
    )


def join_image_assets_with_profiles(
    image_assets: TableLike,
    profiles: TableLike,
    *,
    how: str = "left",
    alias_map: Aliases = None,
    profile_dataset_id: str | None = None,
    strategy: str | None = None,
    sqlite_table: str | None = None,
) -> JoinResult:
    """Join a profile table (Arrow, or a Parquet / CSV / SQLite file; ``sqlite_table``
    names the table of a SQLite file) to ``image_assets`` rows."""
    return _join(
        as_table(image_assets),
        as_table(profiles, sqlite_table=sqlite_table),
        how=how,
        alias_map=resolve_aliases(alias_map),
        profile_dataset_id=profile_dataset_id,
        strategy=strategy,
    )


def join_profiles_with_scan_result(
    result: ScanResult | Iterable[ScanResult], profiles: TableLike, **options: Any
) -> JoinResult:
    """Join a profile table to the images of one scan result, or several.
    ``include_chunks=True`` makes the joined table one row per (profile row,
    chunk of its image), every level, from the same scan."""
    include_chunks = options.pop("include_chunks", False)
    results = [result] if isinstance(result, ScanResult) else list(result)
    joined = join_image_assets_with_profiles(
        scan_result_as_arrow_table(results), profiles, **options
    )
    if not include_chunks:
        return joined
    per_chunk = join_profiles_with_chunk_index(
        joined.table, chunk_index_as_table(results), level=None
    )
    return JoinResult(per_chunk, joined.report)


def join_profiles_with_store(
    store: PathLike | Iterable[PathLike], profiles: TableLike, **options: Any
) -> JoinResult:
    """Scan a store (or a folder of stores) and join a profile table to its images."""
    scanned = scan_stores_for(store, "join")
    return join_profiles_with_scan_result(scanned.results, profiles, **options)


def join_catalog_image_assets_with_profiles(
    catalog: cat.CatalogLike,
    profiles: TableLike,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    where: str | None = None,
    **options: Any,
) -> JoinResult:
    """Join a profile table to the ``image_assets`` rows of an Iceberg catalog."""
    with cat.opened_catalog(catalog) as resolved:
        assets = cat.catalog_table_to_arrow(
            resolved.catalog, f"{namespace}.image_assets", where=where
        )
    return join_image_assets_with_profiles(assets, profiles, **options)
