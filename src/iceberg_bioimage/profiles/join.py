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

from iceberg_bioimage.compat.results import Table010
from iceberg_bioimage.display import html_table
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.profiles import normalize
from iceberg_bioimage.profiles.contract import (
    IMAGE_NUMBER_COLUMNS,
    AliasMap,
    FileColumns,
    file_columns,
    resolve_keys,
)

# Columns we add follow the Cytomining convention: metadata columns start with
# ``Metadata_``, so pycytominer and coSMicQC keep them as metadata (never as
# features) and the rows keep pointing at their images after normalisation.
LINK_PREFIX = "Metadata_"
IMAGE_PREFIX = "Metadata_image_assets_"
STRATEGIES = ("image_id", "plate_well_site", "file_name")
KEY_COLUMNS = ("dataset_id", "image_id", "plate_id", "well_id", "site_id")
# Scalar image columns only: a profile table has millions of rows, and lists
# (shape, channels, files) stay one join away in image_assets.
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
    "shape_json",
    "dtype",
    "axes_order",
    "physical_size_x",
    "physical_size_y",
    "physical_size_x_unit",
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

    def require_join_key(self, source: str) -> None:
        """Raise (naming ``source``) when the profiles had nothing to join on:
        writing them would only add empty image columns."""
        if self.strategy is None:
            reason = next((w for w in self.warnings if w.startswith(NO_JOIN_KEY)), NO_JOIN_KEY)
            raise InputError(f"{source}: {reason}")


@dataclass
class JoinResult(Table010):
    table: pa.Table
    report: JoinReport

    def __repr__(self) -> str:
        r = self.report
        return (
            f"JoinResult(strategy={r.strategy!r}, matched={r.matched_rows}/{r.profile_rows}, "
            f"rows={self.table.num_rows}, columns={self.table.num_columns})"
        )

    def _repr_html_(self) -> str:
        r = self.report
        facts = [
            ("strategy", r.strategy),
            ("keys", [f"{k}: {c}" for k, c in r.keys.items()]),
            ("profile rows matched", f"{r.matched_rows} of {r.profile_rows}"),
            ("images used", f"{r.image_rows - r.unmatched_images} of {r.image_rows}"),
            ("warnings", r.warnings),
        ]
        shown = [c for c in self.table.column_names if c.startswith("Metadata_")][:8]
        head = self.table.select(shown).slice(0, 10).to_pylist()
        return html_table(facts, caption="Join") + html_table(
            ([row[c] for c in shown] for row in head), shown, caption="First rows"
        )


@dataclass
class _Plan:
    strategy: str
    positions: np.ndarray  # image row per profile row, -1 when unmatched
    images: pa.Table  # the image rows the positions refer to
    keys: dict[str, str]
    site_offset: int = 0
    channels: dict[str, np.ndarray] = field(default_factory=dict)  # image row per channel


@dataclass(frozen=True)
class _Part:
    """One key: a profile column and an image column, each with its normaliser."""

    profile: pa.ChunkedArray
    profile_normalize: Callable[[Any], Any]
    image: pa.ChunkedArray
    image_normalize: Callable[[Any], Any]
    type: pa.DataType


NO_JOIN_KEY = "no join key: the profiles need image_id, plate+well(+site) or file-name columns"


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
    Image columns arrive as plain arrays (every reader takes them: pandas,
    Polars, Parquet writers); the profile columns are the input's own.
    """
    if how not in ("left", "inner"):
        raise InputError(f"how must be 'left' or 'inner', not {how!r}")
    if strategy is not None and strategy not in STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}")
    plan, notes = _choose(image_assets, profiles, alias_map, profile_dataset_id, strategy)
    report = JoinReport(strategy=plan.strategy if plan else None, how=how, warnings=notes)
    report.profile_rows = profiles.num_rows
    channels: dict[str, np.ndarray] = {}
    if plan is None:
        positions = np.full(profiles.num_rows, -1, np.int32)
        images = image_assets
        report.image_rows = report.unmatched_images = images.num_rows
    else:
        positions, images = plan.positions, plan.images
        report.keys, report.site_offset = plan.keys, plan.site_offset
        report.image_rows = images.num_rows
        report.unmatched_images = images.num_rows - _count_used(
            [positions, *plan.channels.values()]
        )
        channels = plan.channels
    matched = positions >= 0
    report.matched_rows = int(matched.sum())
    report.unmatched_profile_rows = report.profile_rows - report.matched_rows
    if plan is not None and not report.matched_rows:
        report.warnings.append(
            f"NO profile row matched an image (strategy {plan.strategy}, profile columns "
            f"{', '.join(plan.keys.values())}): check the keys, or --profile-dataset-id"
        )
    table = profiles
    if how == "inner" and report.unmatched_profile_rows:
        table = profiles.filter(pa.array(matched))
        positions = positions[matched]
        channels = {c: rows[matched] for c, rows in channels.items()}
        report.dropped_rows = report.unmatched_profile_rows
    joined = _with_images(table, positions, images)
    return JoinResult(_with_channel_files(joined, channels, images), report)


@dataclass(frozen=True)
class ProfileMatch:
    """Each profile row's image row (-1: none) and, for a file-name join, its
    image row per channel file; the strategy and the notes of the choice."""

    strategy: str | None
    positions: np.ndarray
    images: pa.Table
    channels: dict[str, np.ndarray]
    warnings: list[str]


def match_profile_rows(
    image_assets: pa.Table,
    profiles: pa.Table,
    *,
    alias_map: AliasMap | None = None,
    profile_dataset_id: str | None = None,
    strategy: str | None = None,
) -> ProfileMatch:
    """The join's lookup alone, for work that needs image rows rather than a
    joined table (pixel crops)."""
    plan, notes = _choose(image_assets, profiles, alias_map, profile_dataset_id, strategy)
    if plan is None:
        none = np.full(profiles.num_rows, -1, np.int32)
        return ProfileMatch(None, none, image_assets, {}, notes)
    return ProfileMatch(plan.strategy, plan.positions, plan.images, plan.channels, notes)


def _count_used(positions: list[np.ndarray]) -> int:
    """Distinct image rows any profile row refers to."""
    used = np.concatenate(positions) if positions else np.empty(0, np.int32)
    return int(np.unique(used[used >= 0]).size)


def _with_images(profiles: pa.Table, positions: np.ndarray, images: pa.Table) -> pa.Table:
    """Profile columns untouched, then the image columns as plain arrays (valid
    for every reader): ``Metadata_<key>`` for the canonical keys the profile
    does not carry yet, and ``Metadata_image_assets_<column>`` for each."""
    names = [c for c in IMAGE_COLUMNS if c in images.column_names]
    indices = pa.array(positions, pa.int32(), mask=positions < 0)
    added = {name: images.column(name).take(indices) for name in names}
    result = profiles
    for name in KEY_COLUMNS:
        label = LINK_PREFIX + name
        if name in added and label not in result.column_names:
            result = result.append_column(_field(images, name, label), added[name])
    for name, column in added.items():
        if IMAGE_PREFIX + name not in result.column_names:
            result = result.append_column(_field(images, name, IMAGE_PREFIX + name), column)
    return result


def _with_channel_files(
    table: pa.Table, channels: dict[str, np.ndarray], images: pa.Table
) -> pa.Table:
    """For a file-name join: every channel's file of the row's field of view as
    ``Image_FileName_<channel>`` and ``Image_PathName_<channel>`` (the plain
    folder the file was found in), the columns CellProfiler writes and
    CytoDataFrame reads; rows whose channel file was not found keep theirs."""
    if not channels:
        return table
    files = images.column("source_files").to_pylist()
    folders = pa.array([os.path.dirname(f[0]) if f else None for f in files], pa.string())
    names = pa.array([os.path.basename(f[0]) if f else None for f in files], pa.string())
    for channel, rows in channels.items():
        indices = pa.array(rows, pa.int32(), mask=rows < 0)
        for kind, values in (("FileName", names), ("PathName", folders)):
            label = f"Image_{kind}_{channel}"
            found = values.take(indices)
            if label in table.column_names:
                old = table.column(label).cast(pa.string())
                merged = pc.if_else(pc.is_valid(found), found, old)
                table = table.set_column(table.column_names.index(label), label, merged)
            else:
                table = table.append_column(label, found)
    return table


def _field(table: pa.Table, name: str, label: str) -> pa.Field:
    return table.schema.field(name).with_name(label).with_nullable(True)


# -- strategy choice --------------------------------------------------------
def _choose(
    images: pa.Table,
    profiles: pa.Table,
    alias_map: AliasMap | None,
    profile_dataset_id: str | None,
    forced: str | None,
) -> tuple[_Plan | None, list[str]]:
    resolved = {k: r.column for k, r in resolve_keys(profiles.column_names, alias_map).items()}
    dataset = _dataset_part(profiles, resolved.get("dataset_id"), profile_dataset_id)
    builders: dict[str, Callable[[], _Plan | None]] = {
        "image_id": lambda: _by_image_id(images, profiles, resolved, dataset),
        "plate_well_site": lambda: _by_plate_well_site(images, profiles, resolved, dataset),
        "file_name": lambda: _by_file_name(
            images, profiles, file_columns(profiles.column_names), dataset
        ),
    }
    notes: list[str] = []
    first: _Plan | None = None
    for name in [forced] if forced else STRATEGIES:
        plan = builders[name]()  # type: ignore[index]
        if plan is None:
            continue
        if (plan.positions >= 0).any():
            return plan, notes
        notes.append(f"strategy {name} is possible but matched no row")
        first = first or plan
    if first is None:
        notes.append(NO_JOIN_KEY + _keyless_detail(profiles.column_names, resolved))
    return first, notes


def _keyless_detail(columns: list[str], resolved: dict[str, str | None], shown: int = 8) -> str:
    """What the profiles without a join key hold, short enough for one line,
    and what they lack: a site beside plate and well, or, in a CellProfiler
    object table, the Image table's keys."""
    listed = ", ".join(columns[:shown]) or "none"
    if len(columns) > shown:
        listed += f" and {len(columns) - shown} more"
    detail = f" (columns: {listed})"
    plate, well = resolved.get("plate_id"), resolved.get("well_id")
    if plate and well and not resolved.get("site_id"):
        detail += (
            f"; plate and well found ({plate}, {well}) but no site, and the images"
            " are not one per well: add the site (Metadata_Site) or file names"
        )
    elif not set(IMAGE_NUMBER_COLUMNS).isdisjoint(columns):
        detail += (
            "; a CellProfiler object table names its images by ImageNumber only:"
            " join its Image table, or the table CytoTable merges from both"
        )
    return detail


def _dataset_part(
    profiles: pa.Table, column: str | None, fill: str | None
) -> tuple[pa.ChunkedArray, str] | None:
    if column is None:
        if not fill:
            return None
        return pa.chunked_array([pa.repeat(fill, profiles.num_rows)]), "(profile_dataset_id)"
    values = profiles.column(column)
    if fill:
        values = pc.fill_null(values.cast(pa.string()), fill)
    return values, column


def _by_image_id(
    images: pa.Table, profiles: pa.Table, resolved: dict[str, str | None], dataset: Any
) -> _Plan | None:
    column = resolved.get("image_id")
    if column is None:
        return None
    text = normalize.text
    parts = [_Part(profiles.column(column), text, images.column("image_id"), text, pa.string())]
    keys = {"image_id": column}
    if dataset is not None:
        parts.insert(0, _Part(dataset[0], text, images.column("dataset_id"), text, pa.string()))
        keys["dataset_id"] = dataset[1]
    return _Plan("image_id", _lookup(parts), images, keys)


def _by_plate_well_site(
    images: pa.Table, profiles: pa.Table, resolved: dict[str, str | None], dataset: Any
) -> _Plan | None:
    """Plate, well and site; plate and well alone (a well-level table) only
    when every well has one image, since a key must name one image."""
    plate_column, well_column = resolved.get("plate_id"), resolved.get("well_id")
    site_column = resolved.get("site_id")
    if plate_column is None or well_column is None:
        return None
    candidates = images.filter(
        pc.and_(
            pc.equal(images.column("image_kind"), "image"), pc.is_valid(images.column("well_id"))
        )
    )
    if not candidates.num_rows or (site_column is None and _fields_share_wells(candidates)):
        return None
    text = normalize.text
    parts = [
        _Part(profiles.column(plate_column), text, candidates.column("plate_id"), text,
              pa.string()),
        _Part(profiles.column(well_column), normalize.well, candidates.column("well_id"),
              normalize.well, pa.string()),
    ]  # fmt: skip
    keys = {"plate_id": plate_column, "well_id": well_column}
    offset = 0
    if site_column is not None:
        site_part, offset = _site_part(profiles.column(site_column), candidates.column("site_id"))
        parts.append(site_part)
        keys["site_id"] = site_column
    if dataset is not None:
        parts.insert(0, _Part(dataset[0], text, candidates.column("dataset_id"), text, pa.string()))
        keys["dataset_id"] = dataset[1]
    return _Plan("plate_well_site", _lookup(parts), candidates, keys, offset)


def _site_part(sites: pa.ChunkedArray, image_sites: pa.ChunkedArray) -> tuple[_Part, int]:
    """The site key, with the profile's numbering shifted to the images' (and
    that shift)."""
    offset = _site_offset(sites, image_sites)

    def shifted_site(value: Any) -> int | None:
        number = normalize.site(value)
        return None if number is None else number - offset

    return _Part(sites, shifted_site, image_sites, normalize.site, pa.int64()), offset


def _fields_share_wells(images: pa.Table) -> bool:
    """Whether some well has more than one image (several fields)."""
    wells = images.select(["dataset_id", "plate_id", "well_id"])
    return wells.group_by(wells.column_names).aggregate([]).num_rows < wells.num_rows


def _site_offset(profile_sites: pa.ChunkedArray, image_sites: pa.ChunkedArray) -> int:
    """1 when the profile numbers sites from 1 and the images from 0 (CellProfiler
    vs OME), judged by which reading shares more distinct sites."""
    theirs = normalize.distinct_normalized(profile_sites, normalize.site)
    ours = normalize.distinct_normalized(image_sites, normalize.site)
    as_is, shifted = len(theirs & ours), len({s - 1 for s in theirs} & ours)
    return 1 if shifted > as_is else 0


def _by_file_name(
    images: pa.Table, profiles: pa.Table, files: FileColumns, dataset: Any
) -> _Plan | None:
    if not files.names or "source_files" not in images.column_names:
        return None
    lookup = _file_lookup(images)
    if not lookup:
        return None
    names = pa.array(list(lookup), pa.string())
    rows = np.array(list(lookup.values()), np.int32)
    per_channel: dict[str, np.ndarray] = {}
    for channel, column in files.names.items():
        found = normalize.codes(profiles.column(column), _basename, names)
        path_column = files.paths.get(channel)
        if path_column is not None:  # "folder/name" first: disambiguates equal names
            qualified = _qualified(profiles.column(path_column), profiles.column(column))
            first = normalize.codes(qualified, _as_text, names)
            found = np.where(first >= 0, first, found)
        per_channel[channel] = np.where(found >= 0, rows[np.maximum(found, 0)], -1).astype(np.int32)
    keys = {"file_name": ", ".join(files.names.values())}
    if dataset is not None:  # a file of another dataset is not this row's image
        per_channel = _in_dataset(per_channel, dataset[0], images)
        keys = {"dataset_id": dataset[1], **keys}
    positions = np.full(profiles.num_rows, -1, np.int32)
    for rows_of_channel in per_channel.values():
        positions = np.where(positions >= 0, positions, rows_of_channel)
    return _Plan("file_name", positions, images, keys, channels=per_channel)


def _in_dataset(
    per_channel: dict[str, np.ndarray], wanted: pa.ChunkedArray, images: pa.Table
) -> dict[str, np.ndarray]:
    """Each channel's image rows, -1 where the image's dataset is not the
    profile row's (Arrow kernels; the profile side normalised per distinct value)."""
    theirs = normalize._by_dictionary(wanted, normalize.text, pa.string())
    image_datasets = images.column("dataset_id")
    kept = {}
    for channel, rows in per_channel.items():
        ours = image_datasets.take(pa.array(np.maximum(rows, 0)))
        same = pc.fill_null(pc.equal(ours, theirs), False).to_numpy(zero_copy_only=False)
        kept[channel] = np.where((rows >= 0) & same, rows, -1).astype(np.int32)
    return kept


def _file_lookup(images: pa.Table) -> dict[str, int]:
    """File name (and ``folder/name``) -> image row, for unambiguous names."""
    counts: dict[str, int] = {}
    entries: list[tuple[str, int]] = []
    for row, paths in enumerate(images.column("source_files").to_pylist()):
        for path in paths or ():
            name = os.path.basename(path)
            folder = os.path.basename(os.path.dirname(path))
            entries += [(name, row), (f"{folder}/{name}", row)]
            counts[name] = counts.get(name, 0) + 1
    return {key: row for key, row in entries if "/" in key or counts[key] == 1}


def _basename(value: Any) -> str | None:
    return os.path.basename(str(value).replace("\\", "/")) if value else None


def _as_text(value: Any) -> str | None:
    return str(value) if value else None


def _qualified(paths: pa.ChunkedArray, names: pa.ChunkedArray) -> pa.ChunkedArray:
    folders = normalize._by_dictionary(paths, _basename, pa.string())
    return pc.binary_join_element_wise(folders, names.cast(pa.string()), "/")


# -- the lookup -------------------------------------------------------------
def _lookup(parts: list[_Part]) -> np.ndarray:
    """Image row of every profile row (-1: none). Each key part is coded against
    the image side's distinct normalised values, the codes of a row are combined
    into one int64 in place, and an image key seen twice keeps its first row."""
    profile_code: np.ndarray | None = None
    image_code: np.ndarray | None = None
    invalid: np.ndarray | None = None
    image_invalid: np.ndarray | None = None
    for part in parts:
        distinct = sorted(normalize.distinct_normalized(part.image, part.image_normalize))
        reference = pa.array(distinct, part.type)
        theirs = normalize.codes(part.profile, part.profile_normalize, reference).astype(np.int64)
        ours = normalize.codes(part.image, part.image_normalize, reference).astype(np.int64)
        if profile_code is None:
            profile_code, image_code = theirs, ours
            invalid, image_invalid = theirs < 0, ours < 0
            continue
        size = len(distinct) + 1
        invalid |= theirs < 0
        image_invalid |= ours < 0
        profile_code *= size
        profile_code += theirs
        image_code = image_code * size + ours
    assert profile_code is not None and image_code is not None
    profile_code[invalid] = -1
    valid_rows = np.flatnonzero(~image_invalid)
    _, first_index = np.unique(image_code[valid_rows], return_index=True)
    first = np.sort(valid_rows[first_index])
    found = pc.index_in(pa.array(profile_code), value_set=pa.array(image_code[first]))
    positions = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    return np.where(positions >= 0, first[np.maximum(positions, 0)], -1).astype(np.int32)


def join_profiles_with_chunk_index(
    joined_profiles: pa.Table, chunk_index: pa.Table, *, level: int | None = 0
) -> pa.Table:
    """One row per (profile row, stored chunk of its image): the one join that
    multiplies profile rows, on purpose, for planning chunk reads.

    ``joined_profiles`` must carry the image a row belongs to: the link columns
    a profile join adds (``Metadata_image_assets_dataset_id`` / ``_image_id``),
    or ``dataset_id`` and ``image_id``; ``level`` picks one pyramid level (None:
    all). Chunk columns are added with a ``chunk_`` prefix, in profile order.
    """
    keys = _link_columns(joined_profiles)
    chunks = chunk_index
    if level is not None:
        chunks = chunks.filter(pc.equal(chunks.column("level"), level))
    profile_rows, chunk_rows = _chunk_pairs(joined_profiles, keys, chunks)
    result = joined_profiles.take(pa.array(profile_rows))
    taken = chunks.take(pa.array(chunk_rows))
    for name in taken.column_names:
        if name not in ("dataset_id", "image_id"):
            label = name if name.startswith("chunk_") else f"chunk_{name}"
            result = result.append_column(label, taken.column(name))
    return result


def _chunk_pairs(
    joined: pa.Table, keys: tuple[str, str], chunks: pa.Table
) -> tuple[np.ndarray, np.ndarray]:
    """(profile row, chunk row) of every chunk of every row's image, in profile
    order; none when no image has chunks (striped TIFFs)."""
    if not chunks.num_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    chunk_keys = _image_keys(chunks, ("dataset_id", "image_id"))
    order = np.argsort(chunk_keys, kind="stable")
    distinct, starts, counts = np.unique(chunk_keys[order], return_index=True, return_counts=True)
    found = pc.index_in(  # typed: rows that matched no image have null keys
        pa.array(_image_keys(joined, keys), pa.string()), value_set=pa.array(distinct, pa.string())
    )
    which = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    per_row = np.where(which >= 0, counts[np.maximum(which, 0)], 0)
    profile_rows = np.repeat(np.arange(joined.num_rows), per_row)
    offsets = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return profile_rows, order[np.repeat(starts[np.maximum(which, 0)], per_row) + offsets]


def _link_columns(joined: pa.Table) -> tuple[str, str]:
    for pair in ((f"{IMAGE_PREFIX}dataset_id", f"{IMAGE_PREFIX}image_id"), KEY_COLUMNS[:2]):
        if all(name in joined.column_names for name in pair):
            return pair
    raise InputError(
        "joined profiles lack Metadata_image_assets_dataset_id / _image_id (or dataset_id, "
        "image_id): join them to images first"
    )


def _image_keys(table: pa.Table, columns: tuple[str, str]) -> np.ndarray:
    """The dataset and image id of every row as one string per row."""
    joined = pc.binary_join_element_wise(
        table.column(columns[0]).cast(pa.string()),
        table.column(columns[1]).cast(pa.string()),
        "\x1f",
    )
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)
