"""Exports to Cytomining warehouse roots: image tables, joined profiles, any table.

Every export is one transaction (see ``writer``); identifiers, namespaces and
roles follow the specification, and a write that leaves the namespace
ambiguous is rejected.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from iceberg_bioimage.compat.results import ExportResult010
from iceberg_bioimage.errors import InputError, UnmatchedProfilesError
from iceberg_bioimage.models import ScanResult
from iceberg_bioimage.profiles.contract import AliasMap, resolve_keys
from iceberg_bioimage.profiles.join import (
    IMAGE_PREFIX,
    JoinReport,
    join_image_assets_with_profiles,
)
from iceberg_bioimage.schema import CHUNK_INDEX_SCHEMA
from iceberg_bioimage.tables import scan_result_as_arrow_table
from iceberg_bioimage.warehouse import spec
from iceberg_bioimage.warehouse.identifiers import inferred_profile_level
from iceberg_bioimage.warehouse.root import root_location
from iceberg_bioimage.warehouse.writer import TableWrite, WarehouseWriteError, write_tables

IMAGE_KEYS = ("dataset_id", "image_id")
# How joined profiles point at image_assets (dataset_id, image_id): the link
# columns the join adds (Metadata_-prefixed, so profiling tools keep them).
JOINED_IMAGE_KEYS = tuple(f"{IMAGE_PREFIX}{key}" for key in IMAGE_KEYS)


@dataclass
class ExportResult(ExportResult010):
    """What an export wrote, where, and how the profile join went."""

    warehouse_root: str
    tables: dict[str, int] = field(default_factory=dict)
    join: JoinReport | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.warehouse_root, spec.MANIFEST_FILE)

    def to_dict(self) -> dict[str, Any]:
        return self.with_010_keys(
            {
                "warehouse_root": self.warehouse_root,
                "manifest": self.manifest_path,
                "tables": self.tables,
                "join": self.join.to_dict() if self.join else None,
                "warnings": self.warnings,
            }
        )


def export_scan_results(
    results: Sequence[ScanResult],
    root: str | os.PathLike[str],
    *,
    profiles: pa.Table | None = None,
    profile_dataset_id: str | None = None,
    alias_map: AliasMap | None = None,
    mode: str = "overwrite",
    include_chunks: bool = True,
    how: str = "left",
    keep_unmatched: bool = False,
    profile_level: str | None = None,
    compartment: str | None = None,
    source_ref: str | None = None,
) -> ExportResult:
    """``images.image_assets``, ``images.chunk_index`` and, with ``profiles``,
    ``profiles.joined_profiles`` from scan results, in one transaction."""
    return export_image_tables(
        scan_result_as_arrow_table(results),
        _chunk_batches(results) if include_chunks else None,
        root,
        source_type="store",
        source_ref=source_ref or ", ".join(r.uri for r in results),
        profiles=profiles,
        profile_dataset_id=profile_dataset_id,
        alias_map=alias_map,
        mode=mode,
        how=how,
        keep_unmatched=keep_unmatched,
        profile_level=profile_level,
        compartment=compartment,
    )


def export_image_tables(
    assets: pa.Table,
    chunk_batches: Iterable[pa.RecordBatch] | None,
    root: str | os.PathLike[str],
    *,
    extra: Sequence[TableWrite] = (),
    source_type: str = "iceberg",
    source_ref: str,
    profiles: pa.Table | None = None,
    profile_dataset_id: str | None = None,
    alias_map: AliasMap | None = None,
    mode: str = "overwrite",
    how: str = "left",
    keep_unmatched: bool = False,
    profile_level: str | None = None,
    compartment: str | None = None,
) -> ExportResult:
    """Image tables (and any other tables) in one transaction, with
    ``profiles.joined_profiles`` when profiles are given."""
    writes = [_image_assets_write(assets, mode, source_type, source_ref)] if assets.num_rows else []
    if chunk_batches is not None:
        writes.append(_chunk_index_write(chunk_batches, mode, source_type, source_ref))
    writes += extra
    return _with_profiles(
        root,
        writes,
        assets,
        profiles,
        profile_dataset_id,
        alias_map,
        mode,
        how,
        keep_unmatched,
        profile_level,
        compartment,
    )


def _with_profiles(
    root: str | os.PathLike[str],
    writes: list[TableWrite],
    assets: pa.Table,
    profiles: pa.Table | None,
    profile_dataset_id: str | None,
    alias_map: AliasMap | None,
    mode: str,
    how: str,
    keep_unmatched: bool,
    profile_level: str | None,
    compartment: str | None,
) -> ExportResult:
    report = None
    if profiles is not None:
        joined = join_image_assets_with_profiles(
            assets, profiles, how=how, alias_map=alias_map, profile_dataset_id=profile_dataset_id
        )
        report = joined.report
        report.require_join_key("profiles")
        if not report.matched_rows and not keep_unmatched:
            raise UnmatchedProfilesError(_nothing_matched(report, assets, profile_dataset_id))
        writes.append(
            TableWrite(
                spec.CANONICAL_TABLES["joined_profiles"],
                "joined_profiles",
                joined.table,
                mode,
                join_keys=JOINED_IMAGE_KEYS,
                profile_level=profile_level or inferred_profile_level(profiles.column_names),
                compartment=compartment,
                source_type="profiles",
                source_ref=report.strategy,
            )
        )
    result = commit(root, writes, report)
    if report is not None:
        result.warnings += report.warnings
        if report.unmatched_profile_rows:
            kept = "kept with empty image columns" if how == "left" else "dropped"
            result.warnings.append(
                f"{report.unmatched_profile_rows} profile rows matched no image ({kept})"
            )
    return result


def commit(
    root: str | os.PathLike[str],
    writes: list[TableWrite],
    join: JoinReport | None = None,
    warnings: Sequence[str] = (),
) -> ExportResult:
    """Write tables in one transaction and report what was written where."""
    return ExportResult(root_location(root), write_tables(root, writes), join, list(warnings))


def _nothing_matched(report: JoinReport, assets: pa.Table, profile_dataset_id: str | None) -> str:
    """One line naming the keys compared on both sides, and their values."""
    image_side = {
        "image_id": ("dataset_id", "image_id"),
        "plate_well_site": ("dataset_id", "plate_id", "well_id", "site_id"),
        "file_name": ("source_files",),
    }[report.strategy or "image_id"]
    datasets = sorted(set(assets.column("dataset_id").to_pylist()))[:5] if assets.num_rows else []
    given = f"; profile dataset id {profile_dataset_id!r}" if profile_dataset_id else ""
    return (
        f"no profile row matched an image: {report.strategy} compared profile columns "
        f"{', '.join(report.keys.values())} with image_assets {', '.join(image_side)} "
        f"(image dataset ids: {', '.join(datasets) or 'none'}{given}); nothing was written "
        "(--keep-unmatched exports the rows anyway)"
    )


def _image_assets_write(assets: pa.Table, mode: str, source_type: str, ref: str) -> TableWrite:
    return TableWrite(
        spec.CANONICAL_TABLES["image_assets"],
        "image_assets",
        assets,
        mode,
        join_keys=IMAGE_KEYS,
        source_type=source_type,
        source_ref=ref,
    )


def _chunk_index_write(
    batches: Iterable[pa.RecordBatch], mode: str, source_type: str, ref: str
) -> TableWrite:
    return TableWrite(
        spec.CANONICAL_TABLES["chunk_index"],
        "chunk_index",
        batches,
        mode,
        join_keys=IMAGE_KEYS,
        source_type=source_type,
        source_ref=ref,
    )


def _chunk_batches(results: Sequence[ScanResult]) -> Iterator[pa.RecordBatch]:
    from iceberg_bioimage.chunks import scan_result_to_chunk_index

    for result in results:
        for batch in scan_result_to_chunk_index(result):
            yield batch.cast(CHUNK_INDEX_SCHEMA) if batch.schema != CHUNK_INDEX_SCHEMA else batch


# -- profile and generic tables --------------------------------------------
def table_write(
    data: pa.Table | Iterable[pa.RecordBatch],
    *,
    table_name: str,
    role: str,
    namespace: str | None = None,
    mode: str = "append",
    join_keys: Sequence[str] = (),
    source_type: str | None = None,
    source_ref: str | None = None,
    profile_level: str | None = None,
    compartment: str | None = None,
    role_description: str | None = None,
    notes: list[str] | None = None,
) -> TableWrite:
    """A write placed by the specification's rules: known (or documented) role,
    the namespace the role requires, canonical names for canonical roles, join
    keys among the table's columns. A role with several possible namespaces
    and none given goes to its documented default, said in ``notes``."""
    if isinstance(data, pa.Table):
        missing = [k for k in join_keys if k not in data.column_names]
        if missing:
            raise InputError(f"join keys not among the table's columns: {', '.join(missing)}")
    if (
        role not in spec.KNOWN_ROLES
        and not spec.is_quality_control_role(role)
        and not role_description
    ):
        raise WarehouseWriteError(
            f"role '{role}' is not in the role vocabulary ({', '.join(spec.KNOWN_ROLES)}); "
            "a project-specific role needs a role_description documenting its meaning"
        )
    given_namespace, name = _split_name(table_name, namespace)
    required = (
        spec.QUALITY_CONTROL
        if spec.is_quality_control_role(role)
        else spec.ROLE_NAMESPACE.get(role)
    )
    if given_namespace and required and given_namespace != required:
        raise WarehouseWriteError(
            f"role '{role}' tables belong in namespace '{required}', not '{given_namespace}'"
        )
    chosen = given_namespace or required
    if chosen is None:
        chosen = spec.DEFAULT_NAMESPACE.get(role, spec.DEFAULT_OTHER_NAMESPACE)
        if notes is not None:
            notes.append(
                f"role '{role}' may live in several namespaces: wrote {chosen}.{name} "
                "(name another with --namespace)"
            )
    identifier = f"{chosen}.{name}"
    canonical = spec.CANONICAL_TABLES.get(role)
    if canonical and identifier != canonical:
        raise WarehouseWriteError(f"a '{role}' table must be named {canonical}, not {identifier}")
    return TableWrite(
        identifier,
        role,
        data,
        mode,
        tuple(join_keys),
        profile_level,
        compartment,
        role_description,
        source_type,
        source_ref,
    )


def _split_name(table_name: str, namespace: str | None) -> tuple[str | None, str]:
    if "." in table_name:
        given, name = table_name.rsplit(".", 1)
        if namespace and namespace != given:
            raise InputError(f"table {table_name} conflicts with namespace {namespace}")
        return given, name
    return namespace, table_name


def profile_table_write(
    profiles: pa.Table,
    *,
    table_name: str,
    profile_dataset_id: str | None = None,
    alias_map: AliasMap | None = None,
    role: str | None = None,
    namespace: str | None = None,
    mode: str = "append",
    profile_level: str | None = None,
    compartment: str | None = None,
    source_type: str = "profiles",
    source_ref: str | None = None,
) -> tuple[TableWrite, list[str]]:
    """A profile (or QC) table write: keys from the contract (custom aliases
    included), a ``dataset_id`` column added from ``profile_dataset_id`` when the
    table has none, and coSMicQC outputs recognised as quality-control data."""
    notes = []
    keys = resolve_keys(profiles.column_names, alias_map)
    if keys["dataset_id"].column is None and profile_dataset_id:
        profiles = profiles.append_column(
            "dataset_id", pa.repeat(profile_dataset_id, profiles.num_rows)
        )
        keys = resolve_keys(profiles.column_names, alias_map)
    if role is None:
        role = (
            "quality_control" if spec.holds_quality_control(profiles.column_names) else "profiles"
        )
        if role == "quality_control":
            notes.append(f"{table_name}: coSMicQC columns found, written as quality_control data")
    join_keys = [r.column for r in keys.values() if r.column is not None]
    write = table_write(
        profiles,
        table_name=table_name,
        role=role,
        namespace=namespace,
        mode=mode,
        join_keys=join_keys,
        source_type=source_type,
        source_ref=source_ref,
        profile_level=profile_level or inferred_profile_level(profiles.column_names, alias_map),
        compartment=compartment,
    )
    return write, notes
