"""``warehouse_manifest.json``: what every table is, read and written in one place."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from iceberg_bioimage._version import __version__
from iceberg_bioimage.compat.results import Result010
from iceberg_bioimage.errors import ManifestError
from iceberg_bioimage.warehouse.spec import (
    MANIFEST_FILE,
    SPEC_VERSION,
    SUPPORTED_MAJORS,
    parse_semver,
)

PRODUCER = {"name": "iceberg-bioimage", "version": __version__}


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class TableEntry:
    """One table of the warehouse, as the manifest describes it after a write."""

    table_name: str  # <namespace>.<table>
    role: str
    format: str
    join_keys: tuple[str, ...]
    columns: tuple[Column, ...]
    row_count: int | None  # ours; other conforming writers may leave it out
    files: tuple[str, ...]  # part files, relative to the warehouse root
    profile_level: str | None = None
    compartment: str | None = None
    role_description: str | None = None
    source_type: str | None = None
    source_ref: str | None = None
    producer: dict[str, str] = field(default_factory=lambda: dict(PRODUCER))
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def namespace(self) -> str:
        return self.table_name.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table_name.rsplit(".", 1)[-1]

    @property
    def path(self) -> str:
        """The folder the specification maps the identifier to."""
        return f"{self.namespace}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["join_keys"] = list(self.join_keys)
        data["columns"] = [asdict(c) for c in self.columns]
        data["files"] = list(self.files)
        data["path"] = self.path
        data["namespace"] = self.namespace
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableEntry:
        columns = tuple(
            Column(str(c.get("name")), str(c.get("type")))
            for c in _list(data.get("columns"))
            if isinstance(c, dict)
        )
        row_count = data.get("row_count")
        return cls(
            table_name=str(data.get("table_name", "")),
            role=str(data.get("role", "")),
            format=str(data.get("format", "")),
            join_keys=tuple(str(k) for k in _list(data.get("join_keys"))),
            columns=columns,
            row_count=row_count if _is_count(row_count) else None,
            files=tuple(f for f in _list(data.get("files")) if isinstance(f, str)),
            profile_level=data.get("profile_level"),
            compartment=data.get("compartment"),
            role_description=data.get("role_description"),
            source_type=data.get("source_type"),
            source_ref=data.get("source_ref"),
            producer=dict(data["producer"]) if isinstance(data.get("producer"), dict) else {},
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
        )

    def updated(self, **changes: Any) -> TableEntry:
        return replace(self, **changes, updated_at=now())


@dataclass(frozen=True)
class Manifest(Result010):
    warehouse_spec_version: str
    tables: tuple[TableEntry, ...] = ()
    producer: dict[str, str] = field(default_factory=lambda: dict(PRODUCER))
    created_at: str | None = None
    updated_at: str | None = None

    def entry(self, table_name: str) -> TableEntry | None:
        return next((t for t in self.tables if t.table_name == table_name), None)

    def with_entry(self, entry: TableEntry) -> Manifest:
        others = tuple(t for t in self.tables if t.table_name != entry.table_name)
        tables = tuple(sorted((*others, entry), key=lambda t: t.table_name))
        return replace(self, tables=tables, updated_at=now(), producer=dict(PRODUCER))

    def to_dict(self) -> dict[str, Any]:
        return {
            "warehouse_spec_version": self.warehouse_spec_version,
            "producer": self.producer,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tables": [t.to_dict() for t in self.tables],
        }


# What each manifest field must be: a wrong type is a finding for the
# validator and is read as absent by everyone else, never a crash.
FIELD_TYPES: dict[str, tuple[str, Any]] = {
    "table_name": ("a string", lambda v: isinstance(v, str)),
    "role": ("a string", lambda v: isinstance(v, str)),
    "format": ("a string", lambda v: isinstance(v, str)),
    "join_keys": ("a list of strings", lambda v: _strings(v)),
    "columns": ("a list of {name, type} objects", lambda v: _columns_ok(v)),
    "row_count": ("a non-negative integer", lambda v: _is_count(v)),
    "files": ("a list of strings", lambda v: _strings(v)),
    "source_type": ("a string", lambda v: v is None or isinstance(v, str)),
    "source_ref": ("a string", lambda v: v is None or isinstance(v, str)),
    "profile_level": ("a string", lambda v: v is None or isinstance(v, str)),
}


def wrongly_typed(raw: dict[str, Any]) -> list[str]:
    """``field (must be ...)`` for each present field of the wrong type."""
    return [
        f"{name} (must be {what})"
        for name, (what, valid) in FIELD_TYPES.items()
        if name in raw and not valid(raw[name])
    ]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _columns_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) for c in value
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_manifest() -> Manifest:
    stamp = now()
    return Manifest(SPEC_VERSION, created_at=stamp, updated_at=stamp)


def read_manifest_json(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest document as JSON, without interpreting it (local or remote root)."""
    from iceberg_bioimage.warehouse.root import open_root

    raw, _version = open_root(root).get_versioned(MANIFEST_FILE)
    return parse_manifest_json(raw, root)


def parse_manifest_json(raw: bytes | None, root: str | os.PathLike[str]) -> dict[str, Any]:
    if raw is None:
        raise ManifestError(f"{root}: no {MANIFEST_FILE} (not a Cytomining warehouse root)")
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise ManifestError(f"{root}/{MANIFEST_FILE}: unreadable manifest ({error})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{root}/{MANIFEST_FILE}: the manifest is not a JSON object")
    return data


def entry_with_files(entry: TableEntry, raw: dict[str, Any], parts: list[str]) -> TableEntry:
    """A per-table ``files`` list is our writer's addition, not the
    specification's: other conforming writers leave it out, and then a table's
    data is every part under ``<namespace>/<table>/`` (Namespaces and Tables 3)."""
    if "files" in raw or "." not in entry.table_name:
        return entry
    prefix = entry.path + "/"
    return replace(entry, files=tuple(p for p in parts if p.startswith(prefix)))


def _parts_of(root: str | os.PathLike[str]) -> list[str]:
    from iceberg_bioimage.warehouse.root import open_root, part_files

    return part_files(open_root(root))


def load_warehouse_manifest(root: str | os.PathLike[str]) -> Manifest:
    """Read a warehouse manifest, failing fast on a major version we cannot read."""
    return manifest_from_json(read_manifest_json(root), root)


def manifest_from_json(data: dict[str, Any], root: str | os.PathLike[str]) -> Manifest:
    version = data.get("warehouse_spec_version")
    parsed = parse_semver(version)
    if parsed is None:
        raise ManifestError(f"{root}: warehouse_spec_version {version!r} is not MAJOR.MINOR.PATCH")
    if parsed[0] not in SUPPORTED_MAJORS:
        raise ManifestError(
            f"{root}: warehouse spec major version {parsed[0]} is not supported "
            f"(this reader understands {', '.join(str(m) for m in SUPPORTED_MAJORS)}.x); "
            "upgrade iceberg-bioimage"
        )
    tables = data.get("tables") or []
    if not isinstance(tables, list):
        raise ManifestError(f"{root}: manifest 'tables' is not a list")
    raw = [t for t in tables if isinstance(t, dict)]
    parts = _parts_of(root) if any("files" not in t for t in raw) else []
    return Manifest(
        warehouse_spec_version=str(version),
        tables=tuple(entry_with_files(TableEntry.from_dict(t), t, parts) for t in raw),
        producer=dict(data.get("producer") or {}),
        created_at=data.get("created_at"),
        updated_at=data.get("updated_at"),
    )
