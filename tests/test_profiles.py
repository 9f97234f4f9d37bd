"""The join contract, aliases, normalisation and joins of profiles to images."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import tifffile

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.profiles import cellprofiler_profiles
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.profiles.contract import resolve_key
from iceberg_bioimage.profiles.normalize import normalize_sites, normalize_wells


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return writers.write_plate(tmp_path / "test_plate.ome.zarr", version="0.4")


@pytest.fixture
def aliases(tmp_path: Path) -> Path:
    path = tmp_path / "aliases.toml"
    path.write_text(
        '[microscopy.aliases]\ndataset_id = ["ProjectID"]\nwell_id = ["WellName"]\n'
        'plate_id = "PlateName"\nsite_id = ["FieldIndex"]\n'
    )
    return path


@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("Metadata_Plate", "plate_id"),
        ("Image_Metadata_Plate", "plate_id"),
        ("Image_Metadata_Plate_x", "plate_id"),
        ("Image_Metadata_Well_y", "well_id"),
        ("Metadata_Field", "site_id"),
        ("Metadata_FOV", "site_id"),
        ("Metadata_dataset_id", "dataset_id"),
        ("Metadata_ImageID", "image_id"),
        ("Metadata_Source", "dataset_id"),
    ],
)
def test_builtin_aliases(column: str, key: str) -> None:
    assert resolve_key(key, [column, "Cells_Area"]).column == column


def test_exact_names_win_over_suffixes() -> None:
    columns = ["Image_Metadata_Plate_y", "Image_Metadata_Plate_x", "Metadata_Plate"]
    assert resolve_key("plate_id", columns).column == "Metadata_Plate"
    assert resolve_key("plate_id", columns[:2]).column == "Image_Metadata_Plate_x"


def test_normalisation() -> None:
    wells = normalize_wells(pa.array(["B03", "B3", "b03", "B/3", "B_03", "field", None]))
    assert wells.to_pylist() == ["B03"] * 5 + [None, None]
    assert normalize_sites(pa.array(["3", " 3 ", "3.0", "x"])).to_pylist() == [3, 3, 3, None]
    assert normalize_sites(pa.array([1.0, 2.5])).to_pylist() == [1, None]


def test_validate_contract_reports_keys_and_strategies(
    tmp_path: Path, aliases: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"ProjectID": ["x"], "PlateName": ["p"], "WellName": ["A1"], "FieldIndex": [0]}),
        table,
    )
    assert main(["validate-contract", str(table), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["keys"]["plate_id"]["column"] is None
    assert "none of plate_id, Metadata_Plate" in report["keys"]["plate_id"]["reason"]
    assert main(["validate-contract", str(table), "--aliases", str(aliases), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["strategies"] == ["plate_well_site"]
    assert {k: v["column"] for k, v in report["keys"].items()} == {
        "dataset_id": "ProjectID",
        "image_id": None,
        "plate_id": "PlateName",
        "well_id": "WellName",
        "site_id": "FieldIndex",
    }
    assert report["missing_required"] == []  # image_id derived from plate, well and site
    assert report["required"] == {
        "dataset_id": "column ProjectID",
        "image_id": "derived from plate, well and site",
    }


def test_validate_contract_gives_one_verdict(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "cells.parquet"
    pq.write_table(cellprofiler_profiles(), table)
    assert main(["validate-contract", str(table)]) == 1  # no dataset_id: the contract requires it
    out = capsys.readouterr()
    assert "required    dataset_id  MISSING" in out.out
    assert out.out.strip().splitlines()[-1] == (
        "invalid: missing dataset_id (pass --profile-dataset-id or add a dataset_id column)"
    )
    assert main(["validate-contract", str(table), "--profile-dataset-id", "exp1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "required    dataset_id  --profile-dataset-id exp1" in lines
    assert "required    image_id    derived from plate, well and site" in lines
    assert lines[-1] == "valid: join by plate_well_site"


def test_validate_contract_unreadable_is_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["validate-contract", str(tmp_path / "missing.parquet")]) == 2
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert main(["validate-contract", str(tmp_path / "bad.parquet")]) == 2
    (tmp_path / "bad.toml").write_text("[microscopy")
    assert (
        main(
            [
                "validate-contract",
                str(tmp_path / "bad.parquet"),
                "--aliases",
                str(tmp_path / "bad.toml"),
            ]
        )
        == 2
    )
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 3


def test_join_by_plate_well_site_with_cellprofiler_sites(plate: Path) -> None:
    result = ib.join_profiles_with_store(
        plate, cellprofiler_profiles(), profile_dataset_id="test_plate"
    )
    report = result.report
    assert (report.strategy, report.site_offset) == ("plate_well_site", 1)
    assert (report.profile_rows, report.matched_rows, report.unmatched_profile_rows) == (12, 12, 0)
    assert report.unmatched_images == 12 - 6
    table = result.table
    assert (
        table.column_names[:5] == cellprofiler_profiles().column_names
    )  # profile columns first, untouched
    assert (
        table.column("Metadata_image_id").to_pylist()[:4]
        == ["test-plate/A01/0"] * 2 + ["test-plate/A01/1"] * 2
    )
    assert table.column("Metadata_image_assets_uri").to_pylist()[0] == plate.resolve().as_uri()


def test_left_keeps_and_inner_drops_unmatched_rows(plate: Path) -> None:
    profiles = cellprofiler_profiles(rows=("A1", "H12"))
    left = ib.join_profiles_with_store(plate, profiles, how="left")
    assert left.table.num_rows == 8 and left.report.unmatched_profile_rows == 4
    assert left.table.column("Metadata_image_id").null_count == 4
    inner = ib.join_profiles_with_store(plate, profiles, how="inner")
    assert inner.table.num_rows == 4 and inner.report.dropped_rows == 4


def test_profile_rows_are_never_multiplied(plate: Path) -> None:
    # labels share plate/well/site with their image; a plain join would double those rows
    result = ib.join_profiles_with_store(plate, cellprofiler_profiles(rows=("A1",)))
    assert result.table.num_rows == 4
    assert set(result.table.column("Metadata_image_assets_image_kind").to_pylist()) == {"image"}


def test_join_by_image_id_and_struct_columns_untouched(plate: Path) -> None:
    crop = pa.array([{"x": 1, "pixels": [1, 2]}, {"x": 2, "pixels": [3]}])
    profiles = pa.table(
        {
            "dataset_id": ["test_plate", "test_plate"],
            "image_id": ["test-plate/B02/1", "nope"],
            "ome_arrow": crop,
        }
    )
    result = ib.join_profiles_with_store(plate, profiles)
    assert result.report.strategy == "image_id" and result.report.matched_rows == 1
    assert result.table.column("ome_arrow").to_pylist() == crop.to_pylist()
    assert result.table.column("Metadata_image_assets_well_id").to_pylist() == ["B02", None]


def test_join_by_file_names_with_some_channels_missing(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for site in (1, 2):
        for channel in ("DAPI", "GFP"):
            tifffile.imwrite(folder / f"r01c01f0{site}_{channel}.tif", [[0]])
    profiles = pa.table(
        {
            "Image_FileName_DAPI": ["r01c01f01_DAPI.tif", "missing.tif", "r01c01f02_DAPI.tif"],
            "Image_FileName_GFP": ["r01c01f01_GFP.tif", "r01c01f02_GFP.tif", None],
            "Image_PathName_DAPI": ["/old/machine/images", "/old/machine/images", "/x/images"],
        }
    )
    result = ib.join_profiles_with_store(folder, profiles)
    assert result.report.strategy == "file_name"
    assert result.report.matched_rows == 3 and result.report.unmatched_images == 0
    assert result.table.column("Metadata_image_id").to_pylist() == [
        "r01c01f01_DAPI.tif",
        "r01c01f02_GFP.tif",
        "r01c01f02_DAPI.tif",
    ]


def test_custom_aliases_work_in_joins_and_exports(
    plate: Path, aliases: Path, tmp_path: Path
) -> None:
    profiles = pa.table(
        {
            "ProjectID": ["test_plate"],
            "PlateName": ["test-plate"],
            "WellName": ["b2"],
            "FieldIndex": [1],
            "ObjectNumber": [1],
        }
    )
    result = ib.join_profiles_with_store(plate, profiles, alias_map=aliases)
    assert result.report.keys == {
        "dataset_id": "ProjectID",
        "plate_id": "PlateName",
        "well_id": "WellName",
        "site_id": "FieldIndex",
    }
    assert result.table.column("Metadata_image_id").to_pylist() == [
        "test-plate/B02/1"
    ]  # ambiguous: as written
    root = tmp_path / "wh"
    exported = ib.export_profiles_to_cytomining_warehouse(
        profiles, root, table_name="custom", alias_map=aliases
    )
    entry = ib.open_warehouse(root).entry("profiles.custom")
    assert exported.tables == {"profiles.custom": 1}
    assert set(entry.join_keys) == {"ProjectID", "PlateName", "WellName", "FieldIndex"}
    assert ib.load_profile_column_aliases(aliases)["plate_id"] == ["PlateName"]
    with pytest.raises(InputError, match="unknown key"):
        bad = tmp_path / "bad.toml"
        bad.write_text('[microscopy.aliases]\nsomething = ["x"]\n')
        ib.load_profile_column_aliases(bad)


def test_cli_join_profiles(plate: Path, tmp_path: Path, aliases: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    profiles = tmp_path / "cells.csv"
    pa_csv.write_csv(cellprofiler_profiles(rows=("A1", "Z9")), profiles)
    out = tmp_path / "joined.parquet"
    assert (
        main(
            ["join-profiles", str(plate), str(profiles), "-o", str(out), "--how", "inner", "--json"]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert (report["matched_rows"], report["dropped_rows"], report["strategy"]) == (
        4,
        4,
        "plate_well_site",
    )
    assert pq.read_table(out).num_rows == 4
    assert main(["join-profiles", str(plate), str(tmp_path / "none.csv"), "-o", str(out)]) == 2


def test_profiles_without_any_join_key(plate: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    keyless = pa.table({"x": [1, 2], "y": [3.0, 4.0]})
    result = ib.join_profiles_with_store(plate, keyless)
    assert result.report.strategy is None and result.report.matched_rows == 0
    assert result.report.unmatched_images == result.report.image_rows > 0
    assert (
        result.report.warnings[-1].startswith("no join key")
        and "x, y" in result.report.warnings[-1]
    )
    profiles, out = tmp_path / "keyless.parquet", tmp_path / "joined.parquet"
    pq.write_table(keyless, profiles)
    assert main(["join-profiles", str(plate), str(profiles), "-o", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {profiles}: no join key")
    assert not out.exists()
    root = tmp_path / "wh"
    with pytest.raises(InputError, match="profiles: no join key"):
        ib.export_store_to_cytomining_warehouse(plate, root, profiles=keyless)
    assert not root.exists()


def test_join_catalog_image_assets_with_profiles(plate: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    ib.register_store(plate)
    result = ib.join_catalog_image_assets_with_profiles(
        None, cellprofiler_profiles(), profile_dataset_id="test_plate"
    )
    assert result.report.matched_rows == 12


def test_chunk_level_join_is_explicit(plate: Path) -> None:
    result = ib.scan_store(plate)
    joined = ib.join_profiles_with_scan_result(
        result, cellprofiler_profiles(rows=("A1",)), profile_dataset_id="test_plate"
    ).table
    chunks = ib.chunk_index_table(result)
    per_chunk = ib.join_profiles_with_chunk_index(joined, chunks)
    level0 = chunks.filter(pa.compute.equal(chunks.column("level"), 0))
    per_image = {}
    for row in level0.select(["image_id"]).to_pylist():
        per_image[row["image_id"]] = per_image.get(row["image_id"], 0) + 1
    expected = sum(per_image[i] for i in joined.column("Metadata_image_id").to_pylist())
    assert per_chunk.num_rows == expected  # multiplied on purpose, and only here
    assert (
        "chunk_storage_key" in per_chunk.column_names
        and "Cells_AreaShape_Area" in per_chunk.column_names
    )
    with pytest.raises(InputError, match="join them to images first"):
        ib.join_profiles_with_chunk_index(cellprofiler_profiles(), chunks)


def test_well_level_profiles_join_on_plate_and_well_when_a_well_has_one_image(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Aggregated (per-well) profiles carry plate and well but no site: they
    join when each well holds one image, and when a well holds several the
    one error line says the site is what is missing (a key must name one image)."""
    one = writers.write_plate(tmp_path / "one.ome.zarr", fields=1, label_wells=())
    wells = ["A01", "B03", "C09"]
    per_well = pa.table({"Metadata_Plate": ["test-plate"] * 3, "Metadata_Well": wells,
                         "Cells_Intensity": [1.0, 2.0, 3.0]})  # fmt: skip
    profiles, out = tmp_path / "wells.parquet", tmp_path / "joined.parquet"
    pq.write_table(per_well, profiles)
    assert main(["join-profiles", str(one), str(profiles), "-o", str(out)]) == 0
    joined = pq.read_table(out).to_pylist()
    assert [r["Metadata_image_id"] for r in joined] == [
        "test-plate/A01/0",
        "test-plate/B03/0",
        None,
    ]
    assert [r["Cells_Intensity"] for r in joined] == [1.0, 2.0, 3.0]
    capsys.readouterr()
    two = writers.write_plate(tmp_path / "two.ome.zarr", fields=2, label_wells=())
    assert main(["join-profiles", str(two), str(profiles), "-o", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no join key" in lines[0]
    assert "plate and well found (Metadata_Plate, Metadata_Well) but no site" in lines[0]
