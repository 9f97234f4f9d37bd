"""Scanning stores written by zarr-python and ome-zarr-py."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures import writers
from iceberg_bioimage import scan_store
from iceberg_bioimage.io.local import LocalStore
from iceberg_bioimage.scan.zarr_store import scan_zarr_store


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_hcs_plate_identity_and_values(tmp_path: Path, version: str) -> None:
    path = writers.write_plate(tmp_path / "Screen_1.OME.ZARR", version=version)
    result = scan_store(path)

    assert result.dataset_id == "Screen_1"
    assert result.format_family == "ome-zarr"
    assert result.warnings == ()
    images = [a for a in result.image_assets if a.image_kind == "image"]
    labels = [a for a in result.image_assets if a.image_kind == "label"]
    assert len(images) == 12 and len(labels) == 1
    assert [a.image_id for a in images[:3]] == [
        "test-plate/A01/0",
        "test-plate/A01/1",
        "test-plate/A02/0",
    ]
    first = images[0]
    assert (first.plate_id, first.well_id, first.site_id) == ("test-plate", "A01", 0)
    assert (first.well_row, first.well_column, first.row_index, first.column_index) == (
        "A",
        "1",
        0,
        0,
    )
    assert first.uri == path.resolve().as_uri()
    assert first.image_path == "A/1/0" and first.array_path == "A/1/0/s0"
    assert first.shape == (2, 32, 32) and first.chunk_shape == (1, 16, 16)
    assert first.shard_shape is None
    assert first.dtype == "uint16"
    assert first.axes_order == "cyx"
    assert first.axes[1].type == "space" and first.axes[1].unit == "micrometer"
    assert first.channel_names == ("DAPI", "GFP") and first.channel_count == 2
    assert first.physical_size("x").size == pytest.approx(0.65)
    assert first.physical_size("x").unit == "micrometer"
    assert [level.path for level in first.levels] == ["s0", "s1"]
    assert first.levels[1].shape == (2, 16, 16)
    assert first.levels[1].scale == pytest.approx((1.0, 1.3, 1.3))
    assert first.ome_ngff_version == version
    assert first.storage_variant == ("zarr-v2" if version == "0.4" else "zarr-v3")
    label = labels[0]
    assert label.image_id == "test-plate/A01/0/labels/cells"
    assert label.parent_image_id == first.image_id and label.label_name == "cells"
    assert (label.plate_id, label.well_id, label.site_id) == ("test-plate", "A01", 0)
    assert label.dtype == "uint32" and label.axes_order == "yx"


def test_same_plate_in_v04_and_v05_gives_same_ids(tmp_path: Path) -> None:
    v04 = scan_store(writers.write_plate(tmp_path / "a" / "plate.ome.zarr", version="0.4"))
    v05 = scan_store(writers.write_plate(tmp_path / "b" / "plate.ome.zarr", version="0.5"))
    key = [(a.dataset_id, a.image_id, a.plate_id, a.well_id, a.site_id) for a in v04.image_assets]
    assert key == [
        (a.dataset_id, a.image_id, a.plate_id, a.well_id, a.site_id) for a in v05.image_assets
    ]


def test_unnamed_plate_uses_dataset_id_and_acquisitions(tmp_path: Path) -> None:
    path = writers.write_plate(
        tmp_path / "run7.zarr",
        name=None,
        rows="A",
        columns=("10",),
        fields=1,
        acquisitions=[{"id": 3, "name": "first pass"}],
    )
    writers.edit_json(
        path / "A" / "10" / ".zattrs",
        lambda d: d | {"well": d["well"] | {"images": [{"path": "0", "acquisition": 3}]}},
    )
    (asset,) = [a for a in scan_store(path).image_assets if a.image_kind == "image"]
    assert asset.image_id == "run7/A10/0"
    assert (asset.acquisition_id, asset.acquisition_name) == ("3", "first pass")


@pytest.mark.parametrize("version", ["0.1", "0.2", "0.3"])
def test_legacy_images_get_implicit_axes(tmp_path: Path, version: str) -> None:
    result = scan_store(writers.write_legacy_image(tmp_path / f"old{version}.zarr", version))
    (asset,) = result.image_assets
    assert asset.image_id == "0" and asset.ome_ngff_version == version
    assert asset.axes_order == "tczyx"
    assert asset.shape == (1, 2, 3, 32, 32) and len(asset.levels) == 2
    assert asset.levels[0].chunk_key_separator == ("/" if version == "0.3" else ".")


def test_single_image_v05_with_label(tmp_path: Path) -> None:
    path = writers.write_single_image(
        tmp_path / "cells.ome.zarr", shape=(3, 4, 32, 32), axes="czyx", levels=3, label="nuclei"
    )
    image, label = scan_store(path).image_assets
    assert image.image_id == "0" and image.image_path == "" and image.array_path == "s0"
    assert image.shape == (3, 4, 32, 32) and image.axes_order == "czyx"
    assert len(image.levels) == 3 and image.levels[2].shape == (3, 4, 8, 8)
    assert image.plate_id is None and image.well_id is None
    assert label.image_id == "0/labels/nuclei" and label.image_path == "labels/nuclei"


def test_bioformats2raw_series(tmp_path: Path) -> None:
    result = scan_store(writers.write_bioformats2raw(tmp_path / "conv.ome.zarr", series=3))
    assert [a.image_id for a in result.image_assets] == ["0", "1", "2"]
    assert [a.channel_names for a in result.image_assets] == [("ch0",), ("ch1",), ("ch2",)]


def test_sharded_v3_array(tmp_path: Path) -> None:
    (asset,) = scan_store(writers.write_sharded_v3(tmp_path / "volume.zarr")).image_assets
    assert asset.format_family == "zarr" and asset.image_kind == "array"
    assert asset.shape == (4, 64, 64)
    assert asset.chunk_shape == (1, 16, 16) and asset.shard_shape == (2, 32, 32)
    assert asset.codecs[0] == "sharding_indexed" and asset.compressor == "zstd"
    assert asset.dtype == "float32" and asset.axes_order == "zyx"
    assert math.isnan(float(asset.fill_value))


@pytest.mark.parametrize("consolidated", [False, True])
def test_plain_v2_group(tmp_path: Path, consolidated: bool) -> None:
    path = writers.write_plain_v2_group(tmp_path / "plain.zarr", consolidated=consolidated)
    dotted, slashed = scan_store(path).image_assets
    assert (dotted.image_id, dotted.dtype, dotted.shape) == ("dotted", "int16", (10, 10))
    assert dotted.levels[0].chunk_key_separator == "."
    assert (slashed.image_id, slashed.dtype) == ("nested/slashed", "float64")
    assert slashed.levels[0].chunk_key_separator == "/"
    assert slashed.axes_order == "t"  # from xarray's _ARRAY_DIMENSIONS


class CountingStore(LocalStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.keys: list[str] = []
        self.listings: list[str] = []

    def get_many(self, keys):  # type: ignore[no-untyped-def]
        self.keys += keys
        return super().get_many(keys)

    def list_dir(self, prefix):  # type: ignore[no-untyped-def]
        self.listings.append(prefix)
        return super().list_dir(prefix)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_plate_scan_reads_only_metadata_and_never_lists(tmp_path: Path, version: str) -> None:
    store = CountingStore(writers.write_plate(tmp_path / "p.zarr", version=version))
    scan_zarr_store(store, "p")
    names = {key.rsplit("/", 1)[-1] for key in store.keys}
    assert names <= {"zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata"}
    assert store.listings == []


def test_consolidated_plate_reads_only_the_root(tmp_path: Path) -> None:
    path = writers.consolidate(writers.write_plate(tmp_path / "c.zarr", version="0.5"))
    store = CountingStore(path)
    result = scan_zarr_store(store, "c")
    assert len(result.image_assets) == 13
    assert all("/" not in key for key in store.keys)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_consolidated_sample_plate_gives_the_same_rows(tmp_path: Path, zarr_format: int) -> None:
    """The benchmark plate, with and without consolidated metadata: one asset
    per field, equal field by field (identical documents share one parse)."""
    from iceberg_bioimage.samples import write_metadata_plate

    shape = {"rows": ("A", "B"), "columns": ("1", "2", "3"), "fields": 2, "levels": 3}
    plain = scan_store(write_metadata_plate(tmp_path / "p.zarr", zarr_format, **shape))
    store = CountingStore(
        write_metadata_plate(tmp_path / "c.zarr", zarr_format, **shape, consolidated=True)
    )
    consolidated = scan_zarr_store(store, "p")
    assert all("/" not in key for key in store.keys)
    assert len(plain.image_assets) == 12 and plain.warnings == ()
    for a, b in zip(plain.image_assets, consolidated.image_assets, strict=True):
        assert a == replace(b, uri=a.uri, dataset_id=a.dataset_id)  # other folder
    first = plain.image_assets[0]
    assert first.image_id == "bench-plate/A01/0" and first.array_path == "A/1/0/0"
    assert [level.shape for level in first.levels] == [
        (3, 2160, 2560),
        (3, 1080, 1280),
        (3, 540, 640),
    ]
    assert first.channel_names == ("DNA", "ER", "Mito")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_sample_plate_is_schema_valid(tmp_path: Path, zarr_format: int) -> None:
    """Peers that validate (ome-zarr-models) accept the benchmark plate as is."""
    import zarr

    models = pytest.importorskip(f"ome_zarr_models.v0{4 if zarr_format == 2 else 5}.hcs")
    from iceberg_bioimage.samples import write_metadata_plate

    path = write_metadata_plate(
        tmp_path / "p.zarr", zarr_format, rows=("A",), columns=("1", "2"), fields=2, levels=2
    )
    hcs = models.HCS.from_zarr(zarr.open_group(str(path), mode="r"))
    assert (
        len(hcs.attributes.ome.plate.wells if zarr_format == 3 else hcs.attributes.plate.wells) == 2
    )


def test_consolidated_entries_differing_only_by_nan_stay_apart(tmp_path: Path) -> None:
    """Identical consolidated entries share one parse; NaN and null (which
    strict JSON cannot tell apart) must not."""
    import json

    array = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<f4", "compressor": None,
             "filters": None, "order": "C"}  # fmt: skip
    metadata = {".zgroup": {"zarr_format": 2}, "a/.zarray": array | {"fill_value": None},
                "b/.zarray": array | {"fill_value": float("nan")}}  # fmt: skip
    root = tmp_path / "nan.zarr"
    root.mkdir()
    (root / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (root / ".zmetadata").write_text(
        json.dumps({"zarr_consolidated_format": 1, "metadata": metadata})
    )
    a, b = scan_store(root).image_assets
    assert a.fill_value is None and math.isnan(b.fill_value)


def test_data_type_names_are_numpys_without_loading_it() -> None:
    """Numeric types are named without numpy (start-up); every name, including
    the ones numpy still answers, equals numpy's."""
    import numpy as np

    from iceberg_bioimage.scan.zarr_meta import _dtype_name, _numeric_dtype_name

    typestrs = [f"{order}{kind}{size}" for order in ("<", ">", "|", "=", "")
                for kind in "biufcUSMV" for size in (1, 2, 4, 8, 16)]  # fmt: skip
    names = ["bool", "uint16", "float32", "complex128", "float128", "B", "?", "datetime64[ns]"]
    for text in typestrs + names:
        try:
            expected = np.dtype(text).name
        except TypeError:
            expected = text
        assert _dtype_name(text) == expected, text
    assert _numeric_dtype_name("<u2") == "uint16" and _numeric_dtype_name(">f8") == "float64"
    assert _numeric_dtype_name("|b1") == "bool" and _numeric_dtype_name("<U5") is None
