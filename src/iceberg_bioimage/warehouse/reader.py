"""Reading a warehouse root: each table as an Arrow dataset, from the manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from iceberg_bioimage.errors import InputError
from iceberg_bioimage.warehouse.manifest import Manifest, TableEntry, load_warehouse_manifest


@dataclass(frozen=True)
class Warehouse:
    """An opened warehouse root: its manifest and its tables by identifier."""

    root: Path
    manifest: Manifest

    @property
    def table_names(self) -> list[str]:
        return [t.table_name for t in self.manifest.tables]

    def entry(self, table_name: str) -> TableEntry:
        entry = self.manifest.entry(table_name)
        if entry is None:
            known = ", ".join(self.table_names) or "none"
            raise InputError(f"{self.root}: no table '{table_name}' (tables: {known})")
        return entry

    def files(self, table_name: str) -> list[str]:
        return [str(self.root / f) for f in self.entry(table_name).files]

    def dataset(self, table_name: str) -> ds.Dataset:
        """The table's parts as one Arrow dataset (columns unified by name)."""
        files = self.files(table_name)
        schemas = [ds.dataset(f, format="parquet").schema for f in files]
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        return ds.dataset(files, schema=schema, format="parquet")

    def table(self, table_name: str, columns: list[str] | None = None) -> pa.Table:
        return self.dataset(table_name).to_table(columns=columns)


def open_warehouse(root: str | os.PathLike[str]) -> Warehouse:
    """Open a warehouse root (fails fast on an unknown major spec version)."""
    base = Path(root).expanduser().resolve()
    return Warehouse(base, load_warehouse_manifest(base))
