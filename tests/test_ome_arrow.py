"""OME-Arrow helpers: run when the ome-arrow extra is installed (CI installs it)."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile

import iceberg_bioimage as ib
from fixtures import writers
from iceberg_bioimage.errors import MissingDependencyError


def test_missing_extra_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_ome_arrow(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "ome_arrow":
            raise ImportError("No module named 'ome_arrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ome_arrow)
    with pytest.raises(
        MissingDependencyError, match=r"pip install 'iceberg-bioimage\[ome-arrow\]'"
    ):
        ib.create_ome_arrow(np.zeros((1, 1, 1, 2, 2), "uint16"))


def test_create_scan_and_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("ome_arrow")
    pixels = np.arange(2 * 8 * 8, dtype="uint16").reshape(1, 2, 1, 8, 8)
    payload = ib.create_ome_arrow(
        pixels, image_id="img-1", channel_names=["DNA", "ER"], physical_size_x=0.65
    )
    (row,) = ib.scan_ome_arrow(payload).to_pylist()
    assert row["image_id"] == "img-1" and row["shape"] == [1, 2, 1, 8, 8]
    assert row["channel_names"] == ["DNA", "ER"] and row["physical_size_x"] == pytest.approx(0.65)
    assert np.array_equal(ib.ome_arrow_to_numpy(payload), pixels)
    table = pa.table(
        {"ome_arrow": pa.array([payload.as_py()] * 3, type=payload.type), "ObjectNumber": [1, 2, 3]}
    )
    pq.write_table(table, tmp_path / "crops.parquet")
    assert (
        ib.scan_ome_arrow(tmp_path / "crops.parquet").column("image_id").to_pylist()
        == ["img-1"] * 3
    )


def test_from_tiff_and_ome_zarr(tmp_path: Path) -> None:
    pytest.importorskip("ome_arrow")
    tifffile.imwrite(
        tmp_path / "a.ome.tif", np.ones((2, 16, 16), "uint16"), ome=True, metadata={"axes": "CYX"}
    )
    payload = ib.ome_arrow_from_tiff(tmp_path / "a.ome.tif", image_id="a")
    assert ib.scan_ome_arrow(payload).column("shape").to_pylist() == [[1, 2, 1, 16, 16]]
    store = writers.write_single_image(tmp_path / "b.ome.zarr", version="0.5")
    zarr_payload = ib.ome_arrow_from_ome_zarr(store, image_id="b")
    assert ib.scan_ome_arrow(zarr_payload).column("image_id").to_pylist() == ["b"]


def test_dataset_write_and_read(tmp_path: Path) -> None:
    pytest.importorskip("ome_arrow")
    images = [
        ib.create_ome_arrow(np.full((1, 1, 1, 8, 8), i, "uint16"), image_id=f"i{i}")
        for i in range(3)
    ]
    ib.write_ome_arrow_dataset(images, tmp_path / "dataset")
    dataset = ib.read_ome_arrow_dataset(tmp_path / "dataset")
    assert dataset is not None and (tmp_path / "dataset").exists()


def test_real_cytodataframe_payloads(shared_data: Path) -> None:
    pytest.importorskip("ome_arrow")
    path = shared_data / "pycytominer_testdata" / "cytodataframe" / "example.ome.parquet"
    described = ib.scan_ome_arrow(path)
    assert described.num_rows == pq.read_metadata(path).num_rows
    assert all(len(shape) == 5 for shape in described.column("shape").to_pylist())
