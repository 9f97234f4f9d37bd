"""OME-TIFFs read through their IFDs directly (scan/tiff_ifd.py) give exactly
the rows tifffile gives; anything not plain falls back to tifffile."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from fixtures import tiff_writers as tw
from iceberg_bioimage.scan import tiff
from iceberg_bioimage.scan.tiff_ifd import IfdReader, NeedsTifffile


def _both_ways(path: Path) -> tuple[Any, Any]:
    """The scan of one file directly and through tifffile."""
    context = tiff.make_context("ds", str(path.parent), in_folder=False)
    direct = tiff._scan_ome_tiff_directly(str(path), context)
    through_tifffile = tiff._read_tiff(str(path), str(path), context)
    return direct, through_tifffile


def _written(kind: str, folder: Path) -> list[Path]:
    data = np.zeros((2, 3, 4, 8, 16), dtype="int8")
    big = {"bigtiff": True, "compression": "zlib"}
    writers = {
        "plate": lambda: [tw.write_plate_ome_tiff(folder / "plate.ome.tif")],
        "tiled plate": lambda: [tw.write_plate_ome_tiff(folder / "t.ome.tif", tile=(16, 16))],
        "pyramid": lambda: [tw.write_pyramid_ome_tiff(folder / "pyr.ome.tif")],
        "multi-series": lambda: [tw.write_multi_series_ome_tiff(folder / "two.ome.tif")],
        "big-endian": lambda: [tw.write_ome_tiff(folder / "e.tif", data, "TCZYX", byteorder=">")],
        "bigtiff deflate": lambda: [tw.write_ome_tiff(folder / "b.ome.tif", data, "TCZYX", **big)],
        "multi-file": lambda: tw.write_multifile_ome_tiff(folder),
    }
    return writers[kind]()


@pytest.mark.parametrize(
    "kind",
    ["plate", "tiled plate", "pyramid", "multi-series", "big-endian", "bigtiff deflate",
     "multi-file"],
)  # fmt: skip
def test_direct_reading_gives_tifffiles_rows(kind: str, tmp_path: Path) -> None:
    for path in _written(kind, tmp_path):
        direct, through_tifffile = _both_ways(path)
        assert direct is not None, f"{path.name} was not read directly"
        assert direct.assets == through_tifffile.assets and direct.assets
        assert direct.warnings == through_tifffile.warnings == []
        assert direct.covers == through_tifffile.covers


def test_the_container_facts_equal_tifffiles(tmp_path: Path) -> None:
    path = tw.write_pyramid_ome_tiff(tmp_path / "pyr.ome.tif")
    with open(path, "rb") as handle:
        reader = IfdReader(handle)
        page, levels = reader.image(0)  # type: ignore[misc]
        assert reader.image(99) is None  # past the chain's end
    with tifffile.TiffFile(path) as tif:
        first = tif.pages.first
        assert reader.description == first.description
        assert (page.length, page.width) == (first.imagelength, first.imagewidth)
        assert page.tile == (1, first.tilelength, first.tilewidth)
        assert [(p.length, p.width) for p in levels] == [
            (sub.imagelength, sub.imagewidth) for sub in first.pages
        ]


def _patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _first_ifd_entry(path: Path, tag: int) -> int:
    """The file offset of an entry of the first IFD (classic little-endian TIFF)."""
    raw = path.read_bytes()
    (first,) = struct.unpack_from("<I", raw, 4)
    (count,) = struct.unpack_from("<H", raw, first)
    for index in range(count):
        at = first + 2 + 12 * index
        if struct.unpack_from("<H", raw, at)[0] == tag:
            return at
    raise AssertionError(f"no tag {tag}")


def _loop(path: Path) -> None:
    """The first IFD's next-IFD pointer aimed at itself."""
    raw = path.read_bytes()
    (first,) = struct.unpack_from("<I", raw, 4)
    (count,) = struct.unpack_from("<H", raw, first)
    _patch(path, first + 2 + 12 * count, struct.pack("<I", first))


def _latin1_description(path: Path) -> None:
    at = _first_ifd_entry(path, 270)
    (offset,) = struct.unpack_from("<I", path.read_bytes(), at + 8)
    _patch(path, offset + 10, b"\xe9")  # inside <?xml ...: not UTF-8


def _width_past_the_end(path: Path) -> None:
    at = _first_ifd_entry(path, 256)
    _patch(path, at + 2, struct.pack("<HI", 4, 4))  # 4 LONGs: a value stored at an offset
    _patch(path, at + 8, struct.pack("<I", os.path.getsize(path) + 100))


@pytest.mark.parametrize("damage", [_loop, _latin1_description, _width_past_the_end])
def test_files_that_are_not_plain_are_read_by_tifffile(damage: Any, tmp_path: Path) -> None:
    path = tw.write_multi_series_ome_tiff(tmp_path / "two.ome.tif")
    damage(path)
    with open(path, "rb") as handle, pytest.raises(NeedsTifffile):
        reader = IfdReader(handle)
        for index in range(4):
            reader.image(index)
    context = tiff.make_context("ds", str(tmp_path), in_folder=False)
    assert tiff._scan_ome_tiff_directly(str(path), context) is None
    try:
        expected = tiff._read_tiff(str(path), str(path), context)
    except Exception as error:  # tifffile refuses it: so does the scan, alike
        with pytest.raises(type(error)):
            tiff.scan_tiff_file(str(path), context)
    else:
        got = tiff.scan_tiff_file(str(path), context)
        assert (got.assets, got.warnings) == (expected.assets, expected.warnings)


def test_compression_names_are_tifffiles() -> None:
    for code, name in tiff._COMPRESSION_NAMES.items():
        assert tifffile.COMPRESSION(code).name.lower() == name
    assert tiff.compression_name(34887) == "lerc"  # asked of tifffile
    assert tiff.compression_name(12345) == "12345"  # no name anywhere


def test_a_compression_code_without_a_name_is_scanned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """tifffile keeps an unknown compression code as a bare int (it used to
    crash the scan as an internal error); the code itself names it."""
    from iceberg_bioimage.cli import main

    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, np.zeros((8, 8), "uint8"))
    at = _first_ifd_entry(path, 259)
    _patch(path, at, struct.pack("<HHII", 259, 3, 1, 12345))
    assert main(["scan", str(path), "--format", "csv"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.startswith("dataset_id,") and row.startswith("odd,")
    import iceberg_bioimage as ib

    (asset,) = ib.scan_store(path).image_assets
    assert asset.codecs == ("12345",) and asset.compressor == "12345"
