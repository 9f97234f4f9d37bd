"""The report page: one self-contained HTML file (inline CSS, images as data
URIs, no script, nothing fetched), every text from a store escaped."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from iceberg_bioimage.display import html_table, plate_grid, well_name
from iceberg_bioimage.report.plates import Plate, Well

MAX_LISTED = 400  # images shown outside plates


@dataclass
class WarehouseFacts:
    root: str
    tables: list[tuple[str, str, int]]  # name, role, rows
    findings: list[tuple[str, str, str]]  # level, rule, message


@dataclass
class ReportInput:
    title: str
    sources: list[str]
    images: list[dict[str, Any]]
    plates: list[Plate]
    warnings: list[tuple[str, str]]  # (where, message)
    thumbnails: dict[tuple[str, str], str]  # (dataset_id, image_id) -> data URI
    warehouse: WarehouseFacts | None = None
    feature: str | None = None
    feature_by_well: dict[tuple[str, str, int, int], float] = field(default_factory=dict)


_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table.ib-table{border-collapse:collapse;margin:.5em 0}
.ib-table td,.ib-table th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:12px}
table.plate{border-collapse:collapse}
.plate th{font-size:11px;color:#555;padding:2px}
.plate td.well{width:64px;height:64px;border:1px solid #bbb;text-align:center;vertical-align:middle;
 font-size:10px;padding:0}
.plate td.missing{background:repeating-linear-gradient(45deg,#f4f4f4,#f4f4f4 4px,#e6e6e6 4px,
 #e6e6e6 8px);color:#999}
.plate td.warned{outline:2px solid #d33;outline-offset:-2px}
.plate td.heat{width:40px;height:28px;color:#fff;font-size:10px}
.plate img{width:62px;height:auto;max-height:62px;display:block;margin:auto;
 image-rendering:pixelated}
.fields{font-size:9px;color:#444}
details.facts{margin:.3em 0}details.facts summary{cursor:pointer}
.gallery{display:flex;flex-wrap:wrap;gap:8px}
.gallery figure{margin:0;width:170px;font-size:11px}
.gallery img{width:160px;height:auto;max-height:160px;display:block;image-rendering:pixelated}
.warn{color:#a00}.ok{color:#070}
"""


def render(report: ReportInput) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(report.title)}</h1>",
        _summary(report),
    ]
    for plate in report.plates:
        parts.append(_plate_section(plate, report))
    others = [r for r in report.images if not _in_plate(r, report.plates)]
    if others:
        parts.append(_gallery(others, report))
    parts.append(_warnings(report.warnings))
    if report.warehouse is not None:
        parts.append(_warehouse(report.warehouse))
    parts.append("</body></html>")
    return "".join(parts)


def _summary(report: ReportInput) -> str:
    images = [r for r in report.images if r.get("image_kind") != "label"]
    labels = len(report.images) - len(images)
    datasets = sorted({r["dataset_id"] for r in report.images})
    rows = [
        ("sources", ", ".join(report.sources)),
        ("datasets", ", ".join(datasets) or "none"),
        ("images", len(images)),
        ("label images", labels),
        ("plates", len(report.plates)),
        ("warnings", len(report.warnings)),
    ]
    return html_table(rows, caption="Summary")


def _plate_section(plate: Plate, report: ReportInput) -> str:
    present = len(plate.wells)
    fields = sum(len(w.fields) for w in plate.wells.values())
    head = (
        f"<h2 id='plate-{_e(plate.plate_id)}'>Plate {_e(plate.plate_id)} "
        f"<small>({_e(plate.dataset_id)})</small></h2>"
        f"<p>{present} wells present, {len(plate.missing)} missing in the "
        f"{plate.rows}&times;{plate.columns} grid, {fields} fields"
        + (f"; acquisitions: {_e(', '.join(plate.acquisitions))}" if plate.acquisitions else "")
        + "</p>"
    )
    cells = {key: _well_cell(well, report) for key, well in plate.wells.items()}
    grid = plate_grid(plate.rows, plate.columns, cells)
    details = [_well_facts(plate.wells[k]) for k in sorted(plate.wells)]
    heat = _heat_map(plate, report) if report.feature else ""
    facts = (
        "<details class='facts'><summary>Fields of every well</summary>"
        + "".join(details)
        + "</details>"
    )
    return head + grid + heat + facts


def _well_cell(well: Well, report: ReportInput) -> str:
    first = well.fields[0]
    uri = report.thumbnails.get((first["dataset_id"], first["image_id"]))
    title = "\n".join([f"{well.name}: {len(well.fields)} field(s)", *_facts_lines(first),
                       *well.warnings[:5]])  # fmt: skip
    classes = "well present" + (" warned" if well.warnings else "")
    body = f"<img alt='{_e(well.name)}' src='{uri}'>" if uri else _e(well.name)
    return (
        f"<td class='{classes}' data-well='{_e(well.name)}' title='{_e(title)}'>{body}"
        f"<div class='fields'>{len(well.fields)} f</div></td>"
    )


def _facts_lines(row: dict[str, Any]) -> list[str]:
    sizes = [
        f"{row.get(f'physical_size_{a}')} {row.get(f'physical_size_{a}_unit') or ''}".strip()
        for a in "xyz"
        if row.get(f"physical_size_{a}") is not None
    ]
    return [
        f"image: {row['image_id']}",
        f"shape: {row.get('shape')} ({row.get('axes_order') or '?'}), {row.get('dtype')}",
        f"levels: {row.get('level_count')}",
        f"physical size: {' x '.join(sizes) or 'unknown'}",
        f"channels: {', '.join(row.get('channel_names') or []) or 'unnamed'}",
    ]


def _well_facts(well: Well) -> str:
    rows = [
        (f.get("site_id"), f["image_id"], f.get("shape"), f.get("axes_order"), f.get("dtype"),
         _size(f), f.get("channel_names"))
        for f in well.fields
    ]  # fmt: skip
    header = ["field", "image", "shape", "axes", "dtype", "pixel size", "channels"]
    return html_table(rows, header, caption=f"Well {well.name}")


def _size(row: dict[str, Any]) -> str:
    x = row.get("physical_size_x")
    return "" if x is None else f"{x:g} {row.get('physical_size_x_unit') or ''}".strip()


def _heat_map(plate: Plate, report: ReportInput) -> str:
    values = {
        (r, c): v
        for (dataset, plate_id, r, c), v in report.feature_by_well.items()
        if dataset == plate.dataset_id and plate_id == plate.plate_id
    }
    if not values:
        return f"<p>No {_e(report.feature or '')} values joined to this plate.</p>"
    low, high = min(values.values()), max(values.values())
    cells = {}
    for (r, c), value in values.items():
        share = 0.5 if high == low else (value - low) / (high - low)
        cells[(r, c)] = (
            f"<td class='heat' style='background:{_colour(share)}' "
            f"title='{well_name(r, c)}: {value:.4g}'>{value:.3g}</td>"
        )
    title = f"<p>Mean {_e(report.feature or '')} per well ({low:.4g} to {high:.4g})</p>"
    grid = plate_grid(
        plate.rows, plate.columns, cells, table_class="plate heatmap",
        empty="<td class='heat missing'></td>",
    )  # fmt: skip
    return title + grid


def _colour(share: float) -> str:
    """Dark blue (low) to yellow (high)."""
    low, high = (40, 30, 110), (250, 220, 40)
    r, g, b = (round(a + (z - a) * share) for a, z in zip(low, high, strict=True))
    return f"rgb({r},{g},{b})"


def _gallery(rows: list[dict[str, Any]], report: ReportInput) -> str:
    shown = rows[:MAX_LISTED]
    figures = []
    for row in shown:
        uri = report.thumbnails.get((row["dataset_id"], row["image_id"]))
        image = f"<img alt='{_e(row['image_id'])}' src='{uri}'>" if uri else ""
        facts = _e("\n".join(_facts_lines(row)))
        figures.append(
            f"<figure class='image' title='{facts}'>{image}"
            f"<figcaption>{_e(row['dataset_id'])}: {_e(row['image_id'])}</figcaption></figure>"
        )
    more = f"<p>and {len(rows) - len(shown)} more</p>" if len(rows) > len(shown) else ""
    return "<h2>Images</h2><div class='gallery'>" + "".join(figures) + "</div>" + more


def _warnings(warnings: Sequence[tuple[str, str]]) -> str:
    if not warnings:
        return "<h2>Warnings</h2><p class='ok'>none</p>"
    grouped: dict[str, list[str]] = defaultdict(list)
    for where, message in warnings:
        grouped[message].append(where)
    rows = [(len(w), message, ", ".join(w[:20]) + (" ..." if len(w) > 20 else ""))
            for message, w in sorted(grouped.items(), key=lambda kv: -len(kv[1]))]  # fmt: skip
    return "<h2>Warnings</h2>" + html_table(rows, ["count", "rule", "where"])


def _warehouse(facts: WarehouseFacts) -> str:
    tables = html_table(facts.tables, ["table", "role", "rows"], caption="Tables")
    if facts.findings:
        verdict = f"<p class='warn'>{len(facts.findings)} findings</p>" + html_table(
            facts.findings, ["level", "rule", "message"]
        )
    else:
        verdict = "<p class='ok'>conforms to the specification (no findings)</p>"
    return f"<h2>Warehouse {_e(facts.root)}</h2>{tables}{verdict}"


def _in_plate(row: dict[str, Any], plates: list[Plate]) -> bool:
    return row.get("image_kind") == "label" or any(
        row.get("plate_id") == p.plate_id and row["dataset_id"] == p.dataset_id for p in plates
    )


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
