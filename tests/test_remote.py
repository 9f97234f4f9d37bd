"""Remote stores against a real S3 API (moto's server on 127.0.0.1) and a local HTTP server."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import boto3
import numpy as np
import pytest
import tifffile

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.stores import HttpHandler, comparable, upload_s3
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import RemoteStoreError, StoreNotFoundError
from iceberg_bioimage.io import open_store
from iceberg_bioimage.scan.zarr_store import scan_zarr_store


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_remote_plate_equals_local_with_few_requests_and_no_listing(
    s3: str, tmp_path: Path, version: str
) -> None:
    local = writers.write_plate(tmp_path / f"plate{version}.ome.zarr", version=version)
    uri = upload_s3(s3, local, f"screens/{version}")
    store = open_store(uri)
    remote = scan_zarr_store(store, "plate")
    assert comparable(remote) == comparable(ib.scan_store(local))
    assert remote.image_assets[0].uri == uri
    assert store.requests["list"] == 0  # metadata named every child
    images = sum(a.image_kind == "image" for a in remote.image_assets)
    assert sum(store.requests.values()) / images <= 8


class _Counted:
    """Counts progress the library reports, per task name."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()
        self.advanced: Counter[str] = Counter()

    def start(self, name: str, total: int | None) -> object:
        self.totals[name] += total or 0
        return name

    def advance(self, handle: object, amount: int) -> None:
        self.advanced[str(handle)] += amount

    def stop(self, handle: object) -> None:
        pass


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_remote_plate_reads_ahead_yet_asks_for_each_document_once(
    s3: str, tmp_path: Path, zarr_format: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image's arrays and labels are asked for as soon as its document
    arrives, while other images' documents are in flight; every document is
    still requested once, and the rows and warnings are those of a local scan
    (here with an absent image, which a v2 scan probes for at the end). The
    documents are counted in the progress bar as they arrive."""
    from iceberg_bioimage import progress
    from iceberg_bioimage.io.remote import ObjectStoreStore
    from iceberg_bioimage.samples import write_metadata_plate
    from iceberg_bioimage.scan import zarr_meta

    local = write_metadata_plate(
        tmp_path / "p.ome.zarr", zarr_format, rows="AB", columns=["1", "2", "3"], fields=3,
        levels=2,
    )  # fmt: skip
    for name in ("zarr.json", ".zattrs", ".zgroup"):
        (local / "B" / "3" / "2" / name).unlink(missing_ok=True)
    uri = upload_s3(s3, local, f"ahead/v{zarr_format}")
    asked: Counter[str] = Counter()
    request = ObjectStoreStore._get
    below_an_image = threading.Event()  # a level or labels document was asked for
    waited_in_vain: list[str] = []

    def counted(self: ObjectStoreStore, key: str) -> bytes | None:
        """Counts requests; holds every image document but the first until a
        document below an image is asked for (read ahead, it comes first)."""
        asked[key] += 1
        depth = key.count("/")  # row/column/field/name: an image's document
        if depth == 4:
            below_an_image.set()
        elif depth == 3 and not key.startswith("A/1/0/") and not below_an_image.wait(10):
            waited_in_vain.append(key)
        return request(self, key)

    monkeypatch.setattr(ObjectStoreStore, "_get", counted)
    monkeypatch.setattr(zarr_meta, "_PROGRESS_BATCH", 8)  # a bar for 8 documents or more
    store = open_store(uri)
    listener = _Counted()
    with progress.listening(listener):
        remote = scan_zarr_store(store, "p")
    assert comparable(remote) == comparable(ib.scan_store(local))
    assert len(remote.image_assets) == 2 * 3 * 3 - 1
    assert [w.path for w in remote.warnings] == ["B/3/2"]
    assert waited_in_vain == []
    assert max(asked.values()) == 1
    assert sum(asked.values()) == store.requests["get"]
    rows_and_wells, images, arrays_and_label_probes = 2 + 6, 2 * 3 * 3, (2 * 3 * 3 - 1) * 3
    assert listener.totals["reading metadata documents"] == (
        rows_and_wells + images + arrays_and_label_probes
    )
    assert listener.advanced == listener.totals


def test_stores_of_one_bucket_share_a_client_only_within_a_many_store_scan(
    s3: str, tmp_path: Path
) -> None:
    """Building an object-store client costs more than a small store's scan:
    a scan of many stores shares one per bucket (and its connections); a
    store opened on its own keeps its own."""
    from iceberg_bioimage.io.remote import clients_shared

    local = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    first, second = (upload_s3(s3, local, f"shared/{name}") for name in ("one", "two"))
    assert open_store(first)._store is not open_store(second)._store
    with clients_shared():
        assert open_store(first)._store is open_store(second)._store
    assert open_store(first)._store is not open_store(second)._store
    results = ib.scan_paths([first, second]).results
    assert sorted(r.uri for r in results) == sorted([first, second])
    assert all(comparable(r) == comparable(ib.scan_store(local)) for r in results)


def test_remote_consolidated_store_is_one_round(s3: str, tmp_path: Path) -> None:
    local = writers.consolidate(writers.write_plate(tmp_path / "c.ome.zarr", version="0.5"))
    store = open_store(upload_s3(s3, local, "consolidated"))
    assert comparable(scan_zarr_store(store, "c")) == comparable(ib.scan_store(local))
    assert store.requests == Counter({"get": 5})  # the root keys, nothing else


def test_remote_ome_tiff_reads_only_byte_ranges(s3: str, tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(0, 60000, (2, 1024, 1024), dtype="uint16")  # ~4 MB
    path = tmp_path / "big.ome.tif"
    tifffile.imwrite(
        path, data, ome=True, tile=(256, 256), metadata={"axes": "CYX", "PhysicalSizeX": 0.5}
    )
    uri = upload_s3(s3, path, "tiffs")
    remote = ib.scan_store(uri)
    local = ib.scan_store(path)
    assert comparable(remote) == comparable(local)
    store = open_store(uri)
    from iceberg_bioimage.scan.tiff_dataset import scan_tiff_object

    scan_tiff_object(store, "big")
    assert store.requests["get"] == 0 and 0 < store.requests["range"] <= 6


def test_remote_chunk_index_sizes_match_local(s3: str, tmp_path: Path) -> None:
    local = writers.write_single_image(tmp_path / "img.ome.zarr", version="0.5")
    uri = upload_s3(s3, local, "chunks")
    remote_rows = ib.chunk_index_table(ib.scan_store(uri)).select(
        ["storage_key", "byte_length", "exists"]
    )
    local_rows = ib.chunk_index_table(ib.scan_store(local)).select(
        ["storage_key", "byte_length", "exists"]
    )
    assert remote_rows.to_pylist() == local_rows.to_pylist()


def test_register_a_remote_store(s3: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    uri = upload_s3(
        s3, writers.write_single_image(tmp_path / "r.ome.zarr", version="0.4"), "registered"
    )
    ib.register_store(uri, publish_chunks=True)
    rows = ib.catalog_table_to_arrow(None, "images.image_assets")
    assert rows.column("uri").to_pylist()[0] == uri
    assert ib.catalog_table_to_arrow(None, "images.chunk_index").num_rows > 0


def test_missing_bucket_and_prefix(s3: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreNotFoundError):
        ib.scan_store("s3://no-such-bucket/x.zarr")
    with pytest.raises(StoreNotFoundError, match="nothing stored"):
        ib.scan_store("s3://lab/nothing/here.zarr")
    assert main(["scan", "s3://no-such-bucket/x.zarr"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_cli_endpoint_option(s3: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    uri = upload_s3(s3, writers.write_single_image(tmp_path / "cli.ome.zarr", version="0.5"), "cli")
    assert main(["summarize", uri, "--endpoint-url", s3, "--json"]) == 0
    assert '"image_count": 1' in capsys.readouterr().out


def test_keys_region_and_endpoint_from_the_aws_shared_files(
    s3: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """With no AWS_* variables, the profile in ~/.aws/credentials and
    ~/.aws/config (here: files named by the standard variables) is used by
    obstore and pyarrow alike; instance metadata would be a closed port."""
    from iceberg_bioimage.io import settings
    from iceberg_bioimage.io.settings import pyarrow_filesystem

    uri = upload_s3(s3, writers.write_single_image(tmp_path / "p.ome.zarr", version="0.5"), "prof")
    expected = comparable(ib.scan_store(uri))
    credentials, config = tmp_path / "credentials", tmp_path / "config"
    credentials.write_text("[lab]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    config.write_text(f"[profile lab]\nregion = us-east-1\nendpoint_url = {s3}\n")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "lab")
    monkeypatch.setattr(settings, "_defaults", settings.RemoteOptions())  # no endpoint, no region
    assert comparable(ib.scan_store(uri)) == expected
    key = "lab/prof/p.ome.zarr/zarr.json"
    assert pyarrow_filesystem(uri).get_file_info(key).size > 0
    monkeypatch.setenv("AWS_PROFILE", "missing")
    assert main(["summarize", uri]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: AWS profile 'missing' is not in the shared credentials or config file"
    ]


def test_http_store_scan_denied_and_retried(http_root) -> None:  # type: ignore[no-untyped-def]
    root, base = http_root
    for folder in ("open", "secret", "flaky"):
        writers.write_single_image(root / folder / "img.ome.zarr", version="0.5")
    local = ib.scan_store(root / "open" / "img.ome.zarr")
    assert comparable(ib.scan_store(f"{base}/open/img.ome.zarr")) == comparable(local)
    with pytest.raises(RemoteStoreError, match="access denied"):
        ib.scan_store(f"{base}/secret/img.ome.zarr")
    HttpHandler.failures.clear()
    flaky = ib.scan_store(f"{base}/flaky/img.ome.zarr")  # every path fails once with 503
    assert comparable(flaky) == comparable(local)
    assert sum(HttpHandler.failures.values()) >= 3
    # Keys are joined to the URL exactly: S3-backed HTTP servers take "a//b" as another key.
    assert HttpHandler.paths and not [p for p in HttpHandler.paths if "//" in p]


def test_iceberg_warehouse_on_s3(s3: str, tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "s3lab",
        uri=f"sqlite:///{tmp_path}/c.db",
        warehouse="s3://lab/iceberg",
        **{
            "s3.endpoint": s3,
            "s3.access-key-id": "testing",
            "s3.secret-access-key": "testing",
            "s3.region": "us-east-1",
        },
    )
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    ib.register_store(plate, catalog, publish_chunks=True)
    ib.register_store(plate, catalog, publish_chunks=True)  # idempotent on S3 too
    assets = ib.catalog_table_to_arrow(catalog, "images.image_assets")
    chunks = ib.catalog_table_to_arrow(catalog, "images.chunk_index")
    assert (
        assets.num_rows == 3
        and chunks.num_rows == ib.chunk_index_table(ib.scan_store(plate)).num_rows
    )
    listed = boto3.client("s3", endpoint_url=s3, region_name="us-east-1").list_objects_v2(
        Bucket="lab", Prefix="iceberg/images/chunk_index/data/"
    )
    assert any(o["Key"].endswith(".parquet") for o in listed.get("Contents", []))


def _bucket_keys(endpoint: str, prefix: str) -> set[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="lab", Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_warehouse_root_on_s3(s3: str, tmp_path: Path) -> None:
    import pyarrow as pa

    root = "s3://lab/warehouses/one"
    plate = writers.write_plate(
        tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1", "2")
    )
    profiles = pa.table(
        {
            "Metadata_Plate": ["test-plate"] * 2,
            "Metadata_Well": ["A1", "A2"],
            "Metadata_Site": [1, 2],
            "ObjectNumber": [1, 1],
        }
    )
    result = ib.export_store_to_cytomining_warehouse(
        plate, root, profiles=profiles, profile_dataset_id="p"
    )
    assert result.tables["profiles.joined_profiles"] == 2
    warehouse = ib.open_warehouse(root)
    assert warehouse.table("images.image_assets").num_rows == 5
    report = ib.validate_warehouse(root)
    assert report.valid, [str(f) for f in report.findings]
    counts = ib.query_metadata_table(root, "SELECT count(*) AS n FROM profiles.joined_profiles")
    assert counts.column("n")[0].as_py() == 2
    before = _bucket_keys(s3, "warehouses/one/images/image_assets/")
    ib.export_store_to_cytomining_warehouse(plate, root, include_chunks=False)  # overwrite
    after = _bucket_keys(s3, "warehouses/one/images/image_assets/")
    assert before < after  # replaced parts are retired: readers may still open them
    assert ib.validate_warehouse(root).valid
    os.environ["ICEBERG_BIOIMAGE_RETIRE_SECONDS"] = "0"
    try:  # the next write after the grace period deletes them
        ib.export_store_to_cytomining_warehouse(plate, root, include_chunks=False)
    finally:
        del os.environ["ICEBERG_BIOIMAGE_RETIRE_SECONDS"]
    latest = _bucket_keys(s3, "warehouses/one/images/image_assets/")
    assert not (latest & before) and len(latest - after) == 1  # the first parts are gone
    assert ib.validate_warehouse(root).valid
    cli_root = "s3://lab/warehouses/cli/"  # the CLI keeps URIs as URIs (no local folder)
    assert main(["export-cytomining", "-w", cli_root, str(plate), "-q"]) == 0
    assert main(["validate-warehouse", cli_root, "-q"]) == 0
    assert ib.open_warehouse(cli_root).table("images.image_assets").num_rows == 5
    assert not Path("s3:").exists()


def test_s3_warehouse_failure_and_lost_race_leave_nothing(
    s3: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    from iceberg_bioimage.io.remote import ObjectStoreStore
    from iceberg_bioimage.warehouse.writer import TableWrite, WarehouseWriteError, write_tables

    root = "s3://lab/warehouses/two"
    table = pa.table({"dataset_id": ["d"], "image_id": ["i"], "x": [1.0]})
    ib.export_table_to_cytomining_warehouse(
        table, root, table_name="emb", role="embeddings", namespace="profiles"
    )
    snapshot = _bucket_keys(s3, "warehouses/two/")
    manifest = open_store(root).get_many(["warehouse_manifest.json"])[0]

    def failing():  # type: ignore[no-untyped-def]
        yield table.to_batches()[0]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_tables(
            root,
            [
                TableWrite("profiles.ok", "profiles", table, profile_level="image"),
                TableWrite("profiles.bad", "profiles", failing(), profile_level="image"),
            ],
        )
    assert _bucket_keys(s3, "warehouses/two/") == snapshot

    stale = ObjectStoreStore(root).get_versioned("warehouse_manifest.json")  # before another commit
    ib.export_table_to_cytomining_warehouse(
        table, root, table_name="emb", role="embeddings", namespace="profiles"
    )
    winner = open_store(root).get_many(["warehouse_manifest.json"])[0]
    assert winner != manifest
    monkeypatch.setattr(ObjectStoreStore, "get_versioned", lambda self, key: stale)
    with pytest.raises(WarehouseWriteError, match="changed while this write ran"):
        ib.export_table_to_cytomining_warehouse(
            table, root, table_name="late", role="embeddings", namespace="profiles"
        )
    monkeypatch.undo()
    assert open_store(root).get_many(["warehouse_manifest.json"])[0] == winner
    assert not any("profiles/late/" in key for key in _bucket_keys(s3, "warehouses/two/"))
    assert ib.validate_warehouse(root).valid


def test_remote_folder_of_tiffs(s3: str, tmp_path: Path) -> None:
    folder = tmp_path / "Plate_2_images"
    folder.mkdir()
    for site in (1, 2):
        for channel in ("DAPI", "GFP"):
            tifffile.imwrite(folder / f"B7_01_{site}_{channel}.tif", np.zeros((8, 8), "uint16"))
    (folder / "notes.txt").write_text("not an image")
    uri = upload_s3(s3, folder, "cellprofiler")
    remote = ib.scan_store(uri)
    local = ib.scan_store(folder)
    assert [a.image_id for a in remote.image_assets] == [a.image_id for a in local.image_assets]
    assert remote.image_assets[0].uri == f"{uri}/B7_01_1_DAPI.tif"
    assert comparable(remote) == comparable(local)


def test_remote_tiff_tiles_in_the_chunk_index(s3: str, tmp_path: Path) -> None:
    path = tmp_path / "tiled.ome.tif"
    tifffile.imwrite(
        path, np.ones((2, 64, 64), "uint16"), ome=True, tile=(32, 32), metadata={"axes": "CYX"}
    )
    uri = upload_s3(s3, path, "tiles")
    remote = ib.chunk_index_table(ib.scan_store(uri)).select(
        ["chunk_coords", "byte_offset", "byte_length"]
    )
    local = ib.chunk_index_table(ib.scan_store(path)).select(
        ["chunk_coords", "byte_offset", "byte_length"]
    )
    assert remote.num_rows == 8 and remote.to_pylist() == local.to_pylist()


def test_http_ome_tiff_by_ranges_timeouts_and_servers_without_ranges(
    http_root, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    root, base = http_root
    data = np.arange(2 * 256 * 256, dtype="uint16").reshape(2, 256, 256)
    for folder in ("open", "norange", "stall"):
        (root / folder).mkdir()
        tifffile.imwrite(
            root / folder / "cells.ome.tif", data, ome=True, tile=(64, 64), metadata={"axes": "CYX"}
        )
    local = ib.scan_store(root / "open" / "cells.ome.tif")
    HttpHandler.ranges.clear()
    remote = ib.scan_store(f"{base}/open/cells.ome.tif")
    assert remote.image_assets and comparable(remote) == comparable(local)
    assert HttpHandler.ranges  # the header was read by ranges, not by a whole GET
    assert main(["summarize", f"{base}/norange/cells.ome.tif"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {base}/norange/cells.ome.tif: the server does not answer byte-range "
        "requests, which TIFF headers are read with"
    ]
    started = time.monotonic()
    assert main(["--timeout", "0.3", "summarize", f"{base}/stall/cells.ome.tif"]) == 2
    assert time.monotonic() - started < 10
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {base}/stall/cells.ome.tif: no answer within 0.3 s")


def test_a_timing_that_contains_403_is_not_a_denial() -> None:
    """obstore's messages carry timings ("in 1.403129ms"); only a 403 status
    means denied (this once made missing-bucket tests fail now and then)."""
    from iceberg_bioimage.io.remote import _translate

    missing = (
        "Generic S3 error: Error performing list request: Error performing GET "
        "http://127.0.0.1:9/b?list-type=2 in 1.403129ms - Server returned non-2xx "
        "status code: 404 Not Found: <Code>NoSuchBucket</Code>"
    )
    denied = "Error performing GET http://127.0.0.1:9/b/k in 2ms - status code: 403 Forbidden"
    assert str(_translate(Exception(missing), "s3://b", "", 30)) == "s3://b: no such bucket"
    assert "access denied" in str(_translate(Exception(denied), "s3://b", "", 30))


def _read_keys(job: tuple[str, list[str]]) -> list[bytes | None]:
    uri, keys = job
    return open_store(uri).get_many(keys)


def test_worker_processes_read_remote_stores_after_the_parent_did(s3: str, tmp_path: Path) -> None:
    """After the parent's object-store requests, worker processes are spawned,
    not forked: obstore's runtime does not survive a fork (a forked child's
    requests waited forever)."""
    from iceberg_bioimage.engines import process_context, run_all

    local = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    store = open_store(upload_s3(s3, local, "forked"))
    keys = ["zarr.json", "A/1/zarr.json", "missing.json"]
    expected = store.get_many(keys)
    assert expected[0] is not None and expected[2] is None
    assert process_context().get_start_method() == "spawn"
    assert run_all(_read_keys, [(store.uri, keys)] * 2, "processes") == [expected, expected]
