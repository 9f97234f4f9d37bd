"""Commands that publish to and read from Iceberg catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from iceberg_bioimage import api
from iceberg_bioimage.cli.options import (
    ByteRangesOption,
    DatasetIdOption,
    EngineOption,
    FormatOption,
    JsonOption,
    NamespaceOption,
    NoStatOption,
    SqliteTableOption,
    StoresArgument,
    StrictOption,
    TableNameOption010,
    check_010_table_flags,
    comma_list,
    with_catalog,
    with_catalog_to_read,
    with_ingest_publishing,
    with_publishing,
)
from iceberg_bioimage.cli.output import (
    choose_format,
    err,
    finish,
    line,
    note,
    print_json,
    print_rows,
    state,
)


def register_commands(app: typer.Typer) -> None:
    app.command("register")(register)
    app.command("ingest")(ingest)
    app.command("register-directory")(register_directory)
    app.command("publish-chunks")(publish_chunks)
    app.command("deregister")(deregister)
    app.command("register-profiles")(register_profiles)
    catalog_app = typer.Typer(
        help="Read catalog tables: list, show rows, history.", no_args_is_help=True
    )
    catalog_app.command("tables")(catalog_tables)
    catalog_app.command("show")(catalog_show)
    catalog_app.command("history")(catalog_history)
    catalog_app.command("info")(catalog_info)
    catalog_app.command("compact")(catalog_compact)
    app.add_typer(catalog_app, name="catalog")


@with_catalog
@with_publishing
def register(
    uri: Annotated[str, typer.Argument(help="A store (OME-Zarr, Zarr, OME-TIFF, TIFF folder).")],
    catalog: Any,
    publishing: dict[str, Any],
    dataset_id: DatasetIdOption = None,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Register one store: its image_assets rows (and chunk_index with --publish-chunks).

    Registering again replaces the store's rows in one commit per table.

    Example: iceberg-bioimage register plate.ome.zarr --publish-chunks
    """
    result = api.register_store(uri, catalog, dataset_id=dataset_id, **publishing)
    _report(result, as_json, strict)


@with_catalog
@with_ingest_publishing
def ingest(
    uris: StoresArgument,
    catalog: Any,
    publishing: dict[str, Any],
    as_json: JsonOption = False,
    strict: StrictOption = False,
    engine: EngineOption = "threads",
) -> None:
    """Ingest several stores with one commit per table (chunk index included
    unless --skip-chunks).

    Example: iceberg-bioimage ingest a.ome.zarr b.ome.zarr --namespace images
    """
    result = api.ingest_stores_to_catalog(uris, catalog, engine=engine, **publishing)
    _report(result, as_json, strict)


@with_catalog
@with_publishing
def register_directory(
    folder: Annotated[str, typer.Argument(help="A folder; every store under it is registered.")],
    catalog: Any,
    publishing: dict[str, Any],
    as_json: JsonOption = False,
    strict: StrictOption = False,
    engine: EngineOption = "threads",
) -> None:
    """Register every store found under a folder (scanned concurrently).

    Example: iceberg-bioimage register-directory /data/screens --publish-chunks
    """
    result = api.register_directory(folder, catalog, engine=engine, **publishing)
    _report(result, as_json, strict)


@with_catalog
def publish_chunks(
    uris: StoresArgument,
    catalog: Any,
    namespace: NamespaceOption = "images",
    no_stat: NoStatOption = False,
    byte_ranges: ByteRangesOption = False,
    as_json: JsonOption = False,
    strict: StrictOption = False,
    table_name: TableNameOption010 = None,
) -> None:
    """Publish images.chunk_index rows for stores (one commit).

    Example: iceberg-bioimage publish-chunks plate.ome.zarr --no-stat
    """
    check_010_table_flags({"--table-name": table_name}, {"--table-name": "chunk_index"})
    result = api.publish_chunk_index(
        uris, catalog, namespace=namespace, stat=not no_stat, byte_ranges=byte_ranges
    )
    _report(result, as_json, strict)


@with_catalog_to_read
def deregister(
    dataset: Annotated[
        str, typer.Argument(help="A dataset id, or the path / URI it was scanned from.")
    ],
    catalog: Any,
    namespace: NamespaceOption = "images",
    as_json: JsonOption = False,
) -> None:
    """Remove a dataset's rows from image_assets and chunk_index.

    Example: iceberg-bioimage deregister plate
    """
    result = api.deregister_store(dataset, catalog, namespace=namespace)
    if as_json:
        print_json(result.to_dict())
    else:
        removed = ", ".join(f"{n} rows from {t}" for t, n in result.rows.items())
        line(f"removed {', '.join(result.datasets)}: {removed}")


@with_catalog
def register_profiles(
    table: Annotated[
        str, typer.Argument(help="A profile table: Parquet, CSV(.gz), TSV or SQLite.")
    ],
    catalog: Any,
    table_name: Annotated[
        str | None, typer.Option("--table-name", help="Table name (default: from the file name).")
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace.")] = "profiles",
    sqlite_table: SqliteTableOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a profile table to profiles.<table> (its rows replaced in one commit).

    Example: iceberg-bioimage register-profiles cells.parquet --table-name cells
    """
    result = api.register_profile_table(
        table, catalog, namespace=namespace, table_name=table_name, sqlite_table=sqlite_table
    )
    _report(result, as_json, strict=False)


@with_catalog_to_read
def catalog_tables(
    catalog: Any,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the tables of a catalog.

    Example: iceberg-bioimage catalog tables --catalog ./examplehuman_warehouse
    """
    tables = api.list_catalog_tables(catalog, namespace)
    if as_json:
        print_json({"catalog": catalog.description, "tables": tables})
    else:
        for name in tables:
            line(name)


@with_catalog_to_read
def catalog_show(
    table: Annotated[str, typer.Argument(help="A table as <namespace>.<table>.")],
    catalog: Any,
    where: Annotated[
        str | None, typer.Option("--where", help="Row filter, e.g. \"dataset_id = 'plate1'\".")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns.")
    ] = None,
    snapshot: Annotated[
        int | None, typer.Option("--snapshot", help="Snapshot id (time travel).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time: the table as it was then.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to print (0: all).")] = 20,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the selected rows to Parquet.")
    ] = None,
    as_json: JsonOption = False,
    row_format: FormatOption = None,
) -> None:
    """Show rows of a catalog table, filtered, at a snapshot or a time.

    Example: iceberg-bioimage catalog show images.image_assets --where "well_id = 'B03'"
    """
    selected = comma_list(columns) or None
    data = api.catalog_table_to_arrow(
        catalog, table, columns=selected, where=where, snapshot_id=snapshot, as_of=as_of
    )
    if output is not None:
        path = api.write_table_parquet(data, output)
        note(f"wrote {data.num_rows} rows to {path}")
    shown = data if limit <= 0 else data.slice(0, limit)
    if as_json:
        print_json({"table": table, "rows": data.num_rows, "data": shown.to_pylist()})
        return
    names = shown.column_names
    rows = [[row[n] for n in names] for row in shown.to_pylist()]
    title = f"{table} ({data.num_rows} rows" + (f", first {shown.num_rows})" if limit else ")")
    print_rows(title, names, rows, choose_format(row_format))


@with_catalog_to_read
def catalog_history(
    table: Annotated[str, typer.Argument(help="A table as <namespace>.<table>.")],
    catalog: Any,
    as_json: JsonOption = False,
    row_format: FormatOption = None,
) -> None:
    """List a table's snapshots (for --snapshot / --as-of time travel).

    Example: iceberg-bioimage catalog history images.image_assets
    """
    history = api.catalog_table_history(catalog, table)
    if as_json:
        print_json({"table": table, "snapshots": history})
        return
    rows = [
        [e["snapshot_id"], e["timestamp"], e["operation"], e["summary"].get("total-records")]
        for e in history
    ]
    columns = ["snapshot_id", "timestamp", "operation", "records"]
    print_rows(f"{table} history", columns, rows, choose_format(row_format))


@with_catalog_to_read
def catalog_compact(
    table: Annotated[str, typer.Argument(help="A table as <namespace>.<table>.")],
    catalog: Any,
    expire_older_than: Annotated[
        str | None,
        typer.Option("--expire-older-than", help="ISO time: expire snapshots taken before it."),
    ] = None,
    retain_last: Annotated[
        int | None,
        typer.Option("--retain-last", min=1, help="Keep only this many snapshots (the newest)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rewrite a table's files (one sorted file per dataset bucket) in one commit,
    expiring old snapshots only when asked.

    Example: iceberg-bioimage catalog compact images.chunk_index --retain-last 5
    """
    report = api.compact_catalog_table(
        catalog, table, expire_older_than=expire_older_than, retain_last=retain_last
    )
    if as_json:
        print_json(report.to_dict())
    elif not state.quiet:
        line(
            f"{table}: {report.rows} rows, {report.files_before} files -> {report.files_after}, "
            f"{report.snapshots_expired} snapshots expired"
        )


def catalog_info(
    catalog_name: Annotated[
        str | None,
        typer.Option("--catalog", "-c", help="Catalog name or CytoTable warehouse path."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Say which catalog commands use, and how pyiceberg clients open it.

    Example: iceberg-bioimage catalog info
    """
    info = api.catalog_info(catalog_name)
    if as_json:
        print_json(info)
        return
    line(f"catalog: {info['description']}")
    line(f"pyiceberg name: {info['name']}")
    line(f"exists: {'yes' if info['exists'] else 'no (the first register creates it)'}")
    line("open it from pyiceberg with this .pyiceberg.yaml:")
    line(f"catalog:\n  {info['name']}:")
    for key, value in info["properties"].items():
        line(f"    {key}: {value}")


def _report(result: api.RegisterResult, as_json: bool, strict: bool) -> None:
    if as_json:
        print_json(result.to_dict())
    elif not state.quiet:
        for name, rows in result.rows.items():
            line(
                f"{name}: {rows} rows for {len(result.datasets)} dataset(s) in "
                f"{result.commits.get(name, 0)} commit(s)"
            )
        err.print(f"catalog: {result.catalog}", markup=False)
    finish(result.warnings, strict)
