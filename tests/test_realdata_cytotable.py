"""The real CytoTable 1.2.6 Iceberg warehouse (ExampleHuman) in ../shared/data.

It was written under /data/cytotable/..., so opening a copy also proves that a
moved warehouse still opens. When CYTOTABLE_PYTHON names an interpreter with
CytoTable installed (CI sets one up; CytoTable 1.2.6 needs pyiceberg < 0.12),
CytoTable's own readers must list and read the tables we ingest.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import iceberg_bioimage as ib
from fixtures.side_envs import run_in_side_env
from fixtures.writers import write_plate
from iceberg_bioimage.cli import main

pytestmark = pytest.mark.realdata


@pytest.fixture
def warehouse(shared_data: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "examplehuman_warehouse"
    shutil.copytree(shared_data / "cytotable_examplehuman_warehouse", copy)
    return copy


def test_moved_warehouse_opens_and_reads(warehouse: Path) -> None:
    assert ib.list_catalog_tables(warehouse) == [
        "images.image_crops",
        "images.source_images",
        "profiles.joined_profiles",
    ]
    counts = {
        t: ib.catalog_table_to_arrow(warehouse, t).num_rows
        for t in ib.list_catalog_tables(warehouse)
    }
    assert counts == {
        "images.image_crops": 867,
        "images.source_images": 3,
        "profiles.joined_profiles": 289,
    }
    crops = ib.catalog_table_to_arrow(warehouse, "images.image_crops")
    assert any(str(t).startswith("struct") for t in crops.schema.types)  # OME-Arrow payloads


def test_ingest_into_the_warehouse_registers_tables(warehouse: Path, shared_data: Path) -> None:
    assert (
        main(
            [
                "register",
                str(shared_data / "cytotable_examplehuman"),
                "--catalog",
                str(warehouse),
                "--publish-chunks",
                "-q",
            ]
        )
        == 0
    )
    registry = json.loads((warehouse / "warehouse" / "catalog.json").read_text())
    assert {"images.image_assets", "images.chunk_index"} <= set(registry["tables"])
    assert registry["views"]["profiles.profile_with_images"]["kind"] == "profile_with_images"
    location = registry["tables"]["images.image_assets"]
    assert location.startswith(warehouse.resolve().as_uri())
    assets = ib.catalog_table_to_arrow(warehouse, "images.image_assets")
    assert assets.num_rows == 3 and set(assets.column("dataset_id").to_pylist()) == {
        "cytotable_examplehuman"
    }
    assert ib.catalog_table_to_arrow(warehouse, "profiles.joined_profiles").num_rows == 289


@pytest.mark.skipif(not os.environ.get("CYTOTABLE_PYTHON"), reason="CYTOTABLE_PYTHON is not set")
def test_cytotable_reads_what_we_ingest(warehouse: Path, tmp_path: Path) -> None:
    store = tmp_path / "plate.ome.zarr"
    write_plate(store, version="0.5", rows="A", columns=("1",), fields=2)
    ib.register_store(store, warehouse, publish_chunks=True)
    code = (
        "import sys, json, cytotable\n"
        "names = cytotable.list_iceberg_tables(sys.argv[1])\n"
        "assets = cytotable.read_iceberg_table(sys.argv[1], 'images.image_assets')\n"
        "chunks = cytotable.read_iceberg_table(sys.argv[1], 'images.chunk_index')\n"
        "seen = {'names': names, 'assets': sorted(assets['image_id']), 'chunks': len(chunks)}\n"
        "print(json.dumps(seen))\n"
    )
    seen = run_in_side_env("CYTOTABLE_PYTHON", code, str(warehouse))
    assert {"images.image_assets", "images.chunk_index"} <= set(seen["names"])
    assert seen["assets"] == sorted(
        ib.catalog_table_to_arrow(warehouse, "images.image_assets").column("image_id").to_pylist()
    )
    assert seen["chunks"] == ib.catalog_table_to_arrow(warehouse, "images.chunk_index").num_rows > 0


def test_seed_export_with_examplehuman_profiles_through_the_cli(
    warehouse: Path, shared_data: Path, tmp_path: Path
) -> None:
    """001's workflow on the real data: register the ExampleHuman TIFFs into
    CytoTable's warehouse, then export-cytomining-catalog with CytoTable's own
    joined profiles and ``--profile-dataset-id ExampleHuman``."""
    import duckdb
    import pyarrow.parquet as pq

    images = shared_data / "cytotable_examplehuman"
    catalog = ["--catalog", str(warehouse)]
    assert main(["register", str(images), *catalog, "--dataset-id", "ExampleHuman", "-q"]) == 0
    profiles = tmp_path / "examplehuman_profiles.parquet"
    pq.write_table(ib.catalog_table_to_arrow(warehouse, "profiles.joined_profiles"), profiles)
    root = tmp_path / "warehouse-root"
    export = ["export-cytomining-catalog", *catalog, "--warehouse-root", str(root)]
    profile_args = ["--profiles", str(profiles), "--profile-dataset-id", "ExampleHuman"]
    assert main([*export, *profile_args]) == 0
    assert main(["validate-warehouse", str(root)]) == 0
    rows = duckdb.sql(
        "select count(*), count(distinct Metadata_image_id), min(Metadata_dataset_id), "
        "min(Image_PathName_DNA) "
        f"from read_parquet('{root}/profiles/joined_profiles/*.parquet')"
    ).fetchall()
    assert rows[0][:3] == (289, 1, "ExampleHuman")
    assert os.path.realpath(rows[0][3]) == os.path.realpath(images)  # ../shared may be a link

    # Profiles of another dataset match no image: nothing is committed, exit 1.
    again = tmp_path / "again"
    wrong = ["--profiles", str(profiles), "--profile-dataset-id", "OtherExperiment"]
    assert main([*export[:-1], str(again), *wrong]) == 1
    assert not (again / "warehouse_manifest.json").exists()
