"""Plates as grids: which wells an image_assets table has, with their fields,
and which wells of the plate's grid are missing (the grid spans row A to the
last row seen and column 1 to the last column seen)."""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from iceberg_bioimage.display import well_name


@dataclass
class Well:
    name: str  # normalised, e.g. B03
    row: int
    column: int
    fields: list[dict[str, Any]] = field(default_factory=list)  # image rows, site order
    warnings: list[str] = field(default_factory=list)


@dataclass
class Plate:
    plate_id: str
    dataset_id: str
    rows: int
    columns: int
    wells: dict[tuple[int, int], Well]
    acquisitions: list[str]

    @property
    def missing(self) -> list[str]:
        return [
            well_name(r, c)
            for r in range(self.rows)
            for c in range(self.columns)
            if (r, c) not in self.wells
        ]


def plates_of(images: list[dict[str, Any]], warnings_by_path: dict[str, list[str]]) -> list[Plate]:
    """Plates found in image rows (labels left out), wells in grid order."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in images:
        if row.get("plate_id") and row.get("image_kind") != "label" and _position(row):
            grouped[(row["dataset_id"], row["plate_id"])].append(row)
    plates = []
    for (dataset_id, plate_id), rows in sorted(grouped.items()):
        wells: dict[tuple[int, int], Well] = {}
        acquisitions: set[str] = set()
        for row in sorted(rows, key=lambda r: (r.get("site_id") or 0, r["image_id"])):
            r, c = _position(row)  # type: ignore[misc]
            well = wells.setdefault((r, c), Well(row.get("well_id") or well_name(r, c), r, c))
            well.fields.append(row)
            well.warnings += _warnings_for(row, warnings_by_path)
            if row.get("acquisition_id"):
                acquisitions.add(str(row["acquisition_id"]))
        height = max(r for r, _ in wells) + 1
        width = max(c for _, c in wells) + 1
        plates.append(Plate(plate_id, dataset_id, height, width, wells, sorted(acquisitions)))
    return plates


def _position(row: dict[str, Any]) -> tuple[int, int] | None:
    r, c = row.get("row_index"), row.get("column_index")
    if r is not None and c is not None and r >= 0 and c >= 0:
        return int(r), int(c)
    well = row.get("well_id") or ""
    letters = "".join(ch for ch in well if ch.isalpha())
    digits = "".join(ch for ch in well if ch.isdigit())
    if len(letters) == 1 and digits:
        return string.ascii_uppercase.index(letters.upper()), int(digits) - 1
    return None


def _warnings_for(row: dict[str, Any], warnings_by_path: dict[str, list[str]]) -> list[str]:
    path = row.get("image_path") or ""
    found = []
    for where, messages in warnings_by_path.items():
        if where and (
            path == where or path.startswith(where + "/") or where.startswith(path + "/")
        ):
            found += messages
    return found
