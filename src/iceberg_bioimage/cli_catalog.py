"""CLI commands that publish to and read from Iceberg catalogs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from iceberg_bioimage import api
from iceberg_bioimage.catalog import ResolvedCatalog, resolve_catalog
from iceberg_bioimage.cli_common import (
    DatasetIdOption,
    JsonOption,
    StrictOption,
    err,
    finish,
    note,
    out,
    print_json,
    state,
)
from iceberg_bioimage.cli_profiles import SqliteTableOption
from iceberg_bioimage.errors import InputError

CatalogOption = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        "-c",
        help="Catalog name (.pyiceberg.yaml / PYICEBERG_CATALOG__*) or a CytoTable warehouse path; "
        "default: the embedded catalog.",
    ),
]
CatalogUriOption = Annotated[str | None, typer.Option("--catalog-uri", help="Catalog URI.")]
WarehouseOption = Annotated[str | None, typer.Option("--warehouse", help="Warehouse location.")]
PropertyOption = Annotated[
    list[str] | None,
    typer.Option("--catalog-property", help="Extra catalog property k=v (repeatable)."),
]
NamespaceOption = Annotated[
    str, typer.Option("--namespace", "-n", help="Namespace of the image tables.")
]
ChunksOption = Annotated[
    bool, typer.Option("--publish-chunks", help="Also publish images.chunk_index rows.")
]
NoStatOption = Annotated[
    bool, typer.Option("--no-stat", help="Chunk rows from the grid only; do not touch storage.")
]
ByteRangesOption = Annotated[
    bool, typer.Option("--byte-ranges", help="Sharded arrays: one chunk row per inner chunk.")
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Replace a dataset id registered from another URI.")
]


def open_catalog(
    catalog: str | None, uri: str | None, warehouse: str | None, properties: list[str] | None
) -> ResolvedCatalog:
    pairs = {}
    for item in properties or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--catalog-property expects key=value, got {item!r}")
        pairs[key] = value
    resolved = resolve_catalog(catalog, uri=uri, warehouse=warehouse, properties=pairs)
    if resolved.created:
        note(f"created the {resolved.description}")
    return resolved


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
    app.add_typer(catalog_app, name="catalog")


def register(
    uri: Annotated[str, typer.Argument(help="A store (OME-Zarr, Zarr, OME-TIFF, TIFF folder).")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: NamespaceOption = "images",
    dataset_id: DatasetIdOption = None,
    publish_chunks: ChunksOption = False,
    no_stat: NoStatOption = False,
    byte_ranges: ByteRangesOption = False,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Register one store: its image_assets rows (and chunk_index with --publish-chunks).

    Registering again replaces the store's rows in one commit per table.

    Example: iceberg-bioimage register plate.ome.zarr --publish-chunks
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.register_store(
        uri,
        resolved,
        namespace=namespace,
        dataset_id=dataset_id,
        publish_chunks=publish_chunks,
        replace=replace,
        stat=not no_stat,
        byte_ranges=byte_ranges,
    )
    _report(result, as_json, strict)


def ingest(
    uris: Annotated[list[str], typer.Argument(help="Stores, or folders holding stores.")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: NamespaceOption = "images",
    publish_chunks: ChunksOption = False,
    no_stat: NoStatOption = False,
    byte_ranges: ByteRangesOption = False,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Ingest several stores with one commit per table.

    Example: iceberg-bioimage ingest a.ome.zarr b.ome.zarr --namespace images
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.ingest_stores_to_warehouse(
        uris,
        resolved,
        namespace=namespace,
        publish_chunks=publish_chunks,
        replace=replace,
        stat=not no_stat,
        byte_ranges=byte_ranges,
    )
    _report(result, as_json, strict)


def register_directory(
    folder: Annotated[str, typer.Argument(help="A folder; every store under it is registered.")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: NamespaceOption = "images",
    publish_chunks: ChunksOption = False,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Register every store found under a folder (scanned concurrently).

    Example: iceberg-bioimage register-directory /data/screens --publish-chunks
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.register_directory(
        folder, resolved, namespace=namespace, publish_chunks=publish_chunks, replace=replace
    )
    _report(result, as_json, strict)


def publish_chunks(
    uris: Annotated[list[str], typer.Argument(help="Stores, or folders holding stores.")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: NamespaceOption = "images",
    no_stat: NoStatOption = False,
    byte_ranges: ByteRangesOption = False,
    as_json: JsonOption = False,
    strict: StrictOption = False,
) -> None:
    """Publish images.chunk_index rows for stores (one commit).

    Example: iceberg-bioimage publish-chunks plate.ome.zarr --no-stat
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.publish_chunk_index(
        uris, resolved, namespace=namespace, stat=not no_stat, byte_ranges=byte_ranges
    )
    _report(result, as_json, strict)


def deregister(
    dataset: Annotated[
        str, typer.Argument(help="A dataset id, or the path / URI it was scanned from.")
    ],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: NamespaceOption = "images",
    as_json: JsonOption = False,
) -> None:
    """Remove a dataset's rows from image_assets and chunk_index.

    Example: iceberg-bioimage deregister plate
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.deregister_store(dataset, resolved, namespace=namespace)
    if as_json:
        print_json(result.to_dict())
    else:
        removed = ", ".join(f"{n} rows from {t}" for t, n in result.rows.items())
        out.print(f"removed {', '.join(result.datasets)}: {removed}", markup=False)


def register_profiles(
    table: Annotated[
        str, typer.Argument(help="A profile table: Parquet, CSV(.gz), TSV or SQLite.")
    ],
    table_name: Annotated[
        str | None, typer.Option("--table-name", help="Table name (default: from the file name).")
    ] = None,
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace.")] = "profiles",
    sqlite_table: SqliteTableOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a profile table to profiles.<table> (its rows replaced in one commit).

    Example: iceberg-bioimage register-profiles cells.parquet --table-name cells
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    result = api.register_profile_table(
        table, resolved, namespace=namespace, table_name=table_name, sqlite_table=sqlite_table
    )
    _report(result, as_json, strict=False)


def catalog_tables(
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the tables of a catalog.

    Example: iceberg-bioimage catalog tables --catalog ./examplehuman_warehouse
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    tables = api.list_catalog_tables(resolved, namespace)
    if as_json:
        print_json({"catalog": resolved.description, "tables": tables})
    else:
        for name in tables:
            out.print(name, markup=False)


def catalog_show(
    table: Annotated[str, typer.Argument(help="A table as <namespace>.<table>.")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
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
    limit: Annotated[int, typer.Option("--limit", help="Rows to print (0: all).")] = 20,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the selected rows to Parquet.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show rows of a catalog table, filtered, at a snapshot or a time.

    Example: iceberg-bioimage catalog show images.image_assets --where "well_id = 'B03'"
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    selected = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    data = api.catalog_table_to_arrow(
        resolved, table, columns=selected, where=where, snapshot_id=snapshot, as_of=as_of
    )
    if output is not None:
        import pyarrow.parquet as pq

        from iceberg_bioimage.io.atomic import write_atomically

        path = write_atomically(output, lambda staging: pq.write_table(data, staging))
        note(f"wrote {data.num_rows} rows to {path}")
    shown = data if limit <= 0 else data.slice(0, limit)
    if as_json:
        print_json({"table": table, "rows": data.num_rows, "data": shown.to_pylist()})
        return
    view = RichTable(title=f"{table} ({data.num_rows} rows)", title_justify="left")
    names = shown.column_names[:12]
    for name in names:
        view.add_column(name, overflow="fold")
    for row in shown.select(names).to_pylist():
        view.add_row(*[_cell(row[n]) for n in names])
    out.print(view)
    if data.num_columns > len(names):
        note(f"{data.num_columns - len(names)} more columns (use --columns or --json)")


def catalog_history(
    table: Annotated[str, typer.Argument(help="A table as <namespace>.<table>.")],
    catalog: CatalogOption = None,
    catalog_uri: CatalogUriOption = None,
    warehouse: WarehouseOption = None,
    catalog_property: PropertyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a table's snapshots (for --snapshot / --as-of time travel).

    Example: iceberg-bioimage catalog history images.image_assets
    """
    resolved = open_catalog(catalog, catalog_uri, warehouse, catalog_property)
    history = api.catalog_table_history(resolved, table)
    if as_json:
        print_json({"table": table, "snapshots": history})
        return
    view = RichTable(title=f"{table} history", title_justify="left")
    for name in ("snapshot_id", "timestamp", "operation", "records"):
        view.add_column(name)
    for entry in history:
        records = entry["summary"].get("total-records", "")
        view.add_row(
            str(entry["snapshot_id"]), entry["timestamp"], entry["operation"] or "", records
        )
    out.print(view)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _report(result: api.RegisterResult, as_json: bool, strict: bool) -> None:
    if as_json:
        print_json(result.to_dict())
    elif not state.quiet:
        for name, rows in result.rows.items():
            out.print(
                f"{name}: {rows} rows for {len(result.datasets)} dataset(s) in "
                f"{result.commits.get(name, 0)} commit(s)",
                markup=False,
            )
        err.print(f"catalog: {result.catalog}", markup=False)
    finish(result.warnings, strict)
