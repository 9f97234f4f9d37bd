"""What we hand over, analysed with the tools people use, as they would call them:
pycytominer (normalize, aggregate, feature_select with default arguments),
CytoDataFrame (finds the images of a TIFF join without extra arguments) and
coSMicQC (find_outliers; its pins clash with ours, so it runs in the side
environment ``.ci/run`` builds and names in ``COSMICQC_PYTHON``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fixtures.profiles import write_cellprofiler_folder
from fixtures.side_envs import run_in_side_env
from iceberg_bioimage.cli import main
from iceberg_bioimage.samples import write_sample_plate, write_sample_profiles

LINKS = ["Metadata_dataset_id", "Metadata_image_id", "Metadata_plate_id", "Metadata_well_id"]
FEATURES = ["Cells_AreaShape_Area", "Cells_Intensity_MeanIntensity_DNA"]


@pytest.fixture
def joined_plate(tmp_path: Path) -> Path:
    """The sample plate joined to its CellProfiler-style table through the CLI."""
    plate = write_sample_plate(tmp_path / "plate.ome.zarr")
    cells = write_sample_profiles(tmp_path / "cells.csv")
    out = tmp_path / "joined.parquet"
    assert main(["join-profiles", str(plate), str(cells), "-o", str(out)]) == 0
    return out


@pytest.fixture
def joined_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A CellProfiler-style TIFF folder joined to its per-image CSV through the CLI."""
    images, csv = write_cellprofiler_folder(tmp_path / "run")
    out = tmp_path / "joined_tiffs.parquet"
    assert main(["join-profiles", str(images), str(csv), "-o", str(out)]) == 0
    return images, out


def test_pycytominer_normalize_keeps_the_image_links(joined_plate: Path) -> None:
    import pycytominer

    profiles = pd.read_parquet(joined_plate)
    normalized = pycytominer.normalize(profiles)
    assert len(normalized) == len(profiles) == 36
    for column in LINKS:
        assert normalized[column].tolist() == profiles[column].tolist()
    for feature in FEATURES:  # standardized over all samples
        assert abs(normalized[feature].mean()) < 1e-9
        assert normalized[feature].std(ddof=0) == pytest.approx(1.0)


def test_pycytominer_aggregate_treats_links_as_metadata(joined_plate: Path) -> None:
    import pycytominer

    profiles = pd.read_parquet(joined_plate)
    wells = pycytominer.aggregate(profiles)  # default strata: plate and well
    assert wells.columns.tolist() == ["Metadata_Plate", "Metadata_Well", *FEATURES]
    expected = profiles.groupby(["Metadata_Plate", "Metadata_Well"])[FEATURES].median()
    assert len(wells) == len(expected) == 6
    got = wells.set_index(["Metadata_Plate", "Metadata_Well"]).loc[expected.index]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy())


def test_pycytominer_feature_select_keeps_the_image_links(joined_plate: Path) -> None:
    import pycytominer

    profiles = pd.read_parquet(joined_plate)
    selected = pycytominer.feature_select(profiles)
    metadata = [c for c in profiles.columns if c.startswith("Metadata_")]
    assert [c for c in selected.columns if c.startswith("Metadata_")] == metadata
    assert selected["Metadata_image_id"].tolist() == profiles["Metadata_image_id"].tolist()


def test_cytodataframe_finds_every_channel_file_without_arguments(
    joined_folder: tuple[Path, Path],
) -> None:
    from cytodataframe import CytoDataFrame

    images, joined = joined_folder
    frame = CytoDataFrame(str(joined))
    columns = frame.find_image_columns()
    channels = {f"Image_FileName_{c}" for c in ("DAPI", "GFP", "RFP")}
    assert channels <= set(columns)
    paths = frame.get_image_paths_from_data(sorted(channels))
    assert sorted(paths.columns) == sorted(c.replace("FileName", "PathName") for c in channels)
    for _, row in pd.DataFrame(frame).iterrows():
        for column in channels:
            folder = row[column.replace("FileName", "PathName")]
            assert Path(folder) == images.resolve()
            assert (Path(folder) / row[column]).is_file()


@pytest.mark.skipif(not os.environ.get("COSMICQC_PYTHON"), reason="COSMICQC_PYTHON is not set")
def test_cosmicqc_find_outliers_returns_linked_rows(joined_plate: Path) -> None:
    code = (
        "import sys, json, cosmicqc, pandas\n"
        "found = cosmicqc.find_outliers(df=sys.argv[1],\n"
        "    metadata_columns=['Metadata_image_id', 'Metadata_dataset_id'],\n"
        "    feature_thresholds={'Cells_AreaShape_Area': 1})\n"
        "print(json.dumps(pandas.DataFrame(found).to_dict('records')))\n"
    )
    outliers = run_in_side_env("COSMICQC_PYTHON", code, str(joined_plate))
    profiles = pd.read_parquet(joined_plate)
    area = profiles["Cells_AreaShape_Area"]
    z = (area - area.mean()) / area.std(ddof=0)
    expected = profiles[z > 1]
    assert len(expected) > 0
    assert sorted(row["Metadata_image_id"] for row in outliers) == sorted(
        expected["Metadata_image_id"]
    )
    assert {row["Metadata_dataset_id"] for row in outliers} == {"plate"}


@pytest.mark.realdata
def test_real_nf1_join_feeds_pycytominer_cytodataframe_and_cosmicqc(
    shared_data: Path, tmp_path: Path
) -> None:
    """The coSMicQC NF1 folder joined through the CLI, then analysed as is."""
    import pycytominer
    from cytodataframe import CytoDataFrame

    base = shared_data / "cosmicqc_nf1_shrunken"
    out = tmp_path / "nf1_joined.parquet"
    table = base / "Plate_2_with_image_data_shrunken.parquet"
    assert main(["join-profiles", str(base / "Plate_2_images"), str(table), "-o", str(out)]) == 0
    profiles = pd.read_parquet(out)
    normalized = pycytominer.normalize(profiles)
    assert normalized["Metadata_image_id"].tolist() == profiles["Image_FileName_DAPI"].tolist()
    assert normalized["Metadata_dataset_id"].tolist() == ["Plate_2_images"] * 5

    frame = CytoDataFrame(str(out))
    for channel in ("DAPI", "GFP", "RFP"):
        assert f"Image_FileName_{channel}" in frame.find_image_columns()
        for folder, name in zip(
            profiles[f"Image_PathName_{channel}"],
            profiles[f"Image_FileName_{channel}"],
            strict=True,
        ):
            assert (Path(folder) / name).is_file()

    if not os.environ.get("COSMICQC_PYTHON"):
        pytest.skip("COSMICQC_PYTHON is not set")
    code = (
        "import sys, json, cosmicqc, pandas\n"
        "found = cosmicqc.label_outliers(df=sys.argv[1])\n"  # its default thresholds
        "print(json.dumps(pandas.DataFrame(found)[['Metadata_image_id']].assign(\n"
        "    n=len(found.columns)).to_dict('records')))\n"
    )
    labelled = run_in_side_env("COSMICQC_PYTHON", code, str(out))
    assert [row["Metadata_image_id"] for row in labelled] == profiles["Metadata_image_id"].tolist()
