"""Commands for profile tables: contract validation and joins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    AliasesOption,
    HowOption,
    JsonOption,
    ProfileDatasetOption,
    SqliteTableOption,
)
from iceberg_bioimage.cli.output import EXIT_INVALID, err, line, print_json, state, warn


def register_commands(app: typer.Typer) -> None:
    app.command("validate-contract")(validate_contract)
    app.command("join-profiles")(join_profiles)


def validate_contract(
    table: Annotated[str, typer.Argument(help="Profile table: Parquet, CSV(.gz), TSV or SQLite.")],
    profile_dataset_id: ProfileDatasetOption = None,
    aliases: AliasesOption = None,
    sqlite_table: SqliteTableOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a profile table against the microscopy join contract.

    Reports each key, the column it resolved to (or why not) and the join
    strategy. Exit 0 valid, 1 invalid, 2 unreadable input.

    Example: iceberg-bioimage validate-contract Cells.parquet --profile-dataset-id exp1
    """
    report = api.validate_microscopy_profile_table(
        table, alias_map=aliases, profile_dataset_id=profile_dataset_id, sqlite_table=sqlite_table
    )
    if as_json:
        print_json(report.to_dict())
    elif not state.quiet:
        for key, resolution in report.keys.items():
            column = resolution.column or "-"
            line(f"{key:<11} {column:<32} {resolution.reason}")
        if report.files.names:
            line(f"file names  {', '.join(report.files.names.values())}")
        for key, how in report.required.items():
            line(f"required    {key:<11} {how or 'MISSING'}")
        if report.valid:
            line(f"valid: join by {report.strategy}")
        else:
            hint = (
                " (pass --profile-dataset-id or add a dataset_id column)"
                if "dataset_id" in report.missing_required
                else ""
            )
            missing = ", ".join(report.missing_required) or "a join strategy"
            line(f"invalid: missing {missing}{hint}")
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)


def join_profiles(
    store: Annotated[str, typer.Argument(help="A store, or a folder of stores / TIFFs.")],
    profiles: Annotated[
        str, typer.Argument(help="Profile table: Parquet, CSV(.gz), TSV or SQLite.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Joined table (Parquet).")],
    how: HowOption = "left",
    profile_dataset_id: ProfileDatasetOption = None,
    aliases: AliasesOption = None,
    sqlite_table: SqliteTableOption = None,
    as_json: JsonOption = False,
    include_chunks: Annotated[
        bool,
        typer.Option(
            "--include-chunks", help="One row per (profile row, chunk of its image), all levels."
        ),
    ] = False,
) -> None:
    """Join a profile table to the images of a store; report what matched.

    Example: iceberg-bioimage join-profiles plate.ome.zarr Cells.parquet -o joined.parquet
    """
    result = api.join_profiles_with_store(
        store,
        profiles,
        how=how,
        alias_map=aliases,
        profile_dataset_id=profile_dataset_id,
        sqlite_table=sqlite_table,
        include_chunks=include_chunks,
    )
    result.report.require_join_key(profiles)
    table = result.table
    path = api.write_table_parquet(table, output)
    report = result.report.to_dict() | {"output": str(path)}
    if as_json:
        print_json(report)
    elif not state.quiet:
        r = result.report
        line(
            f"joined by {r.strategy}: {r.matched_rows} of {r.profile_rows} profile rows matched, "
            f"{r.unmatched_profile_rows} unmatched ({'dropped' if how == 'inner' else 'kept'}), "
            f"{r.unmatched_images} of {r.image_rows} images unmatched"
        )
        err.print(f"wrote {table.num_rows} rows to {path}", markup=False)
        for warning in r.warnings:
            warn(warning)
