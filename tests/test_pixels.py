"""Pixels: every backend reads crops bit-exactly (OME-Zarr v0.4 / v0.5,
sharded or not, OME-TIFF), crops and source images go to a warehouse root and
an Iceberg catalog through the CLI and come back exactly, and the tools users
read them with (pandas, DuckDB, CytoDataFrame, ome-arrow) find the images."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile
import zarr
from ome_zarr.format import FormatV04, FormatV05
from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

import iceberg_bioimage as ib
from fixtures.writers import _channel
from iceberg_bioimage.pixels import array_source, open_array

BACKENDS = ["zarr", *[b for b in ("zarrs", "tensorstore") if importlib.util.find_spec(b)]]
RNG = np.random.default_rng(7)


def _image(group: zarr.Group, data: np.ndarray, axes: str, fmt, **storage) -> None:  # type: ignore[no-untyped-def]
    chunks = tuple(16 if a in "yx" else 1 for a in axes)
    write_image(
        data, group, axes=list(axes), fmt=fmt, scale_factors=[2],
        storage_options={"chunks": chunks, **storage},
        omero={"channels": [_channel(n) for n in ("DNA", "ER", "Mito")]},
    )  # fmt: skip


def _plate(path: Path, version: str, data: dict[str, np.ndarray], **storage) -> Path:  # type: ignore[no-untyped-def]
    fmt = FormatV05() if version == "0.5" else FormatV04()
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    wells = sorted({w for w in data})
    write_plate_metadata(root, ["A", "B"], ["1", "2"], wells, fmt=fmt, name="P1", field_count=1)
    for well, pixels in data.items():
        group = root.require_group(well)
        write_well_metadata(group, ["0"], fmt=fmt)
        _image(group.require_group("0"), pixels, "czyx", fmt, **storage)
    return path


@pytest.fixture(scope="module")
def plates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    folder = tmp_path_factory.mktemp("pixels")
    made = {}
    for name, version, storage in (
        ("v04", "0.4", {}),
        ("v05", "0.5", {}),
        ("v05_sharded", "0.5", {"shards": (1, 1, 64, 48)}),
    ):
        data = {w: RNG.integers(0, 65535, (3, 2, 128, 96), dtype="uint16") for w in ("A/1", "B/2")}
        made[name] = (_plate(folder / f"{name}.ome.zarr", version, data, **storage), data)
    return made


def _profiles(rows: list[tuple[str, float, float]]) -> pa.Table:
    return pa.table(
        {
            "Metadata_Plate": ["P1"] * len(rows),
            "Metadata_Well": [w for w, _, _ in rows],
            "Metadata_Site": [0] * len(rows),
            "Cells_Number_Object_Number": list(range(1, len(rows) + 1)),
            "Cells_AreaShape_Center_X": [x for _, x, _ in rows],
            "Cells_AreaShape_Center_Y": [y for _, _, y in rows],
            "Cells_AreaShape_Area": [100.0] * len(rows),
        }
    )


def _profile_file(folder: Path) -> Path:
    """The test profiles as a Parquet file, as the CLI takes them."""
    path = folder / "cells.parquet"
    pq.write_table(_profiles(PROFILE_ROWS), path)
    return path


PROFILE_ROWS = [("A01", 40.0, 50.0), ("A01", 3.0, 2.0), ("B02", 95.0, 127.0), ("B02", 50.0, 60.0)]


def _expected(pixels: np.ndarray, x: float, y: float, size: int, edge: str) -> np.ndarray:
    """numpy slicing of the padded plane stack: what a crop must equal."""
    top, left = int(np.floor(y - size / 2)), int(np.floor(x - size / 2))
    padded = np.pad(pixels, ((0, 0), (0, 0), (size, size), (size, size)))
    crop = padded[:, :, top + size : top + 2 * size, left + size : left + 2 * size]
    if edge == "clip":
        ys = slice(max(0, -top), crop.shape[2] - max(0, top + size - pixels.shape[2]))
        xs = slice(max(0, -left), crop.shape[3] - max(0, left + size - pixels.shape[3]))
        crop = crop[:, :, ys, xs]
    return crop[None]  # TCZYX


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["v04", "v05", "v05_sharded"])
@pytest.mark.parametrize("edge", ["pad", "clip"])
def test_crops_equal_numpy_slicing(plates, backend: str, layout: str, edge: str) -> None:  # type: ignore[no-untyped-def]
    path, data = plates[layout]
    report = ib.CropReport()
    batches = ib.image_crops(
        _profiles(PROFILE_ROWS), path, size=20, backend=backend, edge=edge, report=report
    )
    table = pa.Table.from_batches(list(batches))
    arrays = ib.read_crops(table).arrays
    assert table.num_rows == 4 and report.skipped_rows == 0
    wells = {"A01": "A/1", "B02": "B/2"}
    for row, got in zip(table.to_pylist(), arrays, strict=True):
        well, x, y = next(
            r for r in PROFILE_ROWS if (r[1], r[2]) == (row["center_x"], row["center_y"])
        )
        want = _expected(data[wells[well]], x, y, 20, edge)
        assert got.dtype == np.uint16 and got.shape == want.shape
        assert np.array_equal(got, want)
        assert row["channels"] == ["DNA", "ER", "Mito"] and row["Metadata_Well"] == well


def test_channels_level_and_bounding_boxes(plates) -> None:  # type: ignore[no-untyped-def]
    path, data = plates["v05"]
    profiles = _profiles(PROFILE_ROWS[:1]).append_column(
        "Cells_AreaShape_BoundingBoxMinimum_X", pa.array([30])
    )
    for name, value in (("Minimum_Y", 44), ("Maximum_X", 52), ("Maximum_Y", 60)):
        profiles = profiles.append_column(f"Cells_AreaShape_BoundingBox{name}", pa.array([value]))
    boxed = ib.read_crops(
        pa.Table.from_batches(list(ib.image_crops(profiles, path, channels=["mito", 0])))
    )
    assert np.array_equal(boxed.arrays[0][0], data["A/1"][[2, 0], :, 44:60, 30:52])
    level = pa.Table.from_batches(list(ib.image_crops(profiles, path, size=8, level=1)))
    level_pixels = zarr.open_array(str(path / "A/1/0/s1"), mode="r")[:]
    got = ib.read_crops(level).arrays[0][0]
    assert np.array_equal(got, level_pixels[:, :, 25 - 4 : 25 + 4, 20 - 4 : 20 + 4])
    assert level.column("level").to_pylist() == [1]


def test_crops_from_ome_tiff_in_tczyx_order(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 255, (2, 3, 4, 40, 50), dtype="uint8")  # T C Z Y X
    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, pixels, ome=True, tile=(16, 16), metadata={"axes": "TCZYX"})
    row = ib.scan_as_arrow_table(path).to_pylist()[0]
    profiles = pa.table(
        {"Metadata_ImageID": [row["image_id"]], "dataset_id": [row["dataset_id"]],
         "image_id": [row["image_id"]], "Nuclei_Location_Center_X": [49.0],
         "Nuclei_Location_Center_Y": [10.0]}
    )  # fmt: skip
    table = pa.Table.from_batches(list(ib.image_crops(profiles, path, size=12, backend="tifffile")))
    got = ib.read_crops(table).arrays[0]
    assert table.column("compartment").to_pylist() == ["Nuclei"]
    want = np.pad(pixels, ((0, 0),) * 3 + ((12, 12), (12, 12)))[..., 16:28, 55:67]
    assert got.dtype == np.uint8 and np.array_equal(got, want)


def test_signed_and_float_pixels_round_trip_exactly(tmp_path: Path) -> None:
    pixels = (RNG.standard_normal((2, 30, 30)) * 1000).astype("float32")
    path = tmp_path / "float.ome.tif"
    tifffile.imwrite(path, pixels, ome=True, metadata={"axes": "CYX"})
    batch = next(ib.source_images(path))
    got = ib.read_crops(pa.Table.from_batches([batch])).arrays[0]
    assert got.dtype == np.float32 and np.array_equal(got[0, :, 0], pixels)


def test_cli_writes_crops_and_source_images_to_a_root_that_tools_read(
    plates, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v05"]
    profile_file = _profile_file(tmp_path)
    root = tmp_path / "root"
    run = _cli("export-crops", str(profile_file), str(path), "-w", str(root), "--size", "16")
    assert "images.image_crops: 4 rows" in run.stdout
    _cli("export-source-images", str(path), "-w", str(root), "--level", "1", "--json")
    assert ib.validate_warehouse(root).findings == []
    import duckdb
    import pandas as pd

    crops_file = next((root / "images" / "image_crops").glob("*.parquet"))
    frame = pd.read_parquet(crops_file)
    assert len(frame) == 4 and {"Metadata_ImageCropID", "source_bbox_x_min"} <= set(frame.columns)
    count = duckdb.sql(f"select count(distinct crop_id) from '{crops_file}'").fetchall()
    assert count == [(4,)]
    sources = ib.read_crops(root, table_name="images.source_images")
    assert len(sources) == 2  # one image per well
    s1 = zarr.open_array(str(path / "A/1/0/s1"), mode="r")[:]
    a01 = sources.table.column("image_id").to_pylist().index("P1/A01/0")
    assert np.array_equal(sources.arrays[a01][0], s1)


def test_crop_parquet_holds_the_pixels_once(plates, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v05"]
    rows = [("A01", float(x), float(y)) for x in range(8, 90, 9) for y in range(8, 120, 9)]
    root = tmp_path / "root"
    ib.export_crops_to_cytomining_warehouse(_profiles(rows), path, root, size=16)
    part = next((root / "images" / "image_crops").glob("*.parquet"))
    raw = len(rows) * 3 * 2 * 16 * 16 * 2  # random uint16: incompressible
    assert part.stat().st_size < 1.1 * raw


def test_cytodataframe_and_ome_arrow_open_our_crops(plates, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ome_arrow = pytest.importorskip("ome_arrow")
    from cytodataframe import CytoDataFrame

    path, _ = plates["v05"]
    root = tmp_path / "root"
    ib.export_crops_to_cytomining_warehouse(_profiles(PROFILE_ROWS), path, root, size=16)
    part = next((root / "images" / "image_crops").glob("*.parquet"))
    frame = CytoDataFrame(str(part))
    assert frame.find_ome_arrow_columns(frame) == ["ome_arrow_image"]
    table = pq.read_table(part)
    ours = ib.read_crops(table).arrays[0]
    theirs = ome_arrow.to_numpy(table.column("ome_arrow_image")[0])
    assert np.array_equal(ours, theirs)


def test_cli_publishes_crops_to_an_iceberg_catalog_and_reads_them_back(
    plates, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v04"]
    profile_file = _profile_file(tmp_path)
    catalog = [
        "--catalog-uri",
        f"sqlite:///{tmp_path}/c.db",
        "--warehouse",
        f"file://{tmp_path}/wh",
    ]
    _cli("export-crops", str(profile_file), str(path), "--size", "16", *catalog)
    _cli("export-crops", str(profile_file), str(path), "--size", "16", *catalog)  # replaces
    iceberg = ib.resolve_catalog(
        None, uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}/wh"
    ).catalog
    back = ib.read_crops(iceberg)
    direct = ib.read_crops(
        pa.Table.from_batches(list(ib.image_crops(_profiles(PROFILE_ROWS), path, size=16)))
    )
    assert len(back) == 4
    assert back.table.column("ome_arrow_image").type == direct.table.column("ome_arrow_image").type
    order = {c: i for i, c in enumerate(direct.table.column("crop_id").to_pylist())}
    for crop_id, array in zip(back.table.column("crop_id").to_pylist(), back.arrays, strict=True):
        assert np.array_equal(array, direct.arrays[order[crop_id]])
    one = ib.read_crops(iceberg, crop_ids=[next(iter(order))])
    assert len(one) == 1


def test_zarrs_never_falls_back_to_python_codecs(plates) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("zarrs")
    path, data = plates["v05_sharded"]
    row = next(r for r in ib.scan_as_arrow_table(path).to_pylist() if r["image_kind"] == "image")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        array = open_array(array_source(row), "zarrs")
        got = array.read((slice(None), slice(None), slice(5, 70), slice(3, 90)))
    pipeline = array.array._async_array.codec_pipeline
    assert type(pipeline).__name__ == "ZarrsCodecPipeline"
    assert pipeline.impl is not None and pipeline.python_impl is None  # strict: no fallback
    assert [w for w in caught if "unsupported" in str(w.message).lower()] == []
    assert np.array_equal(got, data["A/1"][:, :, 5:70, 3:90])


def test_a_process_pool_after_zarrs_does_not_hang(tmp_path: Path, plates) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("zarrs")
    path, data = plates["v05_sharded"]
    script = f"""
import sys
import numpy as np, iceberg_bioimage as ib
from iceberg_bioimage.pixels import array_source, open_array
from iceberg_bioimage.engines import process_context
rows = ib.scan_as_arrow_table({str(path)!r}).to_pylist()
row = [r for r in rows if r['image_kind'] == 'image'][0]
open_array(array_source(row), 'zarrs').read((slice(None),) * 4)
context = process_context()
from concurrent.futures import ProcessPoolExecutor
from iceberg_bioimage.pixels.base import open_array as again
with ProcessPoolExecutor(2, mp_context=context) as pool:
    sums = list(pool.map(_sum, [row, row]))
print(context.get_start_method(), sums[0])
"""
    helper = tmp_path / "child_job.py"
    helper.write_text(
        "import numpy as np\nfrom iceberg_bioimage.pixels import array_source, open_array\n"
        "def _sum(row):\n"
        "    return int(open_array(array_source(row), 'zarrs').read((slice(None),) * 4).sum())\n"
    )
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\nfrom child_job import _sum\n" + script
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    method, total = done.stdout.split()
    assert method == "spawn" and int(total) == int(data["A/1"].sum())


def test_an_array_path_leaving_the_store_is_refused(plates) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v04"]
    row = next(r for r in ib.scan_as_arrow_table(path).to_pylist() if r["image_kind"] == "image")
    row["image_path"] = "../../etc"
    for backend in BACKENDS:
        with pytest.raises(ib.InputError, match=r"leaves the store|absolute path|\.\."):
            open_array(array_source(row), backend)


def test_bad_crop_options_are_one_line_errors(plates, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v04"]
    profile_file = _profile_file(tmp_path)
    for args, message in (
        (["--size", "0"], "--size must be positive"),
        (["--channels", "Actin"], "channel 'Actin' is not among DNA, ER, Mito"),
        (["--backend", "nope"], "unknown pixel backend 'nope'"),
        (["--edge", "wrap"], "edge must be one of pad, clip"),
    ):
        run = _cli(
            "export-crops",
            str(profile_file),
            str(path),
            "-w",
            str(tmp_path / "r"),
            *args,
            check=False,
        )
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
        assert run.stderr.count("\n") == 1
    assert not (tmp_path / "r" / "images").exists()


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert run.returncode == 0, run.stderr
    return run


def test_backends_are_listed_preferred_first() -> None:
    run = _cli("pixel-backends", "--json")
    names = json.loads(run.stdout)["backends"]
    assert names[-1] == "zarr" and "tifffile" in names
    assert names == ib.available_backends()


def test_crops_from_s3_equal_local(plates, s3: str) -> None:  # type: ignore[no-untyped-def]
    from fixtures.stores import upload_s3

    path, _ = plates["v05_sharded"]
    uri = upload_s3(s3, path, "pixels")
    profiles = _profiles(PROFILE_ROWS)
    local = ib.read_crops(pa.Table.from_batches(list(ib.image_crops(profiles, path, size=24))))
    for backend in [b for b in BACKENDS if b != "zarrs"]:  # zarrs reads local arrays only
        remote = pa.Table.from_batches(
            list(ib.image_crops(profiles, uri, size=24, backend=backend))
        )
        got = ib.read_crops(remote)
        assert remote.column("source_uri").to_pylist()[0].startswith("s3://lab/pixels/")
        assert len(got) == 4
        for a, b in zip(got.arrays, local.arrays, strict=True):
            assert np.array_equal(a, b)
    with pytest.raises(ib.InputError, match="the zarrs backend does not read"):
        list(ib.image_crops(profiles, uri, size=24, backend="zarrs"))


@pytest.mark.realdata
def test_real_nf1_profiles_crop_their_three_channel_tiffs(
    shared_data: Path, tmp_path: Path
) -> None:
    """coSMicQC's NF1 profiles join their TIFFs by CellProfiler file names; each
    crop stacks the DAPI, GFP and RFP files of its field of view."""
    folder = shared_data / "cosmicqc_nf1_shrunken"
    root = tmp_path / "root"
    run = _cli(
        "export-crops", str(folder / "Plate_2_with_image_data_shrunken.parquet"),
        str(folder / "Plate_2_images"), "-w", str(root), "--size", "40",
    )  # fmt: skip
    assert "images.image_crops: 5 rows" in run.stdout
    crops = ib.read_crops(root)
    profiles = pq.read_table(folder / "Plate_2_with_image_data_shrunken.parquet").to_pylist()
    number = "Metadata_Cells_Number_Object_Number"
    for row, array in zip(crops.table.to_pylist(), crops.arrays, strict=True):
        assert row["channels"] == ["DAPI", "GFP", "RFP"] and array.shape == (1, 3, 1, 40, 40)
        source = next(
            p for p in profiles
            if p[number] == row[number] and p["Image_FileName_DAPI"] == row["image_id"]
        )  # fmt: skip
        for c, channel in enumerate(row["channels"]):
            pixels = tifffile.imread(
                folder / "Plate_2_images" / source[f"Image_FileName_{channel}"]
            )
            padded = np.pad(pixels, 40)
            y0, x0 = row["crop_y_min"] + 40, row["crop_x_min"] + 40
            assert np.array_equal(array[0, c, 0], padded[y0 : y0 + 40, x0 : x0 + 40])


def _remote_matches_local(path: Path, uri: str, backends: list[str]) -> None:
    profiles = _profiles(PROFILE_ROWS)
    local = ib.read_crops(pa.Table.from_batches(list(ib.image_crops(profiles, path, size=24))))
    for backend in backends:
        batches = ib.image_crops(profiles, uri, size=24, backend=backend)
        got = ib.read_crops(pa.Table.from_batches(list(batches)))
        assert len(got) == 4, backend
        assert all(np.array_equal(a, b) for a, b in zip(got.arrays, local.arrays, strict=True))


def test_crops_over_http_equal_local(plates, http_root) -> None:  # type: ignore[no-untyped-def]
    import shutil

    root, base = http_root
    path, _ = plates["v04"]
    shutil.copytree(path, root / path.name)
    _remote_matches_local(path, f"{base}/{path.name}", [b for b in BACKENDS if b != "zarrs"])
    pixels = RNG.integers(0, 65535, (2, 100, 90), dtype="uint16")
    tifffile.imwrite(root / "c.ome.tif", pixels, ome=True, tile=(32, 32), metadata={"axes": "CYX"})
    batch = next(ib.source_images(f"{base}/c.ome.tif", backend="tifffile"))
    assert np.array_equal(ib.read_crops(pa.Table.from_batches([batch])).arrays[0][0, :, 0], pixels)


def test_crops_from_azure_and_gcs_equal_local(plates, azure: object, gcs: str) -> None:  # type: ignore[no-untyped-def]
    from fixtures.stores import upload_azure, upload_gcs

    path, _ = plates["v05"]
    _remote_matches_local(path, upload_azure(azure, path, "pixels"), ["zarr"])
    _remote_matches_local(path, upload_gcs(path, "pixels"), [b for b in BACKENDS if b != "zarrs"])


def test_an_ome_image_spread_over_two_files_reads_whole(tmp_path: Path) -> None:
    from fixtures.tiff_writers import write_multifile_ome_tiff

    write_multifile_ome_tiff(tmp_path)  # channel c holds the value c, one file each
    batch = next(ib.source_images(tmp_path / "set_C0.ome.tif", backend="tifffile"))
    pixels = ib.read_crops(pa.Table.from_batches([batch])).arrays[0]
    assert pixels.shape == (1, 2, 1, 16, 16)
    assert (pixels[0, 0] == 0).all() and (pixels[0, 1] == 1).all()


def test_a_registered_backend_is_chosen_by_name(plates) -> None:  # type: ignore[no-untyped-def]
    from iceberg_bioimage.pixels import register_backend
    from iceberg_bioimage.pixels.base import _REGISTERED
    from iceberg_bioimage.pixels.zarr_backend import ZarrPythonBackend

    calls = []

    class Counting(ZarrPythonBackend):
        def open(self, source):  # type: ignore[no-untyped-def]
            calls.append(source.image_id)
            return super().open(source)

    register_backend(Counting("counting", rank=99))
    path, _ = plates["v04"]
    try:
        table = pa.Table.from_batches(
            list(ib.image_crops(_profiles(PROFILE_ROWS), path, size=8, backend="counting"))
        )
        assert sorted(set(calls)) == ["P1/A01/0", "P1/B02/0"] and table.num_rows == 4
        assert "counting" in ib.available_backends()
    finally:
        _REGISTERED.pop("counting")
    with pytest.raises(ib.InputError, match="unknown pixel backend 'counting'"):
        list(ib.image_crops(_profiles(PROFILE_ROWS), path, size=8, backend="counting"))


def test_profiles_that_match_no_image_say_so(plates, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ = plates["v04"]
    elsewhere = _profiles(PROFILE_ROWS).set_column(0, "Metadata_Plate", pa.array(["P9"] * 4))
    with pytest.raises(ib.InputError, match=r"^the profiles match no image: "):
        list(ib.image_crops(elsewhere, path, size=8))


def test_crop_ids_hash_plain_values_whatever_numpys_scalar_repr() -> None:
    """An object without a finite number is named by its centre: the id hashes
    the text of plain Python numbers (numpy 2 writes np.float64(1.5) where 1.x
    wrote 1.5, which changed every such id with the numpy version)."""
    import hashlib

    from iceberg_bioimage.pixels.crops import _crop_ids, _object_ids

    row = {"dataset_id": "ds", "image_id": "plate/A01/0"}
    numbers = np.array([5.0, np.nan])
    ids = _object_ids(row, "Cells", numbers, np.array([10.0, 1.23456]), np.array([2.0, 5.5]))

    def digest(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()[:32]

    assert ids == [
        "obj-" + digest("['ds', 'plate/A01/0', 'Cells', 5]"),
        "obj-" + digest("['ds', 'plate/A01/0', 'Cells', 1.235, 5.5]"),
    ]
    boxes = np.array([[0, 64, 8, 72], [1, 65, 9, 73]], np.int32)
    assert _crop_ids(ids, boxes, 0, ["DNA"])[1] == "crop-" + digest(
        f"['{ids[1]}', [1, 65, 9, 73], 0, ['DNA']]"
    )
