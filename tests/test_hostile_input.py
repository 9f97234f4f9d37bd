"""Hostile input and faults: every path from metadata, a manifest or a plan stays
inside its root or is refused; memory stays bounded whatever a file claims; a
bad store is a warning about that store; messages escape untrusted bytes; and
no bad input ends in a traceback or "internal error". Each test reproduces a
case the issue lists."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import iceberg_bioimage as ib
from fixtures import tiff_writers, writers
from iceberg_bioimage.cli import main


def _plate(path: Path) -> Path:
    return writers.write_plate(path, version="0.5", rows="A", columns=("1",), fields=1)


def _edit_json(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _errors(capsys) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[str]]:
    """A warehouse root written from a plate, and the command that wrote it."""
    plate = _plate(tmp_path / "plate.ome.zarr")
    root = tmp_path / "wh"
    export = ["export-cytomining", "-w", str(root), "--no-chunks", str(plate), "-q"]
    assert main(export) == 0
    return root, export


# -- 1. writers never delete outside the root ------------------------------------
def test_overwrite_never_deletes_files_a_manifest_points_outside(
    tmp_path: Path, exported: tuple[Path, list[str]]
) -> None:
    root, export = exported
    victim = tmp_path / "important.txt"
    victim.write_text("keep me")
    (tmp_path / "x.parquet").write_text("keep me too")
    manifest = root / "warehouse_manifest.json"
    _edit_json(
        manifest,
        lambda m: m["tables"][0]["files"].extend([str(victim), "../x.parquet", "../../x"]),
    )
    assert main(export) == 0
    assert victim.read_text() == "keep me" and (tmp_path / "x.parquet").exists()
    assert main(["validate-warehouse", str(root)]) == 0  # the new manifest lists its parts only


def test_an_interrupted_plan_cannot_delete_outside_the_root(
    tmp_path: Path, exported: tuple[Path, list[str]]
) -> None:
    root, export = exported
    victim = tmp_path / "victim.parquet"
    victim.write_text("keep")
    current = (root / "warehouse_manifest.json").read_bytes()
    import hashlib

    staging = root / ".staging" / "0123abcd"
    staging.mkdir(parents=True)
    plan = {
        "moves": [str(victim), "../victim.parquet"],
        "deletes": [str(victim), "images/image_assets/../../../victim.parquet"],
        "manifest": hashlib.sha256(current).hexdigest(),  # "committed": finish its deletes
    }
    (staging / "plan.json").write_text(json.dumps(plan))
    assert main(export) == 0
    assert victim.read_text() == "keep"
    assert not staging.exists()


# -- 2. OME-Zarr and OME-TIFF paths ------------------------------------------------
@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("well", "../outside.ome.zarr/A/1"),
        ("well", "/etc"),
        ("image", "../../outside.ome.zarr/A/1/0"),
    ],
)
def test_plate_paths_that_leave_the_store_are_refused(
    tmp_path: Path, where: str, path: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    _plate(tmp_path / "outside.ome.zarr")  # a real image a traversal would reach
    plate = _plate(tmp_path / "plate.ome.zarr")
    if where == "well":
        _edit_json(
            plate / "zarr.json",
            lambda d: d["attributes"]["ome"]["plate"]["wells"].append(
                {"path": path, "rowIndex": 0, "columnIndex": 0}
            ),
        )
    else:
        _edit_json(
            plate / "A" / "1" / "zarr.json",
            lambda d: d["attributes"]["ome"]["well"]["images"].append({"path": path}),
        )
    result = ib.scan_store(plate)
    assert [a.image_id for a in result.image_assets if a.image_kind == "image"] == [
        "test-plate/A01/0"
    ]
    assert any("path refused" in str(w) and "outside" not in w.path for w in result.warnings)
    assert all("outside" not in a.array_path for a in result.image_assets)
    out = tmp_path / "chunks.parquet"
    assert main(["chunk-index", str(plate), "-o", str(out)]) == 0
    keys = pq.read_table(out).column("storage_key").to_pylist()
    assert keys and all(".." not in k and not k.startswith("/") for k in keys)


def test_dataset_paths_that_leave_the_image_are_refused(tmp_path: Path) -> None:
    plate = _plate(tmp_path / "plate.ome.zarr")
    image = plate / "A" / "1" / "0" / "zarr.json"
    _edit_json(
        image,
        lambda d: d["attributes"]["ome"]["multiscales"][0]["datasets"][0].update(path="../../../x"),
    )
    with pytest.raises(ib.EmptyStoreError, match="path refused"):
        ib.scan_store(plate)


def _plate_with_a_link_out(tmp_path: Path) -> Path:
    """A plate whose second well is a symbolic link to another plate's well."""
    outside = _plate(tmp_path / "outside.ome.zarr")
    plate = _plate(tmp_path / "plate.ome.zarr")
    _edit_json(
        plate / "zarr.json",
        lambda d: d["attributes"]["ome"]["plate"]["wells"].append(
            {"path": "B/1", "rowIndex": 0, "columnIndex": 0}
        ),
    )
    (plate / "B").mkdir()
    (plate / "B" / "1").symlink_to(outside / "A" / "1")
    return plate


def test_symbolic_links_out_of_a_store_are_not_followed(tmp_path: Path) -> None:
    result = ib.scan_store(_plate_with_a_link_out(tmp_path))
    assert len([a for a in result.image_assets if a.image_kind == "image"]) == 1
    assert any("symbolic link out of the store" in str(w) for w in result.warnings)


def _images_and_link_warnings(plate: str) -> tuple[int, bool]:
    result = ib.scan_store(plate)
    images = len([a for a in result.image_assets if a.image_kind == "image"])
    return images, any("symbolic link out of the store" in str(w) for w in result.warnings)


def test_a_forked_worker_checks_links_against_its_own_descriptors(tmp_path: Path) -> None:
    """The link check asks the process's own /proc descriptor folder; a child
    forked after the parent asked must not read the parent's."""
    import multiprocessing

    plate = _plate_with_a_link_out(tmp_path)
    assert _images_and_link_warnings(str(plate)) == (1, True)  # the parent asked first
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_images_and_link_warnings, (str(plate),)) == (1, True)


def test_ome_tiff_file_names_outside_the_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    files = tiff_writers.write_multifile_ome_tiff(folder)
    secret = tmp_path / "secret.ome.tif"
    secret.write_bytes(files[1].read_bytes())
    import tifffile

    with tifffile.TiffFile(files[0]) as tif:
        xml = tif.pages.first.description
    hostile = xml.replace(f'FileName="{files[1].name}"', 'FileName="../secret.ome.tif"')
    assert hostile != xml
    tifffile.tiffcomment(files[0], hostile.encode())
    result = ib.scan_store(files[0])
    sources = [f for a in result.image_assets for f in a.source_files]
    assert all("secret" not in f for f in sources)
    assert any("outside its folder; refused" in str(w) for w in result.warnings)


# -- 3. the validator never opens what a manifest points outside ---------------------
def test_validator_refuses_parts_outside_the_root(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = _plate(tmp_path / "plate.ome.zarr")
    root = tmp_path / "wh"
    assert main(["export-cytomining", "-w", str(root), "--no-chunks", str(plate), "-q"]) == 0
    victim = tmp_path / "victim" / "x.parquet"
    victim.parent.mkdir()
    pq.write_table(pa.table({"a": [1]}), victim)
    sneaky = "images/image_assets/../../../victim/x.parquet"
    _edit_json(
        root / "warehouse_manifest.json",
        lambda m: m["tables"][0]["files"].extend([str(victim), sneaky]),
    )
    capsys.readouterr()
    assert main(["validate-warehouse", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.count("is not a Parquet part inside images/image_assets/") == 2
    assert "row_count" not in out  # the victim's row was never counted


# -- 4. outputs ----------------------------------------------------------------------
def test_output_never_replaces_a_device_and_keeps_the_umask(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = _plate(tmp_path / "plate.ome.zarr")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["chunk-index", str(plate), "-o", str(fifo)]) == 2
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert "not a regular file" in _errors(capsys)[0]
    previous = os.umask(0o022)
    try:
        out = tmp_path / "chunks.parquet"
        pid = [sys.executable, "-c", "import os; print(os.getpid())"]
        dead = subprocess.run(pid, capture_output=True, text=True, check=True).stdout.strip()
        abandoned = tmp_path / f".chunks.parquet.{dead}.abcd.staging"
        abandoned.write_text("left by a killed writer")
        assert main(["chunk-index", str(plate), "-o", str(out)]) == 0
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
        assert not abandoned.exists()
    finally:
        os.umask(previous)


# -- 5. chunk grids ------------------------------------------------------------------
def _array_store(path: Path, shape: list, chunks: list) -> Path:  # type: ignore[type-arg]
    path.mkdir()
    document = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes"}],
    }
    (path / "zarr.json").write_text(json.dumps(document))
    return path


def test_huge_chunk_grids_stream_in_bounded_memory(tmp_path: Path) -> None:
    store = _array_store(tmp_path / "huge.zarr", [10**18], [1])
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        import iceberg_bioimage as ib
        result = ib.scan_store({str(store)!r})
        batches = ib.scan_result_to_chunk_index(result, stat=False, batch_rows=100_000)
        rows = [next(batches).num_rows for _ in range(5)]
        print(sum(rows))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "500000"


def test_grids_beyond_int64_are_an_error_that_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = _array_store(tmp_path / "overflow.zarr", [2**32, 2**32], [1, 1])
    assert main(["chunk-index", str(store), "-o", str(tmp_path / "c.parquet")]) == 2
    error = _errors(capsys)[-1]
    assert "beyond 2**63 - 1" in error and "internal" not in error
    store = _array_store(tmp_path / "e40.zarr", [10**40], [1])
    assert main(["scan", str(store)]) == 2
    error = _errors(capsys)[-1]
    assert "64-bit integers" in error and "internal" not in error


# -- 6. one bad store among many ---------------------------------------------------------
def test_a_bad_store_is_a_warning_and_the_others_complete(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "screens"
    folder.mkdir()
    _plate(folder / "good.ome.zarr")
    deep = folder / "deep.zarr"
    deep.mkdir()
    (deep / "zarr.json").write_text("[" * 100_000 + "]" * 100_000)
    _array_store(folder / "e40.zarr", [10**40], [1])
    loop = folder / "loop"
    loop.mkdir()
    (loop / "again").symlink_to(loop)
    (folder / "away").symlink_to(tmp_path)  # out of the folder searched
    assert main(["scan", str(folder), "--json"]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "good" in text and "nested too deeply" in text and "64-bit integers" in text
    assert "internal" not in text
    home = tmp_path / "home"
    os.environ["ICEBERG_BIOIMAGE_HOME"] = str(home)
    try:
        assert main(["register-directory", str(folder), "-q"]) == 0
        assets = ib.catalog_table_to_arrow(None, "images.image_assets")
        assert set(assets.column("dataset_id").to_pylist()) == {"good"}
        assert main(["ingest", str(folder / "good.ome.zarr"), str(deep)]) == 0
    finally:
        del os.environ["ICEBERG_BIOIMAGE_HOME"]
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "internal" not in err


# -- 10. validator and writer agree ----------------------------------------------------
def test_wrongly_typed_manifest_fields_are_findings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = _plate(tmp_path / "plate.ome.zarr")
    root = tmp_path / "wh"
    assert main(["export-cytomining", "-w", str(root), "--no-chunks", str(plate), "-q"]) == 0
    _edit_json(
        root / "warehouse_manifest.json",
        lambda m: m["tables"][0].update(row_count="many", columns=5, files="x"),
    )
    capsys.readouterr()
    assert main(["validate-warehouse", str(root)]) == 1
    out = capsys.readouterr().out
    assert "wrongly typed fields: columns" in out and "row_count" in out and "files" in out


def test_profiles_appended_twice_are_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    profiles = tmp_path / "cells.parquet"
    pq.write_table(
        pa.table(
            {
                "Metadata_Plate": ["p"] * 2,
                "Metadata_Well": ["A01"] * 2,
                "Metadata_Site": [1, 1],
                "ObjectNumber": [1, 2],
                "x": [1.0, 2.0],
            }
        ),
        profiles,
    )
    root = tmp_path / "wh"
    args = ["export-cytomining-profiles", "-w", str(root), "--table-name", "cells", str(profiles)]
    assert main([*args, "--profile-dataset-id", "d"]) == 0
    assert main([*args, "--profile-dataset-id", "d"]) == 2
    assert "repeat an (image, object) identifier" in _errors(capsys)[-1]
    assert main(["validate-warehouse", str(root)]) == 0  # the first write stands


# -- 11. values and messages ---------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["export-cytomining", "-w", "", "{plate}"],
        ["scan", "--dataset-id", "", "{plate}"],
        ["scan", "--dataset-id", " ", "{plate}"],
        ["scan", "--dataset-id", "a/b", "{plate}"],
        ["scan", "--dataset-id", "../x", "{plate}"],
        ["catalog", "show", "images.image_assets", "--limit", "-5"],
    ],
)
def test_unusable_values_are_refused(tmp_path: Path, args: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    plate = _plate(tmp_path / "plate.ome.zarr")
    os.chdir(tmp_path)
    assert main([a.replace("{plate}", str(plate)) for a in args]) == 2
    assert not (tmp_path / "warehouse_manifest.json").exists()
    assert "internal error" not in capsys.readouterr().err


def test_untrusted_bytes_are_escaped_in_messages(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    plate = _plate(tmp_path / "plate.ome.zarr")
    _edit_json(
        plate / "zarr.json",
        lambda d: d["attributes"]["ome"]["plate"]["wells"].append(
            {"path": "B/\x1b[31m1\x00", "rowIndex": 0, "columnIndex": 0}
        ),
    )
    assert main(["scan", str(plate)]) == 0
    err = capsys.readouterr().err
    assert "path refused" in err
    assert "\x1b" not in err and "\x00" not in err and "\\x1b" in err


# -- 7. concurrency ------------------------------------------------------------------------
def _start_together(commands: list[list[str]], env: dict[str, str]) -> list[int]:
    """Start CLI processes that wait on a shared barrier file, then run at once."""
    barrier = Path(env["BARRIER"])
    code = (
        "import os, sys, time\n"
        "while not os.path.exists(os.environ['BARRIER']): time.sleep(0.001)\n"
        "from iceberg_bioimage.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, *c], env=env, stderr=subprocess.PIPE)
        for c in commands
    ]
    import time

    time.sleep(1.0)  # all imported and waiting
    barrier.write_text("go")
    return [p.wait(timeout=300) for p in processes]


@pytest.mark.slow
def test_first_writers_of_a_fresh_catalog_and_of_one_store_all_succeed(tmp_path: Path) -> None:
    plates = [_plate(tmp_path / f"p{i}.ome.zarr") for i in range(4)]
    env = os.environ | {
        "ICEBERG_BIOIMAGE_HOME": str(tmp_path / "home"),
        "BARRIER": str(tmp_path / "go"),
    }
    codes = _start_together([["register", str(p), "-q"] for p in plates], env)
    assert codes == [0, 0, 0, 0]
    os.environ["ICEBERG_BIOIMAGE_HOME"] = str(tmp_path / "home")
    try:
        assets = ib.catalog_table_to_arrow(None, "images.image_assets")
        assert sorted(set(assets.column("dataset_id").to_pylist())) == ["p0", "p1", "p2", "p3"]
        (tmp_path / "go").unlink()
        same = [["register", str(plates[0]), "--publish-chunks", "-q"]] * 4
        assert _start_together(same, env) == [0, 0, 0, 0]
        rows = ib.catalog_table_to_arrow(None, "images.image_assets", where="dataset_id = 'p0'")
        assert rows.num_rows == len(ib.scan_store(plates[0]).image_assets)  # once, whoever won
        chunks = ib.catalog_table_to_arrow(None, "images.chunk_index", where="dataset_id = 'p0'")
        assert chunks.num_rows == len(ib.chunk_index_table(plates[0]))
    finally:
        del os.environ["ICEBERG_BIOIMAGE_HOME"]


def test_a_writer_waiting_on_the_lock_says_so_and_times_out(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import fcntl

    plate = _plate(tmp_path / "plate.ome.zarr")
    root = tmp_path / "wh"
    root.mkdir()
    os.environ["ICEBERG_BIOIMAGE_LOCK_TIMEOUT"] = "0.5"
    try:
        with open(root / ".warehouse.lock", "a+") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            code = subprocess.run(
                [sys.executable, "-m", "iceberg_bioimage", "export-cytomining", "-w", str(root),
                 "--no-chunks", str(plate)],
                capture_output=True, text=True, env=os.environ.copy(),
            )  # fmt: skip
    finally:
        del os.environ["ICEBERG_BIOIMAGE_LOCK_TIMEOUT"]
    assert code.returncode == 2
    assert "waiting for another writer" in code.stderr
    assert "held the warehouse lock" in code.stderr and "nothing was written" in code.stderr
    assert not (root / "warehouse_manifest.json").exists()


# -- 8. register --publish-chunks: both tables or neither -----------------------------------
def test_a_failed_chunk_publish_restores_the_image_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    plate = _plate(tmp_path / "plate.ome.zarr")
    first = ib.register_store(plate, publish_chunks=True)
    assert first.rows["images.image_assets"] == 2  # the image and its label
    before = ib.catalog_table_to_arrow(None, "images.image_assets")
    # the store changes (a second field), and the chunk publish then fails
    other = writers.write_plate(tmp_path / "p2" / "plate.ome.zarr", version="0.5", rows="A",
                                columns=("1",), fields=2)  # fmt: skip
    import iceberg_bioimage.catalog.register as register

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(register, "publish_chunk_index", broken)
    with pytest.raises(ib.CatalogError, match="disk full"):
        ib.register_store(other, publish_chunks=True, replace=True, dataset_id="plate")
    after = ib.catalog_table_to_arrow(None, "images.image_assets")
    assert after.sort_by("image_id").to_pylist() == before.sort_by("image_id").to_pylist()


# -- 9. HTTP stores exit cleanly -------------------------------------------------------------
@pytest.mark.slow
def test_a_hundred_http_scans_all_exit_cleanly(http_root) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    root, url = http_root
    _plate(root / "plate.ome.zarr")
    command = [
        str(Path(sys.executable).parent / "iceberg-bioimage"),
        "scan",
        f"{url}/plate.ome.zarr",
        "-q",
        "--json",
    ]

    def scan(_: int) -> tuple[int, int]:
        done = subprocess.run(command, capture_output=True)
        images = len(json.loads(done.stdout)["results"][0]["image_assets"]) if done.stdout else 0
        return done.returncode, images  # the whole output arrived

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(scan, range(100)))
    assert outcomes == [(0, 2)] * 100


def test_ome_xml_sizes_the_file_does_not_hold_are_not_reported(tmp_path: Path) -> None:
    import numpy as np
    import tifffile

    path = tiff_writers.write_ome_tiff(tmp_path / "small.ome.tif", np.zeros((8, 8), "uint8"), "YX")
    with tifffile.TiffFile(path) as tif:
        xml = tif.pages.first.description
    claimed = xml.replace('SizeX="8"', 'SizeX="1000000000"').replace(
        'SizeY="8"', 'SizeY="1000000000"'
    )
    assert claimed != xml
    tifffile.tiffcomment(path, claimed.encode())
    result = ib.scan_store(path)
    (asset,) = result.image_assets
    assert asset.shape[-2:] == (8, 8)
    assert any("OME-XML says 1000000000x1000000000" in str(w) for w in result.warnings)


def test_object_store_paths_stay_under_the_store_prefix(s3: str, tmp_path: Path) -> None:
    from fixtures.stores import upload_s3
    from iceberg_bioimage.io import open_store

    _plate(tmp_path / "other" / "outside.ome.zarr")
    plate = _plate(tmp_path / "mine" / "plate.ome.zarr")
    _edit_json(
        plate / "zarr.json",
        lambda d: d["attributes"]["ome"]["plate"]["wells"].append(
            {"path": "../outside.ome.zarr/A/1", "rowIndex": 0, "columnIndex": 0}
        ),
    )
    uri = upload_s3(s3, plate, "screens")
    upload_s3(s3, tmp_path / "other" / "outside.ome.zarr", "screens")
    result = ib.scan_store(uri)
    assert len([a for a in result.image_assets if a.image_kind == "image"]) == 1
    assert any("path refused" in str(w) for w in result.warnings)
    with pytest.raises(ib.UnsafePathError):
        open_store(uri).get_many(["../outside.ome.zarr/zarr.json"])


def test_a_named_pipe_in_a_store_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Opening a named pipe to read it waits for a writer (forever, in a scan):
    files are opened without blocking and anything but a file or a folder is
    refused, with a warning, while the rest of the store is read."""
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A",
                                columns=("1", "2"), fields=1, label_wells=())  # fmt: skip
    well = plate / "A" / "2" / "zarr.json"
    well.unlink()
    os.mkfifo(well)
    command = [sys.executable, "-m", "iceberg_bioimage", "scan", str(plate), "--format", "csv"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]  # the refused well's field is still found by listing
    assert [row.split(",")[1] for row in rows] == ["test-plate/A01/0", "test-plate/A02/0"]
    assert "A/2/zarr.json: not a regular file (a pipe or a device)" in done.stderr
    (tmp_path / "pipe.zarr").mkdir()
    os.mkfifo(tmp_path / "pipe.zarr" / "zarr.json")
    command[4] = str(tmp_path / "pipe.zarr")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_named_pipe_among_tiffs_is_never_opened(tmp_path: Path) -> None:
    """A pipe scanned as a TIFF, or named by another file's OME-XML, is
    refused or treated as missing: opening it to read would wait forever."""
    first, second = tiff_writers.write_multifile_ome_tiff(tmp_path)
    second.unlink()
    os.mkfifo(second)
    command = [sys.executable, "-m", "iceberg_bioimage", "scan", str(first), "--format", "csv"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"refers to missing file {second}" in done.stderr
    command[4] = str(second)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {second}: not a regular file (a pipe or a device)"
