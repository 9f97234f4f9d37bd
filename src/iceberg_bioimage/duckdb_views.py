"""DuckDB helpers (optional: ``pip install 'iceberg-bioimage[duckdb]'``).

A warehouse root opens as views named ``namespace.table`` (one DuckDB schema
per namespace) over exactly the part files its manifest lists, read with
``union_by_name`` so parts written by different tools line up by column;
roots on object storage are scanned as Arrow datasets.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from iceberg_bioimage.errors import MissingDependencyError
from iceberg_bioimage.io.uri import has_scheme, is_remote


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise MissingDependencyError("duckdb", "duckdb", "DuckDB queries") from None
    return duckdb


def create_duckdb_connection(warehouse_root: str | os.PathLike[str] | None = None) -> Any:
    """An in-memory DuckDB connection; with a warehouse root, its tables as views."""
    connection = _duckdb().connect()
    if warehouse_root is not None:
        attach_warehouse(connection, warehouse_root)
    return connection


def attach_warehouse(connection: Any, warehouse_root: str | os.PathLike[str]) -> list[str]:
    """Create a view ``namespace.table`` for every table of the warehouse."""
    from iceberg_bioimage.warehouse import open_warehouse

    warehouse = open_warehouse(warehouse_root)
    local = not is_remote(warehouse.root)
    created = []
    for entry in warehouse.manifest.tables:
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{entry.namespace}"')
        if local:
            files = ", ".join(_quote(f) for f in warehouse.files(entry.table_name))
            source = f"read_parquet([{files}], union_by_name = true)"
        else:  # object storage: scan the Arrow dataset (no DuckDB extension to fetch)
            source = f"__{entry.namespace}__{entry.name}"
            connection.register(source, warehouse.dataset(entry.table_name))
        connection.execute(
            f'CREATE OR REPLACE VIEW "{entry.namespace}"."{entry.name}" AS SELECT * FROM {source}'
        )
        created.append(entry.table_name)
    return created


def query_metadata_table(
    source: pa.Table | str | os.PathLike[str], sql: str, *, name: str = "metadata"
) -> pa.Table:
    """Run SQL over an Arrow table or a Parquet file, exposed as ``name``;
    a warehouse root is exposed as its ``namespace.table`` views instead."""
    connection = create_duckdb_connection()
    try:
        if isinstance(source, pa.Table):
            connection.register(name, source)
        elif _is_warehouse(os.fspath(source)):
            attach_warehouse(connection, source)
        else:
            connection.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_quote(os.fspath(source))})"
            )
        return connection.sql(sql).to_arrow_table()
    finally:
        connection.close()


def _quote(path: str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _is_warehouse(source: str) -> bool:
    if has_scheme(source):
        return True
    return os.path.isdir(source) and os.path.exists(os.path.join(source, "warehouse_manifest.json"))
