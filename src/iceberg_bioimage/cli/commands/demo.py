"""The demo command: the whole job on generated data."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import JsonOption
from iceberg_bioimage.cli.output import EXIT_INVALID, line, print_json


def register_commands(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the sample data and outputs go.")
    ] = Path("iceberg-bioimage-demo"),
    as_json: JsonOption = False,
) -> None:
    """Run the whole job on generated data: scan, register, join, export, validate.

    Writes an OME-Zarr 0.5 plate, an OME-TIFF and a CellProfiler-style table,
    registers the images in an embedded Iceberg catalog, exports a Cytomining
    warehouse root with the profiles joined and validates it.

    Example: iceberg-bioimage demo --workdir /tmp/ib-demo
    """
    report = api.run_demo(workdir)
    if as_json:
        print_json(report)
    else:
        for text in _lines(report):
            line(text)
    if not report["valid"]:
        raise typer.Exit(EXIT_INVALID)


def _command() -> str:
    """How to run this CLI again: its bare name when that is on PATH, else the
    path of the script that was started (a virtual environment that is not
    activated), else the interpreter with ``-m``."""
    started = sys.argv[0] if sys.argv else ""
    if not os.path.basename(started).startswith("iceberg-bioimage"):
        return f"{sys.executable} -m iceberg_bioimage"
    found = shutil.which("iceberg-bioimage")
    if found and os.path.realpath(found) == os.path.realpath(started):
        return "iceberg-bioimage"
    return os.path.abspath(started)


def _lines(report: dict[str, Any]) -> list[str]:
    command = _command()
    join = report["join"] or {}
    rows = report["catalog_rows"]
    return [
        f"Sample data     {report['workdir']}",
        f"  plate         {report['images']['demo-plate']}",
        f"  OME-TIFF      {report['images']['demo-image']}",
        f"  profiles      {report['profiles']}",
        f"Iceberg catalog {report['catalog']}",
        f"  images.image_assets {rows.get('images.image_assets', 0)} rows, "
        f"images.chunk_index {rows.get('images.chunk_index', 0)} rows",
        f"Warehouse root  {report['warehouse_root']}",
        *(f"  {name}: {count} rows" for name, count in report["warehouse_tables"].items()),
        f"  profiles joined by {join.get('strategy')}: {join.get('matched_rows')} of "
        f"{join.get('profile_rows')} rows matched",
        f"  validate-warehouse: {'conforms' if report['valid'] else 'does NOT conform'}",
        "Next:",
        f"  {command} summarize {report['images']['demo-plate']}",
        f"  ICEBERG_BIOIMAGE_HOME={report['workdir']}/catalog "
        f"{command} catalog show images.image_assets",
        f"  {command} validate-warehouse {report['warehouse_root']}",
        f"  {command} join-profiles {report['images']['demo-plate']} {report['profiles']} "
        "-o joined.parquet",
    ]
