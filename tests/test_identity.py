from __future__ import annotations

import pytest

from iceberg_bioimage import identity


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plate.ome.zarr", "plate"),
        ("Plate.OME.ZARR", "Plate"),
        ("x.zarr", "x"),
        ("img.ome.tiff", "img"),
        ("img.ome.tif", "img"),
        ("scan.tif", "scan"),
        ("a.b.zarr", "a.b"),
        ("fileset.companion.ome", "fileset"),
        ("no_suffix", "no_suffix"),
        (".zarr", ".zarr"),
    ],
)
def test_dataset_id_from_name(name: str, expected: str) -> None:
    assert identity.dataset_id_from_name(name) == expected


@pytest.mark.parametrize("text", ["B03", "B3", "b03", "B/3", "B/03", "b_3", " B 03 "])
def test_well_normalisation(text: str) -> None:
    assert identity.normalize_well_id(text) == "B03"


def test_well_normalisation_rejects_non_wells() -> None:
    assert identity.normalize_well_id("field") is None
    assert identity.normalize_well_id("12") is None


def test_row_letters_from_index() -> None:
    assert [identity.row_letters(i) for i in (0, 1, 25, 26, 31)] == ["A", "B", "Z", "AA", "AF"]
