"""Malformed stores: warnings with paths inside a store, one clear line outside."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixtures import writers
from iceberg_bioimage import scan_store
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import EmptyStoreError, StoreNotFoundError, UnsupportedStoreError


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return writers.write_plate(tmp_path / "plate.zarr", version="0.4", label_wells=())


def _messages(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {w.path: w.message for w in result.warnings}


def test_bad_json_in_a_well_is_a_warning_and_the_scan_goes_on(plate: Path) -> None:
    (plate / "A" / "2" / ".zattrs").write_text("{not json")
    result = scan_store(plate)
    assert "A/2" in _messages(result)
    assert "not valid JSON" in _messages(result)["A/2"]
    assert len(result.image_assets) == 10
    assert not any(a.well_id == "A02" for a in result.image_assets)


def test_well_listed_but_absent(plate: Path) -> None:
    shutil.rmtree(plate / "B" / "3")
    result = scan_store(plate)
    assert _messages(result) == {"B/3": "well is listed in the plate but absent from the store"}
    assert len(result.image_assets) == 10


def test_missing_row_group_metadata_is_reported_but_wells_are_read(plate: Path) -> None:
    for name in (".zgroup", ".zattrs"):
        (plate / "B" / name).unlink(missing_ok=True)
    result = scan_store(plate)
    assert "B" in _messages(result)
    assert len(result.image_assets) == 12


def test_well_without_metadata_is_found_by_listing(plate: Path) -> None:
    writers.edit_json(plate / "A" / "1" / ".zattrs", lambda d: {"well": {"images": "oops"}})
    result = scan_store(plate)
    assert "found 2 fields by listing" in _messages(result)["A/1"]
    assert [a.site_id for a in result.image_assets if a.well_id == "A01"] == [0, 1]


def test_wrong_types_in_image_and_array_metadata(plate: Path) -> None:
    writers.edit_json(plate / "A" / "3" / "0" / ".zattrs", lambda d: {"multiscales": "nope"})
    writers.edit_json(plate / "B" / "1" / "1" / "s1" / ".zarray", lambda d: d | {"shape": "x"})
    result = scan_store(plate)
    messages = _messages(result)
    assert "invalid image metadata" in messages["A/3/0"]
    assert "shape must be a list" in messages["B/1/1/s1"]
    b1 = next(a for a in result.image_assets if a.image_id == "test-plate/B01/1")
    assert [level.path for level in b1.levels] == ["s0"]
    assert len(result.image_assets) == 11


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="no such file"):
        scan_store(tmp_path / "nope.zarr")


def test_directory_without_zarr_metadata_is_unsupported(tmp_path: Path) -> None:
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(UnsupportedStoreError, match="not a Zarr store"):
        scan_store(tmp_path / "empty.zarr")


def test_empty_group_is_an_empty_store(tmp_path: Path) -> None:
    (tmp_path / "e.zarr").mkdir()
    (tmp_path / "e.zarr" / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    with pytest.raises(EmptyStoreError, match="holds no image"):
        scan_store(tmp_path / "e.zarr")


def _missing(root: Path) -> Path:
    return root / "missing.zarr"


def _no_metadata(root: Path) -> Path:
    (root / "x.zarr").mkdir()
    return root / "x.zarr"


def _broken_root(root: Path) -> Path:
    (root / "r.zarr").mkdir()
    (root / "r.zarr" / "zarr.json").write_text("[")
    return root / "r.zarr"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing, "no such file or directory"),
        (_no_metadata, "not a Zarr store"),
        (_broken_root, "not valid JSON"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys, make, message) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    for command in ("scan", "summarize"):
        assert main([command, str(path)]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
        assert "Traceback" not in captured.err


def test_cli_strict_turns_warnings_into_exit_1(plate: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(plate / "B" / "3")
    assert main(["summarize", str(plate)]) == 0
    assert main(["summarize", str(plate), "--strict"]) == 1
    assert "warning: B/3: well is listed" in capsys.readouterr().err


def test_cli_uri_without_bucket_is_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["summarize", "s3://"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["error: s3://: the URI names no bucket or host"]


def test_cli_warehouse_root_that_is_a_file_is_refused(plate: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    occupied = tmp_path / "root.txt"
    occupied.write_text("keep me")
    assert main(["export-cytomining", "-w", str(occupied), str(plate)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"error: {occupied}: the warehouse root is a file, not a folder"]
    assert occupied.read_text() == "keep me"
