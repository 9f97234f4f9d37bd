"""TIFF / OME-TIFF scanning on files written by tifffile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

import iceberg_bioimage as ib
from fixtures import tiff_writers as tw
from fixtures import writers
from iceberg_bioimage import scan_store
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import InputError


def test_ome_tiff_plate_maps_to_the_same_ids_as_the_ome_zarr_copy(tmp_path: Path) -> None:
    tiff = scan_store(tw.write_plate_ome_tiff(tmp_path / "plate.ome.tiff"))
    zarr = scan_store(
        writers.write_plate(
            tmp_path / "plate.ome.zarr", rows="A", columns=("1", "2"), fields=2, label_wells=()
        )
    )
    key = [(a.dataset_id, a.image_id, a.plate_id, a.well_id, a.site_id) for a in tiff.image_assets]
    assert key == [
        (a.dataset_id, a.image_id, a.plate_id, a.well_id, a.site_id) for a in zarr.image_assets
    ]
    first = tiff.image_assets[0]
    assert first.format_family == "ome-tiff" and tiff.format_family == "ome-tiff"
    assert (first.well_row, first.well_column) == ("A", "1")
    assert (first.acquisition_id, first.acquisition_name) == ("0", "run1")
    assert first.shape == (1, 2, 1, 32, 32) and first.axes_order == "tczyx"
    assert first.channel_names == ("ch0", "ch1")
    assert first.physical_size("x").size == pytest.approx(0.325)
    assert first.physical_size("x").unit == "micrometer"  # one vocabulary (NGFF names)
    assert first.metadata["ome"]["channels"][1]["emission_wavelength"] == 550.0
    assert [a.levels[0].path for a in tiff.image_assets] == ["ifd/0", "ifd/2", "ifd/4", "ifd/6"]


def test_tiled_plate_reports_tiles_as_chunks(tmp_path: Path) -> None:
    result = scan_store(tw.write_plate_ome_tiff(tmp_path / "p.ome.tif", tile=(16, 16)))
    assert {a.chunk_shape for a in result.image_assets} == {(1, 1, 1, 16, 16)}


def test_subifd_pyramid_is_one_asset_with_levels(tmp_path: Path) -> None:
    (asset,) = scan_store(tw.write_pyramid_ome_tiff(tmp_path / "pyr.ome.tif")).image_assets
    assert asset.shape == (1, 2, 1, 64, 64)
    assert [level.shape[-2:] for level in asset.levels] == [(64, 64), (32, 32), (16, 16)]
    assert [level.path for level in asset.levels] == ["ifd/0", "ifd/0/subifd/0", "ifd/0/subifd/1"]
    assert asset.chunk_shape == (1, 1, 1, 16, 16)
    assert asset.channel_names == ("DAPI", "GFP")
    assert asset.physical_size("y").size == pytest.approx(0.5)


def test_multi_series_are_separate_assets(tmp_path: Path) -> None:
    first, second = scan_store(
        tw.write_multi_series_ome_tiff(tmp_path / "two.ome.tiff")
    ).image_assets
    assert (first.image_id, first.image_name, first.shape, first.dtype) == (
        "0",
        "first",
        (1, 1, 3, 16, 16),
        "uint8",
    )
    assert (second.image_id, second.image_name, second.shape, second.dtype) == (
        "1",
        "second",
        (1, 2, 1, 8, 24),
        "float32",
    )
    assert second.levels[0].path == "ifd/3"


def test_big_endian_int8_5d_keeps_shape(tmp_path: Path) -> None:
    data = np.zeros((2, 3, 4, 8, 16), dtype="int8")
    path = tw.write_ome_tiff(tmp_path / "be.ome.tif", data, "TCZYX", byteorder=">")
    (asset,) = scan_store(path).image_assets
    assert asset.shape == (2, 3, 4, 8, 16) and asset.dtype == "int8"
    assert asset.axes_order == "tczyx"
    assert [a.type for a in asset.axes] == ["time", "channel", "space", "space", "space"]


def test_single_channel_axis_is_kept(tmp_path: Path) -> None:
    path = tw.write_ome_tiff(tmp_path / "c1.ome.tif", np.zeros((1, 8, 8), "uint16"), "CYX")
    (asset,) = scan_store(path).image_assets
    assert asset.shape == (1, 1, 1, 8, 8) and asset.channel_count == 1


def test_multifile_fileset_is_one_image_spanning_files(tmp_path: Path) -> None:
    paths = tw.write_multifile_ome_tiff(tmp_path)
    result = scan_store(tmp_path)
    (asset,) = result.image_assets
    assert asset.shape == (1, 2, 1, 16, 16)
    assert asset.source_files == tuple(str(p) for p in paths)
    single = scan_store(paths[1])  # either file alone describes the whole image
    assert single.image_assets[0].source_files == asset.source_files


def test_companion_fileset(tmp_path: Path) -> None:
    companion = tw.write_companion_fileset(tmp_path)
    folder = scan_store(tmp_path)
    (asset,) = folder.image_assets
    assert asset.shape == (1, 1, 2, 16, 16) and asset.chunk_shape == (1, 1, 1, 16, 16)
    assert [Path(f).name for f in asset.source_files] == ["part_0.ome.tif", "part_1.ome.tif"]
    assert scan_store(companion).image_assets[0].shape == asset.shape
    assert scan_store(tmp_path / "part_1.ome.tif").image_assets[0].shape == asset.shape


def test_plain_tiff_72_dpi_is_not_a_physical_size(tmp_path: Path) -> None:
    path = tmp_path / "photo.tif"
    tifffile.imwrite(path, np.zeros((10, 12), "uint8"), resolution=(72, 72), resolutionunit="INCH")
    (asset,) = scan_store(path).image_assets
    assert asset.format_family == "tiff" and asset.physical_sizes == ()
    assert asset.shape == (10, 12) and asset.axes_order == "yx"


def test_plain_tiff_centimetre_resolution_is_a_physical_size(tmp_path: Path) -> None:
    path = tmp_path / "scope.tif"
    tifffile.imwrite(
        path,
        np.zeros((10, 12), "uint16"),
        resolution=(20000, 20000),
        resolutionunit="CENTIMETER",
        tile=(16, 16),
    )
    (asset,) = scan_store(path).image_assets
    assert asset.physical_size("x").size == pytest.approx(0.5)
    assert asset.physical_size("x").unit == "micrometer"
    assert asset.chunk_shape == (16, 16)


def test_imagej_hyperstack_axes_and_sizes(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    data = np.zeros((3, 4, 2, 16, 16), "uint16")
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(4.0, 4.0),
        metadata={"axes": "TZCYX", "spacing": 2.0, "unit": "um"},
    )
    (asset,) = scan_store(path).image_assets
    assert asset.axes_order == "tzcyx" and asset.shape == (3, 4, 2, 16, 16)
    assert asset.physical_size("x").size == pytest.approx(0.25)
    assert asset.physical_size("z").size == pytest.approx(2.0)


def test_cellprofiler_folder_keeps_file_names(tmp_path: Path) -> None:
    for site in (1, 2):
        for channel in ("DAPI", "GFP"):
            tifffile.imwrite(tmp_path / f"B7_01_{site}_{channel}.tif", np.zeros((8, 8), "uint16"))
    result = scan_store(tmp_path, dataset_id="Plate_2")
    assert [a.image_id for a in result.image_assets] == [
        "B7_01_1_DAPI.tif",
        "B7_01_1_GFP.tif",
        "B7_01_2_DAPI.tif",
        "B7_01_2_GFP.tif",
    ]
    assert all(Path(a.source_files[0]).name == a.image_id for a in result.image_assets)
    assert result.dataset_id == "Plate_2"


def test_folder_scan_continues_past_bad_files(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "good.tif", np.zeros((8, 8), "uint8"))
    (tmp_path / "garbage.tif").write_bytes(b"this is not a tiff at all")
    good = (tmp_path / "good.tif").read_bytes()
    (tmp_path / "truncated.tif").write_bytes(good[:12])
    tw.write_ome_tiff(tmp_path / "badxml.ome.tif", np.zeros((8, 8), "uint8"), "YX")
    with tifffile.TiffFile(tmp_path / "badxml.ome.tif", mode="r+") as tif:
        tif.pages.first.tags["ImageDescription"].overwrite("<?xml version='1.0'?><OME><Image")
    result = scan_store(tmp_path)
    assert sorted(a.image_id for a in result.image_assets) == ["badxml.ome.tif", "good.tif"]
    messages = {w.path: w.message for w in result.warnings}
    assert "not a readable TIFF" in messages["garbage.tif"]
    assert "not a readable TIFF" in messages["truncated.tif"]
    assert "invalid OME-XML" in messages["badxml.ome.tif"]


def test_single_garbage_file_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="not a readable TIFF"):
        scan_store(bad)
    assert main(["scan", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "bad.tif" in err[0]


def test_scanning_never_reads_pixels(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tw.write_pyramid_ome_tiff(tmp_path / "a.ome.tif")
    tifffile.imwrite(tmp_path / "b.tif", np.zeros((8, 8), "uint8"))

    def forbidden(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("pixel data read during a scan")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", forbidden)
    monkeypatch.setattr(tifffile.TiffPage, "decode", property(forbidden))
    monkeypatch.setattr(tifffile.TiffFile, "asarray", forbidden)
    assert len(scan_store(tmp_path).image_assets) == 2


def _damage_second_page_offset(path: Path) -> None:
    with tifffile.TiffFile(path) as tif:
        first = tif.pages.first
        next_offset_at = first.offset + 2 + len(first.tags) * 12
    data = bytearray(path.read_bytes())
    data[next_offset_at : next_offset_at + 4] = (10**8).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_tifffile_complaints_become_scan_warnings_not_log_lines(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "damaged.tif"
    tifffile.imwrite(path, np.zeros((2, 16, 16), np.uint8), photometric="minisblack", metadata=None)
    _damage_second_page_offset(path)
    result = scan_store(path)
    assert [a.shape for a in result.image_assets] == [(16, 16)]
    assert [(w.path, w.message) for w in result.warnings] == [
        ("damaged.tif", "invalid page offset 100000000")
    ]
    assert capsys.readouterr().err == ""


def test_tiff_without_pages_says_why(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "truncated.tif"
    path.write_bytes(b"II*\x00junk")
    assert main(["scan", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"error: {path}: not a readable TIFF file (no image pages; "
        "invalid offset to first page 1802401130)"
    ]


def test_one_unit_vocabulary_across_formats(tmp_path: Path) -> None:
    from iceberg_bioimage.samples import write_sample_ome_tiff, write_sample_plate
    from iceberg_bioimage.units import ngff_unit

    results = [
        ib.scan_store(write_sample_plate(tmp_path / "p.ome.zarr")),
        ib.scan_store(write_sample_ome_tiff(tmp_path / "i.ome.tiff")),
    ]
    table = ib.scan_result_as_arrow_table(results)
    assert set(table.column("physical_size_x_unit").to_pylist()) == {"micrometer"}
    assert [ngff_unit(u) for u in ("µm", "nm", "Å", "ms", "micron", "pixel")] == [
        "micrometer",
        "nanometer",
        "angstrom",
        "millisecond",
        "micrometer",
        "pixel",
    ]
