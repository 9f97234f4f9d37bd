"""Every table we publish to Iceberg reads the same through Daft and Polars as
through pyiceberg: data files carry the field ids that id-resolving engines
need, nested list elements included."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import iceberg_bioimage as ib
from fixtures import tiff_writers, writers
from fixtures.profiles import cellprofiler_profiles
from iceberg_bioimage.cli import main

daft = pytest.importorskip("daft")
pl = pytest.importorskip("polars")


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A plate and an OME-TIFF with their chunk index, and a profile table,
    published through the CLI into the embedded catalog."""
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    plate = writers.write_plate(tmp_path / "plate.ome.zarr", version="0.5", columns=("1", "2"))
    tiff = tiff_writers.write_pyramid_ome_tiff(tmp_path / "image.ome.tiff")
    profiles = tmp_path / "cells.parquet"
    ib.write_table_parquet(cellprofiler_profiles(), profiles)
    for store in (plate, tiff):
        assert main(["register", "--publish-chunks", str(store)]) == 0
    assert main(["register-profiles", str(profiles), "--table-name", "cells"]) == 0
    return ib.list_catalog_tables()


def _sorted_rows(table: pa.Table) -> list[dict]:
    rows = table.to_pylist()
    return sorted(rows, key=lambda row: repr(sorted(row.items())))


def test_daft_and_polars_read_every_published_table(published: list[str]) -> None:
    assert published == ["images.chunk_index", "images.image_assets", "profiles.cells"]
    for name in published:
        table = ib.load_catalog_table(None, name)
        expected = table.scan().to_arrow()
        assert expected.num_rows > 0, name
        through_daft = daft.read_iceberg(table).to_arrow()
        through_polars = pl.scan_iceberg(table).collect().to_arrow()
        assert through_daft.column_names == expected.column_names, name
        assert through_polars.column_names == expected.column_names, name
        assert _sorted_rows(through_daft) == _sorted_rows(expected), name
        assert _sorted_rows(through_polars) == _sorted_rows(expected), name


def test_chunk_index_files_carry_field_ids(published: list[str]) -> None:
    import pyarrow.parquet as pq

    table = ib.load_catalog_table(None, "images.chunk_index")
    schema = table.schema()
    files = [task.file.file_path.removeprefix("file://") for task in table.scan().plan_files()]
    assert len(files) == 2  # one per dataset
    for path in files:
        written = pq.read_schema(path)
        for name in ("dataset_id", "chunk_coords", "exists"):
            assert _field_id(written.field(name)) == schema.find_field(name).field_id
        element = written.field("chunk_coords").type.value_field
        assert _field_id(element) == schema.find_field("chunk_coords").field_type.element_id


def _field_id(arrow_field: pa.Field) -> int:
    return int(arrow_field.metadata[b"PARQUET:field_id"])
