"""Where each profile object is: its centre or bounding box, from the columns
CellProfiler and its successors write, and the crop window that follows."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iceberg_bioimage.errors import InputError

COMPARTMENTS = ("Cells", "Nuclei", "Cytoplasm")
_CENTER = re.compile(r"^(?:(?P<prefix>\w+?)_)?(?P<kind>AreaShape|Location)_Center_X$")
_BOX = "AreaShape_BoundingBox{end}_{axis}"  # CellProfiler: Minimum / Maximum, X / Y
OBJECT_NUMBER_COLUMNS = ("{c}_Number_Object_Number", "ObjectNumber", "Metadata_ObjectNumber")


@dataclass(frozen=True)
class Geometry:
    """Level-0 pixel positions of every profile row (NaN where unknown)."""

    compartment: str | None
    center_x: np.ndarray
    center_y: np.ndarray
    box: np.ndarray | None  # (n, 4): x_min, y_min, x_max (exclusive), y_max (exclusive)
    columns: tuple[str, ...]  # the profile columns the positions came from
    object_number: np.ndarray | None


def object_geometry(
    profiles: pa.Table,
    *,
    compartment: str | None = None,
    center_columns: tuple[str, str] | None = None,
    bbox_columns: tuple[str, str, str, str] | None = None,
) -> Geometry:
    """Centres (and bounding boxes where the table has them) of every row.

    Found in this order: ``center_columns`` (x, y) if given; else
    ``<Compartment>_AreaShape_Center_X/Y`` or ``<Compartment>_Location_Center_X/Y``
    for ``compartment`` (default: the first of Cells, Nuclei, Cytoplasm the
    table has, then any other prefix, then unprefixed columns)."""
    names = profiles.column_names
    if center_columns is None:
        compartment, center_columns = _find_center(names, compartment)
    missing = [c for c in (*center_columns, *(bbox_columns or ())) if c not in names]
    if missing:
        raise InputError(f"profile columns not found: {', '.join(missing)}")
    if bbox_columns is None:
        bbox_columns = _find_box(names, compartment)
    cx, cy = (_floats(profiles, c) for c in center_columns)
    box = np.stack([_floats(profiles, c) for c in bbox_columns], axis=1) if bbox_columns else None
    numbers = _object_numbers(profiles, compartment)
    used = (*center_columns, *(bbox_columns or ()))
    return Geometry(compartment, cx, cy, box, used, numbers)


def _find_center(names: list[str], wanted: str | None) -> tuple[str | None, tuple[str, str]]:
    found: dict[str | None, tuple[str, str]] = {}
    for name in names:
        match = _CENTER.match(name)
        if not match:
            continue
        prefix, kind = match.group("prefix"), match.group("kind")
        y = f"{prefix + '_' if prefix else ''}{kind}_Center_Y"
        if y in names and (prefix not in found or kind == "AreaShape"):
            found[prefix] = (name, y)
    if wanted is not None:
        if wanted not in found:
            raise InputError(
                f"no {wanted}_AreaShape_Center_X/Y or {wanted}_Location_Center_X/Y columns "
                "(name others with center_columns)"
            )
        return wanted, found[wanted]
    for prefix in (*COMPARTMENTS, *sorted(p for p in found if p), None):
        if prefix in found:
            return prefix, found[prefix]
    raise InputError(
        "no object centre columns (<Compartment>_AreaShape_Center_X/Y or "
        "<Compartment>_Location_Center_X/Y); name them with center_columns"
    )


def _find_box(names: list[str], compartment: str | None) -> tuple[str, str, str, str] | None:
    prefix = f"{compartment}_" if compartment else ""
    wanted = tuple(
        prefix + _BOX.format(end=end, axis=axis)
        for end, axis in (("Minimum", "X"), ("Minimum", "Y"), ("Maximum", "X"), ("Maximum", "Y"))
    )
    return wanted if all(w in names for w in wanted) else None  # type: ignore[return-value]


def _floats(table: pa.Table, column: str) -> np.ndarray:
    values = table.column(column)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        try:
            values = pc.cast(values, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(f"column {column} does not hold numbers") from None
    return values.to_numpy(zero_copy_only=False).astype(np.float64)


def _object_numbers(table: pa.Table, compartment: str | None) -> np.ndarray | None:
    for pattern in OBJECT_NUMBER_COLUMNS:
        name = pattern.format(c=compartment or "")
        if name in table.column_names:
            return _floats(table, name)
    return None


def crop_windows(
    geometry: Geometry, size: tuple[int, int] | None, scale: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) windows y0, y1, x0, x1 at the level ``scale`` (level-0 pixels per
    level pixel, y and x): ``size`` (height, width) centred on the centre, or
    the bounding box when ``size`` is None; and which rows have a window."""
    sy, sx = scale
    if size is None:
        if geometry.box is None:
            raise InputError("no bounding-box columns: give a crop size")
        x0, y0, x1, y1 = (geometry.box[:, i] for i in range(4))
        windows = np.stack([y0 / sy, y1 / sy, x0 / sx, x1 / sx], axis=1)
        windows = np.stack(
            [
                np.floor(windows[:, 0]),
                np.ceil(windows[:, 1]),
                np.floor(windows[:, 2]),
                np.ceil(windows[:, 3]),
            ],
            axis=1,
        )
    else:
        height, width = size
        top = np.floor(geometry.center_y / sy - height / 2)
        left = np.floor(geometry.center_x / sx - width / 2)
        windows = np.stack([top, top + height, left, left + width], axis=1)
    placed = np.isfinite(windows).all(axis=1)
    windows[~placed] = 0
    placed &= (windows[:, 1] > windows[:, 0]) & (windows[:, 3] > windows[:, 2])
    return windows.astype(np.int64), placed
