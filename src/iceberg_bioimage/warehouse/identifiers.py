"""Profile Tables 4: which columns identify an image (and an object) in a profile table.

Shared by the writer, which refuses a table without them before anything is
committed, and the validator, which also checks that identities are unique.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from iceberg_bioimage.profiles.contract import (
    IMAGE_NUMBER_COLUMNS,
    AliasMap,
    file_columns,
    resolve_keys,
)

_OBJECT_ID_COLUMNS = ("ObjectNumber", "Metadata_ObjectNumber", "object_id", "Metadata_object_id")
# CellProfiler numbers images per run: unique only together with the table number.
_IMAGE_NUMBER_COLUMNS = ("Metadata_TableNumber", "TableNumber", *IMAGE_NUMBER_COLUMNS)
_OBJECT_LEVELS = (
    "object",
    "cell",
    "cells",
    "nucleus",
    "nuclei",
    "cytoplasm",
    "organoid",
    "single_cell",
)


@dataclass(frozen=True)
class ProfileIdentifiers:
    image: tuple[str, ...]  # image_id, else plate/well/site columns
    object: tuple[str, ...]  # object id columns (object-level tables only)
    problem: str | None  # why the table breaks Profile Tables 4, if it does
    # Object-level tables: the columns whose values must be unique per row.
    identity: tuple[str, ...] = ()


def inferred_profile_level(columns: list[str], alias_map: AliasMap | None = None) -> str:
    """The analysis level a table's keys show: ``object`` with an object id
    column, else ``image`` with an image id, site or image file names, else
    ``well`` with a well (pycytominer's aggregated profiles)."""
    if _object_columns(columns):
        return "object"
    keys = resolve_keys(columns, alias_map)
    if keys["image_id"].column or keys["site_id"].column or file_columns(columns).names:
        return "image"
    return "well" if keys["well_id"].column else "image"


def _object_columns(columns: list[str]) -> tuple[str, ...]:
    return tuple(
        c for c in columns if c in _OBJECT_ID_COLUMNS or c.endswith("_Number_Object_Number")
    )


def profile_table_problem(
    table_name: str,
    columns: list[str],
    profile_level: str | None,
    join_keys: tuple[str, ...],
    read: Callable[[list[str]], pa.Table],
) -> str | None:
    """Why a profile table would break Profile Tables 4 (no image identifiers,
    or object rows repeating an identity), or None. ``read(columns)`` gives the
    table's rows for those columns. Writers refuse such a table; exports from
    a catalog skip it with this reason; registering one warns."""
    found = profile_identifiers(columns, profile_level, join_keys)
    if found.problem:
        return (
            f"{table_name}: {found.problem}; a profile table needs image_id, "
            "plate/well/site or file-name columns (Profile Tables 4)"
        )
    if not found.object:
        return None
    identity = list(found.identity)
    repeated = repeated_identities(read(identity), identity)
    if repeated:
        return (
            f"{table_name}: {repeated} rows would repeat an (image, object) identifier "
            f"({', '.join(identity)}) (Profile Tables 4)"
        )
    return None


def table_problem(
    table_name: str,
    data: pa.Table,
    profile_level: str | None = None,
    join_keys: tuple[str, ...] = (),
) -> str | None:
    """:func:`profile_table_problem` of a table in memory (level inferred when
    not given)."""
    level = profile_level or inferred_profile_level(data.column_names)
    return profile_table_problem(table_name, data.column_names, level, join_keys, data.select)


def repeated_identities(data: pa.Table, identity: list[str]) -> int:
    """How many rows repeat an identity another row already has."""
    return data.num_rows - data.group_by(identity).aggregate([]).num_rows


def profile_identifiers(
    columns: list[str], profile_level: str | None, join_keys: tuple[str, ...] = ()
) -> ProfileIdentifiers:
    """Image identifiers are the built-in key columns, else the declared join keys
    (tables written with custom aliases declare their key columns there)."""
    keys = resolve_keys(columns)
    image = [keys[k].column for k in ("image_id",) if keys[k].column] or [
        keys[k].column for k in ("plate_id", "well_id", "site_id") if keys[k].column
    ]
    image_keys = tuple(c for c in image if c) or tuple(k for k in join_keys if k in columns)
    if not image_keys and not file_columns(columns).names:
        return ProfileIdentifiers((), (), "no image identifier columns")
    level = (profile_level or "").lower()
    if level not in _OBJECT_LEVELS:
        return ProfileIdentifiers(image_keys, (), None)
    objects = _object_columns(columns)
    if not objects:
        problem = f"object-level table ({level}) has no object identifier column"
        return ProfileIdentifiers(image_keys, (), problem)
    # Every image key the table carries (image id and plate / well / site: a
    # joined row that matched no image still names its field of view), the
    # image numbers, and the object id.
    carried = [keys[k].column for k in ("image_id", "plate_id", "well_id", "site_id")]
    image = [*image_keys, *(c for c in carried if c and c not in image_keys)]
    numbers = [c for c in _IMAGE_NUMBER_COLUMNS if c in columns]
    return ProfileIdentifiers(image_keys, objects, None, (*image, *numbers, objects[0]))
