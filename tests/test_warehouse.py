"""Cytomining warehouse roots: writer, reader, atomicity and the validator."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import iceberg_bioimage as ib
from fixtures import writers
from fixtures.profiles import cellprofiler_profiles
from iceberg_bioimage.cli import main
from iceberg_bioimage.errors import InputError
from iceberg_bioimage.warehouse.manifest import ManifestError
from iceberg_bioimage.warehouse.writer import TableWrite, WarehouseWriteError, recover, write_tables


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return writers.write_plate(tmp_path / "test_plate.ome.zarr", version="0.5")


def manifest(root: Path) -> dict:
    return json.loads((root / "warehouse_manifest.json").read_text())


def test_export_round_trip(plate: Path, tmp_path: Path) -> None:
    root = tmp_path / "wh"
    result = ib.export_store_to_cytomining_warehouse(
        plate, root, profiles=cellprofiler_profiles(), profile_dataset_id="test_plate"
    )
    assert result.tables["images.image_assets"] == 13
    assert result.tables["profiles.joined_profiles"] == 12
    assert result.join.matched_rows == 12 and result.join.strategy == "plate_well_site"
    document = manifest(root)
    assert document["warehouse_spec_version"] == "1.0.0"
    entries = {t["table_name"]: t for t in document["tables"]}
    assert set(entries) == {"images.image_assets", "images.chunk_index", "profiles.joined_profiles"}
    joined = entries["profiles.joined_profiles"]
    assert joined["role"] == "joined_profiles" and joined["profile_level"] == "object"
    assert joined["join_keys"] == [
        "Metadata_image_assets_dataset_id",
        "Metadata_image_assets_image_id",
    ]
    assert all(f.startswith("profiles/joined_profiles/") for f in joined["files"])
    warehouse = ib.open_warehouse(root)
    table = warehouse.table("profiles.joined_profiles")
    assert table.column("Cells_AreaShape_Area").to_pylist() == [float(i) for i in range(12)]
    assert table.column("Metadata_image_id").to_pylist()[0] == "test-plate/A01/0"
    for name in warehouse.table_names:  # every table reads with DuckDB's union_by_name
        files = ", ".join(f"'{f}'" for f in warehouse.files(name))
        count = duckdb.sql(
            f"SELECT count(*) FROM read_parquet([{files}], union_by_name=true)"
        ).fetchall()[0][0]
        assert count == warehouse.entry(name).row_count
    assert ib.validate_warehouse(root).valid


def test_append_adds_parts_and_describes_the_whole_table(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    first = pa.table({"dataset_id": ["d"], "image_id": ["i0"], "embedding_0": [0.1]})
    second = pa.table(
        {"dataset_id": ["d", "d"], "image_id": ["i1", "i2"], "embedding_1": [0.2, 0.3]}
    )
    options = dict(
        table_name="embeddings",
        role="embeddings",
        namespace="profiles",
        join_keys=["dataset_id", "image_id"],
    )
    ib.export_table_to_cytomining_warehouse(first, root, **options)
    ib.export_table_to_cytomining_warehouse(second, root, **options)
    (entry,) = manifest(root)["tables"]
    assert entry["row_count"] == 3 and len(entry["files"]) == 2
    assert [c["name"] for c in entry["columns"]] == [
        "dataset_id",
        "image_id",
        "embedding_0",
        "embedding_1",
    ]
    assert ib.open_warehouse(root).table("profiles.embeddings").num_rows == 3
    assert ib.validate_warehouse(root).valid


def test_overwrite_replaces_one_table_only(plate: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "wh"
    ib.export_store_to_cytomining_warehouse(plate, root)
    extra = pa.table({"dataset_id": ["x"], "image_id": ["y"], "flag": [True]})
    ib.export_table_to_cytomining_warehouse(
        extra, root, table_name="qc_flags", role="quality_control"
    )
    before = {t["table_name"]: t["files"] for t in manifest(root)["tables"]}
    ib.export_store_to_cytomining_warehouse(plate, root, mode="overwrite", include_chunks=False)
    after = {t["table_name"]: t["files"] for t in manifest(root)["tables"]}
    assert after["quality_control.qc_flags"] == before["quality_control.qc_flags"]
    assert after["images.chunk_index"] == before["images.chunk_index"]
    assert after["images.image_assets"] != before["images.image_assets"]
    old = root / before["images.image_assets"][0]
    assert old.exists()  # retired: a reader of the old manifest may still open it
    report = ib.validate_warehouse(root)
    assert report.valid and "await removal" in str(report.warnings)
    monkeypatch.setenv("ICEBERG_BIOIMAGE_RETIRE_SECONDS", "0")
    ib.export_table_to_cytomining_warehouse(
        extra, root, table_name="qc_flags", role="quality_control"
    )
    assert not old.exists()  # the next write after the grace period removes it
    assert ib.validate_warehouse(root).valid


def test_failure_mid_write_leaves_the_previous_warehouse_intact(
    plate: Path, tmp_path: Path
) -> None:
    root = tmp_path / "wh"
    ib.export_store_to_cytomining_warehouse(plate, root)
    snapshot = {
        p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".warehouse.lock"
    }

    def failing_batches():  # type: ignore[no-untyped-def]
        yield pa.record_batch({"dataset_id": ["d"], "image_id": ["i"]})
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_tables(
            root,
            [
                TableWrite(
                    "images.image_assets",
                    "image_assets",
                    pa.table({"dataset_id": ["z"], "image_id": ["z"]}),
                ),
                TableWrite("profiles.cells", "profiles", failing_batches(), profile_level="object"),
            ],
        )
    now = {
        p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".warehouse.lock"
    }
    assert now == snapshot
    assert not (root / ".staging").exists()
    assert ib.validate_warehouse(root).valid


def test_crash_before_the_manifest_rename_is_rolled_back(
    plate: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "wh"
    ib.export_store_to_cytomining_warehouse(plate, root)
    before = manifest(root)
    import os as _os

    real_replace = _os.replace

    def crash_on_manifest(source, target):  # type: ignore[no-untyped-def]
        if str(target).endswith("warehouse_manifest.json"):
            raise KeyboardInterrupt("power cut")
        return real_replace(source, target)

    monkeypatch.setattr("iceberg_bioimage.warehouse.writer.os.replace", crash_on_manifest)
    monkeypatch.setattr(
        "iceberg_bioimage.warehouse.writer._Transaction.abort", lambda self: None
    )  # a crash runs no cleanup
    with pytest.raises(KeyboardInterrupt):
        ib.export_table_to_cytomining_warehouse(
            pa.table({"dataset_id": ["d"], "image_id": ["i"], "x": [1.0]}),
            root,
            table_name="extra",
            role="embeddings",
            namespace="profiles",
        )
    monkeypatch.undo()
    assert manifest(root) == before
    assert ib.validate_warehouse(root).valid  # the placed part is pending in the plan
    assert recover(root) and not (root / ".staging").exists()
    assert ib.validate_warehouse(root).valid
    assert manifest(root) == before


def test_append_cannot_change_role_or_level(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    data = pa.table({"image_id": ["i"], "ObjectNumber": [1], "x": [1.0]})
    ib.export_table_to_cytomining_warehouse(
        data, root, table_name="cells", role="profiles", profile_level="object"
    )
    with pytest.raises(WarehouseWriteError, match="profile_level 'object'"):
        ib.export_table_to_cytomining_warehouse(
            data, root, table_name="cells", role="profiles", profile_level="image"
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"table_name": "stuff", "role": "widgets"}, "role_description"),
        ({"table_name": "images.cells", "role": "profiles"}, "belong in namespace 'profiles'"),
        ({"table_name": "crops", "role": "image_crops"}, "images.image_crops"),
        ({"table_name": "Bad-Name", "role": "profiles"}, "lower-case"),
    ],
)
def test_writes_the_specification_rejects(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ib.export_table_to_cytomining_warehouse(
            pa.table({"image_id": ["i"]}), tmp_path / "wh", **options
        )
    assert not (tmp_path / "wh" / "warehouse_manifest.json").exists()


@pytest.mark.parametrize(
    ("data", "level", "message"),
    [
        ({"area": [1.0]}, None, "profiles.cells: no image identifier columns"),
        ({"image_id": ["i"], "area": [1.0]}, "cell", "object-level table (cell) has no object"),
    ],
)
def test_profile_tables_without_identifiers_are_never_committed(
    tmp_path: Path, data: dict, level: str | None, message: str
) -> None:
    root = tmp_path / "wh"
    ib.export_table_to_cytomining_warehouse(
        pa.table({"image_id": ["i"], "ObjectNumber": [1]}),
        root,
        table_name="profiles.kept",
        role="profiles",
        profile_level="cell",
    )
    before = (root / "warehouse_manifest.json").read_bytes()
    with pytest.raises(WarehouseWriteError, match=re.escape(message)):
        ib.export_table_to_cytomining_warehouse(
            pa.table(data), root, table_name="profiles.cells", role="profiles", profile_level=level
        )
    assert (root / "warehouse_manifest.json").read_bytes() == before
    assert not (root / "profiles" / "cells").exists()
    assert ib.validate_warehouse(root).valid
    fresh = tmp_path / "fresh"
    with pytest.raises(WarehouseWriteError):
        ib.export_table_to_cytomining_warehouse(
            pa.table(data), fresh, table_name="profiles.cells", role="profiles", profile_level=level
        )
    assert not fresh.exists()  # a failed first write leaves no empty root behind


def test_qc_and_custom_roles(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    qc = pa.table({"image_id": ["i"], "ObjectNumber": [1], "cqc.large_nuclei.is_outlier": [False]})
    result = ib.export_profiles_to_cytomining_warehouse(qc, root, table_name="cosmicqc_profiles")
    assert "quality_control.cosmicqc_profiles" in result.tables
    custom = pa.table({"image_id": ["i"], "score": [0.5]})
    ib.export_table_to_cytomining_warehouse(
        custom,
        root,
        table_name="images.focus_scores",
        role="focus_scores",
        role_description="per-image focus score from a Laplacian filter",
    )
    report = ib.validate_warehouse(root)
    assert report.valid, [str(f) for f in report.findings]


def test_empty_tables_are_omitted_and_zero_columns_rejected(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    empty = pa.table({"image_id": pa.array([], pa.string())})
    result = ib.export_table_to_cytomining_warehouse(
        empty, root, table_name="e", role="annotations", namespace="images"
    )
    assert result.tables == {"images.e": 0}
    assert manifest(root)["tables"] == [] and not list(root.rglob("*.parquet"))
    with pytest.raises(WarehouseWriteError, match="without columns"):
        write_tables(root, [TableWrite("images.z", "annotations", [pa.record_batch([], names=[])])])


def test_reader_fails_fast_on_an_unknown_major_version(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    ib.export_table_to_cytomining_warehouse(
        pa.table({"image_id": ["i"]}), root, table_name="a", role="annotations", namespace="images"
    )
    document = manifest(root) | {"warehouse_spec_version": "2.0.0"}
    (root / "warehouse_manifest.json").write_text(json.dumps(document))
    with pytest.raises(ManifestError, match="major version 2"):
        ib.open_warehouse(root)
    report = ib.validate_warehouse(root)  # fails fast, with what it cannot read
    assert [f.rule for f in report.errors] == ["Specification Versioning 3"]
    assert "cannot interpret warehouse_spec_version 2.0.0 (major 2)" in report.errors[0].message
    assert main(["validate-warehouse", str(root)]) == 1


# -- the validator, one broken warehouse per rule ---------------------------
@pytest.fixture
def good(plate: Path, tmp_path: Path) -> Path:
    root = tmp_path / "good"
    ib.export_store_to_cytomining_warehouse(
        plate, root, profiles=cellprofiler_profiles(), profile_dataset_id="test_plate"
    )
    ib.export_table_to_cytomining_warehouse(
        pa.table({"image_id": ["i"], "ObjectNumber": [1], "keep": [True]}),
        root,
        table_name="flags",
        role="quality_control",
        profile_level="object",
    )
    assert ib.validate_warehouse(root).valid
    return root


def _edit(root: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = manifest(root)
    change(document)
    (root / "warehouse_manifest.json").write_text(json.dumps(document))


def _table(document: dict, name: str) -> dict:
    return next(t for t in document["tables"] if t["table_name"] == name)


def _move_table(root: Path, document: dict, old: str, new: str) -> None:
    entry = _table(document, old)
    old_dir, new_dir = root / old.replace(".", "/"), root / new.replace(".", "/")
    new_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(old_dir, new_dir)
    entry["table_name"] = new
    entry["files"] = [
        f.replace(old.replace(".", "/"), new.replace(".", "/")) for f in entry["files"]
    ]


BREAKS = {
    "Specification Versioning 1": lambda root: _edit(
        root, lambda d: d.pop("warehouse_spec_version")
    ),
    "Specification Versioning 2": lambda root: _edit(
        root, lambda d: d.update(warehouse_spec_version="1.0")
    ),
    "Manifest 1": lambda root: (root / "warehouse_manifest.json").unlink(),
    "Manifest 2": lambda root: _edit(
        root, lambda d: _table(d, "quality_control.flags").update(table_name="flags")
    ),
    "Manifest 3": lambda root: _edit(
        root, lambda d: _table(d, "images.image_assets").pop("join_keys")
    ),
    "Manifest 4": lambda root: _edit(
        root, lambda d: d["tables"].append(dict(_table(d, "quality_control.flags")))
    ),
    "Manifest 5": lambda root: _edit(
        root, lambda d: _table(d, "profiles.joined_profiles").pop("profile_level")
    ),
    "Role Vocabulary 9": lambda root: _edit(
        root, lambda d: _table(d, "quality_control.flags").update(role="widgets")
    ),
    "Canonical Namespaces 1": lambda root: _edit(
        root, lambda d: _move_table(root, d, "profiles.joined_profiles", "images.joined_profiles")
    ),
    "Canonical Namespaces 2": lambda root: _edit(
        root, lambda d: _move_table(root, d, "images.chunk_index", "profiles.chunk_index")
    ),
    "Canonical Namespaces 3": lambda root: _edit(
        root, lambda d: _move_table(root, d, "quality_control.flags", "profiles.flags")
    ),
    "Quality Control Tables 5": lambda root: _edit(
        root, lambda d: _table(d, "quality_control.flags").update(role="annotations")
    ),
    "Canonical Table Names 1": lambda root: _edit(
        root, lambda d: _move_table(root, d, "profiles.joined_profiles", "profiles.joined")
    ),
    "Image Namespace 3": lambda root: _edit(
        root, lambda d: _move_table(root, d, "images.image_assets", "images.assets")
    ),
    "Namespaces and Tables 3": lambda root: _edit(
        root,
        lambda d: _table(d, "images.image_assets")["files"].append(
            _table(d, "quality_control.flags")["files"][0]
        ),
    ),
    "Independent and External Writes 3": lambda root: (
        root / "images" / "image_assets" / "stray.parquet"
    ).write_bytes((root / _table(manifest(root), "images.image_assets")["files"][0]).read_bytes()),
    "Profile Tables 4": lambda root: (
        _edit(root, lambda d: None)
        or pq.write_table(
            pa.table({"image_id": ["i", "i"], "ObjectNumber": [1, 1], "keep": [True, False]}),
            root / _table(manifest(root), "quality_control.flags")["files"][0],
        )
    ),
}


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_validator_names_the_broken_rule(good: Path, rule: str) -> None:
    BREAKS[rule](good)
    report = ib.validate_warehouse(good)
    rules = {f.rule for f in report.errors}
    if rule == "Profile Tables 4":  # the flags table now holds 2 rows with a repeated id
        _edit(good, lambda d: _table(d, "quality_control.flags").update(role="profiles"))
        report = ib.validate_warehouse(good)
        rules = {f.rule for f in report.errors}
    assert rule in rules, [str(f) for f in report.findings]
    assert not report.valid


def test_validator_row_count_and_column_drift(good: Path) -> None:
    _edit(good, lambda d: _table(d, "images.image_assets").update(row_count=999))
    assert any("row_count 999" in f.message for f in ib.validate_warehouse(good).errors)
    _edit(good, lambda d: _table(d, "images.image_assets")["columns"].pop())
    assert any("columns differ" in f.message for f in ib.validate_warehouse(good).errors)


def test_validator_warnings_do_not_fail(good: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (good / ".staging" / "abc").mkdir(parents=True)
    (good / ".staging" / "abc" / "x").write_text("")
    _edit(good, lambda d: _table(d, "quality_control.flags")["columns"])
    report = ib.validate_warehouse(good)
    assert report.valid and {f.rule for f in report.warnings} == {
        "Independent and External Writes 4"
    }
    assert main(["validate-warehouse", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_cli_exports_and_validation_exit_codes(plate: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "cli"
    profiles = tmp_path / "cells.parquet"
    pq.write_table(cellprofiler_profiles(), profiles)
    assert (
        main(
            [
                "export-cytomining",
                "-w",
                str(root),
                "--profiles",
                str(profiles),
                "--profile-dataset-id",
                "test_plate",
                str(plate),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["join"]["matched_rows"] == 12
    assert (
        main(
            [
                "export-cytomining-profiles",
                "-w",
                str(root),
                "--table-name",
                "normalized_profiles",
                "--profile-level",
                "object",
                str(profiles),
                "-q",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "export-cytomining-table",
                str(profiles),
                "-w",
                str(root),
                "--table-name",
                "x",
                "--role",
                "embeddings",
            ]
        )
        == 0
    )
    assert "wrote embeddings.x (name another with --namespace)" in capsys.readouterr().err
    assert main(["validate-warehouse", str(root)]) == 0
    (root / "warehouse_manifest.json").write_text("{}")
    assert main(["validate-warehouse", str(root)]) == 1
    assert main(["validate-warehouse", str(tmp_path / "nowhere")]) == 1


def test_duckdb_helpers(plate: Path, tmp_path: Path) -> None:
    root = tmp_path / "wh"
    ib.export_store_to_cytomining_warehouse(
        plate, root, profiles=cellprofiler_profiles(), profile_dataset_id="test_plate"
    )
    result = ib.query_metadata_table(
        root,
        "SELECT a.well_id, count(*) AS n FROM profiles.joined_profiles p "
        "JOIN images.image_assets a ON p.Metadata_image_assets_dataset_id = a.dataset_id "
        "AND p.Metadata_image_assets_image_id = a.image_id GROUP BY 1 ORDER BY 1",
    )
    assert result.to_pylist() == [
        {"well_id": "A01", "n": 4},
        {"well_id": "A02", "n": 4},
        {"well_id": "B03", "n": 4},
    ]
    connection = ib.create_duckdb_connection(root)
    assert connection.sql("SELECT count(*) FROM images.chunk_index").fetchall()[0][0] > 0
    assets = ib.scan_result_as_arrow_table(ib.scan_store(plate))
    assert (
        ib.query_metadata_table(assets, "SELECT count(*) AS n FROM metadata").column("n")[0].as_py()
        == 13
    )


def test_profiles_from_sqlite_are_named_after_their_table(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "run.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE Per_Image (Image_Metadata_Plate TEXT, Image_Metadata_Well TEXT)")
        db.execute("INSERT INTO Per_Image VALUES ('p1', 'A01')")
        db.execute("CREATE TABLE Per_Cells (ImageNumber INTEGER)")
    result = ib.export_profiles_to_cytomining_warehouse(
        path, tmp_path / "wh", sqlite_table="Per_Image", profile_level="image"
    )
    assert result.tables == {"profiles.per_image": 1}
