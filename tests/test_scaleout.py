"""Catalogues that scale: bucketed image tables, ingests fanned out on
threads, Daft and a real local Ray cluster with identical rows, a failed task
that leaves no duplicates, a bad store among good ones, and the evolution of
a table written with the identity layout of earlier releases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import iceberg_bioimage as ib
from fixtures import engines, writers
from iceberg_bioimage.catalog import fanout
from iceberg_bioimage.catalog.layout import bucket_of
from iceberg_bioimage.samples import write_metadata_image

STORES = 40


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stores")
    for index in range(STORES):
        write_metadata_image(folder / f"s{index:03d}.ome.zarr")
    writers.write_plate(folder / "plate.ome.zarr", version="0.4", rows="A", columns=("1", "2"))
    return folder


def _catalog(tmp_path: Path, name: str = "c") -> list[str]:
    return [f"sqlite:///{tmp_path}/{name}.db", f"file://{tmp_path}/{name}-wh"]


def _open(uri: str, warehouse: str):  # type: ignore[no-untyped-def]
    return ib.resolve_catalog(None, uri=uri, warehouse=warehouse, create=True).catalog


def _sorted(catalog, name: str) -> pa.Table:  # type: ignore[no-untyped-def]
    rows = ib.catalog_table_to_arrow(catalog, f"images.{name}")
    keys = ["dataset_id", "image_id"] + (
        ["level", "chunk_coords_json"] if name == "chunk_index" else []
    )
    return rows.sort_by([(k, "ascending") for k in keys])


def test_the_same_ingest_gives_the_same_rows_on_every_engine(
    stores: Path, tmp_path: Path, ray_cluster: None
) -> None:
    tables = {}
    for engine in ("threads", "processes", "daft", "ray"):
        catalog = _open(*_catalog(tmp_path, engine))
        result = ib.ingest_stores_to_catalog([stores], catalog, engine=engine, publish_chunks=True)
        assert result.commits == {"images.image_assets": 1, "images.chunk_index": 1}
        assert len(result.datasets) == STORES + 1 and result.warnings == []
        tables[engine] = {n: _sorted(catalog, n) for n in ("image_assets", "chunk_index")}
    for name in ("image_assets", "chunk_index"):
        for engine in ("processes", "daft", "ray"):
            assert tables[engine][name].equals(tables["threads"][name]), (engine, name)
    assert tables["threads"]["image_assets"].num_rows == STORES + 5  # 4 fields + 1 label


def test_files_per_commit_stay_bounded_and_reingest_is_exactly_once(
    stores: Path, tmp_path: Path
) -> None:
    catalog = _open(*_catalog(tmp_path))
    first = ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    again = ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    assert again.commits == first.commits == {"images.image_assets": 1, "images.chunk_index": 1}
    table = ib.load_catalog_table(catalog, "images.image_assets")
    added = [int(s.summary["added-data-files"] or 0) for s in table.snapshots()]
    assert max(added) <= 16 and len({bucket_of(f"s{i:03d}") for i in range(STORES)}) > 8
    rows = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    assert rows.num_rows == STORES + 5
    keys = rows.group_by(["dataset_id", "image_id"]).aggregate([])
    assert keys.num_rows == rows.num_rows  # every image exactly once
    one = ib.catalog_table_to_arrow(catalog, "images.image_assets", where="dataset_id = 's007'")
    assert one.column("dataset_id").to_pylist() == ["s007"]
    plan = list(table.scan(row_filter="dataset_id = 's007'").plan_files())
    assert len(plan) == 1  # the bucket's file only


def test_a_bad_store_is_a_warning_and_the_others_are_published(tmp_path: Path) -> None:
    for name in ("good", "also_good"):
        write_metadata_image(tmp_path / "data" / f"{name}.ome.zarr")
    broken = tmp_path / "data" / "broken.ome.zarr"
    broken.mkdir()
    (broken / "zarr.json").write_text("{not json")
    catalog = _open(*_catalog(tmp_path))
    result = ib.ingest_stores_to_catalog([tmp_path / "data"], catalog)
    assert result.datasets == ["also_good", "good"]
    assert len(result.warnings) == 1 and "broken.ome.zarr" in result.warnings[0]


def test_a_failed_thread_task_commits_nothing_and_a_rerun_is_exactly_once(
    stores: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _open(*_catalog(tmp_path))
    real = fanout.run_task

    def failing(task):  # type: ignore[no-untyped-def]
        output = real(task)  # its files are written ...
        if task.bucket == bucket_of("s000"):
            raise OSError("worker lost")  # ... and then the task dies
        return output

    monkeypatch.setattr(fanout, "run_task", failing)
    with pytest.raises(ib.CatalogError, match="worker lost"):
        ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    assert ib.list_catalog_tables(catalog) == []  # nothing was committed
    monkeypatch.setattr(fanout, "run_task", real)
    ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    assert ib.catalog_table_to_arrow(catalog, "images.image_assets").num_rows == STORES + 5


def test_a_ray_task_killed_mid_ingest_is_retried_without_duplicates(
    stores: Path, tmp_path: Path, ray_cluster: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    @ray.remote
    def set_env(marker: str, bucket: int) -> None:
        os.environ["CRASH_MARKER"], os.environ["CRASH_BUCKET"] = marker, str(bucket)

    ray.get([set_env.remote(str(tmp_path), bucket_of("s000")) for _ in range(4)])
    monkeypatch.setenv("CRASH_MARKER", str(tmp_path))
    monkeypatch.setenv("CRASH_BUCKET", str(bucket_of("s000")))
    monkeypatch.setattr(fanout, "run_task", engines.crash_once_after_writing)
    catalog = _open(*_catalog(tmp_path))
    result = ib.ingest_stores_to_catalog([stores], catalog, engine="ray", publish_chunks=True)
    assert (tmp_path / f"bucket-{bucket_of('s000')}").exists()  # the first attempt died
    rows = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    assert rows.num_rows == STORES + 5 and len(result.datasets) == STORES + 1
    table = ib.load_catalog_table(catalog, "images.image_assets")
    written = list((Path(table.location().removeprefix("file://")) / "data").rglob("*.parquet"))
    referenced = set(table.inspect.files().column("file_path").to_pylist())
    assert len(written) > len(referenced)  # the dead attempt's file is an orphan, never read


def test_a_table_with_the_identity_layout_evolves_in_place(stores: Path, tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA

    uri, warehouse = _catalog(tmp_path)
    catalog = SqlCatalog("default", uri=uri, warehouse=warehouse)
    catalog.create_namespace("images")
    old = catalog.create_table(("images", "image_assets"), schema=IMAGE_ASSETS_SCHEMA)
    with old.update_spec() as spec:  # the layout releases up to 0.2.0 wrote
        spec.add_identity("dataset_id")
    old.append(ib.scan_as_arrow_table(stores / "s001.ome.zarr"))
    old.append(ib.scan_as_arrow_table(stores / "plate.ome.zarr"))
    ib.ingest_stores_to_catalog([stores / "s001.ome.zarr", stores / "s002.ome.zarr"], catalog)
    table = catalog.load_table(("images", "image_assets"))
    assert [str(f.transform) for f in table.spec().fields] == ["bucket[16]"]
    transforms = {str(f.transform) for spec in table.specs().values() for f in spec.fields}
    assert transforms == {"identity", "bucket[16]"}  # the old files keep their spec
    rows = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    assert sorted(rows.column("dataset_id").to_pylist()) == ["plate"] * 5 + ["s001", "s002"]
    import daft
    import polars as pl

    assert daft.read_iceberg(table).count_rows() == 7
    assert pl.scan_iceberg(table).collect().height == 7
    ib.compact_catalog_table(catalog, "images.image_assets")  # folds the old files in
    table = catalog.load_table(("images", "image_assets"))
    assert {f.spec_id for f in (t.file for t in table.scan().plan_files())} == {
        table.spec().spec_id
    }
    assert ib.catalog_table_to_arrow(catalog, "images.image_assets").num_rows == 7


def test_engines_read_what_the_fanned_out_ingest_wrote(
    stores: Path, tmp_path: Path, ray_cluster: None
) -> None:
    import ray.data

    catalog = _open(*_catalog(tmp_path))
    ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    table = ib.load_catalog_table(catalog, "images.chunk_index")
    ours = ib.catalog_table_to_arrow(catalog, "images.chunk_index").num_rows
    uri, warehouse = _catalog(tmp_path)
    kwargs = {"name": "default", "type": "sql", "uri": uri, "warehouse": warehouse}
    read = ray.data.read_iceberg(table_identifier="images.chunk_index", catalog_kwargs=kwargs)
    assert read.count() == ours and table.name() == ("images", "chunk_index")


def test_an_unknown_engine_is_one_line(stores: Path, tmp_path: Path) -> None:
    catalog = _open(*_catalog(tmp_path))
    with pytest.raises(ib.InputError, match="engine must be one of threads, processes, daft, ray"):
        ib.ingest_stores_to_catalog([stores], catalog, engine="spark")


DUCKDB_READ = """
import duckdb, glob, json, os, sys
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
site = os.path.dirname(os.path.dirname(duckdb.__file__))
for name in ("avro", "iceberg"):  # the PyPI wheels of DuckDB 1.5's extensions
    con.execute(f"LOAD '{glob.glob(f'{site}/duckdb_extension_{name}/extensions/*/*')[0]}'")
rows = con.execute(
    "select count(*), count(distinct dataset_id) from iceberg_scan(?)", [sys.argv[1]]
).fetchall()
print(json.dumps(rows[0]))
"""


@pytest.mark.skipif("DUCKDB15_PYTHON" not in os.environ, reason="DUCKDB15_PYTHON is not set")
def test_duckdb_reads_the_bucketed_tables(stores: Path, tmp_path: Path) -> None:
    """DuckDB's Iceberg extension ships for DuckDB 1.5 only (our DuckDB is 2.x):
    it runs in the side environment ``.ci/run`` builds."""
    from fixtures.side_envs import run_in_side_env

    catalog = _open(*_catalog(tmp_path))
    ib.ingest_stores_to_catalog([stores], catalog, publish_chunks=True)
    for name in ("image_assets", "chunk_index"):
        table = ib.load_catalog_table(catalog, f"images.{name}")
        ours = ib.catalog_table_to_arrow(catalog, f"images.{name}")
        count, datasets = run_in_side_env("DUCKDB15_PYTHON", DUCKDB_READ, table.metadata_location)
        assert (count, datasets) == (ours.num_rows, len(set(ours.column("dataset_id").to_pylist())))


def test_compaction_leaves_one_sorted_file_per_bucket_and_keeps_time_travel(
    stores: Path, tmp_path: Path
) -> None:
    catalog = _open(*_catalog(tmp_path))
    for index in range(20):  # one ingest per store: many small files
        ib.ingest_stores_to_catalog([stores / f"s{index:03d}.ome.zarr"], catalog)
    table = ib.load_catalog_table(catalog, "images.image_assets")
    files = table.inspect.files()
    buckets = files.column("partition").combine_chunks().field(0).to_pylist()
    assert len(buckets) > len(set(buckets))  # some bucket has several files
    before_rows = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    before_snapshot = table.current_snapshot().snapshot_id
    run = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "catalog", "compact", "images.image_assets",
         "--catalog-uri", _catalog(tmp_path)[0], "--warehouse", _catalog(tmp_path)[1], "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(run.stdout)
    assert report["files_before"] == len(buckets) and report["files_after"] == len(set(buckets))
    assert report["rows"] == 20 and report["snapshots_expired"] == 0
    after = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    key = [("dataset_id", "ascending"), ("image_id", "ascending")]
    assert after.sort_by(key).equals(before_rows.sort_by(key))
    old = ib.catalog_table_to_arrow(catalog, "images.image_assets", snapshot_id=before_snapshot)
    assert old.num_rows == 20  # time travel to before the compaction still works
    table = ib.load_catalog_table(catalog, "images.image_assets")
    assert table.current_snapshot().summary.operation.value == "overwrite"
    ids = after.column("dataset_id").to_pylist()
    for bucket in set(buckets):  # each file holds its bucket's rows, sorted
        in_bucket = [i for i in ids if bucket_of(i) == bucket]
        assert in_bucket == sorted(in_bucket)
    kept = ib.compact_catalog_table(catalog, "images.image_assets", retain_last=1)
    assert kept.files_after == len(set(buckets)) and kept.snapshots_expired > 0
    assert len(ib.catalog_table_history(catalog, "images.image_assets")) == 1


def test_ingest_on_daft_from_the_cli(stores: Path, tmp_path: Path) -> None:
    uri, warehouse = _catalog(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "ingest", str(stores), "--engine", "daft",
         "--catalog-uri", uri, "--warehouse", warehouse, "--json"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["rows"]["images.image_assets"] == STORES + 5
    assert report["commits"] == {"images.image_assets": 1, "images.chunk_index": 1}
    bad = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "ingest", str(stores), "--engine", "spark",
         "--catalog-uri", uri, "--warehouse", warehouse],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (
        bad.returncode == 2 and "engine must be one of threads, processes, daft, ray" in bad.stderr
    )
