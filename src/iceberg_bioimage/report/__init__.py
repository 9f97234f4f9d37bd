"""The plate report: one self-contained HTML page of what a scan, a warehouse
root or a catalog table holds, with thumbnails read through the pixel layer."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from iceberg_bioimage.report.html import ReportInput, WarehouseFacts, render
from iceberg_bioimage.report.plates import Plate, plates_of
from iceberg_bioimage.report.png import png_data_uri
from iceberg_bioimage.report.thumbnails import thumbnail

__all__ = ["ReportInput", "WarehouseFacts", "build_report", "render"]

MAX_THUMBNAILS = 1536  # four 384-well plates
log = logging.getLogger(__name__)


@dataclass
class Built:
    page: str
    plates: list[Plate]
    images: int
    thumbnails: int
    warnings: list[str]


def build_report(
    title: str,
    sources: list[str],
    images: pa.Table,
    warnings: list[tuple[str, str]],
    *,
    warehouse: WarehouseFacts | None = None,
    feature: str | None = None,
    feature_by_well: dict[tuple[str, str, int, int], float] | None = None,
    backend: str = "auto",
    thumbnails: bool = True,
) -> Built:
    """The page for ``images`` (image_assets rows) and what else is known."""
    rows = images.to_pylist()
    by_path: dict[str, list[str]] = defaultdict(list)
    for where, message in warnings:
        by_path[where.split(": ", 1)[-1]].append(message)
    plates = plates_of(rows, by_path)
    notes: list[str] = []
    uris = _thumbnails(_wanted(rows, plates), backend, notes) if thumbnails else {}
    page = render(
        ReportInput(
            title=title,
            sources=sources,
            images=rows,
            plates=plates,
            warnings=list(warnings) + [("report", n) for n in notes],
            thumbnails=uris,
            warehouse=warehouse,
            feature=feature,
            feature_by_well=feature_by_well or {},
        )
    )
    return Built(page, plates, sum(r.get("image_kind") != "label" for r in rows), len(uris), notes)


def _wanted(rows: list[dict[str, Any]], plates: list[Plate]) -> list[dict[str, Any]]:
    """Each well's first field, then images outside plates, up to the limit."""
    chosen = [w.fields[0] for p in plates for w in p.wells.values()]
    in_plates = {(p.dataset_id, p.plate_id) for p in plates}
    chosen += [
        r
        for r in rows
        if r.get("image_kind") != "label" and (r["dataset_id"], r.get("plate_id")) not in in_plates
    ]
    return chosen[:MAX_THUMBNAILS]


def _thumbnails(
    rows: list[dict[str, Any]], backend: str, notes: list[str]
) -> dict[tuple[str, str], str]:
    found = {}
    failed = 0
    for row in rows:
        try:
            rgb = thumbnail(row, backend)
        except Exception as error:  # a thumbnail is never worth the report
            failed += 1
            log.info("no thumbnail for %s: %s", row["image_id"], error)
            continue
        if rgb is not None and rgb.size:
            found[(row["dataset_id"], row["image_id"])] = png_data_uri(np.ascontiguousarray(rgb))
    if failed:
        notes.append(f"{failed} image(s) had no readable pixels for a thumbnail")
    return found
