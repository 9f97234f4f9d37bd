"""The plate report: ``write_report`` turns a store (or folder), a Cytomining
warehouse root or an Iceberg catalog table into one self-contained HTML page."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage import catalog as cat
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io.atomic import write_atomically
from iceberg_bioimage.io.uri import is_remote
from iceberg_bioimage.profiles.io import Aliases, TableLike, as_table, resolve_aliases
from iceberg_bioimage.profiles.join import match_profile_rows
from iceberg_bioimage.report import WarehouseFacts, build_report
from iceberg_bioimage.scan import scan_stores_for
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA
from iceberg_bioimage.tables import scan_result_as_arrow_table
from iceberg_bioimage.warehouse import open_warehouse, validate_warehouse

PathLike = str | os.PathLike[str]

__all__ = ["ReportResult", "write_report"]


@dataclass
class ReportResult:
    path: Path
    images: int
    plates: int
    wells: int
    thumbnails: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "images": self.images,
            "plates": self.plates,
            "wells": self.wells,
            "thumbnails": self.thumbnails,
            "warnings": self.warnings,
        }


def write_report(
    target: PathLike | Sequence[PathLike],
    output: PathLike,
    *,
    catalog: Any = None,
    profiles: TableLike | None = None,
    feature: str | None = None,
    alias_map: Aliases = None,
    profile_dataset_id: str | None = None,
    backend: str = "auto",
    thumbnails: bool = True,
    title: str | None = None,
) -> ReportResult:
    """Write the report of ``target`` to ``output`` (an .html file, replaced
    atomically). ``target``: stores or folders to scan; a warehouse root; or,
    with ``catalog``, a table name such as ``images.image_assets``.
    ``profiles`` and ``feature`` add a per-well heat map of that feature."""
    images, warnings, warehouse, sources = _gather(target, catalog)
    heat = _feature_by_well(images, profiles, feature, alias_map, profile_dataset_id)
    built = build_report(
        title or f"iceberg-bioimage report: {', '.join(sources)}",
        sources,
        images,
        warnings,
        warehouse=warehouse,
        feature=feature,
        feature_by_well=heat,
        backend=backend,
        thumbnails=thumbnails,
    )
    path = write_atomically(output, lambda staged: Path(staged).write_text(built.page, "utf-8"))
    return ReportResult(
        path=Path(path),
        images=built.images,
        plates=len(built.plates),
        wells=sum(len(p.wells) for p in built.plates),
        thumbnails=built.thumbnails,
        warnings=[f"{where}: {message}" for where, message in warnings] + built.warnings,
    )


def _gather(
    target: PathLike | Sequence[PathLike], catalog: Any
) -> tuple[pa.Table, list[tuple[str, str]], WarehouseFacts | None, list[str]]:
    targets = [target] if isinstance(target, (str, os.PathLike)) else list(target)
    if not targets:
        raise InputError("nothing to report on: give a store, a warehouse root or a table")
    sources = [os.fspath(t) for t in targets]
    if catalog is not None:
        with cat.opened_catalog(catalog) as resolved:
            tables = [cat.catalog_table_to_arrow(resolved.catalog, name) for name in sources]
        return pa.concat_tables(tables, promote_options="permissive"), [], None, sources
    if len(targets) == 1 and _is_warehouse_root(sources[0]):
        return _warehouse(sources[0])
    scanned = scan_stores_for(sources, "report on")
    warnings = [
        (f"{r.dataset_id}: {w.path or '.'}", w.message) for r in scanned.results for w in r.warnings
    ]
    warnings += [("scan", str(e)) for e in scanned.errors]
    return scan_result_as_arrow_table(scanned.results), warnings, None, sources


def _is_warehouse_root(location: str) -> bool:
    if is_remote(location):
        from iceberg_bioimage.io import open_store

        return open_store(location).size("warehouse_manifest.json") is not None
    return os.path.isfile(os.path.join(location, "warehouse_manifest.json"))


def _warehouse(root: str) -> tuple[pa.Table, list[tuple[str, str]], WarehouseFacts, list[str]]:
    opened = open_warehouse(root)
    report = validate_warehouse(root)
    facts = WarehouseFacts(
        root=root,
        tables=[(t.table_name, t.role, t.row_count or 0) for t in opened.manifest.tables],
        findings=[
            (f.level, f.rule, (f"{f.table}: " if f.table else "") + f.message)
            for f in report.findings
        ],
    )
    if "images.image_assets" not in opened.table_names:  # the tables and validation only
        return IMAGE_ASSETS_SCHEMA.empty_table(), [], facts, [root]
    return opened.table("images.image_assets"), [], facts, [root]


def _feature_by_well(
    images: pa.Table,
    profiles: TableLike | None,
    feature: str | None,
    alias_map: Aliases,
    profile_dataset_id: str | None,
) -> dict[tuple[str, str, int, int], float]:
    if feature is None and profiles is None:
        return {}
    if feature is None or profiles is None:
        raise InputError("a feature heat map needs both profiles and a feature name")
    table = as_table(profiles)
    if feature not in table.column_names:
        raise InputError(f"feature {feature!r} is not a column of the profiles")
    match = match_profile_rows(
        images, table, alias_map=resolve_aliases(alias_map), profile_dataset_id=profile_dataset_id
    )
    values = table.column(feature).to_numpy(zero_copy_only=False).astype(np.float64)
    rows = match.images.to_pylist()
    sums: dict[tuple[str, str, int, int], list[float]] = {}
    for position, value in zip(match.positions.tolist(), values.tolist(), strict=True):
        if position < 0 or not np.isfinite(value):
            continue
        row = rows[position]
        if row.get("plate_id") is None or row.get("row_index") is None:
            continue
        key = (row["dataset_id"], row["plate_id"], int(row["row_index"]), int(row["column_index"]))
        sums.setdefault(key, []).append(value)
    return {key: float(np.mean(v)) for key, v in sums.items()}
