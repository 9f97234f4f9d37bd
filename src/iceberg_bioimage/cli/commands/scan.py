"""Commands that scan stores: scan, summarize, chunk-index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    DatasetIdOption,
    FormatOption,
    JsonOption,
    StoresArgument,
    StrictOption,
)
from iceberg_bioimage.cli.output import (
    choose_format,
    finish,
    note,
    out,
    print_json,
    print_rows,
    shape_text,
    state,
)
from iceberg_bioimage.models import DatasetSummary, DirectoryScan

_MAX_TABLE_ROWS = 40


def register_commands(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("summarize")(summarize)
    app.command("chunk-index")(chunk_index)


def scan(
    uris: StoresArgument,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write image_assets rows to Parquet."),
    ] = None,
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
    row_format: FormatOption = None,
) -> None:
    """Scan stores (metadata only) into canonical image_assets rows.

    Example: iceberg-bioimage scan plate.ome.zarr --output assets.parquet
    """
    scanned = api.scan_paths(uris, dataset_id=dataset_id)
    if output is not None:
        path = api.write_image_assets_parquet(scanned, output)
        note(f"wrote {sum(len(r.image_assets) for r in scanned.results)} rows to {path}")
    if as_json:
        print_json(
            {
                "results": [r.to_dict() for r in scanned.results],
                "errors": [str(e) for e in scanned.errors],
            }
        )
    elif not state.quiet:
        _render_scan(scanned, choose_format(row_format))
    # A broken store found inside a folder is a warning; nothing scanned is an error.
    finish(scanned.store_warnings, strict, failed=not scanned.results)


def summarize(
    uris: StoresArgument,
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Summarise stores (what scan takes): variants, versions, plates/wells/fields,
    dtypes, shapes, axes.

    Example: iceberg-bioimage summarize plate.ome.zarr --json
    """
    scanned = api.scan_paths(uris, dataset_id=dataset_id)
    summaries = [api.summarize_scan_result(result) for result in scanned.results]
    if as_json:
        if len(summaries) == 1 and not scanned.errors:
            print_json(summaries[0].to_dict())
        else:
            print_json(
                {
                    "summaries": [s.to_dict() for s in summaries],
                    "errors": [str(e) for e in scanned.errors],
                }
            )
    else:
        for summary in summaries:
            _render_summary(summary)
    finish(scanned.store_warnings, strict, failed=not scanned.results)


def chunk_index(
    uris: StoresArgument,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Parquet file to write (atomically).")
    ],
    no_stat: Annotated[
        bool,
        typer.Option("--no-stat", help="Keys and coordinates only; do not touch storage."),
    ] = False,
    byte_ranges: Annotated[
        bool,
        typer.Option(
            "--byte-ranges", help="Sharded arrays: one row per inner chunk, offsets from the index."
        ),
    ] = False,
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Write images.chunk_index rows (one per stored chunk, shard or tile) to Parquet.

    Example: iceberg-bioimage chunk-index plate.ome.zarr --output chunks.parquet
    """
    scanned = api.scan_paths(uris, dataset_id=dataset_id)
    path, rows = api.write_chunk_index_parquet(
        scanned.results, output, stat=not no_stat, byte_ranges=byte_ranges
    )
    report = {"output": str(path), "rows": rows, "stores": len(scanned.results)}
    if as_json:
        print_json(report)
    else:
        note(f"wrote {rows} chunk rows from {len(scanned.results)} store(s) to {path}")
        if rows == 0:
            note("no chunked arrays: the file holds the full schema and no rows")
    finish(scanned.store_warnings, strict, failed=not scanned.results)


def _render_scan(scanned: DirectoryScan, fmt: str) -> None:
    """At a terminal a compact table per store (its first rows); for pipes,
    files and --format every row of every store in one table (one header)."""
    if fmt != "table":
        columns = ["dataset_id", "image_id", "kind", "plate", "well", "site", "shape",
                   "dtype", "axes", "chunks", "levels"]  # fmt: skip
        rows = [
            [r.dataset_id, a.image_id, a.image_kind, a.plate_id, a.well_id, a.site_id,
             shape_text(a.shape), a.dtype, a.axes_order, shape_text(a.chunk_shape), len(a.levels)]
            for r in scanned.results
            for a in r.image_assets
        ]  # fmt: skip
        print_rows("image_assets", columns, rows, fmt)
        return
    columns = ["image_id", "kind", "plate/well/site", "shape", "dtype", "axes", "chunks",
               "levels"]  # fmt: skip
    for result in scanned.results:
        assets = result.image_assets
        rows = [
            [a.image_id, a.image_kind, _hcs(a), shape_text(a.shape), a.dtype, a.axes_order,
             shape_text(a.chunk_shape), len(a.levels)]
            for a in assets[:_MAX_TABLE_ROWS]
        ]  # fmt: skip
        print_rows(f"{result.dataset_id}  ({result.uri})", columns, rows, fmt)
        if len(assets) > len(rows):
            note(f"... and {len(assets) - len(rows)} more (use --format tsv, --json or --output)")


def _hcs(asset: Any) -> str:
    return f"{asset.plate_id}/{asset.well_id}/{asset.site_id}" if asset.well_id else ""


def _render_summary(summary: DatasetSummary) -> None:
    from rich.table import Table

    table = Table(title=f"{summary.dataset_id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows: list[tuple[str, Any]] = [
        ("uri", summary.uri),
        ("format", summary.format_family),
        ("storage variants", ", ".join(summary.storage_variants)),
        ("OME-NGFF versions", ", ".join(summary.ome_ngff_versions) or "-"),
        ("images", summary.image_count),
        ("labels", summary.label_count),
        ("arrays (all levels)", summary.array_count),
        ("pyramid levels (max)", summary.level_count),
        ("plates", ", ".join(summary.plate_ids) or "-"),
        ("wells", summary.well_count),
        ("fields", summary.field_count),
        ("dtypes", ", ".join(summary.dtypes)),
        ("shapes", ", ".join(shape_text(s) for s in summary.shapes[:5])),
        ("axes", ", ".join(summary.axes) or "-"),
        ("channels", ", ".join(summary.channel_names) or "-"),
        ("warnings", len(summary.warnings)),
        *(
            (f"collection depth {depth}", f"{images} images, {labels} labels")
            for depth, images, labels in summary.collection_levels
        ),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)
