"""Joining profile tables to ``image_assets``, with a report of what matched.

Image rows have unique keys, so the join is a lookup: every key column of
both sides becomes integer codes (the position of its normalised value among
the image side's distinct values), the codes of a row are combined into one
int64, and ``index_in`` finds each profile row's image row. Profile rows are
never multiplied and keep their order; image columns are added by ``take``.

Strategies, in order, from the keys both sides carry: ``image_id``
(``dataset_id`` + ``image_id``), ``plate_well_site`` (``dataset_id`` + plate,
well, site) and ``file_name`` (``Image_FileName_*`` against the files of the
images). The first that matches any row is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.profiles import normalize
from iceberg_bioimage.profiles.contract import AliasMap, FileColumns, file_columns, resolve_keys

IMAGE_PREFIX = "image_assets_"
STRATEGIES = ("image_id", "plate_well_site", "file_name")
KEY_COLUMNS = ("dataset_id", "image_id", "plate_id", "well_id", "site_id")
IMAGE_COLUMNS = (
    "dataset_id",
    "image_id",
    "uri",
    "image_path",
    "array_path",
    "format_family",
    "image_kind",
    "plate_id",
    "well_id",
    "site_id",
    "shape",
    "dtype",
    "axes_order",
    "channel_names",
    "physical_size_x",
    "physical_size_y",
    "physical_size_z",
    "level_count",
    "source_files",
)


@dataclass
class JoinReport:
    """What a join did: the strategy, the columns used, and what matched."""

    strategy: str | None
    how: str
    keys: dict[str, str] = field(default_factory=dict)  # contract key -> profile column
    profile_rows: int = 0
    matched_rows: int = 0
    unmatched_profile_rows: int = 0
    image_rows: int = 0
    unmatched_images: int = 0
    dropped_rows: int = 0
    site_offset: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class JoinResult:
    table: pa.Table
    report: JoinReport


@dataclass
class _Plan:
    strategy: str
    positions: pa.ChunkedArray  # image row per profile row (null: unmatched)
    images: pa.Table  # the image rows the positions refer to
    keys: dict[str, str]
    site_offset: int = 0
    also_used: list[pa.ChunkedArray] = field(default_factory=list)  # other channels' images


def join_image_assets_with_profiles(
    image_assets: pa.Table,
    profiles: pa.Table,
    *,
    how: str = "left",
    alias_map: AliasMap | None = None,
    profile_dataset_id: str | None = None,
    strategy: str | None = None,
) -> JoinResult:
    """Join ``profiles`` to ``image_assets`` rows, never multiplying a profile row.

    ``how="left"`` keeps unmatched profile rows (image columns null);
    ``"inner"`` drops them and says how many. ``profile_dataset_id`` fills a
    missing (or null) dataset id. ``strategy`` forces one of ``STRATEGIES``.
    """
    if how not in ("left", "inner"):
        raise InputError(f"how must be 'left' or 'inner', not {how!r}")
    if strategy is not None and strategy not in STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}")
    plan, notes = _choose(image_assets, profiles, alias_map, profile_dataset_id, strategy)
    report = JoinReport(strategy=plan.strategy if plan else None, how=how, warnings=notes)
    report.profile_rows = profiles.num_rows
    if plan is None:
        report.unmatched_profile_rows = profiles.num_rows
        if how == "inner":
            report.dropped_rows = profiles.num_rows
            return JoinResult(_with_images(profiles.slice(0, 0), None, image_assets), report)
        return JoinResult(_with_images(profiles, None, image_assets), report)
    positions = plan.positions
    matched_mask = pc.is_valid(positions)
    report.keys = plan.keys
    report.site_offset = plan.site_offset
    report.matched_rows = pc.sum(matched_mask).as_py() or 0
    report.unmatched_profile_rows = report.profile_rows - report.matched_rows
    report.image_rows = plan.images.num_rows
    report.unmatched_images = report.image_rows - _count_used(positions, plan.also_used)
    table = profiles
    if how == "inner":
        table = profiles.filter(matched_mask)
        positions = positions.filter(matched_mask)
        report.dropped_rows = report.unmatched_profile_rows
    return JoinResult(_with_images(table, positions, plan.images), report)


def _count_used(positions: pa.ChunkedArray, others: list[pa.ChunkedArray]) -> int:
    """Distinct image rows any profile row refers to."""
    used = pa.chunked_array([*positions.chunks, *(c for o in others for c in o.chunks)], pa.int64())
    return pc.count_distinct(used.filter(pc.is_valid(used))).as_py() or 0


def _with_images(
    profiles: pa.Table, positions: pa.ChunkedArray | None, images: pa.Table
) -> pa.Table:
    """Profile columns untouched, then the image columns under clear names."""
    names = [c for c in IMAGE_COLUMNS if c in images.column_names]
    if positions is None:
        taken = pa.table(
            {n: pa.nulls(profiles.num_rows, images.schema.field(n).type) for n in names}
        )
    else:
        taken = images.select(names).take(positions)
    result = profiles
    for name in KEY_COLUMNS:  # canonical keys, where the profile table has none
        if name in names and name not in result.column_names:
            result = result.append_column(_optional_field(images, name), taken.column(name))
    for name in names:
        column = IMAGE_PREFIX + name
        if column not in result.column_names:
            result = result.append_column(
                _optional_field(images, name).with_name(column), taken.column(name)
            )
    return result


def _optional_field(table: pa.Table, name: str) -> pa.Field:
    return table.schema.field(name).with_nullable(True)


# -- strategy choice --------------------------------------------------------
def _choose(
    images: pa.Table,
    profiles: pa.Table,
    alias_map: AliasMap | None,
    profile_dataset_id: str | None,
    forced: str | None,
) -> tuple[_Plan | None, list[str]]:
    resolved = {k: r.column for k, r in resolve_keys(profiles.column_names, alias_map).items()}
    dataset = _profile_dataset(profiles, resolved.get("dataset_id"), profile_dataset_id)
    builders: dict[str, Callable[[], _Plan | None]] = {
        "image_id": lambda: _by_image_id(images, profiles, resolved, dataset),
        "plate_well_site": lambda: _by_plate_well_site(images, profiles, resolved, dataset),
        "file_name": lambda: _by_file_name(images, profiles, file_columns(profiles.column_names)),
    }
    notes: list[str] = []
    first: _Plan | None = None
    for name in [forced] if forced else STRATEGIES:
        plan = builders[name]()  # type: ignore[index]
        if plan is None:
            continue
        if pc.sum(pc.is_valid(plan.positions)).as_py():
            return plan, notes
        notes.append(f"strategy {name} is possible but matched no row")
        first = first or plan
    return first, notes


def _profile_dataset(
    profiles: pa.Table, column: str | None, fill: str | None
) -> pa.ChunkedArray | None:
    if column is None:
        return pa.chunked_array([pa.repeat(fill, profiles.num_rows)]) if fill else None
    values = normalize.normalize_text(profiles.column(column))
    return pc.fill_null(values, fill) if fill else values


def _by_image_id(
    images: pa.Table,
    profiles: pa.Table,
    resolved: dict[str, str | None],
    dataset: pa.ChunkedArray | None,
) -> _Plan | None:
    column = resolved.get("image_id")
    if column is None:
        return None
    parts = [(normalize.normalize_text(profiles.column(column)), images.column("image_id"))]
    keys = {"image_id": column}
    if dataset is not None:
        parts.insert(0, (dataset, images.column("dataset_id")))
        keys["dataset_id"] = resolved.get("dataset_id") or "(profile_dataset_id)"
    return _Plan("image_id", _lookup(parts), images, keys)


def _by_plate_well_site(
    images: pa.Table,
    profiles: pa.Table,
    resolved: dict[str, str | None],
    dataset: pa.ChunkedArray | None,
) -> _Plan | None:
    columns = [resolved.get(k) for k in ("plate_id", "well_id", "site_id")]
    if None in columns:
        return None
    candidates = images.filter(
        pc.and_(
            pc.equal(images.column("image_kind"), "image"), pc.is_valid(images.column("well_id"))
        )
    )
    if not candidates.num_rows:
        return None
    plate, well, site = (profiles.column(c) for c in columns)  # type: ignore[arg-type]
    profile_sites = normalize.normalize_sites(site)
    offset = _site_offset(profile_sites, candidates.column("site_id"))
    parts = [
        (normalize.normalize_text(plate), normalize.normalize_text(candidates.column("plate_id"))),
        (normalize.normalize_wells(well), candidates.column("well_id")),
        (
            pc.subtract(profile_sites, offset) if offset else profile_sites,
            candidates.column("site_id"),
        ),
    ]
    keys = dict(zip(("plate_id", "well_id", "site_id"), columns, strict=True))  # type: ignore[arg-type]
    if dataset is not None:
        parts.insert(0, (dataset, candidates.column("dataset_id")))
        keys["dataset_id"] = resolved.get("dataset_id") or "(profile_dataset_id)"
    return _Plan("plate_well_site", _lookup(parts), candidates, keys, offset)


def _site_offset(profile_sites: pa.ChunkedArray, image_sites: pa.ChunkedArray) -> int:
    """1 when the profile numbers sites from 1 and the images from 0 (CellProfiler
    vs OME), judged by which reading shares more distinct sites."""
    theirs = set(pc.unique(profile_sites).to_pylist()) - {None}
    ours = set(pc.unique(image_sites).to_pylist()) - {None}
    as_is, shifted = len(theirs & ours), len({s - 1 for s in theirs} & ours)
    return 1 if shifted > as_is else 0


def _by_file_name(images: pa.Table, profiles: pa.Table, files: FileColumns) -> _Plan | None:
    if not files.names or "source_files" not in images.column_names:
        return None
    lookup = _file_lookup(images)
    if not lookup:
        return None
    names = pa.array(list(lookup), pa.string())
    rows = pa.array(list(lookup.values()), pa.int64())
    found = []
    for channel, column in files.names.items():
        base = _basenames(profiles.column(column))
        path_column = files.paths.get(channel)
        if path_column is not None:  # "folder/name" first: disambiguates equal names
            qualified = _qualified(profiles.column(path_column), base)
            found.append(pc.index_in(qualified, value_set=names))
        found.append(pc.index_in(base, value_set=names))
    position_in_lookup = pc.coalesce(*found) if len(found) > 1 else found[0]
    positions = pc.take(rows, position_in_lookup)
    keys = {"file_name": ", ".join(files.names.values())}
    others = [_chunked(pc.take(rows, f)) for f in found]
    return _Plan("file_name", _chunked(positions), images, keys, also_used=others)


def _file_lookup(images: pa.Table) -> dict[str, int]:
    """File name (and ``folder/name``) -> image row, for unambiguous names."""
    counts: dict[str, int] = {}
    entries: list[tuple[str, int]] = []
    for row, files in enumerate(images.column("source_files").to_pylist()):
        for path in files or ():
            name = os.path.basename(path)
            folder = os.path.basename(os.path.dirname(path))
            entries += [(name, row), (f"{folder}/{name}", row)]
            counts[name] = counts.get(name, 0) + 1
    return {key: row for key, row in entries if "/" in key or counts[key] == 1}


def _basenames(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return normalize._by_dictionary(values, _basename, pa.string())


def _basename(value: Any) -> str | None:
    return os.path.basename(str(value).replace("\\", "/")) if value else None


def _qualified(paths: pa.ChunkedArray, names: pa.ChunkedArray) -> pa.ChunkedArray:
    folders = normalize._by_dictionary(paths, _basename, pa.string())
    return pc.binary_join_element_wise(folders, names, "/")


# -- the lookup -------------------------------------------------------------
def _lookup(
    parts: list[tuple[pa.ChunkedArray | pa.Array, pa.ChunkedArray | pa.Array]],
) -> pa.ChunkedArray:
    """Image row of every profile row: each key part is coded against the image
    side's distinct values, the codes are combined into one int64, and image
    rows with a repeated key keep their first occurrence."""
    profile_code: Any = None
    image_code: Any = None
    for profile_values, image_values in parts:
        reference = pc.unique(_chunked(image_values).combine_chunks().drop_null())
        size = max(len(reference), 1)
        theirs = _chunked(pc.index_in(profile_values, value_set=reference)).cast(pa.int64())
        ours = _chunked(pc.index_in(image_values, value_set=reference)).cast(pa.int64())
        profile_code = (
            theirs if profile_code is None else pc.add(pc.multiply(profile_code, size), theirs)
        )
        image_code = ours if image_code is None else pc.add(pc.multiply(image_code, size), ours)
    image_codes = _chunked(image_code).combine_chunks()
    first = _first_occurrences(image_codes)
    positions = pc.index_in(profile_code, value_set=image_codes.take(first))
    return _chunked(pc.take(pa.array(first, pa.int64()), positions))


def _first_occurrences(codes: pa.Array) -> np.ndarray:
    values = codes.to_numpy(zero_copy_only=False)
    valid = ~pc.is_null(codes).to_numpy(zero_copy_only=False)
    index = np.flatnonzero(valid)
    _, first = np.unique(values[valid], return_index=True)
    return np.sort(index[first])


def _chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
