"""Issue 5: publishing to a real Iceberg catalog (SQLite SqlCatalog, local warehouse).

Part 1: 200 small OME-Zarr stores (metadata-only single images, written as spec
JSON) ingested in one call. Reports commits per table (goal: at most 2) and
the publish time per store against appending the same image_assets rows with
one plain pyiceberg ``table.append`` to a fresh table of the same layout
(partitioned by dataset_id) (goal: within 1.5x).

Part 2: 2,401,000 chunk_index rows (the metadata-only (40, 62500, 62500)
array of bench_chunk_index) published, against writing the same Arrow batches
to one Parquet file with pyarrow (goal: within 1.5x).

Run: python benchmarks/bench_publish.py [--workdir DIR] [--part 1|2|both]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog

from common import bench_parser, make_big_array, print_rows, row, workdir
from iceberg_bioimage.samples import write_metadata_image


def write_small_stores(root: Path, count: int) -> list[Path]:
    stores = [root / f"store_{index:03d}.ome.zarr" for index in range(count)]
    for store in stores:
        if not store.exists():
            write_metadata_image(store)
    return stores


def fresh_catalog(root: Path, name: str) -> SqlCatalog:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    return SqlCatalog(
        name, uri=f"sqlite:///{folder}/c.db", warehouse=(folder / f"wh{time.time_ns()}").as_uri()
    )


def part1(root: Path, count: int = 200) -> list[dict[str, Any]]:
    import iceberg_bioimage as ib
    from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA

    stores = write_small_stores(root / "stores", count)
    start = time.perf_counter()
    results = [ib.scan_store(s) for s in stores]
    scan_s = time.perf_counter() - start

    ours_catalog = fresh_catalog(root, "ours")
    start = time.perf_counter()
    report = ib.ingest_scan_results_to_catalog(
        results, ours_catalog, publish_chunks=True, stat=False
    )
    ours_s = time.perf_counter() - start
    history = ib.catalog_table_history(ours_catalog, "images.image_assets")

    plain_catalog = fresh_catalog(root, "plain")
    rows = ib.scan_result_as_arrow_table(results)
    plain_catalog.create_namespace("images")
    table = plain_catalog.create_table(("images", "image_assets"), schema=IMAGE_ASSETS_SCHEMA)
    with table.update_spec() as spec:  # the same layout as ours: one partition per dataset
        spec.add_identity("dataset_id")
    start = time.perf_counter()
    table.append(rows)
    plain_s = time.perf_counter() - start

    assets_only = fresh_catalog(root, "assets")
    start = time.perf_counter()
    ib.publish_image_assets(results, assets_only)
    assets_s = time.perf_counter() - start

    print(
        f"{count} stores: scan {scan_s:.2f} s; commits per table {report.commits} ({len(history)} snapshot(s) in image_assets)"
    )
    print(
        f"  image_assets publish (incl. table creation): {assets_s / count * 1000:.1f} ms/store, "
        f"plain table.append into the same partitioned table {plain_s / count * 1000:.1f} ms/store "
        f"-> {assets_s / plain_s:.2f}x"
    )
    start = time.perf_counter()
    again = ib.ingest_scan_results_to_catalog(
        results, ours_catalog, publish_chunks=True, stat=False
    )
    again_s = time.perf_counter() - start
    assert ib.catalog_table_to_arrow(ours_catalog, "images.image_assets").num_rows == rows.num_rows
    print(f"  image_assets + chunk_index together: {ours_s / count * 1000:.1f} ms/store")
    print(
        f"  re-ingesting the same {count} (replace, idempotent): {again_s / count * 1000:.1f} ms/store, "
        f"commits {again.commits}"
    )
    commits = max(report.commits.values())
    return [
        row(f"publish image_assets of {count} stores", assets_s, plain_s,
            "pyiceberg table.append", "<=", 1.5),
        row(f"ingest {count} stores: commits per table", commits, None, "commits", "<=", 2),
    ]  # fmt: skip


def part2(root: Path) -> list[dict[str, Any]]:
    import iceberg_bioimage as ib

    store = make_big_array(root)
    result = ib.scan_store(store)
    batches = list(ib.scan_result_to_chunk_index(result, stat=False))
    rows = sum(b.num_rows for b in batches)
    out = root / "plain_chunks.parquet"
    plain = []
    for _ in range(3):
        start = time.perf_counter()
        with pq.ParquetWriter(out, batches[0].schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        plain.append(time.perf_counter() - start)
    del batches
    ours = []
    for _ in range(3):
        catalog = fresh_catalog(root, "chunks")
        start = time.perf_counter()
        ib.publish_chunk_index([result], catalog, stat=False)
        ours.append(time.perf_counter() - start)
    count = ib.catalog_table_to_arrow(catalog, "images.chunk_index", columns=["level"]).num_rows
    assert count == rows, (count, rows)
    print(
        f"{rows:,} chunk rows: pyarrow ParquetWriter of the same batches {min(plain):.3f} s, "
        f"publish_chunk_index (rows generated while writing, one commit) {min(ours):.3f} s "
        f"-> {min(ours) / min(plain):.2f}x"
    )
    return [
        row(f"publish {rows:,} chunk_index rows", min(ours), min(plain),
            "pyarrow ParquetWriter", "<=", 1.5),
    ]  # fmt: skip


def suite(folder: Path, quick: bool = False) -> list[dict[str, Any]]:
    """The publishing rows (``quick``: 50 stores)."""
    return part1(folder, 50 if quick else 200) + part2(folder)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--part", choices=["1", "2", "both"], default="both")
    args = parser.parse_args()
    root = workdir(args, "ib-bench-publish-")
    rows = []
    if args.part in ("1", "both"):
        rows += part1(root)
    if args.part in ("2", "both"):
        rows += part2(root)
    print_rows(rows)


if __name__ == "__main__":
    main()
