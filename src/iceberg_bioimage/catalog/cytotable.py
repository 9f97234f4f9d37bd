"""CytoTable's Iceberg warehouses as a pyiceberg catalog.

``cytotable.convert(..., dest_backend="iceberg")`` writes
``<dest>/warehouse/catalog.json``: namespaces, properties, ``tables``
(``namespace.table`` -> metadata-file URI) and ``views``. The registry and the
Iceberg metadata hold absolute URIs of where the warehouse was written; when
those are gone (the warehouse was copied or moved), every location under the
original root is read from the same relative place under the registry's
folder instead. Tables created here are registered so that CytoTable's own
readers list and read them; registry updates are locked and atomic.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog, MetastoreCatalog, PropertiesUpdateSummary
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.io import InputFile, OutputFile
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortOrder
from pyiceberg.typedef import EMPTY_DICT, Identifier, Properties

from iceberg_bioimage.io.uri import is_remote, local_path

REMAP_FROM = "iceberg_bioimage.remap-from"
REMAP_TO = "iceberg_bioimage.remap-to"
_TABLE_LOCATION = re.compile(r"^(?P<root>.*)/[^/]+/[^/]+/metadata/[^/]+$")


class RemappingFileIO(PyArrowFileIO):
    """PyArrow file IO that reads locations under a moved root from its new place."""

    def __init__(self, properties: Properties = EMPTY_DICT) -> None:
        super().__init__(properties)
        self._from = properties.get(REMAP_FROM) or ""
        self._to = properties.get(REMAP_TO) or ""

    def _map(self, location: str) -> str:
        if self._from and location.startswith(self._from):
            return self._to + location[len(self._from) :]
        return location

    def new_input(self, location: str) -> InputFile:
        return super().new_input(self._map(location))

    def new_output(self, location: str) -> OutputFile:
        return super().new_output(self._map(location))

    def delete(self, location: str | InputFile | OutputFile) -> None:
        super().delete(self._map(location) if isinstance(location, str) else location)


class CytoTableCatalog(MetastoreCatalog):
    """A catalog whose registry is CytoTable's ``warehouse/catalog.json``."""

    def __init__(
        self, registry: str | os.PathLike[str], name: str = "cytotable", **properties: str
    ) -> None:
        self.registry = Path(registry).resolve()
        root = self.registry.parent
        moved_from = _original_root(self._read(), root)
        props = {"warehouse": root.as_uri(), **properties}
        if moved_from:
            props |= {
                "py-io-impl": f"{RemappingFileIO.__module__}.{RemappingFileIO.__name__}",
                REMAP_FROM: moved_from,
                REMAP_TO: root.as_uri(),
            }
        super().__init__(name, **props)

    # -- registry -------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.registry.read_text())
        except (OSError, ValueError) as error:
            from iceberg_bioimage.catalog.config import CatalogError

            raise CatalogError(f"cannot read CytoTable registry {self.registry}: {error}") from None
        data.setdefault("namespaces", [])
        data.setdefault("tables", {})
        data.setdefault("views", {})
        return data

    @contextlib.contextmanager
    def _updating(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write the registry under an exclusive lock, replaced atomically."""
        lock_path = self.registry.with_name(self.registry.name + ".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                staging = self.registry.with_name(f".{self.registry.name}.{os.getpid()}.staging")
                staging.write_text(json.dumps(data, indent=2) + "\n")
                os.replace(staging, self.registry)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _key(identifier: str | Identifier) -> str:
        parts = Catalog.identifier_to_tuple(identifier)
        return ".".join(parts)

    # -- tables ---------------------------------------------------------
    def load_table(self, identifier: str | Identifier) -> Table:
        key = self._key(identifier)
        location = self._read()["tables"].get(key)
        if location is None:
            raise NoSuchTableError(f"Table does not exist: {key}")
        io = self._load_file_io(location=location)
        metadata = FromInputFile.table_metadata(io.new_input(location))
        return Table(
            identifier=Catalog.identifier_to_tuple(identifier),
            metadata=metadata,
            metadata_location=location,
            io=io,
            catalog=self,
        )

    def create_table(
        self,
        identifier: str | Identifier,
        schema: Schema | Any,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> Table:
        staged = self._create_staged_table(
            identifier, schema, location, partition_spec, sort_order, properties
        )
        self._write_metadata(staged.metadata, staged.io, staged.metadata_location)
        self._register(identifier, staged.metadata_location, expected=None)
        return self.load_table(identifier)

    def register_table(
        self, identifier: str | Identifier, metadata_location: str, overwrite: bool = False
    ) -> Table:
        key = self._key(identifier)
        with self._updating() as data:
            if key in data["tables"] and not overwrite:
                raise TableAlreadyExistsError(f"Table already exists: {key}")
            self._require_namespace(data, key)
            data["tables"][key] = metadata_location
        return self.load_table(identifier)

    def commit_table(
        self, table: Table, requirements: tuple[Any, ...], updates: tuple[Any, ...]
    ) -> CommitTableResponse:
        identifier = table.name()
        try:
            current: Table | None = self.load_table(identifier)
        except NoSuchTableError:
            current = None
        staged = self._update_and_stage_table(current, identifier, requirements, updates)
        if current is not None and staged.metadata == current.metadata:
            return CommitTableResponse(
                metadata=current.metadata, metadata_location=current.metadata_location
            )
        self._write_metadata(staged.metadata, staged.io, staged.metadata_location)
        self._register(
            identifier,
            staged.metadata_location,
            expected=current.metadata_location if current else None,
        )
        return CommitTableResponse(
            metadata=staged.metadata, metadata_location=staged.metadata_location
        )

    def _register(
        self, identifier: str | Identifier, location: str, *, expected: str | None
    ) -> None:
        key = self._key(identifier)
        with self._updating() as data:
            found = data["tables"].get(key)
            if expected is None and found is not None:
                raise TableAlreadyExistsError(f"Table already exists: {key}")
            if expected is not None and found != expected:
                raise CommitFailedException(f"Table has been updated by another process: {key}")
            self._require_namespace(data, key)
            data["tables"][key] = location

    @staticmethod
    def _require_namespace(data: dict[str, Any], key: str) -> None:
        namespace = key.rsplit(".", 1)[0]
        if namespace not in data["namespaces"]:
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")

    def drop_table(self, identifier: str | Identifier) -> None:
        key = self._key(identifier)
        with self._updating() as data:
            if data["tables"].pop(key, None) is None:
                raise NoSuchTableError(f"Table does not exist: {key}")

    def rename_table(
        self, from_identifier: str | Identifier, to_identifier: str | Identifier
    ) -> Table:
        source, target = self._key(from_identifier), self._key(to_identifier)
        with self._updating() as data:
            if source not in data["tables"]:
                raise NoSuchTableError(f"Table does not exist: {source}")
            if target in data["tables"]:
                raise TableAlreadyExistsError(f"Table already exists: {target}")
            self._require_namespace(data, target)
            data["tables"][target] = data["tables"].pop(source)
        return self.load_table(to_identifier)

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        name = ".".join(Catalog.identifier_to_tuple(namespace))
        data = self._read()
        if name not in data["namespaces"]:
            raise NoSuchNamespaceError(f"Namespace does not exist: {name}")
        return [
            tuple(key.split(".")) for key in sorted(data["tables"]) if key.rsplit(".", 1)[0] == name
        ]

    # -- namespaces -----------------------------------------------------
    def create_namespace(
        self, namespace: str | Identifier, properties: Properties = EMPTY_DICT
    ) -> None:
        name = ".".join(Catalog.identifier_to_tuple(namespace))
        with self._updating() as data:
            if name in data["namespaces"]:
                raise NamespaceAlreadyExistsError(f"Namespace already exists: {name}")
            data["namespaces"].append(name)

    def drop_namespace(self, namespace: str | Identifier) -> None:
        name = ".".join(Catalog.identifier_to_tuple(namespace))
        with self._updating() as data:
            if name not in data["namespaces"]:
                raise NoSuchNamespaceError(f"Namespace does not exist: {name}")
            if any(key.rsplit(".", 1)[0] == name for key in data["tables"]):
                raise NamespaceNotEmptyError(f"Namespace is not empty: {name}")
            data["namespaces"].remove(name)

    def list_namespaces(self, namespace: str | Identifier = ()) -> list[Identifier]:
        prefix = Catalog.identifier_to_tuple(namespace) if namespace else ()
        found = set()
        for name in self._read()["namespaces"]:
            parts = tuple(name.split("."))
            if parts[: len(prefix)] == prefix and len(parts) > len(prefix):
                found.add(parts[: len(prefix) + 1])
        return sorted(found)

    def load_namespace_properties(self, namespace: str | Identifier) -> Properties:
        name = ".".join(Catalog.identifier_to_tuple(namespace))
        if name not in self._read()["namespaces"]:
            raise NoSuchNamespaceError(f"Namespace does not exist: {name}")
        return {}

    def update_namespace_properties(
        self,
        namespace: str | Identifier,
        removals: set[str] | None = None,
        updates: Properties = EMPTY_DICT,
    ) -> PropertiesUpdateSummary:
        raise NotImplementedError("CytoTable registries keep no namespace properties")

    # -- views (CytoTable's own, kept as they are) ----------------------
    def list_views(self, namespace: str | Identifier) -> list[Identifier]:
        name = ".".join(Catalog.identifier_to_tuple(namespace))
        return [
            tuple(k.split("."))
            for k in sorted(self._read()["views"])
            if k.rsplit(".", 1)[0] == name
        ]

    def view_exists(self, identifier: str | Identifier) -> bool:
        return self._key(identifier) in self._read()["views"]

    def drop_view(self, identifier: str | Identifier) -> None:
        raise NotImplementedError("CytoTable views are managed by CytoTable")

    def load_view(self, identifier: str | Identifier) -> Any:
        raise NotImplementedError("CytoTable views are not Iceberg views")

    def register_view(self, identifier: str | Identifier, metadata_location: str) -> Any:
        raise NotImplementedError("CytoTable views are not Iceberg views")


def _original_root(data: dict[str, Any], actual_root: Path) -> str | None:
    """The root URI the registry was written under, if it is not where it is now."""
    for location in data.get("tables", {}).values():
        match = _TABLE_LOCATION.match(str(location))
        if match is None:
            continue
        root = match.group("root")
        if root.rstrip("/") != actual_root.as_uri().rstrip("/") and not _exists(location):
            return root
    return None


def _exists(location: str) -> bool:
    if is_remote(location):
        return True  # assume it is reachable
    return Path(local_path(location)).exists()
