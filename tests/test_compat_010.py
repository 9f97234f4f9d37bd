"""Code written for iceberg-bioimage 0.1.0 keeps working: its top-level names
and module paths import, its call forms (positional namespace, old keywords,
old argument orders) run against real catalogs and warehouse roots, its result
attributes and methods answer, and its CLI flags are accepted. Signatures were
read from the 0.1.0 package itself."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.profiles import cellprofiler_profiles
from iceberg_bioimage.cli import main

NAMES_010 = [
    "CatalogScanOptions", "ContractValidationResult", "CytominingWarehouseResult",
    "DatasetSummary", "ImageAsset", "RegistrationResult", "ScanResult",
    "WarehouseIngestResult", "WarehouseManifest", "WarehouseTableManifestEntry",
    "WarehouseValidationResult", "catalog_table_to_arrow", "create_duckdb_connection",
    "create_ome_arrow", "create_ome_arrow_from_tiff", "create_ome_arrow_from_zarr",
    "deregister_store", "export_catalog_to_cytomining_warehouse",
    "export_profiles_to_cytomining_warehouse", "export_scan_result_to_cytomining_warehouse",
    "export_store_to_cytomining_warehouse", "export_table_to_cytomining_warehouse",
    "ingest_scan_results_to_warehouse", "ingest_stores_to_warehouse",
    "join_catalog_image_assets_with_profiles", "join_image_assets_with_profiles",
    "join_profiles_with_scan_result", "join_profiles_with_store", "list_catalog_tables",
    "load_catalog_table", "load_profile_column_aliases", "load_warehouse_manifest",
    "open_ome_arrow_dataset", "publish_chunk_index", "publish_image_assets",
    "query_metadata_table", "register_directory", "register_profile_table", "register_store",
    "scan_as_arrow_table", "scan_ome_arrow", "scan_result_as_arrow_table", "scan_store",
    "summarize_scan_result", "summarize_store", "validate_microscopy_profile_columns",
    "validate_microscopy_profile_table", "validate_warehouse_manifest", "write_ome_arrow_dataset",
]  # fmt: skip

MODULES_010 = {
    "iceberg_bioimage.models.scan_result": ["RegistrationResult", "ContractValidationResult",
                                            "WarehouseManifest", "ScanResult", "ImageAsset"],
    "iceberg_bioimage.models": ["RegistrationResult", "ContractValidationResult", "ScanResult"],
    "iceberg_bioimage.publishing": ["publish_image_assets", "scan_result_to_rows",
                                    "scan_result_to_chunk_rows"],
    "iceberg_bioimage.publishing.image_assets": ["publish_image_assets", "scan_result_to_rows",
                                                 "publish_profile_table",
                                                 "delete_dataset_image_assets"],
    "iceberg_bioimage.publishing.chunk_index": ["publish_chunk_index", "scan_result_to_chunk_rows",
                                                "delete_dataset_chunk_index"],
    "iceberg_bioimage.validation.contracts": ["validate_scan_result", "validate_warehouse_manifest",
                                              "resolve_microscopy_profile_columns",
                                              "profile_column_aliases",
                                              "raise_for_invalid_scan_result"],
    "iceberg_bioimage.integrations": ["CatalogScanOptions", "export_table_to_cytomining_warehouse"],
    "iceberg_bioimage.integrations.catalog": ["CatalogScanOptions", "load_catalog_table"],
    "iceberg_bioimage.integrations.cytomining": ["export_store_to_cytomining_warehouse",
                                                 "load_warehouse_manifest"],
    "iceberg_bioimage.integrations.duckdb": ["create_duckdb_connection", "query_metadata_table"],
    "iceberg_bioimage.integrations.ome_arrow": ["create_ome_arrow_from_zarr",
                                                "open_ome_arrow_dataset"],
}  # fmt: skip


@pytest.fixture
def catalog(tmp_path: Path) -> SqlCatalog:
    return SqlCatalog(
        "lab", uri=f"sqlite:///{tmp_path}/lab.db", warehouse=(tmp_path / "wh").as_uri()
    )


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return writers.write_plate(tmp_path / "plate.ome.zarr", version="0.5", columns=("1", "2"))


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    path = tmp_path / "cells.parquet"
    pq.write_table(cellprofiler_profiles(rows=("A1", "A2"), sites=(1,)), path)
    return path


def test_every_010_name_and_module_path_imports() -> None:
    assert [name for name in NAMES_010 if not hasattr(ib, name)] == []
    for module, names in MODULES_010.items():
        loaded = importlib.import_module(module)
        assert [n for n in names if not hasattr(loaded, n)] == [], module


def test_register_store_positional_namespace_publishes_chunks_as_010_did(
    catalog: SqlCatalog, plate: Path
) -> None:
    with pytest.warns(DeprecationWarning, match="publishes the chunk index"):
        result = ib.register_store(str(plate), catalog, "bioimage")
    assert isinstance(result, ib.RegistrationResult)
    assert result.source_uri == plate.resolve().as_uri()
    assert result.image_assets_rows_published == 9
    assert (
        result.chunk_rows_published
        == ib.catalog_table_to_arrow(catalog, "bioimage.chunk_index").num_rows
        > 0
    )
    data = json.loads(result.to_json(indent=None, sort_keys=True))
    assert data["image_assets_rows_published"] == 9 and data["catalog"] == "catalog 'lab'"
    # chunk_index_table=None: image rows only, and no warning
    again = ib.register_store(str(plate), catalog, "other", chunk_index_table=None)
    assert again.chunk_rows_published == 0 and again.image_assets_rows_published == 9
    assert ib.list_catalog_tables(catalog, "other") == ["other.image_assets"]
    with pytest.raises(ib.InputError, match="canonical names"):
        ib.register_store(str(plate), catalog, "bioimage", image_assets_table="assets")


def test_ingest_publish_and_read_in_010_forms(catalog: SqlCatalog, plate: Path) -> None:
    scan = ib.scan_store(str(plate))
    assert scan.source_uri == scan.uri
    with pytest.warns(DeprecationWarning):
        ingested = ib.ingest_scan_results_to_warehouse([scan], catalog, "bio")
    assert isinstance(ingested, ib.WarehouseIngestResult)
    assert (ingested.dataset_count, ingested.image_assets_rows_published) == (1, 9)
    assert ingested.chunk_rows_published > 0
    published = ib.publish_image_assets(catalog, "bio2", "image_assets", scan)
    assert int(published) == 9
    assert int(ib.publish_chunk_index(catalog, "bio2", "chunk_index", scan)) == (
        ingested.chunk_rows_published
    )
    table = ib.load_catalog_table(catalog, "bio2", "image_assets")
    assert table.scan().to_arrow().num_rows == 9
    options = ib.CatalogScanOptions(columns=["image_id", "well_id"], where="well_id = 'A01'")
    rows = ib.catalog_table_to_arrow(catalog, "bio2", "image_assets", scan_options=options)
    assert rows.column_names == ["image_id", "well_id"]
    assert set(rows.column("well_id").to_pylist()) == {"A01"}


def test_joins_return_what_a_010_table_caller_uses(plate: Path, profiles: Path) -> None:
    joined = ib.join_profiles_with_store(str(plate), str(profiles))
    assert joined.num_rows == 4 and len(joined) == 4
    assert joined.to_pandas()["Metadata_image_id"].notna().all()
    assert pa.table(joined).num_rows == 4  # the Arrow stream protocol
    with_chunks = ib.join_profiles_with_store(str(plate), str(profiles), include_chunks=True)
    chunks = ib.chunk_index_table(ib.scan_store(str(plate)))
    per_image = chunks.group_by("image_id").aggregate([([], "count_all")])
    counts = dict(zip(*per_image.to_pydict().values(), strict=True))
    expected = sum(counts[i] for i in joined.column("Metadata_image_id").to_pylist())
    assert with_chunks.num_rows == expected


def test_contract_and_warehouse_results_in_010_terms(
    tmp_path: Path, plate: Path, profiles: Path
) -> None:
    report = ib.validate_microscopy_profile_columns(
        ["Metadata_Plate", "Metadata_Well"], target="profile_table"
    )
    assert isinstance(report, ib.ContractValidationResult)
    assert report.is_valid is False
    assert report.missing_required_columns == ["dataset_id", "image_id"]
    assert report.missing_recommended_columns == ["site_id"]
    assert report.present_columns == ["Metadata_Plate", "Metadata_Well"]
    assert json.loads(report.to_json())["is_valid"] is False

    root = tmp_path / "root"
    result = ib.export_store_to_cytomining_warehouse(
        str(plate),
        root,
        profiles=str(profiles),
        profile_dataset_id="plate",
        image_assets_table_name="images.image_assets",
        joined_table_name="profiles.joined_profiles",
    )
    assert isinstance(result, ib.CytominingWarehouseResult)
    assert result.row_counts["profiles.joined_profiles"] == 4
    assert "images.image_assets" in result.tables_written
    with pytest.raises(ib.InputError, match="canonical names"):
        ib.export_store_to_cytomining_warehouse(str(plate), root, image_assets_table_name="x.y")
    added = ib.export_table_to_cytomining_warehouse(
        pa.table({"dataset_id": ["plate"], "image_id": ["i"], "x": [1.0]}),
        root,
        table_name="extra",
        role="annotations",
        default_namespace="profiles",
    )
    assert added.tables_written == ["profiles.extra"]
    validation = ib.validate_warehouse_manifest(root / "warehouse_manifest.json")
    assert isinstance(validation, ib.WarehouseValidationResult) and validation.is_valid
    manifest = ib.load_warehouse_manifest(root / "warehouse_manifest.json")
    assert isinstance(manifest, ib.WarehouseManifest)
    listed = json.loads(manifest.to_json(sort_keys=True))["tables"]
    assert "profiles.extra" in [t["table_name"] for t in listed]


def test_duckdb_and_helper_forms(plate: Path, catalog: SqlCatalog, profiles: Path) -> None:
    connection = ib.create_duckdb_connection(":memory:")
    assert connection.sql("select 42").fetchall() == [(42,)]
    assets = ib.scan_as_arrow_table(str(plate))
    chosen = ib.query_metadata_table(
        assets, columns=["image_id"], filters=[("well_id", "=", "A01"), ("site_id", "IS NOT", None)]
    )
    assert chosen.column_names == ["image_id"] and chosen.num_rows == 3
    with pytest.raises(ib.InputError, match="operator"):
        ib.query_metadata_table(assets, filters=[("well_id", "LIKE", "A%")])

    from iceberg_bioimage.publishing import scan_result_to_chunk_rows, scan_result_to_rows
    from iceberg_bioimage.validation.contracts import resolve_microscopy_profile_columns

    scan = ib.scan_store(str(plate))
    assert len(scan_result_to_rows(scan)) == 9 and len(scan_result_to_chunk_rows(scan)) > 0
    assert resolve_microscopy_profile_columns(["Metadata_Well", "x"])["well_id"] == (
        "Metadata_Well"
    )
    written = ib.register_profile_table(str(profiles), catalog, "profiles")
    assert int(written) == 4
    assert ib.list_catalog_tables(catalog, "profiles") == ["profiles.profiles"]


def test_010_cli_flags(tmp_path: Path, plate: Path, profiles: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    register = ["register", str(plate), "--namespace", "bio", "--table-name", "image_assets"]
    assert main([*register, "--publish-chunks", "--chunk-table-name", "chunk_index", "-q"]) == 0
    assert (
        main(["publish-chunks", str(plate), "--namespace", "bio", "--table-name", "chunk_index"])
        == 0
    )
    assert main([*register[:-1], "assets"]) == 2  # a table we do not write: refused
    # ingest publishes the chunk index unless --skip-chunks, as 0.1.0's did
    assert main(["ingest", str(plate), "--namespace", "ing", "-q"]) == 0
    assert "ing.chunk_index" in ib.list_catalog_tables(None, "ing")
    assert main(["ingest", str(plate), "--namespace", "skip", "--skip-chunks", "-q"]) == 0
    assert ib.list_catalog_tables(None, "skip") == ["skip.image_assets"]
    root = tmp_path / "root"
    assert (
        main(["export-cytomining", "--warehouse-root", str(root), "--skip-chunks", str(plate)]) == 0
    )
    assert not (root / "images" / "chunk_index").exists()
    export = ["export-cytomining-catalog", "--namespace", "bio", "--warehouse-root", str(root)]
    tables = [
        "--image-assets-table",
        "images.image_assets",
        "--chunk-index-table",
        "images.chunk_index",
    ]
    assert main([*export, *tables]) == 0
    assert (root / "images" / "chunk_index").is_dir()
    out = tmp_path / "joined_chunks.parquet"
    join = ["join-profiles", str(plate), str(profiles), "--output", str(out), "--include-chunks"]
    assert main([*join, "--profile-dataset-id", "plate"]) == 0
    joined = pq.read_table(out)
    assert joined.num_rows > 4 and "chunk_storage_key" in joined.column_names
