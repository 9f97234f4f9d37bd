"""Real OME-Zarr and Zarr stores written by other tools (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iceberg_bioimage import scan_store
from iceberg_bioimage.cli import main
from iceberg_bioimage.scan import scan_directory

pytestmark = pytest.mark.realdata


def test_fractal_plate(shared_data: Path) -> None:
    result = scan_store(shared_data / "fractal_plate_ones_v04" / "plate_ones.zarr")
    assert result.warnings == ()
    (asset,) = result.image_assets
    assert (asset.dataset_id, asset.image_id) == ("plate_ones", "plate_ones/B03/0")
    assert (asset.plate_id, asset.well_id, asset.site_id) == ("plate_ones", "B03", 0)
    assert (asset.well_row, asset.well_column) == ("B", "03")
    assert asset.acquisition_id is None
    assert asset.shape == (2, 2, 4320, 2560) and asset.chunk_shape == (1, 1, 2160, 2560)
    assert asset.axes_order == "czyx" and asset.dtype == "uint16"
    assert asset.channel_names == ("some-label-1", "some-label-2")
    assert asset.physical_size("x").size == pytest.approx(0.1625)
    assert asset.physical_size("x").unit == "micrometer"
    assert [level.path for level in asset.levels] == ["0", "1", "2", "3", "4"]
    assert asset.levels[0].chunk_key_separator == "/"
    assert asset.compressor == "blosc:lz4" and asset.storage_variant == "zarr-v2"


@pytest.mark.parametrize(("name", "variant"), [("plate_v04", "zarr-v2"), ("plate_v05", "zarr-v3")])
def test_generated_plates(shared_data: Path, name: str, variant: str) -> None:
    result = scan_store(shared_data / "generated_ome_zarr" / f"{name}.ome.zarr")
    assert result.warnings == ()
    images = [a for a in result.image_assets if a.image_kind == "image"]
    labels = [a for a in result.image_assets if a.image_kind == "label"]
    assert len(images) == 12 and len(labels) == 2
    assert {(a.well_id, a.site_id) for a in images} == {
        (f"{r}0{c}", s) for r in "AB" for c in (1, 2, 3) for s in (0, 1)
    }
    assert {a.storage_variant for a in result.image_assets} == {variant}
    first = images[0]
    assert first.shape == (2, 128, 128) and first.chunk_shape == (1, 64, 64)
    assert [level.path for level in first.levels] == ["s0", "s1"]
    assert all(label.parent_image_id in {a.image_id for a in images} for label in labels)


def test_generated_plates_share_ids_apart_from_the_plate_name(shared_data: Path) -> None:
    root = shared_data / "generated_ome_zarr"
    v04 = scan_store(root / "plate_v04.ome.zarr")
    v05 = scan_store(root / "plate_v05.ome.zarr")

    def keys(result):  # type: ignore[no-untyped-def]
        return [(a.image_id.split("/", 1)[1], a.image_kind) for a in result.image_assets]

    assert keys(v04) == keys(v05)


@pytest.mark.parametrize("name", ["image_v04", "image_v05"])
def test_generated_images(shared_data: Path, name: str) -> None:
    image, label = scan_store(shared_data / "generated_ome_zarr" / f"{name}.ome.zarr").image_assets
    assert image.image_id == "0" and image.axes_order == "czyx"
    assert image.shape == (3, 4, 96, 96) and len(image.levels) == 3
    assert label.image_id == "0/labels/annotations" and len(label.levels) == 5


@pytest.mark.parametrize("version", ["v04", "v05"])
@pytest.mark.parametrize(
    ("layout", "axes", "shape"),
    [
        ("yx", "yx", (64, 64)),
        ("cyx", "cyx", (2, 64, 64)),
        ("c1yx", "czyx", (2, 1, 64, 64)),
        ("zyx", "zyx", (10, 64, 64)),
        ("tyx", "tyx", (4, 64, 64)),
        ("tcyx", "tcyx", (4, 3, 64, 64)),
        ("tzyx", "tzyx", (4, 10, 64, 64)),
        ("czyx", "czyx", (2, 10, 64, 64)),
        ("tczyx", "tczyx", (4, 2, 10, 64, 64)),
    ],
)
def test_ngio_layouts(shared_data: Path, version: str, layout: str, axes: str, shape) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "ngio_testdata" / version / "images" / f"test_image_{layout}.zarr"
    result = scan_store(path)
    assert result.warnings == ()
    image, label = result.image_assets
    assert image.axes_order == axes and image.shape == shape
    assert image.physical_size("x").size == pytest.approx(0.5)
    assert label.image_kind == "label" and label.label_name == "label"
    assert image.ome_ngff_version == ("0.4" if version == "v04" else "0.5")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_legacy_ome_zarr(shared_data: Path, version: str) -> None:
    (asset,) = scan_store(shared_data / "omezarrpy_legacy" / version).image_assets
    assert asset.ome_ngff_version == f"0.{version[1]}"
    assert asset.axes_order == "tczyx" and asset.shape == (1, 2, 1, 16, 16)


@pytest.mark.parametrize("writer", ["zarr", "z5py"])
def test_plain_zarr_implementations(shared_data: Path, writer: str) -> None:
    result = scan_store(shared_data / "zarr_impl_v2" / f"{writer}.zr")
    assert result.format_family == "zarr" and result.dataset_id == writer
    by_id = {a.image_id: a for a in result.image_assets}
    assert sorted(by_id) == ["blosc", "gzip", "raw", "zlib"]
    assert all(a.shape == (512, 512, 3) and a.dtype == "uint8" for a in by_id.values())
    assert by_id["raw"].compressor is None and by_id["blosc"].compressor.startswith("blosc")


def test_directory_scan_finds_every_store(shared_data: Path) -> None:
    scanned = scan_directory(shared_data / "generated_ome_zarr")
    assert sorted(r.dataset_id for r in scanned.results) == [
        "image_v04",
        "image_v05",
        "plate_v04",
        "plate_v05",
    ]
    assert scanned.errors == ()


def test_cli_scan_real_plate_to_parquet(shared_data: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "a.parquet"
    store = shared_data / "fractal_plate_ones_v04" / "plate_ones.zarr"
    assert main(["scan", str(store), "-o", str(out), "-q", "--strict"]) == 0
    row = pq.read_table(out).to_pylist()[0]
    assert row["well_id"] == "B03" and row["channel_names"] == ["some-label-1", "some-label-2"]
    assert [level["path"] for level in row["levels"]] == ["0", "1", "2", "3", "4"]
