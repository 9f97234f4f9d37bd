"""Issue 16: catalogues of many stores. Builds metadata-only OME-Zarr stores
(``samples.write_metadata_image``) and an embedded SQLite catalog, then:

1. 2,000 stores ingested with both tables (threads, then processes): the
   commit time per table (goal <= 2 s) and the whole ingest against scanning
   the same stores alone (``scan_paths``) in the same run (goal <= 1.5x).
2. The same ingest on Daft (one machine) against threads (goal <= 2x).
3. Re-ingesting the 2,000 unchanged stores: one commit per table, every row
   exactly once.
4. With ``--big``: 100,000 stores in a fresh process: data files added per
   table per commit (goal <= 64), commit time (goal <= 10 s), one dataset's
   rows read back by a pruned scan (goal <= 0.5 s) and peak memory (< 2 GB).

Run: python benchmarks/bench_catalogue.py [--workdir DIR] [--stores 2000] [--big]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import iceberg_bioimage as ib
from common import PRINT_PEAK_KB, bench_parser, best_of, print_rows, row, workdir
from iceberg_bioimage.catalog.fanout import ingest_fanned_out
from iceberg_bioimage.samples import write_metadata_image
from iceberg_bioimage.scan import scan_paths, store_targets


def make_stores(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    existing = {p.name for p in folder.iterdir()}
    for index in range(count):
        name = f"plate_{index:06d}.ome.zarr"
        if name not in existing:
            write_metadata_image(folder / name)
    return folder


def catalog_at(root: Path, name: str):  # type: ignore[no-untyped-def]
    import shutil

    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    uri, warehouse = f"sqlite:///{folder}/c.db", (folder / "wh").as_uri()
    return ib.resolve_catalog(None, uri=uri, warehouse=warehouse, create=True).catalog


def ingest(catalog, targets: list[str], engine: str):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = ingest_fanned_out(catalog, targets, engine=engine, namespace="images",
                               publish_chunks=True, replace=False, stat=False, byte_ranges=False)  # fmt: skip
    return time.perf_counter() - start, result


def part_small(root: Path, count: int, repeats: int = 3) -> list[dict[str, Any]]:
    folder = make_stores(root / f"stores_{count}", count)
    targets = store_targets([folder])
    scan_s, scanned = best_of(lambda: scan_paths([folder]))
    assert len(scanned.results) == count
    runs = [ingest(catalog_at(root, "threads"), targets, "threads") for _ in range(repeats)]
    total, result = min(runs, key=lambda run: run[0])
    commits = result.commit_seconds
    print(f"[1] {count} stores, image_assets + chunk_index, threads")
    print(
        f"    scan alone {scan_s:.2f} s; ingest {total:.2f} s -> {total / scan_s:.2f}x (goal <= 1.5x)"
    )
    for table, seconds in commits.items():
        print(f"    commit {table}: {seconds:.2f} s (goal <= 2 s), {result.files[table]} files")
    procs = [ingest(catalog_at(root, "processes"), targets, "processes") for _ in range(repeats)]
    procs_s, procs_result = min(procs, key=lambda run: run[0])
    assert procs_result.report.rows == result.report.rows
    print(
        f"    processes engine (2 cores): ingest {procs_s:.2f} s -> {procs_s / scan_s:.2f}x the scan"
    )
    daft_s, daft_result = min(
        (ingest(catalog_at(root, "daft"), targets, "daft") for _ in range(repeats)),
        key=lambda r: r[0],
    )
    assert daft_result.report.rows == result.report.rows
    print(
        f"[2] Daft engine (one machine): {daft_s:.2f} s -> {daft_s / total:.2f}x threads (goal <= 2x)"
    )
    catalog = catalog_at(root, "again")
    ingest(catalog, targets, "threads")
    again_s, again = ingest(catalog, targets, "threads")
    rows = ib.catalog_table_to_arrow(catalog, "images.image_assets", columns=["dataset_id"])
    once = rows.num_rows == count and len(set(rows.column("dataset_id").to_pylist())) == count
    print(f"[3] re-ingest of {count} unchanged stores: {again_s:.2f} s, commits {again.report.commits}, "
          f"rows exactly once: {once}")  # fmt: skip
    assert once
    name = f"ingest {count} stores, both tables"
    return [
        row(f"{name}, processes engine", procs_s, scan_s, "scan_paths alone", "<=", 1.5),
        row(f"{name}, threads", total, scan_s, "scan_paths alone", "<=", 1.5, gate=False),
        row(f"{name}, slowest commit", max(commits.values()), None, "s", "<=", 2),
        row(f"{name}, Daft engine", daft_s, total, "threads engine", "<=", 2),
    ]


BIG_JOB = (
    """
import json, sys, time
from pathlib import Path
import iceberg_bioimage as ib
from iceberg_bioimage.catalog.fanout import ingest_fanned_out
from iceberg_bioimage.scan import store_targets
folder, catalog_dir = Path(sys.argv[1]), Path(sys.argv[2])
catalog = ib.resolve_catalog(None, uri=f"sqlite:///{catalog_dir}/c.db",
                             warehouse=(catalog_dir / "wh").as_uri(), create=True).catalog
targets = store_targets([folder])
start = time.perf_counter()
result = ingest_fanned_out(catalog, targets, engine="threads", namespace="images",
                           publish_chunks=True, replace=False, stat=False, byte_ranges=False)
total = time.perf_counter() - start
start = time.perf_counter()
one = ib.catalog_table_to_arrow(catalog, "images.image_assets", where="dataset_id = 'plate_042042'")
read = time.perf_counter() - start
print(json.dumps({"total": total, "tasks": result.task_seconds, "commits": result.commit_seconds,
                  "files": result.files, "rows": result.report.rows, "read": read,
                  "read_rows": one.num_rows}))
"""
    + PRINT_PEAK_KB
)


def part_big(root: Path, count: int = 100_000) -> None:
    import shutil

    folder = make_stores(root / f"stores_{count}", count)
    catalog_dir = root / "big"
    shutil.rmtree(catalog_dir, ignore_errors=True)
    catalog_dir.mkdir()
    done = subprocess.run([sys.executable, "-c", BIG_JOB, str(folder), str(catalog_dir)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    figures, peak = json.loads(lines[-2]), int(lines[-1]) / 1024
    print(f"[4] {count:,} stores (fresh process): ingest {figures['total']:.1f} s "
          f"(scan + write on threads {figures['tasks']:.1f} s), rows {figures['rows']}")  # fmt: skip
    for table, seconds in figures["commits"].items():
        print(f"    {table}: {figures['files'][table]} files in one commit (goal <= 64), "
              f"commit {seconds:.2f} s (goal <= 10 s)")  # fmt: skip
    print(f"    one dataset read back (pruned): {figures['read']:.3f} s, {figures['read_rows']} row "
          f"(goal <= 0.5 s); peak memory {peak:.0f} MB (goal < 2048)")  # fmt: skip


def suite(folder: Path, quick: bool = False) -> list[dict[str, Any]]:
    """The catalogue rows (``quick``: two runs each instead of three; fewer
    stores would measure the fixed costs only). The 100,000-store run is by
    hand: ``--big``."""
    return part_small(folder, 2000, repeats=2 if quick else 3)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--big", action="store_true", help="also the 100,000-store run")
    args = parser.parse_args()
    root = workdir(args, "bench_catalogue_")
    print_rows(part_small(root, args.stores))
    if args.big:
        part_big(root)


if __name__ == "__main__":
    main()
