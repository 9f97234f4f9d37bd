"""Atomic writes to a warehouse root.

A transaction stages every new part file and the new manifest under
``<root>/.staging/<id>/``, records its plan (parts to move, parts to delete),
then commits: parts are renamed into ``<root>/<namespace>/<table>/`` under
fresh names and the manifest is renamed over the old one; only then are the
parts of overwritten tables deleted. Readers that follow the manifest see the
old warehouse or the new one, never a mix. A transaction interrupted before
its manifest rename is rolled back by the next writer; one interrupted after
it is finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage import progress
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.warehouse.identifiers import profile_identifiers
from iceberg_bioimage.warehouse.manifest import (
    Column,
    Manifest,
    TableEntry,
    load_warehouse_manifest,
    manifest_from_json,
    new_manifest,
    now,
    parse_manifest_json,
)
from iceberg_bioimage.warehouse.spec import (
    MANIFEST_FILE,
    PART_SUFFIX,
    PROFILE_ROLES,
    STAGING_DIR,
    valid_identifier_part,
)
from iceberg_bioimage.warehouse.storage import LocalRoot, ManifestChanged, RootStorage, open_root

_LOCK_FILE = ".warehouse.lock"
_PLAN_FILE = "plan.json"


class WarehouseWriteError(InputError):
    """A write the specification (or the warehouse's current state) does not allow."""


@dataclass(frozen=True)
class TableWrite:
    """One table to write: where, what it is, and its rows (streamed)."""

    table_name: str
    role: str
    data: pa.Table | Iterable[pa.RecordBatch]
    mode: str = "overwrite"  # or "append"
    join_keys: tuple[str, ...] = ()
    profile_level: str | None = None
    compartment: str | None = None
    role_description: str | None = None
    source_type: str | None = None
    source_ref: str | None = None


def write_tables(root: str | os.PathLike[str], writes: list[TableWrite]) -> dict[str, int]:
    """Write tables in one transaction; returns the rows written per table.

    Local roots commit by renaming (under a lock, with a journal the next
    writer uses to roll back or finish an interrupted transaction); object
    store roots commit by a conditional PUT of the manifest, and a write that
    loses a race to another writer removes its parts and says so.
    """
    storage = open_root(root)
    if isinstance(storage, LocalRoot):
        created = not storage.base.exists()
        storage.base.mkdir(parents=True, exist_ok=True)
        with _locked(storage.base):
            recover(storage.base)
            try:
                return _run(storage, storage.base / STAGING_DIR / uuid.uuid4().hex, writes)
            except BaseException:
                if created:
                    _remove_unused_root(storage.base)
                raise
    return _run(storage, Path(tempfile.mkdtemp(prefix="ib-warehouse-")), writes)


def _remove_unused_root(root: Path) -> None:
    """Take away the folder a failed first write created, unless another writer
    has committed or is staging there meanwhile."""
    if (root / MANIFEST_FILE).exists():
        return
    _remove_empty(root / STAGING_DIR)
    if (root / STAGING_DIR).exists():
        return
    (root / _LOCK_FILE).unlink(missing_ok=True)
    _remove_empty(root)


def _run(storage: RootStorage, staging: Path, writes: list[TableWrite]) -> dict[str, int]:
    transaction = _Transaction(storage, staging)
    try:
        written = {}
        with progress.task("writing tables", total=len(writes)) as advance:
            for write in writes:
                written[write.table_name] = transaction.stage(write)
                advance(1)
        transaction.commit(writes)
    except BaseException:
        transaction.abort()
        raise
    return written


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    with open(root / _LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _Transaction:
    def __init__(self, storage: RootStorage, staging: Path) -> None:
        self.storage = storage
        self.staging = staging
        self.staging.mkdir(parents=True, exist_ok=True)
        self.staged: dict[str, list[str]] = {}  # table -> part names in staging
        self.uploaded: list[str] = []

    def stage(self, write: TableWrite) -> int:
        """Write the table's rows to one staged part; returns the row count."""
        namespace, name = _split(write.table_name)
        if write.mode not in ("overwrite", "append"):
            raise WarehouseWriteError(f"mode must be 'overwrite' or 'append', not {write.mode!r}")
        relative = f"{namespace}/{name}/part-{uuid.uuid4().hex}{PART_SUFFIX}"
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = _write_part(target, write.data)
        if rows:
            self.staged.setdefault(write.table_name, []).append(relative)
        else:
            target.unlink(missing_ok=True)
        return rows

    def commit(self, writes: list[TableWrite]) -> Manifest:
        raw, token = self.storage.read_manifest()
        root = self.storage.root
        manifest = (
            manifest_from_json(parse_manifest_json(raw, root), root) if raw else new_manifest()
        )
        deletes: list[str] = []
        for write in writes:
            manifest, removed = self._apply(manifest, write)
            deletes += removed
        moves = [part for parts in self.staged.values() for part in parts]
        document = (json.dumps(manifest.to_dict(), indent=2) + "\n").encode()
        if isinstance(self.storage, LocalRoot):
            plan = {"moves": moves, "deletes": deletes, "created_at": now()}
            (self.staging / _PLAN_FILE).write_text(json.dumps(plan))
            (self.staging / MANIFEST_FILE).write_bytes(document)  # "not committed yet"
        for part in moves:
            self.storage.put_part(self.staging / part, part)
            self.uploaded.append(part)
        if isinstance(self.storage, LocalRoot):
            os.replace(
                self.staging / MANIFEST_FILE, self.storage.base / MANIFEST_FILE
            )  # the commit
            _finish(self.storage.base, self.staging, deletes)
            return manifest
        try:
            self.storage.commit_manifest(document, token)  # the commit: conditional PUT
        except ManifestChanged as error:
            raise WarehouseWriteError(
                f"{error}; nothing was changed, run the write again"
            ) from None
        self.uploaded = []
        for part in deletes:
            self.storage.delete(part)
        shutil.rmtree(self.staging, ignore_errors=True)
        return manifest

    def _apply(self, manifest: Manifest, write: TableWrite) -> tuple[Manifest, list[str]]:
        before = manifest.entry(write.table_name)
        new_parts = self.staged.get(write.table_name, [])
        if write.mode == "append" and before is not None:
            _check_same_semantics(before, write)
            files = [*before.files, *new_parts]
            removed: list[str] = []
        else:
            files = list(new_parts)
            removed = list(before.files) if before is not None else []
        if not files:  # a table without rows is omitted
            tables = tuple(t for t in manifest.tables if t.table_name != write.table_name)
            return Manifest(
                manifest.warehouse_spec_version,
                tables,
                manifest.producer,
                manifest.created_at,
                now(),
            ), removed
        rows, columns = self._describe(files)
        entry = TableEntry(
            table_name=write.table_name,
            role=write.role,
            format="parquet",
            join_keys=tuple(write.join_keys or (before.join_keys if before else ())),
            columns=columns,
            row_count=rows,
            files=tuple(files),
            profile_level=write.profile_level or (before.profile_level if before else None),
            compartment=write.compartment or (before.compartment if before else None),
            role_description=write.role_description
            or (before.role_description if before else None),
            source_type=write.source_type,
            source_ref=write.source_ref,
            created_at=before.created_at if before and write.mode == "append" else now(),
            updated_at=now(),
        )
        _require_profile_identifiers(entry)
        return manifest.with_entry(entry), removed

    def _describe(self, files: list[str]) -> tuple[int, tuple[Column, ...]]:
        """Row count and columns of the whole table, from the part footers."""
        rows, schemas = 0, []
        for part in files:
            staged = self.staging / part
            metadata = pq.read_metadata(staged) if staged.exists() else self.storage.footer(part)
            rows += metadata.num_rows
            schemas.append(metadata.schema.to_arrow_schema())
        try:
            unified = pa.unify_schemas(schemas, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise WarehouseWriteError(
                f"appended rows do not fit the table's columns: {error}"
            ) from None
        return rows, tuple(Column(f.name, str(f.type)) for f in unified)

    def abort(self) -> None:
        if not isinstance(self.storage, LocalRoot):
            for part in self.uploaded:  # never referenced by a manifest
                self.storage.delete(part)
        shutil.rmtree(self.staging, ignore_errors=True)
        if isinstance(self.storage, LocalRoot):
            _remove_empty(self.storage.base / STAGING_DIR)


def _require_profile_identifiers(entry: TableEntry) -> None:
    """Refuse, before the commit, a profile table that would break Profile Tables 4."""
    if entry.role not in PROFILE_ROLES:
        return
    columns = [c.name for c in entry.columns]
    problem = profile_identifiers(columns, entry.profile_level, entry.join_keys).problem
    if problem:
        raise WarehouseWriteError(
            f"{entry.table_name}: {problem}; a profile table needs image_id, "
            "plate/well/site or file-name columns (Profile Tables 4)"
        )


def _check_same_semantics(before: TableEntry, write: TableWrite) -> None:
    """Appending must not silently change a table's role or analysis level."""
    for name, old, new in (
        ("role", before.role, write.role),
        ("profile_level", before.profile_level, write.profile_level),
        ("compartment", before.compartment, write.compartment),
    ):
        if new is not None and old is not None and new != old:
            raise WarehouseWriteError(
                f"{before.table_name} is declared with {name} '{old}'; appending rows "
                f"declared '{new}' would change it (overwrite the table to change it)"
            )


def _write_part(path: Path, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
    batches: Iterable[pa.RecordBatch] = data.to_batches() if isinstance(data, pa.Table) else data
    schema = data.schema if isinstance(data, pa.Table) else None
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in batches:
            if batch.num_columns == 0:
                raise WarehouseWriteError("a table without columns cannot be written")
            if writer is None:
                schema = schema or batch.schema
                writer = _parquet_writer(path, schema)
            if batch.num_rows:
                writer.write_batch(batch if batch.schema == schema else batch.cast(schema))
                rows += batch.num_rows
        if writer is None and schema is not None and len(schema):
            writer = _parquet_writer(path, schema)
    finally:
        if writer is not None:
            writer.close()
    return rows


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """Parts store their logical types only: a dictionary-encoded column is
    written as dictionary pages and read back by anyone as plain strings."""
    return pq.ParquetWriter(path, schema, compression="zstd", store_schema=False)


def _split(table_name: str) -> tuple[str, str]:
    parts = table_name.split(".")
    if len(parts) != 2 or not all(valid_identifier_part(p) for p in parts):
        raise WarehouseWriteError(
            f"table identifier {table_name!r} must be <namespace>.<table> in lower-case "
            "letters, digits and underscores"
        )
    return parts[0], parts[1]


def recover(root: Path) -> list[str]:
    """Roll back or finish transactions a crash interrupted; returns what it did."""
    done = []
    staging_root = root / STAGING_DIR
    if not staging_root.is_dir():
        return done
    referenced = set()
    if (root / MANIFEST_FILE).exists():
        with contextlib.suppress(Exception):
            referenced = {f for t in load_warehouse_manifest(root).tables for f in t.files}
    for staging in staging_root.iterdir():
        plan = _plan(staging)
        if (staging / MANIFEST_FILE).exists() or plan is None:
            # not committed: remove the parts it had already moved into place
            for part in (plan or {}).get("moves", []):
                if part not in referenced:
                    (root / part).unlink(missing_ok=True)
            done.append(f"rolled back {staging.name}")
        else:
            _finish(root, staging, [p for p in plan.get("deletes", []) if p not in referenced])
            done.append(f"finished {staging.name}")
        shutil.rmtree(staging, ignore_errors=True)
    _remove_empty(staging_root)
    return done


def _plan(staging: Path) -> dict[str, Any] | None:
    try:
        return json.loads((staging / _PLAN_FILE).read_text())
    except (OSError, ValueError):
        return None


def _finish(root: Path, staging: Path, deletes: list[str]) -> None:
    for part in deletes:
        (root / part).unlink(missing_ok=True)
        _remove_empty((root / part).parent)
    shutil.rmtree(staging, ignore_errors=True)
    _remove_empty(root / STAGING_DIR)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
