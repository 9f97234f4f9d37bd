"""OME-NGFF metadata that breaks the specification scans with a warning naming
the path and the rule; a 0.4 plate whose wells lack metadata keeps its fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import iceberg_bioimage as ib
from fixtures import writers


def _edit_image(store: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = json.loads((store / "zarr.json").read_text())
    change(document["attributes"]["ome"]["multiscales"][0])
    (store / "zarr.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (
            lambda ms: ms["axes"].__setitem__(1, dict(ms["axes"][2])),
            "axis names must be unique (repeated: ",
        ),
        (
            lambda ms: ms["datasets"][0]["coordinateTransformations"][0].__setitem__(
                "scale", [1.0, 1.0]
            ),
            "scale has 2 values for",
        ),
        (lambda ms: ms.pop("axes"), "multiscales must declare 'axes' (OME-NGFF 0.5)"),
    ],
)
def test_spec_breaches_are_warnings_with_path_and_rule(tmp_path: Path, change, rule: str) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_single_image(tmp_path / "img.ome.zarr", version="0.5")
    _edit_image(store, change)
    result = ib.scan_store(store)
    breaches = [str(w) for w in result.warnings if "OME-NGFF rule broken" in str(w)]
    assert len(breaches) == 1 and rule in breaches[0]
    assert result.image_assets  # still read


def test_a_valid_image_breaks_no_rule(tmp_path: Path) -> None:
    store = writers.write_single_image(tmp_path / "img.ome.zarr", version="0.5")
    assert not [w for w in ib.scan_store(store).warnings if "rule broken" in str(w)]


def test_fields_under_wells_without_metadata_are_found(tmp_path: Path) -> None:
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.4")
    expected = sorted(a.image_id for a in ib.scan_store(plate).image_assets)
    emptied = []
    for well in sorted(plate.glob("*/*")):
        if (well / ".zattrs").exists() and (well / "0").is_dir():
            (well / ".zattrs").unlink()
            (well / ".zgroup").unlink(missing_ok=True)
            emptied.append(well.relative_to(plate).as_posix())
    result = ib.scan_store(plate)
    assert sorted(a.image_id for a in result.image_assets) == expected
    messages = [str(w) for w in result.warnings]
    assert len(messages) == len(emptied) > 0
    assert all("well metadata is missing; found 2 fields by listing" in m for m in messages)
    assert not any("absent" in m for m in messages)
