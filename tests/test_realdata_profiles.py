"""Real profile tables (../shared/data) validated, joined and exported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import iceberg_bioimage as ib
from iceberg_bioimage.cli import main

pytestmark = pytest.mark.realdata


def test_cosmicqc_nf1_profiles_join_every_row_to_the_tiffs(shared_data: Path) -> None:
    base = shared_data / "cosmicqc_nf1_shrunken"
    result = ib.join_profiles_with_store(
        base / "Plate_2_images", base / "Plate_2_with_image_data_shrunken.parquet"
    )
    report = result.report
    assert report.strategy == "file_name"
    assert report.matched_rows == report.profile_rows == 5 and report.unmatched_images == 0
    table = result.table
    for row in table.select(["Image_FileName_DAPI", "Metadata_image_id"]).to_pylist():
        assert row["Metadata_image_id"] == row["Image_FileName_DAPI"]
    original = pq.read_table(base / "Plate_2_with_image_data_shrunken.parquet")
    assert table.column_names[: original.num_columns] == original.column_names  # first, in order
    # Every channel's file of the field of view, in the folder it was found in
    # (the CellProfiler paths name another machine); every other column untouched.
    folder = os.path.realpath(base / "Plate_2_images")  # ../shared may be a link
    for channel in ("DAPI", "GFP", "RFP"):
        found = {os.path.realpath(p) for p in table.column(f"Image_PathName_{channel}").to_pylist()}
        assert found == {folder}
        for name in table.column(f"Image_FileName_{channel}").to_pylist():
            assert (base / "Plate_2_images" / name).is_file() and channel in name
    kept = [c for c in original.column_names if not c.startswith("Image_PathName_")]
    assert table.select(kept).equals(original.select(kept))


def test_pycytominer_profiles_validate_with_their_keys(shared_data: Path) -> None:
    path = (
        shared_data
        / "pycytominer_testdata"
        / "cytominer_database_example_data"
        / "test_SQ00014613.parquet"
    )
    report = ib.validate_microscopy_profile_table(path)
    columns = {k: r.column for k, r in report.keys.items()}
    assert (
        columns["plate_id"] == "Image_Metadata_Plate"
        and columns["well_id"] == "Image_Metadata_Well"
    )
    assert columns["site_id"] is None and not report.valid  # no site: not joinable to one image
    csv = ib.validate_microscopy_profile_table(path.with_suffix(".csv.gz"))
    assert {k: r.column for k, r in csv.keys.items()} == columns


def test_cellprofiler_sqlite_per_image_validates(shared_data: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "cytotable_nf1_sqlite" / "all_cellprofiler.sqlite"
    report = ib.validate_microscopy_profile_table(path, sqlite_table="Per_Image")
    assert report.strategies == ("plate_well_site", "file_name")
    assert report.missing_required == ["dataset_id"] and not report.valid  # the contract's key
    report = ib.validate_microscopy_profile_table(
        path, sqlite_table="Per_Image", profile_dataset_id="nf1"
    )
    assert report.valid
    assert report.keys["site_id"].column == "Image_Metadata_Site"
    assert main(["validate-contract", str(path)]) == 2  # several tables: one must be named
    assert "Per_Image" in capsys.readouterr().err


def test_load_data_table_validates(shared_data: Path) -> None:
    path = (
        shared_data
        / "pycytominer_testdata"
        / "cell_locations_example_data"
        / "test_BR00126114_load_data_with_illum.parquet"
    )
    report = ib.validate_microscopy_profile_table(path)
    assert report.strategies == ("plate_well_site", "file_name")
    assert report.keys["dataset_id"].column == "Metadata_Source"


@pytest.mark.parametrize("name", ["plate_v04", "plate_v05"])
def test_generated_plates_join_a_cellprofiler_style_table(shared_data: Path, name: str) -> None:
    plate_name = "demo-plate-0.4" if name == "plate_v04" else "demo-plate-0.5"
    wells = [f"{r}{c}" for r in "AB" for c in (1, 2, 3)]
    profiles = pa.table(
        {
            "Metadata_Plate": [plate_name] * 24,
            "Metadata_Well": [w for w in wells for _ in range(4)],
            "Metadata_Site": [s for _ in wells for s in (1, 1, 2, 2)],
            "ObjectNumber": [o for _ in wells for o in (1, 2, 1, 2)],
        }
    )
    result = ib.join_profiles_with_store(
        shared_data / "generated_ome_zarr" / f"{name}.ome.zarr", profiles, profile_dataset_id=name
    )
    assert result.report.matched_rows == 24 and result.report.unmatched_images == 0
    assert result.report.site_offset == 1
    assert result.table.column("Metadata_image_id").to_pylist()[:3] == [
        f"{plate_name}/A01/0"
    ] * 2 + [f"{plate_name}/A01/1"]


def _export_profiles(root: Path, table_name: str, table: Path) -> int:
    """export-cytomining-profiles as a user runs it, for the ExampleHuman dataset."""
    target = ["-w", str(root), "--table-name", table_name, "--profile-dataset-id", "ExampleHuman"]
    return main(["export-cytomining-profiles", *target, str(table), "-q"])


def test_examplehuman_cytomining_workflow(shared_data: Path, tmp_path: Path) -> None:
    """CytoTable warehouse -> export-cytomining-catalog -> pycytominer and coSMicQC tables."""
    catalog = tmp_path / "examplehuman_warehouse"
    shutil.copytree(shared_data / "cytotable_examplehuman_warehouse", catalog)
    root = tmp_path / "warehouse-root"
    assert (
        main(
            [
                "register",
                str(shared_data / "cytotable_examplehuman"),
                "--catalog",
                str(catalog),
                "-q",
            ]
        )
        == 0
    )
    assert (
        main(["export-cytomining-catalog", "--catalog", str(catalog), "-w", str(root), "-q"]) == 0
    )
    pycytominer = (
        shared_data
        / "pycytominer_testdata"
        / "cytominer_database_example_data"
        / "test_SQ00014613.parquet"
    )
    assert _export_profiles(root, "pycytominer_profiles", pycytominer) == 0
    qc = pq.read_table(
        shared_data / "cosmicqc_nf1_shrunken" / "Plate_2_with_image_data_shrunken.parquet"
    )
    flagged = qc.append_column(
        "cqc.large_nuclei.is_outlier", pa.array([False, True, False, False, False])
    )
    qc_path = tmp_path / "cosmicqc_output.parquet"
    pq.write_table(flagged, qc_path)
    assert _export_profiles(root, "cosmicqc_profiles", qc_path) == 0
    warehouse = ib.open_warehouse(root)
    assert warehouse.table_names == [
        "images.image_assets",
        "images.image_crops",
        "images.source_images",
        "profiles.joined_profiles",
        "profiles.pycytominer_profiles",
        "quality_control.cosmicqc_profiles",
    ]
    assert warehouse.entry("profiles.joined_profiles").row_count == 289
    assert warehouse.entry("images.image_crops").row_count == 867
    report = ib.validate_warehouse(root)
    assert report.valid, [str(f) for f in report.findings]
    assert main(["validate-warehouse", str(root), "-q"]) == 0


def test_a_cellprofiler_object_table_says_to_join_its_image_table(
    shared_data: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """CellProfiler's Cells.csv names its images by ImageNumber only: the one
    error line says so and points at the Image table, which joins."""
    base = shared_data / "cytotable_examplehuman"
    out = tmp_path / "joined.parquet"
    assert main(["join-profiles", str(base), str(base / "Cells.csv"), "-o", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 600, lines  # was 4,000 characters
    assert "ImageNumber" in lines[0] and "Image table" in lines[0]
    assert "and 96 more" in lines[0]
    assert not out.exists()
    assert main(["join-profiles", str(base), str(base / "Image.csv"), "-o", str(out)]) == 0
    assert pq.read_table(out).num_rows == 1


def test_per_well_profiles_join_a_one_field_plate_and_name_the_site_for_more(
    shared_data: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """pycytominer's profiles carry plate and well, no site: against a plate
    of one field per well (fractal's) plate and well are the key; against one
    of two fields (yaozarrs') the error names the missing site."""
    fractal = shared_data / "fractal_plate_ones_v04" / "plate_ones.zarr"
    per_well = pa.table({"Image_Metadata_Plate": ["plate_ones"], "Image_Metadata_Well": ["B03"]})
    profiles, out = tmp_path / "wells.parquet", tmp_path / "joined.parquet"
    pq.write_table(per_well, profiles)
    assert main(["join-profiles", str(fractal), str(profiles), "-o", str(out)]) == 0
    assert pq.read_table(out).column("Metadata_image_id").to_pylist() == ["plate_ones/B03/0"]
    capsys.readouterr()
    real = shared_data / "pycytominer_testdata" / "cytominer_database_example_data"
    plate = shared_data / "generated_ome_zarr" / "plate_v05.ome.zarr"
    assert main(["join-profiles", str(plate), str(real / "test_SQ00014613.parquet"),
                 "-o", str(out)]) == 2  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "(Image_Metadata_Plate, Image_Metadata_Well) but no site" in lines[0]
