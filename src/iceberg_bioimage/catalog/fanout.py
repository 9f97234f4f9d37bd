"""Ingests fanned out over an engine (threads, Daft, Ray), committed once.

The driver lists the stores (no scanning), groups them by the bucket of their
dataset id (the tables' partition) and cuts each bucket into at most
``TASKS_PER_BUCKET`` tasks, so a commit adds at most
``BUCKETS * TASKS_PER_BUCKET`` (64) files per table whatever the number of
stores. A task scans its stores and writes its data files through the
table's FileIO; the driver then commits once per table: the datasets' old
rows deleted and the new files added in one transaction (retried on
conflict). A store that cannot be scanned is a warning. A task that fails and
is retried leaves only orphan files: the commit references the files of the
attempt that returned, so no row is ever written twice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from iceberg_bioimage.catalog.layout import BUCKETS, group_by_bucket, sorted_rows
from iceberg_bioimage.catalog.publish import (
    PublishReport,
    check_dataset_pairs,
    image_assets_snapshot,
    restore_image_assets,
    with_field_ids,
    write_bucket_files,
)
from iceberg_bioimage.catalog.tables import (
    WrittenFile,
    commit_rows,
    create_table_transaction,
    dotted,
    identifier,
    load_existing,
)
from iceberg_bioimage.chunks import stream_chunk_index_parquet
from iceberg_bioimage.chunks.rows import ENCODED_SCHEMA
from iceberg_bioimage.engines import run_all
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.models import ScanResult, ScanWarning
from iceberg_bioimage.scan import default_dataset_id, scan_workers
from iceberg_bioimage.schema import (
    CHUNK_INDEX,
    CHUNK_INDEX_SCHEMA,
    IMAGE_ASSETS,
    IMAGE_ASSETS_SCHEMA,
)
from iceberg_bioimage.tables import scan_result_as_arrow_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

TASKS_PER_BUCKET = 4
MIN_STORES_PER_TASK = 64  # below this a bucket is one task (start-up costs more)


@dataclass(frozen=True)
class TableTarget:
    """Where a task writes one table's files, and the field ids they carry."""

    name: str
    location: str
    schema_json: str  # the Iceberg schema (field ids) as JSON


@dataclass(frozen=True)
class IngestTask:
    bucket: int
    uris: tuple[str, ...]
    tables: tuple[TableTarget, ...]
    io_properties: dict[str, str]
    stat: bool = False
    byte_ranges: bool = False


@dataclass
class TaskOutput:
    files: dict[str, list[WrittenFile]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    datasets: list[tuple[str, str]] = field(default_factory=list)  # (dataset_id, uri)
    warnings: list[str] = field(default_factory=list)


def plan_tasks(
    uris: Sequence[str],
    tables: tuple[TableTarget, ...],
    *,
    tasks_per_bucket: int = TASKS_PER_BUCKET,
    **options: Any,
) -> list[IngestTask]:
    """Stores grouped by the bucket of their (default) dataset id, each bucket
    cut into at most ``tasks_per_bucket`` tasks."""
    by_bucket = group_by_bucket(uris, default_dataset_id)
    tasks = []
    for bucket, members in sorted(by_bucket.items()):
        parts = min(tasks_per_bucket, max(1, math.ceil(len(members) / MIN_STORES_PER_TASK)))
        size = math.ceil(len(members) / parts)
        for start in range(0, len(members), size):
            chunk = tuple(members[start : start + size])
            tasks.append(IngestTask(bucket, chunk, tables, **options))
    return tasks


def run_task(task: IngestTask) -> TaskOutput:
    """Scan the task's stores and write their rows, one file per table and
    bucket, under the tables' locations (runs on any engine's worker)."""
    from pyiceberg.io import load_file_io

    from iceberg_bioimage.io.resolve import sharing_clients
    from iceberg_bioimage.scan import scan_or_warning

    output = TaskOutput()
    results: list[ScanResult] = []
    with sharing_clients(task.uris):
        for uri in task.uris:
            scanned = scan_or_warning(uri)
            if isinstance(scanned, ScanWarning):
                output.warnings.append(str(scanned))
            else:
                results.append(scanned)
                output.warnings += [f"{scanned.dataset_id}: {w}" for w in scanned.warnings]
                output.datasets.append((scanned.dataset_id, scanned.uri))
    if not results:
        return output
    for target in task.tables:
        io = load_file_io(task.io_properties, target.location)
        write = _writer(target.name, _iceberg_schema(target.schema_json), task)
        files, _, rows = write_bucket_files(io, target.location, results, write)
        if files:
            output.files[target.name] = files
            output.rows[target.name] = rows
    return output


def _writer(name: str, schema: Any, task: IngestTask) -> Callable[[Any, list[ScanResult]], int]:
    """How one bucket's rows of table ``name`` are written into a data file."""
    if name == IMAGE_ASSETS:
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        arrow_schema = schema_to_pyarrow(schema, include_field_ids=True)

        def image_rows(sink: Any, results: list[ScanResult]) -> int:
            rows = sorted_rows(scan_result_as_arrow_table(results)).cast(arrow_schema)
            pq.write_table(rows, sink, compression="zstd")
            return rows.num_rows

        return image_rows
    chunk_schema = with_field_ids(ENCODED_SCHEMA, schema)

    def chunk_rows(sink: Any, results: list[ScanResult]) -> int:
        return stream_chunk_index_parquet(
            sink,
            results,
            schema=chunk_schema,
            stat=task.stat,
            byte_ranges=task.byte_ranges,
            overlap=False,  # the tasks themselves run side by side
        )

    return chunk_rows


def _iceberg_schema(text: str) -> Any:
    from pyiceberg.schema import Schema

    return Schema.model_validate_json(text)


@dataclass
class FanoutResult:
    report: PublishReport
    warnings: list[str]
    uris: list[str]
    task_seconds: float = 0.0  # scanning and writing data files, on the engine
    commit_seconds: dict[str, float] = field(default_factory=dict)  # per table
    files: dict[str, int] = field(default_factory=dict)  # data files added per table


def ingest_fanned_out(
    catalog: Catalog,
    uris: Sequence[str],
    *,
    engine: str = "threads",
    namespace: str,
    publish_chunks: bool,
    replace: bool,
    stat: bool,
    byte_ranges: bool,
) -> FanoutResult:
    """Scan ``uris`` on ``engine`` and publish them with one commit per table."""
    names = [IMAGE_ASSETS, CHUNK_INDEX] if publish_chunks else [IMAGE_ASSETS]
    schemas = {IMAGE_ASSETS: IMAGE_ASSETS_SCHEMA, CHUNK_INDEX: CHUNK_INDEX_SCHEMA}
    targets = tuple(_target(catalog, namespace, n, schemas[n]) for n in names)
    tasks = plan_tasks(
        uris,
        targets,
        # on this machine more tasks than buckets only add files; clusters get more
        tasks_per_bucket=1 if engine in ("threads", "processes") else TASKS_PER_BUCKET,
        io_properties=dict(catalog.properties),
        stat=stat,
        byte_ranges=byte_ranges,
    )
    started = time.perf_counter()
    outputs = run_all(run_task, tasks, engine, threads=scan_workers(list(uris)))
    task_seconds = time.perf_counter() - started
    warnings = [w for o in outputs for w in o.warnings]
    pairs = [pair for o in outputs for pair in o.datasets]
    if not pairs:
        raise InputError("nothing to ingest: " + (warnings[0] if warnings else "no stores"))
    ids = _unique_ids(pairs)
    check_dataset_pairs(catalog, namespace, pairs, replace=replace)
    report = PublishReport(datasets=sorted(ids))
    result = FanoutResult(report, warnings, [uri for _, uri in pairs], task_seconds)
    before = image_assets_snapshot(catalog, namespace) if publish_chunks else None
    for target in targets:
        files = [f for o in outputs for f in o.files.get(target.name, [])]
        ident = identifier(namespace, target.name)
        started = time.perf_counter()
        try:
            commit_rows(catalog, ident, schemas[target.name], ids, write_files=_given(files))
        except BaseException:
            if target.name == CHUNK_INDEX:  # both tables or neither
                restore_image_assets(catalog, namespace, ids, before)
            raise
        result.commit_seconds[dotted(ident)] = time.perf_counter() - started
        result.files[dotted(ident)] = len(files)
        report.add(dotted(ident), sum(o.rows.get(target.name, 0) for o in outputs))
    return result


def _given(files: list[WrittenFile]) -> Any:
    """A ``write_files`` callback for files the tasks have written already."""
    return lambda *_: files


def _target(catalog: Catalog, namespace: str, name: str, schema: pa.Schema) -> TableTarget:
    """Where the table's files go: its location (a new table's as it will be
    created) and its schema with field ids."""
    from iceberg_bioimage.catalog.tables import ensure_namespace, evolve

    ident = identifier(namespace, name)
    table = load_existing(catalog, ident)
    if table is not None:
        evolve(table, schema)
        return TableTarget(name, table.location(), table.schema().model_dump_json())
    ensure_namespace(catalog, ident[:-1])
    staged = create_table_transaction(catalog, ident, schema).table_metadata
    return TableTarget(name, staged.location, staged.schema().model_dump_json())


def _unique_ids(pairs: list[tuple[str, str]]) -> list[str]:
    seen: dict[str, str] = {}
    for dataset_id, uri in pairs:
        if dataset_id in seen and seen[dataset_id] != uri:
            raise InputError(
                f"several stores have the dataset id {dataset_id} ({seen[dataset_id]}, {uri}); "
                "give each its own"
            )
        seen[dataset_id] = uri
    return sorted(seen)


__all__ = ["BUCKETS", "IngestTask", "TaskOutput", "ingest_fanned_out", "plan_tasks", "run_task"]
