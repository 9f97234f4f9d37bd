"""Publishing to and reading from real pyiceberg catalogs (SQLite SqlCatalog)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

import iceberg_bioimage as ib
from fixtures import writers
from iceberg_bioimage.catalog import CatalogError, DatasetConflictError, resolve_catalog
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import InputError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded catalog lives here for the test."""
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return writers.write_plate(tmp_path / "plate.ome.zarr", version="0.5", columns=("1", "2"))


def _rows(table: str, where: str | None = None) -> pa.Table:
    return ib.catalog_table_to_arrow(None, table, where=where)


def test_embedded_catalog_is_created_on_first_use(home: Path, plate: Path) -> None:
    result = ib.register_store(plate)
    assert result.catalog_created and (home / "catalog.db").is_file()
    assert str(home) in result.catalog
    assert ib.list_catalog_tables() == ["images.image_assets"]
    assert not ib.register_store(plate).catalog_created


def test_register_is_idempotent_and_one_commit_per_table(home: Path, plate: Path) -> None:
    first = ib.register_store(plate, publish_chunks=True)
    assert first.commits == {"images.image_assets": 1, "images.chunk_index": 1}
    assets, chunks = _rows("images.image_assets").num_rows, _rows("images.chunk_index").num_rows
    assert assets == 9 and chunks > 0
    ib.register_store(plate, publish_chunks=True)
    assert _rows("images.image_assets").num_rows == assets
    assert _rows("images.chunk_index").num_rows == chunks
    table = ib.load_catalog_table(None, "images.image_assets")
    assert [(f.name, str(f.transform)) for f in table.spec().fields] == [
        ("dataset_id_bucket", "bucket[16]")
    ]
    assert [table.schema().find_column_name(f.source_id) for f in table.sort_order().fields] == [
        "dataset_id",
        "image_id",
    ]
    assert table.properties["iceberg_bioimage.producer"] == "iceberg-bioimage"
    assert table.properties["iceberg_bioimage.schema_version"] == "2"
    assert table.schema().find_field("dataset_id").required
    assert not table.schema().find_field("plate_id").required


def test_changed_store_is_replaced_in_one_atomic_commit(home: Path, plate: Path) -> None:
    ib.register_store(plate)
    before = ib.load_catalog_table(None, "images.image_assets").current_snapshot().snapshot_id
    (plate / "B").rename(plate.parent / "gone")  # the store loses a row of wells
    ib.register_store(plate)
    table = ib.load_catalog_table(None, "images.image_assets")
    assert _rows("images.image_assets").num_rows == 5  # 2 wells x 2 fields + 1 label
    snapshots = [e["snapshot_id"] for e in ib.catalog_table_history(None, "images.image_assets")]
    # the replacement is one commit: every intermediate snapshot of it still shows the
    # old rows or the new ones, never an empty dataset
    after = snapshots[snapshots.index(before) + 1 :]
    counts = [
        ib.catalog_table_to_arrow(None, "images.image_assets", snapshot_id=s).num_rows
        for s in after
    ]
    assert counts[-1] == 5 and table.current_snapshot().snapshot_id == after[-1]
    assert ib.catalog_table_to_arrow(None, "images.image_assets", snapshot_id=before).num_rows == 9


def test_same_dataset_id_from_another_uri_is_an_error_naming_both(
    home: Path, tmp_path: Path
) -> None:
    a = writers.write_single_image(tmp_path / "a" / "img.ome.zarr", version="0.5")
    b = writers.write_single_image(tmp_path / "b" / "img.ome.zarr", version="0.5")
    ib.register_store(a)
    with pytest.raises(DatasetConflictError) as raised:
        ib.register_store(b)
    assert str(a.resolve().as_uri()) in str(raised.value) and str(b.resolve().as_uri()) in str(
        raised.value
    )
    ib.register_store(b, replace=True)
    uris = set(_rows("images.image_assets").column("dataset_uri").to_pylist())
    assert uris == {b.resolve().as_uri()}


def test_ingest_many_stores_is_one_commit_per_table(home: Path, tmp_path: Path) -> None:
    stores = [
        writers.write_single_image(tmp_path / f"s{i}.ome.zarr", version="0.4") for i in range(5)
    ]
    result = ib.ingest_stores_to_warehouse(stores, publish_chunks=True)
    assert result.commits == {"images.image_assets": 1, "images.chunk_index": 1}
    assert len(ib.catalog_table_history(None, "images.image_assets")) == 1
    assert sorted(set(_rows("images.chunk_index").column("dataset_id").to_pylist())) == [
        f"s{i}" for i in range(5)
    ]


def test_register_directory_and_deregister(home: Path, tmp_path: Path) -> None:
    writers.write_single_image(tmp_path / "d" / "x.ome.zarr", version="0.5")
    writers.write_single_image(tmp_path / "d" / "deep" / "y.ome.zarr", version="0.4")
    result = ib.register_directory(tmp_path / "d", publish_chunks=True)
    assert result.datasets == ["x", "y"]
    removed = ib.deregister_store("x")
    assert removed.rows["images.image_assets"] == 1
    assert set(_rows("images.image_assets").column("dataset_id").to_pylist()) == {"y"}
    ib.deregister_store(str(tmp_path / "d" / "deep" / "y.ome.zarr"))  # by path
    assert _rows("images.image_assets").num_rows == 0
    with pytest.raises(InputError, match="no dataset 'nope'"):
        ib.deregister_store("nope")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing", "missing: no such directory"),
        ("file.txt", "file.txt: is a file, not a folder"),
        ("s3://bucket/plates", "folders are walked on local disks only"),
    ],
)
def test_register_directory_needs_a_local_folder(
    home: Path, tmp_path: Path, capsys, target: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file.txt").write_text("x")
    path = target if "://" in target else str(tmp_path / target)
    assert main(["register-directory", path]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("error: ") and message in lines[-1]
    with pytest.raises(CatalogError, match="does not exist"):
        _rows("images.image_assets")


def test_reads_filter_columns_and_time_travel(home: Path, plate: Path) -> None:
    ib.register_store(plate)
    data = ib.catalog_table_to_arrow(
        None,
        "images.image_assets",
        columns=["image_id", "well_id"],
        where="well_id = 'A02' AND site_id = 1",
    )
    assert data.to_pylist() == [{"image_id": "test-plate/A02/1", "well_id": "A02"}]
    first = ib.load_catalog_table(None, "images.image_assets").current_snapshot()
    time.sleep(0.01)
    ib.deregister_store("plate")
    assert _rows("images.image_assets").num_rows == 0
    as_of = first.timestamp_ms / 1000
    from datetime import datetime

    then = datetime.fromtimestamp(as_of, UTC)
    assert ib.catalog_table_to_arrow(None, "images.image_assets", as_of=then).num_rows == 9
    with pytest.raises(InputError, match="no column"):
        ib.catalog_table_to_arrow(None, "images.image_assets", columns=["nope"])
    with pytest.raises(InputError, match=r"cannot parse filter 'well_id = \(\(' near column"):
        ib.catalog_table_to_arrow(None, "images.image_assets", where="well_id = ((")
    with pytest.raises(InputError, match=r"must be ISO 8601.*not 'yesterday'"):
        ib.catalog_table_to_arrow(None, "images.image_assets", as_of="yesterday")


def test_schema_evolution_adds_new_columns(home: Path, plate: Path) -> None:
    catalog = resolve_catalog().catalog
    old = pa.schema([f for f in ib.IMAGE_ASSETS_SCHEMA if f.name not in ("codecs", "fill_value")])
    catalog.create_namespace("images")
    catalog.create_table(("images", "image_assets"), schema=old)
    ib.register_store(plate)
    table = ib.load_catalog_table(None, "images.image_assets")
    assert table.schema().find_field("codecs") is not None
    assert _rows("images.image_assets").column("fill_value").to_pylist()[0] == "0"


def test_any_pyiceberg_catalog_object_and_custom_namespace(tmp_path: Path, plate: Path) -> None:
    catalog = SqlCatalog(
        "mine", uri=f"sqlite:///{tmp_path}/c.db", warehouse=(tmp_path / "wh").as_uri()
    )
    ib.register_store(plate, catalog, namespace="bioimage_cytotable", publish_chunks=True)
    assert ib.list_catalog_tables(catalog) == [
        "bioimage_cytotable.chunk_index",
        "bioimage_cytotable.image_assets",
    ]
    # SqlCatalog stores nested namespaces: tables land in ("bioimage", "cytotable")
    ib.register_store(plate, catalog, namespace="bioimage.cytotable", publish_chunks=True)
    assert catalog.list_namespaces(("bioimage",)) == [("bioimage", "cytotable")]
    assert sorted(catalog.list_tables(("bioimage", "cytotable"))) == [
        ("bioimage", "cytotable", "chunk_index"),
        ("bioimage", "cytotable", "image_assets"),
    ]
    nested = catalog.load_table(("bioimage", "cytotable", "image_assets"))
    assert nested.scan().to_arrow().num_rows == 9
    ib.register_store(plate, catalog, namespace="bioimage.cytotable")  # replaces, in place
    assert nested.refresh().scan().to_arrow().num_rows == 9
    profiles = pa.table({"Metadata_Plate": ["p"], "Metadata_Well": ["A01"], "x": [1.0]})
    ib.register_profile_table(profiles, catalog, namespace="bioimage.cytotable", table_name="cells")
    cells = catalog.load_table(("bioimage", "cytotable", "cells"))
    assert cells.scan().to_arrow().column("x").to_pylist() == [1.0]


def test_catalog_by_name_from_environment(
    tmp_path: Path, plate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYICEBERG_CATALOG__LAB__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAB__URI", f"sqlite:///{tmp_path}/lab.db")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAB__WAREHOUSE", (tmp_path / "lab").as_uri())
    assert main(["register", str(plate), "--catalog", "lab", "-q"]) == 0
    assert ib.list_catalog_tables("lab") == ["images.image_assets"]


def test_catalog_by_properties_on_the_command_line(tmp_path: Path, plate: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    args = [
        "--catalog-uri",
        f"sqlite:///{tmp_path}/p.db",
        "--warehouse",
        (tmp_path / "w").as_uri(),
        "--catalog-property",
        "type=sql",
    ]
    assert main(["register", str(plate), *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"images.image_assets": 9}
    assert main(["catalog", "tables", *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tables"] == ["images.image_assets"]


def test_catalog_without_warehouse_location_says_so(tmp_path: Path, plate: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    uri = f"sqlite:///{tmp_path}/p.db"
    assert main(["register", str(plate), "--catalog-uri", uri]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: publishing to catalog 'default': the catalog has no warehouse location "
        "for new tables; pass --warehouse (or set 'warehouse' in its configuration)"
    )
    assert main(["register", str(plate), "--catalog-uri", uri, "--warehouse", str(tmp_path)]) == 0


def test_unknown_catalog_and_missing_table_are_one_line_exit_2(
    home: Path, plate: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    assert main(["register", str(plate), "--catalog", "nosuch"]) == 2
    assert main(["catalog", "show", "images.image_assets"]) == 2  # reads never create
    assert not home.exists()
    assert main(["register", str(plate), "-q"]) == 0
    assert main(["catalog", "show", "images.nope"]) == 2
    assert main(["catalog", "show", "nodots"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(lines) == 4 and "nosuch" in lines[0] and "images.nope" in lines[2]
    assert lines[1] == (
        f"error: there is no catalog yet: the embedded catalog at {home} is created by the "
        "first register (or name one with --catalog)"
    )
    with pytest.raises(CatalogError):
        resolve_catalog("nosuch")


def test_unreachable_catalog_is_one_line(tmp_path: Path, plate: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "register",
            str(plate),
            "--catalog-uri",
            "http://127.0.0.1:9",
            "--catalog-property",
            "type=rest",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_profile_tables(home: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "Cells.parquet"
    pq.write_table(
        pa.table({"Metadata_Plate": ["p"], "Cells_Area": [1.5], "empty": pa.nulls(1)}), path
    )
    result = ib.register_profile_table(path)
    assert result.rows == {"profiles.cells": 1}
    ib.register_profile_table(path)
    data = _rows("profiles.cells")
    assert data.num_rows == 1 and data.schema.field("empty").type == pa.string()
    with pytest.raises(CatalogError, match="without dots"):
        ib.register_profile_table(path, table_name="a.b")
    with pytest.raises(CatalogError, match="'my cells' cannot name a namespace or table"):
        ib.register_profile_table(path, table_name="my cells")
    assert resolve_catalog(None).catalog.list_tables("profiles") == [("profiles", "cells")]


def test_profile_table_from_a_sqlite_file(home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "run.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE Per_Image (ImageNumber INTEGER, Image_Metadata_Plate TEXT)")
        db.executemany("INSERT INTO Per_Image VALUES (?, ?)", [(1, "p1"), (2, "p1")])
        db.execute("CREATE TABLE Per_Cells (ImageNumber INTEGER, ObjectNumber INTEGER)")
    assert main(["register-profiles", str(path)]) == 2
    assert "holds tables Per_Image, Per_Cells; name one (--sqlite-table)" in capsys.readouterr().err
    assert main(["register-profiles", str(path), "--sqlite-table", "Per_Image", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"profiles.per_image": 2}
    assert _rows("profiles.per_image").column("Image_Metadata_Plate").to_pylist() == ["p1", "p1"]


def test_profile_table_with_unsupported_types_leaves_nothing_behind(
    home: Path, tmp_path: Path
) -> None:
    bad = pa.table({"ok": [1], "when": pa.array([1], pa.duration("s"))})
    with pytest.raises(InputError, match="column 'when'"):
        ib.register_profile_table(bad, table_name="bad")
    assert ib.list_catalog_tables() == []
    assert main(["catalog", "show", "profiles.bad"]) == 2


def test_cli_register_and_show(home: Path, plate: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["register", str(plate), "--publish-chunks", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commits"] == {"images.image_assets": 1, "images.chunk_index": 1}
    assert (
        main(["catalog", "show", "images.image_assets", "--where", "well_id = 'B01'", "--json"])
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["rows"] == 2 and {r["site_id"] for r in shown["data"]} == {0, 1}
    assert main(["catalog", "history", "images.image_assets", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["snapshots"]) == 1


_WRITER = """
import sys
import iceberg_bioimage as ib
ib.register_store(sys.argv[1], publish_chunks=True)
"""


def test_concurrent_writers_lose_no_rows(home: Path, tmp_path: Path) -> None:
    stores = [
        writers.write_single_image(tmp_path / f"c{i}.ome.zarr", version="0.5") for i in range(4)
    ]
    ib.register_store(stores[0])  # the tables exist; the writers race on commits
    env = {**__import__("os").environ, "ICEBERG_BIOIMAGE_HOME": str(home)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(s)], env=env, stderr=subprocess.PIPE, text=True
        )
        for s in stores
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, worker.stderr.read() if worker.stderr else ""
    ids = _rows("images.image_assets").column("dataset_id").to_pylist()
    assert sorted(ids) == ["c0", "c1", "c2", "c3"]
    chunks = _rows("images.chunk_index")
    assert sorted(set(chunks.column("dataset_id").to_pylist())) == ["c0", "c1", "c2", "c3"]


def test_export_catalog_to_a_warehouse_root(home: Path, plate: Path, tmp_path: Path) -> None:
    ib.register_store(plate, publish_chunks=True)
    ib.register_profile_table(
        pa.table({"Metadata_Plate": ["test-plate"], "Metadata_Well": ["A01"], "ObjectNumber": [1]}),
        table_name="cells",
    )
    root = tmp_path / "wh"
    result = ib.export_catalog_to_cytomining_warehouse(None, warehouse_root=root)
    chunk_rows = _rows("images.chunk_index").num_rows
    assert result.tables == {
        "images.image_assets": 9,
        "images.chunk_index": chunk_rows,
        "profiles.cells": 1,
    }
    assert ib.validate_warehouse(root).valid
    assert result.warnings == []
    elsewhere = ib.export_catalog_to_cytomining_warehouse(
        None, "nope", warehouse_root=tmp_path / "wh2"
    )
    assert f"nope.image_assets not found in embedded catalog at {home}" in elsewhere.warnings
    assert elsewhere.tables["images.image_assets"] == 9  # still there, as a canonical table


def test_default_catalog_from_pyiceberg_yaml_wins_over_the_embedded_one(
    tmp_path: Path, plate: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYICEBERG_HOME", str(tmp_path))
    (tmp_path / ".pyiceberg.yaml").write_text(
        "default-catalog: lab\n"
        "catalog:\n"
        "  lab:\n"
        "    type: sql\n"
        f"    uri: sqlite:///{tmp_path}/lab.db\n"
        f"    warehouse: {(tmp_path / 'lake').as_uri()}\n"
    )
    assert main(["register", str(plate), "--catalog", "default", "-q"]) == 0
    assert main(["register", str(plate), "--namespace", "again", "-q"]) == 0
    assert not (tmp_path / "home").exists()  # never the embedded one
    lab = SqlCatalog("lab", uri=f"sqlite:///{tmp_path}/lab.db")
    assert sorted(lab.list_tables("images") + lab.list_tables("again")) == [
        ("again", "image_assets"),
        ("images", "image_assets"),
    ]
    capsys.readouterr()
    assert main(["catalog", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["name"] == "lab" and info["properties"]["uri"] == f"sqlite:///{tmp_path}/lab.db"


def test_embedded_catalog_opens_from_pyiceberg_with_the_printed_configuration(
    home: Path, plate: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    from pyiceberg.catalog import load_catalog

    assert main(["catalog", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["exists"] is False and not home.exists()  # info never creates it
    assert main(["register", str(plate), "-q"]) == 0
    client = load_catalog(info["name"], **info["properties"])
    assert client.load_table("images.image_assets").scan().to_arrow().num_rows == 9
