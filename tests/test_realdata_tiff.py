"""Real TIFF / OME-TIFF files written by other tools (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iceberg_bioimage import scan_store
from iceberg_bioimage.scan import scan_paths

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("single-channel.ome.tiff", (1, 1, 1, 167, 439)),
        ("multi-channel.ome.tiff", (1, 3, 1, 167, 439)),
        ("z-series.ome.tiff", (1, 1, 5, 167, 439)),
        ("time-series.ome.tif", (7, 1, 1, 167, 439)),
        ("multi-channel-z-series.ome.tiff", (1, 3, 5, 167, 439)),
        ("multi-channel-time-series.ome.tiff", (7, 3, 1, 167, 439)),
        ("4D-series.ome.tiff", (7, 1, 5, 167, 439)),
    ],
)
def test_ome_artificial_big_endian_int8(shared_data: Path, name: str, shape) -> None:  # type: ignore[no-untyped-def]
    result = scan_store(shared_data / "omearrow_ome_artificial_5d" / name)
    assert result.warnings == ()
    (asset,) = result.image_assets
    assert asset.format_family == "ome-tiff" and asset.image_id == "0"
    assert asset.shape == shape and asset.dtype == "int8" and asset.axes_order == "tczyx"
    assert asset.image_name == name
    assert asset.levels[0].path == "ifd/0"
    assert asset.source_files == (str(shared_data / "omearrow_ome_artificial_5d" / name),)


def test_examplehuman_tiffs_have_no_fake_physical_size(shared_data: Path) -> None:
    result = scan_store(shared_data / "cytotable_examplehuman")
    assert result.format_family == "tiff" and result.dataset_id == "cytotable_examplehuman"
    assert [a.image_id for a in result.image_assets] == [
        f"AS_09125_050116030001_D03f00d{i}.tif" for i in range(3)
    ]
    for asset in result.image_assets:
        assert asset.shape == (512, 512) and asset.dtype == "uint8"
        assert asset.physical_sizes == ()  # 72 dpi in inches is not a pixel size
    assert [a.compressor for a in result.image_assets] == ["packbits", "packbits", None]


def test_nf1_images_and_masks(shared_data: Path) -> None:
    scanned = scan_paths([shared_data / "cosmicqc_nf1_shrunken"])
    by_id = {r.dataset_id: r for r in scanned.results}
    assert sorted(by_id) == ["Plate_2_images", "Plate_2_masks"]
    images = by_id["Plate_2_images"].image_assets
    assert len(images) == 15
    assert all(a.shape == (904, 1224) and a.dtype == "uint16" for a in images)
    assert "D6_01_1_2_DAPI_001.tif" in {a.image_id for a in images}
    assert len(by_id["Plate_2_masks"].image_assets) == 15
