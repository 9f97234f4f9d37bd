"""Commands for pixels: per-object crops and source images as OME-Arrow,
into a Cytomining warehouse root or an Iceberg catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    AliasesOption,
    JsonOption,
    ProfileDatasetOption,
    SqliteTableOption,
    comma_list,
    with_catalog_on_demand,
)
from iceberg_bioimage.cli.output import line, note, print_json, refuse, state, warn

ImagesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Stores or folders to scan, or an image_assets Parquet file."),
]
RootOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse-root", "-w", help="Write to this warehouse root (else to the catalog)."
    ),
]
FromCatalogOption = Annotated[
    bool,
    typer.Option("--images-from-catalog", help="Take the images from the catalog's image_assets."),
]
LevelOption = Annotated[int, typer.Option("--level", min=0, help="Pyramid level (0: full).")]
ChannelsOption = Annotated[
    str | None, typer.Option("--channels", help="Comma-separated channel names or indices.")
]
BackendOption = Annotated[
    str,
    typer.Option("--backend", help="Pixel backend: auto, zarr, zarrs, tensorstore, tifffile."),
]
ModeOption = Annotated[
    str, typer.Option("--mode", help="overwrite: replace the table; append: add parts (roots).")
]


def register_commands(app: typer.Typer) -> None:
    app.command("export-crops")(export_crops)
    app.command("export-source-images")(export_source_images)
    app.command("pixel-backends")(pixel_backends)


@with_catalog_on_demand
def export_crops(
    profiles: Annotated[str, typer.Argument(help="Profile table: Parquet, CSV(.gz), SQLite.")],
    catalog: Callable[[], Any],
    images: ImagesArgument = None,
    warehouse_root: RootOption = None,
    images_from_catalog: FromCatalogOption = False,
    size: Annotated[
        str | None,
        typer.Option("--size", help="Crop size: N or HxW (default: bounding boxes, else 64)."),
    ] = None,
    channels: ChannelsOption = None,
    level: LevelOption = 0,
    backend: BackendOption = "auto",
    edge: Annotated[
        str, typer.Option("--edge", help="pad: fill outside the image; clip: keep the inside.")
    ] = "pad",
    compartment: Annotated[
        str | None, typer.Option("--compartment", help="Cells, Nuclei, ... (centre columns).")
    ] = None,
    profile_dataset_id: ProfileDatasetOption = None,
    aliases: AliasesOption = None,
    sqlite_table: SqliteTableOption = None,
    mode: ModeOption = "overwrite",
    as_json: JsonOption = False,
) -> None:
    """Cut one crop per profile object into images.image_crops (OME-Arrow).

    Example: iceberg-bioimage export-crops cells.parquet plate.ome.zarr -w root --size 64
    """
    table = api.read_profile_table(profiles, sqlite_table=sqlite_table)
    report = api.CropReport()
    options = {
        "size": _size(size),
        "channels": comma_list(channels) or None,
        "level": level,
        "backend": backend,
        "edge": edge,
        "compartment": compartment,
        "profile_dataset_id": profile_dataset_id,
        "alias_map": aliases,
        "report": report,
    }
    source = _images(images, images_from_catalog, catalog)
    if warehouse_root:
        result = api.export_crops_to_cytomining_warehouse(
            table, source, warehouse_root, mode=mode, **options
        )
        _report(result.tables, report, as_json, result.manifest_path)
    else:
        tables = api.publish_crops_to_catalog(table, source, catalog().catalog, **options)
        _report(tables, report, as_json, None)


@with_catalog_on_demand
def export_source_images(
    catalog: Callable[[], Any],
    images: ImagesArgument = None,
    warehouse_root: RootOption = None,
    images_from_catalog: FromCatalogOption = False,
    level: LevelOption = 0,
    channels: ChannelsOption = None,
    backend: BackendOption = "auto",
    mode: ModeOption = "overwrite",
    as_json: JsonOption = False,
) -> None:
    """Write one row per image, its pixels at --level, into images.source_images.

    Example: iceberg-bioimage export-source-images plate.ome.zarr -w root --level 2
    """
    report = api.CropReport()
    options = {
        "level": level,
        "channels": comma_list(channels) or None,
        "backend": backend,
        "report": report,
    }
    source = _images(images, images_from_catalog, catalog)
    if warehouse_root:
        result = api.export_source_images_to_cytomining_warehouse(
            source, warehouse_root, mode=mode, **options
        )
        _report(result.tables, report, as_json, result.manifest_path)
    else:
        tables = api.publish_source_images_to_catalog(source, catalog().catalog, **options)
        _report(tables, report, as_json, None)


def pixel_backends(as_json: JsonOption = False) -> None:
    """List the installed pixel backends, preferred first (what --backend auto picks).

    Example: iceberg-bioimage pixel-backends --json
    """
    names = api.available_backends()
    if as_json:
        print_json({"backends": names})
    else:
        for name in names:
            line(name)


def _images(images: list[str] | None, from_catalog: bool, catalog: Callable[[], Any]) -> Any:
    if from_catalog:
        if images:
            refuse("give images or --images-from-catalog, not both")
        return catalog().catalog
    if not images:
        refuse("no images: give stores, an image_assets Parquet file, or --images-from-catalog")
    return images


def _size(text: str | None) -> int | tuple[int, int] | None:
    if text is None:
        return None
    height, sep, width = text.lower().partition("x")
    try:
        size = (int(height), int(width)) if sep else int(height)
    except ValueError:
        refuse(f"--size expects N or HxW, got {text!r}")
    if min(size if isinstance(size, tuple) else (size,)) <= 0:
        refuse(f"--size must be positive, got {text!r}")
    return size


def _report(tables: dict[str, int], report: Any, as_json: bool, manifest: Any) -> None:
    if as_json:
        print_json(
            {
                "tables": tables,
                "images": report.images,
                "skipped_rows": report.skipped_rows,
                "reads": report.reads,
                "warnings": report.warnings,
                "manifest": str(manifest) if manifest else None,
            }
        )
        return
    for warning in report.warnings:
        warn(warning)
    if state.quiet:
        return
    for name, rows in tables.items():
        line(f"{name}: {rows} rows from {report.images} images")
    if report.skipped_rows:
        note(f"{report.skipped_rows} profile rows had no image or no position: skipped")
    if manifest:
        note(f"warehouse: {manifest}")
