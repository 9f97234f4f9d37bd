"""images.chunk_index against the chunk files zarr-python and tifffile wrote."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile
import zarr

from fixtures import tiff_writers as tw
from fixtures import writers
from iceberg_bioimage import chunk_index_table, scan_result_to_chunk_index, scan_store
from iceberg_bioimage.cli import main
from iceberg_bioimage.schema import CHUNK_INDEX_SCHEMA

METADATA = {".zarray", ".zattrs", ".zgroup", "zarr.json", ".zmetadata"}

ENCODINGS = {
    "v2-dot": {"zarr_format": 2, "chunk_key_encoding": {"name": "v2", "separator": "."}},
    "v2-slash": {"zarr_format": 2, "chunk_key_encoding": {"name": "v2", "separator": "/"}},
    "v3-default-slash": {
        "zarr_format": 3,
        "chunk_key_encoding": {"name": "default", "separator": "/"},
    },
    "v3-default-dot": {
        "zarr_format": 3,
        "chunk_key_encoding": {"name": "default", "separator": "."},
    },
    "v3-v2-dot": {"zarr_format": 3, "chunk_key_encoding": {"name": "v2", "separator": "."}},
    "v3-v2-slash": {"zarr_format": 3, "chunk_key_encoding": {"name": "v2", "separator": "/"}},
}


def chunk_files(root: Path) -> dict[str, int]:
    """Every chunk object on disk: key relative to the store -> size."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name not in METADATA:
                path = Path(folder) / name
                found[path.relative_to(root).as_posix()] = path.stat().st_size
    return found


def index_of(path: Path, **options) -> pa.Table:  # type: ignore[no-untyped-def]
    return chunk_index_table(scan_store(path), **options)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_keys_and_sizes_match_the_files_on_disk(tmp_path: Path, encoding: str) -> None:
    store = tmp_path / "a.zarr"
    array = zarr.create_array(
        str(store), shape=(10, 7), chunks=(4, 3), dtype="int32", fill_value=0, **ENCODINGS[encoding]
    )
    array[:4, :] = np.arange(28).reshape(4, 7) + 1  # chunk row 0 written; the rest is fill
    table = index_of(store)
    on_disk = chunk_files(store)

    assert table.num_rows == 3 * 3  # edge chunks included
    rows = table.to_pylist()
    present = {r["storage_key"]: r["byte_length"] for r in rows if r["exists"]}
    assert present == on_disk  # every written chunk has a row with its stored size
    assert len(on_disk) == 3
    missing = [r for r in rows if not r["exists"]]
    assert len(missing) == 6 and all(r["byte_length"] is None for r in missing)
    assert {tuple(r["chunk_coords"]) for r in rows} == {(i, j) for i in range(3) for j in range(3)}
    assert all(r["chunk_coords_json"] == str(r["chunk_coords"]) for r in rows)
    assert {r["chunk_kind"] for r in rows} == {"chunk"}

    metadata_only = index_of(store, stat=False)
    assert (
        metadata_only.column("storage_key").to_pylist() == table.column("storage_key").to_pylist()
    )
    assert metadata_only.column("exists").null_count == metadata_only.num_rows
    assert metadata_only.column("byte_length").null_count == metadata_only.num_rows


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zero_d_one_d_and_empty_arrays(tmp_path: Path, zarr_format: int) -> None:
    root = zarr.open_group(str(tmp_path / "g.zarr"), mode="w", zarr_format=zarr_format)
    scalar = root.create_array("scalar", shape=(), dtype="float64", fill_value=0)
    scalar[()] = 3.5
    line = root.create_array("line", shape=(10,), chunks=(4,), dtype="uint8", fill_value=0)
    line[:] = 1
    root.create_array("empty", shape=(0, 5), chunks=(2, 2), dtype="uint8")
    table = index_of(tmp_path / "g.zarr")
    by_array = {}
    for row in table.to_pylist():
        by_array.setdefault(row["array_path"], []).append(row)
    assert "empty" not in by_array
    (scalar_row,) = by_array["scalar"]
    assert scalar_row["chunk_coords"] == [] and scalar_row["chunk_coords_json"] == "[]"
    assert scalar_row["storage_key"] == ("scalar/0" if zarr_format == 2 else "scalar/c")
    assert scalar_row["exists"] is True
    assert [r["chunk_coords"] for r in by_array["line"]] == [[0], [1], [2]]
    assert set(chunk_files(tmp_path / "g.zarr")) == {r["storage_key"] for r in table.to_pylist()}


def test_sharded_array_rows_per_shard_and_byte_ranges(tmp_path: Path) -> None:
    store = tmp_path / "s.zarr"
    array = zarr.create_array(
        str(store),
        shape=(6, 8),
        chunks=(2, 2),
        shards=(4, 4),
        dtype="uint16",
        fill_value=0,
        compressors=None,
    )
    data = np.zeros((6, 8), "uint16")
    data[:2, :2] = 7  # one inner chunk of shard (0, 0)
    data[4:, 4:] = 9  # the edge shard (1, 1)
    array[:] = data
    shards = index_of(store)
    on_disk = chunk_files(store)
    assert shards.num_rows == 2 * 2 and set(shards.column("chunk_kind").to_pylist()) == {"shard"}
    assert {
        r["storage_key"]: r["byte_length"] for r in shards.to_pylist() if r["exists"]
    } == on_disk

    inner = index_of(store, byte_ranges=True)
    rows = inner.to_pylist()
    assert {r["chunk_kind"] for r in rows} == {"inner"}
    assert len(rows) == 3 * 4  # the (6, 8) array has 3 x 4 inner chunks; edge shards are cut
    present = [r for r in rows if r["exists"]]
    assert sorted(tuple(r["chunk_coords"]) for r in present) == [(0, 0), (2, 2), (2, 3)]
    for row in present:
        size = on_disk[row["storage_key"]]
        assert row["byte_offset"] >= 0 and row["byte_offset"] + row["byte_length"] <= size
        raw = (store / row["storage_key"]).read_bytes()
        chunk = raw[row["byte_offset"] : row["byte_offset"] + row["byte_length"]]
        value = 7 if row["chunk_coords"] == [0, 0] else 9
        assert np.frombuffer(chunk, "<u2").tolist() == [value] * 4  # bytes codec, no compression


def test_plate_index_covers_every_level_of_images_and_labels(tmp_path: Path) -> None:
    store = writers.write_plate(
        tmp_path / "p.zarr", version="0.5", rows="A", columns=("1",), fields=1
    )
    table = index_of(store)
    assert set(table.column("image_id").to_pylist()) == {
        "test-plate/A01/0",
        "test-plate/A01/0/labels/cells",
    }
    paths = set(table.column("array_path").to_pylist())
    label_levels = len(scan_store(store).image_assets[1].levels)
    assert paths == {"A/1/0/s0", "A/1/0/s1"} | {
        f"A/1/0/labels/cells/s{k}" for k in range(label_levels)
    }
    present = {r["storage_key"]: r["byte_length"] for r in table.to_pylist() if r["exists"]}
    assert present == chunk_files(store)


def test_batches_are_bounded(tmp_path: Path) -> None:
    store = tmp_path / "b.zarr"
    zarr.create_array(str(store), shape=(100, 100), chunks=(10, 10), dtype="uint8")
    sizes = [
        b.num_rows for b in scan_result_to_chunk_index(scan_store(store), stat=False, batch_rows=30)
    ]
    assert sum(sizes) == 100 and max(sizes) <= 30


def test_tiled_tiff_pyramid_tiles(tmp_path: Path) -> None:
    path = tw.write_pyramid_ome_tiff(tmp_path / "pyr.ome.tif")
    table = index_of(path)
    counts = {}
    for row in table.to_pylist():
        counts[row["level"]] = counts.get(row["level"], 0) + 1
    assert counts == {0: 2 * 16, 1: 2 * 4, 2: 2 * 1}
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[1]  # channel 1, full resolution
        expected = list(zip(page.dataoffsets, page.databytecounts, strict=True))
    level0_c1 = [r for r in table.to_pylist() if r["level"] == 0 and r["chunk_coords"][1] == 1]
    assert [(r["byte_offset"], r["byte_length"]) for r in level0_c1] == expected
    assert {r["storage_key"] for r in table.to_pylist()} == {"pyr.ome.tif"}
    assert level0_c1[5]["chunk_coords"] == [0, 1, 0, 1, 1]


def test_multifile_tiles_point_into_each_file(tmp_path: Path) -> None:
    paths = tw.write_multifile_ome_tiff(tmp_path)
    # rewrite both files tiled so they have tiles to index
    for path in paths:
        with tifffile.TiffFile(path) as tif:
            description = tif.pages.first.description
            data = tif.asarray()
        tifffile.imwrite(path, data, description=description.encode(), metadata=None, tile=(16, 16))
    table = index_of(tmp_path)
    assert sorted(table.column("storage_key").to_pylist()) == ["set_C0.ome.tif", "set_C1.ome.tif"]
    assert sorted(r["chunk_coords"][1] for r in table.to_pylist()) == [0, 1]


def test_striped_tiff_has_no_rows_and_the_file_keeps_its_schema(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "flat.tif", np.zeros((8, 8), "uint8"))
    out = tmp_path / "ci.parquet"
    assert main(["chunk-index", str(tmp_path / "flat.tif"), "-o", str(out), "-q"]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.names == CHUNK_INDEX_SCHEMA.names


def test_cli_chunk_index(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_single_image(tmp_path / "i.ome.zarr", version="0.4")
    out = tmp_path / "chunks.parquet"
    assert main(["chunk-index", str(store), "--output", str(out), "--no-stat", "--json"]) == 0
    import json

    report = json.loads(capsys.readouterr().out)
    table = pq.read_table(out)
    assert report["rows"] == table.num_rows > 0
    assert table.column("exists").null_count == table.num_rows
    assert table.schema.field("dataset_id").type == pa.string()
    assert pq.read_metadata(out).metadata[b"iceberg_bioimage.schema_version"] == b"2"
    assert main(["chunk-index", str(tmp_path / "missing.zarr"), "-o", str(out)]) == 2


def test_output_that_is_a_folder_or_under_a_file_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_single_image(tmp_path / "i.ome.zarr", version="0.4")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    assert main(["chunk-index", str(store), "-o", str(tmp_path)]) == 2
    assert main(["chunk-index", str(store), "-o", str(blocker / "x.parquet")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"error: {tmp_path}: is a folder; give a file name to write",
        f"error: {blocker}: cannot create the folder (File exists)",
    ]
    assert blocker.read_text() == "keep"
    assert not list(tmp_path.glob("*.staging"))
