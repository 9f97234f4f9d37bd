"""Reading profile tables from the files real tools write."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa

from iceberg_bioimage.errors import InputError, StoreNotFoundError
from iceberg_bioimage.profiles.contract import load_profile_column_aliases

_SUFFIXES = (".parquet", ".pq", ".csv.gz", ".csv", ".tsv", ".sqlite", ".db")


def read_profile_table(
    path: str | os.PathLike[str], *, sqlite_table: str | None = None
) -> pa.Table:
    """A profile table from Parquet, CSV / TSV (optionally gzipped) or SQLite.

    SQLite files need ``sqlite_table`` unless they hold exactly one table.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise StoreNotFoundError(f"{path}: no such file")
    name = file.name.lower()
    try:
        if name.endswith((".parquet", ".pq")) or file.is_dir():
            import pyarrow.parquet as pq

            return pq.read_table(file)
        if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
            from pyarrow import csv

            delimiter = "\t" if ".tsv" in name else ","
            return csv.read_csv(file, parse_options=csv.ParseOptions(delimiter=delimiter))
        if name.endswith((".sqlite", ".db")):
            return _read_sqlite(file, sqlite_table)
    except (pa.ArrowInvalid, OSError, sqlite3.DatabaseError) as error:
        raise InputError(
            f"{path}: cannot read it as a table ({str(error).splitlines()[0]})"
        ) from None
    raise InputError(f"{path}: unsupported table format (use {', '.join(_SUFFIXES)})")


def _read_sqlite(file: Path, table: str | None) -> pa.Table:
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as connection:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        if table is None:
            if len(names) != 1:
                raise InputError(
                    f"{file}: holds tables {', '.join(names)}; name one (--sqlite-table)"
                )
            table = names[0]
        if table not in names:
            raise InputError(f"{file}: has no table '{table}' (it has {', '.join(names)})")
        cursor = connection.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)})


def table_name_for(path: str | os.PathLike[str]) -> str:
    """A table name from a file name: ``cells.csv.gz`` -> ``cells``."""
    name = Path(path).name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_").lower() or "profiles"


TableLike = pa.Table | str | os.PathLike[str]
Aliases = Mapping[str, Iterable[str]] | str | os.PathLike[str] | None


def as_table(table: TableLike, *, sqlite_table: str | None = None) -> pa.Table:
    """An Arrow table as given, or read from a profile file."""
    if isinstance(table, pa.Table):
        return table
    return read_profile_table(table, sqlite_table=sqlite_table)


def named_table(
    table: TableLike, table_name: str | None, *, sqlite_table: str | None = None
) -> tuple[pa.Table, str]:
    """A table and the name it is stored under: ``table_name``, else the file's
    (or SQLite table's) name; an in-memory table must be named."""
    if table_name is None:
        if isinstance(table, pa.Table):
            raise InputError("table_name is required for an in-memory table")
        table_name = table_name_for(sqlite_table or table)
    return as_table(table, sqlite_table=sqlite_table), table_name


def resolve_aliases(alias_map: Aliases) -> dict[str, list[str]] | None:
    """An alias map as given, or loaded from a TOML file path."""
    if alias_map is None:
        return None
    if isinstance(alias_map, (str, os.PathLike)):
        return load_profile_column_aliases(alias_map)
    return {k: list(v) for k, v in alias_map.items()}
