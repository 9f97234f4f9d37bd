"""Atomic writes to a warehouse root, through the store layer.

A transaction stages every new part file locally (for a local root under
``<root>/.staging/<id>/``, so that placing a part is a rename), then
commits: parts are put into ``<root>/<namespace>/<table>/`` under fresh
names and the manifest is replaced by a conditional put (the commit: it
fails if another writer replaced the manifest meanwhile); only then are the
parts of overwritten tables deleted. Readers that follow the manifest see
the old warehouse or the new one, never a mix.

Local roots also keep a journal (the plan: parts to move, parts to delete,
the digest of the manifest being committed) under a lock, so the next
writer rolls back a transaction a crash interrupted before its commit and
finishes one interrupted after it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage import progress
from iceberg_bioimage.errors import ConcurrentWriteError, WarehouseWriteError
from iceberg_bioimage.io import Store
from iceberg_bioimage.io.local import LocalStore
from iceberg_bioimage.warehouse import journal
from iceberg_bioimage.warehouse.identifiers import profile_table_problem
from iceberg_bioimage.warehouse.manifest import (
    Column,
    Manifest,
    TableEntry,
    manifest_from_json,
    new_manifest,
    now,
    parse_manifest_json,
)
from iceberg_bioimage.warehouse.root import (
    is_part_of,
    open_root,
    read_columns,
    read_footer,
    root_location,
)
from iceberg_bioimage.warehouse.spec import (
    MANIFEST_FILE,
    PART_SUFFIX,
    PROFILE_ROLES,
    STAGING_DIR,
    valid_identifier_part,
)

_LOCK_FILE = ".warehouse.lock"
log = logging.getLogger(__name__)


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
    location = root_location(root)
    store = open_root(location)
    if isinstance(store, LocalStore):
        base = store.path
        created = not base.exists()
        base.mkdir(parents=True, exist_ok=True)
        with _locked(base):
            _recover(store, locked=True)
            transaction = uuid.uuid4().hex
            staging = base / STAGING_DIR / transaction
            try:
                return _run(_Transaction(store, location, staging, transaction), writes)
            except BaseException:
                if created:
                    _remove_unused_root(base)
                raise
    _recover(store, locked=False)
    staging = Path(tempfile.mkdtemp(prefix="ib-warehouse-"))
    return _run(_Transaction(store, location, staging, uuid.uuid4().hex), writes)


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


def _run(transaction: _Transaction, writes: list[TableWrite]) -> dict[str, int]:
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


# How long a writer waits for another writer of the same local root
# (seconds; ICEBERG_BIOIMAGE_LOCK_TIMEOUT overrides).
LOCK_TIMEOUT = 600.0


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """The root's writer lock; a wait is announced and gives up after the timeout."""
    timeout = float(os.environ.get("ICEBERG_BIOIMAGE_LOCK_TIMEOUT", LOCK_TIMEOUT))
    with open(root / _LOCK_FILE, "a+") as lock:
        if not _try_lock(lock):
            progress.notice(f"waiting for another writer of {root} (up to {timeout:g} s)")
            deadline = time.monotonic() + timeout
            while not _try_lock(lock):
                if time.monotonic() >= deadline:
                    raise WarehouseWriteError(
                        f"{root}: another writer held the warehouse lock ({root / _LOCK_FILE}) "
                        f"for more than {timeout:g} s; nothing was written"
                    )
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _try_lock(lock: Any) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class _Transaction:
    def __init__(self, store: Store, root: str, staging: Path, transaction: str) -> None:
        self.store = store
        self.root = root  # as reported to the user
        self.local = isinstance(store, LocalStore)  # staging inside the root
        self.transaction = transaction
        self.planned = False
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
        raw, version = self.store.get_versioned(MANIFEST_FILE)
        manifest = (
            manifest_from_json(parse_manifest_json(raw, self.root), self.root)
            if raw
            else new_manifest()
        )
        deletes: list[str] = []
        for write in writes:
            manifest, removed = self._apply(manifest, write)
            deletes += removed
        moves = [part for parts in self.staged.values() for part in parts]
        document = (json.dumps(manifest.to_dict(), indent=2) + "\n").encode()
        journal.write_plan(self.store, self.transaction, moves, deletes, document)
        self.planned = True
        for part in moves:
            self.store.put_file(part, self.staging / part)
            self.uploaded.append(part)
        try:
            self.store.put_if(MANIFEST_FILE, document, version)  # the commit
        except ConcurrentWriteError:
            raise WarehouseWriteError(
                f"{self.root}: the manifest changed while this write ran; "
                "nothing was changed, run the write again"
            ) from None
        self.uploaded = []
        log.info("%s: committed %s", self.root, ", ".join(w.table_name for w in writes))
        journal.retire(self.store, deletes)  # readers of the old manifest may still need them
        self._close()
        return manifest

    def _close(self) -> None:
        if self.planned:
            self.store.delete(journal.plan_key(self.transaction))
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.local:
            _remove_empty(self.staging.parent)

    def _apply(self, manifest: Manifest, write: TableWrite) -> tuple[Manifest, list[str]]:
        before = manifest.entry(write.table_name)
        new_parts = self.staged.get(write.table_name, [])
        if write.mode == "append" and before is not None:
            _check_same_semantics(before, write)
            files = [*before.files, *new_parts]
            removed: list[str] = []
        else:
            files = list(new_parts)
            # only the table's own parts: a manifest may list anything
            removed = [f for f in before.files if is_part_of(f, before.path)] if before else []
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
        _require_profile_identifiers(entry, self._columns)
        return manifest.with_entry(entry), removed

    def _columns(self, files: tuple[str, ...], columns: list[str]) -> pa.Table:
        """Some columns of a table's parts, staged or already in the root."""
        tables = [
            pq.read_table(self.staging / part, columns=columns)
            if (self.staging / part).exists()
            else read_columns(self.store, part, columns)
            for part in files
        ]
        return pa.concat_tables(tables, promote_options="permissive")

    def _describe(self, files: list[str]) -> tuple[int, tuple[Column, ...]]:
        """Row count and columns of the whole table, from the part footers."""
        rows, schemas = 0, []
        for part in files:
            staged = self.staging / part
            metadata = (
                pq.read_metadata(staged) if staged.exists() else read_footer(self.store, part)
            )
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
        for part in self.uploaded:  # never referenced by a manifest
            self.store.delete(part)
        self._close()


def _require_profile_identifiers(
    entry: TableEntry, read: Callable[[tuple[str, ...], list[str]], pa.Table]
) -> None:
    """Refuse, before the commit, a profile table that would break Profile
    Tables 4: no image identifiers, or object rows that repeat an identity."""
    if entry.role not in PROFILE_ROLES:
        return
    problem = profile_table_problem(
        entry.table_name,
        [c.name for c in entry.columns],
        entry.profile_level,
        entry.join_keys,
        lambda columns: read(entry.files, columns),
    )
    if problem:
        raise WarehouseWriteError(f"{problem}; nothing was written")


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
    """Settle the transactions a crash interrupted in a local root (the caller
    holds its lock); returns what was done (see :mod:`.journal`)."""
    return _recover(LocalStore(root), locked=True)


def _recover(store: Store, *, locked: bool) -> list[str]:
    current, _ = store.get_versioned(MANIFEST_FILE)
    referenced: set[str] = set()
    if current is not None:
        with contextlib.suppress(Exception):  # a broken manifest references nothing
            manifest = manifest_from_json(parse_manifest_json(current, "root"), "root")
            referenced = {f for t in manifest.tables for f in t.files}
    done = journal.recover(store, current, referenced, locked=locked)
    if isinstance(store, LocalStore) and locked:
        staging_root = store.path / STAGING_DIR
        for leftover in staging_root.glob("*/"):  # parts staged by a writer that died
            shutil.rmtree(leftover, ignore_errors=True)
        _remove_empty(staging_root)
    return done


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
