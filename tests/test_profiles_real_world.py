"""Joins as real profiling data needs them: a CellProfiler-style TIFF folder
with several channel files per site, joined tables every reader takes as they
are, link columns profiling tools keep, and exports that refuse to commit a
join that matched nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import iceberg_bioimage as ib
from fixtures.profiles import write_cellprofiler_folder
from iceberg_bioimage.cli import main
from iceberg_bioimage.samples import write_sample_plate, write_sample_profiles


@pytest.fixture
def experiment(tmp_path: Path) -> tuple[Path, Path]:
    return write_cellprofiler_folder(tmp_path / "run")


def test_every_channel_file_of_the_field_of_view_is_kept(experiment) -> None:  # type: ignore[no-untyped-def]
    images, csv = experiment
    result = ib.join_profiles_with_store(images, csv)
    assert result.report.strategy == "file_name"
    assert (result.report.matched_rows, result.report.unmatched_images) == (4, 0)
    rows = result.table.to_pylist()
    folder = str(images.resolve())
    for row in rows:
        for index, channel in enumerate(("DAPI", "GFP", "RFP")):
            name = f"B02_s{row['Metadata_Site']}_w{index + 1}_{channel}.tif"
            assert row[f"Image_FileName_{channel}"] == name
            assert row[f"Image_PathName_{channel}"] == folder  # where it is, not where it was
            assert (Path(row[f"Image_PathName_{channel}"]) / name).is_file()
        assert row["Metadata_image_id"] == f"B02_s{row['Metadata_Site']}_w1_DAPI.tif"
        assert row["Metadata_dataset_id"] == "images"


def test_the_cli_writes_a_joined_folder_of_tiffs_pandas_reads(experiment, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    images, csv = experiment
    out = tmp_path / "joined.parquet"
    assert main(["join-profiles", str(images), str(csv), "-o", str(out)]) == 0
    frame = pq.read_table(out).to_pandas()
    assert len(frame) == 4
    assert sorted(frame["Image_FileName_RFP"].unique()) == [
        "B02_s1_w3_RFP.tif",
        "B02_s2_w3_RFP.tif",
    ]
    assert frame["Metadata_image_assets_uri"].str.startswith("file://").all()


def test_joined_tables_are_plain_valid_arrow(tmp_path: Path) -> None:
    plate = write_sample_plate(tmp_path / "demo-plate.ome.zarr")
    cells = write_sample_profiles(tmp_path / "cells.csv")
    table = ib.join_profiles_with_store(plate, cells).table
    assert not any(pa.types.is_dictionary(f.type) for f in table.schema)
    wells = table.column("Metadata_image_assets_well_id")
    assert len(pa.compute.unique(wells)) == 6
    assert table.group_by("Metadata_image_assets_well_id").aggregate([]).num_rows == 6
    frame = table.to_pandas()
    assert frame["Metadata_image_assets_well_id"].nunique() == 6
    path = tmp_path / "joined.parquet"
    pq.write_table(table, path)
    assert pq.read_table(path).equals(table)
    import duckdb

    wells_sql = duckdb.sql(
        f"SELECT count(DISTINCT Metadata_image_assets_well_id) FROM '{path}'"
    ).fetchall()
    assert wells_sql == [(6,)]


def test_an_export_that_matches_nothing_commits_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = write_sample_plate(tmp_path / "demo-plate.ome.zarr")
    cells = write_sample_profiles(tmp_path / "cells.csv")
    root = tmp_path / "wh"
    args = ["export-cytomining", "-w", str(root), "--profiles", str(cells), str(plate)]
    assert main([*args, "--profile-dataset-id", "WRONG"]) == 1
    message = capsys.readouterr().err.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("error: no profile row matched an image")
    assert "Metadata_Plate, Metadata_Well, Metadata_Site" in message[0]
    assert "image dataset ids: demo-plate" in message[0] and "'WRONG'" in message[0]
    assert not root.exists()
    with pytest.raises(ib.UnmatchedProfilesError):
        ib.export_store_to_cytomining_warehouse(
            plate, root, profiles=cells, profile_dataset_id="WRONG"
        )
    assert main([*args, "--profile-dataset-id", "WRONG", "--keep-unmatched"]) == 0
    assert ib.validate_warehouse(root).valid  # kept rows still identify their objects
    capsys.readouterr()
    assert main([*args, "--profile-dataset-id", "demo-plate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["join"]["matched_rows"] == 36


def test_an_in_memory_join_that_matches_nothing_says_so(tmp_path: Path) -> None:
    plate = write_sample_plate(tmp_path / "demo-plate.ome.zarr")
    cells = write_sample_profiles(tmp_path / "cells.csv")
    result = ib.join_profiles_with_store(plate, cells, profile_dataset_id="WRONG")
    assert result.report.matched_rows == 0 and result.table.num_rows == 36
    assert any(w.startswith("NO profile row matched an image") for w in result.report.warnings)


def test_a_chunk_join_over_images_without_chunks_is_empty_not_a_crash(
    experiment, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    images, csv = experiment  # striped TIFFs: no chunk index rows
    out = tmp_path / "per_chunk.parquet"
    assert main(["join-profiles", str(images), str(csv), "-o", str(out), "--include-chunks"]) == 0
    written = pq.read_table(out)
    assert written.num_rows == 0 and "Metadata_image_id" in written.column_names


def test_a_chunk_join_of_rows_that_matched_no_image_is_empty(tmp_path: Path) -> None:
    plate = write_sample_plate(tmp_path / "plate.ome.zarr")
    cells = tmp_path / "other.csv"
    cells.write_text("Metadata_Plate,Metadata_Well,Metadata_Site,ObjectNumber\nzz,H12,1,1\n")
    out = tmp_path / "per_chunk.parquet"
    assert main(["join-profiles", str(plate), str(cells), "-o", str(out), "--include-chunks"]) == 0
    assert pq.read_table(out).num_rows == 0
