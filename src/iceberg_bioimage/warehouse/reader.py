"""Reading a warehouse root: each table as an Arrow dataset, from the manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from iceberg_bioimage.display import html_table
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.io import Store
from iceberg_bioimage.warehouse.manifest import Manifest, TableEntry, load_warehouse_manifest
from iceberg_bioimage.warehouse.root import open_root, read_footer, root_location

if TYPE_CHECKING:  # pyarrow.dataset imports pandas when it is installed: load it on use
    import pyarrow.dataset as ds


@dataclass(frozen=True)
class Warehouse:
    """An opened warehouse root (local or object storage): its manifest and its
    tables by identifier."""

    root: str
    manifest: Manifest
    storage: Store

    def __repr__(self) -> str:
        return f"Warehouse(root={self.root!r}, tables={len(self.manifest.tables)})"

    def _repr_html_(self) -> str:
        rows = [
            (t.table_name, t.role, t.row_count, len(t.files), ", ".join(t.join_keys))
            for t in self.manifest.tables
        ]
        header = ["table", "role", "rows", "parts", "join keys"]
        return html_table(rows, header, caption=f"Warehouse {self.root}")

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
        """The table's part files, as paths (local) or bucket paths for ``filesystem``."""
        return [self.storage.arrow_location(f)[1] for f in self.entry(table_name).files]

    def dataset(self, table_name: str) -> ds.Dataset:
        """The table's parts as one Arrow dataset (columns unified by name)."""
        import pyarrow.dataset as ds

        parts = self.entry(table_name).files
        schemas = [read_footer(self.storage, f).schema.to_arrow_schema() for f in parts]
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        return ds.dataset(
            self.files(table_name),
            schema=schema,
            format="parquet",
            filesystem=self.storage.arrow_location("")[0],
        )

    def table(self, table_name: str, columns: list[str] | None = None) -> pa.Table:
        return self.dataset(table_name).to_table(columns=columns)


def open_warehouse(root: str | os.PathLike[str]) -> Warehouse:
    """Open a warehouse root, local or ``s3://`` / ``gs://`` / ``az://`` (fails
    fast on an unknown major spec version)."""
    location = root_location(root)
    return Warehouse(location, load_warehouse_manifest(location), open_root(location))
