"""The validator checks what the specification requires of any writer: a
warehouse written by hand (as another conforming tool would, without our own
extra manifest fields) conforms; QC data outside quality_control is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import iceberg_bioimage as ib
from iceberg_bioimage.cli import main


def _hand_written(root: Path, profile_columns: dict[str, list]) -> Path:  # type: ignore[type-arg]
    """Parquet parts where the specification puts them and a manifest with only
    the fields it requires (no files, row_count, producer or timestamps)."""
    images = pa.table({"dataset_id": ["d", "d"], "image_id": ["i1", "i2"], "dtype": ["u2", "u2"]})
    profiles = pa.table(profile_columns)
    tables = []
    for name, role, table, extra in (
        ("images.image_assets", "image_assets", images, {}),
        ("profiles.cells", "profiles", profiles, {"profile_level": "object"}),
    ):
        folder = root / name.replace(".", "/")
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "data-0.parquet")
        tables.append(
            {
                "table_name": name,
                "role": role,
                "format": "parquet",
                "join_keys": ["dataset_id", "image_id"],
                "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
                "source_type": "hand",
            }
            | extra
        )
    manifest = {"warehouse_spec_version": "1.0.0", "tables": tables}
    (root / "warehouse_manifest.json").write_text(json.dumps(manifest))
    return root


CELLS = {
    "dataset_id": ["d", "d"],
    "image_id": ["i1", "i2"],
    "ObjectNumber": [1, 1],
    "Cells_AreaShape_Area": [1.0, 2.0],
}


def test_a_hand_written_warehouse_conforms(tmp_path: Path) -> None:
    root = _hand_written(tmp_path / "wh", CELLS)
    report = ib.validate_warehouse(root)
    assert report.errors == [] and report.valid
    assert main(["validate-warehouse", str(root)]) == 0
    table = ib.open_warehouse(root).table("profiles.cells")  # and reads back
    assert table.column("Cells_AreaShape_Area").to_pylist() == [1.0, 2.0]


def test_listed_files_and_row_counts_are_checked_when_present(tmp_path: Path) -> None:
    root = _hand_written(tmp_path / "wh", CELLS)
    document = json.loads((root / "warehouse_manifest.json").read_text())
    document["tables"][1] |= {"row_count": 5, "files": ["profiles/cells/missing.parquet"]}
    (root / "warehouse_manifest.json").write_text(json.dumps(document))
    messages = [f.message for f in ib.validate_warehouse(root).errors]
    assert any("listed file profiles/cells/missing.parquet does not exist" in m for m in messages)
    assert any("not in the manifest" in m for m in messages)


def test_quality_control_data_outside_its_namespace_is_flagged(tmp_path: Path) -> None:
    columns = CELLS | {"cqc.large_nuclei.is_outlier": [False, True]}
    report = ib.validate_warehouse(_hand_written(tmp_path / "wh", columns))
    assert [(f.rule, f.table) for f in report.errors] == [
        ("Quality Control Tables 2", "profiles.cells")
    ]
