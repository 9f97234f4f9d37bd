"""Command-line interface: argument parsing and rendering only; work is in ``api``.

Exit codes: 0 ok, 1 invalid (or warnings under ``--strict``), 2 usage or input
error. Errors are one line on stderr; ``--verbose`` adds the traceback.
Catalog commands live in ``cli_catalog``; shared pieces in ``cli_common``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from iceberg_bioimage import api, cli_catalog, cli_profiles, cli_warehouse, progress
from iceberg_bioimage._version import __version__
from iceberg_bioimage.cli_common import (
    EXIT_INPUT,
    EXIT_INVALID,
    EXIT_OK,
    DatasetIdOption,
    JsonOption,
    StrictOption,
    err,
    finish,
    note,
    out,
    print_json,
    progress_listener,
    state,
)
from iceberg_bioimage.errors import IcebergBioimageError
from iceberg_bioimage.models import DatasetSummary, DirectoryScan

app = typer.Typer(
    name="iceberg-bioimage",
    help="Scan OME-Zarr / OME-TIFF stores into canonical tables, publish them, join profiles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)

_MAX_TABLE_ROWS = 40


@app.callback()
def _main_options(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print results.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")
    ] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Unsigned requests to public buckets.")
    ] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.01, help="Seconds to wait for each remote request (default 30)."
        ),
    ] = None,
) -> None:
    state.quiet, state.verbose = quiet, verbose
    if anonymous or endpoint_url or timeout:
        from iceberg_bioimage.io.settings import configure_remote

        configure_remote(
            anonymous=anonymous or None, endpoint_url=endpoint_url, timeout_seconds=timeout
        )
    if version:
        out.print(__version__)
        raise typer.Exit(EXIT_OK)


@app.command()
def scan(
    uris: Annotated[list[str], typer.Argument(help="Stores, or folders holding stores.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write image_assets rows to Parquet."),
    ] = None,
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
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
        _render_scan(scanned)
    # A broken store found inside a folder is a warning; nothing scanned is an error.
    finish(scanned.warnings, strict, failed=not scanned.results)


@app.command()
def summarize(
    uri: Annotated[str, typer.Argument(help="A store path or URI.")],
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Summarise a store: variants, versions, plates/wells/fields, dtypes, shapes, axes.

    Example: iceberg-bioimage summarize plate.ome.zarr --json
    """
    summary = api.summarize_store(uri, dataset_id=dataset_id)
    if as_json:
        out.print(summary.to_json(), markup=False)
    else:
        _render_summary(summary)
    finish(summary.warnings, strict)


@app.command("chunk-index")
def chunk_index(
    uris: Annotated[list[str], typer.Argument(help="Stores, or folders holding stores.")],
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
    finish(scanned.warnings, strict, failed=not scanned.results)


@app.command()
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
        if not report["valid"]:
            raise typer.Exit(EXIT_INVALID)
        return
    join = report["join"] or {}
    rows = report["catalog_rows"]
    lines = [
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
        f"  iceberg-bioimage summarize {report['images']['demo-plate']}",
        f"  ICEBERG_BIOIMAGE_HOME={report['workdir']}/catalog "
        "iceberg-bioimage catalog show images.image_assets",
        f"  iceberg-bioimage validate-warehouse {report['warehouse_root']}",
        f"  iceberg-bioimage join-profiles {report['images']['demo-plate']} {report['profiles']} "
        "-o joined.parquet",
    ]
    for line in lines:
        out.print(line, markup=False)
    if not report["valid"]:
        raise typer.Exit(EXIT_INVALID)


def _render_scan(scanned: DirectoryScan) -> None:
    for result in scanned.results:
        table = Table(title=f"{result.dataset_id}  ({result.uri})", title_justify="left")
        for column in (
            "image_id",
            "kind",
            "plate/well/site",
            "shape",
            "dtype",
            "axes",
            "chunks",
            "levels",
        ):
            table.add_column(column)
        for asset in result.image_assets[:_MAX_TABLE_ROWS]:
            hcs = f"{asset.plate_id}/{asset.well_id}/{asset.site_id}" if asset.well_id else ""
            table.add_row(
                asset.image_id,
                asset.image_kind,
                hcs,
                _shape(asset.shape),
                asset.dtype,
                asset.axes_order or "",
                _shape(asset.chunk_shape),
                str(len(asset.levels)),
            )
        out.print(table)
        hidden = len(result.image_assets) - _MAX_TABLE_ROWS
        if hidden > 0:
            out.print(f"... and {hidden} more (use --json or --output for all rows)")


def _render_summary(summary: DatasetSummary) -> None:
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
        ("shapes", ", ".join(_shape(s) for s in summary.shapes[:5])),
        ("axes", ", ".join(summary.axes) or "-"),
        ("channels", ", ".join(summary.channel_names) or "-"),
        ("warnings", len(summary.warnings)),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)


def _shape(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else "(" + ", ".join(str(n) for n in shape) + ")"


cli_catalog.register_commands(app)
cli_profiles.register_commands(app)
cli_warehouse.register_commands(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning errors into one line and an exit code."""
    args = _global_flags_first(sys.argv[1:] if argv is None else argv)
    try:
        # Without standalone mode click returns the code of a typer.Exit.
        with progress.listening(_LazyProgress()):
            code = app(args=args, prog_name="iceberg-bioimage", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except IcebergBioimageError as error:
        _fail(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return 130
    except Exception as error:  # click usage errors and anything unexpected
        return _handle_other(error)
    return code if isinstance(code, int) else EXIT_OK


class _LazyProgress:
    """Decides on bars when the first task starts (after --quiet is parsed)."""

    def __init__(self) -> None:
        self._bars: object | None = None
        self._decided = False

    def _target(self) -> object | None:
        if not self._decided:
            self._bars, self._decided = progress_listener(), True
        return self._bars

    def start(self, name: str, total: int | None) -> object:
        target = self._target()
        return target.start(name, total) if target else None  # type: ignore[attr-defined]

    def advance(self, handle: object, amount: int) -> None:
        if self._bars is not None and handle is not None:
            self._bars.advance(handle, amount)  # type: ignore[attr-defined]

    def stop(self, handle: object) -> None:
        if self._bars is not None and handle is not None:
            self._bars.stop(handle)  # type: ignore[attr-defined]


_GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose", "--anonymous")
_GLOBAL_OPTIONS = ("--endpoint-url", "--timeout")


def _global_flags_first(args: list[str]) -> list[str]:
    """Accept ``--quiet`` / ``--verbose`` after the command name too."""
    if "--" in args:
        return args
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _GLOBAL_FLAGS or ("=" in arg and arg.split("=", 1)[0] in _GLOBAL_OPTIONS):
            front.append(arg)
        elif arg in _GLOBAL_OPTIONS and index + 1 < len(args):
            front += [arg, args[index + 1]]
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def _handle_other(error: Exception) -> int:
    # Typer ships its own copy of click, so usage errors are recognised by
    # their interface (``show`` and ``exit_code``) rather than by class.
    if callable(getattr(error, "show", None)) and hasattr(error, "exit_code"):
        error.show(file=sys.stderr)  # type: ignore[attr-defined]
        return EXIT_INPUT
    if type(error).__name__ == "Abort":
        err.print("aborted", markup=False)
        return EXIT_INPUT
    _fail(f"unexpected error: {type(error).__name__}: {error}")
    return EXIT_INPUT


def _fail(message: str) -> None:
    if state.verbose:
        traceback.print_exc()
    err.print(f"error: {message}", markup=False)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
