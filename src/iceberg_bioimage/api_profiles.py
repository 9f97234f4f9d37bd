"""Public profile functions: contract validation and joins to images."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.profiles.contract import load_profile_column_aliases
from iceberg_bioimage.profiles.io import read_profile_table, table_name_for
from iceberg_bioimage.profiles.join import JoinResult
from iceberg_bioimage.profiles.join import join_image_assets_with_profiles as _join
from iceberg_bioimage.profiles.validate import ContractReport, validate_microscopy_profile_columns
from iceberg_bioimage.scan import scan_paths
from iceberg_bioimage.tables import scan_result_as_arrow_table

PathLike = str | os.PathLike[str]
Aliases = Mapping[str, Iterable[str]] | PathLike | None
TableLike = pa.Table | PathLike


def resolve_aliases(alias_map: Aliases) -> dict[str, list[str]] | None:
    """An alias map as given, or loaded from a TOML file path."""
    if alias_map is None:
        return None
    if isinstance(alias_map, (str, os.PathLike)):
        return load_profile_column_aliases(alias_map)
    return {k: list(v) for k, v in alias_map.items()}


def as_table(table: TableLike, *, sqlite_table: str | None = None) -> pa.Table:
    return (
        table
        if isinstance(table, pa.Table)
        else read_profile_table(table, sqlite_table=sqlite_table)
    )


def named_table(
    table: TableLike, table_name: str | None, *, sqlite_table: str | None = None
) -> tuple[pa.Table, str]:
    """A table and the name it is stored under: ``table_name``, else the file's
    (or SQLite table's) name; an in-memory table must be named."""
    if table_name is None:
        if isinstance(table, pa.Table):
            raise InputError("table_name is required for an in-memory table")
        table_name = table_name_for(sqlite_table or table)
    return as_table(table, sqlite_table=sqlite_table), table_name


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
) -> JoinResult:
    """Join a profile table to ``image_assets`` rows (Arrow tables or Parquet files)."""
    assets = (
        image_assets if isinstance(image_assets, pa.Table) else read_profile_table(image_assets)
    )
    return _join(
        assets,
        as_table(profiles),
        how=how,
        alias_map=resolve_aliases(alias_map),
        profile_dataset_id=profile_dataset_id,
        strategy=strategy,
    )


def join_profiles_with_scan_result(
    result: ScanResult | Iterable[ScanResult], profiles: TableLike, **options: Any
) -> JoinResult:
    """Join a profile table to the images of one scan result, or several."""
    return join_image_assets_with_profiles(scan_result_as_arrow_table(result), profiles, **options)


def join_profiles_with_store(
    store: PathLike | Iterable[PathLike], profiles: TableLike, **options: Any
) -> JoinResult:
    """Scan a store (or a folder of stores) and join a profile table to its images."""
    uris = [store] if isinstance(store, (str, os.PathLike)) else list(store)
    scanned = scan_paths(uris)
    if not scanned.results:
        raise InputError(
            f"no images to join: {scanned.errors[0] if scanned.errors else 'no stores'}"
        )
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
