"""Commands for Cytomining warehouse roots: exports and validation."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    AliasesOption,
    DatasetIdOption,
    HowOption,
    JsonOption,
    KeepUnmatchedOption,
    NamespaceOption,
    ProfileDatasetOption,
    SqliteTableOption,
    StoresArgument,
    check_010_table_flags,
    comma_list,
    option_group,
    with_catalog_to_read,
)
from iceberg_bioimage.cli.output import EXIT_INVALID, err, line, print_json, state, warn

ROOT_HELP = "The warehouse root: a folder, or an object-store URI (s3://, gs://, az://)."
RootOption = Annotated[str, typer.Option("--warehouse-root", "-w", help=ROOT_HELP)]
ModeOption = Annotated[
    str, typer.Option("--mode", help="overwrite: replace the tables written; append: add parts.")
]
ProfilesOption = Annotated[
    str | None,
    typer.Option("--profiles", help="A profile table to join into profiles.joined_profiles."),
]
LevelOption = Annotated[
    str | None, typer.Option("--profile-level", help="Analysis level: object, image, organoid, ...")
]
CompartmentOption = Annotated[
    str | None, typer.Option("--compartment", help="Compartment: cells, nuclei, cytoplasm, ...")
]


def _image_export(
    profiles: str | None,
    profile_dataset_id: str | None,
    aliases: Any,
    mode: str,
    no_chunks: bool,
    how: str,
    keep_unmatched: bool,
    profile_level: str | None,
    compartment: str | None,
) -> dict[str, Any]:
    """The keyword arguments of the API's image-table exports."""
    return {
        "profiles": profiles,
        "profile_dataset_id": profile_dataset_id,
        "alias_map": aliases,
        "mode": mode,
        "include_chunks": not no_chunks,
        "how": how,
        "keep_unmatched": keep_unmatched,
        "profile_level": profile_level,
        "compartment": compartment,
    }


# The options export-cytomining and export-cytomining-catalog share.
with_image_export = option_group(
    "export",
    {
        "profiles": (ProfilesOption, None),
        "profile_dataset_id": (ProfileDatasetOption, None),
        "aliases": (AliasesOption, None),
        "mode": (ModeOption, "overwrite"),
        "no_chunks": (
            Annotated[
                bool, typer.Option("--no-chunks", "--skip-chunks", help="Skip images.chunk_index.")
            ],
            False,
        ),
        "how": (HowOption, "left"),
        "keep_unmatched": (KeepUnmatchedOption, False),
        "profile_level": (LevelOption, None),
        "compartment": (CompartmentOption, None),
    },
    _image_export,
)


def register_commands(app: typer.Typer) -> None:
    app.command("export-cytomining")(export_cytomining)
    app.command("export-cytomining-catalog")(export_cytomining_catalog)
    app.command("export-cytomining-profiles")(export_cytomining_profiles)
    app.command("export-cytomining-table")(export_cytomining_table)
    app.command("validate-warehouse")(validate_warehouse)


@with_image_export
def export_cytomining(
    stores: StoresArgument,
    warehouse_root: RootOption,
    export: dict[str, Any],
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export stores to a Cytomining warehouse root (image tables, joined profiles).

    Example: iceberg-bioimage export-cytomining -w root --profiles cells.parquet plate.ome.zarr
    """
    store = stores[0] if len(stores) == 1 else stores
    result = api.export_store_to_cytomining_warehouse(
        store, warehouse_root, dataset_id=dataset_id, **export
    )
    _report(result, as_json)


@with_catalog_to_read
@with_image_export
def export_cytomining_catalog(
    warehouse_root: RootOption,
    catalog: Any,
    export: dict[str, Any],
    namespace: NamespaceOption = "images",
    only_images: Annotated[
        bool, typer.Option("--only-image-tables", help="Skip the catalog's other tables.")
    ] = False,
    as_json: JsonOption = False,
    image_assets_table: Annotated[
        str | None, typer.Option("--image-assets-table", hidden=True)
    ] = None,
    chunk_index_table: Annotated[
        str | None, typer.Option("--chunk-index-table", hidden=True)
    ] = None,
) -> None:
    """Materialise an Iceberg catalog (or CytoTable warehouse) into a warehouse root.

    Example: iceberg-bioimage export-cytomining-catalog --catalog ./examplehuman -w warehouse-root
    """
    check_010_table_flags(
        {"--image-assets-table": image_assets_table, "--chunk-index-table": chunk_index_table},
        {"--image-assets-table": "image_assets", "--chunk-index-table": "chunk_index"},
    )
    result = api.export_catalog_to_cytomining_warehouse(
        catalog, namespace, warehouse_root, include_other_tables=not only_images, **export
    )
    _report(result, as_json)


def export_cytomining_profiles(
    profiles: Annotated[
        str, typer.Argument(help="Profile or QC table: Parquet, CSV(.gz), SQLite.")
    ],
    warehouse_root: RootOption,
    table_name: Annotated[str | None, typer.Option("--table-name", help="Table name.")] = None,
    profile_dataset_id: ProfileDatasetOption = None,
    aliases: AliasesOption = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="profiles (default) or quality_control (coSMicQC: auto)."),
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Namespace.")] = None,
    mode: ModeOption = "append",
    profile_level: LevelOption = None,
    compartment: CompartmentOption = None,
    sqlite_table: SqliteTableOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a profile table (pycytominer, CytoTable) or QC table (coSMicQC) to a warehouse root.

    Example: iceberg-bioimage export-cytomining-profiles -w root --table-name normalized out.parquet
    """
    result = api.export_profiles_to_cytomining_warehouse(
        profiles,
        warehouse_root,
        table_name=table_name,
        profile_dataset_id=profile_dataset_id,
        alias_map=aliases,
        role=role,
        namespace=namespace,
        mode=mode,
        profile_level=profile_level,
        compartment=compartment,
        sqlite_table=sqlite_table,
    )
    _report(result, as_json)


def export_cytomining_table(
    table: Annotated[str, typer.Argument(help="A table: Parquet, CSV(.gz) or SQLite.")],
    warehouse_root: RootOption,
    table_name: Annotated[
        str, typer.Option("--table-name", help="<table> or <namespace>.<table>.")
    ],
    role: Annotated[
        str,
        typer.Option("--role", help="Role from the vocabulary (or custom + --role-description)."),
    ],
    join_keys: Annotated[
        str | None, typer.Option("--join-keys", help="Comma-separated join key columns.")
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Namespace.")] = None,
    role_description: Annotated[
        str | None, typer.Option("--role-description", help="Meaning of a project-specific role.")
    ] = None,
    source_type: Annotated[
        str | None, typer.Option("--source-type", help="Provenance: source type.")
    ] = None,
    source_ref: Annotated[
        str | None, typer.Option("--source-ref", help="Provenance: source reference.")
    ] = None,
    profile_level: LevelOption = None,
    compartment: CompartmentOption = None,
    mode: ModeOption = "append",
    as_json: JsonOption = False,
) -> None:
    """Add any table under an explicit role (embeddings, annotations, reports, ...).

    Example: iceberg-bioimage export-cytomining-table emb.parquet -w root \
        --table-name embeddings --role embeddings --namespace profiles
    """
    result = api.export_table_to_cytomining_warehouse(
        table,
        warehouse_root,
        table_name=table_name,
        role=role,
        join_keys=comma_list(join_keys),
        source_type=source_type,
        source_ref=source_ref or table,
        profile_level=profile_level,
        compartment=compartment,
        namespace=namespace,
        mode=mode,
        role_description=role_description,
    )
    _report(result, as_json)


def validate_warehouse(
    warehouse_root: Annotated[str, typer.Argument(help=ROOT_HELP)],
    as_json: JsonOption = False,
) -> None:
    """Check a warehouse root against every MUST / SHOULD of the specification.

    Exit 0 conforming (warnings allowed), 1 on any MUST violation.

    Example: iceberg-bioimage validate-warehouse warehouse-root --json
    """
    report = api.validate_warehouse(warehouse_root)
    if as_json:
        print_json(report.to_dict())
    elif not state.quiet:
        for finding in report.findings:
            if finding.level == "MUST":
                line(str(finding))
            else:
                err.print(str(finding), markup=False)
        verdict = (
            "conforms"
            if report.valid
            else f"does not conform ({len(report.errors)} MUST violations)"
        )
        tables, warnings = len(report.tables), len(report.warnings)
        line(f"{report.root}: {tables} tables; {verdict}; {warnings} warnings")
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)


def _report(result: api.ExportResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    if state.quiet:
        return
    for name, rows in result.tables.items():
        line(f"{name}: {rows} rows" + ("" if rows else " (no rows: omitted)"))
    if result.join is not None:
        r = result.join
        line(f"joined profiles by {r.strategy}: {r.matched_rows} of {r.profile_rows} rows matched")
    for warning in result.warnings:
        warn(warning)
    err.print(f"warehouse: {result.manifest_path}", markup=False)
