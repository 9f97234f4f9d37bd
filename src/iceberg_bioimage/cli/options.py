"""Options several commands share, declared once; the catalog options are one
group, resolved once into the catalog the command is given."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from iceberg_bioimage.cli.output import note

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the scans run: threads, processes (every core here), daft or ray (extras).",
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Rows as table, csv, tsv or json (default: table at a terminal, else tsv).",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit with code 1 when there are warnings.")
]
DatasetIdOption = Annotated[
    str | None,
    typer.Option("--dataset-id", help="Dataset id (default: store name without suffix)."),
]
StoresArgument = Annotated[list[str], typer.Argument(help="Stores, or folders holding stores.")]

# -- profiles -----------------------------------------------------------------
AliasesOption = Annotated[
    Path | None,
    typer.Option("--aliases", help="TOML file with a \\[microscopy.aliases] table."),
]
ProfileDatasetOption = Annotated[
    str | None,
    typer.Option("--profile-dataset-id", help="Dataset id for profile rows that carry none."),
]
SqliteTableOption = Annotated[
    str | None, typer.Option("--sqlite-table", help="Table to read from a SQLite file.")
]
HowOption = Annotated[
    str, typer.Option("--how", help="Profile join: left keeps unmatched rows; inner drops them.")
]
KeepUnmatchedOption = Annotated[
    bool,
    typer.Option(
        "--keep-unmatched",
        help="Export even when no profile row matches an image (default: refuse).",
    ),
]

# -- Iceberg catalogs ---------------------------------------------------------------
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

F = TypeVar("F", bound=Callable[..., Any])


def option_group(
    parameter: str, options: dict[str, tuple[Any, Any]], build: Callable[..., Any]
) -> Callable[[F], F]:
    """A decorator giving a command the ``options`` (name: (annotation, default));
    the command receives ``parameter``, what ``build`` makes of their values."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != parameter]
        group = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind
            )
            for name, (kind, default) in options.items()
        ]

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            chosen = {name: values.pop(name) for name in options}
            return command(**{parameter: build(**chosen)}, **values)

        wrapper.__signature__ = signature.replace(parameters=[*own, *group])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def open_catalog(
    catalog_name: str | None,
    catalog_uri: str | None,
    warehouse: str | None,
    catalog_property: list[str] | None,
    *,
    create: bool = True,
) -> Any:
    """The catalog the four options name, resolved once (and announced when the
    embedded one is created, or stands in for ``default``). Commands that only
    read pass ``create=False``: they never create the embedded catalog."""
    from iceberg_bioimage.api.catalog import resolve_catalog
    from iceberg_bioimage.errors import InputError

    pairs = {}
    for item in catalog_property or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--catalog-property expects key=value, got {item!r}")
        pairs[key] = value
    resolved = resolve_catalog(
        catalog_name, uri=catalog_uri, warehouse=warehouse, properties=pairs, create=create
    )
    if resolved.notice:
        note(resolved.notice)
    if resolved.created:
        note(f"created the {resolved.description}")
    return resolved


def comma_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (an option's comma-separated names)."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def check_010_table_flags(given: dict[str, str | None], canonical: dict[str, str]) -> None:
    """0.1.0's table-name flags name the tables we write, or are refused."""
    from iceberg_bioimage.compat.forms import require_canonical_names

    require_canonical_names(dict(given), canonical)


def publishing(
    namespace: str,
    publish_chunks: bool,
    no_stat: bool,
    byte_ranges: bool,
    replace: bool,
    table_name: str | None = None,
    chunk_table_name: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of the API's ingest functions (0.1.0's table-name
    flags are accepted with the canonical names only)."""
    check_010_table_flags(
        {"--table-name": table_name, "--chunk-table-name": chunk_table_name},
        {"--table-name": "image_assets", "--chunk-table-name": "chunk_index"},
    )
    return {
        "namespace": namespace,
        "publish_chunks": publish_chunks,
        "replace": replace,
        "stat": not no_stat,
        "byte_ranges": byte_ranges,
    }


_CATALOG_OPTIONS: dict[str, tuple[Any, Any]] = {
    "catalog_name": (
        Annotated[
            str | None,
            typer.Option(
                "--catalog",
                "-c",
                help="Catalog name (.pyiceberg.yaml / PYICEBERG_CATALOG__*) or a CytoTable "
                "warehouse path; default: pyiceberg's configured default, else the embedded "
                "catalog.",
            ),
        ],
        None,
    ),
    "catalog_uri": (
        Annotated[str | None, typer.Option("--catalog-uri", help="Catalog URI.")],
        None,
    ),
    "warehouse": (
        Annotated[str | None, typer.Option("--warehouse", help="Catalog warehouse location.")],
        None,
    ),
    "catalog_property": (
        Annotated[
            list[str] | None,
            typer.Option("--catalog-property", help="Extra catalog property k=v (repeatable)."),
        ],
        None,
    ),
}

with_catalog = option_group("catalog", _CATALOG_OPTIONS, open_catalog)
# the catalog options, opened only when the command asks (it may write elsewhere)
with_catalog_on_demand = option_group(
    "catalog", _CATALOG_OPTIONS, lambda **named: functools.partial(open_catalog, **named)
)
with_catalog_to_read = option_group(
    "catalog", _CATALOG_OPTIONS, functools.partial(open_catalog, create=False)
)

# 0.1.0's flags, hidden from help: accepted as long as they name what we write.
TableNameOption010 = Annotated[str | None, typer.Option("--table-name", hidden=True)]
ChunkTableNameOption010 = Annotated[str | None, typer.Option("--chunk-table-name", hidden=True)]

_PUBLISHING_OPTIONS: dict[str, tuple[Any, Any]] = {
    "namespace": (NamespaceOption, "images"),
    "publish_chunks": (ChunksOption, False),
    "no_stat": (NoStatOption, False),
    "byte_ranges": (ByteRangesOption, False),
    "replace": (ReplaceOption, False),
    "table_name": (TableNameOption010, None),
    "chunk_table_name": (ChunkTableNameOption010, None),
}
with_publishing = option_group("publishing", _PUBLISHING_OPTIONS, publishing)
# ``ingest`` publishes the chunk index unless told not to, as 0.1.0's did.
with_ingest_publishing = option_group(
    "publishing",
    _PUBLISHING_OPTIONS
    | {
        "publish_chunks": (
            Annotated[
                bool,
                typer.Option(
                    "--publish-chunks/--skip-chunks",
                    help="Also publish images.chunk_index rows (the default for ingest).",
                ),
            ],
            True,
        )
    },
    publishing,
)
