"""The report command: one self-contained HTML page of a screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    AliasesOption,
    JsonOption,
    ProfileDatasetOption,
    with_catalog_on_demand,
)
from iceberg_bioimage.cli.output import line, note, print_json, state, warn


def register_commands(app: typer.Typer) -> None:
    app.command("report")(report)


@with_catalog_on_demand
def report(
    targets: Annotated[
        list[str],
        typer.Argument(help="Stores or folders, a warehouse root, or (--catalog-table) tables."),
    ],
    catalog: Callable[[], Any],
    output: Annotated[str, typer.Option("--output", "-o", help="The HTML file to write.")],
    catalog_table: Annotated[
        bool, typer.Option("--catalog-table", help="The targets are catalog tables to read.")
    ] = False,
    profiles: Annotated[
        str | None, typer.Option("--profiles", help="Profiles for a per-well feature heat map.")
    ] = None,
    feature: Annotated[
        str | None, typer.Option("--feature", help="The profile column the heat map shows.")
    ] = None,
    profile_dataset_id: ProfileDatasetOption = None,
    aliases: AliasesOption = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Pixel backend for thumbnails.")
    ] = "auto",
    no_thumbnails: Annotated[
        bool, typer.Option("--no-thumbnails", help="Leave pixels out (metadata only).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write one self-contained HTML report: plate maps with thumbnails, image
    facts, warnings grouped by rule, and a warehouse's tables and validation.

    Example: iceberg-bioimage report plate.ome.zarr -o report.html
    """
    result = api.write_report(
        targets,
        output,
        catalog=catalog().catalog if catalog_table else None,
        profiles=profiles,
        feature=feature,
        alias_map=aliases,
        profile_dataset_id=profile_dataset_id,
        backend=backend,
        thumbnails=not no_thumbnails,
    )
    if as_json:
        print_json(result.to_dict())
        return
    for message in result.warnings:
        warn(message)
    if not state.quiet:
        line(
            f"{result.path}: {result.images} images, {result.plates} plates "
            f"({result.wells} wells), {result.thumbnails} thumbnails"
        )
        note("open it in a browser: it needs no server and fetches nothing")
