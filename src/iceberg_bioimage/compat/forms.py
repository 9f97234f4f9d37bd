"""0.1.0's call forms, mapped onto today's API in one place.

Each public function that 0.1.0 called differently is wrapped once: the
wrapper recognises the old form (an extra positional ``namespace``, renamed
keywords, table-name keywords, a different argument order), rewrites it into
today's call and returns today's result, which also answers to 0.1.0's
attribute names (:mod:`iceberg_bioimage.compat.results`). Calls in today's
form pass straight through. Where 0.1.0 had another default (its ``ingest``
and ``register`` published the chunk index), the old form keeps the old
default and says so with a ``DeprecationWarning``.

Where matching 0.1.0 would break the Cytomining Warehouse Specification
(table names other than the canonical ones in a warehouse root), the old
keyword is accepted with its canonical value and refused otherwise; the
migration page lists these differences.
"""

from __future__ import annotations

import functools
import importlib
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from iceberg_bioimage import api
from iceberg_bioimage.errors import InputError

Args = tuple[Any, ...]
Kwargs = dict[str, Any]

_CATALOG_TABLES = {"image_assets_table": "image_assets", "chunk_index_table": "chunk_index"}
_WAREHOUSE_TABLES = {
    "image_assets_table_name": "images.image_assets",
    "chunk_index_table_name": "images.chunk_index",
    "joined_table_name": "profiles.joined_profiles",
    "catalog_image_assets_table_name": "image_assets",
    "catalog_chunk_index_table_name": "chunk_index",
}


@dataclass(frozen=True)
class CatalogScanOptions:
    """0.1.0's scan options for catalog reads: columns, a row filter, a snapshot, a limit."""

    columns: Sequence[str] | None = None
    where: str | None = None
    snapshot_id: int | None = None
    limit: int | None = None


def _deprecated(message: str) -> None:
    warnings.warn(f"iceberg-bioimage 0.1.0 call form: {message}", DeprecationWarning, stacklevel=4)


def require_canonical_names(kwargs: Kwargs, names: dict[str, str]) -> None:
    """Pop 0.1.0's table-name keywords; only the canonical names are possible now."""
    for keyword, canonical in names.items():
        if keyword not in kwargs:
            continue
        given = kwargs.pop(keyword)
        if given is not None and given.rsplit(".", 1)[-1] != canonical.rsplit(".", 1)[-1]:
            raise InputError(
                f"{keyword}={given!r}: tables have their canonical names since 0.2 "
                f"({canonical}); use the namespace to keep datasets apart"
            )


def _chunks_by_old_default(kwargs: Kwargs, function: str) -> None:
    """0.1.0 published the chunk index unless ``chunk_index_table=None``."""
    chunk_table = kwargs.pop("chunk_index_table", "chunk_index")
    require_canonical_names(kwargs, _CATALOG_TABLES)
    if chunk_table is not None:
        require_canonical_names({"chunk_index_table": chunk_table}, _CATALOG_TABLES)
    if "publish_chunks" not in kwargs:
        kwargs["publish_chunks"] = chunk_table is not None
        if chunk_table is not None:
            _deprecated(
                f"{function}(uri, catalog, namespace, ...) publishes the chunk index, as "
                "0.1.0 did; today's form publishes it with publish_chunks=True"
            )


def _uses_old_keywords(kwargs: Kwargs, names: Sequence[str]) -> bool:
    return any(name in kwargs for name in names)


# -- one translator per function: (args, kwargs) -> (args, kwargs) ------------
def _namespace_third(function: str, chunks: bool = True) -> Callable[[Args, Kwargs], Any]:
    """``f(first, catalog, namespace, *, image_assets_table=, chunk_index_table=)``."""

    def translate(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
        old = len(args) >= 3 or _uses_old_keywords(kwargs, _CATALOG_TABLES)
        if len(args) >= 3:
            args, kwargs = args[:2], {**kwargs, "namespace": args[2]}
        if old and chunks:
            _chunks_by_old_default(kwargs, function)
        else:
            require_canonical_names(kwargs, _CATALOG_TABLES)
        return args, kwargs

    return translate


def _register_directory(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    pattern = kwargs.pop("glob", None)
    if pattern not in (None, "**/*.ome.zarr"):
        _deprecated(f"glob={pattern!r} is not applied: every store under the folder is registered")
    return _namespace_third("register_directory")(args, kwargs)


def _register_profile_table(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    if len(args) >= 3:  # 0.1.0: (path, catalog, namespace, *, table_name="profiles")
        args, kwargs = args[:2], {"table_name": "profiles", **kwargs, "namespace": args[2]}
    return args, kwargs


def _qualified_table(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    """``f(catalog, namespace, table_name)`` -> ``f(catalog, "namespace.table_name")``."""
    if len(args) >= 3:
        namespace = args[1] if isinstance(args[1], str) else ".".join(args[1])
        args = (args[0], f"{namespace}.{args[2]}", *args[3:])
    options = kwargs.pop("scan_options", None)
    if options is not None:
        kwargs.setdefault("columns", list(options.columns) if options.columns else None)
        kwargs.setdefault("where", options.where)
        kwargs.setdefault("snapshot_id", options.snapshot_id)
    return args, kwargs


def _catalog_join(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    if len(args) >= 3:  # 0.1.0: (catalog, namespace, profiles)
        args, kwargs = (args[0], args[2]), {**kwargs, "namespace": args[1]}
    require_canonical_names(kwargs, _CATALOG_TABLES)
    for ignored in ("join_keys", "image_assets_scan_options", "chunk_index_scan_options"):
        if kwargs.pop(ignored, None) is not None:
            _deprecated(f"{ignored} is not used: join keys are resolved from the profile table")
    return args, kwargs


def _warehouse_export(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    require_canonical_names(kwargs, _WAREHOUSE_TABLES)
    return args, kwargs


def _profiles_export(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    for ignored in ("join_keys", "source_type"):
        if kwargs.pop(ignored, None) is not None:
            _deprecated(f"{ignored} is not used: it is derived from the profile table")
    return args, kwargs


def _table_export(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    if "default_namespace" in kwargs:
        default = kwargs.pop("default_namespace")
        if default is not None:
            kwargs.setdefault("namespace", default)
    if kwargs.get("join_keys") is None:
        kwargs.pop("join_keys", None)
    return args, kwargs


def _publish(table: str) -> Callable[[Args, Kwargs], Any]:
    """0.1.0: ``publish_<table>(catalog, namespace, table_name, scan_result)``."""

    def translate(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
        if len(args) == 4:
            catalog, namespace, table_name, result = args
            require_canonical_names({"table_name": table_name}, {"table_name": table})
            args, kwargs = ([result], catalog), {**kwargs, "namespace": namespace}
        return args, kwargs

    return translate


def _validate_columns(args: Args, kwargs: Kwargs) -> tuple[Args, Kwargs]:
    kwargs.pop("target", None)  # 0.1.0 labelled the report; ours says "profile_table"
    return args, kwargs


def _legacy(translate: Callable[[Args, Kwargs], tuple[Args, Kwargs]]) -> Callable[[Any], Any]:
    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def accepting_010(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = translate(args, dict(kwargs))
            return function(*args, **kwargs)

        return accepting_010

    return wrap


def _duckdb_connection(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def accepting_010(database: Any = None, *, read_only: bool = False) -> Any:
        if database in (None, ":memory:") and not read_only:
            return function(None)
        if database not in (None, ":memory:") and os.path.isdir(os.fspath(database)):
            return function(database)  # today's form: a warehouse root
        import duckdb

        return duckdb.connect(os.fspath(database or ":memory:"), read_only=read_only)

    return accepting_010


_OPERATORS = {"=", "!=", "<", "<=", ">", ">=", "IS", "IS NOT"}


def _query(function: Callable[..., Any]) -> Callable[..., Any]:
    """0.1.0: ``query_metadata_table(source, *, columns=, filters=, connection=)``."""

    @functools.wraps(function)
    def accepting_010(source: Any, sql: str | None = None, **kwargs: Any) -> Any:
        columns = kwargs.pop("columns", None)
        filters = kwargs.pop("filters", None)
        kwargs.pop("connection", None)
        if sql is None:
            sql = _select(kwargs.get("name", "metadata"), columns, filters)
        return function(source, sql, **kwargs)

    return accepting_010


def _select(name: str, columns: Sequence[str] | None, filters: Any) -> str:
    def quoted(identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    selected = ", ".join(quoted(c) for c in columns) if columns else "*"
    clauses = []
    for column, operator, value in filters or ():
        operator = operator.strip().upper()
        if operator not in _OPERATORS:
            raise InputError(f"filter operator {operator!r} is not one of {sorted(_OPERATORS)}")
        clauses.append(f"{quoted(column)} {operator} {literal(value)}")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT {selected} FROM {quoted(name)}{where}"


def _manifest_root(path: str | os.PathLike[str]) -> str:
    """0.1.0 named warehouses by their manifest file; today by their root."""
    text = os.fspath(path)
    return (os.path.dirname(text) or ".") if text.endswith(".json") else text


def _validate_manifest(path: str | os.PathLike[str]) -> Any:
    """0.1.0: validate a warehouse by its manifest file (or root)."""
    return api.validate_warehouse(_manifest_root(path))


def _load_manifest(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def accepting_010(root: Any) -> Any:
        return function(_manifest_root(root))

    return accepting_010


# Today's public functions that also accept their 0.1.0 call forms: each
# name, how its arguments are translated, and the function that does the work.
_WRAPPED: dict[str, tuple[Callable[[Callable[..., Any]], Callable[..., Any]], str]] = {
    "register_store": (_legacy(_namespace_third("register_store")), "register_store"),
    "deregister_store": (
        _legacy(_namespace_third("deregister_store", chunks=False)),
        "deregister_store",
    ),
    "register_directory": (_legacy(_register_directory), "register_directory"),
    "register_profile_table": (_legacy(_register_profile_table), "register_profile_table"),
    "load_catalog_table": (_legacy(_qualified_table), "load_catalog_table"),
    "catalog_table_to_arrow": (_legacy(_qualified_table), "catalog_table_to_arrow"),
    "join_catalog_image_assets_with_profiles": (
        _legacy(_catalog_join),
        "join_catalog_image_assets_with_profiles",
    ),
    "export_scan_result_to_cytomining_warehouse": (
        _legacy(_warehouse_export),
        "export_scan_result_to_cytomining_warehouse",
    ),
    "export_store_to_cytomining_warehouse": (
        _legacy(_warehouse_export),
        "export_store_to_cytomining_warehouse",
    ),
    "export_catalog_to_cytomining_warehouse": (
        _legacy(_warehouse_export),
        "export_catalog_to_cytomining_warehouse",
    ),
    "export_profiles_to_cytomining_warehouse": (
        _legacy(_profiles_export),
        "export_profiles_to_cytomining_warehouse",
    ),
    "export_table_to_cytomining_warehouse": (
        _legacy(_table_export),
        "export_table_to_cytomining_warehouse",
    ),
    "publish_image_assets": (_legacy(_publish("image_assets")), "publish_image_assets"),
    "publish_chunk_index": (_legacy(_publish("chunk_index")), "publish_chunk_index"),
    "validate_microscopy_profile_columns": (
        _legacy(_validate_columns),
        "validate_microscopy_profile_columns",
    ),
    "create_duckdb_connection": (_duckdb_connection, "create_duckdb_connection"),
    "query_metadata_table": (_query, "query_metadata_table"),
    "load_warehouse_manifest": (_load_manifest, "load_warehouse_manifest"),
    "ingest_scan_results_to_catalog": (
        _legacy(_namespace_third("ingest_scan_results_to_warehouse")),
        "ingest_scan_results_to_catalog",
    ),
    "ingest_stores_to_catalog": (
        _legacy(_namespace_third("ingest_stores_to_warehouse")),
        "ingest_stores_to_catalog",
    ),
}


# 0.1.0's names of the same functions: one object under both names.
_SAME_AS = {
    "ingest_scan_results_to_warehouse": "ingest_scan_results_to_catalog",
    "ingest_stores_to_warehouse": "ingest_stores_to_catalog",
}


def wrapped(name: str) -> Callable[..., Any] | None:
    """The public function ``name``, accepting its 0.1.0 forms too (None: not
    one of those). Built on first use, so the work's module loads only then."""
    return _wrapped_once(_SAME_AS.get(name, name))


@functools.cache
def _wrapped_once(name: str) -> Callable[..., Any] | None:
    entry = _WRAPPED.get(name)
    if entry is None:
        return None
    wrap, target = entry
    return wrap(getattr(api, target))


# Names 0.1.0 exported that today's API calls otherwise: (module, name).
_LEGACY_NAMES = {
    "CatalogScanOptions": ("iceberg_bioimage.compat.forms", "CatalogScanOptions"),
    "ContractValidationResult": ("iceberg_bioimage.profiles.validate", "ContractReport"),
    "CytominingWarehouseResult": ("iceberg_bioimage.warehouse.exports", "ExportResult"),
    "RegistrationResult": ("iceberg_bioimage.catalog.register", "RegisterResult"),
    "WarehouseIngestResult": ("iceberg_bioimage.catalog.register", "RegisterResult"),
    "WarehouseManifest": ("iceberg_bioimage.warehouse.manifest", "Manifest"),
    "WarehouseTableManifestEntry": ("iceberg_bioimage.warehouse.manifest", "TableEntry"),
    "WarehouseValidationResult": ("iceberg_bioimage.warehouse.validate", "ValidationReport"),
    "validate_warehouse_manifest": ("iceberg_bioimage.compat.forms", "_validate_manifest"),
    "create_ome_arrow_from_zarr": ("iceberg_bioimage.api", "ome_arrow_from_ome_zarr"),
    "create_ome_arrow_from_tiff": ("iceberg_bioimage.api", "ome_arrow_from_tiff"),
    "open_ome_arrow_dataset": ("iceberg_bioimage.api", "read_ome_arrow_dataset"),
}
LEGACY_NAMES = tuple(_LEGACY_NAMES)


def legacy(name: str) -> Any:
    """What a name 0.1.0 exported is today (KeyError: not one of them)."""
    module, attribute = _LEGACY_NAMES[name]
    return getattr(importlib.import_module(module), attribute)
